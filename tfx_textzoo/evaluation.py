"""Predictions with label names, and evaluation reports.

Both run on the fast pipeline: texts are tokenized once by the model's own
preprocessor, run in batches sorted by length (each padded only to its length
bucket), and results are put back in input order. Metrics come from scikit-learn,
the plots from matplotlib.

Every kind of model goes through the same two functions; the model's task
(``model.task``, see [`tfx_textzoo.tasks`][tfx_textzoo.tasks]) says what comes out:

- single-label: one class per text (the most likely);
- multi-label: the labels whose probability reaches the label's threshold;
- text pairs: pass ``[(first, second), ...]``, ``text_pair=seconds`` or a table with
  ``text_pair_column=``;
- long texts: ``long_text="truncate"`` reads the tokens ``truncation`` keeps,
  ``long_text="chunks"`` reads every token in overlapping windows and aggregates them.
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

from tfx_textzoo import _checks, datasets, inference, preprocessing, tasks
from tfx_textzoo._files import atomic_path, atomic_write_text
from tfx_textzoo.errors import InvalidArgumentError, InvalidArgumentTypeError
from tfx_textzoo.families.base import check_zoo_classifier
from tfx_textzoo.precision import resolve as resolve_precision

#: With ``jit_compile="auto"`` on a CPU, XLA is used from this many texts on (and for
#: every later call once a model has been compiled). Measured on BERT L4-H128 and AG
#: News: compiling takes ~0.6 s per (batch, length-bucket) shape, ~5 s in all, and then
#: runs 1.3x faster (1,550 vs 1,200 texts/s), so a single call pays it back from about
#: 20,000 texts. Pass ``jit_compile=True`` when a model will predict again and again.
XLA_MIN_TEXTS_ON_CPU = 16384

#: With ``verbose="auto"``, a progress bar is shown from this many batches on.
PROGRESS_MIN_BATCHES = 20

#: How ``predict`` and ``evaluate`` read texts longer than the sequence length.
LONG_TEXT_MODES = ("truncate", "chunks")
#: How ``long_text="chunks"`` combines the probabilities of a text's windows.
AGGREGATIONS = ("mean", "max")


class Prediction(NamedTuple):
    """One label and its probability, as returned by ``predict(..., return_proba=True)``."""

    label: str
    score: float


def predict(
    model: keras.Model,
    texts: Any,
    *,
    text_pair: Any = None,
    return_proba: bool = False,
    top_k: int | None = None,
    batch_size: int = 64,
    jit_compile: bool | str = "auto",
    verbose: int | str = "auto",
    text_column: str | Sequence[str] | None = None,
    text_pair_column: str | Sequence[str] | None = None,
    truncation: str | None = None,
    long_text: str = "truncate",
    aggregate: str = "mean",
    stride: int | None = None,
    precision: str = "auto",
) -> Any:
    """Predict label names for raw texts (or pairs of texts).

    Works the same on a freshly loaded, a fine-tuned and a reloaded (``.keras``) model.
    Class names are the model's ``labels`` (``"0"``, ``"1"``, ... when it has none).

    A single-label model gives each text its most likely class. A multi-label model
    (``model.task.multi_label``) gives each text the list of labels whose probability
    is at least the label's threshold (``model.task.thresholds``; 0.5 where not tuned),
    in label order; the list may be empty.

    A model fine-tuned on pairs of texts (``model.task.text_pair``) needs pairs, and
    says so when given single texts. A single-text model takes pairs too: its
    preprocessor packs them as two segments with a separator, as the encoder saw
    them in pre-training, but a head fine-tuned on single texts has not learned what
    a pair means; for a pair task fine-tune on pairs first
    (``finetune(..., text_pair_column=...)``).

    Args:
        model: A zoo classifier (it takes raw strings).
        texts: One text, or a 1-D collection of texts (a list, a 1-D array, a pandas
            Series, a [`TextDataset`][tfx_textzoo.datasets.TextDataset]), or a DataFrame /
            Hugging Face dataset with ``text_column``; or pairs of texts: a list of
            ``(first, second)`` tuples. A 2-D array, or a table without
            ``text_column``, is refused (every cell would be predicted as a text).
        text_pair: The second texts of pairs, aligned with ``texts`` (one string when
            ``texts`` is one string).
        return_proba: Return [`Prediction`][tfx_textzoo.evaluation.Prediction] ``(label, score)``
            pairs, most likely first, for every label, instead of bare label names.
        top_k: Return the ``k`` most likely labels per text, most likely first (with
            ``return_proba``: only those ``k``). For a multi-label model this ranks
            labels regardless of the thresholds; leave it unset for the decisions.
        batch_size: Texts per batch.
        jit_compile: ``"auto"`` compiles the forward pass with XLA on a GPU, and on a
            CPU for at least `XLA_MIN_TEXTS_ON_CPU` texts in float32 (never in bfloat16
            on a CPU, where it was slower); or True / False.
        verbose: ``"auto"`` shows a progress bar for inputs of at least
            `PROGRESS_MIN_BATCHES` batches; 0 never, 1 always.
        text_column: The text column(s) of a DataFrame / Hugging Face dataset (several
            are joined with a space).
        text_pair_column: The column of the second texts of pairs.
        truncation: Which tokens of a text longer than the sequence length are read:
            ``"head"``, ``"tail"`` or ``"head+tail"``; None: the model's
            (``model.task.truncation``). Only with ``long_text="truncate"``.
        long_text: ``"truncate"`` (read what ``truncation`` keeps) or ``"chunks"``
            (read every token, in overlapping windows of the sequence length whose
            probabilities are aggregated per text; single texts only).
        aggregate: How ``"chunks"`` combines a text's windows: ``"mean"`` of their
            probabilities, or ``"max"`` (per label, the most confident window; for a
            single-label model the maxima are then divided by their sum).
        stride: With ``"chunks"``: tokens between the starts of consecutive windows
            (None: half a window; see
            [`tokenize_windows`][tfx_textzoo.preprocessing.tokenize_windows]).
        precision: What the backbone computes in: ``"auto"`` (``"mixed_bfloat16"`` on a
            CPU with native bfloat16 dot products and no GPU, else ``"float32"``),
            ``"float32"`` or ``"mixed_bfloat16"``. The head and the probabilities stay
            float32; see
            [`tfx_textzoo.precision`][tfx_textzoo.precision] for what was measured.

    Returns:
        For a list of texts, a list with one item per text, in input order: a label
        name (multi-label: a list of label names); or, with ``top_k`` or
        ``return_proba``, a list of names or of
        [`Prediction`][tfx_textzoo.evaluation.Prediction]. For a single ``str``, that one item.

    Raises:
        TypeError: A text that is not a string; a table without ``text_column``.
        ValueError: No texts, empty texts (their positions are listed), a 2-D array,
            single texts for a pair model, a bad setting (``top_k``, ``batch_size``,
            ``long_text``...: an
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
        >>> tagger = textzoo.load("bert-tiny", labels=["sport", "money", "politics"],
        ...                       multi_label=True, weights=None, num_layers=1)
        >>> chosen = textzoo.predict(tagger, ["The club was sold to a minister"])
        >>> set(chosen[0]) <= {"sport", "money", "politics"}
        True
        >>> pairs = [("A man plays a guitar.", "A person makes music.")]
        >>> len(textzoo.predict(model, pairs))
        1
    """
    check_zoo_classifier(model, "predict")
    single = isinstance(texts, str)
    names = label_names(model)
    task = tasks.of(model)
    return_proba = _checks.check_bool("return_proba", return_proba)
    if top_k is not None:
        top_k = _checks.check_int("top_k", top_k, minimum=1, maximum=len(names))
    probs = predict_proba(
        model,
        texts,
        batch_size=batch_size,
        jit_compile=jit_compile,
        verbose=verbose,
        text_column=text_column,
        text_pair=text_pair,
        text_pair_column=text_pair_column,
        truncation=truncation,
        long_text=long_text,
        aggregate=aggregate,
        stride=stride,
        precision=precision,
    )
    k = top_k or (len(names) if return_proba else None)
    if k is None and task.multi_label:
        chosen = task.decide(probs)
        results: list[Any] = [[names[j] for j in np.flatnonzero(row)] for row in chosen]
    elif k is None:
        results = [names[i] for i in probs.argmax(axis=1)]
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
    texts: Any,
    batch_size: int = 64,
    verbose: int | str = 0,
    jit_compile: bool | str = "auto",
    text_column: str | Sequence[str] | None = None,
    *,
    text_pair: Any = None,
    text_pair_column: str | Sequence[str] | None = None,
    truncation: str | None = None,
    long_text: str = "truncate",
    aggregate: str = "mean",
    stride: int | None = None,
    precision: str = "auto",
) -> np.ndarray:
    """Label probabilities for ``texts``, shape ``(len(texts), num_labels)``, in input order.

    Texts are tokenized once and run in batches sorted by length, each padded only as
    far as its bucket; rows are put back in the order of ``texts``. Single-label rows
    sum to 1 (softmax); multi-label rows hold one independent probability per label
    (sigmoid).

    Args:
        model: A zoo classifier.
        texts: The texts or pairs of texts (see [`predict`][tfx_textzoo.evaluation.predict]).
        batch_size: Texts per batch.
        verbose: 0, 1 (a progress bar) or ``"auto"`` (see
            [`predict`][tfx_textzoo.evaluation.predict]).
        jit_compile: ``"auto"``, True or False (see [`predict`][tfx_textzoo.evaluation.predict]).
        text_column: The text column(s) of a DataFrame / Hugging Face dataset.
        text_pair: The second texts of pairs.
        text_pair_column: The column of the second texts of pairs.
        truncation: ``"head"``, ``"tail"``, ``"head+tail"`` or None (the model's).
        long_text: ``"truncate"`` or ``"chunks"``.
        aggregate: ``"mean"`` or ``"max"`` (with ``"chunks"``).
        stride: Tokens between window starts (with ``"chunks"``).
        precision: ``"auto"`` (bfloat16 on a CPU with native bfloat16, else float32),
            ``"float32"`` or ``"mixed_bfloat16"``: what the backbone computes in (see
            [`predict`][tfx_textzoo.evaluation.predict]).

    Returns:
        A float32 array of probabilities.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.evaluation import predict_proba
        >>> model = textzoo.load("bert-tiny", num_classes=3, weights=None, num_layers=1)
        >>> predict_proba(model, ["one text", "and another, longer text than that"]).shape
        (2, 3)
        >>> predict_proba(model, ["a long text " * 300], long_text="chunks").shape
        (1, 3)
    """
    check_zoo_classifier(model, "predict")
    settings = _check_settings(
        batch_size, verbose, jit_compile, truncation, long_text, aggregate, stride, precision
    )
    firsts, pairs = _inputs(model, texts, text_pair, text_column, text_pair_column, "predict")
    probs, _ = _probabilities(model, firsts, pairs, **settings)
    return probs


def _check_settings(
    batch_size, verbose, jit_compile, truncation, long_text, aggregate, stride, precision="auto"
):
    """The checked settings of a predict / evaluate call, as `_probabilities` takes them."""
    batch_size = _checks.check_int("batch_size", batch_size, minimum=1)
    verbose = _checks.check_verbose(verbose)
    jit_compile = _checks.check_jit_compile(jit_compile)
    if truncation is not None:
        truncation = tasks.check_truncation(truncation)
    if not isinstance(long_text, str) or long_text not in LONG_TEXT_MODES:
        raise InvalidArgumentError(
            "long_text",
            long_text,
            " or ".join(map(repr, LONG_TEXT_MODES)),
            '"truncate" reads what fits in the sequence length, "chunks" reads every '
            "token in overlapping windows",
        )
    if not isinstance(aggregate, str) or aggregate not in AGGREGATIONS:
        raise InvalidArgumentError("aggregate", aggregate, " or ".join(map(repr, AGGREGATIONS)))
    stride = _checks.check_int("stride", stride, minimum=1, optional=True)
    if long_text == "truncate" and stride is not None:
        raise InvalidArgumentError(
            "stride",
            stride,
            'None with long_text="truncate"',
            'the stride is the step between windows of long_text="chunks"',
        )
    if long_text == "chunks" and truncation is not None:
        raise InvalidArgumentError(
            "truncation",
            truncation,
            'None with long_text="chunks"',
            'chunks read every token; truncation is for long_text="truncate"',
        )
    return {
        "batch_size": batch_size,
        "verbose": verbose,
        "jit_compile": jit_compile,
        "truncation": truncation,
        "long_text": long_text,
        "aggregate": aggregate,
        "stride": stride,
        "precision": resolve_precision(precision),
    }


def _inputs(model, texts, text_pair, text_column, text_pair_column, what):
    """``(texts, pairs or None)`` to predict on, with the model's pair contract checked."""
    if isinstance(texts, bytes):
        raise InvalidArgumentTypeError(
            "texts",
            _Described("bytes"),
            "a str or a sequence of strings",
            f"{what}: decode them first (texts.decode('utf-8'))",
        )
    columns = {"text_column": text_column, "text_pair_column": text_pair_column, "what": what}
    if text_pair is not None:
        firsts, pairs = datasets.as_inputs(texts, **columns)
        if pairs is not None:
            raise InvalidArgumentError(
                "text_pair",
                _Described(f"second texts besides {len(firsts):,} pairs in texts"),
                "None when texts already holds the pairs",
                "pass the pairs one way: a list of (first, second) tuples, "
                "text_pair=seconds, or a table with text_pair_column=",
            )
    firsts, pairs = datasets.as_inputs(texts, text_pair=text_pair, **columns)
    if pairs is None and tasks.of(model).text_pair:
        raise _needs_pairs(len(firsts))
    return list(firsts), pairs


class _Described(str):
    """A value shown in an error message as plain words (its ``repr`` is the text)."""

    def __repr__(self) -> str:
        return str(self)


def _needs_pairs(num_texts: int) -> InvalidArgumentError:
    """The error for single texts given to a model fine-tuned on pairs."""
    return InvalidArgumentError(
        "texts",
        _Described(f"{num_texts:,} single text(s)"),
        "pairs of texts",
        "this model was fine-tuned on text pairs (model.task.text_pair is True); "
        "pass them as a list of (first, second) tuples, as texts plus "
        "text_pair=second_texts, or as a DataFrame with text_column= and "
        "text_pair_column=",
    )


def _probabilities(
    model,
    texts,
    pairs,
    *,
    batch_size,
    verbose,
    jit_compile,
    truncation,
    long_text,
    aggregate,
    stride,
    precision,
) -> tuple[np.ndarray, int]:
    """``(probabilities (n, k), number of texts longer than the sequence length)``."""
    if long_text == "chunks":
        if pairs is not None:
            raise InvalidArgumentError(
                "long_text",
                "chunks",
                "'truncate' for pairs of texts",
                "windows are for single long texts; a pair is read as its preprocessor "
                "packs it, truncated (choose which tokens with truncation=)",
            )
        tok = preprocessing.tokenize_windows(model, texts, stride=stride)
    else:
        tok = preprocessing.tokenize(model, texts, text_pairs=pairs, truncation=truncation)
    if verbose == "auto":
        verbose = int(math.ceil(len(tok) / batch_size) >= PROGRESS_MIN_BATCHES)
    xla = _use_xla(model, jit_compile, len(tok), precision)
    probs = inference.probabilities(
        model, tok, batch_size, xla=xla, verbose=verbose, precision=precision
    )
    if long_text == "chunks":  # one row per window: back to one per text
        probs = inference.aggregate(
            probs,
            np.asarray(tok.documents),
            len(texts),
            how=aggregate,
            multi_label=tasks.of(model).multi_label,
        ).astype("float32")
    return probs, int(tok.num_truncated)


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


def _use_xla(model, jit_compile, n_texts: int, precision: str = "float32") -> bool:
    if jit_compile != "auto":
        return bool(jit_compile)
    if tf.config.list_physical_devices("GPU"):
        return True
    if inference.is_traced(model, "probabilities", xla=True, precision=precision):  # reuse
        return True
    # Not in bfloat16 on a CPU: XLA's CPU backend ran it at 0.86x TensorFlow's oneDNN
    # kernels (BERT L4-H128, benchmarks/inference_throughput.py).
    return precision == "float32" and n_texts >= XLA_MIN_TEXTS_ON_CPU


def evaluate(
    model: keras.Model,
    data: Any,
    *,
    batch_size: int = 64,
    text_column: str | Sequence[str] | None = None,
    text_pair_column: str | Sequence[str] | None = None,
    label_column: str | Sequence[str] | None = None,
    label_delimiter: str | None = None,
    jit_compile: bool | str = "auto",
    verbose: int | str = "auto",
    truncation: str | None = None,
    long_text: str = "truncate",
    aggregate: str = "mean",
    stride: int | None = None,
    precision: str = "auto",
) -> Report:
    """Evaluate ``model`` on labelled texts and return a [`Report`][tfx_textzoo.evaluation.Report].

    The report's kind follows the model's task: a multi-label model is scored on
    its decisions at its thresholds (micro / macro / samples F1, subset accuracy,
    Hamming loss, per-label scores and ROC AUC), a single-label model on its most
    likely class (accuracy, F1, the confusion matrix).

    Args:
        model: A zoo classifier.
        data: Labelled texts in any form [`finetune`][tfx_textzoo.finetune] takes: a
            [`TextDataset`][tfx_textzoo.datasets.TextDataset], ``(texts, labels)``,
            ``([(first, second), ...], labels)``, a ``tf.data.Dataset``, a pandas
            DataFrame or a Hugging Face dataset. Multi-label labels are label sets
            (lists of names or ids) or a 0/1 matrix. When ``data`` has label names in
            another order than the model's, labels are matched by name.
        batch_size: Texts per batch.
        text_column: Text column(s) of a DataFrame / HF dataset.
        text_pair_column: The column of the second texts of pairs.
        label_column: Label column of a DataFrame / HF dataset (multi-label: a column
            of label lists, a delimited string column, or one 0/1 column per label).
        label_delimiter: Multi-label: the separator of a string label column
            (``"sport|politics"``).
        jit_compile: ``"auto"``, True or False (see [`predict`][tfx_textzoo.evaluation.predict]).
        verbose: 0, 1 or ``"auto"`` (a progress bar for long inputs).
        truncation: ``"head"``, ``"tail"``, ``"head+tail"`` or None (the model's); see
            [`predict`][tfx_textzoo.evaluation.predict].
        long_text: ``"truncate"`` or ``"chunks"`` (see [`predict`][tfx_textzoo.evaluation.predict]).
        aggregate: ``"mean"`` or ``"max"`` (with ``"chunks"``).
        stride: Tokens between window starts (with ``"chunks"``).
        precision: ``"auto"`` (bfloat16 on a CPU with native bfloat16, else float32),
            ``"float32"`` or ``"mixed_bfloat16"``: what the backbone computes in (see
            [`predict`][tfx_textzoo.evaluation.predict]).

    Returns:
        The [`Report`][tfx_textzoo.evaluation.Report], with the number of texts longer
        than the sequence length (``num_long_texts``) and how they were read
        (``long_text``).

    Raises:
        ValueError: Labels that do not fit the model (out of range, unknown names, a
            dataset whose label names are not the model's classes: a
            [`LabelMismatchError`][tfx_textzoo.errors.LabelMismatchError]); single texts
            for a pair model; a bad setting (an
            [`InvalidArgumentError`][tfx_textzoo.errors.InvalidArgumentError] naming it).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("bert-tiny", labels=["neg", "pos"], weights=None,
        ...                      num_layers=1)
        >>> report = textzoo.evaluate(model, (["good film", "bad film"], ["pos", "neg"]))
        >>> report.num_examples, sorted(report.per_class), report.task
        (2, ['neg', 'pos'], 'single_label')
        >>> tagger = textzoo.load("bert-tiny", labels=["sport", "money"], multi_label=True,
        ...                       weights=None, num_layers=1)
        >>> report = textzoo.evaluate(tagger, (["A club sold", "Goal!"], [["sport", "money"],
        ...                           ["sport"]]))
        >>> report.task, sorted(report.per_class["money"])
        ('multi_label', ['f1', 'precision', 'recall', 'roc_auc', 'support'])
    """
    check_zoo_classifier(model, "evaluate")
    names = label_names(model)
    task = tasks.of(model)
    settings = _check_settings(
        batch_size, verbose, jit_compile, truncation, long_text, aggregate, stride, precision
    )
    text_column = _checks.check_columns("text_column", text_column)
    text_pair_column = _checks.check_columns("text_pair_column", text_pair_column)
    # multi-label labels may be one 0/1 column per label
    label_column = _checks.check_columns("label_column", label_column, several=task.multi_label)
    data = _checks.align_labels(data, model.labels, "evaluate")
    examples = datasets.as_examples(
        data,
        multi_label=task.multi_label,
        label_names=names,
        num_classes=len(names),
        text_column=text_column,
        text_pair_column=text_pair_column,
        label_column=label_column,
        label_delimiter=label_delimiter,
        what="evaluate",
    )
    texts = list(examples.texts)
    pairs = None if examples.text_pairs is None else list(examples.text_pairs)
    if pairs is None and task.text_pair:
        raise _needs_pairs(len(texts))
    start = time.perf_counter()
    probs, num_long = _probabilities(model, texts, pairs, **settings)
    return Report.from_predictions(
        examples.labels,
        probs,
        label_names=names,
        texts=texts,
        text_pairs=pairs,
        model_name=model.model_name or model.name,
        dataset_name=getattr(data, "name", None) or None,
        seconds=time.perf_counter() - start,
        multi_label=task.multi_label,
        thresholds=task.threshold_array(len(names)) if task.multi_label else None,
        num_long_texts=num_long,
        long_text=settings["long_text"],
    )


#: What `Report.long_text` says about texts longer than the sequence length.
_LONG_TEXT_WORDS = {
    "truncate": "they were truncated, so only part of each was read",
    "chunks": "they were read in overlapping windows whose probabilities were aggregated",
}


@dataclasses.dataclass(eq=False)
class Report:
    """An evaluation report: metrics per label and overall, and the predictions behind them.

    Build one with [`evaluate`][tfx_textzoo.evaluation.evaluate] (or
    [`from_predictions`][tfx_textzoo.evaluation.Report.from_predictions]); it is what the CLI
    prints and the model card holds. It has two kinds (`task`):

    - ``"single_label"``: one class per text (the most likely one); accuracy, macro and
      weighted F1, per-class precision / recall / F1 and the confusion matrix.
    - ``"multi_label"``: any number of labels per text, each chosen when its probability
      reaches the label's threshold (`thresholds`); micro, macro, weighted and samples
      F1, subset accuracy, Hamming loss, and per label precision / recall / F1 /
      support / ROC AUC. There is no confusion matrix (each label is its own yes/no
      decision): see [`plot_per_label`][tfx_textzoo.evaluation.Report.plot_per_label].

    Attributes:
        label_names: ``label_names[i]`` names class (or label) ``i``.
        accuracy: Single-label: fraction of texts whose most likely class is the true
            one. Multi-label: the subset accuracy (fraction of texts whose every label
            is decided right), also `subset_accuracy`.
        macro_f1: Unweighted mean of the per-label F1 scores.
        weighted_f1: Mean of the per-label F1 scores weighted by support.
        per_class: Label name -> ``{"precision", "recall", "f1", "support"}``; multi-label
            adds ``"roc_auc"`` (None for a label whose texts are all positive or all
            negative: the AUC is undefined there).
        confusion_matrix: Single-label: ``(C, C)`` int array, rows true labels, columns
            predicted. Multi-label: None.
        num_examples: Texts (or pairs of texts) evaluated.
        loss: Mean cross-entropy of the true labels (binary cross-entropy over every
            label for multi-label; None without probabilities).
        model_name: The zoo name of the model evaluated.
        dataset_name: Where the data came from.
        seconds: Wall-clock seconds the predictions took.
        task: ``"single_label"`` or ``"multi_label"``.
        thresholds: Multi-label: the decision threshold of each label (None for
            single-label).
        micro_f1: Multi-label: F1 over every (text, label) decision pooled.
        samples_f1: Multi-label: mean over texts of each text's F1 (a text with no true
            and no predicted label counts as 1, fully right).
        hamming_loss: Multi-label: fraction of (text, label) decisions that are wrong.
        num_long_texts: Texts longer than the model's sequence length (None: not
            counted, e.g. a report built from predictions).
        long_text: How those were read: ``"truncate"`` or ``"chunks"`` (see
            [`predict`][tfx_textzoo.evaluation.predict]).
        texts: The texts (kept for [`errors`][tfx_textzoo.evaluation.Report.errors]; not written by
            [`to_json`][tfx_textzoo.evaluation.Report.to_json]).
        text_pairs: The second texts of text pairs, or None.
        labels: True label ids ``(N,)``, or a 0/1 ``(N, C)`` matrix for multi-label.
        probabilities: ``(N, C)`` predicted probabilities, in input order.
    """

    label_names: list[str]
    accuracy: float
    macro_f1: float
    weighted_f1: float
    per_class: dict[str, dict[str, Any]]
    confusion_matrix: np.ndarray | None
    num_examples: int
    loss: float | None = None
    model_name: str | None = None
    dataset_name: str | None = None
    seconds: float | None = None
    task: str = "single_label"
    thresholds: list[float] | None = None
    micro_f1: float | None = None
    samples_f1: float | None = None
    hamming_loss: float | None = None
    num_long_texts: int | None = None
    long_text: str | None = None
    texts: list[str] | None = dataclasses.field(default=None, repr=False)
    text_pairs: list[str] | None = dataclasses.field(default=None, repr=False)
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
        text_pairs: Sequence[str] | None = None,
        model_name: str | None = None,
        dataset_name: str | None = None,
        seconds: float | None = None,
        multi_label: bool | None = None,
        thresholds: Sequence[float] | None = None,
        num_long_texts: int | None = None,
        long_text: str | None = None,
    ) -> Report:
        """Compute the report from true labels and predicted probabilities.

        Args:
            labels: True class ids ``(N,)``; or, multi-label, a 0/1 matrix ``(N, C)``.
            probabilities: ``(N, C)`` predicted probabilities.
            label_names: The ``C`` class (label) names.
            texts: The texts, for [`errors`][tfx_textzoo.evaluation.Report.errors].
            text_pairs: The second texts of pairs.
            model_name: The model's name.
            dataset_name: The data's name.
            seconds: How long the predictions took.
            multi_label: Whether ``labels`` is a multi-label 0/1 matrix (None: when it
                is 2-D).
            thresholds: Multi-label: the per-label decision thresholds (None: 0.5 each).
            num_long_texts: Texts longer than the sequence length.
            long_text: ``"truncate"`` or ``"chunks"``: how the long texts were read.

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions(
            ...     [0, 1, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]),
            ...     label_names=["neg", "pos"])
            >>> round(report.accuracy, 3), report.per_class["pos"]["recall"]
            (0.667, 0.5)
            >>> multi = Report.from_predictions(
            ...     [[1, 0, 1], [0, 1, 0]], np.array([[0.9, 0.2, 0.4], [0.1, 0.7, 0.2]]),
            ...     label_names=["a", "b", "c"], thresholds=[0.5, 0.5, 0.3])
            >>> multi.task, multi.hamming_loss, multi.subset_accuracy
            ('multi_label', 0.0, 1.0)
        """
        labels = np.asarray(labels)
        probabilities = np.asarray(probabilities, dtype="float64")
        names = list(label_names)
        if multi_label is None:
            multi_label = labels.ndim == 2
        if probabilities.shape != (labels.shape[0], len(names)):
            raise ValueError(
                f"probabilities must have shape ({labels.shape[0]}, {len(names)}), "
                f"got {probabilities.shape}"
            )
        if texts is not None and len(texts) != labels.shape[0]:
            raise ValueError(f"{len(texts)} texts but {labels.shape[0]} labels")
        if text_pairs is not None and len(text_pairs) != labels.shape[0]:
            raise ValueError(f"{len(text_pairs)} text pairs but {labels.shape[0]} labels")
        if long_text is not None and long_text not in _LONG_TEXT_WORDS:
            raise InvalidArgumentError("long_text", long_text, "'truncate' or 'chunks'")
        common = {
            "model_name": model_name,
            "dataset_name": dataset_name,
            "seconds": seconds,
            "num_long_texts": None if num_long_texts is None else int(num_long_texts),
            "long_text": long_text,
            "texts": list(texts) if texts is not None else None,
            "text_pairs": list(text_pairs) if text_pairs is not None else None,
            "probabilities": probabilities,
        }
        if multi_label:
            return cls._multi_label(labels, probabilities, names, thresholds, common)
        if thresholds is not None:
            raise ValueError("thresholds are for multi-label reports (multi_label=True)")
        if labels.ndim != 1:
            raise ValueError(
                f"single-label labels must be class ids of shape (N,), got shape "
                f"{labels.shape}; for a 0/1 label matrix pass multi_label=True"
            )
        from sklearn import metrics

        labels = labels.astype("int64")
        classes = list(range(len(names)))
        predicted = probabilities.argmax(axis=1)
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            labels, predicted, labels=classes, zero_division=0
        )
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
            per_class=_per_label(names, precision, recall, f1, support),
            confusion_matrix=metrics.confusion_matrix(labels, predicted, labels=classes),
            num_examples=int(labels.shape[0]),
            loss=float(loss),
            labels=labels,
            **common,
        )

    @classmethod
    def _multi_label(cls, labels, probabilities, names, thresholds, common) -> Report:
        from sklearn import metrics

        if labels.shape != probabilities.shape:
            raise ValueError(
                f"multi-label labels must be a 0/1 matrix of shape {probabilities.shape} "
                f"(texts, labels), got shape {labels.shape}"
            )
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("multi-label labels must be 0 or 1 (one column per label)")
        y = labels.astype("int64")
        task = tasks.Task(
            multi_label=True, thresholds=None if thresholds is None else tuple(thresholds)
        )
        cut = task.threshold_array(len(names))
        predicted = task.decide(probabilities).astype("int64")
        precision, recall, f1, support = metrics.precision_recall_fscore_support(
            y, predicted, average=None, zero_division=0
        )
        auc = []
        for j in range(len(names)):
            present = np.unique(y[:, j])
            auc.append(
                float(metrics.roc_auc_score(y[:, j], probabilities[:, j]))
                if present.size == 2
                else None
            )
        per_class = _per_label(names, precision, recall, f1, support)
        for name, value in zip(names, auc, strict=True):
            per_class[name]["roc_auc"] = value
        p = np.clip(probabilities, 1e-12, 1 - 1e-12)
        loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))

        def f1_average(average, zero_division=0.0):
            return float(
                metrics.f1_score(y, predicted, average=average, zero_division=zero_division)
            )

        return cls(
            label_names=names,
            accuracy=float(metrics.accuracy_score(y, predicted)),
            macro_f1=f1_average("macro"),
            weighted_f1=f1_average("weighted"),
            per_class=per_class,
            confusion_matrix=None,
            num_examples=int(y.shape[0]),
            loss=float(loss),
            task="multi_label",
            thresholds=[float(t) for t in cut],
            micro_f1=f1_average("micro"),
            samples_f1=f1_average("samples", zero_division=1.0),
            hamming_loss=float(metrics.hamming_loss(y, predicted)),
            labels=y,
            **common,
        )

    @property
    def multi_label(self) -> bool:
        """Whether this is a multi-label report (`task` is ``"multi_label"``)."""
        return self.task == "multi_label"

    @property
    def subset_accuracy(self) -> float | None:
        """Multi-label: fraction of texts with every label decided right (None otherwise)."""
        return self.accuracy if self.multi_label else None

    @property
    def predictions(self) -> np.ndarray:
        """Predicted label ids ``(N,)``, in input order; multi-label: a bool ``(N, C)`` matrix."""
        self._need_predictions("predictions")
        if self.multi_label:
            return self.probabilities >= np.asarray(self.thresholds)
        return self.probabilities.argmax(axis=1)

    def errors(self, k: int = 10) -> list[dict[str, Any]]:
        """The ``k`` worst mistakes.

        Single-label: the most confident mistakes, most confident first. Each is a
        dict with ``index`` (position in the evaluated data), ``text``, ``true``,
        ``predicted`` (label names), ``confidence`` (probability given to the
        predicted class) and ``true_probability``.

        Multi-label: the texts with the most wrong labels first (ties: the larger sum
        of ``|probability - truth|`` over their labels first). Each is a dict with
        ``index``, ``text``, ``true`` and ``predicted`` (lists of label names, in label
        order), ``missing`` (true labels not predicted), ``extra`` (predicted labels
        not true), ``num_wrong`` and ``probabilities`` (label name -> probability).

        Pairs add ``text_pair`` (the second text).

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions(
            ...     [0, 1, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]),
            ...     label_names=["neg", "pos"], texts=["bad", "good", "not bad"])
            >>> [(e["text"], e["predicted"]) for e in report.errors()]
            [('not bad', 'neg')]
            >>> multi = Report.from_predictions(
            ...     [[1, 1], [1, 0]], np.array([[0.9, 0.2], [0.1, 0.7]]),
            ...     label_names=["a", "b"], texts=["one", "two"])
            >>> [(e["text"], e["missing"], e["extra"]) for e in multi.errors()]
            [('two', ['a'], ['b']), ('one', ['b'], [])]
        """
        self._need_predictions("errors()")
        k = max(int(k), 0)
        if self.multi_label:
            return self._multi_label_errors(k)
        predicted = self.predictions
        wrong = np.flatnonzero(predicted != self.labels)
        confidence = self.probabilities[wrong, predicted[wrong]]
        ranked = wrong[np.argsort(-confidence, kind="stable")][:k]
        return [
            {
                "index": int(i),
                "text": self.texts[i] if self.texts is not None else None,
                **self._pair(i),
                "true": self.label_names[self.labels[i]],
                "predicted": self.label_names[predicted[i]],
                "confidence": float(self.probabilities[i, predicted[i]]),
                "true_probability": float(self.probabilities[i, self.labels[i]]),
            }
            for i in ranked
        ]

    def _multi_label_errors(self, k: int) -> list[dict[str, Any]]:
        predicted = self.predictions
        truth = self.labels.astype(bool)
        num_wrong = (predicted != truth).sum(axis=1)
        distance = np.abs(self.probabilities - truth).sum(axis=1)
        order = np.lexsort((-distance, -num_wrong))  # last key first
        ranked = [i for i in order if num_wrong[i] > 0][:k]
        names = np.asarray(self.label_names, dtype=object)
        return [
            {
                "index": int(i),
                "text": self.texts[i] if self.texts is not None else None,
                **self._pair(i),
                "true": names[truth[i]].tolist(),
                "predicted": names[predicted[i]].tolist(),
                "missing": names[truth[i] & ~predicted[i]].tolist(),
                "extra": names[predicted[i] & ~truth[i]].tolist(),
                "num_wrong": int(num_wrong[i]),
                "probabilities": dict(
                    zip(self.label_names, self.probabilities[i].tolist(), strict=True)
                ),
            }
            for i in ranked
        ]

    def _pair(self, i: int) -> dict[str, str]:
        return {"text_pair": self.text_pairs[i]} if self.text_pairs is not None else {}

    def plot_confusion_matrix(
        self, path: str | os.PathLike | None = None, *, dpi: int = 100, title: str | None = None
    ):
        r"""Draw the confusion matrix: counts in the cells, shades normalized by row.

        Rows are true labels, columns predicted; a cell's shade is the fraction of its
        row (the recall on the diagonal), so classes of any size compare. Single-label
        reports only: a multi-label report draws
        [`plot_per_label`][tfx_textzoo.evaluation.Report.plot_per_label].

        Args:
            path: Where to write the image (the format follows the suffix, e.g.
                ``.png``); written atomically. None: only return the figure.
            dpi: Resolution; the image is ``figure.get_size_inches() * dpi`` pixels.
            title: The title (default: model, data and accuracy).

        Returns:
            The ``matplotlib.figure.Figure``.

        Raises:
            ValueError: A multi-label report (it has no confusion matrix).

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
        if self.multi_label or self.confusion_matrix is None:
            raise ValueError(
                "a multi-label report has no confusion matrix (each label is its own "
                "yes/no decision); draw per-label precision, recall and F1 with "
                "report.plot_per_label(path) instead"
            )
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
            title = self._title(f"accuracy {self.accuracy:.1%}")
        ax.set_title(textwrap.fill(title, width=int(side * 11)), fontsize=10)
        _save_figure(figure, path, dpi)
        return figure

    def plot_per_label(
        self, path: str | os.PathLike | None = None, *, dpi: int = 100, title: str | None = None
    ):
        r"""Draw per-label F1, precision and recall as horizontal bars, one group per label.

        The plot of a multi-label report (which has no confusion matrix); it works on a
        single-label report too. Each label's support is written after its name.

        Args:
            path: Where to write the image (the format follows the suffix, e.g.
                ``.png``); written atomically. None: only return the figure.
            dpi: Resolution; the image is ``figure.get_size_inches() * dpi`` pixels.
            title: The title (default: model, data and micro F1 or accuracy).

        Returns:
            The ``matplotlib.figure.Figure``.

        Examples:
            >>> import numpy as np, tempfile, pathlib
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions(
            ...     [[1, 0], [1, 1], [0, 1]], np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]]),
            ...     label_names=["a", "b"])
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "per_label.png"
            >>> _ = report.plot_per_label(path)
            >>> path.read_bytes()[:4]
            b'\x89PNG'
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        names = list(self.label_names)
        n = len(names)
        metrics = [("f1", "F1", "#1f77b4"), ("precision", "precision", "#ff7f0e")]
        metrics.append(("recall", "recall", "#2ca02c"))
        height = max(3.0, 1.4 + 0.55 * n)
        figure = Figure(figsize=(8.0, height), dpi=dpi, layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        rows = np.arange(n)
        bar = 0.8 / len(metrics)
        for m, (key, label, color) in enumerate(metrics):
            values = [float(self.per_class[name][key]) for name in names]
            ax.barh(rows + (m - 1) * bar, values, height=bar, label=label, color=color)
        ax.set_yticks(
            rows, [f"{name} (n={int(self.per_class[name]['support']):,})" for name in names]
        )
        ax.invert_yaxis()  # the first label on top
        ax.set_xlim(0.0, 1.0)
        ax.set_xlabel("score")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
        if title is None:
            if self.multi_label:
                title = self._title(f"micro F1 {self.micro_f1:.3f}, macro F1 {self.macro_f1:.3f}")
            else:
                title = self._title(f"accuracy {self.accuracy:.1%}")
        ax.set_title(textwrap.fill(title, width=80), fontsize=10)
        _save_figure(figure, path, dpi)
        return figure

    def _title(self, headline: str) -> str:
        about = " on ".join(x for x in (self.model_name, self.dataset_name) if x)
        title = f"{headline}, n={self.num_examples:,}"
        return f"{about}: {title}" if about else title

    def to_dict(self) -> dict[str, Any]:
        """The metrics as plain JSON types (without texts and probabilities).

        Both kinds hold ``task``, ``label_names``, ``per_class``, ``accuracy``,
        ``macro_f1``, ``weighted_f1``, ``loss``, ``num_long_texts`` and ``long_text``;
        single-label adds ``confusion_matrix``, multi-label ``thresholds``,
        ``micro_f1``, ``samples_f1``, ``subset_accuracy`` and ``hamming_loss``.

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions([0, 1], np.eye(2), label_names=["a", "b"])
            >>> report.to_dict()["confusion_matrix"]
            [[1, 0], [0, 1]]
        """
        data: dict[str, Any] = {
            "task": self.task,
            "model_name": self.model_name,
            "dataset_name": self.dataset_name,
            "num_examples": self.num_examples,
            "accuracy": self.accuracy,
        }
        if self.multi_label:
            data |= {
                "subset_accuracy": self.accuracy,
                "micro_f1": self.micro_f1,
                "macro_f1": self.macro_f1,
                "weighted_f1": self.weighted_f1,
                "samples_f1": self.samples_f1,
                "hamming_loss": self.hamming_loss,
            }
        else:
            data |= {"macro_f1": self.macro_f1, "weighted_f1": self.weighted_f1}
        data |= {
            "loss": self.loss,
            "label_names": list(self.label_names),
            "per_class": self.per_class,
        }
        if self.multi_label:
            data["thresholds"] = self.thresholds
        else:
            data["confusion_matrix"] = np.asarray(self.confusion_matrix).tolist()
        data |= {
            "num_long_texts": self.num_long_texts,
            "long_text": self.long_text,
            "seconds": self.seconds,
        }
        return _plain(data)

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
        """Rebuild a report (metrics only) from `to_dict` output (either kind).

        A dict without ``task`` (written before multi-label reports existed) is a
        single-label report.

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions([0, 1], np.eye(2), label_names=["a", "b"])
            >>> Report.from_dict(report.to_dict()).accuracy
            1.0
        """
        if not isinstance(data, dict):
            raise ValueError(f"not an evaluation report: a {type(data).__name__}, not a dict")
        task = data.get("task", "single_label")
        if task not in ("single_label", "multi_label"):
            raise ValueError(
                f"not an evaluation report: unknown task {task!r} (single_label or multi_label)"
            )
        fields = {f.name for f in dataclasses.fields(cls)}
        fields -= {"texts", "text_pairs", "labels", "probabilities"}
        values = {k: v for k, v in data.items() if k in fields}
        if task == "multi_label":
            if "accuracy" not in values and "subset_accuracy" in data:
                values["accuracy"] = data["subset_accuracy"]
            required = {"label_names", "accuracy", "per_class", "micro_f1", "num_examples"}
        else:
            required = {"label_names", "accuracy", "per_class", "confusion_matrix"}
        missing = required - set(values)
        if missing:
            raise ValueError(f"not an evaluation report: missing {sorted(missing)}")
        values["task"] = task
        if task == "single_label":
            values["confusion_matrix"] = np.asarray(values["confusion_matrix"], dtype="int64")
            values.setdefault("num_examples", int(values["confusion_matrix"].sum()))
        else:
            values["confusion_matrix"] = None
        values.setdefault("macro_f1", float("nan"))
        values.setdefault("weighted_f1", float("nan"))
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
        """The report as Markdown: a summary line, per-label table, confusion matrix.

        Multi-label: the summary line (micro / macro / samples F1, subset accuracy,
        Hamming loss), then a table of each label's threshold, precision, recall, F1,
        ROC AUC and support. Both kinds end with how many texts were longer than the
        sequence length, when that was counted.

        Examples:
            >>> import numpy as np
            >>> from tfx_textzoo.evaluation import Report
            >>> report = Report.from_predictions([0, 1], np.eye(2), label_names=["a", "b"])
            >>> print(report.to_markdown().splitlines()[0])
            **Accuracy 100.00%**, macro F1 1.0000 on 2 texts
            >>> multi = Report.from_predictions([[1, 0], [1, 1]], np.array([[0.9, 0.2],
            ...     [0.8, 0.4]]), label_names=["a", "b"])
            >>> print(multi.to_markdown().splitlines()[0])  # doctest: +NORMALIZE_WHITESPACE
            **Micro F1 0.8000**, macro F1 0.5000, samples F1 0.8333, subset accuracy 50.00%,
            Hamming loss 0.2500 on 2 texts
        """
        of = (f" of {self.dataset_name}" if self.dataset_name else "") + (
            f" ({self.model_name})" if self.model_name else ""
        )
        if self.multi_label:
            lines = [
                f"**Micro F1 {self.micro_f1:.4f}**, macro F1 {self.macro_f1:.4f}, "
                f"samples F1 {_fmt(self.samples_f1)}, subset accuracy {self.accuracy:.2%}, "
                f"Hamming loss {_fmt(self.hamming_loss)} on {self.num_examples:,} texts" + of,
                "",
                "| label | threshold | precision | recall | F1 | ROC AUC | support |",
                "|---|---:|---:|---:|---:|---:|---:|",
            ]
            thresholds = self.thresholds or [None] * len(self.label_names)
            for name, cut in zip(self.label_names, thresholds, strict=True):
                m = self.per_class[name]
                lines.append(
                    f"| {name} | {_fmt(cut, 2)} | {m['precision']:.4f} | {m['recall']:.4f} "
                    f"| {m['f1']:.4f} | {_fmt(m.get('roc_auc'))} | {m['support']:,} |"
                )
            lines.append(self._macro_row())
        else:
            lines = [
                f"**Accuracy {self.accuracy:.2%}**, macro F1 {self.macro_f1:.4f} on "
                f"{self.num_examples:,} texts" + of,
                "",
                "| label | precision | recall | F1 | support |",
                "|---|---:|---:|---:|---:|",
            ]
            for name, m in self.per_class.items():
                lines.append(
                    f"| {name} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} "
                    f"| {m['support']:,} |"
                )
            lines.append(self._macro_row())
            lines += ["", "Confusion matrix (rows: true label, columns: predicted):", ""]
            lines.append("| true \\ predicted | " + " | ".join(self.label_names) + " |")
            lines.append("|---|" + "---:|" * len(self.label_names))
            for name, row in zip(self.label_names, np.asarray(self.confusion_matrix), strict=True):
                lines.append(f"| {name} | " + " | ".join(f"{int(v):,}" for v in row) + " |")
        if self.num_long_texts is not None:
            lines += ["", self._long_text_line()]
        return "\n".join(lines) + "\n"

    def _macro_row(self) -> str:
        rows = list(self.per_class.values())
        total = sum(m["support"] for m in rows)
        p = np.mean([m["precision"] for m in rows])
        r = np.mean([m["recall"] for m in rows])
        if not self.multi_label:
            return f"| **macro avg** | {p:.4f} | {r:.4f} | {self.macro_f1:.4f} | {total:,} |"
        aucs = [m["roc_auc"] for m in rows if m.get("roc_auc") is not None]
        auc = _fmt(float(np.mean(aucs)) if aucs else None)
        return f"| **macro avg** | | {p:.4f} | {r:.4f} | {self.macro_f1:.4f} | {auc} | {total:,} |"

    def _long_text_line(self) -> str:
        n = self.num_long_texts
        line = f"{n:,} of {self.num_examples:,} texts are longer than the model's sequence length"
        if not n:
            return line + "."
        if self.long_text in _LONG_TEXT_WORDS:
            return f'{line}; {_LONG_TEXT_WORDS[self.long_text]} (long_text="{self.long_text}").'
        return line + "."

    def __str__(self) -> str:
        return self.to_markdown()

    def _need_predictions(self, what: str) -> None:
        if self.probabilities is None or self.labels is None:
            raise ValueError(
                f"{what} needs the predictions, which a report read from JSON does not "
                "keep; run textzoo.evaluate(model, data) again."
            )


def _per_label(names, precision, recall, f1, support) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(names)
    }


def _fmt(value: float | None, digits: int = 4) -> str:
    """A number for the Markdown tables; an en dash for None (undefined)."""
    return "–" if value is None else f"{value:.{digits}f}"


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into plain JSON types."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _save_figure(figure, path, dpi: int) -> None:
    if path is not None:
        with atomic_path(path) as tmp:
            figure.savefig(tmp, dpi=dpi)
