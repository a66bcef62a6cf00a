"""The ``[CLS]`` shortcut of the RoBERTa, XLM-R, DistilBERT, ELECTRA and ALBERT families.

Each family's ``pooled_features`` reruns its backbone's embeddings and layers, the last
layer at position 0 only; ``ZooClassifier.call`` then runs the head's layers. The
reference is the model's functional graph (the same layers wired by keras-hub and the
family's ``__init__``): the same probabilities, the same gradients, and the graph
whenever the head reads more than the first position (mean pooling).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import TEXTS, loss_and_gradients, preprocessed, reference_graph, tiny_model

MIXED = ["short", *TEXTS, "a much longer text than the others, so that the rest are padded"]

#: (id, catalog name, load overrides): one catalog name per family, plus the variants
#: that take another path through ``pooled_features``.
CASES = [
    ("bert-pooler", "bert-tiny", {}),
    ("bert-first", "bert-tiny", {"pooling": "first"}),
    ("roberta", "roberta-base", {}),
    ("xlm-roberta", "xlm-roberta-base", {}),
    ("distilbert", "distilbert-base-uncased", {}),
    ("electra-projection", "electra-small", {}),  # tiny: embedding_dim 8 < hidden_dim 16
    ("electra-no-projection", "electra-small", {"embedding_dim": 16}),
    ("albert-pooler", "albert-base-v2", {}),
    ("albert-cls", "albert-base-v2", {"pooling": "cls"}),
    # Two groups of two inner layers, each group run twice: 8 calls of 4 shared layers.
    (
        "albert-groups",
        "albert-base-v2",
        {"num_layers": 4, "num_groups": 2, "num_inner_repetitions": 2},
    ),
]
PARAMS = [pytest.param(name, overrides, id=case) for case, name, overrides in CASES]
#: One name per family, for the checks that do not depend on the variant.
FAMILY_NAMES = [
    "roberta-base",
    "xlm-roberta-base",
    "distilbert-base-uncased",
    "electra-small",
    "albert-base-v2",
]


def _model(name, **overrides):
    return tiny_model(name, num_classes=3, **{"num_layers": 2, **overrides})


_graph = reference_graph
_gradients = loss_and_gradients


def _inputs(model, texts=MIXED):
    return preprocessed(model, texts)


@pytest.mark.parametrize(("name", "overrides"), PARAMS)
def test_shortcut_gives_the_graphs_probabilities(name, overrides):
    model = _model(name, **overrides)
    x = _inputs(model)
    padding = keras.ops.convert_to_numpy(x["padding_mask"])
    assert not padding.all(), "the batch must have padding"
    features = model.pooled_features(x)
    assert features is not None
    assert tuple(features.shape) == (len(MIXED), model.features_output.shape[-1])
    # The features too: random tiny models' probabilities are near uniform, so they
    # alone would miss small errors (a wrong order of ALBERT's shared layers moves them
    # by 1e-7, the features by 1e-5).
    graph_features = keras.Model(model.input, model.features_output)(x, training=False)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(features),
        keras.ops.convert_to_numpy(graph_features),
        rtol=1e-6,
        atol=1e-6,
    )
    fast = keras.ops.convert_to_numpy(model(x, training=False))
    reference = keras.ops.convert_to_numpy(_graph(model)(x, training=False))
    assert fast.shape == (len(MIXED), 3)
    np.testing.assert_allclose(fast, reference, atol=1e-6)


@pytest.fixture
def floatx(request):
    """Build the test's model with ``request.param`` as Keras' float type (then restore it)."""
    # Keras caches its global dtype policy (made from floatx on first use): set both.
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(request.param)
    keras.config.set_dtype_policy(request.param)
    try:
        yield request.param
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


# float64: the shortcut must give the graph's gradients to rtol 1e-5 (it gives them bit for
# bit: the per-row reductions run in the same order). float32: the matrix products take
# other blocked paths for one row than for the full sequence, so the features differ in the
# last bit (2e-7) and small gradient entries, sums with cancellation, by up to ~5e-5 of
# their tensor's largest entry; they are held to 1e-3 of it.
@pytest.mark.parametrize("floatx", ["float64", "float32"], indirect=True)
@pytest.mark.parametrize(("name", "overrides"), PARAMS)
def test_shortcut_gives_the_graphs_gradients(name, overrides, floatx):
    model = _model(name, **overrides)
    assert all(v.dtype == floatx for v in model.trainable_variables)
    x = _inputs(model)
    y = tf.constant(np.arange(len(MIXED)) % 3)
    loss, grads = _gradients(model, lambda x: model(x, training=False), x, y)
    ref_loss, ref_grads = _gradients(model, lambda x: _graph(model)(x, training=False), x, y)
    assert loss == pytest.approx(ref_loss, rel=1e-6)
    block_variables = {
        id(v) for layer in model.transformer_layers() for v in layer.trainable_variables
    }
    checked = set()
    for variable, got, want in zip(model.trainable_variables, grads, ref_grads, strict=True):
        if want is None:
            assert got is None, variable.path
            continue
        assert got is not None, f"{variable.path} has no gradient through the shortcut"
        got, want = (keras.ops.convert_to_numpy(tf.convert_to_tensor(g)) for g in (got, want))
        # Key biases have true-zero gradients (softmax ignores a constant per query): noise.
        atol = 1e-9 if floatx == "float64" else 1e-9 + 1e-3 * float(np.abs(want).max())
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol, err_msg=variable.path)
        checked.add(id(variable))
    assert block_variables <= checked, "every transformer layer's variables get gradients"
    head = {id(v) for layer in model.head_layers for v in layer.trainable_variables}
    assert head and head <= checked, "the head's variables get gradients"


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_head_layers_are_the_graphs_head(name):
    model = _model(name)
    head = list(model.head_layers)
    assert head, "head_layers is set"
    # The graph's last layers, in order, are the head (the features feed the first).
    assert [layer.name for layer in model.layers[-len(head) :]] == [layer.name for layer in head]
    assert all(a is b for a, b in zip(model.layers[-len(head) :], head, strict=True))


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_mean_pooling_runs_the_graph(name):
    model = _model(name, pooling="mean")
    x = _inputs(model)
    assert model.pooled_features(x) is None
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(x, training=False)),
        keras.ops.convert_to_numpy(_graph(model)(x, training=False)),
    )


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_call_and_predict_take_the_shortcut(name):
    model = _model(name)
    calls = []
    real = model.pooled_features

    def recording(inputs, training=None):
        calls.append(training)
        return real(inputs, training=training)

    model.pooled_features = recording
    x = _inputs(model)
    probs = keras.ops.convert_to_numpy(model(x))
    assert calls, "model(x) did not run pooled_features"
    calls.clear()
    predicted = model.predict(MIXED, verbose=0)
    assert calls, "predict did not run pooled_features"
    np.testing.assert_allclose(predicted, probs, atol=1e-6)


@pytest.mark.parametrize("name", ["roberta-base", "albert-base-v2"])
def test_multi_label_shortcut_gives_the_graphs_probabilities(name):
    model = _model(name, labels=["a", "b", "c"], multi_label=True)
    x = _inputs(model)
    assert model.pooled_features(x) is not None
    fast = keras.ops.convert_to_numpy(model(x, training=False))
    reference = keras.ops.convert_to_numpy(_graph(model)(x, training=False))
    assert not np.allclose(fast.sum(axis=1), 1.0), "sigmoid outputs, not softmax"
    np.testing.assert_allclose(fast, reference, atol=1e-6)
