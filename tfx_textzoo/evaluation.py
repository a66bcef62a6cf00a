"""Predictions with label names, and evaluation reports.

Both run on the fast pipeline: texts are tokenized once by the model's own
preprocessor, run in batches sorted by length (each padded only to its length
bucket), and results are put back in input order. Metrics come from scikit-learn,
the plot from matplotlib.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import keras
import numpy as np
import tensorflow as tf

from tfx_textzoo import _checks, inference, preprocessing
from tfx_textzoo._files import atomic_path, atomic_write_text
from tfx_textzoo.datasets import as_texts_and_labels
from tfx_textzoo.families.base import check_zoo_classifier

#: With ``jit_compile="auto"`` on a CPU, XLA is used from this many texts on (and for
#: every later call once a model has been compiled). Measured on BERT L4-H128 and AG
#: News: compiling takes ~0.6 s per (batch, length-bucket) shape, ~5 s in all, and then
#: runs 1.3x faster (1,550 vs 1,200 texts/s), so a single call pays it back from about
#: 20,000 texts. Pass ``jit_compile=True`` when a model will predict again and again.
XLA_MIN_TEXTS_ON_CPU = 16384

#: With ``verbose="auto"``, a progress bar is shown from this many batches on.
PROGRESS_MIN_BATCHES = 20


class Prediction(NamedTuple):
    """One class and its probability, as returned by ``predict(..., return_proba=True)``."""

    label: str
    score: float


def predict(
    model: keras.Model,
    texts: str | Sequence[str],
    *,
    return_proba: bool = False,
    top_k: int | None = None,
    batch_size: int = 64,
    jit_compile: bool | str = "auto",
    verbose: int | str = "auto",
    text_column: str | Sequence[str] | None = None,
) -> Any:
    """Predict label names for raw texts.

    Works the same on a freshly loaded, a fine-tuned and a reloaded (``.keras``) model.
    Class names are the model's ``labels`` (``"0"``, ``"1"``, ... when it has none).

    Args:
        model: A zoo classifier (it takes raw strings).
        texts: One text, or a 1-D collection of texts (a list, a 1-D array, a pandas
            Series, a [`TextDataset`][tfx_textzoo.datasets.TextDataset]), or a DataFrame / Hugging
            Face dataset with ``text_column``. A 2-D array, or a table without
            ``text_column``, is refused (every cell would be predicted as a text).
        return_proba: Return [`Prediction`][tfx_textzoo.evaluation.Prediction] ``(label, score)``
            pairs, most likely
            first, instead of bare label names.
        top_k: Return the ``k`` most likely classes per text (all of them when
            ``return_proba`` is set and ``top_k`` is not).
        batch_size: Texts per batch.
        jit_compile: ``"auto"`` compiles the forward pass with XLA on a GPU, and on a
            CPU for at least `XLA_MIN_TEXTS_ON_CPU` texts; or True / False.
        verbose: ``"auto"`` shows a progress bar for inputs of at least
            `PROGRESS_MIN_BATCHES` batches; 0 never, 1 always.
        text_column: The text column(s) of a DataFrame / Hugging Face dataset (several
            are joined with a space).

    Returns:
        For a list of texts, a list with one item per text, in input order: a label
        name; or, with ``top_k`` or ``return_proba``, a list of names or of
        [`Prediction`][tfx_textzoo.evaluation.Prediction]. For a single ``str``, that one item.

    Raises:
        TypeError: A text that is not a string; a table without ``text_column``.
        ValueError: No texts, empty texts (their positions are listed), a 2-D array, a
            bad setting (``top_k``, ``batch_size``...: an
            [`InvalidArgumentError`][tfx_textzoo.errors.InvalidArgumentError] naming it).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("bert-tiny", labels=["World", "Sports", "Business"],
        ...                      weights=None, num_layers=1)
        >>> labels = textzoo.predict(model, ["Stocks rallied", "The team won"])
        >>> len(labels), all(label in model.labels for label in labels)
        (2, True)
        >>> top = textzoo.predict(model, "Stocks rallied", return_proba=True, top_k=2)
        >>> len(top), top[0].score >= top[1].score
        (2, True)
    """
    check_zoo_classifier(model, "predict")
    single = isinstance(texts, str)
    names = label_names(model)
    return_proba = _checks.check_bool("return_proba", return_proba)
    if top_k is not None:
        top_k = _checks.check_int("top_k", top_k, minimum=1, maximum=len(names))
    probs = predict_proba(
        model,
        [texts] if single else texts,
        batch_size=batch_size,
        jit_compile=jit_compile,
        verbose=verbose,
        text_column=text_column,
    )
    k = top_k or (len(names) if return_proba else None)
    if k is None:
        results: list[Any] = [names[i] for i in probs.argmax(axis=1)]
    else:
        best = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        if return_proba:
            results = [
                [Prediction(names[j], float(p[j])) for j in row]
                for p, row in zip(probs, best, strict=True)
            ]
        else:
            results = [[names[j] for j in row] for row in best]
    return results[0] if single else results


def predict_proba(
    model: keras.Model,
    texts: Sequence[str],
    batch_size: int = 64,
    verbose: int | str = 0,
    jit_compile: bool | str = "auto",
    text_column: str | Sequence[str] | None = None,
) -> np.ndarray:
    """Class probabilities for ``texts``, shape ``(len(texts), num_classes)``, in input order.

    Texts are tokenized once and run in batches sorted by length, each padded only as
    far as its bucket; rows are put back in the order of ``texts``.

    Args:
        model: A zoo classifier.
        texts: The texts: a 1-D collection of ``str``, or a table with ``text_column``
            (see [`predict`][tfx_textzoo.evaluation.predict]).
        batch_size: Texts per batch.
        verbose: 0, 1 (a progress bar) or ``"auto"`` (see
            [`predict`][tfx_textzoo.evaluation.predict]).
        jit_compile: ``"auto"``, True or False (see [`predict`][tfx_textzoo.evaluation.predict]).
        text_column: The text column(s) of a DataFrame / Hugging Face dataset.

    Returns:
        A float32 array of probabilities.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.evaluation import predict_proba
        >>> model = textzoo.load("bert-tiny", num_classes=3, weights=None, num_layers=1)
        >>> predict_proba(model, ["one text", "and another, longer text"]).shape
        (2, 3)
    """
    check_zoo_classifier(model, "predict")
    batch_size = _checks.check_int("batch_size", batch_size, minimum=1)
    verbose = _checks.check_verbose(verbose)
    jit_compile = _checks.check_jit_compile(jit_compile)
    texts = check_texts(texts, text_column=text_column)
    tok = preprocessing.tokenize(model, texts)
    if verbose == "auto":
        verbose = int(math.ceil(len(texts) / batch_size) >= PROGRESS_MIN_BATCHES)
    xla = _use_xla(model, jit_compile, len(texts))
    return inference.probabilities(model, tok, batch_size, xla=xla, verbose=verbose)


def check_texts(texts: Any, what: str = "predict", text_column: Any = None) -> list[str]:
    """Return ``texts`` as a list of non-empty strings, or say exactly what is wrong.

    One text collection (1-D), or a table with ``text_column``: see
    `tfx_textzoo._checks.text_list`.

    Examples:
        >>> from tfx_textzoo.evaluation import check_texts
        >>> check_texts(("a", "b"))
        ['a', 'b']
    """
    return _checks.text_list(texts, what, text_column=text_column)


def label_names(model: keras.Model) -> list[str]:
    """The model's class names (``"0"``, ``"1"``, ... when it was loaded without labels).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.evaluation import label_names
        >>> label_names(textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1))
        ['0', '1']
    """
    labels = model.labels
    return list(labels) if labels else [str(i) for i in range(num_classes(model))]


def num_classes(model: keras.Model) -> int:
    """The number of classes the model predicts."""
    return int(model.outputs[0].shape[-1])


def _use_xla(model, jit_compile, n_texts: int) -> bool:
    if jit_compile != "auto":
        return bool(jit_compile)
    if tf.config.list_physical_devices("GPU"):
        return True
    if inference.is_traced(model, "probabilities", xla=True):  # compiled: reuse
        return True
    return n_texts >= XLA_MIN_TEXTS_ON_CPU


def evaluate(
    model: keras.Model,
    data: Any,
    *,
    batch_size: int = 64,
    text_column: str | Sequence[str] | None = None,
    label_column: str | None = None,
    jit_compile: bool | str = "auto",
    verbose: int | str = "auto",
) -> Report:
    """Evaluate ``model`` on labelled texts and return a [`Report`][tfx_textzoo.evaluation.Report].

    Args:
        model: A zoo classifier.
        data: Labelled texts in any form [`finetune`][tfx_textzoo.finetune] takes: a
            [`TextDataset`][tfx_textzoo.datasets.TextDataset], ``(texts, labels)``, a
            ``tf.data.Dataset``, a pandas DataFrame or a Hugging Face dataset. When
            ``data`` has label names in another order than the model's, labels are
            matched by name.
        batch_size: Texts per batch.
        text_column: Text column(s) of a DataFrame / HF dataset.
        label_column: Label column of a DataFrame / HF dataset.
        jit_compile: ``"auto"``, True or False (see [`predict`][tfx_textzoo.evaluation.predict]).
        verbose: 0, 1 or ``"auto"`` (a progress bar for long inputs).

    Returns:
        The [`Report`][tfx_textzoo.evaluation.Report]: accuracy, macro F1, per-class precision /
        recall / F1,
        the confusion matrix, the most confident mistakes.

    Raises:
        ValueError: Labels that do not fit the model (out of range, unknown names, a
            dataset whose label names are not the model's classes: a
            [`LabelMismatchError`][tfx_textzoo.errors.LabelMismatchError]); a bad setting (an
            [`InvalidArgumentError`][tfx_textzoo.errors.InvalidArgumentError] naming it).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("bert-tiny", labels=["neg", "pos"], weights=None,
        ...                      num_layers=1)
        >>> report = textzoo.evaluate(model, (["good film", "bad film"], ["pos", "neg"]))
        >>> report.num_examples, sorted(report.per_class)
        (2, ['neg', 'pos'])
    """
    check_zoo_classifier(model, "evaluate")
    names = label_names(model)
    batch_size = _checks.check_int("batch_size", batch_size, minimum=1)
    jit_compile = _checks.check_jit_compile(jit_compile)
    verbose = _checks.check_verbose(verbose)
    text_column = _checks.check_columns("text_column", text_column)
    label_column = _checks.check_columns("label_column", label_column, several=False)
    data = _checks.align_labels(data, model.labels, "evaluate")
    texts, labels = as_texts_and_labels(
        data,
        label_names=names,
        num_classes=len(names),
        text_column=text_column,
        label_column=label_column,
        what="evaluate",
    )
    start = time.perf_counter()
    probs = predict_proba(
        model, list(texts), batch_size=batch_size, jit_compile=jit_compile, verbose=verbose
    )
    return Report.from_predictions(
        labels,
        probs,
        label_names=names,
        texts=list(texts),
        model_name=model.model_name or model.name,
        dataset_name=getattr(data, "name", None) or None,
        seconds=time.perf_counter() - start,
    )


@dataclasses.dataclass(eq=False)
class Report:
    """An evaluation report: metrics per class and overall, and the predictions behind them.

    Build one with [`evaluate`][tfx_textzoo.evaluation.evaluate] (or
    [`from_predictions`][tfx_textzoo.evaluation.Report.from_predictions]); it is what the CLI
    prints and the model card holds.

    Attributes:
        label_names: ``label_names[i]`` names class ``i``.
        accuracy: Fraction of texts whose most likely class is the true one.
        macro_f1: Unweighted mean of the per-class F1 scores.
        weighted_f1: Mean of the per-class F1 scores weighted by support.
        per_class: Label name -> ``{"precision", "recall", "f1", "support"}``.
        confusion_matrix: ``(C, C)`` int array; rows are true labels, columns predicted.
        num_examples: Texts evaluated.
        loss: Mean cross-entropy of the true labels (None without probabilities).
        model_name: The zoo name of the model evaluated.
        dataset_name: Where the data came from.
        seconds: Wall-clock seconds the predictions took.
        texts: The texts (kept for [`errors`][tfx_textzoo.evaluation.Report.errors]; not written by
            [`to_json`][tfx_textzoo.evaluation.Report.to_json]).
        labels: True label ids, in input order.
        probabilities: ``(N, C)`` predicted probabilities, in input order.
    """

    label_names: list[str]
    accuracy: float
    macro_f1: float
    weighted_f1: float
    per_class: dict[str, dict[str, float]]
    confusion_matrix: np.ndarray
    num_examples: int
    loss: float | None = None
    model_name: str | None = None
    dataset_name: str | None = None
    seconds: float | None = None
    texts: list[str] | None = dataclasses.field(default=None, repr=False)
    labels: np.ndarray | None = dataclasses.field(default=None, repr=False)
    probabilities: np.ndarray | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def from_predictions(
        cls,
        labels: Sequence[int] | np.ndarray,
        probabilities: np.ndarray,
        *,
        label_names: Sequence[str],
        texts: Sequence[str] | None = None,
        model_name: str | None = None,
        dataset_name: str | None = None,
        seconds: float | None = None,
    ) -> Report:
        """Compute the report from true label ids and predicted probabilities.

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions(
            ...     [0, 1, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]),
            ...     label_names=["neg", "pos"])
            >>> round(report.accuracy, 3), report.per_class["pos"]["recall"]
            (0.667, 0.5)
        """
        from sklearn import metrics

        labels = np.asarray(labels, dtype="int64")
        probabilities = np.asarray(probabilities, dtype="float64")
        names = list(label_names)
        classes = list(range(len(names)))
        if probabilities.shape != (labels.shape[0], len(names)):
            raise ValueError(
                f"probabilities must have shape ({labels.shape[0]}, {len(names)}), "
                f"got {probabilities.shape}"
            )
        predicted = probabilities.argmax(axis=1)
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            labels, predicted, labels=classes, zero_division=0
        )
        per_class = {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(names)
        }
        clipped = np.clip(probabilities, 1e-12, 1.0)
        loss = metrics.log_loss(
            labels, clipped / clipped.sum(axis=1, keepdims=True), labels=classes
        )
        return cls(
            label_names=names,
            accuracy=float(metrics.accuracy_score(labels, predicted)),
            macro_f1=float(
                metrics.f1_score(
                    labels, predicted, labels=classes, average="macro", zero_division=0
                )
            ),
            weighted_f1=float(
                metrics.f1_score(
                    labels, predicted, labels=classes, average="weighted", zero_division=0
                )
            ),
            per_class=per_class,
            confusion_matrix=metrics.confusion_matrix(labels, predicted, labels=classes),
            num_examples=int(labels.shape[0]),
            loss=float(loss),
            model_name=model_name,
            dataset_name=dataset_name,
            seconds=seconds,
            texts=list(texts) if texts is not None else None,
            labels=labels,
            probabilities=probabilities,
        )

    @property
    def predictions(self) -> np.ndarray:
        """Predicted label ids, in input order."""
        self._need_predictions("predictions")
        return self.probabilities.argmax(axis=1)

    def errors(self, k: int = 10) -> list[dict[str, Any]]:
        """The ``k`` most confident mistakes, most confident first.

        Each is a dict with ``index`` (position in the evaluated data), ``text``,
        ``true``, ``predicted`` (label names), ``confidence`` (probability given to
        the predicted class) and ``true_probability``.

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions(
            ...     [0, 1, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]),
            ...     label_names=["neg", "pos"], texts=["bad", "good", "not bad"])
            >>> [(e["text"], e["predicted"]) for e in report.errors()]
            [('not bad', 'neg')]
        """
        self._need_predictions("errors()")
        predicted = self.predictions
        wrong = np.flatnonzero(predicted != self.labels)
        confidence = self.probabilities[wrong, predicted[wrong]]
        ranked = wrong[np.argsort(-confidence, kind="stable")][: max(int(k), 0)]
        return [
            {
                "index": int(i),
                "text": self.texts[i] if self.texts is not None else None,
                "true": self.label_names[self.labels[i]],
                "predicted": self.label_names[predicted[i]],
                "confidence": float(self.probabilities[i, predicted[i]]),
                "true_probability": float(self.probabilities[i, self.labels[i]]),
            }
            for i in ranked
        ]

    def plot_confusion_matrix(
        self, path: str | os.PathLike | None = None, *, dpi: int = 100, title: str | None = None
    ):
        r"""Draw the confusion matrix: counts in the cells, shades normalized by row.

        Rows are true labels, columns predicted; a cell's shade is the fraction of its
        row (the recall on the diagonal), so classes of any size compare.

        Args:
            path: Where to write the image (the format follows the suffix, e.g.
                ``.png``); written atomically. None: only return the figure.
            dpi: Resolution; the image is ``figure.get_size_inches() * dpi`` pixels.
            title: The title (default: model, data and accuracy).

        Returns:
            The ``matplotlib.figure.Figure``.

        Examples:
            >>> import numpy as np, tempfile, pathlib
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions(
            ...     [0, 1, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]),
            ...     label_names=["neg", "pos"])
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "cm.png"
            >>> _ = report.plot_confusion_matrix(path)
            >>> path.read_bytes()[:4]
            b'\x89PNG'
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        matrix = np.asarray(self.confusion_matrix)
        n = len(self.label_names)
        rows = matrix.sum(axis=1, keepdims=True)
        shares = np.divide(matrix, rows, out=np.zeros(matrix.shape, float), where=rows > 0)
        side = max(4.0, 1.2 + 0.75 * n)
        figure = Figure(figsize=(side + 1.4, side), dpi=dpi, layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
        figure.colorbar(image, ax=ax, label="fraction of the true class", shrink=0.8)
        ax.set_xticks(range(n), self.label_names, rotation=45, ha="right")
        ax.set_yticks(range(n), self.label_names)
        ax.set_xlabel("predicted label")
        ax.set_ylabel("true label")
        for i in range(n):
            for j in range(n):
                ax.text(
                    j,
                    i,
                    f"{matrix[i, j]}\n{shares[i, j]:.0%}",
                    ha="center",
                    va="center",
                    fontsize=8 if n > 8 else 10,
                    color="white" if shares[i, j] > 0.5 else "black",
                )
        if title is None:
            about = " on ".join(x for x in (self.model_name, self.dataset_name) if x)
            title = f"accuracy {self.accuracy:.1%}, n={self.num_examples:,}"
            title = f"{about}: {title}" if about else title
        ax.set_title(textwrap.fill(title, width=int(side * 11)), fontsize=10)
        if path is not None:
            with atomic_path(path) as tmp:
                figure.savefig(tmp, dpi=dpi)
        return figure

    def to_dict(self) -> dict[str, Any]:
        """The metrics as plain JSON types (without texts and probabilities).

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions([0, 1], np.eye(2), label_names=["a", "b"])
            >>> report.to_dict()["confusion_matrix"]
            [[1, 0], [0, 1]]
        """
        return {
            "model_name": self.model_name,
            "dataset_name": self.dataset_name,
            "num_examples": self.num_examples,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "weighted_f1": self.weighted_f1,
            "loss": self.loss,
            "label_names": list(self.label_names),
            "per_class": self.per_class,
            "confusion_matrix": np.asarray(self.confusion_matrix).tolist(),
            "seconds": self.seconds,
        }

    def to_json(self, path: str | os.PathLike | None = None, indent: int = 2) -> str:
        """The report as JSON (see `to_dict`); also written to ``path`` if given.

        Examples:
            >>> import json, numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions([0, 1], np.eye(2), label_names=["a", "b"])
            >>> json.loads(report.to_json())["accuracy"]
            1.0
        """
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            atomic_write_text(path, text + "\n")
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Rebuild a report (metrics only) from `to_dict` output.

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions([0, 1], np.eye(2), label_names=["a", "b"])
            >>> Report.from_dict(report.to_dict()).accuracy
            1.0
        """
        fields = {f.name for f in dataclasses.fields(cls)} - {"texts", "labels", "probabilities"}
        missing = {"label_names", "accuracy", "per_class", "confusion_matrix"} - set(data)
        if missing:
            raise ValueError(f"not an evaluation report: missing {sorted(missing)}")
        values = {k: v for k, v in data.items() if k in fields}
        values["confusion_matrix"] = np.asarray(values["confusion_matrix"], dtype="int64")
        values.setdefault("macro_f1", float("nan"))
        values.setdefault("weighted_f1", float("nan"))
        values.setdefault("num_examples", int(values["confusion_matrix"].sum()))
        return cls(**values)

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike) -> Report:
        """Read a report written by `to_json` (a JSON string or a file path).

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions([0, 1], np.eye(2), label_names=["a", "b"])
            >>> Report.from_json(report.to_json()).per_class["b"]["f1"]
            1.0
        """
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))

    def to_markdown(self) -> str:
        """The report as Markdown: a summary line, per-class table, confusion matrix.

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions([0, 1], np.eye(2), label_names=["a", "b"])
            >>> print(report.to_markdown().splitlines()[0])
            **Accuracy 100.00%**, macro F1 1.0000 on 2 texts
        """
        lines = [
            f"**Accuracy {self.accuracy:.2%}**, macro F1 {self.macro_f1:.4f} on "
            f"{self.num_examples:,} texts"
            + (f" of {self.dataset_name}" if self.dataset_name else "")
            + (f" ({self.model_name})" if self.model_name else ""),
            "",
            "| label | precision | recall | F1 | support |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, m in self.per_class.items():
            lines.append(
                f"| {name} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} "
                f"| {m['support']:,} |"
            )
        total = sum(m["support"] for m in self.per_class.values())
        lines.append(
            f"| **macro avg** | {np.mean([m['precision'] for m in self.per_class.values()]):.4f} "
            f"| {np.mean([m['recall'] for m in self.per_class.values()]):.4f} "
            f"| {self.macro_f1:.4f} | {total:,} |"
        )
        lines += ["", "Confusion matrix (rows: true label, columns: predicted):", ""]
        lines.append("| true \\ predicted | " + " | ".join(self.label_names) + " |")
        lines.append("|---|" + "---:|" * len(self.label_names))
        for name, row in zip(self.label_names, np.asarray(self.confusion_matrix), strict=True):
            lines.append(f"| {name} | " + " | ".join(f"{int(v):,}" for v in row) + " |")
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_markdown()

    def _need_predictions(self, what: str) -> None:
        if self.probabilities is None or self.labels is None:
            raise ValueError(
                f"{what} needs the predictions, which a report read from JSON does not "
                "keep; run textzoo.evaluate(model, data) again."
            )
