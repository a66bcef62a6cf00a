"""Where a fine-tuning step's time goes: BERT L4-H128 on AG News, part by part.

Same model, same 2,048 texts, the same length-grouped batches of 32 (materialized once,
so no input pipeline runs during the timing unless said), in one process. Every part
is a ``tf.function`` traced for any shape, run once over all batches untimed, then
``--rounds`` times in turn (part A, B, C, ..., then again), so that the machine's
drifting load hits every part alike:

- ``pipeline``: iterating ``preprocessing.training_dataset`` alone (no model).
- ``inference``: the forward pass, ``training=False``.
- ``forward``: the forward pass and loss, ``training=True`` (dropout on).
- ``forward+backward``: and the gradients of every weight.
- ``step, Keras AdamW``: and ``keras.optimizers.AdamW.apply`` (clipping, decay).
- ``step, FusedAdamW``: the same with ``tfx_textzoo.training.FusedAdamW``.
- ``step, batches padded to buckets``: FusedAdamW on the same texts padded to the
  bucket lengths 16/32/48/... (what an XLA step needs) instead of the batch's longest.
- ``Keras fit``: ``Model.fit`` over the tf.data pipeline (what ``finetune`` runs).

With ``--trace DIR`` it also records one FusedAdamW epoch with TensorFlow's profiler
and sums the op time by part (forward, backward, optimizer) and op type.

Usage:
    python benchmarks/profile_step.py               # writes benchmarks/results/profile_step.*
    python benchmarks/profile_step.py --rounds 1 --examples 256
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AG_NEWS_CSV, ROOT, command_line, machine, write_results  # noqa: E402


def op_time_by_part(trace_dir: Path) -> dict:
    """Seconds of op time (summed over threads) by part and by (part, op type)."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    parts: collections.Counter = collections.Counter()
    ops: collections.Counter = collections.Counter()
    for path in trace_dir.rglob("*.xplane.pb"):
        space = xplane_pb2.XSpace()
        space.ParseFromString(path.read_bytes())
        for plane in space.planes:
            names = plane.event_metadata
            for line in plane.lines:
                if not line.name.startswith("tf_Compute"):
                    continue
                for event in line.events:
                    name = names[event.metadata_id].name
                    if ":" not in name or name.startswith("Executor"):
                        continue
                    if "adam" in name.lower():
                        part = "optimizer"
                    elif "gradient_tape" in name:
                        part = "backward"
                    else:
                        part = "forward"
                    seconds = event.duration_ps / 1e12
                    parts[part] += seconds
                    ops[f"{part}: {name.rsplit(':', 1)[1]}"] += seconds
    return {
        "by_part_s": {k: round(v, 2) for k, v in parts.most_common()},
        "top_ops_s": {k: round(v, 2) for k, v in ops.most_common(15)},
    }


def main(argv=None) -> int:
    """Time every part side by side and write JSON + markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--csv", type=Path, default=AG_NEWS_CSV)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--trace", type=Path, help="also profile one epoch into this folder")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    import tfx_textzoo as textzoo
    from tfx_textzoo import preprocessing, training
    from tfx_textzoo.datasets import read_ag_news_csv
    from tfx_textzoo.families.common import loss_and_metrics
    from tfx_textzoo.inference import core_model

    data = read_ag_news_csv(args.csv)
    texts, labels = data.texts[: args.examples], data.labels[: args.examples]
    keras.utils.set_random_seed(0)
    model = textzoo.load("small-bert-L4", num_classes=4, weights=None)
    tok = preprocessing.tokenize(model, texts, labels)
    core = core_model(model)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    settings = dict(learning_rate=3e-5, weight_decay=0.01, global_clipnorm=1.0)
    optimizers = {
        "keras": keras.optimizers.AdamW(**settings),
        "fused": training.FusedAdamW(**settings),
    }
    for optimizer in optimizers.values():
        optimizer.build(core.trainable_variables)
    tight = list(preprocessing.training_dataset(tok, 32, seed=0, pad_to_bucket=False))
    bucket = list(preprocessing.training_dataset(tok, 32, seed=0, pad_to_bucket=True))
    first = tight[0][0]
    spec = (
        {k: tf.TensorSpec([None, None], v.dtype) for k, v in first.items()},
        tf.TensorSpec([None], tight[0][1].dtype),
    )

    def traced(fn):
        return tf.function(fn, input_signature=spec)

    def gradients(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, core(x, training=True))
        return tape.gradient(loss, core.trainable_variables)

    def step_with(optimizer):
        def step(x, y):
            optimizer.apply(gradients(x, y), core.trainable_variables)

        return traced(step)

    def all_gradients(x, y):  # every gradient is used: nothing of the backward is pruned
        return tf.add_n([tf.reduce_sum(tf.convert_to_tensor(g)) for g in gradients(x, y)])

    fns = {
        "inference": traced(lambda x, y: core(x, training=False)),
        "forward": traced(lambda x, y: loss_fn(y, core(x, training=True))),
        "forward+backward": traced(all_gradients),
        "step, Keras AdamW": step_with(optimizers["keras"]),
        "step, FusedAdamW": step_with(optimizers["fused"]),
    }
    core.compile(optimizer=training.FusedAdamW(**settings), **loss_and_metrics(model.task))

    def over(fn, batches):
        def run():
            for x, y in batches:
                fn(x, y)

        return run

    def pipeline():
        for _ in preprocessing.training_dataset(tok, 32, seed=0, pad_to_bucket=False):
            pass

    def fit():
        dataset = preprocessing.training_dataset(tok, 32, seed=0, pad_to_bucket=False)
        core.fit(dataset, epochs=1, verbose=0)

    parts = {"pipeline": pipeline}
    parts.update({name: over(fn, tight) for name, fn in fns.items()})
    parts["step, batches padded to buckets"] = over(fns["step, FusedAdamW"], bucket)
    parts["Keras fit"] = fit
    for run in parts.values():  # trace every shape once
        run()
    rates: dict[str, list[float]] = {name: [] for name in parts}
    for k in range(args.rounds):
        print(f"round {k + 1}/{args.rounds}", flush=True)
        for name, run in parts.items():
            tick = time.perf_counter()
            run()
            rates[name].append(round(len(texts) / (time.perf_counter() - tick), 1))
    padded = {
        "tight": sum(int(x["token_ids"].shape[0] * x["token_ids"].shape[1]) for x, _ in tight),
        "bucket": sum(int(x["token_ids"].shape[0] * x["token_ids"].shape[1]) for x, _ in bucket),
    }
    profile = None
    if args.trace is not None:
        tf.profiler.experimental.start(str(args.trace))
        parts["step, FusedAdamW"]()
        tf.profiler.experimental.stop()
        profile = op_time_by_part(args.trace)
    medians = {name: statistics.median(r) for name, r in rates.items()}
    command = command_line("profile_step.py", argv).strip()
    payload = {
        "command": command,
        "machine": machine(),
        "examples": len(texts),
        "mean_tokens": round(float(tok.lengths.mean()), 2),
        "padded_tokens_per_example": {k: round(v / len(texts), 2) for k, v in padded.items()},
        "examples_per_s": rates,
        "median_examples_per_s": medians,
        "profile": profile,
    }
    step = medians["step, FusedAdamW"]
    lines = [
        f"Command: `{command}`  ",
        f"Machine: {machine()}  ",
        f"BERT L4-H128 (random init), {len(texts):,} AG News texts, batches of 32 sorted "
        f"by length in groups of 50 batches ({payload['padded_tokens_per_example']['tight']}"
        f" padded tokens per text for {payload['mean_tokens']} real ones; "
        f"{payload['padded_tokens_per_example']['bucket']} padded to buckets); "
        f"{args.rounds} rounds, the parts in turn. Time per example, from each part's "
        "median examples/s.",
        "",
        "| part | examples/s (median) | each round | ms per example | "
        "time vs the FusedAdamW step |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, median in medians.items():
        each = ", ".join(f"{r:,.0f}" for r in rates[name])
        lines.append(
            f"| {name} | {median:,.1f} | {each} | {1000 / median:.2f} | {step / median:.2f}× |"
        )
    if profile:
        total = sum(profile["by_part_s"].values())
        lines += [
            "",
            "TensorFlow profiler, one FusedAdamW epoch, op time summed over threads: "
            + ", ".join(f"{k} {v / total:.0%}" for k, v in profile["by_part_s"].items())
            + ". Top ops: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in list(profile["top_ops_s"].items())[:8])
            + ".",
        ]
    write_results(args.out, "profile_step", payload, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
