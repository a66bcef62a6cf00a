"""The task a classifier solves: the one place the heads and the core read it from.

A [`Task`][tfx_textzoo.tasks.Task] says what the model's outputs mean and how its inputs
look:

- ``multi_label``: False (one label per text: softmax head, categorical cross-entropy,
  argmax) or True (any number of labels per text: sigmoid head, binary cross-entropy,
  one decision threshold per label);
- ``text_pair``: whether each example is a pair of texts (premise and hypothesis,
  question and passage), packed as two segments by the model's preprocessor;
- ``thresholds``: the per-label decision thresholds of a multi-label model (None: 0.5
  each), tuned by ``finetune`` on validation data;
- ``truncation``: which tokens of a text longer than the sequence length a model
  reads: ``"head"`` (the first ones), ``"tail"`` (the last ones) or ``"head+tail"``.

Every zoo classifier carries one as ``model.task``; families build their head with
``task.activation``; ``finetune``, ``predict``, ``evaluate``, ``export`` and the model
card read it. It is saved with the model (``get_config``), so it survives save/load,
export and the Hub round trip.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: Which tokens a long text keeps (see `Task.truncation`).
TRUNCATIONS = ("head", "tail", "head+tail")
#: Default decision threshold of a multi-label model's labels.
DEFAULT_THRESHOLD = 0.5
#: Share of the token budget kept from the start under ``"head+tail"``: Sun et al.
#: (2019) keep the first 128 and the last 382 of BERT's 510 tokens.
HEAD_SHARE = 128 / 510


@dataclasses.dataclass(frozen=True)
class Task:
    """What a classifier's outputs mean and what its inputs are.

    Attributes:
        multi_label: Any number of labels per text (sigmoid outputs), not exactly one.
        text_pair: Each example is a pair of texts (two segments).
        thresholds: Per-label decision thresholds of a multi-label model (None: 0.5).
        truncation: ``"head"``, ``"tail"`` or ``"head+tail"``: the tokens a text longer
            than the sequence length keeps.

    Examples:
        >>> from tfx_textzoo.tasks import Task
        >>> task = Task(multi_label=True, thresholds=(0.3, 0.6))
        >>> task.activation, task.decide([[0.4, 0.5]]).tolist()
        ('sigmoid', [[True, False]])
        >>> Task.from_config(task.to_config()) == task
        True
        >>> Task().decide([[0.2, 0.8], [0.9, 0.1]]).tolist()
        [1, 0]
    """

    multi_label: bool = False
    text_pair: bool = False
    thresholds: tuple[float, ...] | None = None
    truncation: str = "head"

    def __post_init__(self):
        if not isinstance(self.multi_label, bool):
            raise TypeError(f"multi_label must be True or False, got {self.multi_label!r}")
        if not isinstance(self.text_pair, bool):
            raise TypeError(f"text_pair must be True or False, got {self.text_pair!r}")
        check_truncation(self.truncation)
        if self.thresholds is not None:
            if not self.multi_label:
                raise ValueError("thresholds are for multi-label models (multi_label=True)")
            values = np.asarray(self.thresholds, dtype="float64").reshape(-1)
            if not np.all((values > 0) & (values < 1)):
                raise ValueError(
                    f"thresholds must be between 0 and 1 (exclusive), got {values.tolist()}"
                )
            object.__setattr__(self, "thresholds", tuple(float(v) for v in values))

    @property
    def activation(self) -> str:
        """The output activation: ``"sigmoid"`` (multi-label) or ``"softmax"``."""
        return "sigmoid" if self.multi_label else "softmax"

    @property
    def kind(self) -> str:
        """``"multi_label"`` or ``"single_label"`` (as written in model cards and JSON)."""
        return "multi_label" if self.multi_label else "single_label"

    def replace(self, **changes: Any) -> Task:
        """A copy with ``changes`` (``Task`` is immutable).

        Examples:
            >>> from tfx_textzoo.tasks import Task
            >>> Task().replace(text_pair=True).text_pair
            True
        """
        return dataclasses.replace(self, **changes)

    def threshold_array(self, num_labels: int) -> np.ndarray:
        """The decision thresholds as an array of ``num_labels`` (0.5 where not tuned)."""
        if self.thresholds is None:
            return np.full((num_labels,), DEFAULT_THRESHOLD)
        if len(self.thresholds) != num_labels:
            raise ValueError(
                f"the model has {num_labels} labels but {len(self.thresholds)} thresholds"
            )
        return np.asarray(self.thresholds)

    def decide(self, probabilities: Any) -> np.ndarray:
        """Decisions from probabilities: class ids ``(n,)``, or a bool matrix ``(n, labels)``.

        A multi-label decision is ``probability >= threshold`` per label.
        """
        probs = np.asarray(probabilities, dtype="float64")
        if not self.multi_label:
            return probs.argmax(axis=-1)
        return probs >= self.threshold_array(probs.shape[-1])

    def loss(self):
        """The Keras loss for probability outputs (binary or categorical cross-entropy)."""
        import keras

        if self.multi_label:
            return keras.losses.BinaryCrossentropy()
        return keras.losses.SparseCategoricalCrossentropy()

    def metrics(self) -> list:
        """The Keras metrics ``fit`` reports: accuracy, or for multi-label micro F1 at 0.5.

        Both are named so that a higher value is better (``finetune``'s ``monitor``).
        """
        import keras

        if self.multi_label:
            return [keras.metrics.F1Score(average="micro", threshold=0.5, name="micro_f1")]
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    @property
    def metric_name(self) -> str:
        """The name of `metrics`' first metric (``"accuracy"`` or ``"micro_f1"``)."""
        return "micro_f1" if self.multi_label else "accuracy"

    def to_config(self) -> dict[str, Any]:
        """A JSON-able dict (stored in the model's config and metadata)."""
        return {
            "kind": self.kind,
            "text_pair": self.text_pair,
            "thresholds": list(self.thresholds) if self.thresholds is not None else None,
            "truncation": self.truncation,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | Task | None) -> Task:
        """The task of a config written by `to_config` (None: the single-label default)."""
        if config is None:
            return cls()
        if isinstance(config, Task):
            return config
        kind = config.get("kind", "single_label")
        if kind not in ("single_label", "multi_label"):
            raise ValueError(f"unknown task kind {kind!r} (single_label or multi_label)")
        thresholds = config.get("thresholds")
        return cls(
            multi_label=kind == "multi_label",
            text_pair=bool(config.get("text_pair", False)),
            thresholds=tuple(thresholds) if thresholds is not None else None,
            truncation=config.get("truncation", "head"),
        )


def of(model: Any) -> Task:
    """The model's task (the single-label default for a model that does not say).

    Examples:
        >>> from tfx_textzoo import tasks
        >>> tasks.of(object())
        Task(multi_label=False, text_pair=False, thresholds=None, truncation='head')
    """
    task = getattr(model, "task", None)
    return task if isinstance(task, Task) else Task.from_config(task)


def check_truncation(value: Any, argument: str = "truncation") -> str:
    """Return ``value`` if it is one of `TRUNCATIONS`, else raise a clear error."""
    from tfx_textzoo.errors import InvalidArgumentError

    if not isinstance(value, str) or value not in TRUNCATIONS:
        raise InvalidArgumentError(argument, value, " or ".join(map(repr, TRUNCATIONS)))
    return value


def head_tail_split(budget: int) -> tuple[int, int]:
    """How many tokens ``"head+tail"`` keeps from the start and from the end.

    The first `HEAD_SHARE` of the budget (rounded), the rest from the end: 128 + 382
    for BERT's 510 (Sun et al., 2019).

    Examples:
        >>> from tfx_textzoo.tasks import head_tail_split
        >>> head_tail_split(510), head_tail_split(254), head_tail_split(1)
        ((128, 382), (64, 190), (0, 1))
    """
    head = int(round(budget * HEAD_SHARE))
    return head, budget - head


def tune_thresholds(
    probabilities: Any,
    targets: Any,
    grid: Sequence[float] | None = None,
) -> tuple[float, ...]:
    """Per-label thresholds that maximise each label's F1 on held-out data.

    For each label the threshold is the grid value with the highest F1 of
    ``probability >= threshold`` against the targets; ties go to the value nearest
    0.5. A label without a positive example keeps 0.5 (F1 is undefined there).

    Args:
        probabilities: ``(n, labels)`` predicted probabilities.
        targets: ``(n, labels)`` 0/1 true labels.
        grid: Candidate thresholds (default 0.05, 0.10, ..., 0.95).

    Returns:
        One threshold per label.

    Examples:
        >>> from tfx_textzoo.tasks import tune_thresholds
        >>> probs = [[0.9, 0.3], [0.6, 0.2], [0.2, 0.35], [0.1, 0.1]]
        >>> tune_thresholds(probs, [[1, 0], [1, 0], [0, 1], [0, 0]])
        (0.5, 0.35)
    """
    probs = np.asarray(probabilities, dtype="float64")
    y = np.asarray(targets).astype(bool)
    if probs.shape != y.shape or probs.ndim != 2:
        raise ValueError(
            f"probabilities {probs.shape} and targets {y.shape} must be the same (n, labels)"
        )
    grid = np.round(np.arange(0.05, 0.96, 0.05), 2) if grid is None else np.asarray(grid)
    decided = probs[:, :, None] >= grid[None, None, :]  # (n, labels, grid)
    tp = (decided & y[:, :, None]).sum(axis=0)
    fp = (decided & ~y[:, :, None]).sum(axis=0)
    fn = (~decided & y[:, :, None]).sum(axis=0)
    f1 = np.where(tp > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)  # (labels, grid)
    out = []
    for label in range(probs.shape[1]):
        if not y[:, label].any():
            out.append(DEFAULT_THRESHOLD)
            continue
        best = np.flatnonzero(np.isclose(f1[label], f1[label].max()))
        pick = best[np.argmin(np.abs(grid[best] - DEFAULT_THRESHOLD))]
        out.append(float(grid[pick]))
    return tuple(out)
