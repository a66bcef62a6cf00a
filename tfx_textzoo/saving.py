"""Saving a classifier as a self-describing directory, loading it back, exporting it.

[`save_pretrained`][tfx_textzoo.saving.save_pretrained] writes a keras-hub preset (``config.json``,
``task.json``,
``preprocessor.json``, ``tokenizer.json``, ``model.weights.h5``, ``task.weights.h5``,
tokenizer assets) plus ``textzoo.json`` (labels, the task, the zoo entry, training
settings, evaluation report, the size and SHA-256 of every file) and a Hugging Face
model card ``README.md``. Only JSON, text and ``.weights.h5`` files: nothing is pickled.
[`tfx_textzoo.load`][tfx_textzoo.load] reads such a directory, or an ``hf://owner/name`` repository
holding one (through the same cache and offline rules as pretrained weights).
[`export`][tfx_textzoo.saving.export] writes a TensorFlow SavedModel that takes raw strings, with
the tokenizer
inside the graph, reading texts as the model's [`Task`][tfx_textzoo.tasks.Task] says
(truncation, pairs: two strings per example) or in windows; a multi-label model's export
also returns its decisions at the model's thresholds.

Writes go through `tfx_textzoo._files.atomic_directory`: everything goes to a
temporary directory beside the target, published at the end with a rename that never
replaces another writer's directory (an overwrite is an atomic exchange), so a failure or
a kill leaves the previous model or the new one, never a part.

Loading trusts nothing in the directory: every path its ``textzoo.json`` names must stay
inside it, every file must have the recorded size and SHA-256 (directories written before
hashes were recorded are checked by size), and the label names must match the model.
"""

from __future__ import annotations

import datetime
import json
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras

from tfx_textzoo import _files, tasks
from tfx_textzoo.errors import CorruptModelError, InvalidArgumentError
from tfx_textzoo.registry import get_spec
from tfx_textzoo.weights import _hf_snapshot, cache_dir

#: Name of the file that marks a directory as a saved tfx_textzoo model.
TEXTZOO_FILE = "textzoo.json"
#: Version of the ``textzoo.json`` layout written by this module.
FORMAT_VERSION = 1
#: Formats [`export`][tfx_textzoo.saving.export] writes.
EXPORT_FORMATS = ("saved_model",)

_FORMAT_NAME = "tfx_textzoo.saved_model"
_CARD_FILE = "README.md"
_VOCABULARY_FILE = "vocabulary.json"
# Files whose size and hash are not checked on load (the card may be edited on the Hub).
_UNCHECKED = {TEXTZOO_FILE, _CARD_FILE}
_CORE_FILES = ("config.json", "task.json", "model.weights.h5")


def save_pretrained(
    model: keras.Model,
    path: str | os.PathLike,
    *,
    report: Any = None,
    history: Any = None,
    dataset: str | None = None,
    license: str | None = None,
    base_model: str | None = "auto",
    overwrite: bool = False,
) -> Path:
    """Save a classifier as a directory that fully describes it.

    The directory is a keras-hub preset (architecture, weights, tokenizer and
    preprocessor, classification head) plus ``textzoo.json`` (format version,
    tfx_textzoo version, label names, the model's [`Task`][tfx_textzoo.tasks.Task] as
    ``task.to_config()`` (single- or multi-label, decision thresholds, text pairs,
    truncation; ``task.json`` holds it too), the zoo entry and family, training settings
    and per-epoch records, the evaluation report, the size and SHA-256 of every file)
    and a model card ``README.md`` (for a multi-label model: its thresholds and
    multi-label metrics; for a pair model: pair input in the usage snippet).
    [`tfx_textzoo.load`][tfx_textzoo.load] restores it from the path, or from
    ``hf://owner/name`` once pushed to the Hugging Face Hub.

    Args:
        model: A zoo classifier (a keras-hub ``TextClassifier`` with its preprocessor).
        path: The directory to write. Its parent is created when missing.
        report: Optional [`Report`][tfx_textzoo.evaluation.Report] (or its ``to_dict()``):
            stored in ``textzoo.json`` and shown in the model card. It must be of the
            model's kind (a multi-label report for a multi-label model).
        history: Optional [`FinetuneHistory`][tfx_textzoo.training.FinetuneHistory] (or its
            ``to_dict()``): the training settings and per-epoch records.
        dataset: Name of the training data set (e.g. ``"ag_news"``), for the card;
            default: the report's ``dataset_name``.
        license: Licence of the saved weights (default: the catalog entry's).
        base_model: Hugging Face repo the model was fine-tuned from, for the card;
            ``"auto"``: the catalog entry's Hub repo when the model has the entry's
            pretrained architecture; None: leave it out.
        overwrite: Replace ``path`` when it exists (only a directory written by
            [`save_pretrained`][tfx_textzoo.saving.save_pretrained] or
            [`export`][tfx_textzoo.saving.export], or an empty one). The swap is
            atomic: a reader sees the old model or the new one.

    Returns:
        The directory written.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False (also when another
            process saved there while this one was writing: its model is kept), or it
            is not a directory this module wrote.
        TypeError: ``model`` is not a keras-hub text classifier with a preprocessor.
        ValueError: ``report`` is a single-label report of a multi-label model, or the
            other way round.

    Examples:
        >>> import json, pathlib, tempfile
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("bert-tiny", labels=["neg", "pos"], weights=None,
        ...                      num_layers=1)
        >>> out = textzoo.save_pretrained(model, pathlib.Path(tempfile.mkdtemp()) / "my-model")
        >>> json.loads((out / "textzoo.json").read_text())["labels"]
        ['neg', 'pos']
        >>> textzoo.load(out).labels
        ['neg', 'pos']
        >>> json.loads((out / "textzoo.json").read_text())["task"]["kind"]
        'single_label'
    """
    _check_model(model)
    history_data = _as_dict(history, "history")
    report_data = _as_dict(report, "report")
    target = Path(os.path.expanduser(os.fspath(path)))
    with _files.atomic_directory(
        target, overwrite=overwrite, replaceable=_check_replaceable
    ) as tmp:
        model.save_to_preset(str(tmp))
        _drop_optimizer_state(model, tmp)
        keras_hub_loadable = _write_keras_hub_configs(model, tmp)
        assets = _save_preprocessor_assets(model, tmp)
        card = model_card(
            model,
            report=report_data,
            history=history_data,
            dataset=dataset,
            license=license,
            base_model=base_model,
            path=target,
        )
        card.save(tmp / _CARD_FILE)
        metadata = _metadata(
            model,
            report=report_data,
            history=history_data,
            dataset=dataset,
            license=card.data.license,
            assets=assets,
            keras_hub_loadable=keras_hub_loadable,
            files=_file_sizes(tmp),
            hashes=_file_hashes(tmp),
        )
        _write_json(tmp / TEXTZOO_FILE, metadata)
    return target


def export(
    model: keras.Model,
    path: str | os.PathLike,
    format: str = "saved_model",
    *,
    overwrite: bool = False,
    long_text: str = "truncate",
    stride: int | None = None,
    aggregate: str = "mean",
    precision: str = "float32",
) -> Path:
    """Export a classifier for serving: raw strings in, probabilities and labels out.

    The TensorFlow SavedModel's ``serving_default`` signature takes ``text``, a batch
    of strings (``tf.TensorSpec([None], tf.string)``); a pair model
    (``model.task.text_pair``) takes ``text`` and ``text_pair``, two batches of the same
    length, packed as two segments as in training. The tokenizer and the rest of the
    preprocessor are inside the graph, and a text longer than the sequence length is
    cut as the model's ``task.truncation`` says (``"head"``, ``"tail"`` or
    ``"head+tail"``: the tokens [`predict`][tfx_textzoo.evaluation.predict] reads; a
    pair that does not fit is trimmed round robin). What it returns depends on the
    model's [`Task`][tfx_textzoo.tasks.Task]:

    - single-label: ``probabilities`` (float32 ``[N, num_classes]``), ``label``
      (string ``[N]``, the most likely class name) and ``label_id`` (int32 ``[N]``);
    - multi-label: ``probabilities`` (float32 ``[N, num_labels]``, one sigmoid per
      label), ``decisions`` (bool ``[N, num_labels]``: ``probability >= threshold``
      at the model's ``task.thresholds``, 0.5 where none were tuned, in the column
      order of ``model.labels``), ``labels`` (string ``[N, num_labels]``: the chosen
      label names in label order, as [`predict`][tfx_textzoo.evaluation.predict] lists
      them, padded with ``""``), ``label_ids`` (int32 ``[N, num_labels]``, the same
      padded with -1) and ``num_labels`` (int32 ``[N]``, how many were chosen:
      ``labels[i, :num_labels[i]]`` are text ``i``'s). Dense tensors only, so TF
      Serving's REST and gRPC APIs return them as they are.

    With ``long_text="chunks"`` each text is read in overlapping windows (those of
    [`tokenize_windows`][tfx_textzoo.preprocessing.tokenize_windows]) whose
    probabilities are aggregated per text (``"mean"``, or ``"max"`` as
    [`aggregate`][tfx_textzoo.inference.aggregate] does it), in float64 as
    ``predict(..., long_text="chunks")`` does, before the decisions; the outputs gain
    ``num_windows`` (int32 ``[N]``). Single texts only (not pairs).

    Loading needs TensorFlow only (``tf.saved_model.load(path)``), not tfx_textzoo
    nor keras-hub. A BERT-family export uses TensorFlow Text ops for its WordPiece
    tokenizer: ``import tensorflow_text`` before loading it (otherwise TensorFlow
    reports ``Op type not registered 'RegexSplitWithOffsets'``). A from-scratch
    model uses core TensorFlow ops only.

    Args:
        model: A zoo classifier.
        path: The directory to write (atomically, like
            [`save_pretrained`][tfx_textzoo.saving.save_pretrained]).
        format: ``"saved_model"`` (the only format so far; see `EXPORT_FORMATS`).
        overwrite: Replace ``path`` when it exists (a previous export, or an empty
            directory; never a saved model).
        long_text: ``"truncate"`` (one window per text, cut as ``task.truncation``
            says) or ``"chunks"`` (overlapping windows, aggregated).
        stride: With ``"chunks"``: tokens between window starts (default: half the
            token budget).
        aggregate: With ``"chunks"``: ``"mean"`` or ``"max"``.
        precision: What the exported backbone computes in: ``"float32"`` (the
            default: the serving machine may lack native bfloat16, where bfloat16 is
            emulated and slow), ``"mixed_bfloat16"`` (for serving CPUs with
            AVX512_BF16 or AMX; the probabilities stay float32) or ``"auto"`` (what
            this machine would pick; see [`tfx_textzoo.precision`][tfx_textzoo.precision]).

    Returns:
        The directory written.

    Raises:
        ValueError: An unsupported ``format``.
        tfx_textzoo.errors.InvalidArgumentError: ``path`` is the directory the model
            was loaded from, or inside or above it (the export would replace the
            trained model); an unknown ``long_text`` or ``aggregate``; ``stride`` or
            ``aggregate`` without ``"chunks"``, or a ``stride`` outside 1 to the token
            budget; ``"chunks"`` for a pair model; a pair model whose truncation is
            not ``"head"``.
        TypeError: A model that is not a zoo classifier (a plain keras-hub one) with
            anything but single texts read from the start.
        FileExistsError: ``path`` exists and ``overwrite`` is False, or it holds a
            saved model (``textzoo.json``) rather than an export.

    Examples:
        >>> import pathlib, tempfile
        >>> import tensorflow as tf
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("scratch-tiny", labels=["neg", "pos"])
        >>> model.preprocessor.adapt(["a good film", "a bad film"])
        >>> out = textzoo.export(model, pathlib.Path(tempfile.mkdtemp()) / "serving")
        >>> serve = tf.saved_model.load(str(out)).signatures["serving_default"]
        >>> result = serve(text=tf.constant(["a good film", "a bad one"]))
        >>> result["probabilities"].shape, result["label"].dtype
        (TensorShape([2, 2]), tf.string)

        A multi-label model returns its decisions and the chosen names:

        >>> tagger = textzoo.load("scratch-tiny", labels=["a", "b", "c"], multi_label=True)
        >>> tagger.preprocessor.adapt(["a good film", "a bad film"])
        >>> tagger.task = tagger.task.replace(thresholds=(0.1, 0.5, 0.9))
        >>> out = textzoo.export(tagger, pathlib.Path(tempfile.mkdtemp()) / "serving")
        >>> serve = tf.saved_model.load(str(out)).signatures["serving_default"]
        >>> sorted(serve(text=tf.constant(["a good film"])))
        ['decisions', 'label_ids', 'labels', 'num_labels', 'probabilities']
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(
            f"Unsupported export format {format!r}. Supported: {', '.join(EXPORT_FORMATS)}. "
            "(For a Keras file use model.save('model.keras'); for a directory that "
            "tfx_textzoo.load reads back use tfx_textzoo.save_pretrained.)"
        )
    _check_model(model)
    from tfx_textzoo.precision import computing_in
    from tfx_textzoo.precision import resolve as resolve_precision

    policy = resolve_precision(precision)
    task = tasks.of(model)
    stride = _check_export_reading(model, task, long_text, stride, aggregate)
    target = Path(os.path.expanduser(os.fspath(path)))
    _check_export_target(model, target)
    import tensorflow as tf

    from tfx_textzoo import preprocessing

    preprocessor = model.preprocessor
    if hasattr(preprocessor, "check_adapted"):
        preprocessor.check_adapted()
    outputs = _serving_outputs(model, task)
    text_spec = tf.TensorSpec([None], tf.string, name="text")

    def classify(features):
        if isinstance(features, dict) and len(features) == 1 == len(model.inputs):
            (features,) = features.values()  # a one-input model takes the tensor itself
        with computing_in(model, policy):  # read when traced: the graph keeps it
            probabilities = model(features, training=False)
        return tf.cast(probabilities, tf.float32)

    if task.text_pair:

        def serve(text, text_pair):
            segments = (model.text_token_ids(text), model.text_token_ids(text_pair))
            return outputs(classify(model.pack_token_ids(segments)))

        signature = [text_spec, tf.TensorSpec([None], tf.string, name="text_pair")]
    elif long_text == "chunks":

        def serve(text):
            features, documents = preprocessing.window_features(model, text, stride)
            count = tf.shape(text, out_type=tf.int64)[0]
            probabilities = tf.cast(classify(features), tf.float64)
            served = outputs(_aggregate_windows(probabilities, documents, count, aggregate, task))
            served["num_windows"] = tf.math.bincount(
                tf.cast(documents, tf.int32), minlength=tf.cast(count, tf.int32)
            )
            return served

        signature = [text_spec]
    elif _is_zoo(model):

        def serve(text):
            return outputs(classify(preprocessing.truncated_features(model, text)))

        signature = [text_spec]
    else:  # a plain keras-hub classifier: its own preprocessor (checked: head only)

        def serve(text):
            return outputs(classify(preprocessor(text)))

        signature = [text_spec]

    with _files.atomic_directory(
        target, overwrite=overwrite, replaceable=_check_export_replaceable
    ) as tmp:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serving_default", serve, input_signature=signature)
        archive.write_out(str(tmp), verbose=False)
    return target


def _is_zoo(model: keras.Model) -> bool:
    from tfx_textzoo.families.base import ZooClassifier

    return isinstance(model, ZooClassifier)


def _check_export_reading(
    model: keras.Model, task: tasks.Task, long_text: Any, stride: Any, aggregate: Any
) -> int | None:
    """Check how the export reads texts; returns the stride of ``"chunks"`` (else None)."""
    from tfx_textzoo import inference, preprocessing

    if long_text not in ("truncate", "chunks"):
        raise InvalidArgumentError("long_text", long_text, "'truncate' or 'chunks'")
    if aggregate not in inference.AGGREGATIONS:
        raise InvalidArgumentError(
            "aggregate", aggregate, " or ".join(map(repr, inference.AGGREGATIONS))
        )
    if long_text == "truncate" and stride is not None:
        raise InvalidArgumentError("stride", stride, "None", "stride is for long_text='chunks'")
    if long_text == "truncate" and aggregate != "mean":
        raise InvalidArgumentError(
            "aggregate", aggregate, "'mean'", "aggregate is for long_text='chunks'"
        )
    if (task.text_pair or long_text == "chunks" or task.truncation != "head") and not _is_zoo(
        model
    ):
        raise TypeError(
            f"{type(model).__name__} is not a tfx_textzoo classifier, so its export reads "
            "single texts from their start only (no pairs, no 'tail' or 'head+tail' "
            "truncation, no chunks). Load it with tfx_textzoo.load to export those."
        )
    if task.text_pair and long_text == "chunks":
        raise InvalidArgumentError(
            "long_text",
            long_text,
            "'truncate' for a pair model",
            "windows are for single long texts; a pair that does not fit is trimmed round robin",
        )
    if task.text_pair and task.truncation != "head":
        raise InvalidArgumentError(
            "model.task.truncation",
            task.truncation,
            "'head' for a pair model",
            "a pair that does not fit is trimmed round robin; 'tail' and 'head+tail' are "
            "for single texts",
        )
    if long_text == "chunks":
        return preprocessing.check_stride(stride, preprocessing.token_budget(model))
    return None


def _aggregate_windows(probabilities, documents, count, how: str, task: tasks.Task):
    """Per-text probabilities from their windows', in the graph, as `inference.aggregate`."""
    import tensorflow as tf

    if how == "mean":
        return tf.math.unsorted_segment_mean(probabilities, documents, count)
    top = tf.math.unsorted_segment_max(probabilities, documents, count)
    if task.multi_label:
        return top
    return top / tf.reduce_sum(top, axis=-1, keepdims=True)


def _serving_outputs(model: keras.Model, task: tasks.Task):
    """The function from probabilities to the serving signature's outputs (see `export`).

    It takes float32 probabilities, or float64 ones (chunks aggregated as ``predict``
    aggregates them); the outputs hold them as float32.
    """
    import numpy as np
    import tensorflow as tf

    from tfx_textzoo.evaluation import label_names

    names = tf.constant(label_names(model))
    if not task.multi_label:

        def single(probabilities):
            label_id = tf.argmax(probabilities, axis=-1, output_type=tf.int32)
            return {
                "probabilities": tf.cast(probabilities, tf.float32),
                "label": tf.gather(names, label_id),
                "label_id": label_id,
            }

        return single

    wanted = task.threshold_array(len(label_names(model)))
    # A float32 probability p is >= t (a float64) exactly when p >= the smallest float32
    # not below t: so the graph decides as Task.decide does in float64.
    rounded = wanted.astype("float32")
    rounded = np.where(
        rounded.astype("float64") < wanted, np.nextafter(rounded, np.float32(np.inf)), rounded
    )
    thresholds = {tf.float32: tf.constant(rounded, tf.float32), tf.float64: tf.constant(wanted)}

    def multi(probabilities):
        decisions = probabilities >= thresholds[probabilities.dtype]
        # The chosen labels first, in label order (as predict lists them), then the rest.
        order = tf.argsort(tf.cast(~decisions, tf.int32), axis=-1, stable=True)
        chosen = tf.gather(decisions, order, batch_dims=1)
        return {
            "probabilities": tf.cast(probabilities, tf.float32),
            "decisions": decisions,
            "labels": tf.where(chosen, tf.gather(names, order), ""),
            "label_ids": tf.where(chosen, order, -1),
            "num_labels": tf.reduce_sum(tf.cast(decisions, tf.int32), axis=-1),
        }

    return multi


def model_card(
    model: keras.Model,
    *,
    report: Any = None,
    history: Any = None,
    repo_id: str | None = None,
    dataset: str | None = None,
    license: str | None = None,
    base_model: str | None = "auto",
    path: str | os.PathLike | None = None,
):
    """The Hugging Face model card (``README.md``) of a classifier.

    Metadata: ``library_name``, ``pipeline_tag: text-classification`` (also for
    multi-label and pair models, tagged ``multi-label-classification`` and
    ``sentence-pair-classification``), ``license`` (given, else the catalog entry's),
    ``base_model``, ``datasets``, ``tags`` and, with a report, a ``model-index``
    holding accuracy and macro F1 (multi-label: micro, macro and samples F1, subset
    accuracy and Hamming loss). ``library_name`` is
    ``keras-hub`` only where plain keras-hub loads the saved directory and predicts
    identically (see [`keras_hub_equivalent`][tfx_textzoo.saving.keras_hub_equivalent]),
    else ``tfx_textzoo``, so the Hub never offers a keras-hub snippet that fails. The
    text covers intended use, training data, both fine-tuning phases and their
    settings, the results table, limitations and how to load the model: what to
    install and the lines to run, with keras-hub alone where that works. A multi-label
    card lists each label's decision threshold, and its snippets apply them; a pair
    model's snippets pass pairs.

    Args:
        model: A zoo classifier.
        report: Optional evaluation [`Report`][tfx_textzoo.evaluation.Report] (or dict).
        history: Optional [`FinetuneHistory`][tfx_textzoo.training.FinetuneHistory] (or dict).
        repo_id: The Hub repository (``owner/name``) the card is for; the loading
            snippet then reads ``textzoo.load("hf://owner/name")``.
        dataset: Training data set name (default: the report's ``dataset_name``).
        license: Licence (default: the catalog entry's).
        base_model: As for [`save_pretrained`][tfx_textzoo.saving.save_pretrained].
        path: The local directory the card describes (for the loading snippet when
            there is no ``repo_id``).

    Returns:
        A ``huggingface_hub.ModelCard``; ``card.save(path)`` writes it.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("bert-tiny", labels=["neg", "pos"], weights=None,
        ...                      num_layers=1)
        >>> card = textzoo.saving.model_card(model, repo_id="me/sentiment")
        >>> card.data.library_name, card.data.pipeline_tag
        ('keras-hub', 'text-classification')
        >>> 'textzoo.load("hf://me/sentiment")' in card.text
        True
    """
    from huggingface_hub import ModelCard, ModelCardData

    report = _as_dict(report, "report")
    history = _as_dict(history, "history")
    spec = _spec(getattr(model, "model_name", None))
    dataset = dataset or (report or {}).get("dataset_name")
    if license is None and spec is not None:
        license = spec.license
    if base_model == "auto":
        base_model = _base_model(model, spec)
    if repo_id:
        title = repo_id.split("/")[-1]
    elif path is not None:
        title = Path(path).name
    else:
        title = f"{getattr(model, 'model_name', None) or 'textzoo'}-classifier"
    task = tasks.of(model)
    if report:
        _check_report_kind(report, task)
    eval_results = _eval_results(report, dataset, task) if report else None
    family = spec.family if spec is not None else None
    keras_hub_loadable = keras_hub_equivalent(model) is not None
    tags = ["tfx_textzoo", "keras", "text-classification"]
    if task.multi_label:
        tags.append("multi-label-classification")
    if task.text_pair:
        tags.append("sentence-pair-classification")
    tags += [t for t in (family, getattr(model, "model_name", None)) if t and t not in tags]
    data = ModelCardData(
        library_name="keras-hub" if keras_hub_loadable else "tfx_textzoo",
        pipeline_tag="text-classification",
        license=license.lower() if license else None,
        base_model=base_model or None,
        datasets=[dataset] if dataset else None,
        tags=tags,
        model_name=title if eval_results else None,
        eval_results=eval_results,
        metrics=_metric_types(eval_results),
    )
    body = _card_body(
        model, spec, title, report, history, dataset, repo_id, path, keras_hub_loadable
    )
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}")


#: The multi-label metrics of a report the card shows: key, metric type, name, config.
_MULTI_LABEL_METRICS = (
    ("micro_f1", "f1", "Micro F1", "micro"),
    ("macro_f1", "f1", "Macro F1", "macro"),
    ("samples_f1", "f1", "Samples F1", "samples"),
    ("subset_accuracy", "accuracy", "Subset accuracy", "subset"),
    ("hamming_loss", "hamming_loss", "Hamming loss", None),
)


def _eval_results(report: dict[str, Any], dataset: str | None, task: tasks.Task) -> list:
    """The ``model-index`` entries of a report: its accuracy and F1, or multi-label ones."""
    from huggingface_hub import EvalResult

    common = dict(
        task_type="text-classification",
        task_name="Text Classification",
        dataset_type=dataset or "custom",
        dataset_name=dataset or "custom",
    )
    if task.multi_label:
        return [
            EvalResult(
                metric_type=kind,
                metric_name=name,
                metric_config=config,
                metric_value=report[key],
                **common,
            )
            for key, kind, name, config in _MULTI_LABEL_METRICS
            if report.get(key) is not None
        ] or None
    results = [EvalResult(metric_type="accuracy", metric_value=report["accuracy"], **common)]
    if report.get("macro_f1") is not None:
        results.append(
            EvalResult(
                metric_type="f1",
                metric_name="Macro F1",
                metric_config="macro",
                metric_value=report["macro_f1"],
                **common,
            )
        )
    return results


def _check_report_kind(report: dict[str, Any], task: tasks.Task) -> None:
    """A report of the other kind (multi- vs single-label) does not describe the model."""
    kind = report.get("task", "single_label")  # reports before multi-label: single-label
    if kind != task.kind:
        raise ValueError(
            f"report is a {kind.replace('_', '-')} evaluation report but the model is "
            f"{task.kind.replace('_', '-')}: pass the report of "
            "tfx_textzoo.evaluate(model, ...) for this model."
        )


def _metric_types(eval_results: list | None) -> list[str] | None:
    if not eval_results:
        return None
    return list(dict.fromkeys(result.metric_type for result in eval_results))


def is_saved_location(name: Any) -> bool:
    """Whether [`tfx_textzoo.load`][tfx_textzoo.load] should read ``name`` as a saved model.

    True for an ``hf://`` URI, a path object, a string that looks like a path (has a
    ``/``, starts with ``.`` or ``~``), or one that names an existing directory and
    no catalog entry. A catalog name wins over a same-named directory in the
    working directory (write ``./name`` to load the directory).

    Examples:
        >>> from tfx_textzoo.saving import is_saved_location
        >>> is_saved_location("hf://me/my-model"), is_saved_location("bert-tiny")
        (True, False)
    """
    if isinstance(name, os.PathLike):
        return True
    if not isinstance(name, str):
        return False
    if name.startswith("hf://") or "/" in name or os.sep in name or name.startswith((".", "~")):
        return True  # catalog names never look like paths
    if not os.path.isdir(name):
        return False
    try:
        get_spec(name)
    except ValueError:
        return True
    if (Path(name) / TEXTZOO_FILE).exists():
        warnings.warn(
            f"{name!r} is both a catalog name and a saved model directory; loading the "
            f"catalog model. Pass './{name}' to load the directory.",
            stacklevel=3,
        )
    return False


def load_saved(
    location: str | os.PathLike,
    num_classes: int | None = None,
    *,
    labels: list[str] | None = None,
    weights: Any = "auto",
    sequence_length: int | None = None,
    **overrides: Any,
) -> keras.Model:
    """Load a model written by `save_pretrained`, from a directory or ``hf://``.

    This is what [`tfx_textzoo.load`][tfx_textzoo.load] does for such a location. The model comes
    back compiled (catalog optimizer settings), with its labels, zoo name, head,
    preprocessor and [`Task`][tfx_textzoo.tasks.Task] (multi-label thresholds, text
    pairs, truncation), predicting as it did when saved. A directory saved before the
    task was recorded loads with the task its config says (single-label for one saved
    before tasks existed).

    Args:
        location: The directory, or ``hf://owner/name`` (fetched into the cache at
            ``TEXTZOO_HOME/hf``; offline mode reads the cache only).
        num_classes: Optional check: must equal the saved number of classes.
        labels: Optional check: must equal the saved label names (or set them when
            the model was saved without names).
        weights: Must stay ``"auto"``: a saved model carries its weights (None, a
            path or a URI raise TypeError).
        sequence_length: Not supported for a saved model (must be None).
        **overrides: Not supported for a saved model.

    Returns:
        The compiled classifier.

    Raises:
        FileNotFoundError: A missing directory or file (named in the message).
        tfx_textzoo.errors.CorruptModelError: A file whose size or SHA-256 differs from
            the recorded one, label names that contradict the model's outputs, or a task
            in ``textzoo.json`` that differs from the model's own (``task.json``).
        tfx_textzoo.errors.UnsafePathError: ``textzoo.json`` names a path outside the
            directory (nothing outside is read).
        ValueError: A corrupt file, a plain weights repository, or ``num_classes`` /
            ``labels`` that contradict the saved ones.

    Examples:
        >>> import pathlib, tempfile
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.saving import load_saved
        >>> model = textzoo.load("bert-tiny", num_classes=3, weights=None, num_layers=1)
        >>> out = textzoo.save_pretrained(model, pathlib.Path(tempfile.mkdtemp()) / "m")
        >>> load_saved(out, num_classes=3).model_name
        'small-bert-L2-H128'
    """
    custom_weights = not (isinstance(weights, str) and weights == "auto") and weights is not True
    if custom_weights or sequence_length is not None or overrides:
        given = sorted(
            [*overrides, *(["weights"] if custom_weights else [])]
            + (["sequence_length"] if sequence_length is not None else [])
        )
        raise TypeError(
            f"{location} is a saved model: it carries its own weights and architecture, so "
            f"{given} cannot be applied. Only num_classes= and labels= (as checks) are "
            "accepted; to change the architecture, build from a catalog name instead."
        )
    directory, origin = _local_directory(location)
    metadata = _read_metadata(directory, origin)
    _check_paths(directory, metadata, origin)
    _check_files(directory, metadata, origin)
    model = _restore(directory, metadata, origin)
    _check_saved_labels(model, metadata, origin)
    _check_saved_task(model, metadata, origin)
    _check_and_set_labels(model, num_classes, labels, origin)
    # export() refuses to write over (or inside, or above) the directory it came from.
    model._textzoo_saved_dir = str(directory.resolve())
    return model


# --- saving helpers -----------------------------------------------------------------


def _check_model(model: Any) -> None:
    import keras_hub

    if not isinstance(model, keras_hub.models.TextClassifier):
        raise TypeError(
            "Expected a tfx_textzoo classifier (a keras_hub.models.TextClassifier, as "
            f"returned by tfx_textzoo.load), got {type(model).__name__}."
        )
    if model.preprocessor is None:
        raise TypeError(
            "The model has no preprocessor, so a restored copy could not read raw strings; "
            "attach one (model.preprocessor = ...) before saving or exporting."
        )


def _as_dict(value: Any, what: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"{what} must be a {what.title()} object or a dict, got {type(value).__name__}")


def _spec(model_name: str | None):
    if not model_name:
        return None
    try:
        return get_spec(model_name)
    except ValueError:  # a plugin entry no longer installed
        return None


def _drop_optimizer_state(model: keras.Model, directory: Path) -> None:
    """Rewrite ``task.weights.h5`` without the optimizer's slots.

    keras-hub's preset saver keeps the optimizer state in the task weights: moments for
    every backbone weight, twice the size of the model, which loading then discards.
    """
    path = directory / "task.weights.h5"
    if not path.exists() or getattr(model, "optimizer", None) is None:
        return
    path.unlink()
    skip = [*model.backbone._flatten_layers(), model.optimizer]
    keras.saving.save_weights(model, str(path), objects_to_skip=skip)


def _save_preprocessor_assets(model: keras.Model, directory: Path) -> dict[str, str]:
    """Write the vocabularies keras-hub's preset saver leaves out (TextVectorization)."""
    assets = {}
    for layer in _vectorizers(model.preprocessor):
        relative = f"assets/{layer.name}/{_VOCABULARY_FILE}"
        vocabulary = [str(token) for token in layer.get_vocabulary()]
        (directory / relative).parent.mkdir(parents=True, exist_ok=True)
        _write_json(directory / relative, vocabulary)
        assets[layer.name] = relative
    return assets


def _vectorizers(preprocessor: Any) -> list[Any]:
    return [
        layer
        for layer in preprocessor._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.TextVectorization)
    ]


def _metadata(
    model, *, report, history, dataset, license, assets, keras_hub_loadable, files, hashes
) -> dict[str, Any]:
    import keras_hub

    import tfx_textzoo
    from tfx_textzoo.evaluation import num_classes

    spec = _spec(getattr(model, "model_name", None))
    labels = getattr(model, "labels", None)
    training = None
    if history:
        training = {
            k: history.get(k)
            for k in ("settings", "monitor", "best_epoch", "restored_best", "stopped_early")
        }
        training["epochs"] = history.get("epochs", [])
    return {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "tfx_textzoo_version": tfx_textzoo.__version__,
        "keras_version": keras.version(),
        "keras_hub_version": keras_hub.__version__,
        "saved_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "model_name": getattr(model, "model_name", None),
        "family": spec.family if spec is not None else None,
        "task_class": f"{type(model).__module__}.{type(model).__name__}",
        # task.json names keras-hub's own classes: plain keras-hub loads the directory.
        "keras_hub_loadable": keras_hub_loadable,
        "num_classes": num_classes(model),
        "labels": list(labels) if labels else None,
        # Added within format version 1: what the outputs mean (single- or multi-label,
        # thresholds, text pairs, truncation), also in task.json; checked on load.
        "task": tasks.of(model).to_config(),
        "sequence_length": _sequence_length(model),
        "catalog_entry": _jsonable(spec.to_dict()) if spec is not None else None,
        # What the model really is: differs from the catalog entry's numbers only when
        # it was loaded with allow_architecture_mismatch=True (then the overrides say how).
        "architecture": _jsonable(getattr(model, "architecture", None)),
        "architecture_overrides": _jsonable(getattr(model, "architecture_overrides", None)),
        "license": license,
        "dataset": dataset or (report or {}).get("dataset_name"),
        "training": _jsonable(training),
        "evaluation": _jsonable(report),
        "preprocessor_assets": assets,
        "files": files,
        # Added within format version 1 (older readers ignore it); checked where present.
        "sha256": hashes,
    }


def _file_sizes(directory: Path) -> dict[str, int]:
    return {p.relative_to(directory).as_posix(): p.stat().st_size for p in _checked(directory)}


def _file_hashes(directory: Path) -> dict[str, str]:
    return {p.relative_to(directory).as_posix(): _files.sha256_file(p) for p in _checked(directory)}


def _checked(directory: Path) -> list[Path]:
    return [p for p in sorted(directory.rglob("*")) if p.is_file() and p.name not in _UNCHECKED]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    return str(value)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _check_replaceable(target: Path) -> None:
    if not target.is_dir() or target.is_symlink():
        raise FileExistsError(f"{target} exists and is not a directory; refusing to replace it.")
    ours = (target / TEXTZOO_FILE).exists() or (target / "saved_model.pb").exists()
    if not ours and any(target.iterdir()):
        raise FileExistsError(
            f"{target} is not empty and was not written by tfx_textzoo (no {TEXTZOO_FILE} or "
            "saved_model.pb); refusing to delete it even with overwrite=True. Choose another "
            "path or empty it yourself."
        )


def _check_export_replaceable(target: Path) -> None:
    _check_replaceable(target)
    if (target / TEXTZOO_FILE).exists():
        raise FileExistsError(
            f"{target} holds a saved model ({TEXTZOO_FILE}), not an export; refusing to replace "
            "it with an export even with overwrite=True (the trained model would be lost). "
            "Export to another directory, e.g. a 'serving' directory beside it."
        )


def _check_export_target(model: keras.Model, target: Path) -> None:
    """Refuse an export onto, inside or above the directory ``model`` was loaded from."""
    source = getattr(model, "_textzoo_saved_dir", None)
    if source is None:
        return
    source = Path(source)
    resolved = target.resolve()
    if resolved == source:
        where = "is the directory the model was loaded from"
    elif source in resolved.parents:
        where = "is inside the directory the model was loaded from"
    elif resolved in source.parents:
        where = "contains the directory the model was loaded from"
    else:
        return
    raise InvalidArgumentError(
        "path",
        os.fspath(target),
        f"a directory outside the saved model {source}",
        f"it {where}, so the export would replace or alter the trained model. Export to "
        "another directory, e.g. a 'serving' directory beside it.",
    )


# --- model card ---------------------------------------------------------------------


def _base_model(model: keras.Model, spec: Any) -> str | None:
    """The catalog entry's Hub repo, when the model has the entry's pretrained shape."""
    if spec is None or not spec.pretrained:
        return None
    repo = next(
        (s.uri.removeprefix("hf://") for s in spec.sources if s.uri.startswith("hf://")), None
    )
    if repo is None:
        return None
    backbone = model.backbone
    for key, value in spec.architecture.items():
        if key in ("dropout", "pooling"):
            continue
        if hasattr(backbone, key) and getattr(backbone, key) != value:
            return None  # a resized (randomly initialised) variant of the entry
    return repo


def _sequence_length(model: keras.Model) -> int | None:
    value = getattr(model.preprocessor, "sequence_length", None)
    return int(value) if value is not None else None


def _card_body(
    model, spec, title, report, history, dataset, repo_id, path, keras_hub_loadable
) -> str:
    from tfx_textzoo.evaluation import Report, label_names

    names = label_names(model)
    zoo_name = getattr(model, "model_name", None)
    lines = [f"# {title}", ""]
    scratch = spec is not None and not spec.pretrained
    verb = "trained from scratch" if scratch else "fine-tuned"
    about = f"A text classifier {verb} with tfx_textzoo"
    if zoo_name:
        about += f" as the zoo model `{zoo_name}`" if scratch else f" from `{zoo_name}`"
        if spec is not None:
            about += f" ({spec.description.rstrip('.')})"
    lines += [about + ".", ""]
    task = tasks.of(model)
    lines += ["## Intended use", ""]
    listed = ", ".join(f"`{n}`" for n in names)
    inputs = (
        "It takes pairs of raw strings (a text and a second text, such as a premise and "
        "a hypothesis or a question and a passage), packed as two segments; "
        if task.text_pair
        else "It takes raw strings; "
    ) + "the tokenizer is part of the model."
    if task.multi_label:
        lines.append(
            f"Tagging {'pairs of texts' if task.text_pair else 'short texts'} with any "
            f"number of {len(names)} labels (multi-label: one sigmoid probability per "
            f"label, each label chosen on its own): {listed}. {inputs}"
        )
        lines += ["", *_threshold_lines(task, names)]
    else:
        what = "pairs of texts" if task.text_pair else "short texts"
        lines.append(f"Sorting {what} into {len(names)} classes: {listed}. {inputs}")
    lines += ["", "## Training data", ""]
    if dataset:
        lines.append(f"Fine-tuned on `{dataset}`.")
    else:
        lines.append("The training data set was not recorded.")
    lines += ["", "## Training procedure", ""]
    lines += _training_lines(history, spec)
    lines += ["", "## Results", ""]
    if report:
        lines.append(Report.from_dict(report).to_markdown().rstrip())
    else:
        lines.append("No evaluation report was saved with this model.")
    lines += ["", "## Limitations", ""]
    seq = _sequence_length(model)
    if seq:
        kept = {
            "head": "the first tokens are read, the rest is not",
            "tail": "the last tokens are read, the start is not",
            "head+tail": "the first and the last tokens are read, the middle is not",
        }[task.truncation]
        per = "Each pair is" if task.text_pair else "Texts are"
        lines.append(f"- {per} truncated to {seq} tokens ({task.truncation!r}: {kept}).")
    if task.multi_label:
        lines.append(
            "- It only knows the labels above; it may choose none of them, or several, "
            "and its thresholds were set on the data it was tuned on."
        )
    else:
        lines.append(
            "- It only knows the classes above, and it gives every text one of them, also "
            "texts unlike its training data."
        )
    lines.append(
        "- It reflects the topics, language and biases of its training data; check it on "
        "your own data before relying on it."
    )
    if spec is not None and spec.citation:
        lines += ["", "## Citation", "", f"Base model: {spec.citation}"]
    lines += ["", *_how_to_use(model, repo_id, path, keras_hub_loadable)]
    return "\n".join(lines)


def _threshold_lines(task: tasks.Task, names: list[str]) -> list[str]:
    thresholds = task.threshold_array(len(names))
    how = "tuned on validation data" if task.thresholds is not None else "the default 0.5"
    lines = [
        f"A label is chosen when its probability reaches its decision threshold ({how}):",
        "",
        "| label | threshold |",
        "|---|---:|",
    ]
    return lines + [f"| {n} | {t:.4g} |" for n, t in zip(names, thresholds, strict=True)]


def _how_to_use(model, repo_id, path, keras_hub_loadable) -> list[str]:
    import keras_hub

    import tfx_textzoo
    from tfx_textzoo.evaluation import label_names

    where = f"hf://{repo_id}" if repo_id else (str(path) if path is not None else "path/to/dir")
    version = tfx_textzoo.__version__
    task = tasks.of(model)
    said = "label lists" if task.multi_label else "class names"
    if task.text_pair:
        predict = (
            'print(textzoo.predict(model, ["A man is playing a guitar."], '
            f'text_pair=["Someone plays music."]))  # {said}'
        )
        inputs = '(["A man is playing a guitar."], ["Someone plays music."])'
    else:
        predict = f'print(textzoo.predict(model, ["Some text to classify"]))  # {said}'
        inputs = '["Some text to classify"]'
    lines = [
        "## How to use",
        "",
        f"With tfx_textzoo {version} (it is not on PyPI: `pip install .` in a clone of its "
        "sources, or `pip install` the wheel that `python -m build` makes there):",
        "",
        "```python",
        "import tfx_textzoo as textzoo",
        "",
        f'model = textzoo.load("{where}")',
        predict,
        "```",
        "",
    ]
    if not keras_hub_loadable:
        lines += [
            f"The model has layers keras-hub lacks (`{type(model).__name__}`), so plain "
            "keras-hub cannot load it; tfx_textzoo is needed.",
            "",
        ]
        return lines
    preset = f"hf://{repo_id}" if repo_id else where
    task_cls = keras_hub_equivalent(model)[0]
    # The class itself, not TextClassifier: where tfx_textzoo is imported too, keras-hub
    # could otherwise pick a zoo subclass for the backbone.
    public = task_cls.__name__ if getattr(keras_hub.models, task_cls.__name__, None) else None
    entry = f"keras_hub.models.{public or 'TextClassifier'}"
    lines += [
        f"Or with keras-hub alone (`pip install keras-hub=={keras_hub.__version__} "
        "tensorflow-text`, no tfx_textzoo): the model is keras-hub's own "
        f"`{task_cls.__name__}` graph, saved under its class names. "
        "It returns probabilities; the class names are in `task.json` "
        '(`["tfx_textzoo"]["task_config"]["labels"]`):',
        "",
        "```python",
        "import keras_hub",
        "",
        f'model = {entry}.from_preset("{preset}")',
        f"probabilities = model.predict({inputs})",
        f"labels = {label_names(model)!r}",
    ]
    if task.multi_label:
        thresholds = [float(t) for t in task.threshold_array(len(label_names(model)))]
        lines += [
            f"thresholds = {thresholds!r}",
            "print([[l for l, p, t in zip(labels, row, thresholds) if p >= t] "
            "for row in probabilities])",
        ]
    else:
        lines.append("print([labels[i] for i in probabilities.argmax(axis=-1)])")
    lines += ["```", ""]
    return lines


def _training_lines(history: dict[str, Any] | None, spec: Any) -> list[str]:
    if not history:
        return ["The training run was not recorded with this model."]
    settings = history.get("settings") or {}
    epochs = history.get("epochs") or []
    frozen = [r for r in epochs if r.get("phase") == "frozen"]
    full = [r for r in epochs if r.get("phase") != "frozen"]
    lines = ["Fine-tuned with `tfx_textzoo.finetune` in two phases:", ""]
    if frozen:
        lines.append(
            f"1. Frozen backbone, training the new head only: {len(frozen)} epoch(s) at "
            f"learning rate {settings.get('head_learning_rate', 'n/a')}."
        )
    else:
        scratch = spec is not None and not spec.pretrained
        why = " (no pretrained backbone to keep)" if scratch else ""
        lines.append(f"1. Frozen backbone, training the new head only: skipped{why}.")
    lines.append(
        f"2. All weights: {len(full)} epoch(s), AdamW, peak learning rate "
        f"{settings.get('learning_rate', 'n/a')} with linear warmup over "
        f"{settings.get('warmup_ratio', 'n/a')} of the steps then linear decay, weight decay "
        f"{settings.get('weight_decay', 'n/a')}."
    )
    lines += ["", "| setting | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in settings.items()]
    if epochs:
        names = ("loss", "accuracy", "micro_f1", "val_loss", "val_accuracy", "val_micro_f1")
        keys = [k for k in names if k in epochs[0]]
        lines += ["", "| epoch | phase | " + " | ".join(keys) + " |"]
        lines.append("|---|---|" + "---:|" * len(keys))
        for record in epochs:
            values = [_fmt(record.get(k)) for k in keys]
            lines.append(
                f"| {record.get('epoch')} | {record.get('phase')} | " + " | ".join(values) + " |"
            )
    if history.get("best_epoch") is not None:
        kept = "kept" if history.get("restored_best") else "seen"
        lines += [
            "",
            f"Best epoch by `{history.get('monitor')}`: {history['best_epoch']} ({kept}).",
        ]
    return lines


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


# --- loading helpers ----------------------------------------------------------------


def _local_directory(location: str | os.PathLike) -> tuple[Path, str]:
    """Return the local directory for ``location`` and how to name it in messages."""
    text = os.fspath(location)
    if not text.startswith("hf://"):
        directory = Path(os.path.expanduser(text))
        if not directory.exists() and not directory.is_symlink():
            _files.recover(directory)  # a save killed mid-swap left it hidden: put it back
        if not directory.exists():
            raise FileNotFoundError(
                f"{directory} does not exist (no saved model there). For a model on the "
                f"Hugging Face Hub write 'hf://{text}'; for a catalog model see "
                "textzoo.list_models()."
            )
        if not directory.is_dir():
            raise ValueError(
                f"{directory} is a file; pass the directory written by save_pretrained "
                "(for a .keras file use keras.saving.load_model)."
            )
        return directory, str(directory)
    repo_id = text.removeprefix("hf://").strip("/")
    if repo_id.count("/") != 1:
        raise ValueError(f"{text!r} is not an hf://owner/name URI")
    # First the marker only: a plain weights repo is refused without downloading it.
    try:
        snapshot = Path(_hf_snapshot(text, [TEXTZOO_FILE]))
    except Exception as err:
        raise FileNotFoundError(
            f"Could not fetch {text}: {err}. Check the repository name (and your token for "
            f"a private repo); offline, the cache is {cache_dir() / 'hf'}."
        ) from err
    if not (snapshot / TEXTZOO_FILE).exists():
        raise ValueError(_not_saved_model_message(text, snapshot))
    metadata = _read_metadata(snapshot, text)
    _check_paths(snapshot, metadata, text)  # before they are used as download patterns
    patterns = (
        [TEXTZOO_FILE, _CARD_FILE, *metadata.get("files", {})] if metadata.get("files") else None
    )
    return Path(_hf_snapshot(text, patterns)), text


def _not_saved_model_message(uri: str, snapshot: Path) -> str:
    files = {p.name for p in snapshot.iterdir()} if snapshot.is_dir() else set()
    kind = "a plain weights repository" if files & {"config.json", "vocab.txt"} else "a repository"
    return (
        f"{uri} is {kind}, not a model saved by tfx_textzoo.save_pretrained (it has no "
        f"{TEXTZOO_FILE}). To use it as pretrained weights, build a zoo model with them: "
        f"textzoo.load('<zoo name>', num_classes=N, weights='{uri}') "
        "(see textzoo.list_models() for names)."
    )


def _read_metadata(directory: Path, origin: str) -> dict[str, Any]:
    path = directory / TEXTZOO_FILE
    if not path.exists():
        hint = (
            " It looks like a keras-hub preset or weights directory: build a zoo model with it "
            "via textzoo.load('<zoo name>', num_classes=N, weights=DIR)."
            if (directory / "config.json").exists()
            else ""
        )
        raise FileNotFoundError(
            f"{origin} is not a saved tfx_textzoo model: {TEXTZOO_FILE} is missing.{hint} "
            "Directories written by textzoo.save_pretrained always have it."
        )
    data = _read_json(path, origin)
    if not isinstance(data, dict) or data.get("format") != _FORMAT_NAME:
        raise ValueError(
            f"{path} is not a tfx_textzoo {TEXTZOO_FILE} (no 'format': '{_FORMAT_NAME}')."
        )
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{origin} was saved in format version {version!r} by tfx_textzoo "
            f"{data.get('tfx_textzoo_version')}; this version reads up to {FORMAT_VERSION}. "
            "Upgrade tfx_textzoo."
        )
    return data


def _read_json(path: Path, origin: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(
            f"{path.name} in {origin} is not valid JSON ({err}): the file is corrupt. "
            f"{_remedy(origin)}"
        ) from err


def _remedy(origin: str) -> str:
    if origin.startswith("hf://"):
        repo = "models--" + origin.removeprefix("hf://").replace("/", "--")
        return f"Delete {cache_dir() / 'hf' / repo} and load again to download it afresh."
    return "Save the model again with textzoo.save_pretrained (or copy the directory again)."


def _within(directory: Path, origin: str) -> Path:
    """Where the files of ``directory`` may resolve to (a Hub snapshot links to its blobs)."""
    return directory.parent.parent if origin.startswith("hf://") else directory


def _check_paths(directory: Path, metadata: dict[str, Any], origin: str) -> None:
    """Refuse any path in ``textzoo.json`` that leads outside ``directory``; read nothing."""
    within = _within(directory, origin)
    for key in ("files", "sha256", "preprocessor_assets"):
        table = metadata.get(key)
        if table is None:
            continue
        if not isinstance(table, dict):
            raise CorruptModelError(
                f"'{key}' in {TEXTZOO_FILE} of {origin} is not a table "
                f"(got {type(table).__name__}). {_remedy(origin)}"
            )
        for name, value in table.items():
            relative = value if key == "preprocessor_assets" else name
            what = f"{key}[{name!r}] in {TEXTZOO_FILE} of {origin}"
            _files.resolve_inside(directory, relative, what, within=within)
    # keras-hub reads fixed names (config.json, assets/...): none may link outside either.
    for parent, dirs, names in os.walk(directory):
        for name in [*dirs, *names]:
            path = Path(parent) / name
            if path.is_symlink():
                relative = path.relative_to(directory).as_posix()
                what = f"the symbolic link {relative} in {origin}"
                _files.resolve_inside(directory, relative, what, within=within)


def _check_files(directory: Path, metadata: dict[str, Any], origin: str) -> None:
    """Every recorded file exists with its recorded size and SHA-256 (where recorded)."""
    within = _within(directory, origin)
    expected = metadata.get("files") or dict.fromkeys(_CORE_FILES)
    hashes = metadata.get("sha256")  # absent in directories saved before it was recorded
    for name, size in expected.items():
        what = f"files[{name!r}] in {TEXTZOO_FILE} of {origin}"
        path = _files.resolve_inside(directory, name, what, within=within)
        if not path.is_file():
            raise FileNotFoundError(f"{origin} is incomplete: {name} is missing. {_remedy(origin)}")
        if name.endswith(".json"):
            _read_json(path, origin)
        if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
            raise CorruptModelError(
                f"{TEXTZOO_FILE} of {origin} records {size!r} as the size of {name}, not a "
                f"number of bytes. {_remedy(origin)}"
            )
        if size is not None and path.stat().st_size != size:
            raise CorruptModelError(
                f"{name} in {origin} has {path.stat().st_size} bytes but {TEXTZOO_FILE} "
                f"records {size}: the file is truncated or was changed. {_remedy(origin)}"
            )
        if hashes is None:
            continue
        digest = hashes.get(name)
        if not isinstance(digest, str):
            raise CorruptModelError(
                f"{TEXTZOO_FILE} of {origin} records no SHA-256 for {name} although it records "
                f"one for the other files: the metadata was edited. {_remedy(origin)}"
            )
        if _files.sha256_file(path) != digest.lower():
            raise CorruptModelError(
                f"{name} in {origin} does not match the SHA-256 that {TEXTZOO_FILE} records "
                f"(its size does): the file was changed or corrupted. {_remedy(origin)}"
            )


def _restore(directory: Path, metadata: dict[str, Any], origin: str) -> keras.Model:

    from tfx_textzoo.families.common import compile_classifier

    try:
        with warnings.catch_warnings():
            # The default optimizer keras-hub compiles with; replaced below.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model = _load_preset(directory, origin)
    except CorruptModelError:
        raise
    except Exception as err:
        raise ValueError(
            f"Could not load the saved model in {origin}: {type(err).__name__}: {err}. "
            f"A file may be corrupt, or the model's family ({metadata.get('task_class')}) "
            f"may need a package that is not installed. {_remedy(origin)}"
        ) from err
    for layer in _vectorizers(model.preprocessor):
        relative = (metadata.get("preprocessor_assets") or {}).get(layer.name)
        if relative is None:
            raise FileNotFoundError(
                f"{origin} has no saved vocabulary for the preprocessor layer {layer.name!r}. "
                f"{_remedy(origin)}"
            )
        what = f"preprocessor_assets[{layer.name!r}] in {TEXTZOO_FILE} of {origin}"
        path = _files.resolve_inside(directory, relative, what, within=_within(directory, origin))
        vocabulary = _read_json(path, origin)
        if not isinstance(vocabulary, list) or not all(isinstance(t, str) for t in vocabulary):
            raise ValueError(f"{relative} in {origin} is not a list of tokens. {_remedy(origin)}")
        if len(vocabulary) > 2:  # beyond padding and OOV: the model was adapted
            layer.set_vocabulary(vocabulary)
    spec = _spec(metadata.get("model_name"))
    pretrained = getattr(model, "has_pretrained_backbone", True)
    compile_classifier(model, spec.finetune if spec is not None else {}, pretrained=pretrained)
    return model


def _check_saved_labels(model: keras.Model, metadata: dict[str, Any], origin: str) -> None:
    """The label names in ``textzoo.json`` and in the model must agree with its outputs."""
    from tfx_textzoo.evaluation import num_classes

    outputs = num_classes(model)
    in_model = list(model.labels) if getattr(model, "labels", None) else None
    recorded = metadata.get("labels")
    if recorded is not None and (
        not isinstance(recorded, list) or not all(isinstance(x, str) for x in recorded)
    ):
        raise CorruptModelError(
            f"'labels' in {TEXTZOO_FILE} of {origin} is not a list of class names: "
            f"{recorded!r}. {_remedy(origin)}"
        )
    recorded = recorded or None
    for where, names in (("task.json", in_model), (TEXTZOO_FILE, recorded)):
        if names is not None and len(names) != outputs:
            raise CorruptModelError(
                f"{where} in {origin} names {len(names)} classes ({names}) but the model has "
                f"{outputs} outputs: the names do not belong to this model. {_remedy(origin)}"
            )
    if recorded != in_model:
        raise CorruptModelError(
            f"{TEXTZOO_FILE} in {origin} records the labels {recorded} but the model itself "
            f"(task.json) has {in_model}: one of them was edited, and the names must be in "
            f"the class order the head was trained with. {_remedy(origin)}"
        )
    recorded_count = metadata.get("num_classes")
    if recorded_count is not None and recorded_count != outputs:
        raise CorruptModelError(
            f"{TEXTZOO_FILE} in {origin} records num_classes={recorded_count!r} but the model "
            f"has {outputs} outputs. {_remedy(origin)}"
        )


def _check_saved_task(model: keras.Model, metadata: dict[str, Any], origin: str) -> None:
    """The task in ``textzoo.json`` and the model's own (``task.json``) must agree.

    A directory saved before the task was recorded has no ``"task"`` in its metadata; its
    model then has the task its config says (the single-label default for one saved
    before tasks existed).
    """
    from tfx_textzoo.evaluation import num_classes

    in_model = tasks.of(model)
    if in_model.multi_label and in_model.thresholds is not None:
        if len(in_model.thresholds) != num_classes(model):
            raise CorruptModelError(
                f"task.json in {origin} records {len(in_model.thresholds)} decision "
                f"thresholds but the model has {num_classes(model)} outputs. "
                f"{_remedy(origin)}"
            )
    recorded = metadata.get("task")
    if recorded is None:
        return
    try:
        recorded = tasks.Task.from_config(recorded)
    except (TypeError, ValueError, AttributeError) as err:
        raise CorruptModelError(
            f"'task' in {TEXTZOO_FILE} of {origin} is not a valid task ({err}): "
            f"{metadata.get('task')!r}. {_remedy(origin)}"
        ) from err
    if recorded != in_model:
        raise CorruptModelError(
            f"{TEXTZOO_FILE} in {origin} records the task {recorded.to_config()} but the "
            f"model itself (task.json) has {in_model.to_config()}: one of them was edited. "
            "To change the thresholds (or another task setting) load the model, assign "
            "model.task = model.task.replace(...) and save it again. "
            f"{_remedy(origin)}"
        )


def _check_and_set_labels(model, num_classes, labels, origin) -> None:
    from tfx_textzoo.evaluation import num_classes as model_classes
    from tfx_textzoo.families.common import check_classes

    saved_classes = model_classes(model)
    saved_labels = getattr(model, "labels", None)
    if num_classes is None and labels is None:
        return
    num_classes, labels = check_classes(num_classes, labels)
    if num_classes != saved_classes:
        raise ValueError(
            f"{origin} is a saved model with {saved_classes} classes"
            + (f" ({saved_labels})" if saved_labels else "")
            + f", but num_classes={num_classes} was asked for. Drop num_classes/labels to "
            "load it as saved, or build a new head from a catalog name."
        )
    if labels is not None:
        if saved_labels and labels != saved_labels:
            raise ValueError(
                f"{origin} was saved with labels {saved_labels}, but labels={labels} was "
                "given. Drop labels= to load it as saved (the order is the class order the "
                "head was trained with)."
            )
        model.labels = list(labels)


# --- keras-hub interoperability -------------------------------------------------------

#: The key of ``task.json`` under which a keras-hub-compatible save keeps the zoo's classes
#: and the zoo-only constructor arguments (keras-hub's deserializer ignores it).
_ZOO_KEY = "tfx_textzoo"
# Constructor keywords every Keras layer and keras-hub task or preprocessor takes.
_BASE_KWARGS = {"name", "trainable", "dtype", "config_file"}
# Raw strings the equivalence check runs through both models.
_PROBE_TEXTS = ["A probe sentence, checked at save time.", "Another, longer probe text " * 3]


def keras_hub_equivalent(model: keras.Model) -> tuple[type, type] | None:
    """keras-hub's own task and preprocessor classes, when ``model`` is exactly their graph.

    A zoo classifier that only adds metadata (labels, zoo name) to a keras-hub task, such
    as a BERT-family classifier on the pretrained pooler, is saved under keras-hub's class
    names, so that plain keras-hub (``keras_hub.models.TextClassifier.from_preset``) loads
    it without tfx_textzoo. This checks it: the keras-hub task is built on the same
    backbone with the head's weights copied, and both must give the same probabilities
    and the same token ids on probe texts. None when they differ (another pooling, a
    layer keras-hub lacks) or when no keras-hub base class exists.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.saving import keras_hub_equivalent
        >>> cls = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> [c.__name__ for c in keras_hub_equivalent(cls)]
        ['BertTextClassifier', 'BertTextClassifierPreprocessor']
        >>> keras_hub_equivalent(textzoo.load("scratch-tiny", num_classes=2)) is None
        True
    """
    cached = getattr(model, "_textzoo_keras_hub_equivalent", False)
    if cached is not False:
        return cached
    try:
        found = _find_keras_hub_equivalent(model)
    except Exception:  # keras-hub refused the arguments: not its graph
        found = None
    model._textzoo_keras_hub_equivalent = found
    return found


def _find_keras_hub_equivalent(model: keras.Model) -> tuple[type, type] | None:
    import keras_hub
    import numpy as np

    task_cls = _keras_hub_base(type(model), keras_hub.models.TextClassifier)
    pre_cls = _keras_hub_base(type(model.preprocessor), keras_hub.models.Preprocessor)
    if task_cls is None or pre_cls is None:
        return None
    # Plain keras-hub must be able to rebuild every part from its own classes: a zoo
    # tokenizer or backbone subclass (ALBERT's normalising tokenizer) is not its graph.
    parts = (model.backbone, model.preprocessor.tokenizer)
    if any(not type(part).__module__.startswith("keras_hub.") for part in parts):
        return None
    pre_kwargs, pre_extra = _split_config(pre_cls, model.preprocessor.get_config())
    if pre_extra:
        return None
    pre_kwargs.pop("tokenizer", None)
    preprocessor = pre_cls(tokenizer=model.preprocessor.tokenizer, **pre_kwargs)
    task_kwargs, _ = _split_config(task_cls, model.get_config())
    for key in ("backbone", "preprocessor", "name"):
        task_kwargs.pop(key, None)
    candidate = task_cls(backbone=model.backbone, preprocessor=None, **task_kwargs)
    if not _copy_head(model, candidate):
        return None
    x = model.preprocessor(_PROBE_TEXTS)
    y = preprocessor(_PROBE_TEXTS)
    if sorted(x) != sorted(y) or any(not np.array_equal(x[k], y[k]) for k in x):
        return None
    ours = keras.ops.convert_to_numpy(model(x, training=False))
    theirs = keras.ops.convert_to_numpy(candidate(x, training=False))
    if ours.shape != theirs.shape or not np.allclose(ours, theirs, rtol=1e-5, atol=1e-6):
        return None
    return task_cls, pre_cls


def _keras_hub_base(cls: type, root: type) -> type | None:
    """The nearest keras-hub class above ``cls`` that derives from ``root`` (not ``root``)."""
    for base in cls.__mro__[1:]:
        name = keras.saving.get_registered_name(base)
        if (
            base is not root
            and isinstance(base, type)
            and issubclass(base, root)
            and base.__module__.startswith("keras_hub.")
            and name.startswith("keras_hub>")
        ):
            return base
    return None


def _split_config(cls: type, config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``config`` split into what ``cls``'s constructor takes and what only the zoo knows."""
    import inspect

    accepted = set(inspect.signature(cls.__init__).parameters) | _BASE_KWARGS
    kept = {k: v for k, v in config.items() if k in accepted}
    extra = {k: v for k, v in config.items() if k not in accepted}
    return kept, extra


def _head_layers(model: keras.Model) -> dict[str, keras.layers.Layer]:
    return {
        layer.name: layer for layer in model.layers if layer is not model.backbone and layer.weights
    }


def _copy_head(source: keras.Model, target: keras.Model) -> bool:
    """Copy the weights of the layers outside the backbone, by name; False if they differ."""
    ours, theirs = _head_layers(source), _head_layers(target)
    if sorted(ours) != sorted(theirs):
        return False
    for name, layer in ours.items():
        shapes = [tuple(w.shape) for w in layer.weights]
        if shapes != [tuple(w.shape) for w in theirs[name].weights]:
            return False
        theirs[name].set_weights(layer.get_weights())
    return True


def _write_keras_hub_configs(model: keras.Model, directory: Path) -> bool:
    """Name keras-hub's classes in ``task.json``/``preprocessor.json`` where that is exact.

    The zoo's class names and its own constructor arguments (labels, zoo name, pooling)
    move under the ``"tfx_textzoo"`` key of ``task.json``, which keras-hub ignores and
    [`load_saved`][tfx_textzoo.saving.load_saved] reads back. Returns whether the directory loads in
    plain keras-hub.
    """
    found = keras_hub_equivalent(model)
    if found is None:
        return False
    task_cls, pre_cls = found
    task = _read_json(directory / "task.json", str(directory))
    zoo = {"task_class": task["registered_name"], "task_config": {}}
    _rename(task, task_cls, zoo, "task_config")
    nested = task["config"].get("preprocessor")
    if isinstance(nested, dict) and "registered_name" in nested:
        zoo["preprocessor_class"] = nested["registered_name"]
        _rename(nested, pre_cls, {}, None)
    task[_ZOO_KEY] = zoo
    _write_json(directory / "task.json", task)
    path = directory / "preprocessor.json"
    if path.exists():
        preprocessor = _read_json(path, str(directory))
        _rename(preprocessor, pre_cls, {}, None)
        _write_json(path, preprocessor)
    return True


def _rename(config: dict[str, Any], cls: type, zoo: dict[str, Any], key: str | None) -> None:
    _, extra = _split_config(cls, config["config"])
    for name in extra:
        config["config"].pop(name)
    if key is not None:
        zoo[key] = extra
    config["module"] = cls.__module__
    config["class_name"] = cls.__name__
    config["registered_name"] = keras.saving.get_registered_name(cls)


def _load_preset(directory: Path, origin: str) -> keras.Model:
    """keras-hub's ``from_preset``, then the zoo class where keras-hub's names were saved."""
    import keras_hub

    task = _read_json(directory / "task.json", origin)
    zoo = task.get(_ZOO_KEY) if isinstance(task, dict) else None
    if not isinstance(zoo, dict):
        return keras_hub.models.TextClassifier.from_preset(str(directory))
    # The saved keras-hub class itself: TextClassifier.from_preset could pick a zoo
    # subclass of it for the backbone, which task.json's config does not fit.
    keras_hub_cls = keras.saving.get_registered_object(task.get("registered_name"))
    if not (
        isinstance(keras_hub_cls, type)
        and issubclass(keras_hub_cls, keras_hub.models.TextClassifier)
    ):
        raise ValueError(f"task.json in {origin} names no keras-hub text classifier.")
    model = keras_hub_cls.from_preset(str(directory))
    return _as_zoo_class(model, zoo, origin)


def _as_zoo_class(model: keras.Model, zoo: dict[str, Any], origin: str) -> keras.Model:
    """Rebuild the zoo class of a model saved under keras-hub's class names."""
    task_cls = keras.saving.get_registered_object(zoo.get("task_class"))
    pre_cls = keras.saving.get_registered_object(zoo.get("preprocessor_class"))
    if task_cls is None or pre_cls is None:
        raise ValueError(
            f"{origin} was saved from the classes {zoo.get('task_class')} and "
            f"{zoo.get('preprocessor_class')}, which are not registered here: install the "
            f"package that provides them. {_remedy(origin)}"
        )
    pre_config = dict(model.preprocessor.get_config())
    pre_config.pop("tokenizer", None)
    preprocessor = pre_cls(tokenizer=model.preprocessor.tokenizer, **pre_config)
    config = {k: v for k, v in model.get_config().items() if k not in ("backbone", "preprocessor")}
    restored = task_cls(
        backbone=model.backbone,
        preprocessor=preprocessor,
        **config,
        **(zoo.get("task_config") or {}),
    )
    if not _copy_head(model, restored):
        raise CorruptModelError(
            f"The classification head in {origin} does not fit {zoo.get('task_class')}. "
            f"{_remedy(origin)}"
        )
    return restored
