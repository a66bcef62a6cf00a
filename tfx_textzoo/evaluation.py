"""Predictions in input order through the fast length-sorted pipeline."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from tfx_textzoo import preprocessing
from tfx_textzoo.training import core_model


def predict_proba(
    model: keras.Model, texts: Sequence[str], batch_size: int = 64, verbose: int = 0
) -> np.ndarray:
    """Class probabilities for ``texts``, shape ``(len(texts), num_classes)``, in input order.

    Texts are tokenized once and run in batches sorted by length, each padded only as
    far as its bucket; rows are put back in the order of ``texts``.

    Example:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.evaluation import predict_proba
        >>> model = textzoo.load("bert-tiny", num_classes=3, weights=None, num_layers=1)
        >>> predict_proba(model, ["one text", "and another, longer text"]).shape
        (2, 3)
    """
    texts = list(texts)
    if not texts:
        raise ValueError("predict_proba needs at least one text")
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"texts must be strings; items {bad[:10]} are {type(texts[bad[0]])}")
    tok = preprocessing.tokenize(model, texts)
    dataset, order = preprocessing.sorted_dataset(tok, batch_size, with_labels=False)
    sorted_probs = core_model(model, cached_as="predict").predict(dataset, verbose=verbose)
    probs = np.empty_like(sorted_probs)
    probs[order] = sorted_probs
    return probs
