"""Input adapters: any supported input -> checked texts (and pairs) and labels.

[`as_examples`][tfx_textzoo.datasets.as_examples] (texts, text pairs, single labels or
label sets) for training and evaluation, [`as_inputs`][tfx_textzoo.datasets.as_inputs]
(texts or text pairs) for prediction, the older
[`as_texts_and_labels`][tfx_textzoo.datasets.as_texts_and_labels], and the checks the
training, evaluation and command-line code share.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tfx_textzoo.datasets.labelsets import _SET_TYPES, label_matrix
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
    if isinstance(data, TextDataset) and (data.multi_label or data.text_pairs is not None):
        kind = "text pairs" if data.text_pairs is not None else "label sets (multi-label)"
        raise ValueError(
            f"{what}: the dataset {data.name or ''} has {kind}, which as_texts_and_labels "
            "does not carry; use as_examples(...) (multi_label=True for label sets)."
        )
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

    Multi-label labels (a 0/1 matrix) must not be the same label set for every text (all
    empty, or all the same labels): there would be nothing to tell apart.

    Args:
        labels: The integer labels of the texts to train on, or a 0/1 matrix.
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
        >>> check_two_classes([[0, 1], [0, 1]], ["a", "b"], "tags")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.SingleClassError: tags: all 2 texts have the same labels, ['b']: ...
    """
    matrix = np.asarray(labels)
    if matrix.ndim == 2:
        if len(matrix) and (matrix == matrix[0]).all():
            names = list(label_names or [str(i) for i in range(matrix.shape[1])])
            same = [names[j] for j in np.flatnonzero(matrix[0])]
            texts = f"all {len(matrix):,} texts have" if len(matrix) > 1 else "its 1 text has"
            raise SingleClassError(
                f"{what}: {texts} the same labels, {same}: a multi-label classifier needs "
                "texts whose label sets differ."
            )
        return
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


class _ExampleFields(NamedTuple):
    texts: np.ndarray
    text_pairs: np.ndarray | None
    labels: np.ndarray


class Examples(_ExampleFields):
    """Checked examples ``(texts, text_pairs, labels)``, a named tuple.

    [`as_examples`][tfx_textzoo.datasets.as_examples] returns them.

    Attributes:
        texts: The texts (first texts of pairs), an object array of str.
        text_pairs: The second texts (an object array of str), or None.
        labels: int32 class ids ``(n,)``; or, multi-label, a float32 0/1 matrix
            ``(n, num_labels)``.
        label_names: What the label ids / columns mean, when known (the ``label_names``
            passed, else the data's own: a multi-label
            [`TextDataset`][tfx_textzoo.datasets.TextDataset]'s, or the names of the
            0/1 label columns); None otherwise. Not part of the tuple.
    """

    label_names: list[str] | None = None


def as_examples(
    data,
    *,
    multi_label: bool = False,
    label_names: Sequence[str] | None = None,
    num_classes: int | None = None,
    text_column: str | Sequence[str] | None = None,
    text_pair_column: str | Sequence[str] | None = None,
    label_column: str | Sequence[str] | None = None,
    label_delimiter: str | None = None,
    what: str = "data",
) -> Examples:
    """Turn any supported input into checked texts, text pairs and labels.

    Inputs: a [`TextDataset`][tfx_textzoo.datasets.TextDataset] (its pairs and label sets
    included); ``(texts, labels)``; ``((texts_a, texts_b), labels)`` (a tuple of two lists);
    ``([(a, b), ...], labels)``; a ``tf.data.Dataset`` of ``(text, label)`` or
    ``((a, b), label)`` (batched or not; multi-label: 0/1 vectors); a pandas DataFrame or
    a Hugging Face ``datasets.Dataset`` with ``text_column`` (a list is joined with a
    space into one text), optional ``text_pair_column`` and ``label_column``.

    Single-label labels are class ids or names, as
    [`as_texts_and_labels`][tfx_textzoo.datasets.as_texts_and_labels] takes them.
    Multi-label labels (``multi_label=True``) are label sets (a list of names or ids per
    text, possibly empty), a 0/1 matrix (a numpy array, or lists, of shape
    ``(n, num_labels)``), delimited strings (``label_delimiter="|"``), or, for a table,
    ``label_column=[...]``: one 0/1 column per label (matched to ``label_names`` by
    name; their names are the label names when there are none). See
    `tfx_textzoo.datasets.labelsets` for the exact rules.

    Args:
        data: The input.
        multi_label: Each text has a set of labels.
        label_names: The model's label names (to map names; multi-label: the columns).
        num_classes: The number of classes / labels, when there are no label names.
        text_column: Column(s) holding the text (default ``"text"`` or ``"sentence"``).
        text_pair_column: Column(s) holding the second text of each pair.
        label_column: The label column (default ``"label"``; multi-label also
            ``"labels"``), or a list of 0/1 columns, one per label.
        label_delimiter: Multi-label string labels are split on it (``"|"``, ``","``).
        what: How to call the input in error messages (``"train"``...).

    Returns:
        [`Examples`][tfx_textzoo.datasets.Examples] ``(texts, text_pairs, labels)``.

    Raises:
        TypeError: Unsupported input, texts that are not strings.
        ValueError: Missing columns, empty texts or pair sides (rows named), pairs mixed
            with single texts, pair lists of unequal lengths, unknown label names (listed
            with the known ones), ids out of range, a label matrix of the wrong width or
            with values other than 0/1, texts and labels of different lengths.

    Examples:
        >>> from tfx_textzoo.datasets import as_examples
        >>> ex = as_examples(([("A man sleeps.", "He is awake."), ("Rain.", "Wet.")], [1, 0]))
        >>> ex.texts.tolist(), ex.text_pairs.tolist(), ex.labels.tolist()
        (['A man sleeps.', 'Rain.'], ['He is awake.', 'Wet.'], [1, 0])
        >>> ex = as_examples((["great fun", "meh"], [["joy", "fun"], []]), multi_label=True,
        ...                  label_names=["anger", "fun", "joy"])
        >>> ex.labels.tolist()
        [[0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    if label_delimiter is not None and not multi_label:
        raise ValueError(
            f"{what}: label_delimiter= splits strings into label sets; it needs "
            "multi_label=True (a multi-label model)."
        )
    if label_delimiter is not None and (
        not isinstance(label_delimiter, str) or not label_delimiter
    ):
        raise ValueError(f"label_delimiter must be a non-empty str, got {label_delimiter!r}")
    texts, pairs, raw, columns = _split_examples(
        data, text_column, text_pair_column, label_column, multi_label, what
    )
    texts, pairs = _checked_texts(texts, pairs, what, "rows")
    names = None if label_names is None else [str(n) for n in label_names]
    if names is None and num_classes is None and isinstance(data, TextDataset):
        names = list(data.label_names) or None
    if multi_label:
        matrix, names = label_matrix(
            raw, names, num_classes, delimiter=label_delimiter, columns=columns, what=what
        )
        labels = matrix.astype("float32")
    else:
        if columns is not None or _looks_multi_label(raw):
            raise ValueError(
                f"{what}: the labels are label sets or a 0/1 matrix (several labels per "
                "text), but this is single-label: pass multi_label=True (load the model "
                "with multi_label=True)."
            )
        labels = _label_ids(_flat_labels(raw), names, num_classes, what)
    if len(labels) != len(texts):
        raise ValueError(f"{what}: {len(texts)} texts but {len(labels)} labels.")
    out = Examples(
        np.array(texts, dtype=object),
        None if pairs is None else np.array(pairs, dtype=object),
        labels,
    )
    out.label_names = names
    return out


def as_inputs(
    data,
    *,
    text_column: str | Sequence[str] | None = None,
    text_pair_column: str | Sequence[str] | None = None,
    text_pair=None,
    what: str = "predict",
) -> tuple[list[str], list[str] | None]:
    """The texts (and second texts of pairs) to predict, checked.

    Accepted: a str; a list, tuple, 1-D array or pandas Series of str; a list of
    ``(a, b)`` tuples (pairs); a [`TextDataset`][tfx_textzoo.datasets.TextDataset] (its
    pairs too); a DataFrame / Hugging Face dataset with ``text_column`` (a list is
    joined with a space) and optional ``text_pair_column``. ``text_pair=`` gives the
    second texts separately (a str for a str, else a list as long as the texts).

    Args:
        data: The texts.
        text_column: The text column(s) of a table.
        text_pair_column: The column(s) of the second texts of a table.
        text_pair: The second texts, for ``data`` given as a str or a list of str.
        what: How to call the input in messages.

    Returns:
        ``(texts, pairs)``: lists of str; ``pairs`` is None for single texts.

    Raises:
        TypeError / tfx_textzoo.errors.InvalidArgumentTypeError: Unsupported input, or
            texts that are not strings.
        ValueError / tfx_textzoo.errors.InvalidArgumentError: Empty texts or pair sides
            (positions named), pairs mixed with single texts, unequal lengths, a 2-D array.

    Examples:
        >>> from tfx_textzoo.datasets import as_inputs
        >>> as_inputs("A man sleeps.", text_pair="He is awake.")
        (['A man sleeps.'], ['He is awake.'])
        >>> as_inputs([("A man sleeps.", "He is awake."), ("Rain.", "Wet.")])
        (['A man sleeps.', 'Rain.'], ['He is awake.', 'Wet.'])
        >>> as_inputs(["fine", "great"])
        (['fine', 'great'], None)
    """
    from tfx_textzoo import _checks

    columns = _checks._columns(data)
    if columns is None and text_pair_column is not None:
        raise TypeError(
            f"{what}: text_pair_column= names a column of a table (a DataFrame or a Hugging "
            f"Face dataset), but the texts are a {type(data).__name__}; pass "
            "text_pair=[...] or a list of (a, b) tuples."
        )
    if text_pair is not None and (columns is not None or isinstance(data, TextDataset)):
        raise TypeError(
            f"{what}: text_pair= is for texts given as a str or a list; "
            + ("use text_pair_column='...'" if columns is not None else "a TextDataset")
            + (" for a table." if columns is not None else " carries its own text_pairs.")
        )
    if isinstance(data, str | bytes):
        if text_column is not None:
            raise TypeError(f"{what}: text_column= is for tables; the input is one str.")
        pairs = None
        if text_pair is not None:
            if not isinstance(text_pair, str | bytes):
                raise TypeError(
                    f"{what}: one text takes one text_pair str, got a {type(text_pair).__name__}."
                )
            pairs = [text_pair]
        texts, pairs = _checked_texts([data], pairs, what, "positions")
        return texts, pairs
    if isinstance(data, TextDataset):
        return _checked_texts(list(data.texts), data.text_pairs, what, "positions")
    if columns is not None:
        texts = _checks.text_list(data, what, text_column=text_column)
        if text_pair_column is None:
            return texts, None
        pairs = _checks._join_columns(
            data, columns, _checks.check_columns("text_pair_column", text_pair_column)
        )
        return _checked_texts(texts, pairs, what, "rows")
    if text_column is not None:
        return _checks.text_list(data, what, text_column=text_column), None  # refuses it
    if _is_two_lists(data):
        raise TypeError(
            f"{what}: got a tuple of two lists. For text pairs pass a list of (a, b) "
            "tuples, or the first texts with text_pair=[second texts]."
        )
    if isinstance(data, list | tuple) and any(isinstance(x, tuple | list) for x in data):
        texts, pairs = _pair_rows(list(data), what, "positions")
        return _checked_texts(texts, pairs, what, "positions")
    texts = _checks.text_list(data, what)
    if text_pair is None:
        return texts, None
    if isinstance(text_pair, str | bytes):
        raise TypeError(f"{what}: text_pair= must be a list (one per text), got a str.")
    return _checked_texts(texts, _checks.text_list(text_pair, what), what, "positions")


def check_text_pairs(texts: list, pairs: list, what: str, unit: str = "rows"):
    """Return ``(texts, pairs)`` if both are lists of non-empty strings of equal length.

    Args:
        texts: The first texts.
        pairs: The second texts.
        what: How to call the input in messages.
        unit: How to call an index in messages (``"rows"``, ``"positions"``).

    Raises:
        TypeError: Items that are not strings (their indices listed).
        ValueError: Lists of different lengths, no texts, or pairs with an empty side
            (their indices and sides listed).

    Examples:
        >>> from tfx_textzoo.datasets import check_text_pairs
        >>> check_text_pairs(["A man sleeps.", "Rain."], ["He is awake.", " "], "train")
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: train: 1 text pair(s) with an empty side, at rows [1 (second text)]. ...
    """
    if len(texts) != len(pairs):
        raise ValueError(
            f"{what}: {len(texts)} first texts but {len(pairs)} second texts: text pairs need "
            "one of each per row."
        )
    for side, items in (("first", texts), ("second", pairs)):
        bad = [i for i, t in enumerate(items) if not isinstance(t, str)]
        if bad:
            raise TypeError(
                f"{what}: texts must be strings; the {side} texts at {unit} {bad[:10]} hold "
                f"{type(items[bad[0]]).__name__} (e.g. {items[bad[0]]!r})."
            )
    if not texts:
        raise ValueError(f"{what}: there are no texts.")
    empty = []
    for i, (a, b) in enumerate(zip(texts, pairs, strict=True)):
        if not a.strip() or not b.strip():
            side = (
                "both texts"
                if not a.strip() and not b.strip()
                else ("first text" if not a.strip() else "second text")
            )
            empty.append(f"{i} ({side})")
    if empty:
        raise ValueError(
            f"{what}: {len(empty)} text pair(s) with an empty side, at {unit} "
            f"[{', '.join(empty[:10])}]{' ...' if len(empty) > 10 else ''}. Drop or fill them "
            "first."
        )
    return texts, pairs


def _checked_texts(texts, pairs, what, unit):
    texts = [t.decode("utf-8") if isinstance(t, bytes) else t for t in texts]
    if pairs is None:
        return check_text_list(texts, what, unit=unit), None
    pairs = [t.decode("utf-8") if isinstance(t, bytes) else t for t in pairs]
    return check_text_pairs(texts, pairs, what, unit)


def _is_two_lists(value) -> bool:
    """``(list_a, list_b)``: a tuple of two non-str sequences (the columns of pairs)."""
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and all(
            not isinstance(v, str | bytes | tuple)
            and (isinstance(v, list | np.ndarray) or hasattr(v, "iloc"))
            for v in value
        )
    )


def _pair_rows(items: list, what: str, unit: str) -> tuple[list, list]:
    """A list of ``(a, b)`` items -> ``(texts, pairs)``; single texts among them are refused."""
    is_pair = [isinstance(x, tuple | list) and len(x) == 2 for x in items]
    if not all(is_pair):
        singles = [i for i, p in enumerate(is_pair) if not p]
        pairs_at = [i for i, p in enumerate(is_pair) if p]
        odd = [i for i in singles if isinstance(items[i], tuple | list)]
        if odd:
            raise ValueError(
                f"{what}: a text pair is a 2-tuple (a, b); {unit} {odd[:10]} hold "
                f"{len(items[odd[0]])} items."
            )
        raise ValueError(
            f"{what}: pairs and single texts are mixed: {unit} {pairs_at[:10]} are (a, b) "
            f"pairs, {unit} {singles[:10]} single texts. Give every row two texts, or none."
        )
    return [x[0] for x in items], [x[1] for x in items]


def _split_examples(data, text_column, text_pair_column, label_column, multi_label, what):
    """``(texts, pairs | None, raw labels, label column names | None)`` of any input."""
    if isinstance(data, TextDataset):
        if data.multi_label:
            if not multi_label:
                raise ValueError(
                    f"{what}: the dataset {data.name or ''} is multi-label (a set of labels "
                    "per text), but this is single-label: pass multi_label=True (load the "
                    "model with multi_label=True)."
                )
            return list(data.texts), data.text_pairs, data.labels, list(data.label_names)
        return list(data.texts), data.text_pairs, data.labels.tolist(), None
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(data, tf.data.Dataset):
        return _split_tf_dataset(data, multi_label, what)
    if hasattr(data, "column_names") or hasattr(data, "columns"):  # HF Dataset / DataFrame
        return _split_table(data, text_column, text_pair_column, label_column, multi_label, what)
    if isinstance(data, tuple | list) and len(data) == 2:
        texts, labels = data
        if isinstance(texts, str | bytes):
            raise TypeError(f"{what}: expected (texts, labels) with a list of texts, got a str.")
        if _is_two_lists(texts):
            a, b = (list(np.asarray(t, dtype=object).reshape(-1)) for t in texts)
            if len(a) != len(b):
                raise ValueError(
                    f"{what}: the two lists of a text pair have {len(a)} and {len(b)} texts; "
                    "they need one second text per first text."
                )
            texts, pairs = a, b
        elif (
            isinstance(texts, tuple)
            and len(texts) == 2
            and all(isinstance(t, tuple) for t in texts)
        ):
            raise ValueError(
                f"{what}: ambiguous texts: a tuple of two tuples reads as two (a, b) pairs or "
                "as the two columns of pairs. Pass a list of (a, b) tuples, or a tuple of two "
                "lists."
            )
        elif isinstance(texts, list | tuple) and any(isinstance(x, tuple | list) for x in texts):
            texts, pairs = _pair_rows(list(texts), what, "rows")
        else:
            texts, pairs = list(np.asarray(texts, dtype=object).reshape(-1)), None
        if hasattr(labels, "numpy") and callable(labels.numpy):
            labels = labels.numpy()
        if hasattr(labels, "to_numpy") and not isinstance(labels, np.ndarray):
            labels = list(labels)  # a pandas Series: its cells (label sets stay lists)
        return texts, pairs, labels, None
    raise TypeError(
        f"{what}: unsupported input {type(data).__name__}. Pass (texts, labels), "
        "((texts_a, texts_b), labels), a tfx_textzoo TextDataset, a tf.data.Dataset of "
        "(text, label), a pandas DataFrame or a Hugging Face datasets.Dataset."
    )


def _split_tf_dataset(data, multi_label, what):
    spec = data.element_spec
    if not (isinstance(spec, tuple) and len(spec) >= 2):
        raise TypeError(
            f"{what}: a tf.data.Dataset must yield (text, label) or ((a, b), label), got "
            f"elements {spec}."
        )
    paired = isinstance(spec[0], tuple | list)
    if paired and len(spec[0]) != 2:
        raise TypeError(f"{what}: a pair is (a, b), got {len(spec[0])} text inputs: {spec[0]}.")
    rank = len(spec[1].shape) if spec[1].shape.rank is not None else None
    texts, pairs, labels = [], [], []
    for element in data.as_numpy_iterator():
        x, y = element[0], element[1]
        if paired:
            texts.extend(np.asarray(x[0], dtype=object).reshape(-1).tolist())
            pairs.extend(np.asarray(x[1], dtype=object).reshape(-1).tolist())
        else:
            texts.extend(np.asarray(x, dtype=object).reshape(-1).tolist())
        y = np.asarray(y)
        if multi_label and rank in (1, 2):  # 0/1 vectors, one per text
            labels.extend(y.reshape(-1, y.shape[-1]))
        else:  # class ids (single labels: sets of one when multi_label)
            labels.extend(y.reshape(-1).tolist())
    if multi_label and rank is not None and rank > 2:
        raise ValueError(
            f"{what}: multi-label tf.data labels are 0/1 vectors (one per text), got label "
            f"shape {spec[1].shape}."
        )
    if multi_label and rank in (1, 2):
        k = len(labels[0]) if labels else 0
        return texts, pairs if paired else None, np.asarray(labels).reshape(-1, k), None
    return texts, pairs if paired else None, labels, None


def _split_table(data, text_column, text_pair_column, label_column, multi_label, what):
    columns = list(data.column_names if hasattr(data, "column_names") else data.columns)
    if text_column is None:
        text_column = next((c for c in ("text", "sentence") if c in columns), None)
    text_columns = [text_column] if isinstance(text_column, str) else list(text_column or [])
    pair_columns = (
        []
        if text_pair_column is None
        else [text_pair_column]
        if isinstance(text_pair_column, str)
        else list(text_pair_column)
    )
    if label_column is None:
        fallback = "labels" if multi_label and "label" not in columns else "label"
        label_column = fallback
    label_columns = [label_column] if isinstance(label_column, str) else list(label_column)
    if not isinstance(label_column, str) and not multi_label:
        raise ValueError(
            f"{what}: label_column={label_column!r} is a list: one 0/1 column per label is "
            "multi-label; pass multi_label=True (a multi-label model), or one column."
        )
    missing = [c for c in [*text_columns, *pair_columns, *label_columns] if c not in columns]
    if not text_columns or missing:
        hint = ""
        if {"sentence1", "sentence2"} <= set(columns) and not pair_columns:
            hint = " For sentence pairs: text_column='sentence1', text_pair_column='sentence2'."
        raise ValueError(
            f"{what}: column(s) {missing or ['text']} not found; the columns are "
            f"{columns}. Pass text_column='...' (or a list to join), text_pair_column='...' "
            f"for pairs and label_column='...'.{hint}"
        )
    texts = _joined(data, text_columns)
    pairs = _joined(data, pair_columns) if pair_columns else None
    if isinstance(label_column, str):
        return texts, pairs, list(data[label_column]), None
    matrix = np.column_stack([np.asarray(list(data[c])) for c in label_columns])
    return texts, pairs, matrix, [str(c) for c in label_columns]


def _joined(data, columns: list) -> list[str]:
    parts = [["" if _missing(v) else str(v) for v in data[c]] for c in columns]
    return [" ".join(p for p in row if p) for row in zip(*parts, strict=True)]


def _looks_multi_label(raw) -> bool:
    if isinstance(raw, np.ndarray):
        if raw.ndim == 2:
            return raw.shape[1] != 1
        return raw.dtype == object and any(isinstance(x, _SET_TYPES) for x in raw.reshape(-1))
    return any(isinstance(x, _SET_TYPES) and np.size(x) != 1 for x in raw)


def _flat_labels(raw) -> list:
    if isinstance(raw, np.ndarray):
        return raw.reshape(-1).tolist() if raw.dtype != object else list(raw.reshape(-1))
    return [next(iter(x)) if isinstance(x, _SET_TYPES) else x for x in raw]
