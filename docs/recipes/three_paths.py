"""The lesson's three paths to an AG News classifier, run side by side.

1. ``scratch-small``: the lesson's small transformer, trained from scratch. No download.
2. ``small-bert-L4``: a compact pretrained BERT (4 layers, width 128), one epoch with the
   backbone frozen (only the new head trains), then everything. Downloads ~19 MB.
3. ``bert-base-uncased``: the full BERT base (110M parameters). Downloads ~440 MB; on a
   CPU its fine-tuning takes hours, on a GPU minutes.

Usage::

    python docs/recipes/three_paths.py                       # all three, AG News sample
    python docs/recipes/three_paths.py --paths scratch,small-bert
    python docs/recipes/three_paths.py --smoke               # seconds, offline

``--smoke`` (or ``TEXTZOO_SMOKE=1``) trains on 160 texts and tests on 64 with tiny
randomly initialised models of the same families (``weights=None``): no download.
"""

from __future__ import annotations

import argparse
import os
import time

import tfx_textzoo as textzoo

# path -> (model name, settings passed to finetune; the rest come from the catalog)
PATHS = {
    "scratch": ("scratch-small", {}),
    "small-bert": ("small-bert-L4", {"freeze_epochs": 1, "epochs": 3}),
    "bert-base": ("bert-base-uncased", {"freeze_epochs": 1, "epochs": 3}),
}
TINY_BERT = {"num_layers": 1, "hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16}


def main(argv: list[str] | None = None) -> list[dict]:
    """Train and evaluate each path; print and return one row per path."""
    args = parse_args(argv)
    train, test = textzoo.datasets.load("ag_news-sample", split=["train", "test"])
    if args.smoke:
        train, test = train[:160], test[:64]

    rows = []
    for path in args.paths.split(","):
        name, settings = PATHS[path]
        info = textzoo.get_model_info(name)
        if args.smoke:  # same family, tiny and random: nothing to download
            model = (
                textzoo.load(name, labels=train.label_names, weights=None, **TINY_BERT)
                if info["family"] == "bert"
                else textzoo.load("scratch-tiny", labels=train.label_names)
            )
            settings = {**settings, "epochs": 2}
        else:
            model = textzoo.load(name, labels=train.label_names)
        start = time.perf_counter()
        history = textzoo.finetune(
            model, train, validation_data=test, seed=0, verbose=0, **settings
        )
        seconds = time.perf_counter() - start
        report = textzoo.evaluate(model, test, verbose=0)
        rows.append(
            {
                "path": path,
                "model": name,
                "download": "yes" if info["sources"] else "no",
                "phases": "+".join(
                    f"{sum(e['phase'] == p for e in history.epochs)} {p}"
                    for p in ("frozen", "full")
                ),
                "seconds": f"{seconds:.1f}",
                "accuracy": f"{report.accuracy:.4f}",
            }
        )
        assert 0.0 <= report.accuracy <= 1.0
        if settings.get("freeze_epochs"):  # the frozen phase ran first
            assert history.epochs[0]["phase"] == "frozen", history.epochs

    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for row in rows:
        print("| " + " | ".join(row.values()) + " |")
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", default=",".join(PATHS), help=f"some of {list(PATHS)}")
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("TEXTZOO_SMOKE") == "1",
        help="tiny data and models, no download (also TEXTZOO_SMOKE=1)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
