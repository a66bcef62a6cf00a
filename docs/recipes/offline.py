"""Working offline: train on a machine that never touches the network.

Two steps, usually on two machines:

``--prepare DIR`` (a machine with internet): fetch what the offline run needs into
``DIR``: the model's pretrained weights as a keras-hub preset directory
(``DIR/weights``) and the dataset's files (``DIR/data/ag_news/*.csv``). Copy ``DIR`` to
the cluster (rsync, a shared file system, a USB disk...).

``--from DIR`` (the air-gapped machine): with ``TEXTZOO_OFFLINE=1`` (nothing downloads;
``HF_HUB_OFFLINE=1`` works too) and ``TEXTZOO_DATA=DIR/data``, build the model with
``weights=DIR/weights``, fine-tune, evaluate and save it.

Usage::

    python docs/recipes/offline.py --prepare /mnt/usb/textzoo         # online
    python docs/recipes/offline.py --from /mnt/usb/textzoo            # offline
    python docs/recipes/offline.py --smoke                            # both, seconds

``--smoke`` (or ``TEXTZOO_SMOKE=1``) runs both steps in a temporary directory: the
"prepared" weights are a tiny random BERT saved as a keras-hub preset, the data the
embedded AG News sample, so nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

import tfx_textzoo as textzoo

MODEL = "small-bert-L4"
TINY_BERT = {"num_layers": 1, "hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16}


def main(argv: list[str] | None = None) -> float:
    """Prepare and/or run offline; return the offline model's test accuracy (or 0.0)."""
    args = parse_args(argv)
    if args.smoke:
        with tempfile.TemporaryDirectory() as tmp:
            prepare(Path(tmp), smoke=True)
            return run_offline(Path(tmp), smoke=True)
    if args.prepare:
        prepare(Path(args.prepare), smoke=False)
    if getattr(args, "from"):
        return run_offline(Path(getattr(args, "from")), smoke=False)
    return 0.0


def prepare(directory: Path, smoke: bool) -> None:
    """Put the model's weights and the dataset's files under ``directory``."""
    print(f"cache: {textzoo.weights.cache_dir()} (TEXTZOO_HOME)")
    if smoke:  # stands in for the download: a random model of the same architecture family
        model = textzoo.load(MODEL, num_classes=4, weights=None, **TINY_BERT)
    else:  # downloads into $TEXTZOO_HOME (hf/, converted/, downloads/) on first use
        model = textzoo.load(MODEL, num_classes=4)
    # A keras-hub preset directory: config.json, model.weights.h5, tokenizer.json, assets/.
    model.backbone.save_to_preset(str(directory / "weights"))
    model.preprocessor.tokenizer.save_to_preset(str(directory / "weights"))

    # The data: the same csv layout as the original AG News release. Real data would come
    # from textzoo.datasets.load("ag_news", ...) or the release files; the sample stands in.
    data = directory / "data" / "ag_news"
    data.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        shutil.copyfile(textzoo.datasets.sample_path(split), data / f"{split}.csv")
    print(f"prepared {directory}: " + ", ".join(sorted(p.name for p in directory.iterdir())))


def run_offline(directory: Path, smoke: bool) -> float:
    """Fine-tune and evaluate from ``directory`` alone, with every download switched off."""
    os.environ["TEXTZOO_OFFLINE"] = "1"  # usually exported in the job script instead
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TEXTZOO_DATA"] = str(directory / "data")
    assert textzoo.weights.is_offline()

    # Found in $TEXTZOO_DATA/ag_news/: no tensorflow-datasets, no Hub.
    train, test = textzoo.datasets.load("ag_news", split=["train", "test"])
    print(train, "from", train.source)
    if smoke:
        train, test = train[:160], test[:64]

    # The smoke run's stand-in weights are smaller than MODEL: say so, or load refuses them.
    model = textzoo.load(
        MODEL,
        labels=train.label_names,
        weights=str(directory / "weights"),
        allow_architecture_mismatch=smoke,
    )
    history = textzoo.finetune(
        model, train, validation_data=test, epochs=2 if smoke else None, seed=0, verbose=0
    )
    report = textzoo.evaluate(model, test, verbose=0)
    saved = textzoo.save_pretrained(
        model, directory / "ag-news-model", report=report, history=history, overwrite=True
    )
    print(f"accuracy {report.accuracy:.4f}; saved to {saved}")

    assert train.source.startswith("local:"), train.source
    assert 0.0 <= report.accuracy <= 1.0
    assert textzoo.load(saved).labels == train.label_names  # reloads offline too
    return report.accuracy


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", metavar="DIR", help="fetch weights and data into DIR")
    parser.add_argument("--from", metavar="DIR", help="train offline from a prepared DIR")
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("TEXTZOO_SMOKE") == "1",
        help="both steps in a temporary directory, nothing downloaded (also TEXTZOO_SMOKE=1)",
    )
    args = parser.parse_args(argv)
    if not (args.smoke or args.prepare or getattr(args, "from")):
        parser.error("give --prepare DIR, --from DIR (or both), or --smoke")
    return args


if __name__ == "__main__":
    main()
