"""Inference throughput of ``textzoo.predict`` vs keras-hub and the Hugging Face pipeline.

The same BERT L4-H128 architecture (random init: speed does not depend on the values),
the same raw AG News texts (``../shared/data/ag_news/test.csv``, all 7,600 by default),
side by side in one run. Every configuration runs in its own process: one untimed
warm-up call over the same texts (its time is reported: it is what a first call costs),
then ``--runs`` timed calls, each from raw strings to predictions:

- ``textzoo``: ``textzoo.predict(model, texts)`` with its defaults (batch 64, tokenize
  once, length-sorted batches padded to their length bucket, results in input order;
  on a CPU ``jit_compile="auto"`` leaves XLA off below 16,384 texts).
- ``textzoo-xla``: the same with ``jit_compile=True`` (what a model that predicts again
  and again should use: the warm-up call pays the compilation).
- ``keras-hub-512`` / ``keras-hub-128``: keras-hub's ``BertTextClassifier`` with its
  ``BertTextClassifierPreprocessor`` (default sequence length 512, or 128),
  ``model.predict(texts, batch_size=32)`` on raw strings.
- ``hf-pipeline``: ``transformers.pipeline("text-classification", batch_size=32)``
  (PyTorch CPU, dynamic padding) run by ``peers/hf_pipeline_throughput.py`` in its own
  virtual environment (``bash benchmarks/peers/make_venv.sh``).

Usage:
    python benchmarks/inference_throughput.py            # writes benchmarks/results/
    python benchmarks/inference_throughput.py --examples 512 --runs 1 --only textzoo
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    PEERS_PYTHON,
    ROOT,
    VOCAB,
    add_common_args,
    paired_ratio,
    run_isolated,
    run_main,
)

ARCH = dict(num_layers=4, hidden_dim=128, num_heads=2, intermediate_dim=512)
CONFIGS = {
    "textzoo": "textzoo.predict (defaults: tokenize once, length-sorted batches padded to "
    "their longest text)",
    "textzoo-xla": "textzoo.predict, jit_compile=True (XLA)",
    "textzoo-fp32": "textzoo.predict, precision='float32' (the default 'auto' is "
    "mixed_bfloat16 on a CPU with AVX512_BF16)",
    "keras-hub-512": "keras-hub BertTextClassifier.predict on raw strings, sequence length "
    "512 (default)",
    "keras-hub-128": "keras-hub BertTextClassifier.predict on raw strings, sequence length 128",
    "hf-pipeline": 'Hugging Face pipeline("text-classification") (PyTorch CPU), batch 32',
}


def worker(name: str, csv_path: Path, n: int, runs: int) -> dict:
    """Run one configuration in this process and return its measurements."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    from tfx_textzoo.datasets import read_ag_news_csv

    texts = read_ag_news_csv(csv_path).texts[:n]
    extra: dict = {}
    keras.utils.set_random_seed(0)
    if name.startswith("keras-hub"):
        import keras_hub

        length = int(name.rsplit("-", 1)[1])
        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=30522, max_sequence_length=512, **ARCH
        )
        tokenizer = keras_hub.models.BertTokenizer(vocabulary=str(VOCAB), lowercase=True)
        preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
            tokenizer, sequence_length=length
        )
        model = keras_hub.models.BertTextClassifier(backbone, 4, preprocessor=preprocessor)
        x = np.array(texts)

        def one_run():
            return model.predict(x, batch_size=32, verbose=0)

        extra["padded_tokens_per_example"] = length
    else:
        import tfx_textzoo as textzoo
        from tfx_textzoo import preprocessing

        model = textzoo.load("small-bert-L4", num_classes=4, weights=None)
        kwargs = {"jit_compile": True} if name == "textzoo-xla" else {}
        if name == "textzoo-fp32":
            kwargs = {"precision": "float32"}

        def one_run():
            return textzoo.predict(model, texts, **kwargs)

        tok = preprocessing.tokenize(model, texts)
        # what predict pads to: each length-sorted batch of 64 to its longest text, or
        # (XLA) to its length bucket
        ranked = np.sort(tok.lengths)
        bounds = np.asarray(preprocessing.bucket_lengths(tok.max_length))
        padded = 0
        for start in range(0, len(ranked), 64):
            rows = ranked[start : start + 64]
            width = int(rows.max())
            if name == "textzoo-xla":
                width = int(bounds[np.searchsorted(bounds, width)])
            padded += width * len(rows)
        extra["mean_tokens"] = round(float(tok.lengths.mean()), 2)
        extra["padded_tokens_per_example"] = round(padded / len(texts), 2)

    tick = time.perf_counter()
    first = one_run()
    warmup = time.perf_counter() - tick
    if len(first) != len(texts):
        raise SystemExit(f"{name}: {len(first)} predictions for {len(texts)} texts")
    seconds = []
    for _ in range(runs):
        tick = time.perf_counter()
        one_run()
        seconds.append(time.perf_counter() - tick)
    if name.startswith("textzoo"):
        # The fast path computes the same function as the model's own predict.
        sample = texts[:256]
        fast = textzoo.evaluation.predict_proba(model, sample, **kwargs)
        extra["max_abs_diff_vs_model_predict"] = float(
            np.abs(fast - model.predict(np.array(sample), verbose=0)).max()
        )
        names = textzoo.evaluation.label_names(model)
        probs = textzoo.evaluation.predict_proba(model, texts, **kwargs)
        assert first == [names[i] for i in probs.argmax(1)], "labels out of input order"
    rates = [len(texts) / s for s in seconds]
    return {
        "name": name,
        "description": CONFIGS[name],
        "examples": len(texts),
        "warmup_s": round(warmup, 2),
        "first_call_examples_per_s": round(len(texts) / warmup, 1),
        "run_seconds": [round(s, 3) for s in seconds],
        "examples_per_s": [round(r, 1) for r in rates],
        "median_examples_per_s": round(statistics.median(rates), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        **extra,
    }


def run_config(name: str, args) -> dict:
    """Run a configuration in a fresh process and return its JSON record."""
    n = args.slow_examples if name == "keras-hub-512" else args.examples
    runs = args.slow_runs if name == "keras-hub-512" else args.runs
    print(f"[{name}] {n} texts, {runs} timed runs ...", flush=True)
    if name == "hf-pipeline":

        def make_cmd(out):
            return [
                str(PEERS_PYTHON),
                str(ROOT / "benchmarks/peers/hf_pipeline_throughput.py"),
                "--csv", str(args.csv), "--vocab", str(VOCAB), "--examples", str(n),
                "--runs", str(runs), "--batch-size", "32", "--max-length", "128",
                "--out", str(out),
            ]  # fmt: skip

        record = run_isolated(name, make_cmd, peer=True)
    else:

        def make_cmd(out):
            return [
                sys.executable, __file__, "--worker", name, "--csv", str(args.csv),
                "--examples", str(n), "--runs", str(runs), "--json", str(out),
            ]  # fmt: skip

        record = run_isolated(name, make_cmd)
    if name == "hf-pipeline":
        record = {
            **record,
            "name": name,
            "description": CONFIGS[name],
            "first_call_examples_per_s": round(record["examples"] / record["warmup_s"], 1),
        }
    print(f"[{name}] median {record['median_examples_per_s']} predictions/s", flush=True)
    return record


def to_markdown(records: list[dict], command: str, machine: str) -> str:
    """A table with throughput, paired ratios and memory."""
    by_name = {r["name"]: r for r in records}
    ours, xla = by_name.get("textzoo"), by_name.get("textzoo-xla")
    rounds = len(records[0].get("round_medians", [None]))
    lines = [
        f"Command: `{command}`  ",
        f"Machine: {machine}  ",
        "BERT L4-H128 (random init), raw AG News test texts in, predictions out; "
        f"{rounds} rounds, each running every configuration once in a fresh process "
        "(order reversed every round), each process one warm-up call (the first-call "
        "column) and then the timed calls. Median: of every timed call of every round. "
        "× faster: textzoo's median over the other's in the same round, the median of "
        "the rounds.",
        "",
        "| configuration | texts | predictions/s (median) | each round's median | "
        "textzoo (default) is × faster (each round) | textzoo (XLA) is × faster | "
        "first call: predictions/s | padded tokens / text | peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def ratio(mine, other):
        if mine is None or other is mine:
            return ""
        median, each = paired_ratio(mine, other)
        return f"{median:.2f}× ({', '.join(f'{x:.2f}' for x in each)})"

    for r in records:
        rate = r["median_examples_per_s"]
        per_round = ", ".join(f"{x:,.0f}" for x in r.get("round_medians", [rate]))
        lines.append(
            f"| {r['description']} | {r['examples']:,} | {rate:,.1f} | {per_round} | "
            f"{ratio(ours, r)} | "
            f"{ratio(xla, r) if not r['name'].startswith('textzoo') else ''} | "
            f"{r['first_call_examples_per_s']:,.1f} | "
            f"{r.get('padded_tokens_per_example', '')} | {r['peak_rss_mb']:,} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """Run every configuration side by side and write JSON + markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser, examples=7600)
    parser.add_argument(
        "--slow-examples", type=int, default=1024, help="texts for keras-hub-512 (slow)"
    )
    parser.add_argument("--slow-runs", type=int, default=3, help="timed runs of keras-hub-512")
    parser.add_argument("--only", default=",".join(CONFIGS))
    args = parser.parse_args(argv)
    names = args.only.split(",")
    return run_main(args, argv, "inference_throughput.py", names, worker, run_config, to_markdown)


if __name__ == "__main__":
    sys.exit(main())
