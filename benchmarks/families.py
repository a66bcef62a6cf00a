"""Speed of each family at its base size: inference and training throughput on this CPU.

For the "choosing a model" page. Every family's base-size catalog entry (and a few small
ones) is built with random weights (``weights=None``: speed does not depend on the
values) at its real architecture, with the family's tiny test tokenizer (so no vocabulary
download; the embedding table is then small, which changes the parameter count but not
the speed of a lookup). Each configuration runs in its own process and is fed the same
synthetic batches: ``--batch`` sequences of exactly ``--length`` tokens, every position a
real token. Inference is the model's forward pass (``training=False``) in a traced
function; training is ``train_on_batch`` of the classifier's graph without its preprocessor, with
the model's compiled AdamW. One untimed
warm-up each, then the median of ``--runs`` timed batches. Tokenizing is not included
(it is the same for every family to within a few percent of a step).

Usage:
    python benchmarks/families.py                      # writes benchmarks/results/families.*
    python benchmarks/families.py --only bert-base-uncased,roberta-base --runs 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, command_line, machine, run_isolated, write_results  # noqa: E402

#: Base sizes first (one per family), then small ones a practitioner weighs against them.
NAMES = [
    "bert-base-uncased",
    "distilbert-base-uncased",
    "roberta-base",
    "xlm-roberta-base",
    "albert-base-v2",
    "deberta-v3-base",
    "electra-base",
    "all-minilm-l6-v2",
    "electra-small",
    "deberta-v3-xsmall",
    "small-bert-L4-H256",
]


def worker(name: str, length: int, batch: int, runs: int) -> dict:
    """Measure one model in this process."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    import tensorflow as tf

    import tfx_textzoo as textzoo

    spec = textzoo.registry.get_spec(name)
    family = textzoo.registry.get_family(spec.family)
    keras.utils.set_random_seed(0)
    model = textzoo.load(
        name, num_classes=2, weights=None, sequence_length=length, **family.tiny_tokenizer
    )
    model.prepare_tokenizer(["a text"])
    vocabulary = model.preprocessor.tokenizer.vocabulary_size()
    rng = np.random.default_rng(0)
    inputs = {}
    for tensor in model.inputs:  # the graph's inputs, as the preprocessor feeds them
        key, dtype = tensor.name, tensor.dtype
        if key == "token_ids":
            inputs[key] = tf.constant(rng.integers(5, vocabulary, (batch, length)), dtype)
        elif key == "padding_mask":
            inputs[key] = tf.ones((batch, length), dtype)
        else:  # segment ids and the like: the first segment everywhere
            inputs[key] = tf.zeros((batch, length), dtype)
    labels = tf.constant(rng.integers(0, 2, batch))
    from tfx_textzoo.inference import core_model, traced_forward

    forward = traced_forward(model)  # what predict runs: token ids -> probabilities
    core = core_model(model)  # the same layers without the preprocessor, for training
    core.compile(optimizer=model.optimizer, loss=model.loss)

    def timed(step) -> list[float]:
        step()  # warm-up: tracing
        seconds = []
        for _ in range(runs):
            tick = time.perf_counter()
            step()
            seconds.append(time.perf_counter() - tick)
        return seconds

    infer = timed(lambda: np.asarray(forward(inputs)))
    train = timed(lambda: core.train_on_batch(inputs, labels))
    return {
        "name": name,
        "family": spec.family,
        "params": textzoo.get_model_info(name)["params"],
        "architecture": {
            k: spec.architecture[k]
            for k in ("num_layers", "hidden_dim", "num_heads", "intermediate_dim")
            if k in spec.architecture
        },
        "length": length,
        "batch": batch,
        "inference_seconds": [round(s, 3) for s in infer],
        "train_seconds": [round(s, 3) for s in train],
        "inference_texts_per_s": round(batch / statistics.median(infer), 2),
        "train_examples_per_s": round(batch / statistics.median(train), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def to_markdown(records: list[dict], command: str, where: str, length: int, batch: int) -> str:
    """The results table, fastest inference first within the base and small groups."""
    lines = [
        f"# Families on this CPU: random weights, batches of {batch} x {length} tokens",
        "",
        f"`{command}` on {where}. Median of the timed batches after one warm-up; each model in",
        "its own process. `params`: the catalog entry with a 2-class head (real vocabulary).",
        "",
        "| model | family | layers x hidden | params (M) | inference texts/s | "
        "training examples/s | peak RSS (MB) |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in records:
        arch = r["architecture"]
        lines.append(
            f"| {r['name']} | {r['family']} | {arch.get('num_layers')} x "
            f"{arch.get('hidden_dim')} | {r['params'] / 1e6:.1f} | "
            f"{r['inference_texts_per_s']:.1f} | {r['train_examples_per_s']:.2f} | "
            f"{r['peak_rss_mb']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """Run every configuration in its own process and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", help="comma-separated model names")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        record = worker(args.worker, args.length, args.batch, args.runs)
        args.json.write_text(json.dumps(record))
        return 0
    names = args.only.split(",") if args.only else NAMES
    records = []
    for name in names:
        common = ["--length", str(args.length), "--batch", str(args.batch)]
        records.append(
            run_isolated(
                name,
                lambda out, name=name, common=common: [
                    sys.executable,
                    __file__,
                    "--worker",
                    name,
                    "--json",
                    str(out),
                    "--runs",
                    str(args.runs),
                    *common,
                ],
            )
        )
        print(json.dumps(records[-1]), flush=True)
    command = command_line("families.py", argv).strip()
    payload = {"command": command, "machine": machine(), "results": records}
    markdown = to_markdown(records, command, machine(), args.length, args.batch)
    write_results(args.out, "families", payload, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
