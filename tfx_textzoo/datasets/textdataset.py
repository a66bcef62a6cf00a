"""[`TextDataset`][tfx_textzoo.datasets.TextDataset]: texts, labels, label names; the data errors.

Everything here is re-exported by [`tfx_textzoo.datasets`][tfx_textzoo.datasets]; import it
from there.
"""

from __future__ import annotations

import dataclasses
import itertools
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
    """Texts, integer labels and the label names.

    Attributes:
        texts: The texts.
        labels: Integer labels (int32), ``0 <= label < len(label_names)``.
        label_names: ``label_names[i]`` names class ``i``.
        name: What it is (``"ag_news/test"``, a file name...).
        source: Where it was read from (``"local:/data/ag_news/test.csv"``,
            ``"tfds:ag_news_subset:1.0.0"``, ``"hf:fancyzhx/ag_news"``...).
        skipped: The rows skipped with ``on_bad_rows="skip"`` (empty otherwise).

    Examples:
        >>> from tfx_textzoo.datasets import TextDataset
        >>> data = TextDataset(["good", "bad", "fine"], [1, 0, 1], ["neg", "pos"], "toy")
        >>> data
        TextDataset('toy', 3 texts, 2 classes: neg=1, pos=2)
        >>> len(data), data.num_classes, data[0]
        (3, 2, ('good', 1))
        >>> data[1:].texts
        ['bad', 'fine']
    """

    texts: list[str]
    labels: np.ndarray
    label_names: list[str]
    name: str = ""
    source: str = ""
    skipped: list[SkippedRow] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        self.texts = list(self.texts)
        self.labels = np.asarray(self.labels).reshape(-1).astype("int32")
        self.label_names = [str(n) for n in self.label_names]
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")
        if self.label_names and self.labels.size:
            bad = np.flatnonzero((self.labels < 0) | (self.labels >= len(self.label_names)))
            if bad.size:
                raise ValueError(
                    f"labels must be in 0..{len(self.label_names) - 1} (one per label name); "
                    f"rows {bad[:10].tolist()} have {sorted(set(self.labels[bad].tolist()))[:10]}"
                )

    @property
    def num_classes(self) -> int:
        """The number of classes, ``len(label_names)``."""
        return len(self.label_names)

    def __len__(self) -> int:
        return len(self.texts)

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return zip(self.texts, self.labels.tolist(), strict=True)

    def __getitem__(self, index):
        """``data[i]`` is ``(text, label)``; a slice, index list or mask gives a TextDataset."""
        if isinstance(index, int | np.integer):
            return self.texts[index], int(self.labels[index])
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
        )

    def __repr__(self) -> str:
        counts = self.class_counts()
        shown = ", ".join(f"{name}={count:,}" for name, count in list(counts.items())[:6])
        if len(counts) > 6:
            shown += f", ... ({len(counts) - 6} more)"
        skipped = f", {len(self.skipped):,} rows skipped" if self.skipped else ""
        return (
            f"TextDataset({self.name!r}, {len(self):,} texts, {self.num_classes} classes: "
            f"{shown}{skipped})"
        )

    def class_counts(self) -> dict[str, int]:
        """How many texts each class has, in label order (classes without texts count 0).

        Examples:
            >>> from tfx_textzoo.datasets import TextDataset
            >>> TextDataset(["a", "b", "c"], [0, 2, 2], ["x", "y", "z"]).class_counts()
            {'x': 1, 'y': 0, 'z': 2}
        """
        counts = np.bincount(self.labels, minlength=self.num_classes).tolist()
        return dict(zip(self.label_names, counts, strict=False))

    def head(self, n: int = 5) -> list[dict[str, Any]]:
        """The first ``n`` rows as dicts with ``text``, ``label`` and ``label_name``.

        Examples:
            >>> from tfx_textzoo.datasets import TextDataset
            >>> TextDataset(["good", "bad"], [1, 0], ["neg", "pos"]).head(1)
            [{'text': 'good', 'label': 1, 'label_name': 'pos'}]
        """
        return [
            {"text": text, "label": label, "label_name": self.label_names[label]}
            for text, label in itertools.islice(self, n)
        ]

    def to_tf_dataset(
        self, batch_size: int | None = None, shuffle: bool = False, seed: int | None = None
    ):
        """A ``tf.data.Dataset`` of ``(text, label)`` (tf.string, int32).

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

        ds = tf.data.Dataset.from_tensor_slices(
            (tf.constant(self.texts, dtype=tf.string, shape=[len(self)]), self.labels)
        )
        if shuffle:
            ds = ds.shuffle(max(len(self), 1), seed=seed, reshuffle_each_iteration=True)
        if batch_size:
            ds = ds.batch(batch_size)
        return ds


def _check_on_bad_rows(value: str) -> str:
    if value not in ("raise", "skip"):
        raise ValueError(f"on_bad_rows must be 'raise' or 'skip', got {value!r}")
    return value


def _missing(value) -> bool:
    """None, NaN or pandas' NA (an empty cell of a DataFrame column)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, float) and value != value
