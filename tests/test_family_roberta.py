"""The roberta family: parity with transformers on the tiny fixtures, counts, checks.

The fixtures (tests/fixtures/hf/roberta, written by transformers; see its README) are
loaded through the paths users hit: ``textzoo.load(name, weights=DIR)`` for the base
model and the family's ``hf_classifier`` hook for the ``RobertaForSequenceClassification``
checkpoint. The helpers here (no ``test_`` prefix) are shared with the xlm-roberta
family's tests, which import them.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo.errors import ArchitectureMismatchError

FIXTURES = Path(__file__).parent / "fixtures" / "hf"
LABELS = ["NEG", "NEU", "POS"]
# keras-hub's RobertaBackbone fixes every LayerNorm epsilon at 1e-5 (the released RoBERTa,
# XLM-R, E5 and BGE-M3 configs' layer_norm_eps); the fixtures' configs say 1e-12. That is
# the only difference in the math (keras-hub computes the exact erf GELU, as "hidden_act":
# "gelu"): with the fixtures' epsilon put into the loaded model's LayerNorms the last
# hidden state is within 1.4e-6 (roberta) / 1.2e-6 (xlm-roberta) of transformers'; as
# loaded (1e-5) within 8.7e-5 / 1.4e-4 (measured with `pytest -s tests/test_family_roberta.py
# tests/test_family_xlm_roberta.py`, which prints every number).
ATOL = 1e-4
EPSILON_ATOL = 3e-4  # as loaded, with keras-hub's fixed epsilon


def expected(family: str) -> dict:
    return json.loads((FIXTURES / family / "expected.json").read_text(encoding="utf-8"))


def model_input(row: dict):
    return (row["text"], row["text_pair"]) if row["kind"] == "pair" else row["text"]


def preprocess(model, row: dict) -> dict:
    import tensorflow as tf

    x = model_input(row)
    if isinstance(x, tuple):
        # By keyword: a positional tuple is taken by keras-hub as (x, y), text and label.
        features = model.preprocessor(x=(tf.constant([x[0]]), tf.constant([x[1]])))
    else:
        features = model.preprocessor(tf.constant([x]))
    return {k: np.asarray(v)[0] for k, v in features.items()}


def load_base(family: str, name: str):
    data = expected(family)
    with pytest.warns(UserWarning, match="layer_norm_eps"):  # 1e-12 in the fixtures
        model = textzoo.load(
            name,
            num_classes=3,
            weights=str(FIXTURES / family / "base"),
            sequence_length=data["max_length"],
            allow_architecture_mismatch=True,  # a 2-layer, 16-wide stand-in
        )
    return model, data


def load_classifier(family: str):
    directory = FIXTURES / family / "classifier"
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    hook = textzoo.registry.get_family(family).hf_classifier
    with pytest.warns(UserWarning, match="layer_norm_eps"):
        return hook(directory, config, labels=LABELS)


def check_token_ids(model, data: dict) -> None:
    """Token ids and padding masks equal transformers' for every text and pair.

    A pair is ``<s> a </s></s> b </s>``; the backbone takes no segment ids. All ten rows
    match exactly, the truncated ones included.
    """
    for row in data["inputs"]:
        features = preprocess(model, row)
        assert set(features) == {"token_ids", "padding_mask"}, "no segment ids"
        assert features["token_ids"].tolist() == row["input_ids"], row["text"]
        assert features["padding_mask"].astype(int).tolist() == row["attention_mask"]


@contextlib.contextmanager
def checkpoint_epsilon(model, data: dict):
    """Give the model's LayerNorms the checkpoint's ``layer_norm_eps`` (then restore them)."""
    import keras

    epsilon = data["base"]["config"]["layer_norm_eps"]
    norms = [
        layer
        for layer in model.backbone._flatten_layers()
        if isinstance(layer, keras.layers.LayerNormalization)
    ]
    saved = [norm.epsilon for norm in norms]
    for norm in norms:
        norm.epsilon = epsilon
    try:
        yield
    finally:
        for norm, value in zip(norms, saved, strict=True):
            norm.epsilon = value


def check_features(model, data: dict) -> None:
    """The backbone's last hidden state vs transformers' (real tokens), both epsilons."""

    def worst() -> float:
        largest = 0.0
        for row in data["inputs"]:
            features = preprocess(model, row)
            out = model.backbone({k: v[None] for k, v in features.items()}, training=False)
            got = np.asarray(out)[0]
            want = np.asarray(row["last_hidden_state"], np.float32)
            mask = np.asarray(row["attention_mask"], bool)
            largest = max(largest, float(np.max(np.abs(got[mask] - want[mask]))))
        return largest

    as_loaded = worst()
    with checkpoint_epsilon(model, data):
        same_epsilon = worst()
    print(
        f"largest |keras-hub - transformers| in last_hidden_state: {as_loaded:.2e} as loaded, "
        f"{same_epsilon:.2e} with the checkpoint's layer_norm_eps"
    )
    assert same_epsilon < ATOL, same_epsilon
    assert as_loaded < EPSILON_ATOL, as_loaded


def check_classifier(model, data: dict) -> None:
    """Probabilities of the loaded HF classifier vs transformers'; predict gives names."""
    assert model.labels == LABELS
    assert model.model_name is None

    def worst() -> float:
        largest = 0.0
        for row in data["inputs"]:
            # transformers' 16 ids (its truncation too: the model's own preprocessor, at
            # sequence_length 64, keeps more of the long texts; the ids are tested above).
            features = {
                "token_ids": np.asarray([row["input_ids"]], np.int32),
                "padding_mask": np.asarray([row["attention_mask"]], np.int32),
            }
            probs = np.asarray(model(features, training=False))[0]
            largest = max(largest, float(np.max(np.abs(probs - np.asarray(row["probabilities"])))))
        return largest

    as_loaded = worst()
    with checkpoint_epsilon(model, data):
        same_epsilon = worst()
    print(
        f"largest |zoo - transformers| in probabilities: {as_loaded:.2e} as loaded, "
        f"{same_epsilon:.2e} with the checkpoint's layer_norm_eps"
    )
    assert same_epsilon < ATOL, same_epsilon
    assert as_loaded < EPSILON_ATOL, as_loaded
    rows = [r for r in data["inputs"] if r["kind"] == "text" and not r["truncated"]]
    texts = [r["text"] for r in rows]
    want = [LABELS[int(np.argmax(r["probabilities"]))] for r in rows]
    assert list(textzoo.predict(model, texts, verbose=0)) == want
    got = textzoo.evaluation.predict_proba(model, texts)
    np.testing.assert_allclose(got, [r["probabilities"] for r in rows], atol=EPSILON_ATOL)


def check_saved_classifier(model, data: dict, tmp_path: Path) -> None:
    texts = [r["text"] for r in data["inputs"] if r["kind"] == "text"]
    before = textzoo.evaluation.predict_proba(model, texts)
    textzoo.save_pretrained(model, tmp_path / "saved")
    restored = textzoo.load(str(tmp_path / "saved"))
    assert restored.labels == LABELS and type(restored) is type(model)
    np.testing.assert_allclose(textzoo.evaluation.predict_proba(restored, texts), before, atol=1e-6)


def check_preset_counts(family: str, presets: dict) -> None:
    """count_params matches keras-hub's published preset parameter counts (its backbone)."""
    for name in textzoo.list_models():
        spec = textzoo.registry.get_spec(name)
        if spec.family != family or spec.name != name:
            continue
        preset = next((s.uri for s in spec.sources if s.format == "keras_hub"), None)
        if preset is None:
            continue
        h = spec.architecture["hidden_dim"]
        head = (h * h + h) + (h * 2 + 2)
        info = textzoo.get_model_info(name)
        assert info["params"] is None or isinstance(info["params"], int)
        count = textzoo.registry.get_family(family).count_params(spec.architecture, 2)
        assert count - head == presets[preset]["metadata"]["params"], name


# -- roberta --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def roberta():
    return load_base("roberta", "roberta-base")


@pytest.fixture(scope="module")
def roberta_classifier():
    return load_classifier("roberta")


def test_token_ids_match_transformers(roberta):
    check_token_ids(*roberta)


def test_features_match_transformers(roberta):
    check_features(*roberta)


def test_base_checkpoint_loads_only_with_mismatch_allowed(roberta):
    model, _ = roberta
    assert model.model_name == "roberta-base"
    assert model.architecture_overrides["num_layers"] == 2
    assert model.backbone.max_sequence_length == 64  # 66 positions - (padding_idx + 1)
    with pytest.raises(ArchitectureMismatchError, match="allow_architecture_mismatch"):
        with pytest.warns(UserWarning, match="layer_norm_eps"):
            textzoo.load("roberta-base", num_classes=3, weights=str(FIXTURES / "roberta" / "base"))


def test_hf_classifier_matches_transformers(roberta_classifier):
    check_classifier(roberta_classifier, expected("roberta"))


def test_hf_classifier_save_and_load(roberta_classifier, tmp_path):
    check_saved_classifier(roberta_classifier, expected("roberta"), tmp_path)


def test_hf_classifier_refuses_a_base_checkpoint():
    directory = FIXTURES / "roberta" / "base"
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    with (
        pytest.raises(ValueError, match="no RoBERTa classification head"),
        pytest.warns(UserWarning),
    ):
        textzoo.registry.get_family("roberta").hf_classifier(directory, config, labels=LABELS)


def test_count_params_matches_keras_hub_presets():
    # roberta_base_en: 124,052,736, roberta_large_en: 354,307,072 (keras-hub's presets).
    from keras_hub.src.models.roberta.roberta_presets import backbone_presets

    check_preset_counts("roberta", backbone_presets)


def test_count_params_matches_a_full_size_model():
    from tfx_textzoo.families.roberta import count_params

    spec = textzoo.registry.get_spec("roberta-base")
    tokens = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "a", "b", "ab"]
    tokens += [f"t{i}" for i in range(spec.architecture["vocabulary_size"] - len(tokens))]
    vocabulary = {token: index for index, token in enumerate(tokens)}
    model = textzoo.load(
        "roberta-base", num_classes=4, weights=None, vocabulary=vocabulary, merges=["a b"]
    )
    assert model.architecture == {k: spec.architecture[k] for k in model.architecture}
    assert model.count_params() == count_params(spec.architecture, 4)
    assert model.count_params() == textzoo.get_model_info("roberta-base")["params"] + (768 + 1) * 2


def test_pairs_are_two_segments():
    from tfx_textzoo.families.roberta import TINY_CONFIG, TINY_MERGES, TINY_VOCABULARY

    model = textzoo.load(
        "distilroberta-base",
        num_classes=2,
        weights=None,
        vocabulary=TINY_VOCABULARY,
        merges=TINY_MERGES,
        sequence_length=12,
        **TINY_CONFIG,
    )
    import tensorflow as tf

    ids = model.preprocessor(x=(tf.constant(["the team"]), tf.constant(["and"])))["token_ids"]
    first = np.asarray(model.preprocessor.tokenizer("the team")).tolist()
    second = np.asarray(model.preprocessor.tokenizer("and")).tolist()
    packed = [0, *first, 2, 2, *second, 2]  # <s> a </s></s> b </s>
    assert ids.numpy()[0].tolist() == packed + [1] * (12 - len(packed))


def test_argument_checks():
    from tfx_textzoo._checks import InvalidArgumentError
    from tfx_textzoo.families.roberta import TINY_CONFIG, TINY_MERGES, TINY_VOCABULARY

    tiny = {"weights": None, "vocabulary": TINY_VOCABULARY, "merges": TINY_MERGES, **TINY_CONFIG}
    with pytest.raises(TypeError, match="Unknown argument"):
        textzoo.load("roberta-base", num_classes=2, num_segments=2, **tiny)
    with pytest.raises(InvalidArgumentError, match="num_heads"):
        textzoo.load("roberta-base", num_classes=2, **{**tiny, "num_heads": 3})
    with pytest.raises(InvalidArgumentError, match="sequence_length"):
        textzoo.load("roberta-base", num_classes=2, sequence_length=33, **tiny)
    with pytest.raises(InvalidArgumentError, match="pooling"):
        textzoo.load("roberta-base", num_classes=2, pooling="max", **tiny)
    with pytest.raises(ValueError, match="only apply to a randomly initialised"):
        textzoo.load(
            "roberta-base", num_classes=2, weights=str(FIXTURES / "roberta" / "base"), num_layers=1
        )
    model = textzoo.load("roberta-base", num_classes=2, **tiny)
    with pytest.raises(TypeError, match="raw strings"):
        model.predict(np.array([[1, 2, 3]]), verbose=0)


def test_head_has_transformers_shape(roberta_classifier):
    names = [layer.name for layer in roberta_classifier.layers[-4:]]
    assert names == ["pooled_dropout", "pooled_dense", "output_dropout", "logits"]
    assert roberta_classifier.pooled_dense.units == 16
    assert roberta_classifier.get_layer("pooled_dense").activation.__name__ == "tanh"


def test_load_of_the_classifier_directory():
    """textzoo.load(dir) finds the transformers checkpoint and calls the family's hook."""
    directory = FIXTURES / "roberta" / "classifier"
    with pytest.warns(UserWarning, match="layer_norm_eps"):
        model = textzoo.load(str(directory))
    assert model.labels == LABELS and model.model_name is None
    rows = [r for r in expected("roberta")["inputs"] if r["kind"] == "text" and not r["truncated"]]
    got = textzoo.evaluation.predict_proba(model, [r["text"] for r in rows])
    np.testing.assert_allclose(got, [r["probabilities"] for r in rows], atol=EPSILON_ATOL)
    want = [LABELS[int(np.argmax(r["probabilities"]))] for r in rows]
    assert list(textzoo.predict(model, [r["text"] for r in rows], verbose=0)) == want
