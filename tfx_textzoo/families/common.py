"""Pieces every family shares: argument checks, the zoo config fields, compiling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import tensorflow as tf


def check_classes(num_classes: Any, labels: Any) -> tuple[int, list[str] | None]:
    """Validate ``num_classes`` / ``labels`` and return ``(num_classes, labels)``.

    Args:
        num_classes: An int >= 2, or None to infer it from ``labels``.
        labels: Optional sequence of distinct, non-empty class names.

    Returns:
        The number of classes and the labels as a list (or None).

    Raises:
        ValueError: For a missing, too small or inconsistent number of classes.
        TypeError: For a non-integer ``num_classes`` or non-string labels.

    Examples:
        >>> from tfx_textzoo.families.common import check_classes
        >>> check_classes(None, ["neg", "pos"])
        (2, ['neg', 'pos'])
    """
    if labels is not None:
        if isinstance(labels, str) or not hasattr(labels, "__iter__"):
            raise TypeError(
                f"labels must be a list of class names, got {type(labels).__name__}: {labels!r}"
            )
        labels = list(labels)
        bad = [x for x in labels if not isinstance(x, str) or not x.strip()]
        if bad:
            raise TypeError(f"labels must be non-empty strings; got {bad[:5]!r}")
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"labels must be distinct; repeated: {dupes}")
    if num_classes is None:
        if labels is None:
            raise ValueError(
                "Pass num_classes=N (the number of classes, >= 2) or labels=[...] "
                "(the class names) so the classification head can be built."
            )
        num_classes = len(labels)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int):
        raise TypeError(
            f"num_classes must be an int >= 2, got {type(num_classes).__name__}: {num_classes!r}"
        )
    if num_classes < 2:
        raise ValueError(
            f"num_classes must be >= 2 (got {num_classes}); a classifier needs at least "
            "two classes (use 2 for binary tasks)."
        )
    if labels is not None and len(labels) != num_classes:
        raise ValueError(
            f"num_classes={num_classes} but {len(labels)} labels were given ({labels}); "
            "they must agree (or pass only labels=)."
        )
    return num_classes, labels


def check_string_tensor(x: Any) -> None:
    """Raise a clear TypeError unless ``x`` is a string tensor (raw texts).

    Examples:
        >>> import tensorflow as tf
        >>> from tfx_textzoo.families.common import check_string_tensor
        >>> check_string_tensor(tf.constant(["a text"]))
    """
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype != tf.string:
        raise TypeError(
            f"tfx_textzoo models take raw strings (texts), but got a tensor of dtype "
            f"{dtype!r}. Pass a list/array of str, e.g. model.predict(['some text'])."
        )


def zoo_config(labels: list[str] | None, model_name: str | None) -> dict[str, Any]:
    """The extra config every zoo classifier stores (so save/load keeps it)."""
    return {"labels": list(labels) if labels else None, "model_name": model_name}


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class MaskedAveragePooling(keras.layers.Layer):
    """Mean of the token vectors over the non-padding positions."""

    def call(self, x, padding_mask):  # noqa: D102
        mask = keras.ops.expand_dims(keras.ops.cast(padding_mask, x.dtype), -1)
        total = keras.ops.sum(x * mask, axis=1)
        return total / keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)

    def compute_output_shape(self, input_shape):  # noqa: D102
        return (input_shape[0], input_shape[-1])


class CompileFromConfigMixin:
    """Recompile a reloaded zoo classifier with its saved optimizer (schedule included).

    keras-hub tasks override ``compile``, so Keras skips recompiling them on load; zoo
    classifiers do it, so a saved fine-tuned model comes back with its optimizer.
    """

    def compile_from_config(self, config):  # noqa: D102
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)


def compile_classifier(model: keras.Model, finetune: Mapping[str, Any], pretrained: bool) -> None:
    """Compile with the catalog's recommended optimizer settings.

    Pretrained backbones get AdamW (no decay on biases and LayerNorm) at the catalog
    ``learning_rate``; from-scratch models get Adam.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("scratch-tiny", num_classes=2)
        >>> type(model.optimizer).__name__
        'Adam'
    """
    lr = float(finetune.get("learning_rate", 1e-3))
    if pretrained:
        optimizer = keras.optimizers.AdamW(
            learning_rate=lr, weight_decay=float(finetune.get("weight_decay", 0.01))
        )
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    else:
        optimizer = keras.optimizers.Adam(learning_rate=lr)
    model.compile(optimizer=optimizer, **loss_and_metrics())


def loss_and_metrics() -> dict[str, Any]:
    """The loss and metrics every zoo classifier is compiled with (probability outputs).

    Examples:
        >>> from tfx_textzoo.families.common import loss_and_metrics
        >>> [m.name for m in loss_and_metrics()["metrics"]]
        ['accuracy']
    """
    return {
        "loss": keras.losses.SparseCategoricalCrossentropy(),
        "metrics": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    }
