"""Datasets: the embedded AG News sample and the AG News csv format."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

AG_NEWS_LABELS = ["World", "Sports", "Business", "Sci/Tech"]


@dataclasses.dataclass
class TextDataset:
    """Texts, integer labels and the label names.

    Attributes:
        texts: The texts.
        labels: Integer labels, ``0 <= label < len(label_names)``.
        label_names: ``label_names[i]`` names class ``i``.
        name: Where the data came from.
    """

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    name: str = ""

    def __len__(self) -> int:
        return len(self.texts)


def read_ag_news_csv(path: str | Path, label_names: list[str] | None = None) -> TextDataset:
    """Read a csv in the AG News format (``class,title,description``, classes 1-based).

    Title and description are joined with a space (as the lesson does); the format's
    backslash line-break escapes become spaces.

    Args:
        path: The csv file.
        label_names: Names of classes 1..N (default: AG News' four).

    Returns:
        A :class:`TextDataset` with 0-based labels.

    Raises:
        ValueError: A row with the wrong number of columns, a bad class, or an empty text.

    Example:
        >>> from tfx_textzoo.datasets import read_ag_news_csv, sample_path
        >>> data = read_ag_news_csv(sample_path("test"))
        >>> len(data), data.label_names[0]
        (1000, 'World')
    """
    label_names = list(label_names or AG_NEWS_LABELS)
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.reader(f), 1):
            if len(row) != 3:
                raise ValueError(
                    f"{path}:{line}: expected 3 columns (class,title,description), got {len(row)}"
                )
            try:
                label = int(row[0]) - 1
            except ValueError:
                raise ValueError(f"{path}:{line}: class {row[0]!r} is not an integer") from None
            if not 0 <= label < len(label_names):
                raise ValueError(f"{path}:{line}: class {row[0]} is outside 1..{len(label_names)}")
            text = " ".join(f"{row[1]} {row[2]}".replace("\\", " ").split())
            if not text:
                raise ValueError(f"{path}:{line}: empty text")
            texts.append(text)
            labels.append(label)
    return TextDataset(texts, np.array(labels, dtype="int32"), label_names, str(path))


def sample_path(split: str) -> Path:
    """Path of the embedded AG News sample's ``"train"`` or ``"test"`` csv.

    Example:
        >>> from tfx_textzoo.datasets import sample_path
        >>> sample_path("train").name
        'ag_news_sample_train.csv'
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return Path(str(resources.files("tfx_textzoo") / "data" / f"ag_news_sample_{split}.csv"))


def load_ag_news_sample(split: str = "train") -> TextDataset:
    """The embedded AG News sample (4,000 train / 1,000 test texts), always offline.

    Example:
        >>> from tfx_textzoo.datasets import load_ag_news_sample
        >>> train = load_ag_news_sample("train")
        >>> len(train), sorted(set(train.labels.tolist()))
        (4000, [0, 1, 2, 3])
    """
    data = read_ag_news_csv(sample_path(split))
    data.name = f"ag_news-sample/{split}"
    return data


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

    Accepted inputs: a :class:`TextDataset`; a ``(texts, labels)`` tuple of lists or
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

    Example:
        >>> from tfx_textzoo.datasets import as_texts_and_labels
        >>> texts, labels = as_texts_and_labels((["good", "bad"], ["pos", "neg"]),
        ...                                     label_names=["neg", "pos"])
        >>> texts.tolist(), labels.tolist()
        (['good', 'bad'], [1, 0])
    """
    texts, labels = _split_input(data, text_column, label_column, what)
    texts = [t.decode("utf-8") if isinstance(t, bytes) else t for t in texts]
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(
            f"{what}: texts must be strings; rows {bad[:10]} hold "
            f"{type(texts[bad[0]]).__name__} (e.g. {texts[bad[0]]!r})."
        )
    if not texts:
        raise ValueError(f"{what}: there are no texts.")
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise ValueError(
            f"{what}: {len(empty)} empty text(s), at rows {empty[:10]}"
            f"{' ...' if len(empty) > 10 else ''}. Drop or fill them first."
        )
    labels = list(labels)
    if len(labels) != len(texts):
        raise ValueError(f"{what}: {len(texts)} texts but {len(labels)} labels.")
    return np.array(texts, dtype=object), _label_ids(labels, label_names, num_classes, what)


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


def _missing(value) -> bool:
    """None, NaN or pandas' NA (an empty cell of a DataFrame column)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and value != value


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


def read_sst2_tsv(path: str | Path) -> TextDataset:
    r"""Read a GLUE SST-2 ``.tsv`` (header ``sentence<TAB>label``, 0 = negative, 1 = positive).

    Quoting is off (sentences contain quote characters); trailing spaces are stripped.

    Example:
        >>> import tempfile, pathlib
        >>> from tfx_textzoo.datasets import read_sst2_tsv
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "dev.tsv"
        >>> _ = path.write_text('sentence\tlabel\nit \'s " fine " \t1\n')
        >>> read_sst2_tsv(path).texts
        ['it \'s " fine "']
    """
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header != ["sentence", "label"]:
            raise ValueError(f"{path}: expected the header 'sentence<TAB>label', got {header}")
        for line, row in enumerate(reader, 2):
            if len(row) != 2 or row[1] not in ("0", "1") or not row[0].strip():
                raise ValueError(f"{path}:{line}: expected '<sentence>\\t<0|1>', got {row!r}")
            texts.append(row[0].strip())
            labels.append(int(row[1]))
    return TextDataset(texts, np.array(labels, "int32"), ["negative", "positive"], str(path))


TREC_LABELS = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]


def read_trec(path: str | Path) -> TextDataset:
    r"""Read a TREC question-classification file (``COARSE:fine question`` lines, latin-1).

    Labels are the six coarse classes (:data:`TREC_LABELS`).

    Example:
        >>> import tempfile, pathlib
        >>> from tfx_textzoo.datasets import read_trec
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "TREC_10.label"
        >>> _ = path.write_bytes(b"HUM:desc Who was Galileo ?\n")
        >>> data = read_trec(path)
        >>> data.texts, data.label_names[data.labels[0]]
        (['Who was Galileo ?'], 'HUM')
    """
    texts, labels = [], []
    with open(path, encoding="latin-1") as f:
        for line, row in enumerate(f, 1):
            label, _, rest = row.strip().partition(" ")
            coarse = label.split(":")[0]
            if coarse not in TREC_LABELS or not rest.strip():
                raise ValueError(f"{path}:{line}: expected 'COARSE:fine question', got {row!r}")
            texts.append(rest.strip())
            labels.append(TREC_LABELS.index(coarse))
    return TextDataset(texts, np.array(labels, "int32"), list(TREC_LABELS), str(path))
