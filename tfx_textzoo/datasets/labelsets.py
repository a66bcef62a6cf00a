"""Multi-label labels in every accepted form -> one 0/1 matrix, checked.

[`as_examples`][tfx_textzoo.datasets.as_examples] (with ``multi_label=True``) reads the
labels through `label_matrix`. The accepted forms, for ``n`` texts and ``k`` labels:

- label sets: one list (tuple, set, array) per text of label names or integer ids
  (a string that is no label name but an integer, ``"15"``, is an id), possibly
  empty (``[["joy", "love"], [], ["anger"]]``, ``[[0, 15], [27]]``);
- a 0/1 matrix: a 2-D numpy array of shape ``(n, k)``, or a list of ``n`` lists of
  ``k`` values 0/1 (a list whose rows are all ``[0, 1]`` / ``[1, 0]`` with ``k = 2`` is
  ambiguous, and refused: pass a numpy array for a matrix);
- delimited strings (``"joy|love"``, ``""`` for none) with ``delimiter="|"``;
- single labels (one name or id per text): each is a set of one;
- named 0/1 columns (a DataFrame's ``label_column=[...]``, a multi-label
  [`TextDataset`][tfx_textzoo.datasets.TextDataset]): matched to the label names by name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from tfx_textzoo.datasets.textdataset import _missing

_SET_TYPES = (list, tuple, set, frozenset, np.ndarray)
_DELIMITERS = (",", "|", ";")
_INT = re.compile(r"[+-]?\d+")


def label_matrix(
    raw,
    label_names: Sequence[str] | None,
    num_labels: int | None,
    *,
    delimiter: str | None = None,
    columns: Sequence[str] | None = None,
    what: str = "data",
) -> tuple[np.ndarray, list[str] | None]:
    """Multi-label labels (any form above) -> ``(int8 0/1 matrix (n, k), label names)``.

    Args:
        raw: The labels.
        label_names: The label names (``k = len(label_names)``), or None.
        num_labels: ``k`` when there are no label names, or None.
        delimiter: Split string labels on it (``"|"``, ``","``).
        columns: The names of the columns of a 0/1 matrix ``raw`` (matched by name).
        what: How to call the data in messages.

    Returns:
        The matrix, column ``j`` for label ``j``; and the label names (``label_names``,
        else ``columns``, else None).

    Raises:
        ValueError: Unknown label names (listed with the known ones), ids out of range,
            a matrix of the wrong width or with values other than 0/1, a label set that
            repeats a label, a missing label, an ambiguous list of 0/1 rows.
        TypeError: Labels of an unsupported type.

    Examples:
        >>> from tfx_textzoo.datasets.labelsets import label_matrix
        >>> m, names = label_matrix([["b"], [], ["c", "a"]], ["a", "b", "c"], None)
        >>> m.tolist()
        [[0, 1, 0], [0, 0, 0], [1, 0, 1]]
        >>> label_matrix(["a|c", ""], ["a", "b", "c"], None, delimiter="|")[0].tolist()
        [[1, 0, 1], [0, 0, 0]]
    """
    names = None if label_names is None else [str(n) for n in label_names]
    k = len(names) if names is not None else num_labels
    if columns is not None:
        return _named_columns(np.asarray(raw), list(columns), names, k, what)
    if isinstance(raw, np.ndarray) and raw.ndim == 2 and raw.dtype != object:
        return _matrix(raw, k, what), names
    if hasattr(raw, "numpy") and callable(raw.numpy):  # a tf.Tensor
        raw = raw.numpy()
        if raw.ndim == 2:
            return _matrix(raw, k, what), names
    rows = list(raw)
    if not rows:
        return np.zeros((0, k or 0), "int8"), names
    is_set = [isinstance(r, _SET_TYPES) for r in rows]
    if all(is_set):
        rows = [list(r) for r in rows]
        if k is not None and _looks_like_matrix(rows, k):
            return _matrix(np.asarray(rows), k, what), names
        if k is not None and k > 2 and _all_zero_one_pairs(rows):
            raise ValueError(
                f"{what}: every label row is [0, 1] or [1, 0]: a 0/1 matrix of 2 columns, "
                f"but there are {k} labels (a matrix needs {k} columns, one per label). "
                "If every text really has labels 0 and 1, pass the names."
            )
        return _from_sets(rows, names, k, what), names
    if any(is_set):
        sets = [i for i, s in enumerate(is_set) if s][:5]
        singles = [i for i, s in enumerate(is_set) if not s][:5]
        raise ValueError(
            f"{what}: the labels mix label sets (lists, at rows {sets}) and single labels "
            f"(at rows {singles}). Give every text a list of labels ([] for none)."
        )
    return _from_sets(_split_scalars(rows, delimiter, what), names, k, what), names


def _looks_like_matrix(rows: list[list], k: int) -> bool:
    """Rows of exactly ``k`` values, all 0/1 (not names): a 0/1 matrix, not id sets."""
    if not all(len(r) == k for r in rows):
        return False
    if not all(_is_zero_one(v) for r in rows for v in r):
        return False
    if k == 2 and _all_zero_one_pairs(rows):
        raise ValueError(
            "the labels are ambiguous: every row is [0, 1] or [1, 0], which reads as label "
            "sets of ids (every text has both labels) or as a one-hot 0/1 matrix. Pass a "
            "numpy array (np.array(labels)) for a matrix, or label names for sets."
        )
    return True


def _all_zero_one_pairs(rows: list[list]) -> bool:
    return all(
        len(r) == 2 and all(_is_zero_one(v) for v in r) and sorted(int(v) for v in r) == [0, 1]
        for r in rows
    )


def _is_zero_one(value) -> bool:
    if isinstance(value, bool | np.bool_):
        return True
    if isinstance(value, int | np.integer | float | np.floating):
        return value in (0, 1)
    return False


def _matrix(array: np.ndarray, k: int | None, what: str) -> np.ndarray:
    if array.ndim != 2:
        raise ValueError(f"{what}: a label matrix must be 2-D (texts x labels), got {array.shape}")
    if k is not None and array.shape[1] != k:
        raise ValueError(
            f"{what}: the 0/1 label matrix has {array.shape[1]} columns but there are {k} "
            "labels: it needs one column per label, in the label order."
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{what}: a label matrix must hold 0 and 1, got dtype {array.dtype}")
    ok = np.isin(array, (0, 1))
    if not ok.all():
        bad = np.flatnonzero(~ok.all(axis=1))
        values = sorted({v for v in array[~ok].tolist()}, key=str)[:5]
        raise ValueError(
            f"{what}: a 0/1 label matrix may only hold 0 and 1; {bad.size} row(s) hold other "
            f"values ({values}), at rows {bad[:10].tolist()}."
        )
    return array.astype("int8")


def _named_columns(array, columns, names, k, what):
    matrix = _matrix(array.reshape(len(array), -1) if array.ndim != 2 else array, None, what)
    if matrix.shape[1] != len(columns):
        raise ValueError(f"{what}: {matrix.shape[1]} label columns but {len(columns)} names")
    if names is None:
        if k is not None and k != len(columns):
            raise ValueError(
                f"{what}: {len(columns)} label columns {columns} but the model has {k} labels."
            )
        return matrix, columns
    if columns == names:
        return matrix, names
    missing = [n for n in names if n not in columns]
    unknown = [c for c in columns if c not in names]
    if missing or unknown or len(set(columns)) != len(columns):
        raise ValueError(
            f"{what}: the label columns {columns} are not the labels {names}"
            + (f"; not among the labels: {unknown}" if unknown else "")
            + (f"; no column for: {missing}" if missing else "")
            + ". Name one 0/1 column per label (any order), or load the model with these labels."
        )
    out = np.zeros((len(matrix), len(names)), "int8")
    for i, column in enumerate(columns):
        out[:, names.index(column)] = matrix[:, i]
    return out, names


def _split_scalars(rows: list, delimiter: str | None, what: str) -> list[list]:
    """Single labels, or delimited strings, as label sets."""
    out, missing = [], []
    for i, value in enumerate(rows):
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if delimiter is not None and (_missing(value) or isinstance(value, str)):
            text = "" if _missing(value) else value
            out.append([p.strip() for p in text.split(delimiter) if p.strip()])
        elif _missing(value) or (isinstance(value, str) and not value.strip()):
            missing.append(i)
            out.append([])
        else:
            out.append([value])
    if missing:
        raise ValueError(
            f"{what}: {len(missing)} text(s) have no label, at rows {missing[:10]}. For texts "
            "without labels give label sets ([] for none), or delimited strings with "
            "label_delimiter= ('' for none)."
        )
    return out


def _from_sets(rows: list[list], names, k, what) -> np.ndarray:
    index = {} if names is None else {n: i for i, n in enumerate(names)}
    unknown: dict[str, int] = {}
    out_of_range: dict[int, int] = {}
    repeated, bad_type = [], []
    has_names = has_ids = False
    out = np.zeros((len(rows), k or 0), "int8")
    for r, items in enumerate(rows):
        ids = []
        for value in items:
            if isinstance(value, bytes):
                value = value.decode("utf-8")
            if isinstance(value, str):
                key = value.strip()
                if key in index:
                    ids.append(index[key])
                    continue
                if not _INT.fullmatch(key):
                    has_names = True
                    if names is not None:
                        unknown.setdefault(key, r)
                    continue
                value = int(key)  # an id written as a string ("0,15" split on ",")
            number = _as_id(value)
            if number is None:
                bad_type.append(r)
                continue
            has_ids = True
            if k is not None and not 0 <= number < k:
                out_of_range.setdefault(number, r)
                continue
            ids.append(number)
        if len(set(ids)) != len(ids):
            repeated.append(r)
        if k is not None:
            out[r, ids] = 1
    if bad_type:
        example = next(v for v in rows[bad_type[0]] if _as_id(v) is None and not isinstance(v, str))
        raise TypeError(
            f"{what}: labels must be names or integer ids, got {type(example).__name__} "
            f"({example!r}) at rows {bad_type[:10]}."
        )
    if has_names and names is None:
        first = next(v for row in rows for v in row if isinstance(v, str | bytes))
        raise ValueError(
            f"{what}: labels are label names ({first!r}...) but there are no label names to "
            "map them to: load the model with labels=[...] or pass integer ids."
        )
    if has_ids and k is None:
        raise ValueError(
            f"{what}: labels are integer ids, but the number of labels is unknown: pass "
            "label_names=[...] or num_classes=."
        )
    if unknown:
        shown = [f"{name!r} (row {row})" for name, row in list(unknown.items())[:10]]
        hint = ""
        if any(d in name for name in unknown for d in _DELIMITERS):
            hint = " Are these delimited label sets? Pass label_delimiter=',' (or '|')."
        raise ValueError(
            f"{what}: {len(unknown)} unknown label name(s): {', '.join(shown)}. The labels "
            f"are {names}.{hint}"
        )
    if out_of_range:
        shown = [f"{value} (row {row})" for value, row in list(out_of_range.items())[:10]]
        raise ValueError(
            f"{what}: label id(s) outside 0..{k - 1}: {', '.join(shown)}. There are {k} labels."
        )
    if repeated:
        hint = ""
        if all(_is_zero_one(v) for row in rows for v in row):
            hint = (
                f" Rows of 0s and 1s that are not {k} long read as label sets: is it a 0/1 "
                f"matrix of the wrong width? It needs {k} columns (one per label)."
            )
        raise ValueError(
            f"{what}: label set(s) with a repeated label, at rows {repeated[:10]}.{hint}"
        )
    return out


def _as_id(value) -> int | None:
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    return None
