"""One place that validates public settings and matches a dataset's classes to a model's.

Every public function (``load``, ``finetune``, ``predict``, ``predict_proba``,
``evaluate``) and every family checks its settings here, so a value that would pass
silently and do nothing (``clipnorm=0``), or break the model (``learning_rate=inf``), is
refused with the argument's name as the user passed it, what it must be, and what was
given. Values taken from a catalog entry are checked the same way, and the message says
where they came from. numpy integers count as integers; ``bool`` does not.

This module imports numpy only (no TensorFlow, no model code).

Examples:
    >>> from tfx_textzoo._checks import check_int, check_number
    >>> check_int("epochs", 3, minimum=1)
    3
    >>> check_number("learning_rate", float("inf"), minimum=0, open_min=True)
    Traceback (most recent call last):
    ...
    tfx_textzoo.errors.InvalidArgumentError: learning_rate must be a finite number > 0, got inf
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from tfx_textzoo.errors import InvalidArgumentError, InvalidArgumentTypeError, LabelMismatchError

#: Metrics every ``finetune`` run records (validation ones need ``validation_data``).
TRAINING_METRICS = ("loss", "accuracy")

#: ``verbose`` values Keras understands.
VERBOSE_VALUES = (0, 1, 2, "auto")


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), not a ``bool``.

    Examples:
        >>> import numpy as np
        >>> from tfx_textzoo._checks import is_int
        >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
        (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def check_int(
    argument: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    optional: bool = False,
    source: str = "",
) -> int | None:
    """Return ``value`` as an ``int`` after checking its type and range.

    Args:
        argument: The argument's name as the user passed it.
        value: The value to check.
        minimum: Smallest allowed value.
        maximum: Largest allowed value.
        optional: Whether None is allowed (and returned as is).
        source: Where the value came from when not from the user (a catalog entry).

    Raises:
        InvalidArgumentTypeError: Not an integer (``bool`` and ``3.0`` are not).
        InvalidArgumentError: Out of range.

    Examples:
        >>> import numpy as np
        >>> from tfx_textzoo._checks import check_int
        >>> check_int("num_classes", np.int64(3), minimum=2)
        3
        >>> check_int("batch_size", True, minimum=1)
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentTypeError: batch_size must be an int >= 1, got True
    """
    if value is None and optional:
        return None
    expected = "an int" + _range_text(minimum, maximum, False, False)
    if optional:
        expected += " or None"
    if not is_int(value):
        raise InvalidArgumentTypeError(argument, value, expected, _from(source))
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidArgumentError(argument, _plain(value), expected, _from(source))
    return int(value)


def check_number(
    argument: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    open_min: bool = False,
    open_max: bool = False,
    optional: bool = False,
    source: str = "",
    detail: str = "",
) -> float | None:
    """Return ``value`` as a finite ``float`` after checking its type and range.

    Args:
        argument: The argument's name as the user passed it.
        value: The value to check (an int or float; not a ``bool`` or a string).
        minimum: Lower bound.
        maximum: Upper bound.
        open_min: Whether ``minimum`` itself is excluded.
        open_max: Whether ``maximum`` itself is excluded.
        optional: Whether None is allowed (and returned as is).
        source: Where the value came from when not from the user (a catalog entry).
        detail: What the setting does, added to the message.

    Raises:
        InvalidArgumentTypeError: Not a number.
        InvalidArgumentError: NaN, infinite or out of range.

    Examples:
        >>> from tfx_textzoo._checks import check_number
        >>> check_number("warmup_ratio", 0.1, minimum=0, maximum=1, open_max=True)
        0.1
        >>> check_number("decay", 0, minimum=0, maximum=1, open_min=True)
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentError: decay must be a finite number in (0, 1], got 0
    """
    if value is None and optional:
        return None
    expected = "a finite number" + _range_text(minimum, maximum, open_min, open_max)
    if optional:
        expected += " or None"
    detail = "; ".join(x for x in (detail, _from(source)) if x)
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
        raise InvalidArgumentTypeError(argument, value, expected, detail)
    number = float(value)
    low_ok = minimum is None or (number > minimum if open_min else number >= minimum)
    high_ok = maximum is None or (number < maximum if open_max else number <= maximum)
    if not (math.isfinite(number) and low_ok and high_ok):
        raise InvalidArgumentError(argument, _plain(value), expected, detail)
    return number


def check_bool(argument: str, value: Any) -> bool:
    """Return ``value`` as a ``bool``; only True / False (numpy's too) are accepted.

    Examples:
        >>> from tfx_textzoo._checks import check_bool
        >>> check_bool("restore_best", "no")
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentTypeError: restore_best must be True or False, got 'no'
    """
    if not isinstance(value, bool | np.bool_):
        raise InvalidArgumentTypeError(argument, value, "True or False")
    return bool(value)


def check_verbose(value: Any, argument: str = "verbose") -> int | str:
    """Return a Keras verbosity: 0, 1, 2 or ``"auto"`` (True / False mean 1 / 0).

    Examples:
        >>> from tfx_textzoo._checks import check_verbose
        >>> check_verbose(True), check_verbose("auto")
        (1, 'auto')
        >>> check_verbose(5)
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentError: verbose must be 0, 1, 2 or 'auto', got 5
    """
    if isinstance(value, bool | np.bool_):
        return int(value)
    if value == "auto" and isinstance(value, str):
        return value
    if is_int(value) and int(value) in (0, 1, 2):
        return int(value)
    error = InvalidArgumentError if is_int(value) else InvalidArgumentTypeError
    raise error(argument, _plain(value), "0, 1, 2 or 'auto'")


def check_jit_compile(value: Any) -> bool | str:
    """Return ``jit_compile``: True, False or ``"auto"``.

    Examples:
        >>> from tfx_textzoo._checks import check_jit_compile
        >>> check_jit_compile("auto")
        'auto'
    """
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str) and value == "auto":
        return value
    raise InvalidArgumentError("jit_compile", value, "True, False or 'auto'")


def check_micro_batch_tokens(value: Any) -> int | str | None:
    """Return ``micro_batch_tokens``: ``"auto"``, None or an int >= 1.

    Examples:
        >>> from tfx_textzoo._checks import check_micro_batch_tokens
        >>> check_micro_batch_tokens(4096), check_micro_batch_tokens("auto")
        (4096, 'auto')
        >>> check_micro_batch_tokens(0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentError: micro_batch_tokens must be ...
    """
    if isinstance(value, str) and value == "auto":
        return value
    if isinstance(value, str):
        raise InvalidArgumentError(
            "micro_batch_tokens", value, "'auto', None or an int >= 1 (tokens per pass)"
        )
    return check_int("micro_batch_tokens", value, minimum=1, optional=True)


def check_seed(value: Any) -> int | None:
    """Return a random seed: None or an int in ``0 .. 2**32 - 1`` (what numpy accepts).

    Examples:
        >>> from tfx_textzoo._checks import check_seed
        >>> check_seed("abc")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentTypeError: seed must be an int in 0..4294967295 ...
    """
    return check_int("seed", value, minimum=0, maximum=2**32 - 1, optional=True)


def check_columns(argument: str, value: Any, *, several: bool = True) -> Any:
    """Return a column name (or, with ``several``, a list of them), or None.

    Examples:
        >>> from tfx_textzoo._checks import check_columns
        >>> check_columns("text_column", ("title", "body"))
        ['title', 'body']
    """
    if value is None or (isinstance(value, str) and value):
        return value
    if several and isinstance(value, Sequence) and not isinstance(value, str | bytes):
        names = list(value)
        if names and all(isinstance(n, str) and n for n in names):
            return names
    expected = "a column name" + (" or a list of column names" if several else "") + " or None"
    raise InvalidArgumentTypeError(argument, value, expected)


def check_path(argument: str, value: Any, *, optional: bool = True) -> str | None:
    """Return a path (``str`` or ``os.PathLike``) as ``str``, or None.

    Examples:
        >>> from tfx_textzoo._checks import check_path
        >>> check_path("checkpoint_dir", 3)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentTypeError: checkpoint_dir must be a path ..., got 3
    """
    if value is None and optional:
        return None
    if isinstance(value, str) and value:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise InvalidArgumentTypeError(
        argument, value, "a path (str or os.PathLike)" + (" or None" if optional else "")
    )


def check_monitor(monitor: Any, has_validation: bool) -> str | None:
    """Return ``monitor`` if it names a metric ``finetune`` records in this run.

    ``val_*`` metrics exist only with ``validation_data``; without a metric to watch,
    restore-best and early stopping would silently never happen.

    Examples:
        >>> from tfx_textzoo._checks import check_monitor
        >>> check_monitor("val_loss", has_validation=True)
        'val_loss'
        >>> check_monitor("val_accuracy", has_validation=False)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentError: monitor must be one of [...]...validation_data=...
    """
    if monitor is None:
        return None
    names = list(TRAINING_METRICS)
    if has_validation:
        names += [f"val_{m}" for m in TRAINING_METRICS]
    if not isinstance(monitor, str):
        raise InvalidArgumentTypeError("monitor", monitor, f"one of {names} or None")
    if monitor in names:
        return monitor
    detail = ""
    if monitor.startswith("val_") and monitor[4:] in TRAINING_METRICS:
        detail = "val_ metrics need validation_data=...; pass it, or monitor one of the above"
    raise InvalidArgumentError("monitor", monitor, f"one of {names}", detail)


def check_callbacks(value: Any, base: type) -> list:
    """Return ``callbacks`` as a list of ``base`` instances (Keras callbacks), or []."""
    if value is None:
        return []
    if isinstance(value, base):
        value = [value]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        items = list(value)
        if all(isinstance(c, base) for c in items):
            return items
    raise InvalidArgumentTypeError("callbacks", value, "a list of keras.callbacks.Callback")


def check_class_weight(
    class_weight: Any, num_classes: int, label_names: Sequence[str] | None
) -> dict[int, float] | str | None:
    """Return ``class_weight`` as ``{class id: weight}`` (or ``"balanced"`` / None).

    Keys are class ids (ints, numpy ints too) or label names; weights are finite and
    >= 0 (0 drops a class from the loss). Classes not listed weigh 1.

    Examples:
        >>> from tfx_textzoo._checks import check_class_weight
        >>> check_class_weight({"pos": 2}, 2, ["neg", "pos"])
        {0: 1.0, 1: 2.0}
        >>> check_class_weight({"pos": -1}, 2, ["neg", "pos"])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentError: class_weight['pos'] must be ... >= 0, got -1...
    """
    if class_weight is None or (isinstance(class_weight, str) and class_weight == "balanced"):
        return class_weight
    if not isinstance(class_weight, Mapping):
        raise InvalidArgumentTypeError(
            "class_weight", class_weight, "a dict {label: weight} or 'balanced'"
        )
    out: dict[int, float] = {}
    for key, weight in class_weight.items():
        if isinstance(key, str):
            if not label_names or key not in label_names:
                raise InvalidArgumentError(
                    "class_weight",
                    class_weight,
                    "keyed by class ids or the model's label names",
                    f"{key!r} is not one of the model's labels {list(label_names or [])}",
                )
            index = list(label_names).index(key)
        elif is_int(key):
            if not 0 <= int(key) < num_classes:
                raise InvalidArgumentError(
                    "class_weight",
                    class_weight,
                    "keyed by class ids or the model's label names",
                    f"class_weight key {key} is outside 0..{num_classes - 1}",
                )
            index = int(key)
        else:
            raise InvalidArgumentTypeError(
                "class_weight", class_weight, "keyed by class ids (int) or label names (str)"
            )
        out[index] = check_number(
            f"class_weight[{key!r}]",
            weight,
            minimum=0,
            detail="a negative weight would train the model away from that class",
        )
    return {i: out.get(i, 1.0) for i in range(num_classes)}


def check_classes(num_classes: Any, labels: Any) -> tuple[int, list[str] | None]:
    """Validate ``num_classes`` / ``labels`` and return ``(num_classes, labels)``.

    Args:
        num_classes: An int >= 2 (numpy ints too), or None to infer it from ``labels``.
        labels: Optional sequence of distinct, non-empty class names.

    Raises:
        InvalidArgumentError: A missing, too small or inconsistent number of classes.
        InvalidArgumentTypeError: A non-integer ``num_classes`` or non-string labels.

    Examples:
        >>> import numpy as np
        >>> from tfx_textzoo._checks import check_classes
        >>> check_classes(np.int64(3), None)
        (3, None)
        >>> check_classes(None, ("neg", "pos"))
        (2, ['neg', 'pos'])
    """
    if labels is not None:
        if isinstance(labels, str | bytes) or not isinstance(labels, Iterable):
            raise InvalidArgumentTypeError(
                "labels", labels, "a list of class names", f"got a {type(labels).__name__}"
            )
        labels = list(labels)
        bad = [x for x in labels if not isinstance(x, str) or not x.strip()]
        if bad:
            raise InvalidArgumentTypeError(
                "labels", labels, "non-empty strings", f"these are not: {bad[:5]!r}"
            )
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise InvalidArgumentError("labels", labels, "distinct", f"repeated: {dupes}")
    if num_classes is None:
        if labels is None:
            raise InvalidArgumentError(
                "num_classes",
                None,
                "given",
                "Pass num_classes=N (the number of classes, >= 2) or labels=[...] "
                "(the class names) so the classification head can be built",
            )
        if len(labels) < 2:
            raise InvalidArgumentError(
                "labels",
                labels,
                "at least 2 class names",
                "a classifier needs >= 2 classes (use 2 for binary tasks)",
            )
        return len(labels), labels
    if not is_int(num_classes):
        raise InvalidArgumentTypeError(
            "num_classes", num_classes, "an int >= 2", f"got a {type(num_classes).__name__}"
        )
    if num_classes < 2:
        raise InvalidArgumentError(
            "num_classes",
            int(num_classes),
            ">= 2",
            "a classifier needs at least two classes (use 2 for binary tasks)",
        )
    if labels is not None and len(labels) != num_classes:
        raise InvalidArgumentError(
            "num_classes",
            int(num_classes),
            f"the number of labels ({len(labels)})",
            f"num_classes={int(num_classes)} but {len(labels)} labels were given ({labels}); "
            "they must agree (or pass only labels=)",
        )
    return int(num_classes), labels


def align_labels(data: Any, model_labels: Sequence[str] | None, what: str = "data") -> Any:
    """Map a dataset's label ids (or multi-label columns) onto the model's order, by name.

    ``finetune`` (its training and validation data) and ``evaluate`` call this one
    function, so a dataset whose classes are the model's in another order is trained and
    scored by name, never by position. Data without label names (ids, or names as
    labels, which are looked up by name later) is returned as is.

    Args:
        data: Anything with ``labels`` and ``label_names`` (a ``TextDataset``), or any
            other input (returned unchanged).
        model_labels: The model's class names (None: nothing to match).
        what: How to call the data in the message (``"train"``, ``"evaluate"``...).

    Returns:
        ``data``, or a copy whose labels are ids of ``model_labels``.

    Raises:
        tfx_textzoo.errors.LabelMismatchError: The data's classes are not the model's.

    Examples:
        >>> from tfx_textzoo._checks import align_labels
        >>> from tfx_textzoo.datasets import TextDataset
        >>> data = TextDataset(["good", "bad"], [0, 1], ["pos", "neg"])
        >>> aligned = align_labels(data, ["neg", "pos"])
        >>> aligned.labels.tolist(), aligned.label_names
        ([1, 0], ['neg', 'pos'])
        >>> tags = TextDataset(["a", "b"], [[1, 0, 0], [0, 1, 1]], ["x", "y", "z"])
        >>> align_labels(tags, ["z", "x", "y"]).labels.tolist()
        [[0, 1, 0], [1, 0, 1]]
    """
    names = getattr(data, "label_names", None)
    if not (names and model_labels and hasattr(data, "labels")):
        return data
    names, model_labels = list(names), list(model_labels)
    if names == model_labels:
        return data
    if set(names) != set(model_labels) or len(names) != len(model_labels):
        raise LabelMismatchError(
            f"{what}: the data's label names {names} are not the model's {model_labels}. "
            "Load the model with labels=data.label_names (and fine-tune it), or use data "
            "with the model's classes."
        )
    remap = np.array([model_labels.index(n) for n in names], dtype="int32")
    labels = np.asarray(data.labels)
    if labels.ndim == 2:  # multi-label 0/1 columns: column i moves to the model's remap[i]
        moved = np.zeros_like(labels)
        moved[:, remap] = labels
        labels = moved
    else:
        labels = remap[labels.astype("int64")]
    if dataclasses.is_dataclass(data):
        return dataclasses.replace(data, labels=labels, label_names=model_labels)
    copy = type(data).__new__(type(data))
    copy.__dict__.update(vars(data), labels=labels, label_names=model_labels)
    return copy


def text_list(texts: Any, what: str = "predict", text_column: Any = None) -> list[str]:
    """Return the texts to predict as a list of non-empty strings, or say what is wrong.

    Accepted: a 1-D collection of strings (a list, a tuple, a 1-D array or tensor, a
    pandas Series, a ``TextDataset``), or a DataFrame / Hugging Face dataset together
    with ``text_column=`` (several columns are joined with a space). Anything else (a
    DataFrame without ``text_column``, a 2-D array) is refused: it would be flattened
    and every cell, labels included, predicted as a text.

    Args:
        texts: The texts.
        what: How to call them in messages.
        text_column: The column(s) holding the text of a DataFrame / HF dataset.

    Raises:
        InvalidArgumentTypeError: A single string, an unsupported type, a table without
            ``text_column``, ``text_column`` for something that has no columns.
        InvalidArgumentError: An array of more than one dimension.
        TypeError / ValueError: Non-string or empty texts (from ``check_text_list``).

    Examples:
        >>> import numpy as np
        >>> from tfx_textzoo._checks import text_list
        >>> text_list(np.array(["a", "b"]))
        ['a', 'b']
        >>> text_list(np.array([["a", "b"]]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentError: texts must be a 1-D ...shape (1, 2)...
    """
    from tfx_textzoo.datasets import check_text_list

    text_column = check_columns("text_column", text_column)
    if isinstance(texts, str | bytes):
        raise InvalidArgumentTypeError(
            "texts",
            texts,
            "a sequence of strings",
            f"{what}: expected a sequence of strings, got a single {type(texts)}",
        )
    columns = _columns(texts)
    if columns is not None:
        return check_text_list(_join_columns(texts, columns, text_column), what, unit="rows")
    if text_column is not None:
        raise InvalidArgumentTypeError(
            "text_column",
            text_column,
            "None unless texts is a DataFrame or a Hugging Face dataset",
            f"texts is a {type(texts).__name__}, which has no columns",
        )
    if hasattr(texts, "texts") and hasattr(texts, "labels"):  # a TextDataset
        texts = texts.texts
    if hasattr(texts, "numpy") and callable(texts.numpy):  # a tf.Tensor
        texts = texts.numpy()
    if isinstance(texts, list | tuple):
        items = list(texts)
    elif hasattr(texts, "__array__") or isinstance(texts, np.ndarray):
        array = np.asarray(texts, dtype=object)
        if array.ndim != 1:
            raise InvalidArgumentError(
                "texts",
                f"an array of shape {array.shape}",
                "a 1-D collection of strings (a list, a 1-D array, a pandas Series)",
                "pass one column of it (e.g. texts[:, 0]), or a DataFrame with text_column=",
            )
        items = array.tolist()
    elif isinstance(texts, Iterable) and not isinstance(texts, Mapping):
        items = list(texts)
    else:
        raise InvalidArgumentTypeError(
            "texts",
            type(texts).__name__,
            "a 1-D collection of strings, or a DataFrame with text_column=",
        )
    items = [t.decode("utf-8") if isinstance(t, bytes) else t for t in items]
    return check_text_list(items, what, unit="positions")


def _columns(data: Any) -> list[str] | None:
    """The column names of a pandas DataFrame or a Hugging Face dataset, else None."""
    if hasattr(data, "column_names") and not isinstance(data, np.ndarray):
        return list(data.column_names)
    if hasattr(data, "columns") and hasattr(data, "iloc"):
        return [str(c) for c in data.columns]
    return None


def _join_columns(data: Any, columns: list[str], text_column: Any) -> list:
    if text_column is None:
        raise InvalidArgumentTypeError(
            "text_column",
            None,
            "the text column's name (or a list of them) when texts is a table",
            f"its columns are {columns}; predicting every cell would treat labels and ids "
            "as texts. Pass text_column='...'",
        )
    wanted = [text_column] if isinstance(text_column, str) else list(text_column)
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InvalidArgumentError(
            "text_column", text_column, f"column(s) of the table {columns}", f"no {missing}"
        )
    if len(wanted) == 1:  # cells as they are: check_text_list names non-string ones
        return ["" if _missing(v) else v for v in data[wanted[0]]]
    parts = [[_cell(v) for v in data[c]] for c in wanted]
    return [" ".join(p for p in row if p) for row in zip(*parts, strict=True)]


def _cell(value: Any) -> str:
    if _missing(value):
        return ""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _missing(value: Any) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and value != value


def _range_text(minimum, maximum, open_min: bool, open_max: bool) -> str:
    if minimum is not None and maximum is not None:
        if isinstance(minimum, int) and isinstance(maximum, int) and not (open_min or open_max):
            return f" in {minimum}..{maximum}"
        return f" in {'(' if open_min else '['}{minimum}, {maximum}{')' if open_max else ']'}"
    if minimum is not None:
        return f" {'>' if open_min else '>='} {minimum}"
    if maximum is not None:
        return f" {'<' if open_max else '<='} {maximum}"
    return ""


def _from(source: str) -> str:
    return f"it comes from {source}; pass the argument to override it" if source else ""


def _plain(value: Any) -> Any:
    """Numpy scalars as Python ones, so messages read ``3``, not ``np.int64(3)``."""
    return value.item() if isinstance(value, np.generic) else value
