"""An evaluation report on real AG News: fine-tune one model, evaluate it on held-out texts.

Only AG News' test split (7,600 texts) is on this machine. The package's embedded sample
(``ag_news-sample``: 4,000 train texts) was drawn from that file, so the model is trained
on those 4,000 and evaluated on the **3,600 test texts it never saw** (the embedded
sample's 1,000 test texts among them), not on all 7,600. No validation split is used
(no early stopping, no restore-best), so nothing about the held-out texts steers training.

Writes ``benchmarks/results/ag_news_report.{json,md}`` and the confusion-matrix plot
``ag_news_confusion_matrix.png``.

Usage:
    python benchmarks/ag_news_report.py                          # all-minilm-l6-v2
    python benchmarks/ag_news_report.py --model scratch-small
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfx_textzoo as textzoo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    """Fine-tune, evaluate on the held-out AG News test texts, write the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="all-minilm-l6-v2")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--epochs", type=int, default=None, help="default: the catalog's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--keras-out", type=Path, help="also save the model as .keras here")
    parser.add_argument(
        "--save", type=Path, help="also save_pretrained() the model, report and history here"
    )
    args = parser.parse_args(argv)

    train = textzoo.datasets.load("ag_news-sample", split="train")
    full = textzoo.datasets.load("ag_news", split="test", data_dir=args.shared / "data/ag_news")
    seen = set(train.texts)
    held_out = full[np.array([t not in seen for t in full.texts])]
    held_out.name = "AG News test, minus the 4,000 training texts"
    print(f"train {len(train):,} texts; evaluate on {len(held_out):,} held-out test texts")

    weights = "auto"
    if args.model == "all-minilm-l6-v2":
        weights = str(args.shared / "models" / "all-minilm-l6-v2")
    keras.utils.set_random_seed(args.seed)
    model = textzoo.load(args.model, labels=train.label_names, weights=weights)
    start = time.perf_counter()
    history = textzoo.finetune(model, train, epochs=args.epochs, seed=args.seed, verbose=2)
    train_seconds = time.perf_counter() - start
    if args.keras_out:
        model.save(args.keras_out)

    report = textzoo.evaluate(model, held_out, verbose=0)
    args.out.mkdir(parents=True, exist_ok=True)
    png = args.out / "ag_news_confusion_matrix.png"
    report.plot_confusion_matrix(png, dpi=150)  # 840 px wide: legible at column width
    command = "python benchmarks/ag_news_report.py " + " ".join(argv or sys.argv[1:])
    machine = f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU"
    settings = history.settings
    payload = {
        "command": command.strip(),
        "machine": machine,
        "model": args.model,
        "train_examples": len(train),
        "train_seconds": round(train_seconds, 1),
        "settings": settings,
        "history": history.to_dict()["epochs"],
        "report": report.to_dict(),
        "errors": report.errors(k=10),
    }
    (args.out / "ag_news_report.json").write_text(json.dumps(payload, indent=2, default=str))
    if args.save:
        textzoo.save_pretrained(
            model, args.save, report=report, history=history, dataset="ag_news", overwrite=True
        )
        print(f"saved to {args.save}")
    lines = [
        f"Command: `{command.strip()}`  ",
        f"Machine: {machine}  ",
        f"Model: `{args.model}` fine-tuned on the 4,000 texts of `ag_news-sample/train` "
        f"({settings['freeze_epochs']} frozen + "
        f"{settings['epochs'] - settings['freeze_epochs']} full epochs, batch "
        f"{settings['batch_size']}, peak learning rate {settings['learning_rate']:g}; "
        f"{train_seconds:.0f} s), evaluated on the {len(held_out):,} AG News test texts it "
        "was not trained on.",
        "",
        report.to_markdown(),
        f"![confusion matrix]({png.name})",
        "",
        "The 10 most confident mistakes:",
        "",
        "| held-out row | true | predicted | confidence | text |",
        "|---:|---|---|---:|---|",
    ]
    for e in report.errors(k=10):
        text = e["text"].replace("|", "\\|")
        text = text if len(text) <= 160 else text[:157] + "..."
        lines.append(
            f"| {e['index']} | {e['true']} | {e['predicted']} | {e['confidence']:.3f} | {text} |"
        )
    (args.out / "ag_news_report.md").write_text("\n".join(lines) + "\n")
    print((args.out / "ag_news_report.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
