"""Input adapters: any supported input -> checked texts (and pairs) and labels.

[`as_texts_and_labels`][tfx_textzoo.datasets.as_texts_and_labels] and the checks the
training, evaluation and command-line code share.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tfx_textzoo.datasets.textdataset import TextDataset, _missing
from tfx_textzoo.errors import SingleClassError


def as_texts_and_labels(
    data,
    *,
    label_names: Sequence[str] | None = None,
    num_classes: int | None = None,
    text_column: str | Sequence[str] | None = None,
    label_column: str | None = None,
    what: str = "data",
) -> tuple[np.ndarray, np.ndarray]:
    """Turn any supported input into ``(texts, labels)`` arrays, checking both.

    Accepted inputs: a [`TextDataset`][tfx_textzoo.datasets.TextDataset]; a ``(texts, labels)``
    tuple of lists or
    arrays; a ``tf.data.Dataset`` of ``(text, label)`` (batched or not); a pandas
    ``DataFrame`` or a Hugging Face ``datasets.Dataset`` with ``text_column`` (several
    columns are joined with a space) and ``label_column``. Labels may be integers or
    class names (mapped through ``label_names``).

    Args:
        data: The input.
        label_names: The model's class names, to map string labels.
        num_classes: Labels must be in ``0 .. num_classes - 1``.
        text_column: Column(s) holding the text (default: ``"text"`` or ``"sentence"``).
        label_column: Column holding the label (default: ``"label"``).
        what: How to call the input in error messages (``"train"``...).

    Returns:
        ``texts`` (object array of str) and ``labels`` (int32 array).

    Raises:
        TypeError: Unsupported input, or texts that are not strings.
        ValueError: Missing columns, empty texts (with their rows), unknown label names,
            labels out of range, or texts and labels of different lengths.

    Examples:
        >>> from tfx_textzoo.datasets import as_texts_and_labels
        >>> texts, labels = as_texts_and_labels((["good", "bad"], ["pos", "neg"]),
        ...                                     label_names=["neg", "pos"])
        >>> texts.tolist(), labels.tolist()
        (['good', 'bad'], [1, 0])
    """
    texts, labels = _split_input(data, text_column, label_column, what)
    texts = check_text_list(
        [t.decode("utf-8") if isinstance(t, bytes) else t for t in texts], what, unit="rows"
    )
    labels = list(labels)
    if len(labels) != len(texts):
        raise ValueError(f"{what}: {len(texts)} texts but {len(labels)} labels.")
    return np.array(texts, dtype=object), _label_ids(labels, label_names, num_classes, what)


def check_text_list(texts: list, what: str, unit: str = "rows") -> list[str]:
    """Return ``texts`` if it is a non-empty list of non-empty strings; else say what is not.

    Args:
        texts: The texts.
        what: How to call the input in error messages (``"train"``, ``"predict"``...).
        unit: How to call a text's index in error messages (``"rows"``, ``"positions"``).

    Raises:
        TypeError: Items that are not strings (their indices are listed).
        ValueError: No texts, or empty texts (counted, their indices listed).

    Examples:
        >>> from tfx_textzoo.datasets import check_text_list
        >>> check_text_list(["fine", " "], "predict", unit="positions")
        Traceback (most recent call last):
        ...
        ValueError: predict: 1 empty text(s), at positions [1]. Drop or fill them first.
    """
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(
            f"{what}: texts must be strings; {unit} {bad[:10]} hold "
            f"{type(texts[bad[0]]).__name__} (e.g. {texts[bad[0]]!r})."
        )
    if not texts:
        raise ValueError(f"{what}: there are no texts.")
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise ValueError(
            f"{what}: {len(empty)} empty text(s), at {unit} {empty[:10]}"
            f"{' ...' if len(empty) > 10 else ''}. Drop or fill them first."
        )
    return texts


def check_two_classes(labels, label_names: Sequence[str] | None, what: str = "the data") -> None:
    """Raise unless ``labels`` (integer ids) hold texts of at least two classes.

    Args:
        labels: The integer labels of the texts to train on.
        label_names: ``label_names[i]`` names class ``i`` (None: the ids name themselves).
        what: How to call the data in the message (a file name, ``"train"``...).

    Raises:
        tfx_textzoo.errors.SingleClassError: (a ``ValueError``) All texts have one class;
            the message names it.

    Examples:
        >>> from tfx_textzoo.datasets import check_two_classes
        >>> check_two_classes([1, 1, 1], ["neg", "pos"], "reviews.csv")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.SingleClassError: reviews.csv has one class, 'pos' (all 3 texts): ...
    """
    present = sorted({int(x) for x in np.asarray(labels).reshape(-1).tolist()})
    if len(present) >= 2:
        return
    names = list(label_names or [])
    name = names[present[0]] if present and present[0] < len(names) else str(present[:1])
    count = len(np.asarray(labels).reshape(-1))
    texts = f"all {count:,} texts" if count > 1 else f"{count} text"
    raise SingleClassError(
        f"{what} has one class, {name!r} ({texts}): a classifier needs texts of at least "
        "two classes."
    )


def _split_input(data, text_column, label_column, what):
    import tensorflow as tf

    if isinstance(data, TextDataset):
        return list(data.texts), list(data.labels)
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        if not (isinstance(spec, tuple) and len(spec) >= 2):
            raise TypeError(
                f"{what}: a tf.data.Dataset must yield (text, label) pairs, got elements {spec}."
            )
        texts, labels = [], []
        for element in data.as_numpy_iterator():
            x, y = element[0], element[1]
            texts.extend(np.asarray(x, dtype=object).reshape(-1).tolist())
            labels.extend(np.asarray(y).reshape(-1).tolist())
        return texts, labels
    if hasattr(data, "column_names") or hasattr(data, "columns"):  # HF Dataset / DataFrame
        columns = list(data.column_names if hasattr(data, "column_names") else data.columns)
        if text_column is None:
            text_column = next((c for c in ("text", "sentence") if c in columns), None)
        text_columns = [text_column] if isinstance(text_column, str) else list(text_column or [])
        label_column = label_column or "label"
        missing = [c for c in [*text_columns, label_column] if c not in columns]
        if not text_columns or missing:
            raise ValueError(
                f"{what}: column(s) {missing or ['text']} not found; the columns are "
                f"{columns}. Pass text_column='...' (or a list to join) and label_column='...'."
            )
        parts = [["" if _missing(v) else str(v) for v in data[c]] for c in text_columns]
        texts = [" ".join(p for p in row if p) for row in zip(*parts, strict=True)]
        return texts, list(data[label_column])
    if isinstance(data, tuple | list) and len(data) == 2:
        texts, labels = data
        if isinstance(texts, str):
            raise TypeError(f"{what}: expected (texts, labels) with a list of texts, got a str.")
        return list(np.asarray(texts, dtype=object).reshape(-1)), list(np.asarray(labels).ravel())
    raise TypeError(
        f"{what}: unsupported input {type(data).__name__}. Pass (texts, labels), a "
        "tfx_textzoo TextDataset, a tf.data.Dataset of (text, label), a pandas DataFrame or "
        "a Hugging Face datasets.Dataset."
    )


def _label_ids(labels, label_names, num_classes, what) -> np.ndarray:
    labels = [x.decode("utf-8") if isinstance(x, bytes) else x for x in labels]
    if any(isinstance(x, str) for x in labels):
        if not label_names:
            raise ValueError(
                f"{what}: labels are class names ({labels[0]!r}...) but the model has no "
                "label names: load it with labels=[...] or pass integer labels."
            )
        index = {name: i for i, name in enumerate(label_names)}
        unknown = sorted({str(x) for x in labels if x not in index})
        if unknown:
            raise ValueError(
                f"{what}: unknown label name(s) {unknown[:10]}; the model's labels are "
                f"{list(label_names)}."
            )
        return np.array([index[x] for x in labels], dtype="int32")
    array = np.asarray(labels)
    if array.dtype.kind == "f" and np.all(np.mod(array, 1) == 0):
        array = array.astype("int64")
    if array.dtype.kind not in "iub":
        raise TypeError(
            f"{what}: labels must be integers or class names, got {array.dtype} "
            f"(e.g. {labels[0]!r})."
        )
    if num_classes is not None:
        bad = np.flatnonzero((array < 0) | (array >= num_classes))
        if bad.size:
            raise ValueError(
                f"{what}: {bad.size} label(s) outside 0..{num_classes - 1}, at rows "
                f"{bad[:10].tolist()} (values {sorted(set(array[bad].tolist()))[:10]}). "
                f"The model has {num_classes} classes: load it with num_classes matching "
                "your data, or use 0-based labels."
            )
    return array.astype("int32")
