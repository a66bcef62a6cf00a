"""Fine-tuning strategies on one pretrained model: what each setting of finetune changes.

Every run starts from the same pretrained ``small-bert-L4`` and the same seed:

- ``frozen head first``: the default, 1 epoch training only the new head on the frozen
  backbone (its features computed once: ``cache_features=True``), then everything;
- ``no frozen phase``: everything from the first step (``freeze_epochs=0``); the random
  head's large early gradients then reach the pretrained layers;
- ``higher learning rate``: a peak learning rate 3x the catalog's;
- ``layer-wise decay``: ``layer_decay=0.8``, each layer's learning rate 0.8x the one
  above it, so the lower (more general) layers move less;
- ``no feature cache``: the default schedule with ``cache_features=False``: the same
  result, but the frozen phase runs the backbone on every batch of every epoch.

Usage::

    python docs/recipes/finetune_strategies.py               # AG News sample, downloads ~19 MB
    python docs/recipes/finetune_strategies.py --smoke       # seconds, offline

``--smoke`` (or ``TEXTZOO_SMOKE=1``) uses 160 / 64 texts, a tiny random BERT and three
of the five strategies (``--strategies`` picks others).
"""

from __future__ import annotations

import argparse
import os

import tfx_textzoo as textzoo

MODEL = "small-bert-L4"
SMOKE_STRATEGIES = "frozen head first,layer-wise decay,no feature cache"
TINY_BERT = {"num_layers": 2, "hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16}


def strategies(learning_rate: float) -> dict[str, dict]:
    """Strategy name -> the finetune arguments it sets."""
    return {
        "frozen head first": {"freeze_epochs": 1},
        "no frozen phase": {"freeze_epochs": 0},
        "higher learning rate": {"freeze_epochs": 1, "learning_rate": 3 * learning_rate},
        "layer-wise decay": {"freeze_epochs": 1, "layer_decay": 0.8},
        "no feature cache": {"freeze_epochs": 1, "cache_features": False},
    }


def main(argv: list[str] | None = None) -> list[dict]:
    """Run every strategy; print and return one row per strategy."""
    args = parse_args(argv)
    train, test = textzoo.datasets.load("ag_news-sample", split=["train", "test"])
    epochs = 3
    if args.smoke:
        train, test, epochs = train[:160], test[:64], 2
    catalog_lr = textzoo.get_model_info(MODEL)["finetune"]["learning_rate"]

    rows = []
    chosen = args.strategies or (SMOKE_STRATEGIES if args.smoke else ",".join(strategies(0)))
    for name in chosen.split(","):
        settings = strategies(catalog_lr)[name]
        if args.smoke:
            model = textzoo.load(MODEL, labels=train.label_names, weights=None, **TINY_BERT)
        else:
            model = textzoo.load(MODEL, labels=train.label_names)
        history = textzoo.finetune(
            model, train, validation_data=test, epochs=epochs, seed=0, verbose=0, **settings
        )
        report = textzoo.evaluate(model, test, verbose=0)
        assert 0.0 <= report.accuracy <= 1.0
        frozen_s = sum(e["seconds"] for e in history.epochs if e["phase"] == "frozen")
        full_s = sum(e["seconds"] for e in history.epochs if e["phase"] == "full")
        rows.append(
            {
                "strategy": name,
                "settings": ", ".join(f"{k}={v}" for k, v in settings.items()),
                "peak lr": f"{history.settings['learning_rate']:g}",
                "frozen phase (s)": f"{frozen_s:.1f}",
                "full phase (s)": f"{full_s:.1f}",
                "accuracy": f"{report.accuracy:.4f}",
            }
        )

    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", help="comma-separated names (default: all five)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("TEXTZOO_SMOKE") == "1",
        help="tiny data and model, no download (also TEXTZOO_SMOKE=1)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
