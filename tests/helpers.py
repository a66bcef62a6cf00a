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


def tiny_overrides(family: str) -> dict:
    """The ``load`` overrides that make any entry of ``family`` tiny: read from the family."""
    registered = textzoo.registry.get_family(family)
    return {**registered.tiny_config, **registered.tiny_tokenizer}


# Per-family overrides that make any entry tiny; applied with weights=None. Each family
# provides its own (``tiny_config`` and ``tiny_tokenizer`` in its registration).
TINY_OVERRIDES = {family: tiny_overrides(family) for family in textzoo.registry.list_families()}
# The tiny WordPiece vocabulary of the bert family (for tests that write BERT files).
TINY_VOCAB = list(TINY_OVERRIDES["bert"]["vocabulary"])


def tiny_model(name: str, num_classes: int = 4, **kwargs):
    """A tiny, randomly initialised model of ``name``'s family, ready for strings."""
    family = textzoo.registry.get_spec(name).family
    kwargs = {**tiny_overrides(family), "sequence_length": 16, **kwargs}
    model = textzoo.load(name, num_classes=num_classes, weights=None, **kwargs)
    model.prepare_tokenizer(TEXTS)  # the contract: a tokenizer that learns does it here
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


def check_family(model, tmp_path, decay: float = 0.5) -> None:
    """The heavier checks, once per family: the contract end to end.

    Finetune both phases (cached features in the frozen one) with layer-wise decay; every
    trainable variable gets the multiplier of its layer group; save_pretrained -> load and
    export -> plain ``tf.saved_model.load`` give identical probabilities.
    """
    import tensorflow as tf

    from tfx_textzoo.families.base import ZooClassifier
    from tfx_textzoo.training import layer_decay_multipliers

    assert isinstance(model, ZooClassifier)
    groups = model.layer_groups()
    assert len(groups) >= 3, "embeddings, at least one transformer layer, top"
    assert all(groups), "no empty layer group"
    grouped = {id(v) for group in groups for v in group}
    assert grouped == {id(v) for v in model.trainable_variables}, "every variable in a group"
    multipliers = layer_decay_multipliers(model, decay)
    assert set(multipliers) == {v.path for v in model.trainable_variables}
    top = len(groups) - 1
    for i, group in enumerate(groups):
        for variable in group:
            assert multipliers[variable.path] == decay ** (top - i), variable.path

    texts = [t + " and more" * i for i in range(4) for t in TEXTS]
    labels = LABELS * 4
    history = textzoo.finetune(
        model,
        (texts, labels),
        epochs=2,
        freeze_epochs=1,
        batch_size=4,
        layer_decay=decay,
        seed=0,
        verbose=0,
    )
    phases = [r["phase"] for r in history.epochs]
    if model.has_pretrained_backbone:
        assert phases == ["frozen", "full"]
        assert "feature_cache" in history.timings, "the frozen phase caches features"
    else:
        assert phases == ["full", "full"]
    assert all(np.isfinite(r["loss"]) for r in history.epochs)

    expected = textzoo.evaluation.predict_proba(model, TEXTS)
    textzoo.save_pretrained(model, tmp_path / "saved")
    restored = textzoo.load(str(tmp_path / "saved"))
    assert isinstance(restored, ZooClassifier)
    assert (restored.labels, restored.model_name) == (model.labels, model.model_name)
    np.testing.assert_allclose(
        textzoo.evaluation.predict_proba(restored, TEXTS), expected, atol=1e-6
    )
    path = textzoo.export(model, tmp_path / "exported")
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    served = serve(text=tf.constant(TEXTS))["probabilities"].numpy()
    np.testing.assert_allclose(served, expected, atol=1e-5)


def reference_graph(model):
    """The model's functional graph as a plain Keras model: the reference computation."""
    import keras

    return keras.Model(model.input, model.output)


def preprocessed(model, texts):
    """The model's preprocessor outputs (the features, without labels) for ``texts``."""
    import tensorflow as tf

    x = model.preprocessor(tf.constant(texts))
    return x[0] if isinstance(x, tuple) else x


def loss_and_gradients(model, forward, x, y):
    """Sparse cross-entropy of ``forward(x)`` and its gradients for the trainable weights."""
    import keras
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, forward(x)))
    return float(loss), tape.gradient(loss, model.trainable_variables)
