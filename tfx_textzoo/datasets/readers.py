"""File readers: csv / tsv / parquet, the named datasets' own formats, and the row checks.

[`from_csv`][tfx_textzoo.datasets.from_csv], [`from_parquet`][tfx_textzoo.datasets.from_parquet]
and the per-format readers; every reader collects its rows in ``_Rows``, which checks each
row and raises or skips bad ones (``on_bad_rows``).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from tfx_textzoo.datasets.catalog import (
    AG_NEWS_LABELS,
    DATASETS,
    GOEMOTIONS_LABELS,
    TREC_LABELS,
    DatasetSpec,
)
from tfx_textzoo.datasets.textdataset import (
    BadRowsError,
    BadRowsWarning,
    DataEncodingError,
    DataFormatError,
    MissingColumnsError,
    SkippedRow,
    TextDataset,
    _check_on_bad_rows,
    _missing,
)

_EXTRA = 'pip install "tensorflow-datasets>=4.9" "pyarrow>=15", the [datasets] extra'


def from_csv(
    path: str | os.PathLike,
    text_columns: str | int | Sequence[str | int] = "text",
    label_column: str | int = "label",
    *,
    text_pair_columns: str | int | Sequence[str | int] | None = None,
    label_delimiter: str | None = None,
    label_names: Sequence[str] | None = None,
    header: bool | str = "auto",
    delimiter: str = ",",
    encoding: str = "utf-8",
    quoting: int = csv.QUOTE_MINIMAL,
    one_based: bool = False,
    on_bad_rows: str = "raise",
    name: str | None = None,
) -> TextDataset:
    r"""Read a csv (or tsv) file of texts and labels.

    Args:
        path: The file.
        text_columns: The text column, or several (joined with a space): names, or
            0-based indices for a file without a header.
        label_column: The label column (name or index).
        text_pair_columns: The column(s) of the second text of sentence pairs (then the
            dataset's ``text_pairs``); None for single texts.
        label_delimiter: Multi-label: each label cell holds a set of labels joined by it
            (``"joy|love"``, ``"0,15"``; an empty cell is the empty set); the labels become
            a 0/1 matrix.
        label_names: The class names. Labels may then be ids or these names. Without it,
            integer labels name themselves (``"0"``, ``"1"``...) and string labels become
            the sorted set of labels found.
        header: ``True``, ``False`` or ``"auto"``: a header when columns are given by name,
            else when the first row's label is not an integer but the second row's is.
        delimiter: ``","``, ``"\t"``...
        encoding: The file's encoding (a UTF-8 byte-order mark is skipped).
        quoting: A ``csv.QUOTE_*`` constant (``csv.QUOTE_NONE`` for GLUE-style tsv).
        one_based: Integer labels start at 1 (as in the Zhang et al. csv files).
        on_bad_rows: ``"raise"`` or ``"skip"`` (see [`load`][tfx_textzoo.datasets.load]).
        name: The dataset's name (default: the path).

    Returns:
        A [`TextDataset`][tfx_textzoo.datasets.TextDataset] with 0-based labels.

    Raises:
        DataFormatError: Missing columns (the file's are listed), wrong column counts,
            empty texts, bad or out-of-range labels, bytes invalid in ``encoding``.

    Examples:
        >>> import tempfile, pathlib
        >>> from tfx_textzoo.datasets import from_csv
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "news.csv"
        >>> _ = path.write_text("class,title,description\n2,Goal!,A late winner.\n"
        ...                     "1,Vote,Polls open.\n")
        >>> data = from_csv(path, text_columns=["title", "description"], label_column="class",
        ...                 label_names=["World", "Sports"], one_based=True)
        >>> data.texts, data.labels.tolist()
        (['Goal! A late winner.', 'Vote Polls open.'], [1, 0])
        >>> _ = path.write_text("text,tags\nsunny beach,travel|nature\nmeeting,\n")
        >>> tags = from_csv(path, label_column="tags", label_delimiter="|")
        >>> tags.label_names, tags.labels.tolist(), tags.label_sets()
        (['nature', 'travel'], [[1, 1], [0, 0]], [['nature', 'travel'], []])
    """
    if label_delimiter is not None and (
        not isinstance(label_delimiter, str) or not label_delimiter
    ):
        raise ValueError(f"label_delimiter must be a non-empty str, got {label_delimiter!r}")
    return _read_csv(
        Path(path),
        _as_list(text_columns),
        label_column,
        pair_columns=[] if text_pair_columns is None else _as_list(text_pair_columns),
        label_delimiter=label_delimiter,
        label_names=label_names,
        header=header,
        delimiter=delimiter,
        encoding=encoding,
        quoting=quoting,
        one_based=one_based,
        on_bad_rows=on_bad_rows,
        name=name,
    )


def from_parquet(
    path: str | os.PathLike | Sequence[str | os.PathLike],
    text_columns: str | Sequence[str] = "text",
    label_column: str = "label",
    *,
    text_pair_columns: str | Sequence[str] | None = None,
    label_names: Sequence[str] | None = None,
    one_based: bool = False,
    on_bad_rows: str = "raise",
    name: str | None = None,
) -> TextDataset:
    """Read parquet file(s) of texts and labels (e.g. a Hugging Face dataset's files).

    Args:
        path: A file, a list of files, or a directory (all its ``*.parquet``, sorted).
        text_columns: The text column(s), joined with a space.
        label_column: The label column; a column of lists (label sets) makes the dataset
            multi-label.
        text_pair_columns: The column(s) of the second text of sentence pairs.
        label_names: The class names. Without it, the class names a Hugging Face file
            records (``ClassLabel``) are used; else as [`from_csv`][tfx_textzoo.datasets.from_csv].
            With it, labels of
            a file that records other-ordered class names are mapped by name.
        one_based: Integer labels start at 1.
        on_bad_rows: ``"raise"`` or ``"skip"`` (see [`load`][tfx_textzoo.datasets.load]).
        name: The dataset's name (default: the path).

    Returns:
        A [`TextDataset`][tfx_textzoo.datasets.TextDataset] with 0-based labels.

    Raises:
        DataFormatError: As [`from_csv`][tfx_textzoo.datasets.from_csv].
        ImportError: pyarrow is not installed.

    Examples:
        >>> import tempfile, pathlib
        >>> import pyarrow as pa, pyarrow.parquet as pq
        >>> from tfx_textzoo.datasets import from_parquet
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.parquet"
        >>> pq.write_table(pa.table({"text": ["good", "bad"], "label": [1, 0]}), path)
        >>> from_parquet(path, label_names=["neg", "pos"]).head(1)
        [{'text': 'good', 'label': 1, 'label_name': 'pos'}]
    """
    if isinstance(path, str | os.PathLike):
        root = Path(path)
        files = sorted(root.rglob("*.parquet")) if root.is_dir() else [root]
        where = str(root)
    else:
        files = [Path(p) for p in path]
        where = str(files[0].parent) if files else ""
    if not files:
        raise FileNotFoundError(f"no parquet files in {path}")
    return _read_parquet(
        files,
        _as_list(text_columns),
        label_column,
        pair_columns=[] if text_pair_columns is None else _as_list(text_pair_columns),
        label_names=label_names,
        one_based=one_based,
        on_bad_rows=on_bad_rows,
        name=name or where,
        where=where,
    )


def read_ag_news_csv(path: str | Path, label_names: list[str] | None = None) -> TextDataset:
    """Read a csv in the AG News format (``class,title,description``, classes 1-based).

    Title and description are joined with a space (as the lesson does); the format's
    backslash line-break escapes become spaces. A header row is detected and skipped.

    Args:
        path: The csv file.
        label_names: Names of classes 1..N (default: AG News' four).

    Returns:
        A [`TextDataset`][tfx_textzoo.datasets.TextDataset] with 0-based labels.

    Raises:
        DataFormatError: (a ``ValueError``) Rows with the wrong number of columns, a bad
            class or an empty text; the file and lines are named.

    Examples:
        >>> from tfx_textzoo.datasets import read_ag_news_csv, sample_path
        >>> data = read_ag_news_csv(sample_path("test"))
        >>> len(data), data.label_names[0]
        (1000, 'World')
    """
    spec = DATASETS["ag_news"]
    data = _read_zhang_csv(Path(path), spec, list(label_names or AG_NEWS_LABELS), "raise")
    data.name = data.source = str(path)
    return data


def read_sst2_tsv(path: str | Path, *, on_bad_rows: str = "raise") -> TextDataset:
    r"""Read a GLUE SST-2 ``.tsv`` (header ``sentence<TAB>label``, 0 = negative, 1 = positive).

    Quoting is off (sentences contain quote characters); whitespace is normalised.
    GLUE's own ``test.tsv`` (header ``index<TAB>sentence``) has no labels and is refused.

    Args:
        path: The ``train.tsv``, ``dev.tsv`` or SentEval-labelled ``test.tsv``.
        on_bad_rows: ``"raise"`` or ``"skip"`` (see [`load`][tfx_textzoo.datasets.load]).

    Returns:
        A [`TextDataset`][tfx_textzoo.datasets.TextDataset].

    Raises:
        DataFormatError: A wrong header, or bad rows (file and lines named).

    Examples:
        >>> import tempfile, pathlib
        >>> from tfx_textzoo.datasets import read_sst2_tsv
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "dev.tsv"
        >>> _ = path.write_text('sentence\tlabel\nit \'s " fine " \t1\n')
        >>> read_sst2_tsv(path).texts
        ['it \'s " fine "']
    """
    data = _read_glue_tsv(Path(path), on_bad_rows)
    data.name = data.source = str(path)
    return data


def read_trec(path: str | Path, *, on_bad_rows: str = "raise") -> TextDataset:
    r"""Read a TREC question-classification file (``COARSE:fine question`` lines, latin-1).

    Labels are the six coarse classes (`TREC_LABELS`).

    Args:
        path: ``train_5500.label`` or ``TREC_10.label``.
        on_bad_rows: ``"raise"`` or ``"skip"`` (see [`load`][tfx_textzoo.datasets.load]).

    Returns:
        A [`TextDataset`][tfx_textzoo.datasets.TextDataset].

    Raises:
        DataFormatError: Lines that are not ``COARSE:fine question`` (file and lines named).

    Examples:
        >>> import tempfile, pathlib
        >>> from tfx_textzoo.datasets import read_trec
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "TREC_10.label"
        >>> _ = path.write_bytes(b"HUM:desc Who was Galileo ?\n")
        >>> data = read_trec(path)
        >>> data.texts, data.label_names[data.labels[0]]
        (['Who was Galileo ?'], 'HUM')
    """
    data = _read_trec_file(Path(path), on_bad_rows)
    data.name = data.source = str(path)
    return data


def decode_text(data: bytes, where: str | os.PathLike, encoding: str = "utf-8") -> str:
    r"""Decode a file's bytes; invalid ones raise an error naming the file, line and column.

    A UTF-8 byte-order mark is dropped.

    Args:
        data: The file's bytes.
        where: The file, as the message should name it.
        encoding: Its encoding.

    Raises:
        DataEncodingError: Bytes invalid in ``encoding`` (the first are named).
        LookupError: An unknown ``encoding``.

    Examples:
        >>> from tfx_textzoo.datasets import decode_text
        >>> decode_text(b"fine\ncaf\xe9\n", "texts.txt")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.datasets.DataEncodingError: texts.txt:2: byte(s) b'\xe9' ... (column 4) ...
        >>> decode_text(b"caf\xe9", "texts.txt", "latin-1")
        'café'
    """
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as err:
        raise _decode_error(Path(where), data, err, encoding) from None


# --- readers --------------------------------------------------------------------------


def _read_hub_style(spec: DatasetSpec, paths: list[Path], kind: str, on_bad_rows) -> TextDataset:
    """Parquet / csv-with-header files with the Hub's columns (or ``text``, ``label``)."""
    available = (
        _parquet_columns(paths[0]) if kind == "parquet" else _csv_header(paths[0], ",", "utf-8")
    )
    columns, label, order = list(spec.text_columns), spec.label_column, spec.hub_label_order
    pairs = list(spec.pair_columns)
    wanted = {*columns, *pairs, label}
    if not wanted <= set(available) and {"text", "label"} <= set(available) and not pairs:
        columns, label, order = ["text"], "label", None
    clean = _cleaner(spec.escapes)
    if kind == "parquet":
        return _read_parquet(
            paths,
            columns,
            label,
            pair_columns=pairs,
            label_names=spec.label_names,
            label_order=order,
            on_bad_rows=on_bad_rows,
            clean=clean,
            where=str(paths[0].parent),
        )
    return _read_csv(
        paths[0],
        columns,
        label,
        pair_columns=pairs,
        label_delimiter="," if spec.multi_label else None,
        label_names=spec.label_names,
        label_order=order,
        header=True,
        on_bad_rows=on_bad_rows,
        clean=clean,
    )


def _read_csv(
    path: Path,
    text_columns: list,
    label_column,
    *,
    pair_columns: list = (),
    label_delimiter: str | None = None,
    label_names=None,
    label_order=None,
    header="auto",
    delimiter=",",
    encoding="utf-8",
    quoting=csv.QUOTE_MINIMAL,
    one_based=False,
    on_bad_rows="raise",
    clean: Callable[[str], str] | None = None,
    name: str | None = None,
) -> TextDataset:
    if not text_columns:
        raise ValueError("text_columns is empty")
    pair_columns = list(pair_columns)
    wanted = [*text_columns, *pair_columns, label_column]
    by_name = any(isinstance(c, str) for c in wanted)
    if header not in (True, False, "auto"):
        raise ValueError(f"header must be True, False or 'auto', got {header!r}")
    if header is False and by_name:
        raise ValueError(
            "columns given by name need a header row (header=True or 'auto'); for a file "
            "without one, give 0-based column indices"
        )
    rows = _Rows(
        str(path),
        label_names=label_names,
        one_based=one_based,
        on_bad_rows=on_bad_rows,
        pairs=bool(pair_columns),
        multi_label=label_delimiter is not None,
    )
    records = _csv_records(path, rows, delimiter=delimiter, encoding=encoding, quoting=quoting)
    first = list(itertools.islice(records, 2))
    if not first:
        raise DataFormatError(f"{path} has no rows")
    if header == "auto":
        header = by_name or _looks_like_header(first, label_column)
    ncols = len(first[0][1])
    header_row = None
    if header:
        line, names = first[0]
        names = [n.strip() for n in names]
        header_row = (line, names)
        first = first[1:]
        missing = [c for c in wanted if isinstance(c, str) and c not in names]
        if missing:
            raise MissingColumnsError(
                f"{path}:{line}: column(s) {missing} not found; the header has columns {names}.",
                "Pass text_columns=[...], text_pair_columns=[...] (pairs) and label_column='...' "
                "(or header=False and 0-based column indices).",
            )
        index = [names.index(c) if isinstance(c, str) else c for c in wanted]
    else:
        index = list(wanted)
    too_far = [i for i in index if not 0 <= i < ncols]
    if too_far:
        raise MissingColumnsError(
            f"{path}:{first[0][0] if first else 1}: column index(es) {too_far} out of range; "
            f"the first row has {ncols} columns"
        )
    text_index = index[: len(text_columns)]
    pair_index = index[len(text_columns) : len(text_columns) + len(pair_columns)]
    label_index = index[-1]
    clean = clean or _strip
    for line, row in _header_copies_rejected(itertools.chain(first, records), header_row, rows):
        if len(row) != ncols:
            rows.reject(
                line, "wrong number of columns", f"expected {ncols} columns, got {len(row)}"
            )
            continue
        text = " ".join(p for p in (row[i].strip() for i in text_index) if p)
        pair = " ".join(p for p in (row[i].strip() for i in pair_index) if p)
        label = row[label_index]
        if label_delimiter is not None:
            label = _split_label_cell(label, label_delimiter)
        rows.add(line, clean(text), label, pair=clean(pair) if pair_index else None)
    if label_order is not None and label_names is not None:
        rows.remap = _remap(None, label_order, label_names, str(path))
    return rows.build(name or str(path), f"local:{path}")


def _header_copies_rejected(records, header_row, rows: _Rows):
    """The records less copies of the header row (files joined with ``cat``), rejected.

    Without this, the header's label cell (``label``) would become a class.
    """
    if header_row is None:
        yield from records
        return
    header_line, header = header_row
    for line, row in records:
        if [cell.strip() for cell in row] == header:
            detail = f"a copy of the header row of line {header_line} (files joined as they are)"
            rows.reject(line, "repeated header row", detail)
            continue
        yield line, row


def _looks_like_header(first: list, label_column: int) -> bool:
    """No names given: a header if row 1's label is no integer but row 2's is."""
    row1 = first[0][1]
    if label_column >= len(row1) or _as_int(row1[label_column]) is not None:
        return False
    if len(first) < 2:
        return True
    row2 = first[1][1]
    return label_column < len(row2) and _as_int(row2[label_column]) is not None


def _read_zhang_csv(path: Path, spec: DatasetSpec, label_names, on_bad_rows) -> TextDataset:
    """``class,<text columns>`` rows, classes 1-based; an optional header row is detected.

    A header with the Hub's columns (``text,label``...) makes it a 0-based Hub-style csv.
    """
    cols = spec.zhang_columns
    rows = _Rows(str(path), label_names=label_names, one_based=True, on_bad_rows=on_bad_rows)
    records = _csv_records(path, rows, delimiter=",", encoding="utf-8", quoting=csv.QUOTE_MINIMAL)
    first = list(itertools.islice(records, 2))
    if not first:
        raise DataFormatError(f"{path} has no rows")
    line, names = first[0][0], [cell.strip() for cell in first[0][1]]
    if {*spec.text_columns, spec.label_column} <= set(names) or {"text", "label"} <= set(names):
        return _read_hub_style(spec, [path], "csv", on_bad_rows)
    header_row = None
    if _looks_like_header(first, 0):
        header_row = (line, names)
        if len(names) != len(cols):
            raise DataFormatError(
                f"{path}:{line}: header {names} does not match the Zhang et al. layout "
                f"{','.join(cols)} ({len(cols)} columns, classes 1..{len(label_names)}), nor "
                f"a Hub-style header with columns {','.join([*spec.text_columns, 'label'])} "
                "(0-based). Fix the header or remove it."
            )
        first = first[1:]
    clean = _cleaner(spec.escapes)
    for line, row in _header_copies_rejected(itertools.chain(first, records), header_row, rows):
        if len(row) != len(cols):
            rows.reject(
                line,
                "wrong number of columns",
                f"expected {len(cols)} columns ({','.join(cols)}), got {len(row)}",
            )
            continue
        rows.add(line, clean(" ".join(row[1:])), row[0])
    return rows.build(str(path), f"local:{path}")


def _read_glue_tsv(path: Path, on_bad_rows) -> TextDataset:
    names = list(DATASETS["sst2"].label_names)
    rows = _Rows(str(path), label_names=names, on_bad_rows=on_bad_rows)
    records = _csv_records(path, rows, delimiter="\t", encoding="utf-8", quoting=csv.QUOTE_NONE)
    line, header = next(records, (1, None))
    if header == ["index", "sentence"]:
        raise DataFormatError(
            f"{path} is GLUE's unlabelled SST-2 test.tsv (header index<TAB>sentence): GLUE "
            "hides the test labels. Use split='validation' (dev.tsv), or the SentEval-"
            "labelled test.tsv (header sentence<TAB>label)."
        )
    if header != ["sentence", "label"]:
        raise DataFormatError(
            f"{path}:{line}: expected the header 'sentence<TAB>label', got {header}"
        )
    header_row = (line, header)
    for line, row in _header_copies_rejected(records, header_row, rows):
        if len(row) != 2:
            rows.reject(
                line,
                "wrong number of columns",
                f"expected 2 tab-separated columns (sentence, label), got {len(row)}",
            )
            continue
        rows.add(line, _clean(row[0]), row[1])
    return rows.build(str(path), f"local:{path}")


def _read_trec_file(path: Path, on_bad_rows) -> TextDataset:
    rows = _Rows(str(path), label_names=TREC_LABELS, on_bad_rows=on_bad_rows)
    text = path.read_bytes().decode("latin-1")
    for line, row in enumerate(text.split("\n"), 1):
        row = row.rstrip("\r")
        if not row.strip():
            continue
        label, _, question = row.strip().partition(" ")
        coarse, colon, _fine = label.partition(":")
        if not colon:
            rows.reject(line, "not 'COARSE:fine question'", f"got {row[:60]!r}")
            continue
        rows.add(line, _clean(question), coarse)
    return rows.build(str(path), f"local:{path}")


def _read_goemotions_tsv(path: Path, label_names, on_bad_rows) -> TextDataset:
    """``text<TAB>ids<TAB>comment id`` rows (CSV quoting), ids comma-separated, 0-based."""
    rows = _Rows(str(path), label_names=label_names, on_bad_rows=on_bad_rows, multi_label=True)
    records = _csv_records(path, rows, delimiter="\t", encoding="utf-8", quoting=csv.QUOTE_MINIMAL)
    first = next(records, None)
    if first is None:
        raise DataFormatError(f"{path} has no rows")
    header_row = None
    if [c.strip() for c in first[1]] in (["text", "label", "id"], ["text", "labels", "id"]):
        header_row = (first[0], [c.strip() for c in first[1]])  # a copy with a header line
        first = None
    records = itertools.chain([first] if first else [], records)
    for line, row in _header_copies_rejected(records, header_row, rows):
        if len(row) != 3:
            rows.reject(
                line,
                "wrong number of columns",
                f"expected 3 tab-separated columns (text, label ids, comment id), got {len(row)}",
            )
            continue
        if not row[1].strip():
            rows.reject(line, "missing label", "no label ids")
            continue
        rows.add(line, _clean(row[0]), [part.strip() for part in row[1].split(",")])
    return rows.build(str(path), f"local:{path}")


def _read_glue_pairs_tsv(path: Path, spec: DatasetSpec, on_bad_rows) -> TextDataset:
    """GLUE RTE ``index<TAB>sentence1<TAB>sentence2<TAB>label``; quoting off, fields stripped."""
    rows = _Rows(str(path), label_names=spec.label_names, on_bad_rows=on_bad_rows, pairs=True)
    records = _csv_records(path, rows, delimiter="\t", encoding="utf-8", quoting=csv.QUOTE_NONE)
    line, header = next(records, (1, None))
    header = None if header is None else [c.strip() for c in header]
    if header == ["index", "sentence1", "sentence2"]:
        raise DataFormatError(
            f"{path} is GLUE's unlabelled {spec.name.upper()} test.tsv (header "
            f"index<TAB>sentence1<TAB>sentence2, no label column). {_hidden_note(spec)}."
        )
    expected = ["index", "sentence1", "sentence2", "label"]
    if header != expected:
        raise DataFormatError(
            f"{path}:{line}: expected the header {'<TAB>'.join(expected)}, got {header}"
        )
    header_row = (line, header)
    for line, row in _header_copies_rejected(records, header_row, rows):
        if len(row) != 4:
            rows.reject(
                line,
                "wrong number of columns",
                f"expected 4 tab-separated columns ({', '.join(expected)}), got {len(row)}",
            )
            continue
        rows.add(line, _clean(row[1]), row[3].strip(), pair=_clean(row[2]))
    return rows.build(str(path), f"local:{path}")


_MRPC_HEADER = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]


def _read_mrpc_tsv(path: Path, spec: DatasetSpec, on_bad_rows) -> TextDataset:
    """MRPC ``Quality, #1 ID, #2 ID, #1 String, #2 String`` (1 = paraphrase); quoting off."""
    rows = _Rows(str(path), label_names=spec.label_names, on_bad_rows=on_bad_rows, pairs=True)
    records = _csv_records(path, rows, delimiter="\t", encoding="utf-8", quoting=csv.QUOTE_NONE)
    line, header = next(records, (1, None))
    header = None if header is None else [c.strip() for c in header]
    if header == ["index", *_MRPC_HEADER[1:]]:
        raise DataFormatError(
            f"{path} is GLUE's unlabelled MRPC test.tsv (header index<TAB>#1 ID<TAB>...). "
            f"{_hidden_note(spec)}."
        )
    if header != _MRPC_HEADER:
        raise DataFormatError(
            f"{path}:{line}: expected the MRPC header {'<TAB>'.join(_MRPC_HEADER)}, got {header}"
        )
    header_row = (line, header)
    for line, row in _header_copies_rejected(records, header_row, rows):
        if len(row) != 5:
            rows.reject(
                line,
                "wrong number of columns",
                f"expected 5 tab-separated columns ({', '.join(_MRPC_HEADER)}), got {len(row)}",
            )
            continue
        rows.add(line, _clean(row[3]), row[0].strip(), pair=_clean(row[4]))
    return rows.build(str(path), f"local:{path}")


def _hidden_note(spec: DatasetSpec) -> str:
    if spec.hidden_labels_note:
        return spec.hidden_labels_note[0].upper() + spec.hidden_labels_note[1:]
    return (
        f"GLUE hides these labels: use the labelled {spec.local_files.get('test')} or "
        "split='validation'"
    )


#: The seed of the BBC News train/test split (the year of Greene & Cunningham's paper).
BBC_SPLIT_SEED = 2006
#: The share of each class's (deduplicated) BBC News articles in the test split.
BBC_TEST_FRACTION = 0.2


def _read_bbc_csv(path: Path, label_names, on_bad_rows) -> TextDataset:
    """``category,text`` rows, every one of the file (repeats included); texts stripped only."""
    rows = _Rows(str(path), label_names=label_names, on_bad_rows=on_bad_rows)
    records = _csv_records(path, rows, delimiter=",", encoding="utf-8", quoting=csv.QUOTE_MINIMAL)
    line, header = next(records, (1, None))
    header = None if header is None else [c.strip() for c in header]
    if header != ["category", "text"]:
        raise DataFormatError(f"{path}:{line}: expected the header category,text, got {header}")
    header_row = (line, header)
    for line, row in _header_copies_rejected(records, header_row, rows):
        if len(row) != 2:
            rows.reject(
                line,
                "wrong number of columns",
                f"expected 2 columns (category,text), got {len(row)}",
            )
            continue
        rows.add(line, row[1].strip(), row[0].strip())
    return rows.build(str(path), f"local:{path}")


def deduplicated(data: TextDataset) -> TextDataset:
    """``data`` without exact repeats of a text (the first copy of each text is kept).

    Args:
        data: A single-label [`TextDataset`][tfx_textzoo.datasets.TextDataset].

    Returns:
        The texts in their order, each once.

    Raises:
        DataFormatError: A text repeats with another label (rows and labels named).

    Examples:
        >>> from tfx_textzoo.datasets import TextDataset, deduplicated
        >>> data = TextDataset(["a b", "c", "a b"], [0, 1, 0], ["x", "y"])
        >>> deduplicated(data).texts
        ['a b', 'c']
    """
    first: dict[str, int] = {}
    keep, conflicts = [], []
    labels = data.labels.tolist()
    for i, text in enumerate(data.texts):
        j = first.setdefault(text, i)
        if j == i:
            keep.append(i)
        elif labels[j] != labels[i]:
            conflicts.append((j, i))
    if conflicts:
        shown = "; ".join(
            f"rows {j + 1} ({data.label_names[labels[j]]}) and {i + 1} "
            f"({data.label_names[labels[i]]})"
            for j, i in conflicts[:5]
        )
        raise DataFormatError(
            f"{data.name or 'the data'}: {len(conflicts)} text(s) repeat with another label "
            f"(data rows, 1-based): {shown}. Which label is right cannot be told: fix the file."
        )
    out = data[keep]
    out.skipped = list(data.skipped)
    return out


def stratified_split(
    data: TextDataset, test_fraction: float, seed: int
) -> tuple[TextDataset, TextDataset]:
    """A seeded split, ``round(test_fraction * n_c)`` texts of each class ``c`` in the test part.

    Texts that differ only in whitespace (the same article copied with other spacing)
    are kept together, so the two parts never share a text. Both parts keep the input's
    order. Deduplicate first ([`deduplicated`][tfx_textzoo.datasets.deduplicated]).

    Args:
        data: A single-label [`TextDataset`][tfx_textzoo.datasets.TextDataset].
        test_fraction: The share of each class in the test part, in ``(0, 1)``.
        seed: The seed (numpy ``default_rng``): the same seed gives the same split.

    Returns:
        ``(train, test)``.

    Examples:
        >>> from tfx_textzoo.datasets import TextDataset, stratified_split
        >>> data = TextDataset([f"t{i}" for i in range(10)], [0] * 5 + [1] * 5, ["x", "y"])
        >>> train, test = stratified_split(data, 0.2, seed=0)
        >>> len(train), test.class_counts()
        (8, {'x': 1, 'y': 1})
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    if data.multi_label:
        raise ValueError("stratified_split takes single-label data")
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, int], list[int]] = {}
    for i, (text, label) in enumerate(zip(data.texts, data.labels.tolist(), strict=True)):
        groups.setdefault((" ".join(text.split()), label), []).append(i)
    test: list[int] = []
    for label in range(data.num_classes):
        members = [rows for (_, y), rows in groups.items() if y == label]
        target = int(np.floor(test_fraction * sum(len(r) for r in members) + 0.5))
        taken = 0
        for j in rng.permutation(len(members)).tolist():
            if taken == target:
                break
            if taken + len(members[j]) <= target:
                test.extend(members[j])
                taken += len(members[j])
    in_test = np.zeros(len(data), bool)
    in_test[test] = True
    return data[~in_test], data[in_test]


def _bbc_split(data: TextDataset, split: str) -> TextDataset:
    """``"all"``: the deduplicated articles; ``"train"`` / ``"test"``: the seeded 80/20 split."""
    unique = deduplicated(data)
    if split == "all":
        return unique
    train, test = stratified_split(unique, BBC_TEST_FRACTION, BBC_SPLIT_SEED)
    part = train if split == "train" else test
    part.skipped = list(data.skipped)
    return part


def read_goemotions_tsv(
    path: str | Path, *, label_names: Sequence[str] | None = None, on_bad_rows: str = "raise"
) -> TextDataset:
    r"""Read a GoEmotions ``.tsv`` (no header: text, comma-separated label ids, comment id).

    Texts are CSV-quoted where they contain ``"`` (so standard quoting is used);
    whitespace is normalised. The labels are a 0/1 matrix over the 28 emotions.

    Args:
        path: ``train.tsv``, ``dev.tsv`` or ``test.tsv``.
        label_names: The names of ids 0, 1, ... (default: `GOEMOTIONS_LABELS`, the
            order of ``emotions.txt``).
        on_bad_rows: ``"raise"`` or ``"skip"`` (see [`load`][tfx_textzoo.datasets.load]).

    Returns:
        A multi-label [`TextDataset`][tfx_textzoo.datasets.TextDataset].

    Examples:
        >>> import tempfile, pathlib
        >>> from tfx_textzoo.datasets import read_goemotions_tsv
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "dev.tsv"
        >>> _ = path.write_text('"So ""nice"", [NAME]!"\t0,15\tee1\nOk.\t27\tee2\n')
        >>> data = read_goemotions_tsv(path)
        >>> data.texts, data.label_sets()
        (['So "nice", [NAME]!', 'Ok.'], [['admiration', 'gratitude'], ['neutral']])
    """
    names = list(label_names or GOEMOTIONS_LABELS)
    data = _read_goemotions_tsv(Path(path), names, on_bad_rows)
    data.name = data.source = str(path)
    return data


def read_rte_tsv(path: str | Path, *, on_bad_rows: str = "raise") -> TextDataset:
    r"""Read a GLUE RTE ``.tsv`` (header ``index, sentence1, sentence2, label``) as text pairs.

    Quoting is off (sentences contain bare ``"``); fields are stripped. GLUE's test.tsv
    (no label column) is refused: RTE's test labels are not public.

    Args:
        path: ``train.tsv`` or ``dev.tsv``.
        on_bad_rows: ``"raise"`` or ``"skip"`` (see [`load`][tfx_textzoo.datasets.load]).

    Returns:
        A [`TextDataset`][tfx_textzoo.datasets.TextDataset] with ``text_pairs``.

    Examples:
        >>> import tempfile, pathlib
        >>> from tfx_textzoo.datasets import read_rte_tsv
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "dev.tsv"
        >>> _ = path.write_text('index\tsentence1\tsentence2\tlabel\n'
        ...                     '0\t "A" man sleeps.\tA man sleeps.\tentailment\n')
        >>> read_rte_tsv(path)[0]
        (('"A" man sleeps.', 'A man sleeps.'), 0)
    """
    data = _read_glue_pairs_tsv(Path(path), DATASETS["rte"], on_bad_rows)
    data.name = data.source = str(path)
    return data


def read_mrpc_tsv(path: str | Path, *, on_bad_rows: str = "raise") -> TextDataset:
    r"""Read an MRPC file (``Quality, #1 ID, #2 ID, #1 String, #2 String``) as text pairs.

    GLUE's ``train.tsv`` / ``dev.tsv`` and the MSR corpus' ``msr_paraphrase_*.txt`` have
    this layout (a UTF-8 byte-order mark is dropped); quality 1 = ``equivalent``.

    Args:
        path: The file.
        on_bad_rows: ``"raise"`` or ``"skip"`` (see [`load`][tfx_textzoo.datasets.load]).

    Returns:
        A [`TextDataset`][tfx_textzoo.datasets.TextDataset] with ``text_pairs``.

    Examples:
        >>> import tempfile, pathlib
        >>> from tfx_textzoo.datasets import read_mrpc_tsv
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "dev.tsv"
        >>> _ = path.write_text('Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n'
        ...                     '1\t7\t8\tHe left.\tHe went away.\n')
        >>> data = read_mrpc_tsv(path)
        >>> data[0], data.label_names
        ((('He left.', 'He went away.'), 1), ['not_equivalent', 'equivalent'])
    """
    data = _read_mrpc_tsv(Path(path), DATASETS["mrpc"], on_bad_rows)
    data.name = data.source = str(path)
    return data


def read_bbc_csv(path: str | Path, *, on_bad_rows: str = "raise") -> TextDataset:
    r"""Read BBC News' ``bbc-text.csv`` (header ``category,text``): every row, repeats included.

    ``load("bbc_news", split)`` ([`load`][tfx_textzoo.datasets.load]) deduplicates it and
    splits it (``BBC_SPLIT_SEED``); this returns the file as it is (2,225 rows). Texts
    are only stripped (their double spaces are the file's).

    Args:
        path: The file.
        on_bad_rows: ``"raise"`` or ``"skip"`` (see [`load`][tfx_textzoo.datasets.load]).

    Returns:
        A [`TextDataset`][tfx_textzoo.datasets.TextDataset] with the five classes.

    Examples:
        >>> import tempfile, pathlib
        >>> from tfx_textzoo.datasets import read_bbc_csv
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "bbc-text.csv"
        >>> _ = path.write_text("category,text\ntech,new  phones\nsport,a goal\n")
        >>> data = read_bbc_csv(path)
        >>> data.texts, data.class_counts()["sport"]
        (['new  phones', 'a goal'], 1)
    """
    data = _read_bbc_csv(Path(path), list(DATASETS["bbc_news"].label_names), on_bad_rows)
    data.name = data.source = str(path)
    return data


def _read_aclimdb(split_dir: Path, label_names, on_bad_rows) -> TextDataset:
    rows = _Rows(str(split_dir), label_names=label_names, on_bad_rows=on_bad_rows)
    for label, sub in enumerate(("neg", "pos")):
        folder = split_dir / sub
        if not folder.is_dir():
            raise DataFormatError(
                f"{folder} is missing: the aclImdb layout has {split_dir.name}/neg/*.txt and "
                f"{split_dir.name}/pos/*.txt"
            )
        for path in sorted(folder.glob("*.txt"), key=_review_order):
            data = path.read_bytes()
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as err:
                if on_bad_rows == "raise":
                    raise _decode_error(path, data, err, "utf-8") from None
                rows.reject(1, "non-UTF-8 bytes", _decode_detail(data, err), file=str(path))
                continue
            rows.add(1, _clean(text), label, file=str(path))
    return rows.build(str(split_dir), f"local:{split_dir}")


def _review_order(path: Path):
    """Sort ``<id>_<rating>.txt`` (aclImdb file names) by id."""
    head = path.stem.split("_")[0]
    return (0, int(head), path.name) if head.isdigit() else (1, 0, path.name)


def _read_parquet(
    files: list[Path],
    text_columns: list[str],
    label_column: str,
    *,
    pair_columns: list[str] = (),
    label_names=None,
    label_order=None,
    one_based=False,
    on_bad_rows="raise",
    clean: Callable[[str], str] | None = None,
    name: str | None = None,
    where: str = "",
) -> TextDataset:
    pq = _import_parquet()
    clean = clean or _strip
    pair_columns = list(pair_columns)
    rows = _Rows(
        where or str(files[0]),
        one_based=one_based,
        on_bad_rows=on_bad_rows,
        pairs=bool(pair_columns),
    )
    rows.unit = "row"
    for path in files:
        schema = pq.read_schema(path)
        missing = [c for c in [*text_columns, *pair_columns, label_column] if c not in schema.names]
        if missing:
            raise MissingColumnsError(
                f"{path}: column(s) {missing} not found; the file has columns {schema.names}.",
                "Pass text_columns=[...], text_pair_columns=[...] (pairs) and label_column='...'.",
            )
        is_list = str(schema.field(label_column).type).startswith(("list<", "large_list<"))
        if path == files[0]:
            rows.multi_label = is_list  # a list of labels per row: multi-label
        elif is_list != rows.multi_label:
            raise DataFormatError(
                f"{path}: column {label_column!r} holds "
                f"{'lists of labels' if is_list else 'one label per row'}, unlike {files[0]}."
            )
        if path == files[0]:
            recorded = _hub_class_names(schema, label_column)
            if label_names is None and recorded:
                rows.label_names = list(recorded)
            elif label_names is not None:
                rows.label_names = list(label_names)
                rows.remap = _remap(recorded, label_order, label_names, str(path))
        table = pq.read_table(path, columns=[*text_columns, *pair_columns, label_column])
        parts = [table.column(c).to_pylist() for c in text_columns]
        pair_parts = [table.column(c).to_pylist() for c in pair_columns]
        labels = table.column(label_column).to_pylist()
        for number, (texts, label) in enumerate(
            zip(zip(*parts, strict=True), labels, strict=True), 1
        ):
            text = " ".join(t for t in (_text_part(p) for p in texts) if t)
            pair = None
            if pair_columns:
                pair = clean(
                    " ".join(t for t in (_text_part(p[number - 1]) for p in pair_parts) if t)
                )
            if rows.multi_label and label is None:
                rows.reject(number, "missing label", "missing label (no list)", file=str(path))
                continue
            rows.add(number, clean(text), label, file=str(path), pair=pair)
    return rows.build(name or where, f"local:{where}")


def _parquet_columns(path: Path) -> list[str]:
    return list(_import_parquet().read_schema(path).names)


def _csv_header(path: Path, delimiter: str, encoding: str) -> list[str]:
    with open(path, newline="", encoding=encoding, errors="replace") as f:
        return [c.strip() for c in next(csv.reader(f, delimiter=delimiter), [])]


def _hub_class_names(schema, column: str) -> list[str] | None:
    """The ``ClassLabel`` names a Hugging Face ``datasets`` parquet file records."""
    raw = (schema.metadata or {}).get(b"huggingface")
    if not raw:
        return None
    try:
        info = json.loads(raw)
    except ValueError:
        return None
    features = (info.get("info") or {}).get("features") or info.get("features") or {}
    feature = features.get(column) if isinstance(features, dict) else None
    if isinstance(feature, list) and len(feature) == 1:  # a list of ClassLabel (old Sequence)
        feature = feature[0]
    if isinstance(feature, dict) and isinstance(feature.get("feature"), dict):  # Sequence / List
        feature = feature["feature"]
    if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and feature.get("names"):
        return [str(n) for n in feature["names"]]
    return None


def _remap(source_names, fallback_order, target, where) -> list[int] | None:
    """Source label id -> our label id, or ``None`` when they are the same.

    The source's own class names win when they are ours in another order; otherwise
    ``fallback_order`` (our names in the source's id order) is used, if any.
    """
    target = list(target)
    if source_names is not None and len(source_names) != len(target):
        raise DataFormatError(
            f"{where}: the source has {len(source_names)} classes ({', '.join(source_names)}) "
            f"but {len(target)} are expected ({', '.join(target)})"
        )
    order = fallback_order
    if source_names is not None and sorted(source_names) == sorted(target):
        order = source_names
    if order is None or list(order) == target:
        return None
    return [target.index(n) for n in order]


def _csv_records(path: Path, rows: _Rows, *, delimiter, encoding, quoting):
    """``(line, fields)`` for each non-blank record; ``line`` is where the record starts.

    Records that cannot be used are rejected into ``rows`` with the line they start on,
    never the whole file: a quote that is never closed, or one closed lines later and
    followed by more text (either swallows the lines after it: they are read again, from
    the line after the quote), a field longer than `MAX_FIELD_CHARS`, bytes that
    are not valid in ``encoding`` (when skipping). As before, a one-line record with
    text after a closing quote (``"Yes" she said``) is read as the csv module reads it.
    """
    data = path.read_bytes()
    lossy = False
    try:
        text = decode_text(data, path, encoding)
    except DataEncodingError:
        if rows.on_bad_rows == "raise":
            raise
        codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        text, lossy = data.decode(codec, errors="surrogateescape"), True
    quote = None if quoting == csv.QUOTE_NONE else '"'
    total = len(_LINE_BREAK.findall(text)) + (not text.endswith(("\n", "\r")))
    raw_lines: list[str] = []  # the file's lines, split only when a record must be checked
    skip = 0  # lines of the file before the reader's first line
    while True:
        lines = itertools.islice(io.StringIO(text, newline=""), skip, None)
        reader = csv.reader(lines, delimiter=delimiter, quoting=quoting)
        line, resume = skip + 1, None
        while True:
            start = line
            try:
                record = _next_record(reader)
            except StopIteration:
                break
            except csv.Error as err:  # e.g. a NUL character on Python < 3.11
                line = skip + reader.line_num + 1
                rows.reject(start, "unreadable row", str(err))
                continue
            last = skip + reader.line_num
            line = last + 1
            if not record:
                continue
            if quote and (last > start or last >= total):  # spans lines, or runs to the end
                raw_lines = raw_lines or io.StringIO(text, newline="").readlines()
                problem = _quote_problem("".join(raw_lines[start - 1 : last]), delimiter, quote)
                if problem == "unterminated quote":
                    rest = f", so the rest of the file (to line {last}) was read as one field"
                    detail = f"a quote opens a field on line {start} and is never closed"
                    rows.reject(start, problem, detail + (rest if last > start else ""))
                elif problem == "unbalanced quote" and last > start:
                    detail = (
                        f"a quoted field opened on line {start} closes on line {last} with more "
                        f"text after it: is a quote on line {start} unbalanced?"
                    )
                    rows.reject(start, problem, detail)
                else:
                    problem = None
                if problem:
                    if last > start:  # the lines it swallowed are read again
                        resume = start
                        break
                    continue
            if lossy and any(_UNDECODABLE.search(field) for field in record):
                rows.reject(start, "non-UTF-8 bytes", f"bytes that are not valid {encoding}")
                continue
            longest = max(range(len(record)), key=lambda i: len(record[i]))
            if len(record[longest]) > MAX_FIELD_CHARS:
                rows.reject(
                    start,
                    "field too long",
                    f"field {longest + 1} has {len(record[longest]):,} characters (at most "
                    f"{MAX_FIELD_CHARS:,} are read)",
                )
                continue
            yield start, record
        if resume is None:
            return
        skip = resume


_LINE_BREAK = re.compile("\r\n|\r|\n")  # where io.StringIO(newline="") ends a line


#: The longest csv/tsv field read, in characters (the csv module's own limit, 131,072,
#: refuses long documents); a row with a longer field is a bad row, reported or skipped.
MAX_FIELD_CHARS = 16 * 1024 * 1024

#: The csv module's field limit while we parse (a C long on every platform); the fields
#: are then checked against MAX_FIELD_CHARS, so that a long one fails its row only.
_PARSER_FIELD_LIMIT = 2**31 - 1


def _next_record(reader) -> list[str]:
    """``next(reader)`` under our field limit; the csv module's global limit is restored."""
    previous = csv.field_size_limit(_PARSER_FIELD_LIMIT)
    try:
        return next(reader)
    finally:
        csv.field_size_limit(previous)


def _quote_problem(raw: str, delimiter: str, quote: str = '"') -> str | None:
    r"""What is wrong with the quotes of a csv record's raw text, if anything.

    ``"unterminated quote"``: it ends inside a quoted field; ``"unbalanced quote"``: a
    quoted field is followed by more text before the next delimiter.

    Examples:
        >>> from tfx_textzoo.datasets.readers import _quote_problem
        >>> _quote_problem('1,"a ""b""\nc",x\n', ","), _quote_problem('1,"a\n2,b\n', ",")
        (None, 'unterminated quote')
        >>> _quote_problem('1,"a\n2,"b,0\n', ",")
        'unbalanced quote'
    """
    state = "start"  # start of a field, in an unquoted field, in quotes, after a quote
    end = -1  # where the previous special character was
    problem = None
    for match in re.finditer(f"[{re.escape(delimiter + quote)}\r\n]", raw):
        if match.start() > end + 1:  # ordinary characters came in between
            if state == "after quote":
                problem = "unbalanced quote"
            if state in ("start", "after quote"):
                state = "field"
        end = match.start()
        char = match.group()
        if state == "quoted":
            state = "after quote" if char == quote else "quoted"
        elif state == "field":
            state = "field" if char == quote else "start"
        elif char == quote:  # at the start of a field it opens one; after one it is ""
            state = "quoted"
        else:
            state = "start"
    if problem is None and state == "quoted":
        problem = "unterminated quote"
    elif problem is None and state == "after quote" and end < len(raw) - 1:
        problem = "unbalanced quote"  # text after the last closing quote, at the end
    return problem


_UNDECODABLE = re.compile("[\udc80-\udcff]")
_INT = re.compile(r"[+-]?\d+")


def _decode_error(
    path: Path, data: bytes, err: UnicodeDecodeError, encoding: str
) -> DataEncodingError:
    line = data.count(b"\n", 0, err.start) + 1
    return DataEncodingError(
        f"{path}:{line}: {_decode_detail(data, err)} are not valid {encoding}.",
        "Re-save the file as UTF-8, pass its real encoding (e.g. encoding='latin-1' to "
        "from_csv), or pass on_bad_rows='skip' to skip such lines.",
    )


def _decode_detail(data: bytes, err: UnicodeDecodeError) -> str:
    column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
    return f"byte(s) {data[err.start : err.end]!r} at byte offset {err.start} (column {column})"


# --- rows, labels, text ---------------------------------------------------------------


class _Rows:
    """Collects the rows read from one source; bad ones are kept with where and why."""

    def __init__(
        self,
        where,
        *,
        label_names=None,
        one_based=False,
        remap=None,
        on_bad_rows,
        pairs=False,
        multi_label=False,
    ):
        self.where = where
        self.label_names = None if label_names is None else list(label_names)
        self.one_based = one_based
        self.remap = remap
        self.on_bad_rows = _check_on_bad_rows(on_bad_rows)
        self.multi_label = multi_label  # each label is a list of labels (ids or names)
        self.unit = "line"
        self.texts: list[str] = []
        self.pairs: list[str] | None = [] if pairs else None
        self.labels: list = []
        self.lines: list[int] = []
        self.file_ids: list[int] = []
        self.files = [where]
        self._file_ids = {where: 0}
        self.bad: list[tuple[int, int, str, str]] = []  # (file id, line, kind, detail)
        self.total = 0

    def add(
        self, line: int, text: str, label, file: str | None = None, pair: str | None = None
    ) -> None:
        """One row; ``pair`` is its second text (pairs), ``label`` a list (multi-label)."""
        self.total += 1
        if not text:
            self.bad.append((self._file_id(file), line, "empty text", "empty text"))
            return
        if self.pairs is not None:
            if not pair:
                kind = "empty second text"
                self.bad.append((self._file_id(file), line, kind, kind))
                return
            self.pairs.append(pair)
        self.texts.append(text)
        self.labels.append(label)
        self.lines.append(line)
        self.file_ids.append(self._file_id(file))

    def reject(self, line: int, kind: str, detail: str, file: str | None = None) -> None:
        self.total += 1
        self.bad.append((self._file_id(file), line, kind, detail))

    def build(self, name: str, source: str) -> TextDataset:
        if self.multi_label:
            ids, names, label_bad = self._label_sets()
        else:
            ids, names, label_bad = _map_labels(
                self.labels, self.label_names, self.one_based, self.remap
            )
        self.label_names = names
        for i, kind, detail in label_bad:
            self.bad.append((self.file_ids[i], self.lines[i], kind, detail))
        self.bad.sort(key=lambda b: (b[0], b[1]))
        if self.bad and self.on_bad_rows == "raise":
            raise BadRowsError(
                self._message(),
                "Fix them, or pass on_bad_rows='skip' to skip bad rows (they are then listed "
                "in the dataset's .skipped, with a warning).",
            )
        keep = ids >= 0 if ids.ndim == 1 else np.ones(len(ids), bool)
        if ids.ndim == 2 and label_bad:
            keep[[i for i, _, _ in label_bad]] = False
        texts = self.texts if not label_bad else list(itertools.compress(self.texts, keep))
        pairs = self.pairs
        if pairs is not None and label_bad:
            pairs = list(itertools.compress(pairs, keep))
        if not texts:
            left = f" left after skipping {len(self.bad)} bad one(s): {self._kinds()}"
            raise DataFormatError(f"{self.where}: no rows" + (left if self.bad else ""))
        skipped = [SkippedRow(line, detail, self.files[f]) for f, line, _, detail in self.bad]
        if skipped:
            first = "; ".join(f"{self._loc(b)}: {b[3]}" for b in self.bad[:5])
            warnings.warn(
                f"{self.where}: skipped {len(skipped)} bad row(s) out of {self.total} "
                f"({self._kinds()}); first: {first}. They are listed in the dataset's .skipped.",
                BadRowsWarning,
                stacklevel=4,
            )
        return TextDataset(texts, ids[keep], names, name, source, skipped, text_pairs=pairs)

    def _label_sets(self):
        """Multi-label: ``(0/1 matrix, names, [(row, kind, detail)])``, a row's first problem."""
        flat = [x for labels in self.labels for x in labels]
        owner = np.array([i for i, labels in enumerate(self.labels) for _ in labels], "int64")
        ids, names, flat_bad = _map_labels(flat, self.label_names, self.one_based, self.remap)
        matrix = np.zeros((len(self.labels), len(names)), "int32")
        ok = ids >= 0
        matrix[owner[ok], ids[ok]] = 1
        bad: dict[int, tuple[int, str, str]] = {}
        for j, kind, detail in flat_bad:
            bad.setdefault(int(owner[j]), (int(owner[j]), kind, detail))
        return matrix, names, list(bad.values())

    def _file_id(self, file: str | None) -> int:
        if file is None:
            return 0
        if file not in self._file_ids:
            self._file_ids[file] = len(self.files)
            self.files.append(file)
        return self._file_ids[file]

    def _loc(self, bad) -> str:
        if bad[0] == 0:
            return f"{self.unit} {bad[1]}"
        return f"{Path(self.files[bad[0]]).name}:{bad[1]}"

    def _kinds(self) -> str:
        counts: dict[str, int] = {}
        for bad in self.bad:
            counts[bad[2]] = counts.get(bad[2], 0) + 1
        return ", ".join(f"{n} {kind}" for kind, n in counts.items())

    def _message(self) -> str:
        lines = [f"{self.where}: {len(self.bad)} bad row(s) out of {self.total} read:"]
        by_kind: dict[str, list] = {}
        for bad in self.bad:
            by_kind.setdefault(bad[2], []).append(bad)
        for kind, items in by_kind.items():
            where = ", ".join(self._loc(b) for b in items[:10])
            more = f" and {len(items) - 10} more" if len(items) > 10 else ""
            detail = "" if items[0][3] == kind else f" (first: {items[0][3]})"
            lines.append(f"  {len(items)} x {kind}: {where}{more}{detail}")
        if self.label_names and {"label out of range", "unknown label"} & set(by_kind):
            lines.append(
                f"  The {len(self.label_names)} classes are: {', '.join(self.label_names)}."
            )
        return "\n".join(lines)


def _map_labels(raw: list, names, one_based: bool, remap):
    """Labels (ids or names) -> ``(ids with -1 for bad ones, names, [(i, kind, detail)])``."""
    offset = 1 if one_based else 0
    if names is None:
        values = [_as_int(x) for x in raw]
        if all(v is not None for v in values):
            top = max((v - offset for v in values), default=-1)
            names = [str(i + offset) for i in range(top + 1)]
        else:
            names = sorted({s for s in (_label_str(x) for x in raw) if s})
    names = list(names)
    n_ids = len(remap) if remap is not None else len(names)
    lookup = np.asarray(remap if remap is not None else range(len(names)), dtype="int64")
    array = np.asarray(raw) if raw else np.zeros(0, "int64")
    if array.dtype.kind in "iu":  # the common case: integer ids (tfds, parquet)
        ids = array.astype("int64") - offset
        ok = (ids >= 0) & (ids < n_ids)
        out = np.full(len(raw), -1, "int32")
        out[ok] = lookup[ids[ok]]
        bad = [
            (i, "label out of range", f"label {raw[i]} is outside {offset}..{n_ids - 1 + offset}")
            for i in np.flatnonzero(~ok).tolist()
        ]
        return out, names, bad
    index = {name: i for i, name in enumerate(names)}
    out = np.full(len(raw), -1, "int32")
    bad = []
    for i, x in enumerate(raw):
        key = _label_str(x)
        if key in index:
            out[i] = index[key]
            continue
        value = _as_int(x)
        if value is None:
            if key:
                bad.append((i, "unknown label", f"unknown label {key!r}"))
            else:
                bad.append((i, "missing label", "missing label"))
            continue
        j = value - offset
        if not 0 <= j < n_ids:
            detail = f"label {value} is outside {offset}..{n_ids - 1 + offset}"
            bad.append((i, "label out of range", detail))
            continue
        out[i] = lookup[j]
    return out, names, bad


def _as_int(x) -> int | None:
    if isinstance(x, bytes):
        x = x.decode("utf-8", "replace")
    if isinstance(x, bool | int | np.integer | np.bool_):
        return int(x)
    if isinstance(x, float | np.floating):
        return int(x) if float(x).is_integer() else None
    if isinstance(x, str) and _INT.fullmatch(x.strip()):
        return int(x.strip())
    return None


def _label_str(x) -> str:
    if x is None or _missing(x):
        return ""
    if isinstance(x, bytes):
        x = x.decode("utf-8", "replace")
    return str(x).strip()


def _text_part(value) -> str:
    if value is None or _missing(value):
        return ""
    return _decode(value).strip()


def _decode(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _split_label_cell(value, delimiter: str) -> list[str]:
    """A delimited label cell (``"0,15"``, ``"[0, 15]"``, ``"joy|love"``) -> its labels."""
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return [part.strip().strip("'\"") for part in text.split(delimiter) if part.strip()]


def _as_list(columns) -> list:
    return [columns] if isinstance(columns, str | int) else list(columns)


def _strip(text: str) -> str:
    return text.strip()


def _clean(text: str, escapes: str | None = None) -> str:
    """Undo the csv escapes (``"backslash"`` or ``"newline"``) and normalise whitespace."""
    if escapes == "backslash":
        text = text.replace("\\", " ")
    elif escapes == "newline":
        text = text.replace("\\n", " ").replace('\\"', '"')
    return " ".join(text.split())


def _cleaner(escapes: str | None) -> Callable[[str], str]:
    return lambda text: _clean(text, escapes)


def _import_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ImportError(f"reading parquet files needs pyarrow ({err}); {_EXTRA}") from err
    return pq
