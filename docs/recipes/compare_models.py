"""Compare zoo models by name: fine-tune each on the same data, print one results table.

A model of the zoo is a name, so comparing models is a loop over strings::

    python docs/recipes/compare_models.py                        # the AG News sample
    python docs/recipes/compare_models.py --models scratch-small,bert-tiny,bert-mini
    python docs/recipes/compare_models.py --smoke                # seconds, offline

``--smoke`` (or ``TEXTZOO_SMOKE=1``) trains on 160 texts and tests on 64, with tiny
randomly initialised models of the same families (``weights=None``): no download.
"""

from __future__ import annotations

import argparse
import os
import time

import tfx_textzoo as textzoo

MODELS = "scratch-small,bert-tiny,small-bert-L4,all-minilm-l6-v2"
TINY_BERT = {"num_layers": 1, "hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16}


def main(argv: list[str] | None = None) -> list[dict]:
    """Fine-tune and evaluate every model named in ``--models``; return the table rows."""
    args = parse_args(argv)
    train, test = textzoo.datasets.load(args.dataset, split=["train", "test"])
    if args.smoke:
        train, test = train[:160], test[:64]

    rows = []
    for name in args.models.split(","):
        model = build(name, train.label_names, smoke=args.smoke)
        start = time.perf_counter()
        history = textzoo.finetune(
            model, train, validation_data=test, epochs=2 if args.smoke else None, seed=0, verbose=0
        )
        seconds = time.perf_counter() - start
        report = textzoo.evaluate(model, test, verbose=0)
        rows.append(
            {
                "model": name,
                "parameters": model.count_params(),
                "epochs": len(history.epochs),
                "train seconds": f"{seconds:.1f}",
                "accuracy": report.accuracy,
                "macro F1": report.macro_f1,
            }
        )

    print(markdown_table(rows))
    for row in rows:  # what the docs' smoke test relies on
        assert 0.0 <= row["accuracy"] <= 1.0 and 0.0 <= row["macro F1"] <= 1.0, row
    return rows


def build(name: str, labels: list[str], smoke: bool):
    """``textzoo.load(name)``; in smoke mode, a tiny random model of the same family."""
    if not smoke:
        return textzoo.load(name, labels=labels)
    family = textzoo.get_model_info(name)["family"]
    if family == "bert":
        return textzoo.load(name, labels=labels, weights=None, **TINY_BERT)
    return textzoo.load("scratch-tiny", labels=labels)


def markdown_table(rows: list[dict]) -> str:
    """Rows of dicts as a markdown table, floats with 4 decimals."""
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [_cell(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=MODELS, help="comma-separated zoo names")
    parser.add_argument("--dataset", default="ag_news-sample", help="a textzoo dataset name")
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("TEXTZOO_SMOKE") == "1",
        help="tiny data and models, no download (also TEXTZOO_SMOKE=1)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
