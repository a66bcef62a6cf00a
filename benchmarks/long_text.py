"""Long texts: fine-tuning all-MiniLM-L6-v2 on BBC News at 256 tokens, textzoo vs keras-hub.

The real all-MiniLM-L6-v2 weights (``../shared/models/all-minilm-l6-v2``), the BBC News
articles (``../shared/data/bbc_news``: the library's seeded 80/20 split, the first
``--examples`` training articles and the first ``--test-examples`` test articles), 256
tokens per text (nearly every article is longer: a median of 337 words), batch 32.
Every configuration runs in its own process, one after the other, ``--rounds`` times
(order reversed every round); each reports its training wall time, its peak resident
memory (sampled every 0.2 s, and the kernel's ``ru_maxrss``) and its test accuracy:

- ``textzoo``: ``textzoo.finetune`` with the catalog defaults (1 frozen epoch on cached
  features, then 2 full epochs with AdamW + warmup, ``precision="auto"``),
  ``micro_batch_tokens="auto"`` (on a CPU at most 2,048 tokens per forward/backward
  pass: batches of 32 run as 4 micro-batches of 8).
- ``textzoo-1024``: the same with ``micro_batch_tokens=1024`` (micro-batches of 4).
- ``textzoo-whole``: the same with ``micro_batch_tokens=None`` (whole batches of 32).
- ``textzoo-fp32``: the defaults with ``precision="float32"`` (``"auto"`` is
  ``mixed_bfloat16`` on a CPU with AVX512_BF16: the backbone in bfloat16, float32
  weights, head and loss).
- ``keras-hub-256``: keras-hub's ``BertTextClassifier`` on the same backbone with its
  ``BertTextClassifierPreprocessor`` at sequence length 256, ``fit`` on raw strings for 2
  epochs (the same number of full epochs), AdamW at 3e-5.

Usage:
    python benchmarks/long_text.py                       # writes benchmarks/results/
    python benchmarks/long_text.py --examples 64 --test-examples 32 --only textzoo
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, command_line, machine, run_isolated, write_results  # noqa: E402

SHARED = ROOT.parent / "shared"
MINILM = SHARED / "models" / "all-minilm-l6-v2"
BBC = SHARED / "data" / "bbc_news"
LENGTH = 256
CONFIGS = {
    "textzoo": "textzoo.finetune, catalog defaults (1 frozen epoch on cached features + 2 "
    "full), micro-batches of at most 2,048 tokens (auto), precision auto (mixed_bfloat16 "
    "on a CPU with AVX512_BF16)",
    "textzoo-fp32": "textzoo.finetune, the same with precision='float32'",
    "textzoo-1024": "textzoo.finetune, the same with micro_batch_tokens=1024 (micro-batches "
    "of 4)",
    "textzoo-whole": "textzoo.finetune, the same with micro_batch_tokens=None (whole "
    "batches)",
    "keras-hub-256": "keras-hub BertTextClassifier.fit on raw strings, sequence length 256, "
    "2 epochs",
}


class _PeakRSS:
    """The largest resident set size seen, sampled by a daemon thread."""

    def __init__(self, every: float = 0.2):
        self.peak_mb = 0
        threading.Thread(target=self._run, args=(every,), daemon=True).start()

    @staticmethod
    def now_mb() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) // 1024
        return 0

    def _run(self, every):
        while True:
            self.peak_mb = max(self.peak_mb, self.now_mb())
            time.sleep(every)


def worker(name: str, n: int, n_test: int) -> dict:
    """Train and evaluate one configuration in this process."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    rss = _PeakRSS()
    import keras
    import numpy as np

    import tfx_textzoo as textzoo
    from tfx_textzoo import datasets
    from tfx_textzoo.evaluation import predict_proba

    train, test = datasets.load("bbc_news", split=["train", "test"], data_dir=BBC)
    texts, labels = list(train.texts[:n]), np.asarray(train.labels[:n])
    test_texts, test_labels = list(test.texts[:n_test]), np.asarray(test.labels[:n_test])
    keras.utils.set_random_seed(0)
    model = textzoo.load(
        "all-minilm-l6-v2", labels=train.label_names, weights=str(MINILM), sequence_length=LENGTH
    )
    extra: dict = {}
    tick = time.perf_counter()
    if name.startswith("textzoo"):
        micro = {"textzoo-1024": 1024, "textzoo-whole": None}.get(name, "auto")
        precision = "float32" if name == "textzoo-fp32" else "auto"
        history = textzoo.finetune(
            model,
            (texts, labels),
            seed=0,
            micro_batch_tokens=micro,
            precision=precision,
            verbose=0,
        )
        seconds = time.perf_counter() - tick
        predicted = predict_proba(model, test_texts).argmax(axis=-1)
        extra["timings_s"] = {k: round(v, 1) for k, v in history.timings.items()}
        extra["micro_batch_tokens"] = history.settings.get("micro_batch_tokens")
        extra["precision"] = history.settings.get("precision")
        extra["epochs"] = [r["phase"] for r in history.epochs]
    else:
        import keras_hub

        tokenizer = keras_hub.models.BertTokenizer(
            vocabulary=str(MINILM / "vocab.txt"), lowercase=True
        )
        preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
            tokenizer, sequence_length=LENGTH
        )
        classifier = keras_hub.models.BertTextClassifier(
            model.backbone, len(train.label_names), preprocessor=preprocessor
        )
        classifier.compile(
            optimizer=keras.optimizers.AdamW(3e-5),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        classifier.fit(np.array(texts), labels, batch_size=32, epochs=2, verbose=0)
        seconds = time.perf_counter() - tick
        logits = classifier.predict(np.array(test_texts), batch_size=32, verbose=0)
        predicted = logits.argmax(axis=-1)
        extra["epochs"] = ["full", "full"]
    return {
        "name": name,
        "description": CONFIGS[name],
        "examples": len(texts),
        "test_examples": len(test_texts),
        "train_seconds": round(seconds, 1),
        "test_accuracy": round(float(np.mean(np.asarray(predicted) == test_labels)), 4),
        "peak_rss_mb": max(
            rss.peak_mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        ),
        **extra,
    }


def to_markdown(records: list[dict], command: str, where: str) -> str:
    """Time, memory and accuracy per configuration; time ratios to keras-hub per round."""
    names = list(dict.fromkeys(r["name"] for r in records))
    base = {r["round"]: r for r in records if r["name"] == "keras-hub-256"}
    lines = [
        f"Command: `{command}`  ",
        f"Machine: {where}  ",
        f"all-MiniLM-L6-v2 (real weights), BBC News, {records[0]['examples']:,} training "
        f"articles, {records[0]['test_examples']:,} test articles, {LENGTH} tokens, batch 32; "
        "each configuration in a fresh process, one after the other. Time: training only "
        "(tokenizing included, loading the model not). × keras-hub: this configuration's "
        "time over keras-hub's in the same round (below 1 is faster).",
        "",
        "| configuration | epochs | training time (s), each round | × keras-hub's time | "
        "peak RSS (MB) | test accuracy |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in names:
        rows = [r for r in records if r["name"] == name]
        ratios = [
            r["train_seconds"] / base[r["round"]]["train_seconds"]
            for r in rows
            if r["round"] in base and name != "keras-hub-256"
        ]
        ratio = f"{statistics.median(ratios):.2f}×" if ratios else ""
        lines.append(
            f"| {rows[0]['description']} | {' + '.join(rows[0]['epochs'])} | "
            f"{', '.join(str(r['train_seconds']) for r in rows)} | {ratio} | "
            f"{max(r['peak_rss_mb'] for r in rows):,} | "
            f"{', '.join(format(r['test_accuracy'], '.4f') for r in rows)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=320)
    parser.add_argument("--test-examples", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default=",".join(CONFIGS))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.json.write_text(json.dumps(worker(args.worker, args.examples, args.test_examples)))
        return 0
    if not (MINILM.is_dir() and BBC.is_dir()):
        raise SystemExit(f"needs {MINILM} and {BBC} (../shared)")
    names = [n for n in args.only.split(",") if n]
    unknown = sorted(set(names) - set(CONFIGS))
    if unknown:
        raise SystemExit(f"unknown configurations {unknown}; choose from {sorted(CONFIGS)}")
    records = []
    for k in range(max(1, args.rounds)):
        for name in names if k % 2 == 0 else reversed(names):
            print(f"round {k + 1}: [{name}] ...", flush=True)

            def make_cmd(out, name=name):
                return [
                    sys.executable, __file__, "--worker", name, "--json", str(out),
                    "--examples", str(args.examples), "--test-examples", str(args.test_examples),
                ]  # fmt: skip

            record = {**run_isolated(name, make_cmd), "round": k + 1}
            print(f"[{name}] {record['train_seconds']} s, {record['peak_rss_mb']} MB", flush=True)
            records.append(record)
    command = command_line("long_text.py", argv).strip()
    payload = {"command": command, "machine": machine(), "results": records}
    write_results(args.out, "long_text", payload, to_markdown(records, command, machine()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
