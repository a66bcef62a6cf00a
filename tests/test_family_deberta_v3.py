"""The deberta-v3 family: parity with transformers' DeBERTa-v2/v3 on the tiny fixtures.

The fixtures (tests/fixtures/hf/deberta-v3) were written by transformers 4.57.6
(DebertaV2Model / DebertaV2ForSequenceClassification, v3 settings: relative attention with
8 log buckets over 16 tokens, share_att_key, p2c|c2p, norm_rel_ebd layer_norm) and hold its
outputs; no torch or transformers here. Run with ``pytest -s`` to see the measured numbers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo.errors import ArchitectureMismatchError
from tfx_textzoo.families import deberta_v3, deberta_v3_convert
from tfx_textzoo.families.base import ZooClassifier

FIXTURES = Path(__file__).parent / "fixtures" / "hf" / "deberta-v3"
# keras-hub computes what transformers does at every real token (measured: 9.5e-7 on
# last_hidden_state, 1.2e-7 on probabilities); padding positions differ (transformers
# zeroes their embeddings, keras-hub does not) and are not compared: no head reads them.
ATOL = 1e-4
# keras-hub's preset metadata ("params", the backbone only): deberta_v3_presets.py.
KERAS_HUB_PARAMS = {
    "deberta-v3-xsmall": 70682112,
    "deberta-v3-small": 141304320,
    "deberta-v3-base": 183831552,
    "deberta-v3-large": 434012160,
    "mdeberta-v3-base": 278218752,
}


def expected() -> dict:
    return json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


def rows(kind: str | None = None) -> list[dict]:
    return [r for r in expected()["inputs"] if kind is None or r["kind"] == kind]


def preprocess(model, row):
    import tensorflow as tf

    if row["kind"] == "pair":
        # By keyword: a positional tuple is taken by keras-hub as (x, y), text and label.
        features = model.preprocessor(
            x=(tf.constant([row["text"]]), tf.constant([row["text_pair"]]))
        )
    else:
        features = model.preprocessor(tf.constant([row["text"]]))
    return {k: np.asarray(v)[0] for k, v in features.items()}


@pytest.fixture(scope="module")
def base_model():
    return textzoo.load(
        "deberta-v3-base",
        num_classes=3,
        weights=str(FIXTURES / "base"),
        sequence_length=expected()["max_length"],
        allow_architecture_mismatch=True,  # a 2-layer, 16-wide stand-in
    )


@pytest.fixture(scope="module")
def classifier():
    directory = FIXTURES / "classifier"
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    family = textzoo.registry.get_family("deberta-v3")
    model = family.hf_classifier(directory, config, labels=["NEG", "NEU", "POS"])
    model.preprocessor.sequence_length = expected()["max_length"]  # as transformers ran
    return model


# ------------------------------------------------------------------ tokenizer


@pytest.mark.parametrize("index", range(10))
def test_token_ids_match_transformers(base_model, index):
    row = expected()["inputs"][index]
    features = preprocess(base_model, row)
    mask = np.asarray(row["attention_mask"], bool)
    assert set(features) == {"token_ids", "padding_mask"}  # no token types in DeBERTa-v3
    assert features["padding_mask"].tolist() == mask.tolist()
    if row["kind"] == "pair" and row["truncated"]:
        # transformers' fast tokenizer truncates "longest_first", keras-hub round-robin:
        # the spare token may go to the other segment. The rest must agree.
        ids = features["token_ids"][mask].tolist()
        assert ids[0] == 1 and ids[-1] == 2 and ids.count(2) == 2  # [CLS] a [SEP] b [SEP]
        assert set(ids) <= set(row["full_input_ids"])
        return
    assert features["token_ids"].tolist() == row["input_ids"]


def test_mask_token_follows_the_sentencepiece_pieces(base_model):
    tokenizer = base_model.preprocessor.tokenizer
    added = json.loads((FIXTURES / "base" / "added_tokens.json").read_text())
    assert tokenizer.mask_token_id == added["[MASK]"] == 160
    assert tokenizer.vocabulary_size() == expected()["tokenizer"]["vocab_size"] == 161
    ids = expected()["tokenizer"]["special_token_ids"]
    assert (tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id) == (
        ids["pad_token"],
        ids["cls_token"],
        ids["sep_token"],
    )


# ------------------------------------------------------------------ backbone maths


def test_backbone_features_match_transformers(base_model):
    """Fed transformers' own ids (truncated pairs too), so only the maths is compared."""
    worst = 0.0
    for row in expected()["inputs"]:
        inputs = {
            "token_ids": np.array([row["input_ids"]], "int32"),
            "padding_mask": np.array([row["attention_mask"]], "int32"),
        }
        got = np.asarray(base_model.backbone(inputs, training=False))[0]
        want = np.asarray(row["last_hidden_state"], np.float32)
        mask = np.asarray(row["attention_mask"], bool)
        worst = max(worst, float(np.max(np.abs(got[mask] - want[mask]))))
    print(f"largest |keras-hub - transformers| in last_hidden_state (real tokens): {worst:.2e}")
    assert worst < ATOL, worst


def test_features_from_raw_text_match_transformers(base_model):
    worst = 0.0
    for row in expected()["inputs"]:
        if row["kind"] == "pair" and row["truncated"]:
            continue  # other token ids (see above): other inputs
        features = preprocess(base_model, row)
        got = np.asarray(base_model.backbone({k: v[None] for k, v in features.items()}))[0]
        mask = features["padding_mask"].astype(bool)
        want = np.asarray(row["last_hidden_state"], np.float32)
        worst = max(worst, float(np.max(np.abs(got[mask] - want[mask]))))
    print(f"largest difference from raw text: {worst:.2e}")
    assert worst < ATOL, worst


def transformers_buckets(length: int, bucket_size: int, max_position: int) -> np.ndarray:
    """transformers' make_log_bucket_position, written out independently in numpy (float32)."""
    relative = np.arange(length)[:, None] - np.arange(length)[None, :]
    mid = bucket_size // 2
    sign = np.sign(relative)
    absolute = np.where((relative < mid) & (relative > -mid), mid - 1, np.abs(relative))
    ratio = np.log((absolute / mid).astype(np.float32))
    log_pos = np.ceil(ratio / np.float32(np.log((max_position - 1) / mid)) * (mid - 1)) + mid
    return np.where(absolute <= mid, relative, log_pos * sign).astype(int)


@pytest.mark.parametrize(("bucket_size", "max_position"), [(256, 512), (8, 64)])
def test_relative_position_buckets_equal_transformers(bucket_size, max_position):
    """keras-hub orders the log-bucket arithmetic differently: every offset still agrees."""
    from keras_hub.src.models.deberta_v3.disentangled_self_attention import (
        DisentangledSelfAttention,
    )

    attention = DisentangledSelfAttention(
        num_heads=1, hidden_dim=2, max_position_embeddings=max_position, bucket_size=bucket_size
    )
    got = np.asarray(attention._get_rel_pos(max_position))[0, 0]
    want = transformers_buckets(max_position, bucket_size, max_position)
    assert np.array_equal(got, want)
    assert got.max() == bucket_size - 1  # log-bucketing reached


def test_padding_does_not_change_real_token_features(base_model):
    row = rows("text")[3]  # "a": 3 tokens
    short = {"token_ids": np.array([[1, 12, 2]]), "padding_mask": np.array([[1, 1, 1]])}
    padded = {
        "token_ids": np.array([row["input_ids"]]),
        "padding_mask": np.array([row["attention_mask"]]),
    }
    a = np.asarray(base_model.backbone(short))[0]
    b = np.asarray(base_model.backbone(padded))[0][:3]
    np.testing.assert_allclose(a, b, atol=1e-6)


# ------------------------------------------------------------------ the classifier hook


def test_hf_classifier_matches_transformers(classifier):
    assert isinstance(classifier, ZooClassifier)
    assert classifier.labels == ["NEG", "NEU", "POS"]
    assert classifier.model_name is None
    texts = rows("text")
    got = textzoo.evaluation.predict_proba(classifier, [r["text"] for r in texts])
    want = np.array([r["probabilities"] for r in texts])
    worst = float(np.max(np.abs(got - want)))
    # Pairs through the preprocessor as two segments (untruncated ones: same token ids).
    for row in rows("pair"):
        if row["truncated"]:
            continue
        features = preprocess(classifier, row)
        pair = np.asarray(classifier({k: v[None] for k, v in features.items()}))[0]
        worst = max(worst, float(np.max(np.abs(pair - np.asarray(row["probabilities"])))))
    print(f"largest |textzoo - transformers| probability (hook, raw text): {worst:.2e}")
    assert worst < ATOL, worst
    assert textzoo.predict(classifier, [r["text"] for r in texts]) == [
        classifier.labels[i] for i in want.argmax(axis=1)
    ]


def test_hf_classifier_logits_on_transformers_ids(classifier):
    """The head alone, on transformers' ids (truncated pairs included)."""
    worst = 0.0
    for row in expected()["inputs"]:
        inputs = {
            "token_ids": np.array([row["input_ids"]], "int32"),
            "padding_mask": np.array([row["attention_mask"]], "int32"),
        }
        got = np.asarray(classifier(inputs, training=False))[0]
        worst = max(worst, float(np.max(np.abs(got - np.asarray(row["probabilities"])))))
    print(f"largest probability difference on transformers' ids: {worst:.2e}")
    assert worst < ATOL, worst


def test_load_of_the_classifier_directory(tmp_path):
    model = textzoo.load(str(FIXTURES / "classifier"))
    model.preprocessor.sequence_length = expected()["max_length"]
    assert isinstance(model, deberta_v3.DebertaV3Classifier)
    assert model.labels == ["NEG", "NEU", "POS"] and model.model_name is None
    row = rows("text")[0]
    got = textzoo.evaluation.predict_proba(model, [row["text"]])[0]
    np.testing.assert_allclose(got, row["probabilities"], atol=ATOL)


def test_save_pretrained_of_the_hf_classifier_predicts_identically(classifier, tmp_path):
    texts = [r["text"] for r in rows("text")]
    before = textzoo.evaluation.predict_proba(classifier, texts)
    textzoo.save_pretrained(classifier, tmp_path / "saved")
    restored = textzoo.load(str(tmp_path / "saved"))
    assert isinstance(restored, deberta_v3.DebertaV3Classifier)
    assert restored.labels == ["NEG", "NEU", "POS"]
    np.testing.assert_allclose(textzoo.evaluation.predict_proba(restored, texts), before, atol=1e-6)


def test_base_checkpoint_needs_allow_architecture_mismatch():
    with pytest.raises(ArchitectureMismatchError, match="num_layers is 2 in the weights"):
        textzoo.load("deberta-v3-base", num_classes=2, weights=str(FIXTURES / "base"))


def test_base_checkpoint_loads_under_a_catalog_name(base_model):
    assert base_model.model_name == "deberta-v3-base"
    assert base_model.architecture_overrides["num_layers"] == 2
    assert base_model.architecture_overrides["bucket_size"] == 8
    probs = base_model.predict(["the quick brown fox", "a"], verbose=0)
    assert probs.shape == (2, 3)


def test_classifier_checkpoint_as_weights_reads_the_deberta_prefix():
    """weights=DIR of a classifier: the backbone is read from under ``deberta.``."""
    model = textzoo.load(
        "deberta-v3-xsmall",
        num_classes=2,
        weights=str(FIXTURES / "classifier"),
        allow_architecture_mismatch=True,
    )
    base = deberta_v3_convert.read_safetensors(FIXTURES / "base")
    np.testing.assert_array_equal(
        np.asarray(model.backbone.get_layer("token_embedding").embeddings),
        base["embeddings.word_embeddings.weight"],
    )


def test_a_keras_hub_preset_directory_loads(tmp_path, base_model):
    """The keras_hub source format: a preset directory (as Kaggle's presets download)."""
    preset = tmp_path / "preset"
    base_model.backbone.save_to_preset(str(preset))
    base_model.preprocessor.tokenizer.save_to_preset(str(preset))
    model = textzoo.load(
        "deberta-v3-base", num_classes=3, weights=str(preset), allow_architecture_mismatch=True
    )
    assert isinstance(model.preprocessor.tokenizer, deberta_v3.DebertaV3Tokenizer)
    row = rows("text")[0]
    inputs = {
        "token_ids": np.array([row["input_ids"]]),
        "padding_mask": np.array([row["attention_mask"]]),
    }
    np.testing.assert_allclose(
        np.asarray(model.backbone(inputs)), np.asarray(base_model.backbone(inputs)), atol=1e-6
    )
    assert preprocess(model, row)["token_ids"].tolist()[:15] == row["input_ids"][:15]


def test_finetune_with_a_seed_keeps_the_tokenizer_working(classifier):
    """tf.random.set_seed deletes tensorflow_text's SentencePiece resources (see the class)."""
    import keras

    texts = [r["text"] for r in rows("text")]
    before = textzoo.evaluation.predict_proba(classifier, texts)  # traced and cached
    keras.utils.set_random_seed(0)
    np.testing.assert_allclose(textzoo.evaluation.predict_proba(classifier, texts), before)
    pair = preprocess(classifier, rows("pair")[1])  # a tf.data-free eager call still works
    assert pair["token_ids"].tolist() == rows("pair")[1]["input_ids"]


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"position_biased_input": True}, "position_biased_input"),
        ({"conv_kernel_size": 3}, "conv_kernel_size"),
        ({"share_att_key": False}, "share_att_key"),
        ({"pos_att_type": ["c2p"]}, "pos_att_type"),
        ({"type_vocab_size": 2}, "type_vocab_size"),
        ({"norm_rel_ebd": "none"}, "norm_rel_ebd"),
        ({"position_buckets": -1}, "position_buckets"),
        ({"hidden_act": "gelu_new"}, "hidden_act"),
    ],
)
def test_deberta_v2_settings_are_refused(tmp_path, change, message):
    directory = tmp_path / "ckpt"
    shutil.copytree(FIXTURES / "base", directory)
    config = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(textzoo.weights.WeightsNotFoundError, match=message):
        textzoo.load(
            "deberta-v3-base",
            num_classes=2,
            weights=str(directory),
            allow_architecture_mismatch=True,
        )


def test_a_missing_weight_is_refused(tmp_path):
    from safetensors.numpy import save_file

    directory = tmp_path / "ckpt"
    shutil.copytree(FIXTURES / "base", directory)
    tensors = deberta_v3_convert.read_safetensors(directory)
    del tensors["encoder.LayerNorm.bias"]
    save_file(tensors, str(directory / "model.safetensors"))
    with pytest.raises(textzoo.weights.WeightsNotFoundError, match="encoder.LayerNorm.bias"):
        textzoo.load(
            "deberta-v3-base",
            num_classes=2,
            weights=str(directory),
            allow_architecture_mismatch=True,
        )


# ------------------------------------------------------------------ parameter counts


@pytest.mark.parametrize("name", sorted(KERAS_HUB_PARAMS))
def test_count_params_equals_keras_hub_preset_metadata(name):
    spec = textzoo.registry.get_spec(name)
    h = spec.architecture["hidden_dim"]
    head = h * h + h + 2 * h + 2
    assert textzoo.get_model_info(name)["params"] == KERAS_HUB_PARAMS[name] + head


def test_count_params_equals_a_built_full_size_model():
    model = textzoo.load(
        "deberta-v3-base",
        num_classes=3,
        weights=None,
        proto=deberta_v3.tiny_proto(),
        vocabulary_size=128100,  # the real embedding table, with the tiny tokenizer
    )
    assert not model.architecture_overrides
    spec = textzoo.registry.get_spec("deberta-v3-base")
    assert model.count_params() == deberta_v3.count_params(spec.architecture, 3)
    assert model.backbone.count_params() == KERAS_HUB_PARAMS["deberta-v3-base"]


def test_tiny_model_and_argument_checks():
    tiny = {**deberta_v3.TINY_CONFIG, "proto": deberta_v3.tiny_proto()}
    model = textzoo.load("deberta-v3-small", num_classes=2, weights=None, **tiny)
    assert model.predict(["the team won"], verbose=0).shape == (1, 2)
    pair = preprocess(model, {"kind": "pair", "text": "the team", "text_pair": "won"})
    assert pair["token_ids"][:3].tolist() == [
        1,
        model.preprocessor.tokenizer.token_to_id("▁the"),
        model.preprocessor.tokenizer.token_to_id("▁team"),
    ]
    mean = textzoo.load("deberta-v3-small", num_classes=2, weights=None, pooling="mean", **tiny)
    assert mean.get_layer("mean_pooling") is not None
    assert mean.predict(["the team won"], verbose=0).shape == (1, 2)
    with pytest.raises(ValueError, match="pooling"):
        textzoo.load("deberta-v3-small", num_classes=2, weights=None, pooling="pooler", **tiny)
    with pytest.raises(TypeError, match="Unknown argument"):
        textzoo.load("deberta-v3-small", num_classes=2, weights=None, embedding_dim=4, **tiny)
    with pytest.raises(ValueError, match="num_heads"):
        textzoo.load("deberta-v3-small", num_classes=2, weights=None, **{**tiny, "num_heads": 3})
    with pytest.raises(ValueError, match="sequence_length"):
        textzoo.load("deberta-v3-small", num_classes=2, weights=None, sequence_length=64, **tiny)
    with pytest.raises(TypeError, match="raw strings"):
        model.preprocessor(np.array([[1, 2]]))
