"""The ``electra`` family: parity with transformers on the committed fixtures, and its checks.

The fixtures (tests/fixtures/hf/electra, see its README) were written by transformers:
``base/`` an ``ElectraModel`` (embedding_size 8 projected to hidden 16, 2 layers),
``classifier/`` an ``ElectraForSequenceClassification`` with 3 labels. No torch here.
Run with ``pytest -s`` to see the measured differences.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfx_textzoo as textzoo
from tfx_textzoo.errors import ArchitectureMismatchError
from tfx_textzoo.families import electra

FIXTURES = Path(__file__).parent / "fixtures" / "hf" / "electra"
DATA = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
LABELS = ["NEG", "NEU", "POS"]
# keras-hub's ElectraBackbone computes its feed-forward GELU with the tanh approximation;
# transformers' ELECTRA ("hidden_act": "gelu") the exact erf form. On these fixtures the
# largest difference that causes in the last hidden state is 5.9e-4, and 1.5e-5 in the
# classifier's probabilities (printed by `pytest -s tests/test_family_electra.py`). With the
# exact GELU swapped into the same backbone the hidden-state difference is 1.3e-6 (float32
# round-off), so every weight is mapped right.
APPROXIMATE_GELU_ATOL = 1e-3
EXACT_ATOL = 1e-4


def model_input(row: dict):
    return (row["text"], row["text_pair"]) if row["kind"] == "pair" else row["text"]


def preprocess(model, row, traced: bool = False) -> dict:
    """The preprocessor's features for one row: eagerly (keras-hub's Python path) or traced
    in a ``tf.function`` (its TensorFlow path, which ``fit``/``predict``/export use)."""
    x = model_input(row)
    x = (tf.constant([x[0]]), tf.constant([x[1]])) if isinstance(x, tuple) else tf.constant([x])
    call = tf.function(model.preprocessor) if traced else model.preprocessor
    features = call(x=x)  # by keyword: a positional tuple is keras-hub's (x, y)
    return {k: np.asarray(v)[0] for k, v in features.items()}


def same_inputs(row) -> bool:
    """Rows whose token ids match transformers' (a truncated pair may differ, see below)."""
    return not (row["kind"] == "pair" and row["truncated"])


@pytest.fixture(scope="module")
def base_model():
    return textzoo.load(
        "electra-small",
        num_classes=3,
        weights=str(FIXTURES / "base"),
        sequence_length=DATA["max_length"],
        allow_architecture_mismatch=True,  # a 2-layer, 16-wide stand-in, not electra-small
    )


@pytest.fixture(scope="module")
def hf_model():
    directory = FIXTURES / "classifier"
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    model = textzoo.registry.get_family("electra").hf_classifier(directory, config, labels=LABELS)
    model.preprocessor.sequence_length = DATA["max_length"]
    return model


# ------------------------------------------------------------------------ parity (a)


@pytest.mark.parametrize("index", range(len(DATA["inputs"])))
def test_token_ids_match_transformers(base_model, index):
    row = DATA["inputs"][index]
    features = preprocess(base_model, row)
    traced = preprocess(base_model, row, traced=True)
    assert {k: v.tolist() for k, v in traced.items()} == {
        k: v.tolist() for k, v in features.items()
    }
    mask = np.asarray(row["attention_mask"], bool)
    assert features["padding_mask"].tolist() == mask.tolist()
    if not same_inputs(row):
        # transformers' fast tokenizer ("longest_first") and keras-hub's round-robin trimmer
        # may give the one spare token to different segments (keras-hub gives it to the
        # first text, as transformers' slow tokenizer: expected.json lists that case).
        ids = features["token_ids"][mask].tolist()
        assert ids[0] == row["input_ids"][0] and ids[-1] == row["input_ids"][int(mask.sum()) - 1]
        assert set(ids) <= set(row["full_input_ids"])
        return
    assert features["token_ids"].tolist() == row["input_ids"]
    assert features["segment_ids"].tolist() == row["token_type_ids"]


def test_normalization_follows_transformers():
    """Full-width letters and digits stay as they are (no NFKC), U+00A0 is a space."""
    tokenizer = electra.hf_tokenizer(FIXTURES / "base")
    vocab = tokenizer.get_vocabulary()
    tokens = [vocab[i] for i in np.asarray(tokenizer("ＦＵＬＬ ß\u00a0ok\u200b")).tolist()]
    assert tokens == ["[UNK]", "[UNK]", "o", "##k"]


# ------------------------------------------------------------------------ parity (b)


def test_backbone_features_match_transformers(base_model):
    worst = _worst_feature_difference(base_model.backbone)
    print(f"\nlargest |keras-hub - transformers| in last_hidden_state: {worst:.2e}")
    assert worst < APPROXIMATE_GELU_ATOL, worst


def test_backbone_features_with_exact_gelu_match_to_round_off():
    """The same weights with the erf GELU: what is left is float32 round-off."""
    backbone = electra.convert_hf_checkpoint(FIXTURES / "base")
    for block in backbone.transformer_layers:
        block._feedforward_intermediate_dense.activation = keras.activations.gelu
    worst = _worst_feature_difference(backbone)
    print(f"\nwith the exact GELU, largest difference in last_hidden_state: {worst:.2e}")
    assert worst < EXACT_ATOL, worst


def _worst_feature_difference(backbone) -> float:
    """Over every input, truncated pairs included: fed transformers' own ids."""
    worst = 0.0
    for row in DATA["inputs"]:
        out = backbone({k: v[None] for k, v in _base_features(row).items()}, training=False)
        got = np.asarray(out["sequence_output"])[0]
        want = np.asarray(row["last_hidden_state"], np.float32)
        mask = np.asarray(row["attention_mask"], bool)
        worst = max(worst, float(np.max(np.abs(got[mask] - want[mask]))))
    return worst


def _base_features(row) -> dict:
    """transformers' own ids, so the model checks do not depend on the tokenizer's."""
    return {
        "token_ids": np.asarray(row["input_ids"], np.int32),
        "segment_ids": np.asarray(row["token_type_ids"], np.int32),
        "padding_mask": np.asarray(row["attention_mask"], np.int32),
    }


def test_converter_reads_the_classifier_checkpoint_backbone_identically():
    """``electra.``-prefixed keys (the classifier) give the same backbone as bare ones."""
    bare = electra.convert_hf_checkpoint(FIXTURES / "base")
    prefixed = electra.convert_hf_checkpoint(FIXTURES / "classifier")
    for a, b in zip(bare.weights, prefixed.weights, strict=True):
        if "pooled_dense" not in a.path:  # keras-hub's pooler: not in the checkpoints
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)


# ------------------------------------------------------------------------ parity (c, d)


def test_hf_classifier_matches_transformers(hf_model):
    assert hf_model.labels == LABELS
    assert hf_model.model_name is None
    assert hf_model.compiled
    worst = 0.0
    for row in DATA["inputs"]:  # transformers' ids, so truncated pairs count too
        probs = np.asarray(hf_model({k: v[None] for k, v in _base_features(row).items()}))[0]
        worst = max(worst, float(np.max(np.abs(probs - row["probabilities"]))))
    print(f"\nlargest |probability difference| of the classifier: {worst:.2e}")
    assert worst < EXACT_ATOL, worst
    texts = [r["text"] for r in DATA["inputs"] if r["kind"] == "text"]
    want = [
        LABELS[int(np.argmax(r["probabilities"]))] for r in DATA["inputs"] if r["kind"] == "text"
    ]
    assert list(textzoo.predict(hf_model, texts, verbose=0)) == want


def test_hf_classifier_through_load():
    """``textzoo.load(dir)`` of the fine-tuned checkpoint picks this family by model_type."""
    model = textzoo.load(str(FIXTURES / "classifier"))
    assert isinstance(model, electra.ElectraClassifier)
    assert model.labels == LABELS and model.model_name is None
    assert model.preprocessor.sequence_length == 64  # the fixture's max_position_embeddings
    worst = 0.0
    for row in DATA["inputs"]:
        if not row["truncated"]:  # from the raw strings (here up to 64 tokens, not 16)
            features = preprocess(model, row, traced=True)
            probs = np.asarray(model({k: v[None] for k, v in features.items()}, training=False))
            worst = max(worst, float(np.max(np.abs(probs[0] - row["probabilities"]))))
    print(f"\nload(dir): largest |probability difference| from raw strings: {worst:.2e}")
    assert worst < EXACT_ATOL, worst
    texts = [r["text"] for r in DATA["inputs"] if r["kind"] == "text"]
    want = [
        LABELS[int(np.argmax(r["probabilities"]))] for r in DATA["inputs"] if r["kind"] == "text"
    ]
    assert list(textzoo.predict(model, texts, verbose=0)) == want


def test_hf_classifier_save_pretrained_and_load(hf_model, tmp_path):
    texts = [r["text"] for r in DATA["inputs"] if r["kind"] == "text"]
    expected = textzoo.evaluation.predict_proba(hf_model, texts)
    out = textzoo.save_pretrained(hf_model, tmp_path / "saved")
    restored = textzoo.load(str(out))
    assert isinstance(restored, electra.ElectraClassifier)
    assert restored.labels == LABELS and restored.model_name is None
    assert isinstance(restored.preprocessor.tokenizer, electra.ElectraWordPieceTokenizer)
    assert restored.preprocessor.tokenizer.do_lower_case
    np.testing.assert_allclose(
        textzoo.evaluation.predict_proba(restored, texts), expected, atol=1e-6
    )


# ------------------------------------------------------------------------ weights=DIR (e)


def test_base_checkpoint_loads_into_a_catalog_name(base_model):
    assert isinstance(base_model, electra.ElectraClassifier)
    assert base_model.model_name == "electra-small"
    assert base_model.architecture_overrides["num_layers"] == 2
    probs = base_model.predict(["The quick brown fox", "a"], verbose=0)
    assert probs.shape == (2, 3)
    pair = (np.array(["Café Déjà-vu", "a"]), np.array(["a", "The quick brown fox"]))
    pair_probs = base_model.predict(pair, verbose=0)  # a tuple of two text arrays: pairs
    assert pair_probs.shape == (2, 3)
    features = base_model.preprocessor(x=(tf.constant(pair[0]), tf.constant(pair[1])))
    np.testing.assert_allclose(pair_probs, np.asarray(base_model(features)), atol=1e-6)


def test_base_checkpoint_of_another_architecture_is_refused():
    with pytest.raises(ArchitectureMismatchError, match="allow_architecture_mismatch"):
        textzoo.load("electra-base", num_classes=2, weights=str(FIXTURES / "base"))


def test_converter_refuses_what_keras_hub_cannot_compute(tmp_path):
    directory = tmp_path / "relu"
    shutil.copytree(FIXTURES / "base", directory)
    config = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**config, "hidden_act": "relu"}))
    with pytest.raises(ValueError, match="hidden_act 'relu'"):
        electra.convert_hf_checkpoint(directory)
    (directory / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))
    with pytest.raises(ValueError, match="not 'electra'"):
        electra.convert_hf_checkpoint(directory)


# ------------------------------------------------------------------------ sizes, checks


def test_count_params_is_exact_for_full_size_electra_base():
    model = textzoo.load("electra-base", num_classes=4, weights=None)
    info = textzoo.get_model_info("electra-base")
    assert model.count_params() == info["params"] + 2 * 769
    assert model.count_params() == electra.count_params(info["architecture"], 4)


@pytest.mark.parametrize(
    ("name", "preset_params"),
    # keras_hub.models.ElectraBackbone.presets[...]["metadata"]["params"] (keras-hub 0.32)
    [("electra-small", 13_548_800), ("electra-base", 109_482_240), ("electra-large", 335_141_888)],
)
def test_count_params_agrees_with_keras_hub_presets(name, preset_params):
    import keras_hub

    spec = textzoo.registry.get_spec(name)
    preset = spec.sources[0].uri
    assert keras_hub.models.ElectraBackbone.presets[preset]["metadata"]["params"] == preset_params
    h = spec.architecture["hidden_dim"]
    head = (h * h + h) + (2 * h + 2)
    assert electra.count_params(spec.architecture, 2) == preset_params + head


def test_layer_groups_and_frozen_pooler():
    model = textzoo.load("electra-small", num_classes=2, weights=None, **_tiny())
    assert not model.backbone.get_layer("pooled_dense").trainable
    groups = model.layer_groups()
    assert len(groups) == 1 + 1 + 1  # embeddings (with the projection), 1 layer, head
    assert any("embeddings_projection" in v.path for v in groups[0])
    assert {v.path for v in groups[-1]} == {v.path for v in model.trainable_variables[-4:]}


def test_argument_checks():
    with pytest.raises(TypeError, match="Unknown argument"):
        textzoo.load("electra-small", num_classes=2, weights=None, num_layer=1)
    with pytest.raises(textzoo.errors.InvalidArgumentError, match="num_heads"):
        textzoo.load("electra-small", num_classes=2, weights=None, **{**_tiny(), "num_heads": 3})
    with pytest.raises(textzoo.errors.InvalidArgumentError, match="sequence_length"):
        textzoo.load("electra-small", num_classes=2, weights=None, sequence_length=64, **_tiny())
    with pytest.raises(textzoo.errors.InvalidArgumentError, match="pooling"):
        textzoo.load("electra-small", num_classes=2, weights=None, pooling="pooler", **_tiny())
    with pytest.raises(ValueError, match="only apply to a randomly initialised model"):
        textzoo.load("electra-small", num_classes=2, weights=str(FIXTURES / "base"), num_layers=1)


def test_non_string_input_is_refused():
    model = textzoo.load("electra-small", num_classes=2, weights=None, **_tiny())
    with pytest.raises(TypeError, match="raw strings"):
        model.preprocessor(tf.constant([1, 2]))


def test_mean_pooling_and_save_load(tmp_path):
    model = textzoo.load("electra-small", num_classes=2, weights=None, pooling="mean", **_tiny())
    expected = model.predict(["the team won"], verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert restored.pooling == "mean"
    np.testing.assert_allclose(restored.predict(["the team won"], verbose=0), expected, atol=1e-6)


def _tiny() -> dict:
    return {**electra.TINY_CONFIG, "vocabulary": electra.TINY_VOCABULARY}


# ------------------------------------------------------------------------ other sources


def test_weights_auto_offline_lists_both_catalog_sources():
    with pytest.raises(textzoo.WeightsNotFoundError) as err:
        textzoo.load("electra-small", num_classes=2)
    assert "electra_small_discriminator_uncased_en" in str(err.value)
    assert "hf://google/electra-small-discriminator" in str(err.value)


def test_a_keras_hub_preset_directory_loads_with_transformers_normalization(tmp_path):
    """The keras_hub source: backbone as saved; tokenizer rebuilt to lower-case as HF."""
    import keras_hub

    backbone = electra.convert_hf_checkpoint(FIXTURES / "base")
    vocab = (FIXTURES / "base" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    backbone.save_to_preset(str(tmp_path / "preset"))
    keras_hub.models.ElectraTokenizer(vocab, lowercase=True).save_to_preset(
        str(tmp_path / "preset")
    )
    model = textzoo.load(
        "electra-small",
        num_classes=3,
        weights=str(tmp_path / "preset"),
        sequence_length=DATA["max_length"],
        allow_architecture_mismatch=True,
    )
    tokenizer = model.preprocessor.tokenizer
    assert isinstance(tokenizer, electra.ElectraWordPieceTokenizer)
    assert (tokenizer.do_lower_case, tokenizer.strip_accents, tokenizer.lowercase) == (
        True,
        True,
        False,
    )
    for row in DATA["inputs"]:
        if same_inputs(row):
            assert preprocess(model, row)["token_ids"].tolist() == row["input_ids"]
    for a, b in zip(model.backbone.weights, backbone.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)


def test_a_sharded_checkpoint_converts_like_a_single_file(tmp_path):
    from safetensors.numpy import load_file, save_file

    directory = tmp_path / "sharded"
    shutil.copytree(FIXTURES / "base", directory)
    tensors = load_file(str(directory / "model.safetensors"))
    (directory / "model.safetensors").unlink()
    names = sorted(tensors)
    shards = {
        "model-00001-of-00002.safetensors": names[::2],
        "model-00002-of-00002.safetensors": names[1::2],
    }
    for file, keys in shards.items():
        save_file({k: tensors[k] for k in keys}, str(directory / file))
    index = {"weight_map": {k: file for file, keys in shards.items() for k in keys}}
    (directory / "model.safetensors.index.json").write_text(json.dumps(index))
    sharded = electra.convert_hf_checkpoint(directory)
    single = electra.convert_hf_checkpoint(FIXTURES / "base")
    for a, b in zip(sharded.weights, single.weights, strict=True):
        if "pooled_dense" not in a.path:
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)
