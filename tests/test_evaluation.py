"""predict() with label names, evaluate() and its Report, on tiny local models."""

from __future__ import annotations

import json
import struct

import keras
import numpy as np
import pytest
from helpers import tiny_model

import tfx_textzoo as textzoo
from tfx_textzoo import evaluation
from tfx_textzoo.datasets import TextDataset
from tfx_textzoo.evaluation import Prediction, Report

NAMES = ["World", "Sports", "Business", "Sci/Tech"]
# 30 texts of 1 to ~39 tokens, scrambled, so sorted batches reorder them.
RNG = np.random.default_rng(1)
WORDS = "the team won stocks on friday new chip final peace a of".split()
TEXTS = [" ".join(RNG.choice(WORDS, size=int(k))) for k in RNG.integers(1, 40, size=30)]


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    model = tiny_model(
        "bert-tiny",
        labels=NAMES,
        num_classes=None,
        sequence_length=48,
        max_sequence_length=48,
        pooling="mean",
    )
    # A sharp random head, so that every text gets its own, far-from-uniform probabilities.
    kernel = model.output_dense.kernel
    kernel.assign(np.random.default_rng(0).normal(0, 30, kernel.shape))
    return model


# A hand-checked case: 3 classes, 9 texts.
#   true  a a a b b c c c c
#   pred  a a b b c c c c a
# confusion rows (true) a: [2 1 0]  b: [0 1 1]  c: [1 0 3]
# precision a 2/3, b 1/2, c 3/4; recall a 2/3, b 1/2, c 3/4 (same here); F1 the same.
# accuracy 6/9; macro F1 (2/3 + 1/2 + 3/4) / 3 = 0.638889; weighted F1 (3*2/3 + 2/2 + 4*3/4)/9.
HAND_TRUE = [0, 0, 0, 1, 1, 2, 2, 2, 2]
HAND_PROBS = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.5, 0.3, 0.2],
        [0.3, 0.6, 0.1],  # mistake, confidence 0.6
        [0.1, 0.8, 0.1],
        [0.05, 0.05, 0.9],  # mistake, confidence 0.9
        [0.1, 0.1, 0.8],
        [0.2, 0.2, 0.6],
        [0.0, 0.1, 0.9],
        [0.7, 0.1, 0.2],  # mistake, confidence 0.7
    ]
)
HAND_TEXTS = [f"text {i}" for i in range(9)]


def hand_report():
    return Report.from_predictions(
        HAND_TRUE, HAND_PROBS, label_names=["a", "b", "c"], texts=HAND_TEXTS, model_name="m"
    )


def test_report_numbers_match_the_hand_checked_case():
    report = hand_report()
    assert report.accuracy == pytest.approx(6 / 9)
    assert report.macro_f1 == pytest.approx(0.638889, abs=1e-6)
    assert report.weighted_f1 == pytest.approx(6 / 9)
    np.testing.assert_array_equal(report.confusion_matrix, [[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    expected = {"a": (2 / 3, 2 / 3, 3), "b": (0.5, 0.5, 2), "c": (0.75, 0.75, 4)}
    for name, (precision, recall, support) in expected.items():
        got = report.per_class[name]
        assert got["precision"] == pytest.approx(precision)
        assert got["recall"] == pytest.approx(recall)
        assert got["f1"] == pytest.approx(precision)  # P == R here, so F1 == P
        assert got["support"] == support
    # mean cross-entropy of the true class, with the one zero probability clipped
    p_true = np.clip(HAND_PROBS[np.arange(9), HAND_TRUE], 1e-12, 1)
    assert report.loss == pytest.approx(-np.log(p_true).mean(), rel=1e-3)
    assert report.num_examples == 9


def test_errors_are_the_most_confident_mistakes_first():
    errors = hand_report().errors(k=10)
    assert [e["index"] for e in errors] == [4, 8, 2]
    assert errors[0] == {
        "index": 4,
        "text": "text 4",
        "true": "b",
        "predicted": "c",
        "confidence": 0.9,
        "true_probability": 0.05,
    }
    assert [e["index"] for e in hand_report().errors(k=2)] == [4, 8]


def test_report_json_round_trip_and_markdown(tmp_path):
    report = hand_report()
    path = tmp_path / "report.json"
    text = report.to_json(path)
    assert json.loads(path.read_text()) == json.loads(text)
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    data = json.loads(text)
    assert data["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [1, 0, 3]]
    assert "texts" not in data and "probabilities" not in data
    back = Report.from_json(path)
    assert back.accuracy == report.accuracy and back.per_class == report.per_class
    np.testing.assert_array_equal(back.confusion_matrix, report.confusion_matrix)
    assert Report.from_json(text).macro_f1 == report.macro_f1
    with pytest.raises(ValueError, match="keep"):
        back.errors()
    with pytest.raises(ValueError, match="not an evaluation report"):
        Report.from_dict({"accuracy": 1.0})

    markdown = report.to_markdown()
    assert markdown.startswith("**Accuracy 66.67%**, macro F1 0.6389 on 9 texts (m)")
    assert "| b | 0.5000 | 0.5000 | 0.5000 | 2 |" in markdown
    assert "| c | 1 | 0 | 3 |" in markdown  # confusion-matrix row of true class c


def _umask():
    import os

    umask = os.umask(0)
    os.umask(umask)
    return umask


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # IHDR width, height


@pytest.mark.parametrize("n_classes", [3, 14])
def test_confusion_matrix_png_is_written_with_the_right_size(tmp_path, n_classes):
    rng = np.random.default_rng(0)
    labels = np.arange(200) % n_classes
    probs = rng.dirichlet(np.ones(n_classes), size=200)
    names = [f"class {i}" for i in range(n_classes)]
    report = Report.from_predictions(labels, probs, label_names=names)
    path = tmp_path / "plots" / "cm.png"
    figure = report.plot_confusion_matrix(path, dpi=80)
    width, height = _png_size(path)
    expected = np.round(figure.get_size_inches() * 80).astype(int)
    assert (width, height) == tuple(expected)
    assert path.stat().st_size > 5_000
    assert [p.name for p in path.parent.iterdir()] == ["cm.png"]  # no temp file left
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()  # not tempfile's private 0600
    ax = figure.axes[0]
    assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == n_classes**2
    assert cells[0].split("\n")[0] == str(report.confusion_matrix[0, 0])
    # shades are row-normalized: every row of the image sums to 1
    np.testing.assert_allclose(ax.images[0].get_array().sum(axis=1), 1.0)


def test_predict_keeps_input_order_under_length_sorting(model):
    reference = model.predict(np.array(TEXTS), verbose=0)  # padded, in order
    # Rows in length order differ from rows in input order, so the check below bites.
    by_length = np.argsort([len(t.split()) for t in TEXTS], kind="stable")
    assert np.abs(reference[by_length] - reference).max() > 1e-3
    probs = evaluation.predict_proba(model, TEXTS, batch_size=4)
    np.testing.assert_allclose(probs, reference, atol=1e-5)
    labels = textzoo.predict(model, TEXTS, batch_size=4)
    assert labels == [NAMES[i] for i in reference.argmax(axis=1)]


def test_predict_return_shapes(model):
    reference = model.predict(np.array(TEXTS[:3]), verbose=0)
    one = textzoo.predict(model, TEXTS[0])
    assert one == NAMES[reference[0].argmax()]
    top2 = textzoo.predict(model, TEXTS[:3], top_k=2)
    assert [row[0] for row in top2] == [NAMES[i] for i in reference.argmax(1)]
    assert all(len(row) == 2 and row[0] != row[1] for row in top2)
    full = textzoo.predict(model, TEXTS[:3], return_proba=True)
    for row, ref in zip(full, reference, strict=True):
        assert all(isinstance(p, Prediction) for p in row)
        assert [p.label for p in row] == [NAMES[i] for i in np.argsort(-ref, kind="stable")]
        assert sum(p.score for p in row) == pytest.approx(1.0, abs=1e-5)
        assert row[0].score == pytest.approx(ref.max(), abs=1e-5)
    label, score = textzoo.predict(model, TEXTS[1], return_proba=True, top_k=1)[0]
    assert label == NAMES[reference[1].argmax()] and score == pytest.approx(
        reference[1].max(), abs=1e-5
    )


@pytest.mark.parametrize(
    "texts, kwargs, error, match",
    [
        ([], {}, ValueError, "no texts"),
        (["fine", "  ", ""], {}, ValueError, r"2 empty text\(s\), at positions \[1, 2\]"),
        (["fine", 3], {}, TypeError, r"positions \[1\] hold int"),
        (["fine"], {"top_k": 5}, ValueError, r"top_k must be an int in 1\.\.4"),
        (["fine"], {"top_k": 0}, ValueError, "top_k"),
        (b"bytes", {}, TypeError, "sequence of strings"),
    ],
)
def test_predict_errors(model, texts, kwargs, error, match):
    with pytest.raises(error, match=match):
        textzoo.predict(model, texts, **kwargs)


def test_predict_without_labels_uses_class_numbers():
    model = tiny_model("bert-tiny", num_classes=3)
    assert set(textzoo.predict(model, TEXTS[:5])) <= {"0", "1", "2"}


def test_xla_predictions_match_and_are_reused(model):
    plain = evaluation.predict_proba(model, TEXTS, jit_compile=False)
    xla = evaluation.predict_proba(model, TEXTS, jit_compile=True)
    np.testing.assert_allclose(xla, plain, atol=1e-5)
    # once compiled, "auto" keeps using the compiled steps even for short inputs
    assert evaluation._use_xla(model, "auto", 1)
    assert not evaluation._use_xla(tiny_model("bert-tiny"), "auto", 10)
    assert evaluation._use_xla(tiny_model("bert-tiny"), "auto", evaluation.XLA_MIN_TEXTS_ON_CPU)


def test_progress_bar_auto(model, capsys, monkeypatch):
    evaluation.predict_proba(model, TEXTS, batch_size=4, verbose="auto")
    assert capsys.readouterr().out == ""
    monkeypatch.setattr(evaluation, "PROGRESS_MIN_BATCHES", 2)
    evaluation.predict_proba(model, TEXTS, batch_size=4, verbose="auto")
    out = capsys.readouterr().out
    assert "8/8" in out  # 30 texts in batches of 4


def test_predict_on_finetuned_and_reloaded_models(tmp_path):
    keras.utils.set_random_seed(0)
    model = tiny_model("bert-tiny", labels=NAMES, num_classes=None)
    labels = np.arange(len(TEXTS)) % 4
    textzoo.finetune(model, (TEXTS, labels), epochs=2, freeze_epochs=1, batch_size=8, verbose=0)
    after = textzoo.predict(model, TEXTS, return_proba=True)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    again = textzoo.predict(restored, TEXTS, return_proba=True)
    assert [[p.label for p in row] for row in again] == [[p.label for p in row] for row in after]
    np.testing.assert_allclose(
        [[p.score for p in row] for row in again],
        [[p.score for p in row] for row in after],
        atol=1e-5,
    )


def test_scratch_model_predicts_after_adapt_and_says_when_not():
    model = textzoo.load("scratch-tiny", labels=NAMES, weights=None)
    with pytest.raises(Exception, match="adapt"):
        textzoo.predict(model, ["a text"])
    model.preprocessor.adapt(TEXTS)
    assert len(textzoo.predict(model, TEXTS)) == len(TEXTS)


def test_evaluate_report_matches_predictions(model):
    labels = np.arange(len(TEXTS)) % 4
    report = textzoo.evaluate(model, TextDataset(TEXTS, labels, NAMES, "fixture"))
    probs = model.predict(np.array(TEXTS), verbose=0)
    predicted = probs.argmax(1)
    assert report.accuracy == pytest.approx((predicted == labels).mean())
    assert report.num_examples == 30 and report.dataset_name == "fixture"
    assert report.model_name == model.model_name and report.label_names == NAMES
    np.testing.assert_allclose(report.probabilities, probs, atol=1e-5)
    assert report.confusion_matrix.sum() == 30
    assert report.confusion_matrix[1].sum() == (labels == 1).sum()
    for error in report.errors(k=3):
        assert error["text"] == TEXTS[error["index"]]
        assert error["true"] == NAMES[labels[error["index"]]]
        assert error["predicted"] == NAMES[predicted[error["index"]]]


def test_evaluate_matches_dataset_labels_by_name(model):
    labels = np.arange(len(TEXTS)) % 4
    straight = textzoo.evaluate(model, TextDataset(TEXTS, labels, NAMES))
    shuffled_names = ["Sports", "World", "Sci/Tech", "Business"]  # same classes, other order
    relabelled = np.array([shuffled_names.index(NAMES[i]) for i in labels])
    remapped = textzoo.evaluate(model, TextDataset(TEXTS, relabelled, shuffled_names))
    assert remapped.accuracy == straight.accuracy
    np.testing.assert_array_equal(remapped.confusion_matrix, straight.confusion_matrix)
    by_name = textzoo.evaluate(model, (TEXTS, [NAMES[i] for i in labels]))
    assert by_name.accuracy == straight.accuracy


@pytest.mark.parametrize(
    "data, match",
    [
        (TextDataset(TEXTS[:2], np.array([0, 1]), ["neg", "pos"]), "not the model's"),
        ((TEXTS[:2], [0, 7]), r"outside 0\.\.3"),
        ((TEXTS[:2], ["World", "Weather"]), r"unknown label name\(s\) \['Weather'\]"),
        ((TEXTS[:2], [0]), "2 texts but 1 labels"),
    ],
)
def test_evaluate_label_errors(model, data, match):
    with pytest.raises(ValueError, match=match):
        textzoo.evaluate(model, data)


def test_evaluate_dataframe():
    pd = pytest.importorskip("pandas")
    model = tiny_model("bert-tiny", labels=["neg", "pos"], num_classes=None)
    frame = pd.DataFrame({"review": TEXTS[:6], "stars": ["pos", "neg"] * 3})
    report = textzoo.evaluate(model, frame, text_column="review", label_column="stars")
    assert report.num_examples == 6
    assert sum(m["support"] for m in report.per_class.values()) == 6
