"""Multi-label, sentence pairs and long documents for every family, at tiny size.

One name per family: finetune (both phases where the backbone is pretrained), predict,
evaluate, save_pretrained -> load, and export, each checked against an independent
computation (a numpy threshold of the probabilities, the preprocessor fed by hand, the
numpy mean of window probabilities).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import tiny_overrides

import tfx_textzoo as textzoo
from tfx_textzoo import inference, preprocessing

LABELS = ["sport", "money", "tech"]
TEXTS = [
    "the team won the final",
    "stocks fell on friday",
    "a new chip for phones",
    "the team bought a new chip",
    "stocks of the team rose",
    "phones and stocks fell",
]
SETS = [["sport"], ["money"], ["tech"], ["sport", "tech"], ["sport", "money"], ["tech", "money"]]


def _first_name_of_each_family() -> list[str]:
    names: dict[str, str] = {}
    for name in textzoo.list_models():
        spec = textzoo.registry.get_spec(name)
        if spec.name == name:
            names.setdefault(spec.family, name)
    return sorted(names.values())


#: make test runs the BERT and scratch names; the other families are `slow` (CI runs them).
_FAST_FAMILIES = {"bert", "scratch"}
NAMES = [
    name
    if textzoo.registry.get_spec(name).family in _FAST_FAMILIES
    else pytest.param(name, marks=pytest.mark.slow)
    for name in _first_name_of_each_family()
]


def _tiny(name: str, **kwargs):
    family = textzoo.registry.get_spec(name).family
    kwargs = {**tiny_overrides(family), "sequence_length": 16, **kwargs}
    return textzoo.load(name, weights=None, **kwargs)


@pytest.mark.parametrize("name", NAMES)
def test_multi_label_end_to_end(name, tmp_path):
    import tensorflow as tf

    model = _tiny(name, labels=LABELS, multi_label=True)
    texts, sets = TEXTS * 3, SETS * 3
    history = textzoo.finetune(
        model,
        (texts, sets),
        validation_data=(TEXTS, SETS),
        epochs=2,
        freeze_epochs=1,
        batch_size=4,
        seed=0,
        verbose=0,
    )
    assert all(np.isfinite(r["loss"]) for r in history.epochs)
    thresholds = model.task.threshold_array(len(LABELS))
    probs = textzoo.evaluation.predict_proba(model, TEXTS)
    assert probs.shape == (len(TEXTS), len(LABELS))
    assert ((probs > 0) & (probs < 1)).all()
    # Tuned on the validation data: equal to tune_thresholds on the model's own outputs.
    targets = np.array([[label in s for label in LABELS] for s in SETS], dtype="float32")
    assert tuple(thresholds) == textzoo.tasks.tune_thresholds(probs, targets)

    predicted = textzoo.predict(model, TEXTS)
    expected = [[LABELS[j] for j in np.flatnonzero(p >= thresholds)] for p in probs]
    assert predicted == expected

    report = textzoo.evaluate(model, (TEXTS, SETS))
    decided = probs >= thresholds
    hamming = float((decided != targets.astype(bool)).mean())
    assert report.to_dict()["hamming_loss"] == pytest.approx(hamming)

    textzoo.save_pretrained(model, tmp_path / "saved")
    restored = textzoo.load(str(tmp_path / "saved"))
    assert restored.task == model.task
    np.testing.assert_allclose(
        textzoo.evaluation.predict_proba(restored, TEXTS), probs, atol=1e-6
    )
    assert textzoo.predict(restored, TEXTS) == expected

    served = tf.saved_model.load(str(textzoo.export(model, tmp_path / "exported")))
    out = served.signatures["serving_default"](text=tf.constant(TEXTS))
    np.testing.assert_allclose(out["probabilities"].numpy(), probs, atol=1e-5)


PREMISES = ["a man plays a guitar", "the cat sleeps", "stocks fell today", "the team won"]
HYPOTHESES = ["a person makes music", "the dog barks", "markets went down", "they lost"]
PAIR_LABELS = [0, 1, 0, 1]


@pytest.mark.parametrize("name", NAMES)
def test_pairs_end_to_end(name, tmp_path):
    import tensorflow as tf

    model = _tiny(name, labels=["entailment", "not_entailment"])
    textzoo.finetune(
        model,
        ((PREMISES * 3, HYPOTHESES * 3), PAIR_LABELS * 3),
        epochs=2,
        freeze_epochs=1,
        batch_size=4,
        seed=0,
        verbose=0,
    )
    assert model.task.text_pair
    pairs = list(zip(PREMISES, HYPOTHESES, strict=True))
    probs = textzoo.evaluation.predict_proba(model, pairs)
    # Independent: the model's own preprocessor on (a, b), then the Keras model.
    # (A lone 2-tuple would read as (texts, labels): pass y=None explicitly.)
    features = model.preprocessor((tf.constant(PREMISES), tf.constant(HYPOTHESES)), None)
    by_hand = np.asarray(model(features, training=False))
    np.testing.assert_allclose(probs, by_hand, atol=1e-5)
    assert textzoo.predict(model, pairs) == [model.labels[i] for i in by_hand.argmax(1)]
    with pytest.raises(ValueError, match="pair"):
        textzoo.predict(model, PREMISES)

    report = textzoo.evaluate(model, ((PREMISES, HYPOTHESES), PAIR_LABELS))
    accuracy = float((by_hand.argmax(1) == np.array(PAIR_LABELS)).mean())
    assert report.accuracy == pytest.approx(accuracy)

    textzoo.save_pretrained(model, tmp_path / "saved")
    restored = textzoo.load(str(tmp_path / "saved"))
    assert restored.task.text_pair
    np.testing.assert_allclose(
        textzoo.evaluation.predict_proba(restored, pairs), probs, atol=1e-6
    )
    served = tf.saved_model.load(str(textzoo.export(model, tmp_path / "exported")))
    out = served.signatures["serving_default"](
        text=tf.constant(PREMISES), text_pair=tf.constant(HYPOTHESES)
    )
    np.testing.assert_allclose(out["probabilities"].numpy(), probs, atol=1e-5)


LONG = [
    " ".join(["the team won the final"] * 6 + ["stocks fell"] * 3),
    "a new chip",
    " ".join(["phones and stocks fell"] * 8),
]


@pytest.mark.parametrize("name", NAMES)
def test_long_texts_end_to_end(name, tmp_path):
    model = _tiny(name, labels=["a", "b"])
    model.prepare_tokenizer(LONG)
    textzoo.finetune(
        model,
        (LONG * 2, [0, 1, 0] * 2),
        epochs=1,
        freeze_epochs=1,
        batch_size=2,
        truncation="head+tail",
        seed=0,
        verbose=0,
    )
    assert model.task.truncation == "head+tail"
    tok = preprocessing.tokenize(model, LONG)
    assert tok.num_truncated == 2  # the first and last texts do not fit 16 tokens
    windows = preprocessing.tokenize_windows(model, LONG)
    assert sorted(set(windows.documents.tolist())) == [0, 1, 2]
    assert (windows.documents == 1).sum() == 1  # a text that fits is one window
    window_probs = inference.probabilities(model, windows, 8)
    expected = np.stack([window_probs[windows.documents == i].mean(0) for i in range(3)])
    chunked = textzoo.evaluation.predict_proba(model, LONG, long_text="chunks")
    np.testing.assert_allclose(chunked, expected, atol=1e-6)
    report = textzoo.evaluate(model, (LONG, [0, 1, 0]), long_text="chunks")
    assert report.to_dict()["num_long_texts"] == 2

    textzoo.save_pretrained(model, tmp_path / "saved")
    restored = textzoo.load(str(tmp_path / "saved"))
    assert restored.task.truncation == "head+tail"
    np.testing.assert_allclose(
        textzoo.evaluation.predict_proba(restored, LONG),
        textzoo.evaluation.predict_proba(model, LONG),
        atol=1e-6,
    )
