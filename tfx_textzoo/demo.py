"""The main job: fine-tune a zoo model on the embedded AG News sample and evaluate it.

Run with ``python -m tfx_textzoo.demo [--model scratch-small] [--epochs 4]``.
"""

from __future__ import annotations

import argparse
import time

import tfx_textzoo as textzoo


def main(argv: list[str] | None = None) -> float:
    """Train ``--model`` on the sample's train part, print test accuracy; return it.

    Example:
        >>> from tfx_textzoo.demo import main
        >>> accuracy = main(["--model", "scratch-tiny", "--epochs", "1", "--limit", "64",
        ...                  "--quiet"])
        >>> 0.0 <= accuracy <= 1.0
        True
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="scratch-small")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="use only N training texts")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    say = (lambda *a, **k: None) if args.quiet else print

    train, test = textzoo.datasets.load("ag_news-sample", split=["train", "test"])
    if args.limit:
        train = train[: args.limit]
    info = textzoo.get_model_info(args.model)
    say(
        f"model {info['name']} ({info['params']:,} parameters); train {len(train)} texts, "
        f"test {len(test)} texts (embedded AG News sample)"
    )

    import keras

    keras.utils.set_random_seed(args.seed)  # the head's initialisation too
    start = time.perf_counter()
    model = textzoo.load(args.model, labels=train.label_names)
    history = textzoo.finetune(
        model,
        train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        verbose=0 if args.quiet else 2,
    )
    train_seconds = time.perf_counter() - start
    s = history.settings
    say(
        f"fine-tuned {s['epochs']} epochs ({s['freeze_epochs']} frozen), batch "
        f"{s['batch_size']}, peak learning rate {s['learning_rate']:g}"
    )
    report = textzoo.evaluate(model, test)
    say("\n" + report.to_markdown())
    say(
        f"test accuracy {report.accuracy:.4f} on {len(test)} texts "
        f"(chance 0.25); training took {train_seconds:.1f} s"
    )
    examples = ["Stocks rallied as the central bank held rates", "The team won the final"]
    for text, label in zip(examples, textzoo.predict(model, examples), strict=True):
        say(f"predict({text!r}) -> {label!r}")
    accuracy = report.accuracy
    return accuracy


if __name__ == "__main__":
    main()
