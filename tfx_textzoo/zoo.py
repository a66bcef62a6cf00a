"""``load()``: a model of the zoo, by name, as a compiled Keras classifier."""

from __future__ import annotations

import os
from typing import Any

import keras

from tfx_textzoo import _checks, hf_classifiers, saving, tasks
from tfx_textzoo.registry import get_family, get_spec
from tfx_textzoo.tasks import Task


def load(
    name: str,
    num_classes: int | None = None,
    *,
    labels: list[str] | None = None,
    multi_label: bool | None = None,
    weights: Any = "auto",
    sequence_length: int | None = None,
    **overrides: Any,
) -> keras.Model:
    """Build a model of the zoo by name, or load one saved with ``save_pretrained``.

    By name: a pretrained backbone (when the entry has one) and a new head. The result
    is a compiled ``keras.Model`` (a keras-hub ``TextClassifier``) whose ``preprocessor``
    is attached, so ``fit``/``predict``/``evaluate`` take raw strings. Its outputs are
    class probabilities of shape ``(batch, num_classes)``.

    Given a directory written by [`tfx_textzoo.save_pretrained`][tfx_textzoo.save_pretrained] (or an
    ``hf://owner/name`` repository holding one), it returns that model as saved:
    labels, head and preprocessor included (see [`load_saved`][tfx_textzoo.saving.load_saved]).
    Given a classifier fine-tuned with Hugging Face transformers (a directory or
    ``hf://`` repository with a ``*ForSequenceClassification`` ``config.json`` and
    safetensors weights), it returns it with its trained head and ``id2label`` names
    (see [`hf_classifiers.load`][tfx_textzoo.hf_classifiers.load]).

    Args:
        name: A model name or alias (see [`tfx_textzoo.list_models`][tfx_textzoo.list_models]), a
            directory
            written by [`tfx_textzoo.save_pretrained`][tfx_textzoo.save_pretrained] (a path object,
            or a string
            with a ``/``; a bare string is a catalog name first), or ``hf://owner/name``.
        num_classes: Number of classes (>= 2). May be omitted when ``labels`` is given.
            For a saved model, optional; it must match the saved head.
        labels: Optional class names; ``labels[i]`` names class ``i``. Stored on the
            model as ``model.labels`` and kept by save/load. For a saved model,
            optional; they must match the saved names.
        multi_label: Any number of labels per text (a sigmoid head trained with binary
            cross-entropy, one decision threshold per label) instead of exactly one
            (softmax); the model's [`Task`][tfx_textzoo.tasks.Task] (``model.task``)
            records it. Default False; for a saved model, optional, and it must match.
        weights: ``"auto"`` (default) tries the catalog's weight sources in order;
            ``None`` gives the same architecture with random initialisation (no
            download); or a local directory (keras-hub preset, Hugging Face
            ``config.json`` + ``model.safetensors`` + ``vocab.txt``, or an original
            BERT TF checkpoint), an ``hf://org/name`` URI, or a keras-hub preset.
        sequence_length: Tokens per text (default from the catalog entry).
        **overrides: Family-specific options, e.g. smaller architecture numbers with
            ``weights=None`` (``num_layers=1, hidden_dim=8``) or ``vocabulary=[...]``.
            Weights whose architecture is not the name's (a 6-layer checkpoint under a
            2-layer name) are refused with
            [`ArchitectureMismatchError`][tfx_textzoo.errors.ArchitectureMismatchError]; BERT models
            accept
            ``allow_architecture_mismatch=True`` to use them anyway, and then record
            the real architecture (``model.architecture_overrides``).

    Returns:
        The compiled classifier.

    Raises:
        ValueError: Unknown name (with suggestions), bad ``num_classes``/``labels``/
            ``sequence_length`` or architecture numbers (an
            [`InvalidArgumentError`][tfx_textzoo.errors.InvalidArgumentError] naming the argument),
            or
            ones that contradict a saved model's; a corrupt saved model; weights of
            another architecture.
        FileNotFoundError: A saved model directory or one of its files is missing.
        tfx_textzoo.WeightsNotFoundError: No weight source could be loaded; the
            message lists each source tried and how to pre-populate the cache.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("scratch-tiny", labels=["neg", "pos"])
        >>> model.preprocessor.adapt(["a good film", "a bad film"])
        >>> model.predict(["a good film"], verbose=0).shape
        (1, 2)
    """
    sequence_length = _checks.check_int(
        "sequence_length", sequence_length, minimum=1, optional=True
    )
    if multi_label is not None:
        multi_label = _checks.check_bool("multi_label", multi_label)
    if saving.is_saved_location(name):
        if hf_classifiers.find(name) is not None:  # fine-tuned with transformers
            model = hf_classifiers.load(
                name,
                num_classes,
                labels=labels,
                weights=weights,
                sequence_length=sequence_length,
                **overrides,
            )
        else:
            model = saving.load_saved(
                name,
                num_classes,
                labels=labels,
                weights=weights,
                sequence_length=sequence_length,
                **overrides,
            )
        _check_saved_task(model, multi_label, name)
        return model
    spec = get_spec(name)
    num_classes, labels = _checks.check_classes(num_classes, labels)
    if weights is True:
        weights = "auto"
    elif weights is False:
        weights = None
    elif isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    family = get_family(spec.family)
    if multi_label:  # only then: a plugin family written before tasks builds single-label
        overrides["task"] = Task(multi_label=True)
    return family.builder(
        spec,
        num_classes=num_classes,
        labels=labels,
        weights=weights,
        sequence_length=sequence_length,
        **overrides,
    )


def _check_saved_task(model: keras.Model, multi_label: bool | None, location: Any) -> None:
    """Refuse ``multi_label`` that contradicts the saved model's task."""
    if multi_label is None:
        return
    saved = tasks.of(model).multi_label
    if saved != multi_label:
        kind = "multi-label" if saved else "single-label"
        raise _checks.InvalidArgumentError(
            "multi_label",
            multi_label,
            f"{saved} or None",
            f"the model saved at {location} is {kind}",
        )
