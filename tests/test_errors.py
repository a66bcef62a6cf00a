"""Bad input gets a clear error that says what was wrong and what to do."""

import numpy as np
import pytest
from helpers import TEXTS, tiny_model

import tfx_textzoo as textzoo
from tfx_textzoo.families.scratch import NotAdaptedError


@pytest.mark.parametrize("num_classes", [1, 0, -3])
def test_num_classes_too_small(num_classes):
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        textzoo.load("scratch-tiny", num_classes=num_classes)


@pytest.mark.parametrize("num_classes", [2.0, "4", True, [4]])
def test_num_classes_not_an_int(num_classes):
    with pytest.raises(TypeError, match="num_classes must be an int"):
        textzoo.load("scratch-tiny", num_classes=num_classes)


def test_num_classes_or_labels_required():
    with pytest.raises(ValueError, match="Pass num_classes=N"):
        textzoo.load("scratch-tiny")


def test_labels_and_num_classes_must_agree():
    with pytest.raises(ValueError, match="num_classes=3 but 2 labels"):
        textzoo.load("scratch-tiny", num_classes=3, labels=["a", "b"])


@pytest.mark.parametrize(
    "labels, error, match",
    [
        ("ab", TypeError, "list of class names"),
        (["a", ""], TypeError, "non-empty strings"),
        (["a", 1], TypeError, "non-empty strings"),
        (["a", "a", "b"], ValueError, "distinct"),
        (["only-one"], ValueError, ">= 2"),
    ],
)
def test_bad_labels(labels, error, match):
    with pytest.raises(error, match=match):
        textzoo.load("scratch-tiny", labels=labels)


@pytest.mark.parametrize("name", ["scratch-tiny", "bert-tiny"])
@pytest.mark.parametrize("bad", [[1, 2, 3], np.array([0.5, 1.5])])
def test_predict_rejects_non_strings(name, bad):
    model = tiny_model(name)
    with pytest.raises(TypeError, match="raw strings"):
        model.predict(bad, verbose=0)


def test_predict_before_adapt_is_a_clear_error():
    model = textzoo.load("scratch-tiny", num_classes=2)
    with pytest.raises(NotAdaptedError, match=r"model.preprocessor.adapt\(train_texts\)"):
        model.predict(TEXTS, verbose=0)


def test_adapt_rejects_non_strings_and_empty():
    model = textzoo.load("scratch-tiny", num_classes=2)
    with pytest.raises(TypeError, match="positions \\[1\\]"):
        model.preprocessor.adapt(["fine", 3])
    with pytest.raises(ValueError, match="at least one"):
        model.preprocessor.adapt([])


def test_unknown_override():
    with pytest.raises(TypeError, match="Unknown argument.*num_layerz"):
        textzoo.load("bert-tiny", num_classes=2, weights=None, num_layerz=1)


def test_architecture_override_needs_random_init():
    with pytest.raises(ValueError, match="weights=None"):
        textzoo.load("bert-tiny", num_classes=2, num_layers=1)


def test_scratch_has_no_pretrained_weights():
    with pytest.raises(ValueError, match="no pretrained weights"):
        textzoo.load("scratch-small", num_classes=2, weights="hf://x/y")


def test_sequence_length_beyond_backbone():
    with pytest.raises(ValueError, match="max_sequence_length"):
        textzoo.load("bert-tiny", num_classes=2, weights=None, sequence_length=1024)


def test_bad_weights_type():
    with pytest.raises(TypeError, match="weights must be"):
        textzoo.load("bert-tiny", num_classes=2, weights=3)


def test_name_must_be_a_string():
    with pytest.raises(TypeError, match="model name must be a string"):
        textzoo.load(42, num_classes=2)


def test_cased_model_random_init_offline_needs_its_vocabulary():
    with pytest.raises(textzoo.WeightsNotFoundError, match="vocabulary=") as info:
        textzoo.load("bert-base-cased", num_classes=2, weights=None)
    assert "not shipped" in str(info.value) and "hf://google-bert/bert-base-cased" in str(
        info.value
    )
