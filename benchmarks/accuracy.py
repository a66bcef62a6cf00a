"""Real transfer learning with ``textzoo.finetune`` defaults on SST-2 and TREC-6.

Each (task, model) pair is fine-tuned with the catalog's recommended settings, then
scored on the held-out splits. SST-2 validates on dev (restore-best by val_loss) and
also reports the untouched labelled test split; TREC-6 has no dev split, so it trains
without validation and reports the test split.

Usage:
    python benchmarks/accuracy.py                       # everything, writes benchmarks/results/
    python benchmarks/accuracy.py --tasks trec --models scratch-small
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import tfx_textzoo as textzoo  # noqa: E402
from tfx_textzoo.datasets import read_sst2_tsv, read_trec  # noqa: E402
from tfx_textzoo.evaluation import predict_proba  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    ("sst2", "all-minilm-l6-v2"): ("dev", 0.90),
    ("trec", "all-minilm-l6-v2"): ("test", 0.96),
}


def load_task(name: str, shared: Path):
    """``(train, validation or None, {split: eval data})`` of a task."""
    if name == "sst2":
        d = shared / "data" / "sst2"
        dev = read_sst2_tsv(d / "dev.tsv")
        return (
            read_sst2_tsv(d / "train.tsv"),
            dev,
            {"dev": dev, "test": read_sst2_tsv(d / "test.tsv")},
        )
    if name == "trec":
        d = shared / "data" / "trec6"
        return read_trec(d / "train_5500.label"), None, {"test": read_trec(d / "TREC_10.label")}
    raise SystemExit(f"unknown task {name!r}; use sst2 or trec")


def run(task: str, model_name: str, shared: Path, seed: int) -> dict:
    """Fine-tune one model on one task with catalog defaults; return the measurements."""
    train, validation, evals = load_task(task, shared)
    weights = "auto"
    if model_name == "all-minilm-l6-v2":
        weights = str(shared / "models" / "all-minilm-l6-v2")
    model = textzoo.load(model_name, labels=train.label_names, weights=weights)
    history = textzoo.finetune(model, train, validation_data=validation, seed=seed, verbose=2)
    result = {
        "task": task,
        "model": model_name,
        "train_examples": len(train),
        "settings": history.settings,
        "epochs": history.epochs,
        "best_epoch": history.best_epoch,
        "restored_best": history.restored_best,
        "train_seconds": round(history.timings["total"], 1),
        "timings": {k: round(v, 1) for k, v in history.timings.items()},
        "train_examples_per_s": round(
            len(train) * len(history.epochs) / history.timings["total"], 1
        ),
        "accuracy": {},
    }
    for split, data in evals.items():
        tick = time.perf_counter()
        probs = predict_proba(model, data.texts)
        accuracy = float(np.mean(probs.argmax(-1) == data.labels))
        result["accuracy"][split] = round(accuracy, 4)
        result[f"{split}_predict_per_s"] = round(len(data) / (time.perf_counter() - tick), 1)
    target = TARGETS.get((task, model_name))
    if target:
        result["target"] = {"split": target[0], "accuracy": target[1]}
        result["meets_target"] = result["accuracy"][target[0]] >= target[1]
    print(json.dumps({k: v for k, v in result.items() if k != "epochs"}), flush=True)
    return result


def to_markdown(results: list[dict], machine: str) -> str:
    """The results as a markdown table with the commands and machine."""
    commands = sorted({r.get("command", "") for r in results} - {""})
    lines = [
        "Commands: " + ", ".join(f"`{c}`" for c in commands) + "  ",
        f"Machine: {machine}",
        "",
        "| task | model | train examples | epochs (frozen+full) | accuracy | target | "
        "train time (s) | train examples/s |",
        "|---|---|---:|---|---|---|---:|---:|",
    ]
    for r in results:
        s = r["settings"]
        acc = ", ".join(f"{k} {v:.1%}" for k, v in r["accuracy"].items())
        target = ""
        if "target" in r:
            mark = "met" if r["meets_target"] else "missed"
            target = f">= {r['target']['accuracy']:.0%} {r['target']['split']} ({mark})"
        lines.append(
            f"| {r['task']} | {r['model']} | {r['train_examples']:,} | "
            f"{s['freeze_epochs']}+{s['epochs'] - s['freeze_epochs']} | {acc} | {target} | "
            f"{r['train_seconds']:.0f} | {r['train_examples_per_s']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """Run the benchmark and write JSON + markdown."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default="trec,sst2")
    parser.add_argument("--models", default="scratch-small,all-minilm-l6-v2")
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    shared = Path(args.shared)
    if not (shared / "data").is_dir():
        raise SystemExit(f"{shared}/data not found: pass --shared DIR (the ../shared folder)")
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU"
    results = []
    for task in args.tasks.split(","):
        for model_name in args.models.split(","):
            results.append(run(task, model_name, shared, args.seed))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = ("python benchmarks/accuracy.py " + " ".join(argv or sys.argv[1:])).strip()
    for r in results:
        r["command"] = command
        r["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    # Rows of earlier runs for other (task, model) pairs are kept, each with its command.
    previous = out / "accuracy.json"
    if previous.exists():
        done = {(r["task"], r["model"]) for r in results}
        kept = json.loads(previous.read_text()).get("results", [])
        results = [r for r in kept if (r["task"], r["model"]) not in done] + results
    order = {name: i for i, name in enumerate(["trec", "sst2"])}
    results.sort(key=lambda r: (order.get(r["task"], 9), r["model"] != "scratch-small"))
    payload = {"machine": machine, "results": results}
    (out / "accuracy.json").write_text(json.dumps(payload, indent=2))
    (out / "accuracy.md").write_text(to_markdown(results, machine))
    print((out / "accuracy.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
