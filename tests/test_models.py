"""Every registered model: builds tiny, predicts on strings, trains a step, saves/loads."""

import numpy as np
import pytest
from helpers import check_family, check_model, tiny_model

import tfx_textzoo as textzoo
from tfx_textzoo.families.base import ZooClassifier


def _first_name_of_each_family() -> list[str]:
    names = {}
    for name in textzoo.list_models():
        spec = textzoo.registry.get_spec(name)
        if spec.name == name:  # canonical names only
            names.setdefault(spec.family, name)
    return sorted(names.values())


def _canonical_names() -> list[str]:
    """Every catalog entry once (aliases resolve to these; tests/test_registry.py checks them)."""
    return [n for n in textzoo.list_models() if textzoo.registry.get_spec(n).name == n]


@pytest.mark.parametrize("name", _canonical_names())
def test_every_name_builds_and_predicts_from_strings(name):
    model = tiny_model(name)  # built from its family's tiny_config and tiny_tokenizer
    assert isinstance(model, ZooClassifier)
    assert model.model_name == textzoo.registry.get_spec(name).name
    assert model.compiled and model.preprocessor is not None
    probs = textzoo.evaluation.predict_proba(model, ["The team won the final", "Stocks fell"])
    assert probs.shape == (2, 4) and np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", _first_name_of_each_family())
def test_every_model(name, tmp_path):
    """Fit a step on strings, .keras save/load identical: one name per family (all: slow)."""
    model = tiny_model(name)
    check_model(model, tmp_path)


@pytest.mark.parametrize("name", _first_name_of_each_family())
def test_every_family_end_to_end(name, tmp_path):
    """Finetune (both phases, cached features, layer decay), save/load, export: per family."""
    check_family(tiny_model(name, labels=["W", "S", "B", "T"], num_classes=None), tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", [n for n in _canonical_names() if n not in _first_name_of_each_family()]
)
def test_every_name_end_to_end(name, tmp_path):
    """Both checks for every other canonical name (its tokenizer settings and pooling differ)."""
    (tmp_path / "keras").mkdir()
    check_model(tiny_model(name), tmp_path / "keras")
    check_family(tiny_model(name, labels=["W", "S", "B", "T"], num_classes=None), tmp_path)


def test_labels_are_stored_and_kept(tmp_path):
    model = tiny_model("scratch-small", num_classes=None, labels=["W", "S", "B", "T"])
    assert model.labels == ["W", "S", "B", "T"]
    check_model(model, tmp_path)


@pytest.mark.parametrize("name", ["bert-tiny", "bert-base-uncased", "all-minilm-l6-v2"])
def test_uncased_models_load_random_init_with_shipped_vocabulary(name):
    # No network and no overrides: the uncased vocabulary ships with the package.
    model = textzoo.load(name, num_classes=2, weights=None, num_layers=1)
    assert model.preprocessor.tokenizer.vocabulary_size() == 30522
    probs = model.predict(["The team won the final"], verbose=0)
    assert probs.shape == (1, 2)


def test_small_bert_l4_full_size_random_init():
    model = textzoo.load("small-bert-L4", num_classes=4, weights=None)
    backbone = model.backbone
    assert (backbone.num_layers, backbone.hidden_dim, backbone.num_heads) == (4, 128, 2)
    assert model.count_params() == textzoo.get_model_info("small-bert-L4")["params"] + 2 * 129
    assert model.predict(["Stocks rallied on Friday", "The team won"], verbose=0).shape == (2, 4)


def test_scratch_small_is_the_lessons_architecture():
    model = textzoo.load("scratch-small", num_classes=4)
    backbone = model.backbone
    assert backbone.vocabulary_size == 20000
    assert backbone.embedding_dim == 32
    assert backbone.num_heads == 2 and backbone.intermediate_dim == 32
    assert backbone.num_layers == 1
    assert model.get_layer("head_hidden").units == 20
    assert model.get_layer("probabilities").units == 4
    info = textzoo.get_model_info("scratch-small")
    assert model.count_params() == info["params"] + 2 * 21


def test_scratch_masks_padding():
    """Pooled features do not depend on how much padding follows the text."""
    import numpy as np

    model = textzoo.load("scratch-tiny", num_classes=3, sequence_length=16)
    model.preprocessor.adapt(["alpha beta gamma", "delta"])
    ids = model.preprocessor(["alpha beta"]).numpy()
    assert ids[0, 2:].tolist() == [0] * 14
    long = model.backbone(ids)["pooled_output"].numpy()
    short = model.backbone(ids[:, :3])["pooled_output"].numpy()
    np.testing.assert_allclose(long, short, atol=1e-5)
    other = model.backbone(np.array([[ids[0, 0], 0, 0]]))["pooled_output"].numpy()
    assert not np.allclose(other, short, atol=1e-3)  # the real tokens do matter
