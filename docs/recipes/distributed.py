"""Fine-tune on several GPUs (one machine) or several machines with ``tf.distribute``.

Build the model under the strategy's ``scope()`` (its variables are then mirrored on
every device) and pass the strategy to ``finetune``; ``batch_size`` is the *global*
batch, split evenly across the replicas. Everything else is unchanged.

- One machine, all its GPUs: ``tf.distribute.MirroredStrategy()``.
- Several machines: ``tf.distribute.MultiWorkerMirroredStrategy()``; start the same
  script on every machine, each with its own ``TF_CONFIG`` (``--multi-worker``, which
  creates it with ``tfx_textzoo.training.cluster_strategy``); every worker reads its
  share of each global batch, and only the chief's saved model is kept.

Usage::

    python docs/recipes/distributed.py                    # every GPU of this machine
    python docs/recipes/distributed.py --multi-worker     # one process per worker (TF_CONFIG)
    python docs/recipes/distributed.py --multi-worker --output runs/mwms  # the chief saves
    python docs/recipes/distributed.py --smoke            # 2 logical CPUs, seconds

``--smoke`` (or ``TEXTZOO_SMOKE=1``) splits the CPU into two logical devices, so that a
``MirroredStrategy`` with two replicas runs anywhere, and trains a tiny random BERT on
160 texts: nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="small-bert-L4", help="a zoo model name")
    parser.add_argument("--batch-size", type=int, default=64, help="global batch size")
    parser.add_argument(
        "--multi-worker", action="store_true", help="MultiWorkerMirroredStrategy (TF_CONFIG)"
    )
    parser.add_argument("--output", help="save the model there (the chief's copy is kept)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("TEXTZOO_SMOKE") == "1",
        help="2 logical CPU devices, tiny model, no download (also TEXTZOO_SMOKE=1)",
    )
    return parser.parse_args(argv)


def make_strategy(args: argparse.Namespace):
    """The tf.distribute strategy. Runs before anything else initialises TensorFlow."""
    import tensorflow as tf

    if args.smoke:
        # Must happen before TensorFlow initialises its devices (before any op runs).
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    if args.multi_worker:
        # TF_CONFIG on each machine, e.g. for worker 0 of two:
        # {"cluster": {"worker": ["host1:12345", "host2:12345"]},
        #  "task": {"type": "worker", "index": 0}}
        from tfx_textzoo.training import cluster_strategy

        if not os.environ.get("TF_CONFIG"):
            raise SystemExit("--multi-worker: set TF_CONFIG (see docs/recipes/distributed.md)")
        return cluster_strategy()
    return tf.distribute.MirroredStrategy()  # all GPUs of this machine (or the CPU)


def main(argv: list[str] | None = None) -> float:
    """Fine-tune with a strategy; return the test accuracy."""
    args = parse_args(argv)
    strategy = make_strategy(args)  # first: before tfx_textzoo builds anything
    print(f"{type(strategy).__name__} with {strategy.num_replicas_in_sync} replicas")

    import tfx_textzoo as textzoo

    train, test = textzoo.datasets.load("ag_news-sample", split=["train", "test"])
    if args.smoke:
        train, test = train[:160], test[:64]

    with strategy.scope():  # the model's variables live on every replica
        if args.smoke:
            model = textzoo.load(
                args.model,
                labels=train.label_names,
                weights=None,
                num_layers=1,
                hidden_dim=8,
                num_heads=2,
                intermediate_dim=16,
            )
        else:
            model = textzoo.load(args.model, labels=train.label_names)

    history = textzoo.finetune(
        model,
        train,
        validation_data=test,
        strategy=strategy,
        batch_size=args.batch_size,  # global: each replica gets batch_size / replicas
        epochs=2 if args.smoke else None,
        seed=0,
        verbose=0,
    )
    report = textzoo.evaluate(model, test, verbose=0)
    print(history.to_json())
    print(f"accuracy {report.accuracy:.4f}")
    if args.output:  # every worker saves; only the chief's directory is kept
        from tfx_textzoo.training import worker_output

        textzoo.save_pretrained(model, worker_output(args.output, strategy), report=report)

    if args.smoke:
        assert strategy.num_replicas_in_sync == 2
    assert 0.0 <= report.accuracy <= 1.0
    assert len(history.epochs) == 2 or not args.smoke
    return report.accuracy


if __name__ == "__main__":
    main()
