"""The albert family: parity with transformers on the committed fixtures, and its own rules.

The fixtures (tests/fixtures/hf/albert) were written by transformers 4.57.6 (AlbertModel and
AlbertForSequenceClassification: hidden 16, embeddings 8, 2 layers sharing one, gelu_new,
a 160-piece SentencePiece unigram model, lower-cased). keras-hub's AlbertBackbone computes
transformers' gelu_new exactly (tanh-approximate GELU), so the tolerance is 1e-4 throughout.
Largest differences measured (``pytest -s tests/test_family_albert.py`` prints them):
last_hidden_state 1.7e-06, pooler_output 5.5e-07, classifier probabilities: see the prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo.errors import ArchitectureMismatchError, InvalidArgumentError
from tfx_textzoo.evaluation import predict_proba
from tfx_textzoo.families import albert
from tfx_textzoo.training import layer_decay_multipliers

FIXTURES = Path(__file__).parent / "fixtures" / "hf" / "albert"
ATOL = 1e-4
TINY = {**albert.TINY_CONFIG, "vocabulary": albert.TINY_PIECES}


def expected() -> dict:
    return json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


def preprocess(model, row):
    import tensorflow as tf

    if row["kind"] == "pair":
        # By keyword: a positional tuple is taken by keras-hub as (x, y), text and label.
        x = (tf.constant([row["text"]]), tf.constant([row["text_pair"]]))
        features = model.preprocessor(x=x)
    else:
        features = model.preprocessor(tf.constant([row["text"]]))
    return {k: np.asarray(v)[0] for k, v in features.items()}


def slow_encoding(data: dict, row: dict) -> dict | None:
    """transformers' slow-tokenizer encoding of a pair where slow and fast disagree."""
    for case in data["tokenizer"]["slow_fast_disagreements"]:
        if case["input"] == [row["text"], row.get("text_pair")]:
            return case["slow"]
    return None


@pytest.fixture(scope="module")
def base():
    data = expected()
    model = textzoo.load(
        "albert-base-v2",
        num_classes=3,
        weights=str(FIXTURES / "base"),
        sequence_length=data["max_length"],
        allow_architecture_mismatch=True,  # a 2-layer, 16-wide stand-in, not ALBERT-base
    )
    return model, data


@pytest.fixture(scope="module")
def classifier():
    data = expected()
    directory = FIXTURES / "classifier"
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    family = textzoo.registry.get_family("albert")
    model = family.hf_classifier(directory, config, labels=["NEG", "NEU", "POS"])
    model.preprocessor.sequence_length = data["max_length"]  # transformers' max_length 16
    return model, data


# (a) token ids, segment ids and padding masks ------------------------------------------


@pytest.mark.parametrize("index", range(10))
def test_token_ids_match_transformers(base, index):
    model, data = base
    row = data["inputs"][index]
    features = preprocess(model, row)
    assert features["padding_mask"].tolist() == [bool(m) for m in row["attention_mask"]]
    slow = slow_encoding(data, row)
    if slow is not None:
        # A truncated pair whose spare token transformers' fast tokenizer ("longest_first")
        # gives to the second text and its slow one to the first; keras-hub's round-robin
        # trimmer gives it to the first: the slow tokenizer's encoding, exactly.
        assert features["token_ids"].tolist() == slow["input_ids"]
        assert features["segment_ids"].tolist() == slow["token_type_ids"]
        assert features["token_ids"].tolist() != row["input_ids"]
        return
    assert features["token_ids"].tolist() == row["input_ids"]
    assert features["segment_ids"].tolist() == row["token_type_ids"]


def test_untruncated_token_ids_match_transformers(base):
    """Without truncation every text (and pair) is tokenized exactly as transformers does."""
    import tensorflow as tf

    model, data = base
    tokenizer = model.preprocessor.tokenizer
    for row in data["inputs"]:
        cls, sep = row["full_input_ids"][0], row["full_input_ids"][-1]
        ids = [cls, *np.asarray(tokenizer(tf.constant(row["text"]))).tolist(), sep]
        if row["kind"] == "pair":
            ids += [*np.asarray(tokenizer(tf.constant(row["text_pair"]))).tolist(), sep]
        assert ids == row["full_input_ids"], row["text"]


def test_keras_hub_tokenizer_alone_does_not_lower_case(base):
    """Why the family normalises: keras-hub's AlbertTokenizer hands raw text to SentencePiece."""
    import keras_hub

    _, data = base
    plain = keras_hub.models.AlbertTokenizer(str(FIXTURES / "base" / "spiece.model"))
    ids = [int(i) for i in plain("The quick brown fox")]
    assert ids != data["inputs"][0]["full_input_ids"][1:5]
    assert 1 in ids  # "T" is <unk> in a lower-cased vocabulary


# (b) backbone features -----------------------------------------------------------------


def test_features_match_transformers(base):
    model, data = base
    worst = worst_pooled = 0.0
    compared = 0
    for row in data["inputs"]:
        if slow_encoding(data, row) is not None:
            continue  # different token ids: different inputs
        features = preprocess(model, row)
        out = model.backbone({k: v[None] for k, v in features.items()}, training=False)
        mask = np.asarray(row["attention_mask"], bool)
        got = np.asarray(out["sequence_output"])[0]
        want = np.asarray(row["last_hidden_state"], np.float32)
        worst = max(worst, float(np.max(np.abs(got[mask] - want[mask]))))
        pooled = np.asarray(out["pooled_output"])[0]
        worst_pooled = max(worst_pooled, float(np.max(np.abs(pooled - row["pooler_output"]))))
        compared += 1
    print(
        f"albert: largest |keras-hub - transformers| last_hidden_state {worst:.2e}, "
        f"pooler_output {worst_pooled:.2e} ({compared} inputs)"
    )
    assert compared == 8
    assert worst < ATOL and worst_pooled < ATOL, (worst, worst_pooled)


def test_keras_hub_pooled_output_is_transformers_pooler(base):
    """keras-hub's pooled_output is tanh(dense([CLS])) with the pooler's weights."""
    model, data = base
    features = preprocess(model, data["inputs"][0])
    out = model.backbone({k: v[None] for k, v in features.items()}, training=False)
    dense = model.backbone.get_layer("pooled_dense")
    kernel, bias = (np.asarray(w) for w in dense.weights)
    cls = np.asarray(out["sequence_output"])[0, 0]
    np.testing.assert_allclose(
        np.asarray(out["pooled_output"])[0], np.tanh(cls @ kernel + bias), atol=1e-6
    )


# (c) the fine-tuned classifier -----------------------------------------------------------


def _comparable(data):
    return [r for r in data["inputs"] if slow_encoding(data, r) is None]


def _check_classifier(model, data, what):
    assert model.labels == ["NEG", "NEU", "POS"]
    assert model.model_name is None
    assert isinstance(model, albert.AlbertClassifier) and model.pooling == "pooler"
    rows = _comparable(data)
    texts = [r for r in rows if r["kind"] == "text"]
    got = predict_proba(model, [r["text"] for r in texts])
    want = np.array([r["probabilities"] for r in texts])
    worst = float(np.max(np.abs(got - want)))
    pairs = [r for r in rows if r["kind"] == "pair"]
    worst_pair = 0.0
    for row in pairs:  # the zoo's predict takes single texts; the model takes pairs too
        probs = np.asarray(model(preprocess_batch(model, row)))[0]
        worst_pair = max(worst_pair, float(np.max(np.abs(probs - row["probabilities"]))))
    print(
        f"albert {what}: largest |textzoo - transformers| probability {worst:.2e} "
        f"({len(texts)} texts), {worst_pair:.2e} ({len(pairs)} pairs)"
    )
    assert worst < ATOL and worst_pair < ATOL, (worst, worst_pair)
    names = textzoo.predict(model, [r["text"] for r in texts])
    assert names == [model.labels[i] for i in want.argmax(axis=1)]
    return got


def preprocess_batch(model, row):
    return {k: v[None] for k, v in preprocess(model, row).items()}


def test_hf_classifier_hook_matches_transformers(classifier):
    model, data = classifier
    _check_classifier(model, data, "hf_classifier hook")


def test_load_directory_of_hf_classifier(classifier):
    _, data = classifier
    model = textzoo.load(str(FIXTURES / "classifier"))
    model.preprocessor.sequence_length = data["max_length"]
    _check_classifier(model, data, "textzoo.load(dir)")


def test_hf_classifier_save_pretrained_round_trip(classifier, tmp_path):
    model, data = classifier
    texts = [r["text"] for r in data["inputs"] if r["kind"] == "text"]
    before = predict_proba(model, texts)
    textzoo.save_pretrained(model, tmp_path / "saved")
    restored = textzoo.load(str(tmp_path / "saved"))
    assert isinstance(restored, albert.AlbertClassifier)
    assert (restored.labels, restored.model_name) == (["NEG", "NEU", "POS"], None)
    tokenizer = restored.preprocessor.tokenizer
    assert (tokenizer.lowercase, tokenizer.strip_accents) == (True, True)
    np.testing.assert_allclose(predict_proba(restored, texts), before, atol=1e-6)


def test_hf_state_strips_the_task_prefix():
    base, task = albert.hf_state(FIXTURES / "base"), albert.hf_state(FIXTURES / "classifier")
    assert set(task) - set(base) == {"classifier.weight", "classifier.bias"}
    for name, tensor in base.items():
        np.testing.assert_array_equal(task[name], tensor)  # the same backbone


# (e) a base checkpoint under a catalog name ------------------------------------------------


def test_base_checkpoint_refused_under_catalog_name_without_mismatch_flag():
    with pytest.raises(ArchitectureMismatchError, match="allow_architecture_mismatch"):
        textzoo.load("albert-base-v2", num_classes=2, weights=str(FIXTURES / "base"))


def test_base_checkpoint_loads_with_mismatch_flag(base):
    model, _ = base
    assert model.model_name == "albert-base-v2"
    assert model.architecture["hidden_dim"] == 16 and model.architecture["embedding_dim"] == 8
    assert model.architecture_overrides == {
        "num_layers": 2,
        "hidden_dim": 16,
        "num_heads": 2,
        "intermediate_dim": 32,
        "embedding_dim": 8,
        "vocabulary_size": 160,
    }
    assert model.predict(["The team won."], verbose=0).shape == (1, 3)


# Parameter counts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, preset",
    [
        ("albert-base-v2", "albert_base_en_uncased"),
        ("albert-large-v2", "albert_large_en_uncased"),
        ("albert-xlarge-v2", "albert_extra_large_en_uncased"),
        ("albert-xxlarge-v2", "albert_extra_extra_large_en_uncased"),
    ],
)
def test_parameter_counts_agree_with_keras_hub_presets(name, preset):
    """keras-hub's preset metadata (AlbertBackbone.presets[...]["metadata"]["params"]):
    11,683,584 / 17,683,968 / 58,724,864 / 222,595,584 for the backbones."""
    import keras_hub

    spec = textzoo.registry.get_spec(name)
    assert [s.uri for s in spec.sources if s.format == "keras_hub"] == [preset]
    preset_params = keras_hub.models.AlbertBackbone.presets[preset]["metadata"]["params"]
    hidden = spec.architecture["hidden_dim"]
    assert textzoo.get_model_info(name)["params"] - (2 * hidden + 2) == preset_params


def test_count_params_matches_full_size_random_init():
    pieces = [*albert.TINY_PIECES, *(f"▁w{i}" for i in range(30000 - len(albert.TINY_PIECES)))]
    model = textzoo.load("albert-base-v2", num_classes=4, weights=None, vocabulary=pieces)
    assert model.architecture_overrides is None
    assert model.backbone.vocabulary_size == 30000
    arch = textzoo.registry.get_spec("albert-base-v2").architecture
    assert model.count_params() == albert.count_params(arch, 4) == 11683584 + 4 * 769


# Layer-wise decay with the shared layer -----------------------------------------------------


def test_shared_layer_is_listed_once_per_depth():
    model = textzoo.load("albert-base-v2", num_classes=2, weights=None, **{**TINY, "num_layers": 3})
    (layer,) = model.backbone.transformer_layers[0]
    assert model.transformer_layers() == [layer, layer, layer]
    groups = model.layer_groups()
    assert len(groups) == 5  # embeddings, 3 depths, top
    grouped = {id(v) for group in groups for v in group}
    assert grouped == {id(v) for v in model.trainable_variables}
    shared = {id(v) for v in layer.trainable_variables}
    assert all({id(v) for v in groups[i]} == shared for i in (1, 2, 3))
    multipliers = layer_decay_multipliers(model, 0.5)
    for v in layer.trainable_variables:  # the deepest depth it runs at: group 3 of 0..4
        assert multipliers[v.path] == 0.5
    for v in groups[0]:
        assert multipliers[v.path] == 0.5**4
    for v in groups[-1]:
        assert multipliers[v.path] == 1.0
    # Why check_family (tests/helpers.py) runs the family at num_layers=1 only: it asserts
    # that every variable of group i has decay ** (top - i), which a variable that is in
    # groups 1, 2 and 3 at once cannot satisfy (it has one multiplier, group 3's).
    assert multipliers[layer.trainable_variables[0].path] != 0.5 ** (4 - 1)


def test_groups_of_layers_run_in_order():
    """num_groups=2, num_layers=4: group 0 runs at depths 0-1, group 1 at depths 2-3."""
    model = textzoo.load(
        "albert-base-v2", num_classes=2, weights=None, **{**TINY, "num_layers": 4, "num_groups": 2}
    )
    first, second = (group[0] for group in model.backbone.transformer_layers)
    assert model.transformer_layers() == [first, first, second, second]
    multipliers = layer_decay_multipliers(model, 0.5)
    assert {multipliers[v.path] for v in first.trainable_variables} == {0.5**3}
    assert {multipliers[v.path] for v in second.trainable_variables} == {0.5}


# Pooling, argument checks, inputs -----------------------------------------------------------


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_poolings_without_the_pooler_keep_it_frozen(pooling):
    model = textzoo.load("albert-base-v2", num_classes=2, weights=None, pooling=pooling, **TINY)
    assert not model.backbone.get_layer("pooled_dense").trainable
    pooler = {id(v) for v in model.backbone.get_layer("pooled_dense").weights}
    assert not pooler & {id(v) for v in model.trainable_variables}
    assert model.predict(["the team won"], verbose=0).shape == (1, 2)


@pytest.mark.parametrize(
    "overrides, error, match",
    [
        ({"num_heads": 3}, InvalidArgumentError, "num_heads must be a divisor of hidden_dim"),
        ({"num_layers": 3, "num_groups": 2}, InvalidArgumentError, "num_groups"),
        ({"embedding_dim": 0}, InvalidArgumentError, "embedding_dim must be an int >= 1"),
        ({"backbone_dropout": 1.5}, InvalidArgumentError, "backbone_dropout"),
        ({"pooling": "max"}, InvalidArgumentError, "pooling"),
        ({"hidden_layers": 2}, TypeError, "Unknown argument"),
        ({"sequence_length": 64}, InvalidArgumentError, "max_sequence_length \\(32\\)"),
    ],
)
def test_bad_arguments_are_refused(overrides, error, match):
    with pytest.raises(error, match=match):
        textzoo.load("albert-base-v2", num_classes=2, weights=None, **{**TINY, **overrides})


def test_overrides_with_pretrained_weights_are_refused():
    with pytest.raises(ValueError, match="only apply to a randomly initialised model"):
        textzoo.load("albert-base-v2", num_classes=2, weights=str(FIXTURES / "base"), num_layers=1)


def test_non_string_input_is_refused():
    import tensorflow as tf

    model = textzoo.load("albert-base-v2", num_classes=2, weights=None, **TINY)
    with pytest.raises(TypeError, match="raw strings"):
        model.preprocessor(tf.constant([[1, 2, 3]]))


def test_unsupported_hf_config_is_refused(tmp_path):
    import shutil

    directory = tmp_path / "relu"
    shutil.copytree(FIXTURES / "base", directory)
    config = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps({**config, "hidden_act": "relu"}))
    with pytest.raises(ValueError, match="hidden_act 'relu'"):
        albert.backbone_from_hf(directory)


def test_tokenizer_survives_set_random_seed():
    """tf.random.set_seed drops tensorflow_text's SentencePiece resources; the tokenizer and
    the zoo's traced tokenizing function make new ones (finetune(seed=...) seeds)."""
    import keras

    from tfx_textzoo import preprocessing

    model = textzoo.load("albert-base-v2", num_classes=2, weights=None, **TINY)
    first = preprocessing.tokenize(model, ["the team won"])
    keras.utils.set_random_seed(0)
    again = preprocessing.tokenize(model, ["the team won"])
    assert model.preprocessor.tokenizer.resource_generation == 1
    np.testing.assert_array_equal(
        again.features["token_ids"].flat_values, first.features["token_ids"].flat_values
    )
    assert model.predict(["the team won"], verbose=0).shape == (1, 2)


def test_keras_hub_preset_directory_loads(tmp_path):
    """The keras_hub source path, offline: a preset saved by keras-hub's own classes."""
    import keras_hub

    backbone = albert.backbone_from_hf(FIXTURES / "base")
    backbone.save_to_preset(str(tmp_path))
    keras_hub.models.AlbertTokenizer(str(FIXTURES / "base" / "spiece.model")).save_to_preset(
        str(tmp_path)
    )
    model = textzoo.load(
        "albert-base-v2",
        num_classes=3,
        weights=str(tmp_path),
        sequence_length=16,
        allow_architecture_mismatch=True,
    )
    tokenizer = model.preprocessor.tokenizer
    assert isinstance(tokenizer, albert.NormalizingAlbertTokenizer) and tokenizer.lowercase
    row = expected()["inputs"][1]  # "Café Déjà-vu": normalised as transformers does
    assert preprocess(model, row)["token_ids"].tolist() == row["input_ids"]
    for a, b in zip(model.backbone.weights, backbone.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_tiny_config_is_made_of_architecture_keys():
    record = textzoo.registry.get_family("albert")
    assert set(record.tiny_config) <= set(record.architecture_keys) | {"max_sequence_length"}
    assert "spiece.model" in record.hf_files and record.hf_model_types == ("albert",)


def test_saved_model_is_not_passed_off_as_plain_keras_hub(tmp_path):
    """Plain keras-hub's ALBERT tokenizer does not normalise text as transformers does, so
    a saved albert model must not claim to load (and predict the same) in keras-hub alone."""
    from tfx_textzoo.saving import keras_hub_equivalent

    model = textzoo.load("albert-base-v2", num_classes=2, weights=None, **TINY)
    assert keras_hub_equivalent(model) is None
    textzoo.save_pretrained(model, tmp_path / "saved")
    card = (tmp_path / "saved" / "README.md").read_text(encoding="utf-8")
    assert "library_name: tfx_textzoo" in card
    restored = textzoo.load(str(tmp_path / "saved"))
    assert restored.preprocessor.get_config()["lowercase"] is True
