"""Training throughput of ``textzoo.finetune`` vs keras-hub and the Hugging Face Trainer.

The same BERT L4-H128 architecture (random init: speed does not depend on the values),
the same AG News texts (``../shared/data/ag_news/test.csv``), batch 32, on this machine,
side by side in one run. Every configuration runs in its own process (so peak RSS is its
own): one untimed warm-up run, then ``--runs`` timed runs of one epoch each over the
first ``--examples`` texts, starting from raw strings:

- ``textzoo``: ``textzoo.finetune(model, (texts, labels), epochs=1, freeze_epochs=0)``,
  the whole call timed (tokenizing included).
- ``textzoo-xla``: the same with ``jit_compile=True`` (the warm-up pays the compilation).
- ``textzoo-1024`` / ``textzoo-whole``: the same with ``micro_batch_tokens=1024`` / None
  (the default, ``"auto"``, is 2,048 tokens a pass on a CPU).
- ``keras-hub-512`` / ``keras-hub-128``: keras-hub's ``BertTextClassifier`` with its
  ``BertTextClassifierPreprocessor`` (default sequence length 512, or 128), default
  compile, ``fit(texts, labels, batch_size=32, epochs=1)``.
- ``hf-trainer``: ``transformers`` ``Trainer`` (PyTorch CPU) with dynamic padding and
  ``train_sampling_strategy="group_by_length"``, run by ``peers/hf_trainer_throughput.py``
  in its own virtual environment (``bash benchmarks/peers/make_venv.sh``).
- ``frozen-cached`` / ``frozen-uncached``: one frozen-backbone epoch
  (``freeze_epochs=1``) with and without feature caching.

Usage:
    python benchmarks/finetune_throughput.py            # writes benchmarks/results/
    python benchmarks/finetune_throughput.py --examples 256 --runs 1 --only textzoo,hf-trainer
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
    "textzoo": "textzoo.finetune (tokenize once, length-grouped batches padded to their "
    "longest text)",
    "textzoo-xla": "textzoo.finetune, jit_compile=True (XLA)",
    "textzoo-fp32": "textzoo.finetune, precision='float32' (the default 'auto' is "
    "mixed_bfloat16 on a CPU with AVX512_BF16)",
    "textzoo-1024": "textzoo.finetune, micro_batch_tokens=1024",
    "textzoo-whole": "textzoo.finetune, micro_batch_tokens=None (whole batches)",
    "keras-hub-512": "keras-hub BertTextClassifier.fit on raw strings, sequence length 512 "
    "(default)",
    "keras-hub-128": "keras-hub BertTextClassifier.fit on raw strings, sequence length 128",
    "hf-trainer": "Hugging Face Trainer (PyTorch CPU), dynamic padding, group_by_length",
    "frozen-cached": "textzoo frozen phase, features cached",
    "frozen-uncached": "textzoo frozen phase, no feature cache",
}


def read_texts(csv_path: Path, n: int):
    """The first ``n`` AG News texts and 0-based labels."""
    from tfx_textzoo.datasets import read_ag_news_csv

    data = read_ag_news_csv(csv_path)
    return data.texts[:n], data.labels[:n]


def worker(name: str, csv_path: Path, n: int, runs: int) -> dict:
    """Run one configuration in this process and return its measurements."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    texts, labels = read_texts(csv_path, n)
    extra: dict = {}
    if name.startswith("keras-hub"):
        import keras_hub

        length = int(name.rsplit("-", 1)[1])
        keras.utils.set_random_seed(0)
        backbone = keras_hub.models.BertBackbone(
            vocabulary_size=30522, max_sequence_length=512, **ARCH
        )
        tokenizer = keras_hub.models.BertTokenizer(vocabulary=str(VOCAB), lowercase=True)
        preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
            tokenizer, sequence_length=length
        )
        model = keras_hub.models.BertTextClassifier(backbone, 4, preprocessor=preprocessor)
        x, y = np.array(texts), np.array(labels)

        def one_run(warmup: bool):
            k = 64 if warmup else len(x)  # the warm-up only has to trace the step
            model.fit(x[:k], y[:k], batch_size=32, epochs=1, verbose=0)

        extra["padded_tokens_per_example"] = length
    else:
        import tfx_textzoo as textzoo

        keras.utils.set_random_seed(0)
        model = textzoo.load("small-bert-L4", num_classes=4, weights=None)
        kwargs = dict(epochs=1, freeze_epochs=0, batch_size=32, verbose=0)
        if name in ("textzoo-1024", "textzoo-whole"):
            kwargs["micro_batch_tokens"] = 1024 if name == "textzoo-1024" else None
        if name == "textzoo-xla":
            kwargs["jit_compile"] = True
        if name == "textzoo-fp32":
            kwargs["precision"] = "float32"
        if name.startswith("frozen"):
            kwargs.update(freeze_epochs=1, cache_features=name == "frozen-cached")

        def one_run(warmup: bool):
            textzoo.finetune(model, (texts, labels), **kwargs)

        from tfx_textzoo import preprocessing

        tok = preprocessing.tokenize(model, texts, labels)
        padded = sum(
            int(np.prod(x["token_ids"].shape))
            for x, _ in preprocessing.training_dataset(
                tok, 32, pad_to_bucket=bool(kwargs.get("jit_compile"))
            )
        )
        extra["mean_tokens"] = round(float(tok.lengths.mean()), 2)
        extra["padded_tokens_per_example"] = round(padded / len(texts), 2)

    tick = time.perf_counter()
    one_run(warmup=True)
    first = time.perf_counter() - tick
    seconds = []
    for _ in range(runs):
        tick = time.perf_counter()
        one_run(warmup=False)
        seconds.append(time.perf_counter() - tick)
    rates = [len(texts) / s for s in seconds]
    return {
        "name": name,
        "description": CONFIGS[name],
        "examples": len(texts),
        "warmup_s": round(first, 2),
        "run_seconds": [round(s, 3) for s in seconds],
        "examples_per_s": [round(r, 1) for r in rates],
        "median_examples_per_s": round(statistics.median(rates), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        **extra,
    }


def run_config(name: str, args) -> dict:
    """Run a configuration in a fresh process and return its JSON record."""
    n = args.slow_examples if name == "keras-hub-512" else args.examples
    print(f"[{name}] {n} examples ...", flush=True)
    if name == "hf-trainer":

        def make_cmd(out):
            return [
                str(PEERS_PYTHON),
                str(ROOT / "benchmarks/peers/hf_trainer_throughput.py"),
                "--csv", str(args.csv), "--vocab", str(VOCAB), "--examples", str(n),
                "--runs", str(args.runs), "--batch-size", "32", "--max-length", "128",
                "--out", str(out),
            ]  # fmt: skip

        record = run_isolated(name, make_cmd, peer=True)
    else:

        def make_cmd(out):
            return [
                sys.executable, __file__, "--worker", name, "--csv", str(args.csv),
                "--examples", str(n), "--runs", str(args.runs), "--json", str(out),
            ]  # fmt: skip

        record = run_isolated(name, make_cmd)
    if name == "hf-trainer":
        record = {
            **record,
            "name": name,
            "description": CONFIGS[name],
            "warmup_s": record.get("warmup_s"),
            "padded_tokens_per_example": round(
                record["padded_tokens_per_epoch"] / record["examples"], 2
            ),
        }
    print(f"[{name}] median {record['median_examples_per_s']} examples/s", flush=True)
    return record


def to_markdown(records: list[dict], command: str, machine: str) -> str:
    """A table with throughput, paired ratios and memory."""
    by_name = {r["name"]: r for r in records}
    ours = by_name.get("textzoo")
    rounds = len(records[0].get("round_medians", [None]))
    lines = [
        f"Command: `{command}`  ",
        f"Machine: {machine}  ",
        "BERT L4-H128 (random init), AG News texts, batch 32, one epoch per timed run; "
        f"{rounds} rounds, each running every configuration once in a fresh process "
        "(order reversed every round), each process one untimed warm-up run and then the "
        "timed runs. Median: of every timed run of every round. × faster: textzoo's "
        "median over the other's in the same round, the median of the rounds.",
        "",
        "| configuration | examples | training examples/s (median) | each round's median | "
        "textzoo is × faster (each round) | padded tokens / example | warm-up run (s) | "
        "peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in records:
        rate = r["median_examples_per_s"]
        ratio = ""
        if ours and not r["name"].startswith(("textzoo", "frozen")):
            median, each = paired_ratio(ours, r)
            ratio = f"{median:.2f}× ({', '.join(f'{x:.2f}' for x in each)})"
        per_round = ", ".join(f"{x:,.0f}" for x in r.get("round_medians", [rate]))
        lines.append(
            f"| {r['description']} | {r['examples']:,} | {rate:,.1f} | {per_round} | {ratio} | "
            f"{r.get('padded_tokens_per_example', '')} | {r.get('warmup_s') or ''} | "
            f"{r['peak_rss_mb']:,} |"
        )
    if "frozen-cached" in by_name and "frozen-uncached" in by_name:
        speedup, _ = paired_ratio(by_name["frozen-cached"], by_name["frozen-uncached"])
        lines += ["", f"Frozen phase: feature caching is {speedup:.2f}× faster (one epoch)."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """Run every configuration side by side and write JSON + markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_common_args(parser, examples=2048)
    parser.add_argument(
        "--slow-examples", type=int, default=512, help="examples for keras-hub-512 (slow)"
    )
    parser.add_argument("--only", default=",".join(CONFIGS))
    args = parser.parse_args(argv)
    names = args.only.split(",")
    return run_main(args, argv, "finetune_throughput.py", names, worker, run_config, to_markdown)


if __name__ == "__main__":
    sys.exit(main())
