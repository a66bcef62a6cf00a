"""The classifier's shortcut: the last layer runs only where the head reads (``[CLS]``).

``ZooClassifier.call`` runs a family's ``pooled_features`` when it gives one; these tests
hold it to the functional graph it replaces (the same layers wired as keras-hub wires
them): the same probabilities and the same gradients.
"""

from __future__ import annotations

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf
from helpers import loss_and_gradients, preprocessed, reference_graph

from tests.helpers import TEXTS, tiny_model
from tfx_textzoo.families.common import first_position_encoder_output

MIXED = ["short", *TEXTS, "a much longer text than the others, so that the rest are padded"]


_graph = reference_graph
_gradients = loss_and_gradients


def _inputs(model, texts=MIXED):
    return preprocessed(model, texts)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_first_position_output_is_the_full_layers_first_row(normalize_first):
    layer = keras_hub.layers.TransformerEncoder(
        intermediate_dim=16, num_heads=2, normalize_first=normalize_first
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 8)).astype("float32")
    mask = np.array([[1] * 7, [1, 1, 1, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0]])
    full = keras.ops.convert_to_numpy(layer(x, padding_mask=mask))[:, 0]
    first = keras.ops.convert_to_numpy(first_position_encoder_output(layer, x, mask))
    assert first.shape == (3, 8)
    np.testing.assert_allclose(first, full, atol=1e-5)
    # Padding is masked: changing padded positions changes nothing.
    x2 = x.copy()
    x2[1, 3:] = 100.0
    again = keras.ops.convert_to_numpy(first_position_encoder_output(layer, x2, mask))
    np.testing.assert_allclose(again[1], first[1], atol=1e-5)


@pytest.mark.parametrize("pooling", ["cls", "first"])
def test_bert_shortcut_gives_the_graphs_probabilities_and_gradients(pooling):
    model = tiny_model("bert-tiny", num_classes=3, num_layers=3, pooling=pooling)
    x = _inputs(model)
    assert model.pooled_features(x) is not None
    fast = keras.ops.convert_to_numpy(model(x, training=False))
    reference = keras.ops.convert_to_numpy(_graph(model)(x, training=False))
    assert fast.shape == (len(MIXED), 3)
    np.testing.assert_allclose(fast, reference, atol=1e-6)

    y = tf.constant(np.arange(len(MIXED)) % 3)
    loss, grads = _gradients(model, lambda x: model(x, training=False), x, y)
    ref_loss, ref_grads = _gradients(model, lambda x: _graph(model)(x, training=False), x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-6)
    checked = 0
    for variable, got, want in zip(model.trainable_variables, grads, ref_grads, strict=True):
        if want is None:
            assert got is None, variable.path
            continue
        assert got is not None, f"{variable.path} has no gradient through the shortcut"
        got, want = tf.convert_to_tensor(got).numpy(), tf.convert_to_tensor(want).numpy()
        # float32 sums in another order: within 1e-3 of the variable's largest gradient
        # (embedding rows sum many cancelling terms; key biases have true-zero
        # gradients, seen as 1e-12 noise). In float64 the two are bit-identical:
        # tests/test_pooled_features_families.py checks that at rtol 1e-5.
        scale = max(float(np.abs(want).max()), 1e-7)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-3 * scale, err_msg=variable.path)
        checked += 1
    assert checked >= 3 * 16, "every transformer layer's variables get gradients"


def test_bert_mean_pooling_runs_the_graph():
    model = tiny_model("bert-tiny", num_classes=3, num_layers=2, pooling="mean")
    x = _inputs(model)
    assert model.pooled_features(x) is None
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(x, training=False)),
        keras.ops.convert_to_numpy(_graph(model)(x, training=False)),
    )


def test_call_predict_and_fit_take_the_shortcut(tmp_path):
    model = tiny_model("bert-tiny", num_classes=4, num_layers=2)
    calls = []
    real = model.pooled_features

    def recording(inputs, training=None):
        calls.append(training)
        return real(inputs, training=training)

    model.pooled_features = recording
    probs = model.predict(MIXED, verbose=0)
    assert calls, "predict did not run pooled_features"
    np.testing.assert_allclose(probs, _graph(model).predict(_inputs(model), verbose=0), atol=1e-6)
    calls.clear()
    model.fit(np.array(TEXTS), np.array([0, 1, 2, 3]), batch_size=4, epochs=1, verbose=0)
    assert calls, "fit did not run pooled_features"

    del model.pooled_features
    probs = model.predict(MIXED, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.pooled_features(_inputs(loaded)) is not None
    np.testing.assert_allclose(loaded.predict(MIXED, verbose=0), probs, atol=1e-6)


def test_finetune_and_predict_graphs_run_the_shortcut():
    from tfx_textzoo.inference import core_model, traced_forward

    model = tiny_model("bert-tiny", num_classes=3, num_layers=2)
    x = {k: tf.cast(v, "int32") for k, v in _inputs(model).items()}
    core = core_model(model)  # what finetune trains and predict runs
    assert model.backbone not in core.layers, "the core runs the shortcut, not the backbone"
    last = model.backbone.transformer_layers[-1]
    assert last not in core.layers and last._feedforward_intermediate_dense in core.layers
    assert len(core.trainable_variables) == len(model.trainable_variables)
    reference = keras.ops.convert_to_numpy(_graph(model)(x, training=False))
    got = core(x, training=False)
    got = keras.ops.convert_to_numpy(got[0] if isinstance(got, list) else got)
    np.testing.assert_allclose(got, reference, atol=1e-6)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(traced_forward(model)(x)), reference, atol=1e-6
    )
    features = keras.Model(model.input, model.features_output)(x, training=False)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(traced_forward(model, "features")(x)),
        keras.ops.convert_to_numpy(features),
        atol=1e-6,
    )
