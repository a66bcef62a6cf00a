"""Fine-tuned Hugging Face classifiers: transformers ``*ForSequenceClassification`` checkpoints.

[`load`][tfx_textzoo.load] reads a local directory or an ``hf://owner/name`` repository that
holds a classifier someone fine-tuned with Hugging Face transformers (``config.json`` whose
``architectures`` names a ``*ForSequenceClassification`` class, safetensors weights, the
tokenizer files). The trained head is kept, the label names come from ``id2label``, and
the probabilities are transformers'. This module knows no family: the family whose
registration lists the checkpoint's ``model_type`` (``hf_model_types``) builds the model
with its ``hf_classifier`` (see [`Family`][tfx_textzoo.registry.Family]), with the task of
[`task_of`][tfx_textzoo.hf_classifiers.task_of].

A checkpoint fine-tuned for multi-label classification (``problem_type:
"multi_label_classification"``) loads as a multi-label model: a sigmoid per label (as
transformers' ``BCEWithLogitsLoss`` and its pipelines read the logits), decision
threshold 0.5 per label until [`finetune`][tfx_textzoo.finetune] tunes them.

Refused, with a message that says what to do: regression checkpoints (``problem_type``,
or one output), checkpoints with only pickled weights (``pytorch_model.bin``: no pickle
is ever loaded), and model types no family reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tfx_textzoo import registry
from tfx_textzoo.errors import InvalidArgumentError
from tfx_textzoo.tasks import Task

#: The end of the class name transformers writes into ``architectures`` for a classifier.
CLASSIFIER_SUFFIX = "ForSequenceClassification"
#: ``problem_type`` values of checkpoints whose task the zoo does not have yet.
UNSUPPORTED_PROBLEM_TYPES = {
    "regression": "regression (one real-valued output)",
}
#: The ``problem_type`` of a multi-label checkpoint (sigmoid outputs, one per label).
MULTI_LABEL_PROBLEM_TYPE = "multi_label_classification"
_MARKER = "textzoo.json"  # a directory written by save_pretrained (read by saving.py)


class UnsupportedClassifierError(ValueError):
    """A transformers classifier checkpoint the zoo cannot load (the message says why)."""


def classifier_config(directory: str | os.PathLike) -> dict[str, Any] | None:
    """The parsed ``config.json`` of a transformers classifier in ``directory``, else None.

    A directory written by [`save_pretrained`][tfx_textzoo.save_pretrained] (it has
    ``textzoo.json``) is not one, nor is a base model (``BertModel``) checkpoint.

    Examples:
        >>> import json, pathlib, tempfile
        >>> from tfx_textzoo.hf_classifiers import classifier_config
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "config.json").write_text(json.dumps(
        ...     {"model_type": "bert", "architectures": ["BertForSequenceClassification"]}))
        >>> classifier_config(d)["model_type"]
        'bert'
        >>> _ = (d / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
        >>> classifier_config(d) is None
        True
    """
    directory = Path(directory)
    path = directory / "config.json"
    if (directory / _MARKER).exists() or not path.is_file():
        return None
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None  # not a transformers config: whoever reads the directory says why
    if not isinstance(config, dict):
        return None
    architectures = config.get("architectures") or []
    if isinstance(architectures, list) and any(
        isinstance(a, str) and a.endswith(CLASSIFIER_SUFFIX) for a in architectures
    ):
        return config
    return None


def find(location: str | os.PathLike) -> tuple[Path, dict[str, Any]] | None:
    """Where a transformers classifier named by ``location`` is, with its config; else None.

    ``location`` is a local directory or ``hf://owner/name``. For ``hf://`` only
    ``config.json`` (and the ``textzoo.json`` marker) are fetched to decide; the rest of
    the checkpoint is fetched by [`load`][tfx_textzoo.hf_classifiers.load].

    Examples:
        >>> from tfx_textzoo.hf_classifiers import find
        >>> find("/no/such/directory") is None
        True
    """
    text = os.fspath(location)
    if not text.startswith("hf://"):
        directory = Path(os.path.expanduser(text))
        config = classifier_config(directory) if directory.is_dir() else None
        return (directory, config) if config is not None else None
    from tfx_textzoo.weights import _hf_snapshot

    try:
        snapshot = Path(_hf_snapshot(text, [_MARKER, "config.json"]))
    except OSError:
        return None  # saving.load_saved fetches again and reports the failure
    config = classifier_config(snapshot)
    return (snapshot, config) if config is not None else None


def load(
    location: str | os.PathLike,
    num_classes: int | None = None,
    *,
    labels: list[str] | None = None,
    weights: Any = "auto",
    sequence_length: int | None = None,
    **overrides: Any,
) -> Any:
    """Load a transformers ``*ForSequenceClassification`` checkpoint as a zoo classifier.

    This is what [`load`][tfx_textzoo.load] does for such a directory or ``hf://``
    repository: the family of the checkpoint's ``model_type`` builds the backbone,
    tokenizer and its transformers-shaped head, with the trained weights.

    Args:
        location: The directory, or ``hf://owner/name`` (fetched into the cache at
            ``TEXTZOO_HOME/hf``: ``config.json``, the safetensors weights and the
            family's tokenizer files; never a pickle).
        num_classes: Optional check: must equal the checkpoint's number of labels.
        labels: Optional names for the classes, in id order, replacing ``id2label``'s
            (which are often ``LABEL_0``, ``LABEL_1``); their number must match.
        weights: Must stay ``"auto"`` (the checkpoint carries its weights).
        sequence_length: Not supported (the family takes the checkpoint's default);
            set ``model.preprocessor.sequence_length`` afterwards to change it.
        **overrides: Not supported.

    Returns:
        The compiled classifier, ``labels`` from ``id2label`` (or ``labels=``),
        ``model_name`` None (it is no catalog entry), ``model.task`` from the
        checkpoint's ``problem_type`` ([`task_of`][tfx_textzoo.hf_classifiers.task_of]):
        a multi-label checkpoint gives a multi-label model (sigmoid per label).

    Raises:
        UnsupportedClassifierError: A regression checkpoint (``problem_type``, or one
            output), or a model type no registered family reads (the message lists
            those that are).
        tfx_textzoo.weights.PickledWeightsError: Only pickled weights are there.
        ValueError: ``num_classes`` / ``labels`` that contradict the checkpoint, or a
            malformed ``id2label``.

    Examples:
        >>> from tfx_textzoo import hf_classifiers
        >>> hf_classifiers.load("/no/such/dir")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        FileNotFoundError: /no/such/dir holds no transformers ...ForSequenceClassification...
    """
    custom_weights = not (isinstance(weights, str) and weights == "auto") and weights is not True
    if custom_weights or sequence_length is not None or overrides:
        given = sorted(
            [*overrides, *(["weights"] if custom_weights else [])]
            + (["sequence_length"] if sequence_length is not None else [])
        )
        raise TypeError(
            f"{os.fspath(location)} is a fine-tuned Hugging Face classifier: it carries its "
            f"own weights and architecture, so {given} cannot be applied. Only num_classes= "
            "and labels= are accepted; set model.preprocessor.sequence_length afterwards to "
            "change the sequence length."
        )
    found = find(location)
    if found is None:
        raise FileNotFoundError(
            f"{os.fspath(location)} holds no transformers *{CLASSIFIER_SUFFIX} checkpoint "
            "(config.json whose 'architectures' names such a class)."
        )
    directory, config = found
    origin = os.fspath(location)
    family = family_for(config, origin)
    names = _check_task_and_labels(config, origin, num_classes, labels)
    if origin.startswith("hf://"):
        directory = _fetch_checkpoint(origin, family)
    _check_weights(directory, origin)
    model = family.hf_classifier(directory, config, labels=names)
    model._textzoo_source = origin
    return model


def family_for(config: dict[str, Any], origin: str = "the checkpoint") -> registry.Family:
    """The registered family whose ``hf_model_types`` has ``config["model_type"]``.

    Examples:
        >>> from tfx_textzoo.hf_classifiers import family_for
        >>> family_for({"model_type": "bert"}).name
        'bert'
        >>> family_for({"model_type": "gpt2"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.hf_classifiers.UnsupportedClassifierError: the checkpoint is a classifier...
    """
    model_type = config.get("model_type")
    readers = {
        model_type_: family
        for family in map(registry.get_family, registry.list_families())
        if family.hf_classifier is not None
        for model_type_ in family.hf_model_types
    }
    if model_type in readers:
        return readers[model_type]
    raise UnsupportedClassifierError(
        f"{origin} is a classifier of model type {model_type!r}, which no tfx_textzoo family "
        "reads. Fine-tuned classifiers of these model types load: "
        f"{', '.join(sorted(readers))}."
    )


def task_of(config: dict[str, Any], origin: str = "the checkpoint") -> Task:
    """The [`Task`][tfx_textzoo.tasks.Task] of a transformers classifier's ``config.json``.

    ``problem_type`` ``"multi_label_classification"`` is a multi-label task (a sigmoid
    per label, threshold 0.5); ``"single_label_classification"`` or none is single-label
    (softmax). Every family's ``hf_classifier`` builds its head with this task.

    Raises:
        UnsupportedClassifierError: ``problem_type`` ``"regression"`` or one unknown
            to transformers.

    Examples:
        >>> from tfx_textzoo.hf_classifiers import task_of
        >>> task_of({"problem_type": "multi_label_classification"}).activation
        'sigmoid'
        >>> task_of({}).multi_label
        False
    """
    problem = config.get("problem_type")
    if problem in UNSUPPORTED_PROBLEM_TYPES:
        raise UnsupportedClassifierError(
            f"{origin} was fine-tuned for {UNSUPPORTED_PROBLEM_TYPES[problem]} "
            f"(problem_type {problem!r}); tfx_textzoo loads single-label (softmax) and "
            "multi-label (sigmoid) classifiers only. Build a zoo model from its base model "
            "instead: textzoo.load('<zoo name>', labels=[...], weights=...)."
        )
    if problem not in (None, "single_label_classification", MULTI_LABEL_PROBLEM_TYPE):
        raise UnsupportedClassifierError(
            f"{origin} has problem_type {problem!r} in config.json, which transformers does "
            "not define; a classifier has 'single_label_classification' or "
            f"'{MULTI_LABEL_PROBLEM_TYPE}' (or none: single-label). Correct config.json."
        )
    return Task(multi_label=problem == MULTI_LABEL_PROBLEM_TYPE)


def _check_task_and_labels(
    config: dict[str, Any], origin: str, num_classes: Any, labels: Any
) -> list[str]:
    """The class names (id order) of a single- or multi-label checkpoint; refuse others."""
    from tfx_textzoo import _checks

    multi_label = task_of(config, origin).multi_label
    id2label = config.get("id2label")
    if id2label is None:
        count = config.get("num_labels", 2)
        id2label = {str(i): f"LABEL_{i}" for i in range(int(count))}
    if not isinstance(id2label, dict):
        raise ValueError(f"{origin}: id2label in config.json is not a mapping: {id2label!r}")
    try:
        by_id = {int(k): str(v) for k, v in id2label.items()}
    except (TypeError, ValueError):
        raise ValueError(
            f"{origin}: id2label in config.json has keys that are not integers: "
            f"{sorted(map(str, id2label))}"
        ) from None
    if sorted(by_id) != list(range(len(by_id))):
        raise ValueError(
            f"{origin}: id2label in config.json must number the labels 0..{len(by_id) - 1}; "
            f"it has ids {sorted(by_id)}"
        )
    if len(by_id) == 1:
        kind = (
            "a multi-label classifier of one label"
            if multi_label
            else "transformers treats that as regression"
        )
        raise UnsupportedClassifierError(
            f"{origin} has one output ({by_id[0]!r}): {kind}, which tfx_textzoo does not "
            "load; it loads classifiers with two or more labels."
        )
    names = [by_id[i] for i in range(len(by_id))]
    if len(set(names)) != len(names):  # names must be unique to predict by name
        names = [f"{name}_{i}" if names.count(name) > 1 else name for i, name in enumerate(names)]
    if num_classes is not None:
        num_classes = _checks.check_int("num_classes", num_classes, minimum=2)
        if num_classes != len(names):
            raise InvalidArgumentError(
                "num_classes",
                num_classes,
                f"{len(names)}, the number of labels of {origin}",
                "a fine-tuned classifier keeps its head; to train a new head, build a zoo model",
            )
    if labels is not None:
        given = _checks.check_classes(None, labels)[1]
        if len(given) != len(names):
            raise InvalidArgumentError(
                "labels",
                labels,
                f"{len(names)} names, one per label of {origin} (id2label: {names})",
            )
        names = given
    return names


def _fetch_checkpoint(uri: str, family: registry.Family) -> Path:
    """Download the checkpoint's config, safetensors and the family's tokenizer files."""
    from tfx_textzoo.weights import GENERIC_HF_TOKENIZER_FILES, HF_WEIGHT_FILES, _hf_snapshot

    patterns = [*HF_WEIGHT_FILES, *(family.hf_files or GENERIC_HF_TOKENIZER_FILES)]
    return Path(_hf_snapshot(uri, patterns))


def _check_weights(directory: Path, origin: str) -> None:
    """Safetensors weights must be there; a pickle-only checkpoint is refused."""
    from tfx_textzoo.weights import _refuse_pickles

    if list(directory.glob("*.safetensors")):
        return
    _refuse_pickles(directory, origin)
    raise FileNotFoundError(
        f"{origin} has no safetensors weights (model.safetensors). tfx_textzoo reads "
        "safetensors only and never loads pytorch_model.bin (a pickle); if the repository "
        "has only that, convert it to safetensors first (see the PickledWeightsError "
        "message for how)."
    )
