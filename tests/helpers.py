"""Checks every registered model passes, at tiny size and without network."""

from __future__ import annotations

import numpy as np

import tfx_textzoo as textzoo

TEXTS = [
    "Stocks rallied on Friday as investors cheered earnings",
    "The team won the final after extra time",
    "New chip doubles battery life of phones",
    "Leaders met to discuss the peace treaty",
]
LABELS = [2, 1, 3, 0]
TINY_VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "team",
    "won",
    "stocks",
    "on",
    "friday",
    "new",
    "chip",
    "##s",
    "final",
    "peace",
    "a",
    "of",
]

# Per-family overrides that make any entry tiny; applied with weights=None.
TINY_OVERRIDES = {
    "bert": dict(
        num_layers=1,
        hidden_dim=8,
        num_heads=2,
        intermediate_dim=16,
        max_sequence_length=32,
        vocabulary=TINY_VOCAB,
    ),
    "scratch": dict(
        vocabulary_size=64, embedding_dim=8, num_heads=2, intermediate_dim=8, hidden_units=4
    ),
}


def tiny_model(name: str, num_classes: int = 4, **kwargs):
    """A tiny, randomly initialised model of ``name``'s family, ready for strings."""
    family = textzoo.registry.get_spec(name).family
    kwargs = {**TINY_OVERRIDES.get(family, {}), "sequence_length": 16, **kwargs}
    model = textzoo.load(name, num_classes=num_classes, weights=None, **kwargs)
    if hasattr(model.preprocessor, "adapt"):
        model.preprocessor.adapt(TEXTS)
    return model


def check_model(model, tmp_path, num_classes: int = 4) -> None:
    """Build, compiled, predict on strings, fit one step, save/load identical outputs."""
    import keras

    assert isinstance(model, keras.Model)
    assert model.compiled, "load() must return a compiled model"
    assert model.preprocessor is not None
    probs = model.predict(TEXTS, verbose=0)
    assert probs.shape == (len(TEXTS), num_classes)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(probs).all()

    before = [w.copy() for w in model.get_weights()]
    history = model.fit(np.array(TEXTS), np.array(LABELS), batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    changed = [not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)]
    assert any(changed), "one training step must change the weights"

    expected = model.predict(TEXTS, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(restored.predict(TEXTS, verbose=0), expected, atol=1e-6)
    assert getattr(restored, "labels", None) == getattr(model, "labels", None)
    assert restored.model_name == model.model_name
