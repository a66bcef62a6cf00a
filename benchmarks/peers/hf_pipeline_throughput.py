"""Inference peer: Hugging Face ``pipeline("text-classification")`` on CPU (BERT L4-H128).

Standalone script; run it only with the peers venv's interpreter, never the library's venv::

    bash benchmarks/peers/make_venv.sh
    benchmarks/peers/.venv/bin/python benchmarks/peers/hf_pipeline_throughput.py \
        --examples 7600 --runs 3 --out /tmp/hf_pipeline.json

Protocol: a randomly initialised ``BertForSequenceClassification`` (L4-H128, seeded) and a
``BertTokenizerFast`` on the uncased vocabulary, wrapped in ``pipeline("text-classification",
device=-1, batch_size=32, truncation=True, max_length=128)``. One untimed warm-up call, then
R timed calls over the same N raw texts; each call returns one label per text (``top_k=1``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

try:
    import torch
    import transformers
except ImportError as exc:  # pragma: no cover - environment guard
    sys.exit(
        f"{exc}\nThis peer needs torch/transformers; create the venv with "
        "`bash benchmarks/peers/make_venv.sh` and run it with benchmarks/peers/.venv/bin/python."
    )

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hf_trainer_throughput import (  # noqa: E402
    DEFAULT_CSV,
    DEFAULT_VOCAB,
    check_vocabulary,
    make_model,
    make_tokenizer,
    read_ag_news,
)


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and return (and print / write) the result record."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="AG News csv (no header)")
    p.add_argument("--vocab", type=Path, default=DEFAULT_VOCAB, help="uncased WordPiece vocab")
    p.add_argument("--examples", type=int, default=7600, help="use the first N rows")
    p.add_argument("--runs", type=int, default=3, help="timed runs")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=128, help="truncation length (tokens)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch intra-op threads")
    p.add_argument("--out", type=Path, default=None, help="write the JSON record here")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    transformers.logging.set_verbosity_error()
    texts, _ = read_ag_news(a.csv, a.examples)

    tokenizer = make_tokenizer(a.vocab)
    check_vocabulary(tokenizer, tokenizer(texts[:256])["input_ids"], a.vocab)

    model = make_model().eval()
    classify = transformers.pipeline(
        "text-classification",
        model=model,
        tokenizer=tokenizer,
        device=-1,
        batch_size=a.batch_size,
        truncation=True,
        max_length=a.max_length,
    )

    def one_run(items):
        out = classify(items)
        if len(out) != len(items):
            sys.exit(f"pipeline returned {len(out)} results for {len(items)} texts")
        return out

    start = time.perf_counter()
    one_run(texts)  # warm-up
    warmup_s = time.perf_counter() - start
    run_seconds = []
    for _ in range(a.runs):
        start = time.perf_counter()
        one_run(texts)
        run_seconds.append(time.perf_counter() - start)
    rates = [a.examples / s for s in run_seconds]
    record = {
        "framework": "transformers pipeline (PyTorch CPU)",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
        },
        "examples": a.examples,
        "batch_size": a.batch_size,
        "max_length": a.max_length,
        "threads": torch.get_num_threads(),
        "warmup_s": round(warmup_s, 2),
        "run_seconds": [round(s, 3) for s in run_seconds],
        "examples_per_s": [round(r, 1) for r in rates],
        "median_examples_per_s": round(statistics.median(rates), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    text = json.dumps(record, indent=2)
    print(text)
    if a.out is not None:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text + "\n")
    return record


if __name__ == "__main__":
    main()
