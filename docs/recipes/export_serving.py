"""Export a fine-tuned classifier for serving and call it the way a server would.

``textzoo.export`` writes a TensorFlow SavedModel whose ``serving_default`` signature
takes a batch of raw strings (``text``) and returns ``probabilities``, ``label`` (the
class name) and ``label_id``: the tokenizer is inside the graph. Loading it needs
TensorFlow only (TF Serving, ``tf.saved_model.load``...); a BERT-family model's
WordPiece tokenizer also needs the TensorFlow Text ops: ``import tensorflow_text``
before loading (TF Serving images that include TF Text do this for you).

Usage::

    python docs/recipes/export_serving.py --output serving/ag-news      # small-bert-L4
    python docs/recipes/export_serving.py --smoke                       # seconds, offline

``--smoke`` (or ``TEXTZOO_SMOKE=1``) exports a tiny random BERT trained on 160 texts into
a temporary directory; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401 - registers the WordPiece ops a BERT export uses

import tfx_textzoo as textzoo

MODEL = "small-bert-L4"
TINY_BERT = {"num_layers": 1, "hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16}


def main(argv: list[str] | None = None) -> Path:
    """Train, export, reload with TensorFlow alone and compare; return the export path."""
    args = parse_args(argv)
    train, test = textzoo.datasets.load("ag_news-sample", split=["train", "test"])
    if args.smoke:
        train, test = train[:160], test[:64]
        model = textzoo.load(MODEL, labels=train.label_names, weights=None, **TINY_BERT)
        output = Path(tempfile.mkdtemp()) / "serving"
    else:
        model = textzoo.load(MODEL, labels=train.label_names)
        output = Path(args.output)
    textzoo.finetune(model, train, epochs=2 if args.smoke else None, seed=0, verbose=0)

    textzoo.export(model, output, overwrite=True)

    # --- what the serving side does: TensorFlow (+ TF Text) only -------------------------
    serve = tf.saved_model.load(str(output)).signatures["serving_default"]
    texts = test.texts[:16]
    result = serve(text=tf.constant(texts))
    labels = [label.decode() for label in result["label"].numpy()]
    for text, label in list(zip(texts, labels, strict=True))[:4]:
        print(f"{label:>9}  {text[:70]}")

    # The export predicts what the Keras model predicts.
    expected = textzoo.evaluation.predict_proba(model, texts)
    assert np.allclose(result["probabilities"].numpy(), expected, atol=1e-5)
    assert labels == textzoo.predict(model, texts, verbose=0)
    print(f"exported to {output}; probabilities match the Keras model")
    return output


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="serving/ag-news", help="SavedModel directory")
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("TEXTZOO_SMOKE") == "1",
        help="tiny model, temporary directory, no download (also TEXTZOO_SMOKE=1)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
