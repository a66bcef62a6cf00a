"""[`TextDataset`][tfx_textzoo.datasets.TextDataset]: texts, labels, label names; the data errors.

Everything here is re-exported by [`tfx_textzoo.datasets`][tfx_textzoo.datasets]; import it
from there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from tfx_textzoo.errors import TextzooError

#: Where these classes are imported from (and how tracebacks name them).
_PUBLIC = "tfx_textzoo.datasets"


class DatasetNotFoundError(TextzooError, FileNotFoundError):
    """No source has the requested split; the message lists every source tried and why."""

    __module__ = _PUBLIC  # shown as tfx_textzoo.datasets.DatasetNotFoundError


class DataFormatError(TextzooError, ValueError):
    """A data file is malformed; the message names the file and the lines.

    The message is ``problem`` (what is wrong, where) followed by ``advice`` (how to fix
    it with this library's arguments); a front end with other options (the command
    line) shows ``problem`` with its own advice.

    Attributes:
        problem: What is wrong, naming the file and lines.
        advice: How to fix it in Python (``encoding='latin-1'``...); may be empty.

    Examples:
        >>> from tfx_textzoo.datasets import DataFormatError
        >>> err = DataFormatError("a.csv:3: bad", "Fix it.")
        >>> str(err), err.problem
        ('a.csv:3: bad Fix it.', 'a.csv:3: bad')
    """

    __module__ = _PUBLIC  # shown as tfx_textzoo.datasets.DataFormatError

    def __init__(self, problem: str, advice: str = "") -> None:
        self.problem = problem
        self.advice = advice
        joiner = "\n" if "\n" in problem else " "
        super().__init__(f"{problem}{joiner}{advice}" if advice else problem)


class BadRowsError(DataFormatError):
    """Rows that cannot be used (bad labels, empty texts, broken quotes...); skippable."""

    __module__ = _PUBLIC  # shown as tfx_textzoo.datasets.BadRowsError


class DataEncodingError(DataFormatError):
    """A file holds bytes that are not valid in the encoding it is read with."""

    __module__ = _PUBLIC  # shown as tfx_textzoo.datasets.DataEncodingError


class MissingColumnsError(DataFormatError):
    """The columns asked for are not in the file (the file's columns are listed)."""

    __module__ = _PUBLIC  # shown as tfx_textzoo.datasets.MissingColumnsError


class BadRowsWarning(UserWarning):
    """Rows were skipped (``on_bad_rows="skip"``); they are listed in ``.skipped``."""

    __module__ = _PUBLIC  # shown as tfx_textzoo.datasets.BadRowsWarning


class SkippedRow(NamedTuple):
    """A row skipped by ``on_bad_rows="skip"``.

    Attributes:
        line: In a text file, the line the row starts on (1-based); in a parquet file, a
            tfds split or an aclImdb folder, the 1-based row number within ``file``.
        reason: Why it was skipped (``"empty text"``, ``"label 5 is outside 1..4"``...).
        file: The file (or source) it comes from.
    """

    line: int
    reason: str
    file: str = ""


@dataclasses.dataclass(eq=False, repr=False)
class TextDataset:
    """Texts (or text pairs), their labels and the label names.

    One label per text (``labels`` of shape ``(n,)``), or a set of labels per text
    (multi-label: ``labels`` is a 0/1 matrix of shape ``(n, len(label_names))``, column
    ``j`` for ``label_names[j]``; a row may be all 0). ``text_pairs`` holds the second
    text of each pair (sentence-pair tasks such as entailment), else ``None``.

    Attributes:
        texts: The texts (the first texts of pairs).
        labels: int32 ``(n,)`` class ids, ``0 <= label < len(label_names)``; or, for
            multi-label data, an int32 0/1 matrix ``(n, len(label_names))``.
        label_names: ``label_names[i]`` names class (or label) ``i``.
        name: What it is (``"ag_news/test"``, a file name...).
        source: Where it was read from (``"local:/data/ag_news/test.csv"``,
            ``"tfds:ag_news_subset:1.0.0"``, ``"hf:fancyzhx/ag_news"``...).
        skipped: The rows skipped with ``on_bad_rows="skip"`` (empty otherwise).
        text_pairs: The second text of each pair, or ``None`` (single texts).

    Examples:
        >>> from tfx_textzoo.datasets import TextDataset
        >>> data = TextDataset(["good", "bad", "fine"], [1, 0, 1], ["neg", "pos"], "toy")
        >>> data
        TextDataset('toy', 3 texts, 2 classes: neg=1, pos=2)
        >>> len(data), data.num_classes, data[0]
        (3, 2, ('good', 1))
        >>> data[1:].texts
        ['bad', 'fine']

        Several labels per text (a 0/1 matrix), and text pairs:

        >>> tags = TextDataset(["sunny beach", "rain"], [[1, 1, 0], [0, 0, 0]],
        ...                    ["nature", "travel", "work"], "tags")
        >>> tags
        TextDataset('tags', 2 texts, 3 labels (multi-label): nature=1, travel=1, work=0)
        >>> tags.multi_label, tags[0], tags.label_sets()
        (True, ('sunny beach', [0, 1]), [['nature', 'travel'], []])
        >>> pairs = TextDataset(["A man sleeps.", "It rains."], [1, 0],
        ...                     ["entailment", "not_entailment"],
        ...                     text_pairs=["A man is awake.", "It is wet."])
        >>> pairs[0]
        (('A man sleeps.', 'A man is awake.'), 1)
    """

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    name: str = ""
    source: str = ""
    skipped: list[SkippedRow] = dataclasses.field(default_factory=list)
    text_pairs: list[str] | None = None

    def __post_init__(self):
        self.texts = list(self.texts)
        self.label_names = [str(n) for n in self.label_names]
        self.labels = _checked_labels(self.labels, len(self.texts), self.label_names)
        if self.text_pairs is not None:
            if isinstance(self.text_pairs, str):
                raise TypeError("text_pairs must be a list of str (one per text), got a str")
            self.text_pairs = list(self.text_pairs)
            if len(self.text_pairs) != len(self.texts):
                raise ValueError(
                    f"{len(self.texts)} texts but {len(self.text_pairs)} text_pairs: a pair "
                    "needs one second text per text"
                )

    @property
    def num_classes(self) -> int:
        """The number of classes (or labels), ``len(label_names)``."""
        return len(self.label_names)

    @property
    def multi_label(self) -> bool:
        """Whether each text has a set of labels (``labels`` is a 0/1 matrix)."""
        return self.labels.ndim == 2

    def __len__(self) -> int:
        return len(self.texts)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.text_pairs is None and not self.multi_label:
            return zip(self.texts, self.labels.tolist(), strict=True)
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        """``data[i]`` is ``(text, label)``; a slice, index list or mask gives a TextDataset.

        With pairs the text is ``(text, pair)``; for multi-label data the label is the
        list of the text's label ids (``[0, 15]``; ``[]`` for none).
        """
        if isinstance(index, int | np.integer):
            text = self.texts[index]
            if self.text_pairs is not None:
                text = (text, self.text_pairs[index])
            if self.multi_label:
                return text, np.flatnonzero(self.labels[index]).tolist()
            return text, int(self.labels[index])
        if isinstance(index, slice):
            rows = list(range(len(self))[index])
        else:
            rows = np.arange(len(self))[np.asarray(index)].tolist()
        return TextDataset(
            [self.texts[i] for i in rows],
            self.labels[rows],
            list(self.label_names),
            self.name,
            self.source,
            text_pairs=None if self.text_pairs is None else [self.text_pairs[i] for i in rows],
        )

    def __repr__(self) -> str:
        counts = self.class_counts()
        shown = ", ".join(f"{name}={count:,}" for name, count in list(counts.items())[:6])
        if len(counts) > 6:
            shown += f", ... ({len(counts) - 6} more)"
        skipped = f", {len(self.skipped):,} rows skipped" if self.skipped else ""
        texts = "text pairs" if self.text_pairs is not None else "texts"
        kind = "labels (multi-label)" if self.multi_label else "classes"
        return (
            f"TextDataset({self.name!r}, {len(self):,} {texts}, {self.num_classes} {kind}: "
            f"{shown}{skipped})"
        )

    def class_counts(self) -> dict[str, int]:
        """How many texts each class (or label) has, in label order; absent ones count 0.

        For multi-label data each label counts the texts that have it, so the counts
        add up to the number of (text, label) assignments, not to ``len(data)``.

        Examples:
            >>> from tfx_textzoo.datasets import TextDataset
            >>> TextDataset(["a", "b", "c"], [0, 2, 2], ["x", "y", "z"]).class_counts()
            {'x': 1, 'y': 0, 'z': 2}
            >>> TextDataset(["a", "b"], [[1, 1, 0], [1, 0, 0]], ["x", "y", "z"]).class_counts()
            {'x': 2, 'y': 1, 'z': 0}
        """
        if self.multi_label:
            counts = self.labels.sum(axis=0).tolist()
        else:
            counts = np.bincount(self.labels, minlength=self.num_classes).tolist()
        return dict(zip(self.label_names, counts, strict=False))

    def label_sets(self) -> list[list[str]]:
        """Each text's labels as a list of names (one name per text when single-label).

        Examples:
            >>> from tfx_textzoo.datasets import TextDataset
            >>> TextDataset(["a", "b"], [[0, 1, 1], [0, 0, 0]], ["x", "y", "z"]).label_sets()
            [['y', 'z'], []]
            >>> TextDataset(["a", "b"], [1, 0], ["neg", "pos"]).label_sets()
            [['pos'], ['neg']]
        """
        names = self.label_names
        if self.multi_label:
            return [[names[j] for j in np.flatnonzero(row)] for row in self.labels]
        return [[names[i]] for i in self.labels.tolist()]

    def head(self, n: int = 5) -> list[dict[str, Any]]:
        """The first ``n`` rows as dicts.

        Keys: ``text`` (and ``text_pair`` for pairs), then ``label`` and ``label_name``,
        or for multi-label data ``labels`` (ids) and ``label_names``.

        Examples:
            >>> from tfx_textzoo.datasets import TextDataset
            >>> TextDataset(["good", "bad"], [1, 0], ["neg", "pos"]).head(1)
            [{'text': 'good', 'label': 1, 'label_name': 'pos'}]
            >>> TextDataset(["hi"], [[1, 0, 1]], ["x", "y", "z"]).head(1)
            [{'text': 'hi', 'labels': [0, 2], 'label_names': ['x', 'z']}]
        """
        rows = []
        for i in range(min(max(n, 0), len(self))):
            row: dict[str, Any] = {"text": self.texts[i]}
            if self.text_pairs is not None:
                row["text_pair"] = self.text_pairs[i]
            if self.multi_label:
                ids = np.flatnonzero(self.labels[i]).tolist()
                row["labels"] = ids
                row["label_names"] = [self.label_names[j] for j in ids]
            else:
                label = int(self.labels[i])
                row["label"] = label
                row["label_name"] = self.label_names[label]
            rows.append(row)
        return rows

    def to_tf_dataset(
        self, batch_size: int | None = None, shuffle: bool = False, seed: int | None = None
    ):
        """A ``tf.data.Dataset`` of ``(text, label)`` (tf.string, int32).

        With pairs the elements are ``((text, pair), label)``; multi-label data gives each
        text's 0/1 row (int32, ``(num_labels,)``) as its label.

        Args:
            batch_size: Batch it (default: unbatched elements).
            shuffle: Shuffle the whole dataset (again at each iteration).
            seed: Shuffle seed.

        Returns:
            The ``tf.data.Dataset``.

        Examples:
            >>> from tfx_textzoo.datasets import TextDataset
            >>> data = TextDataset(["good", "bad", "fine"], [1, 0, 1], ["neg", "pos"])
            >>> [y.tolist() for _, y in data.to_tf_dataset(batch_size=2).as_numpy_iterator()]
            [[1, 0], [1]]
        """
        import tensorflow as tf

        def strings(values):
            return tf.constant(values, dtype=tf.string, shape=[len(self)])

        texts = strings(self.texts)
        if self.text_pairs is not None:
            texts = (texts, strings(self.text_pairs))
        ds = tf.data.Dataset.from_tensor_slices((texts, self.labels))
        if shuffle:
            ds = ds.shuffle(max(len(self), 1), seed=seed, reshuffle_each_iteration=True)
        if batch_size:
            ds = ds.batch(batch_size)
        return ds


def _checked_labels(labels, n: int, label_names: list[str]) -> np.ndarray:
    """``labels`` as int32 ids ``(n,)`` or an int32 0/1 matrix ``(n, k)``, checked."""
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1 and len(label_names) != 1:
        array = array.reshape(-1)  # a column of ids
    if array.ndim == 2:
        if array.shape[0] != n:
            raise ValueError(f"{n} texts but {array.shape[0]} label rows")
        if label_names and array.shape[1] != len(label_names):
            raise ValueError(
                f"multi-label labels must have one column per label name: the matrix has "
                f"{array.shape[1]} columns, there are {len(label_names)} label names"
            )
        bad = np.flatnonzero(~np.isin(array, (0, 1)).all(axis=1)) if array.size else []
        if len(bad):
            raise ValueError(
                f"multi-label labels must be 0/1; rows {np.asarray(bad)[:10].tolist()} hold "
                f"other values (e.g. {array[bad[0]].tolist()})"
            )
        return array.astype("int32")
    array = array.reshape(-1)
    if len(array) != n:
        raise ValueError(f"{n} texts but {len(array)} labels")
    array = array.astype("int32")
    if label_names and array.size:
        bad = np.flatnonzero((array < 0) | (array >= len(label_names)))
        if bad.size:
            raise ValueError(
                f"labels must be in 0..{len(label_names) - 1} (one per label name); "
                f"rows {bad[:10].tolist()} have {sorted(set(array[bad].tolist()))[:10]}"
            )
    return array


def _check_on_bad_rows(value: str) -> str:
    if value not in ("raise", "skip"):
        raise ValueError(f"on_bad_rows must be 'raise' or 'skip', got {value!r}")
    return value


def _missing(value) -> bool:
    """None, NaN or pandas' NA (an empty cell of a DataFrame column)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and value != value
