"""tasks.Task and its helpers: validation, decisions, config round trip, threshold tuning.

Expected values are computed independently: by hand, or by a brute-force loop over the
grid with exact fractions (no numpy broadcasting, as tasks.tune_thresholds uses).
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction

import numpy as np
import pytest

from tfx_textzoo import tasks
from tfx_textzoo.errors import InvalidArgumentError
from tfx_textzoo.tasks import Task

GRID = [round(0.05 * i, 2) for i in range(1, 20)]  # 0.05 .. 0.95, as documented


# --- validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"multi_label": 1}, TypeError, "multi_label must be True or False, got 1"),
        ({"multi_label": "yes"}, TypeError, "multi_label must be True or False"),
        ({"text_pair": None}, TypeError, "text_pair must be True or False, got None"),
        ({"truncation": "middle"}, InvalidArgumentError, "truncation.*'head'"),
        ({"truncation": None}, InvalidArgumentError, "truncation"),
        ({"thresholds": (0.5, 0.5)}, ValueError, "thresholds are for multi-label models"),
        ({"multi_label": True, "thresholds": (0.5, 1.0)}, ValueError, "between 0 and 1"),
        ({"multi_label": True, "thresholds": (0.0,)}, ValueError, "between 0 and 1"),
        ({"multi_label": True, "thresholds": (0.3, float("nan"))}, ValueError, "between 0"),
        ({"multi_label": True, "thresholds": (-0.1,)}, ValueError, r"got \[-0.1\]"),
    ],
)
def test_invalid_tasks_are_refused_with_what_was_wrong(kwargs, error, message):
    with pytest.raises(error, match=message):
        Task(**kwargs)


def test_truncation_error_is_a_value_error_naming_the_choices():
    with pytest.raises(ValueError) as info:
        Task(truncation="both")
    text = str(info.value)
    assert all(choice in text for choice in ("'head'", "'tail'", "'head+tail'")), text
    assert tasks.check_truncation("head+tail") == "head+tail"
    with pytest.raises(InvalidArgumentError, match="long_text_truncation"):
        tasks.check_truncation("x", argument="long_text_truncation")


def test_thresholds_are_normalised_to_a_tuple_of_floats():
    task = Task(multi_label=True, thresholds=np.array([0.25, 0.75], dtype="float32"))
    assert task.thresholds == (0.25, 0.75)
    assert all(type(t) is float for t in task.thresholds)
    assert Task(multi_label=True, thresholds=[0.4]).thresholds == (0.4,)
    hash(task)  # frozen and hashable: usable as a key, comparable


def test_replace_returns_a_new_task_and_validates():
    task = Task(multi_label=True)
    changed = task.replace(thresholds=(0.2, 0.9), text_pair=True, truncation="tail")
    assert task == Task(multi_label=True)  # unchanged
    assert changed == Task(
        multi_label=True, text_pair=True, thresholds=(0.2, 0.9), truncation="tail"
    )
    with pytest.raises(ValueError, match="thresholds are for multi-label"):
        changed.replace(multi_label=False)
    with pytest.raises(AttributeError):
        task.multi_label = False  # type: ignore[misc]


def test_activation_kind_and_metric_follow_multi_label():
    single, multi = Task(), Task(multi_label=True)
    assert (single.activation, single.kind, single.metric_name) == (
        "softmax",
        "single_label",
        "accuracy",
    )
    assert (multi.activation, multi.kind, multi.metric_name) == (
        "sigmoid",
        "multi_label",
        "micro_f1",
    )
    assert [m.name for m in single.metrics()] == [single.metric_name]
    assert [m.name for m in multi.metrics()] == [multi.metric_name]
    assert type(single.loss()).__name__ == "SparseCategoricalCrossentropy"
    assert type(multi.loss()).__name__ == "BinaryCrossentropy"


def test_multi_label_loss_is_binary_cross_entropy_by_hand():
    p = np.array([[0.9, 0.2, 0.6]], dtype="float32")
    y = np.array([[1.0, 0.0, 0.0]], dtype="float32")
    want = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    got = float(Task(multi_label=True).loss()(y, p))
    assert got == pytest.approx(want, rel=1e-5)


# --- decide ---------------------------------------------------------------------------


def test_decide_single_label_is_argmax():
    probs = [[0.1, 0.7, 0.2], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5]]
    assert Task().decide(probs).tolist() == [1, 0, 2]


def test_decide_multi_label_default_threshold_is_half_inclusive():
    probs = [[0.5, 0.49, 0.51], [0.0, 1.0, 0.5]]
    got = Task(multi_label=True).decide(probs)
    assert got.dtype == bool
    assert got.tolist() == [[True, False, True], [False, True, True]]


def test_decide_multi_label_uses_each_labels_threshold():
    task = Task(multi_label=True, thresholds=(0.3, 0.6, 0.9))
    probs = np.array([[0.3, 0.59, 0.95], [0.29, 0.6, 0.89]])
    want = [[p >= t for p, t in zip(row, (0.3, 0.6, 0.9), strict=True)] for row in probs.tolist()]
    assert task.decide(probs).tolist() == want == [[True, False, True], [False, True, False]]


def test_threshold_array_and_a_label_count_mismatch():
    assert Task(multi_label=True).threshold_array(3).tolist() == [0.5, 0.5, 0.5]
    task = Task(multi_label=True, thresholds=(0.2, 0.4))
    assert task.threshold_array(2).tolist() == [0.2, 0.4]
    with pytest.raises(ValueError, match="the model has 3 labels but 2 thresholds"):
        task.threshold_array(3)
    with pytest.raises(ValueError, match="3 labels but 2 thresholds"):
        task.decide([[0.1, 0.2, 0.3]])


# --- config ---------------------------------------------------------------------------


ALL_TASKS = [
    Task(multi_label=m, text_pair=p, truncation=t, thresholds=th)
    for m, p, t in itertools.product([False, True], [False, True], tasks.TRUNCATIONS)
    for th in ([None, (0.35, 0.6)] if m else [None])
]


@pytest.mark.parametrize("task", ALL_TASKS, ids=repr)
def test_config_round_trip_through_json(task):
    config = json.loads(json.dumps(task.to_config()))
    assert Task.from_config(config) == task
    assert config["kind"] == ("multi_label" if task.multi_label else "single_label")


def test_to_config_by_hand():
    task = Task(multi_label=True, text_pair=True, thresholds=(0.25, 0.5), truncation="tail")
    assert task.to_config() == {
        "kind": "multi_label",
        "text_pair": True,
        "thresholds": [0.25, 0.5],
        "truncation": "tail",
    }


def test_from_config_defaults_and_errors():
    assert Task.from_config(None) == Task()
    assert Task.from_config({}) == Task()  # a config from before tasks existed
    task = Task(multi_label=True)
    assert Task.from_config(task) is task
    with pytest.raises(ValueError, match="unknown task kind 'regression'"):
        Task.from_config({"kind": "regression"})
    with pytest.raises(ValueError, match="thresholds are for multi-label"):
        Task.from_config({"kind": "single_label", "thresholds": [0.5]})


def test_of_reads_a_models_task_or_its_config():
    class Holder:
        pass

    holder = Holder()
    assert tasks.of(holder) == Task()
    holder.task = Task(multi_label=True)
    assert tasks.of(holder) is holder.task
    holder.task = {"kind": "multi_label", "text_pair": True}
    assert tasks.of(holder) == Task(multi_label=True, text_pair=True)


# --- head_tail_split --------------------------------------------------------------------


def test_head_tail_split_matches_sun_et_al():
    assert tasks.head_tail_split(510) == (128, 382)
    assert tasks.head_tail_split(0) == (0, 0)


@pytest.mark.parametrize("budget", [1, 2, 3, 4, 10, 62, 126, 254, 510, 1022])
def test_head_tail_split_keeps_the_budget_and_the_share(budget):
    head, tail = tasks.head_tail_split(budget)
    assert head + tail == budget
    assert head >= 0 and tail >= 0
    # the head is the budget's 128/510 share, rounded to the nearest token
    assert abs(head - budget * 128 / 510) <= 0.5


# --- tune_thresholds ------------------------------------------------------------------


def brute_force_thresholds(probs, targets, grid=GRID):
    """Per label: the grid value of highest F1, ties to the one nearest 0.5 (then lower).

    F1 by its definition 2TP / (2TP + FP + FN), in exact fractions, one grid value and
    one example at a time; 0.5 for a label with no positive example.
    """
    out = []
    for label in range(len(probs[0])):
        truth = [bool(row[label]) for row in targets]
        if not any(truth):
            out.append(0.5)
            continue
        best_key, best = None, None
        for threshold in grid:
            tp = fp = fn = 0
            for row, positive in zip(probs, truth, strict=True):
                predicted = row[label] >= threshold
                tp += predicted and positive
                fp += predicted and not positive
                fn += (not predicted) and positive
            f1 = Fraction(2 * tp, 2 * tp + fp + fn) if tp else Fraction(0)
            key = (f1, -abs(Fraction(str(threshold)) - Fraction(1, 2)), -threshold)
            if best_key is None or key > best_key:
                best_key, best = key, threshold
        out.append(float(best))
    return tuple(out)


def test_tune_thresholds_by_hand():
    # label 0: positives at 0.9 and 0.6, negatives at 0.2, 0.1: every threshold in
    #   (0.2, 0.6] gives F1 = 1; the one nearest 0.5 is 0.5.
    # label 1: the positive has 0.35, the negatives 0.3, 0.2, 0.1: F1 = 1 only for
    #   thresholds in (0.3, 0.35]: 0.35.
    probs = [[0.9, 0.3], [0.6, 0.2], [0.2, 0.35], [0.1, 0.1]]
    targets = [[1, 0], [1, 0], [0, 1], [0, 0]]
    assert tasks.tune_thresholds(probs, targets) == (0.5, 0.35)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tune_thresholds_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, k = 60, 6
    targets = (rng.random((n, k)) < [0.5, 0.3, 0.1, 0.05, 0.0, 0.7]).astype(int)
    # informative but noisy scores, on a coarse grid so that ties happen
    scores = np.clip(0.35 * targets + rng.random((n, k)) * 0.7, 0, 1)
    probs = np.round(scores, 2)
    want = brute_force_thresholds(probs.tolist(), targets.tolist())
    assert tasks.tune_thresholds(probs, targets) == want
    assert want[4] == 0.5  # no positive example: untouched


def test_tune_thresholds_ties_go_to_the_value_nearest_half():
    # one positive at 0.95, negatives at 0.05: every grid value from 0.10 to 0.95 is
    # perfect; the nearest to 0.5 is 0.5.
    probs = [[0.95], [0.05], [0.05]]
    assert tasks.tune_thresholds(probs, [[1], [0], [0]]) == (0.5,)
    # perfect only at and below 0.2 (the positive's score): 0.2, the one nearest 0.5
    probs = [[0.2], [0.01], [0.02]]
    assert tasks.tune_thresholds(probs, [[1], [0], [0]]) == (0.2,)


def test_tune_thresholds_with_a_custom_grid():
    probs = [[0.42], [0.41], [0.1]]
    targets = [[1], [0], [0]]
    grid = [0.3, 0.415, 0.6]
    assert tasks.tune_thresholds(probs, targets, grid=grid) == brute_force_thresholds(
        probs, targets, grid
    )
    assert tasks.tune_thresholds(probs, targets, grid=grid) == (0.415,)


def test_tune_thresholds_returns_thresholds_a_task_accepts():
    probs = np.random.default_rng(3).random((20, 4))
    targets = probs > 0.6
    thresholds = tasks.tune_thresholds(probs, targets)
    task = Task(multi_label=True, thresholds=thresholds)
    assert len(task.thresholds) == 4


def test_tune_thresholds_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"probabilities \(2, 2\) and targets \(2, 3\)"):
        tasks.tune_thresholds(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="must be the same"):
        tasks.tune_thresholds(np.zeros(3), np.zeros(3))
