"""The multi-label Report and the long-text fields of both kinds, against hand computations."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from tfx_textzoo.evaluation import Report

# A hand-checked multi-label case: 4 labels, 4 texts, thresholds (0.5, 0.7, 0.3, 0.5).
#            a    b    c    d
# true  t0   1    0    1    0
#       t1   0    1    0    0
#       t2   1    1    0    0
#       t3   0    0    0    0
# probs t0  0.9  0.6  0.2  0.1   -> decided 1 0 0 0  (c missed)
#       t1  0.1  0.8  0.4  0.2   -> decided 0 1 1 0  (c extra)
#       t2  0.7  0.7  0.1  0.3   -> decided 1 1 0 0  (b exactly at its threshold: chosen)
#       t3  0.2  0.3  0.25 0.4   -> decided 0 0 0 0  (nothing true, nothing chosen: right)
NAMES = ["a", "b", "c", "d"]
THRESHOLDS = (0.5, 0.7, 0.3, 0.5)
TRUE = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0]])
PROBS = np.array(
    [
        [0.9, 0.6, 0.2, 0.1],
        [0.1, 0.8, 0.4, 0.2],
        [0.7, 0.7, 0.1, 0.3],
        [0.2, 0.3, 0.25, 0.4],
    ]
)
TEXTS = ["t0", "t1", "t2", "t3"]


def multi_report(**kwargs):
    return Report.from_predictions(
        TRUE,
        PROBS,
        label_names=NAMES,
        thresholds=THRESHOLDS,
        texts=TEXTS,
        model_name="m",
        **kwargs,
    )


def test_multi_label_metrics_match_the_hand_computation():
    report = multi_report()
    assert report.task == "multi_label" and report.multi_label
    assert report.thresholds == list(THRESHOLDS)
    assert report.confusion_matrix is None
    # decisions: 4 true positives (a: t0 t2, b: t1 t2), 1 false positive (t1 c),
    # 1 false negative (t0 c) out of 16 decisions
    assert report.micro_f1 == pytest.approx(2 * 4 / (2 * 4 + 1 + 1))
    assert report.hamming_loss == pytest.approx(2 / 16)
    assert report.subset_accuracy == report.accuracy == pytest.approx(2 / 4)  # t2, t3
    # per-label F1: a 1, b 1, c 0 (no tp), d 0 (no true, none chosen)
    assert report.macro_f1 == pytest.approx((1 + 1 + 0 + 0) / 4)
    assert report.weighted_f1 == pytest.approx((2 * 1 + 2 * 1 + 1 * 0 + 0) / 5)
    # per text: t0 tp1 fn1 -> 2/3, t1 tp1 fp1 -> 2/3, t2 1, t3 (empty = empty) 1
    assert report.samples_f1 == pytest.approx((2 / 3 + 2 / 3 + 1 + 1) / 4)
    expected = {
        "a": (1.0, 1.0, 1.0, 2, 1.0),
        "b": (1.0, 1.0, 1.0, 2, 1.0),
        # c: its one positive (0.2) beats one of three negatives (0.1 < 0.2 < 0.25, 0.4)
        "c": (0.0, 0.0, 0.0, 1, 1 / 3),
        "d": (0.0, 0.0, 0.0, 0, None),  # no positive text: AUC undefined
    }
    for name, (precision, recall, f1, support, auc) in expected.items():
        got = report.per_class[name]
        assert got["precision"] == pytest.approx(precision)
        assert got["recall"] == pytest.approx(recall)
        assert got["f1"] == pytest.approx(f1)
        assert got["support"] == support
        assert got["roc_auc"] == (None if auc is None else pytest.approx(auc))
    p = np.clip(PROBS, 1e-12, 1 - 1e-12)
    bce = -(TRUE * np.log(p) + (1 - TRUE) * np.log(1 - p)).mean()
    assert report.loss == pytest.approx(bce)
    np.testing.assert_array_equal(report.predictions, PROBS >= np.array(THRESHOLDS))


def test_multi_label_metrics_match_sklearn_on_random_data():
    from sklearn import metrics

    rng = np.random.default_rng(0)
    truth = (rng.random((200, 6)) < 0.3).astype(int)
    probs = np.clip(truth * 0.4 + rng.random((200, 6)) * 0.6, 0, 1)
    cut = np.array([0.3, 0.4, 0.5, 0.6, 0.5, 0.45])
    report = Report.from_predictions(
        truth, probs, label_names=list("uvwxyz"), thresholds=cut.tolist()
    )
    decided = (probs >= cut).astype(int)
    assert report.micro_f1 == pytest.approx(metrics.f1_score(truth, decided, average="micro"))
    assert report.macro_f1 == pytest.approx(metrics.f1_score(truth, decided, average="macro"))
    assert report.hamming_loss == pytest.approx((decided != truth).mean())
    assert report.accuracy == pytest.approx((decided == truth).all(axis=1).mean())
    for j, name in enumerate("uvwxyz"):
        assert report.per_class[name]["roc_auc"] == pytest.approx(
            metrics.roc_auc_score(truth[:, j], probs[:, j])
        )


def test_default_thresholds_are_one_half():
    report = Report.from_predictions([[1, 0]], np.array([[0.5, 0.49]]), label_names=["a", "b"])
    assert report.thresholds == [0.5, 0.5]
    assert report.subset_accuracy == 1.0


def test_multi_label_errors_rank_texts_by_wrong_labels():
    truth = np.array([[1, 1, 1], [1, 0, 0], [0, 0, 0], [0, 1, 0]])
    probs = np.array([[0.1, 0.2, 0.9], [0.9, 0.1, 0.2], [0.6, 0.1, 0.1], [0.9, 0.4, 0.1]])
    report = Report.from_predictions(
        truth, probs, label_names=["x", "y", "z"], texts=["p", "q", "r", "s"]
    )
    errors = report.errors()
    # p: 2 wrong; s: 2 wrong (x extra, y missing), |p - y| sum 0.9+0.6+0.1 = 1.6 < p's
    # 0.9+0.8+0.1 = 1.8; r: 1 wrong; q: right (left out)
    assert [e["text"] for e in errors] == ["p", "s", "r"]
    assert errors[0] == {
        "index": 0,
        "text": "p",
        "true": ["x", "y", "z"],
        "predicted": ["z"],
        "missing": ["x", "y"],
        "extra": [],
        "num_wrong": 2,
        "probabilities": {"x": 0.1, "y": 0.2, "z": 0.9},
    }
    assert errors[1]["missing"] == ["y"] and errors[1]["extra"] == ["x"]
    assert [e["text"] for e in report.errors(k=1)] == ["p"]


def test_errors_of_pairs_show_the_second_text():
    single = Report.from_predictions(
        [0, 1],
        np.array([[0.2, 0.8], [0.1, 0.9]]),
        label_names=["no", "yes"],
        texts=["a", "b"],
        text_pairs=["a2", "b2"],
    )
    assert single.errors() == [
        {
            "index": 0,
            "text": "a",
            "text_pair": "a2",
            "true": "no",
            "predicted": "yes",
            "confidence": 0.8,
            "true_probability": 0.2,
        }
    ]
    multi = multi_report(text_pairs=["u0", "u1", "u2", "u3"])
    assert [(e["text"], e["text_pair"]) for e in multi.errors()] == [("t0", "u0"), ("t1", "u1")]


def test_multi_label_json_round_trip_and_markdown(tmp_path):
    report = multi_report(num_long_texts=1, long_text="chunks", dataset_name="tiny")
    path = tmp_path / "report.json"
    text = report.to_json(path)
    data = json.loads(path.read_text())
    assert data == json.loads(text)
    assert data["task"] == "multi_label"
    assert data["thresholds"] == list(THRESHOLDS)
    assert data["subset_accuracy"] == data["accuracy"] == 0.5
    assert data["num_long_texts"] == 1 and data["long_text"] == "chunks"
    assert data["per_class"]["d"]["roc_auc"] is None
    assert "confusion_matrix" not in data and "probabilities" not in data
    back = Report.from_json(path)
    assert back.task == "multi_label" and back.per_class == report.per_class
    for field in ("micro_f1", "macro_f1", "samples_f1", "hamming_loss", "accuracy", "loss"):
        assert getattr(back, field) == getattr(report, field)
    assert back.thresholds == report.thresholds and back.num_examples == 4
    assert back.num_long_texts == 1 and back.long_text == "chunks"
    assert back.to_markdown() == report.to_markdown()
    with pytest.raises(ValueError, match="keep"):
        back.errors()
    with pytest.raises(ValueError, match=r"missing \['micro_f1'"):
        Report.from_dict(
            {
                "task": "multi_label",
                "label_names": [],
                "accuracy": 1.0,
                "per_class": {},
                "num_examples": 1,
            }
        )
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        Report.from_dict({**data, "task": "ranking"})

    lines = report.to_markdown().splitlines()
    assert lines[0] == (
        "**Micro F1 0.8000**, macro F1 0.5000, samples F1 0.8333, subset accuracy 50.00%, "
        "Hamming loss 0.1250 on 4 texts of tiny (m)"
    )
    assert "| label | threshold | precision | recall | F1 | ROC AUC | support |" in lines
    assert "| b | 0.70 | 1.0000 | 1.0000 | 1.0000 | 1.0000 | 2 |" in lines
    assert "| c | 0.30 | 0.0000 | 0.0000 | 0.0000 | 0.3333 | 1 |" in lines
    assert "| d | 0.50 | 0.0000 | 0.0000 | 0.0000 | – | 0 |" in lines
    # macro ROC AUC over the labels where it is defined: (1 + 1 + 1/3) / 3
    assert "| **macro avg** | | 0.5000 | 0.5000 | 0.5000 | 0.7778 | 5 |" in lines
    assert lines[-1] == (
        "1 of 4 texts are longer than the model's sequence length; they were read in "
        'overlapping windows whose probabilities were aggregated (long_text="chunks").'
    )
    assert str(report) == report.to_markdown()


def test_single_label_report_carries_the_long_text_count():
    report = Report.from_predictions(
        [0, 1, 1],
        np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]),
        label_names=["neg", "pos"],
        num_long_texts=2,
        long_text="truncate",
    )
    data = report.to_dict()
    assert data["task"] == "single_label"
    assert data["num_long_texts"] == 2 and data["long_text"] == "truncate"
    assert "thresholds" not in data and "micro_f1" not in data
    back = Report.from_dict(data)
    assert back.num_long_texts == 2 and back.long_text == "truncate"
    assert report.to_markdown().splitlines()[-1] == (
        "2 of 3 texts are longer than the model's sequence length; they were truncated, so "
        'only part of each was read (long_text="truncate").'
    )
    assert report.thresholds is None and report.subset_accuracy is None


def test_a_report_dict_from_before_tasks_reads_as_single_label():
    old = {
        "model_name": "m",
        "accuracy": 0.5,
        "macro_f1": 0.5,
        "label_names": ["a", "b"],
        "per_class": {n: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 1} for n in "ab"},
        "confusion_matrix": [[1, 0], [1, 0]],
    }
    report = Report.from_dict(old)
    assert report.task == "single_label" and report.num_examples == 2
    assert report.num_long_texts is None
    assert "longer than" not in report.to_markdown()


@pytest.mark.parametrize(
    "labels, probs, kwargs, match",
    [
        ([[1, 2]], [[0.1, 0.2]], {}, "must be 0 or 1"),
        ([[1, 0]], [[0.1, 0.2, 0.3]], {}, r"shape \(1, 2\)"),
        ([0, 1], [[0.1, 0.9], [0.2, 0.8]], {"thresholds": [0.5, 0.5]}, "multi-label reports"),
        ([[1, 0]], [[0.1, 0.2]], {"thresholds": [0.5]}, "2 labels but 1 thresholds"),
        ([[1, 0]], [[0.1, 0.2]], {"long_text": "windows"}, "long_text must be"),
    ],
)
def test_from_predictions_errors(labels, probs, kwargs, match):
    names = ["a", "b"]
    with pytest.raises(ValueError, match=match):
        Report.from_predictions(labels, np.array(probs), label_names=names, **kwargs)


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # IHDR width, height


@pytest.mark.parametrize("num_labels", [4, 28])
def test_plot_per_label_draws_each_label_s_scores(tmp_path, num_labels):
    rng = np.random.default_rng(0)
    truth = (rng.random((100, num_labels)) < 0.4).astype(int)
    probs = rng.random((100, num_labels))
    names = [f"label {i}" for i in range(num_labels)]
    report = Report.from_predictions(truth, probs, label_names=names)
    path = tmp_path / "plots" / "per_label.png"
    figure = report.plot_per_label(path, dpi=80)
    assert tuple(_png_size(path)) == tuple(np.round(figure.get_size_inches() * 80).astype(int))
    assert [p.name for p in path.parent.iterdir()] == ["per_label.png"]
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["F1", "precision", "recall"]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [f"{n} (n={report.per_class[n]['support']})" for n in names]
    widths = [bar.get_width() for bar in ax.patches]
    assert len(widths) == 3 * num_labels
    f1 = widths[:num_labels]  # the F1 bars come first, in label order
    np.testing.assert_allclose(f1, [report.per_class[n]["f1"] for n in names])
    assert "micro F1" in ax.get_title()


def test_confusion_matrix_of_a_multi_label_report_points_to_plot_per_label(tmp_path):
    with pytest.raises(ValueError, match=r"plot_per_label"):
        multi_report().plot_confusion_matrix(tmp_path / "cm.png")
    assert not (tmp_path / "cm.png").exists()
