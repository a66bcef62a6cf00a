"""The xlm-roberta family: parity with transformers on the tiny fixtures, counts, checks.

The fixtures (tests/fixtures/hf/xlm-roberta) use SentencePiece BPE with fairseq's offset
(``<s>=0 <pad>=1 </s>=2 <unk>=3``, ``<mask>`` last). The shared checks are the roberta
family's (tests/test_family_roberta.py).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_family_roberta import (
    FIXTURES,
    LABELS,
    check_classifier,
    check_features,
    check_preset_counts,
    check_saved_classifier,
    check_token_ids,
    expected,
    load_base,
    load_classifier,
)

import tfx_textzoo as textzoo
from tfx_textzoo.errors import ArchitectureMismatchError


@pytest.fixture(scope="module")
def xlmr():
    return load_base("xlm-roberta", "xlm-roberta-base")


@pytest.fixture(scope="module")
def xlmr_classifier():
    return load_classifier("xlm-roberta")


def test_token_ids_match_transformers(xlmr):
    check_token_ids(*xlmr)


def test_tokenizer_has_fairseq_ids(xlmr):
    model, data = xlmr
    tokenizer = model.preprocessor.tokenizer
    assert tokenizer.vocabulary_size() == data["tokenizer"]["vocab_size"] == 162
    assert [tokenizer.token_to_id(t) for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")] == [
        0,
        1,
        2,
        3,
        161,
    ]


def test_features_match_transformers(xlmr):
    check_features(*xlmr)


def test_base_checkpoint_loads_into_every_name_only_with_mismatch_allowed(xlmr):
    model, _ = xlmr
    assert model.model_name == "xlm-roberta-base"
    assert model.backbone.max_sequence_length == 64
    with pytest.raises(ArchitectureMismatchError), pytest.warns(UserWarning):
        textzoo.load("bge-m3", num_classes=3, weights=str(FIXTURES / "xlm-roberta" / "base"))
    with pytest.warns(UserWarning, match="layer_norm_eps"):
        e5 = textzoo.load(
            "multilingual-e5-base",
            num_classes=3,
            weights=str(FIXTURES / "xlm-roberta" / "base"),
            allow_architecture_mismatch=True,
        )
    assert e5.pooling == "mean" and e5.model_name == "multilingual-e5-base"


def test_a_roberta_directory_is_refused():
    with pytest.raises(Exception, match="'roberta' model, not xlm-roberta"):
        textzoo.load(
            "xlm-roberta-base",
            num_classes=3,
            weights=str(FIXTURES / "roberta" / "base"),
            allow_architecture_mismatch=True,
        )


def test_hf_classifier_matches_transformers(xlmr_classifier):
    check_classifier(xlmr_classifier, expected("xlm-roberta"))


def test_hf_classifier_save_and_load(xlmr_classifier, tmp_path):
    check_saved_classifier(xlmr_classifier, expected("xlm-roberta"), tmp_path)


def test_hf_classifier_head(xlmr_classifier):
    from tfx_textzoo.families.xlm_roberta import XLMRobertaClassifier

    assert isinstance(xlmr_classifier, XLMRobertaClassifier)
    names = [layer.name for layer in xlmr_classifier.layers[-4:]]
    assert names == ["pooled_dropout", "pooled_dense", "output_dropout", "logits"]


def test_count_params_matches_keras_hub_presets():
    # keras-hub's metadata: xlm_roberta_base_multi and multilingual_e5_base 277,450,752;
    # xlm_roberta_large_multi and multilingual_e5_large 558,837,760; bge_m3 566,702,080
    # (8192 positions).
    from keras_hub.src.models.xlm_roberta.xlm_roberta_presets import backbone_presets

    check_preset_counts("xlm-roberta", backbone_presets)


def test_count_params_matches_a_built_model():
    from tfx_textzoo.families.xlm_roberta import TINY_VOCABULARY, count_params

    model = textzoo.load(
        "xlm-roberta-base", num_classes=3, weights=None, vocabulary=TINY_VOCABULARY, num_layers=1
    )
    arch = {**model.architecture, "max_sequence_length": model.backbone.max_sequence_length}
    assert model.count_params() == count_params(arch, 3)


def test_tokenizer_arguments():
    from tfx_textzoo.families.xlm_roberta import TINY_CONFIG, TINY_VOCABULARY, sentencepiece_proto

    proto = sentencepiece_proto(TINY_VOCABULARY)
    model = textzoo.load(
        "xlm-roberta-base", num_classes=2, weights=None, proto=proto, **TINY_CONFIG
    )
    assert model.preprocessor.tokenizer.vocabulary_size() == len(TINY_VOCABULARY) + 3 + 2
    with pytest.raises(ValueError, match="one of proto="):
        textzoo.load(
            "xlm-roberta-base",
            num_classes=2,
            weights=None,
            proto=proto,
            vocabulary=TINY_VOCABULARY,
            **TINY_CONFIG,
        )
    with pytest.raises(TypeError, match="raw strings"):
        model.predict(np.array([[1, 2]]), verbose=0)


def test_hook_is_registered_for_the_model_type():
    family = textzoo.registry.get_family("xlm-roberta")
    assert family.hf_model_types == ("xlm-roberta",)
    config = json.loads((FIXTURES / "xlm-roberta" / "classifier" / "config.json").read_text())
    assert config["model_type"] in family.hf_model_types
    assert [config["id2label"][str(i)] for i in range(3)] == LABELS


def test_tokenizing_survives_a_seed_reset(xlmr_classifier):
    import keras

    texts = ["a", "Café Déjà-vu"]
    before = textzoo.evaluation.predict_proba(xlmr_classifier, texts)
    keras.utils.set_random_seed(0)  # deletes tensorflow_text's eager SentencePiece resource
    np.testing.assert_allclose(
        textzoo.evaluation.predict_proba(xlmr_classifier, texts), before, atol=1e-6
    )
    assert xlmr_classifier.predict(texts, verbose=0).shape == (2, 3)


def test_load_of_the_classifier_directory():
    """textzoo.load(dir) finds the transformers checkpoint and calls the family's hook."""
    directory = FIXTURES / "xlm-roberta" / "classifier"
    with pytest.warns(UserWarning, match="layer_norm_eps"):
        model = textzoo.load(str(directory))
    assert model.labels == LABELS and model.model_name is None
    rows = [r for r in expected("xlm-roberta")["inputs"] if r["kind"] == "text"]
    rows = [r for r in rows if not r["truncated"]]
    np.testing.assert_allclose(
        textzoo.evaluation.predict_proba(model, [r["text"] for r in rows]),
        [r["probabilities"] for r in rows],
        atol=3e-4,  # keras-hub's LayerNorm epsilon (see tests/test_family_roberta.py)
    )
