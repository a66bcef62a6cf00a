"""Publish a fine-tuned model to the Hugging Face Hub, with its model card.

``save_pretrained`` writes a directory that describes the model completely: a keras-hub
preset (weights, tokenizer, head), ``textzoo.json`` (labels, training settings and
history, the evaluation report) and a model card ``README.md``. ``push_to_hub`` uploads
the same thing to a Hub model repo; anyone can then ``textzoo.load("hf://OWNER/NAME")``.

Usage::

    python docs/recipes/publish.py --output out/ag-news-minilm            # save + show card
    python docs/recipes/publish.py --output out/ag-news-minilm --repo-id me/ag-news-minilm
    python docs/recipes/publish.py --smoke                                # seconds, offline

Pushing needs a token with write access (``HF_TOKEN`` or ``hf auth login``). ``--smoke``
(or ``TEXTZOO_SMOKE=1``) trains a tiny random model on 160 texts, saves it in a temporary
directory and never touches the network, even with ``--repo-id``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

import tfx_textzoo as textzoo

MODEL = "all-minilm-l6-v2"
TINY_BERT = {"num_layers": 1, "hidden_dim": 8, "num_heads": 2, "intermediate_dim": 16}


def main(argv: list[str] | None = None) -> Path:
    """Fine-tune, evaluate, save with a model card, optionally push; return the directory."""
    args = parse_args(argv)
    train, test = textzoo.datasets.load("ag_news-sample", split=["train", "test"])
    if args.smoke:
        train, test = train[:160], test[:64]
        model = textzoo.load(MODEL, labels=train.label_names, weights=None, **TINY_BERT)
        output = Path(tempfile.mkdtemp()) / "ag-news-model"
    else:
        model = textzoo.load(MODEL, labels=train.label_names)
        output = Path(args.output)

    history = textzoo.finetune(
        model, train, validation_data=test, epochs=2 if args.smoke else None, seed=0, verbose=0
    )
    report = textzoo.evaluate(model, test, verbose=0)
    textzoo.save_pretrained(
        model, output, report=report, history=history, dataset="ag_news", overwrite=True
    )

    card = (output / "README.md").read_text()
    print(card)
    print("files:", ", ".join(sorted(p.name for p in output.iterdir())))

    # The saved directory is the model: same labels, same predictions.
    metadata = json.loads((output / "textzoo.json").read_text())
    reloaded = textzoo.load(output)
    texts = test.texts[:8]
    before = textzoo.predict(model, texts, return_proba=True, top_k=1, verbose=0)
    after = textzoo.predict(reloaded, texts, return_proba=True, top_k=1, verbose=0)
    assert reloaded.labels == metadata["labels"] == train.label_names
    assert [p[0].label for p in before] == [p[0].label for p in after]
    assert np.allclose([p[0].score for p in before], [p[0].score for p in after], atol=1e-5)
    assert "model-index" in card and "ag_news" in card

    if args.repo_id and not args.smoke:
        url = textzoo.push_to_hub(output, args.repo_id, private=args.private)
        print(f"pushed: {url}\nload it anywhere with textzoo.load('hf://{args.repo_id}')")
    return output


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="out/ag-news-model", help="directory to save to")
    parser.add_argument("--repo-id", help="OWNER/NAME on the Hub; push only when given")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("TEXTZOO_SMOKE") == "1",
        help="tiny model, temporary directory, never pushes (also TEXTZOO_SMOKE=1)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
