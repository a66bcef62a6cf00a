r"""Datasets: named text-classification datasets, csv/parquet readers and ``TextDataset``.

[`load`][tfx_textzoo.datasets.load] returns a [`TextDataset`][tfx_textzoo.datasets.TextDataset]
(texts, integer labels, label names) for a
named dataset (see `DATASETS` and [`list_datasets`][tfx_textzoo.datasets.list_datasets]). Each split
is taken from
the first source that has it:

1. local files: ``data_dir=`` (then nothing else is tried), or ``$TEXTZOO_DATA/<name>/``;
2. tensorflow-datasets: a prepared data directory (``tfds_data_dir=``, ``$TFDS_DATA_DIR``
   or ``~/tensorflow_datasets``), downloaded and prepared there when online;
3. the dataset's Hugging Face Hub repo: its parquet files, cached in ``$TEXTZOO_HOME/hf``.

When none has it, [`DatasetNotFoundError`][tfx_textzoo.datasets.DatasetNotFoundError] lists each
source, why it failed, and
which files to put where. In offline mode (``TEXTZOO_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``)
nothing is downloaded and the network is never tried. ``"ag_news-sample"`` is a
4,000 / 1,000-text AG News sample shipped with the package: always available.

[`from_csv`][tfx_textzoo.datasets.from_csv] and [`from_parquet`][tfx_textzoo.datasets.from_parquet]
read your own files. Every reader checks every
row: bad rows (missing or out-of-range labels, empty texts, wrong column counts, copies
of the header row, a quote that is never closed or that swallows the lines after it,
fields over `MAX_FIELD_CHARS`, bytes that are not UTF-8) raise
[`DataFormatError`][tfx_textzoo.datasets.DataFormatError] naming the file and the lines, or with
``on_bad_rows="skip"``
are skipped, listed in ``TextDataset.skipped`` and reported with a
[`BadRowsWarning`][tfx_textzoo.datasets.BadRowsWarning]. Nothing is dropped silently.

Texts of the named datasets are cleaned the same way whatever the source: the parts
(e.g. AG News' title and description) are joined with a space, the Zhang et al. csv
escapes are undone (a backslash in AG News / DBpedia, ``\n`` in Yelp), and runs of
whitespace become one space. [`from_csv`][tfx_textzoo.datasets.from_csv] and
[`from_parquet`][tfx_textzoo.datasets.from_parquet] only strip each
part and join the parts with a space.

Environment variables:
    TEXTZOO_DATA: a directory with one sub-directory of files per dataset
        (``$TEXTZOO_DATA/ag_news/train.csv``...).
    TFDS_DATA_DIR: tensorflow-datasets' data directory.
    TEXTZOO_HOME: the cache (Hub downloads go to ``$TEXTZOO_HOME/hf``).
    TEXTZOO_OFFLINE: ``1`` never to touch the network (``HF_HUB_OFFLINE=1`` too).
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import io
import itertools
import json
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from tfx_textzoo.errors import SingleClassError, TextzooError, UnknownDatasetError
from tfx_textzoo.weights import cache_dir, is_offline

AG_NEWS_LABELS = ["World", "Sports", "Business", "Sci/Tech"]
TREC_LABELS = ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
DBPEDIA_LABELS = [
    "Company",
    "EducationalInstitution",
    "Artist",
    "Athlete",
    "OfficeHolder",
    "MeanOfTransportation",
    "Building",
    "NaturalPlace",
    "Village",
    "Animal",
    "Plant",
    "Album",
    "Film",
    "WrittenWork",
]

_EXTRA = 'pip install "tensorflow-datasets>=4.9" "pyarrow>=15", the [datasets] extra'
_SOURCES = ("auto", "local", "tfds", "hf")


class DatasetNotFoundError(TextzooError, FileNotFoundError):
    """No source has the requested split; the message lists every source tried and why."""


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

    def __init__(self, problem: str, advice: str = "") -> None:
        self.problem = problem
        self.advice = advice
        joiner = "\n" if "\n" in problem else " "
        super().__init__(f"{problem}{joiner}{advice}" if advice else problem)


class BadRowsError(DataFormatError):
    """Rows that cannot be used (bad labels, empty texts, broken quotes...); skippable."""


class DataEncodingError(DataFormatError):
    """A file holds bytes that are not valid in the encoding it is read with."""


class MissingColumnsError(DataFormatError):
    """The columns asked for are not in the file (the file's columns are listed)."""


class BadRowsWarning(UserWarning):
    """Rows were skipped (``on_bad_rows="skip"``); they are listed in ``.skipped``."""


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


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    r"""One named dataset: its classes, splits, and where each source keeps it.

    Attributes:
        name: The name [`load`][tfx_textzoo.datasets.load] takes.
        label_names: Class names, in label-id order.
        splits: Split names (``"train"``, ``"validation"``, ``"test"``).
        description: One line.
        local_format: How its own files are laid out: ``"zhang_csv"`` (Zhang et al. 2015:
            ``class,<text columns>``, classes 1-based), ``"glue_tsv"``, ``"trec"``,
            ``"aclimdb"`` (``<split>/pos/*.txt``, ``<split>/neg/*.txt``) or
            ``"embedded"`` (shipped with the package).
        local_files: Split -> file (or folder) name in that format. Every dataset also
            reads Hub-style ``<split>.parquet``, ``<split>-*.parquet`` and
            ``data/<split>-*.parquet`` (and ``<split>.csv`` with a header, except for
            ``zhang_csv`` where ``<split>.csv`` may have either layout).
        zhang_columns: Columns of the Zhang et al. csv (``zhang_csv`` only).
        text_columns: Text column(s) of the Hub's parquet files (joined with a space);
            local parquet / csv files with these columns are read the same way, and
            ``text``/``label`` columns are accepted too.
        label_column: Label column of the Hub's parquet files.
        hub_repo: The Hugging Face Hub dataset repo.
        hub_label_order: Our label names in the Hub's label-id order, when it differs
            (used when a parquet file does not carry its class names).
        tfds_name: The tensorflow-datasets name (``None``: none exists).
        tfds_text: tfds text feature(s), joined with a space.
        tfds_label: tfds label feature.
        tfds_label_order: Our label names in tfds' label-id order, when it differs.
        hidden_label_splits: Splits whose labels tfds and the Hub hide (all ``-1``).
        escapes: Escapes of the original csv to undo: ``"backslash"`` (a backslash
            stands for a line break) or ``"newline"`` (``\n``); ``None``: none.
        sizes: Expected number of texts per split (a sanity note; not enforced).
    """

    name: str
    label_names: tuple[str, ...]
    splits: tuple[str, ...]
    description: str
    local_format: str
    local_files: dict[str, str]
    zhang_columns: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ("text",)
    label_column: str = "label"
    hub_repo: str | None = None
    hub_label_order: tuple[str, ...] | None = None
    tfds_name: str | None = None
    tfds_text: tuple[str, ...] = ("text",)
    tfds_label: str = "label"
    tfds_label_order: tuple[str, ...] | None = None
    hidden_label_splits: tuple[str, ...] = ()
    escapes: str | None = None
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        DatasetSpec(
            name="ag_news",
            label_names=tuple(AG_NEWS_LABELS),
            splits=("train", "test"),
            description="AG News topic classification (Zhang et al. 2015), 4 classes",
            local_format="zhang_csv",
            local_files={"train": "train.csv", "test": "test.csv"},
            zhang_columns=("class", "title", "description"),
            hub_repo="fancyzhx/ag_news",
            tfds_name="ag_news_subset",
            tfds_text=("title", "description"),
            escapes="backslash",
            sizes={"train": 120_000, "test": 7_600},
        ),
        DatasetSpec(
            name="ag_news-sample",
            label_names=tuple(AG_NEWS_LABELS),
            splits=("train", "test"),
            description="A 4,000 / 1,000-text AG News sample shipped with the package",
            local_format="embedded",
            local_files={"train": "ag_news_sample_train.csv", "test": "ag_news_sample_test.csv"},
            zhang_columns=("class", "title", "description"),
            escapes="backslash",
            sizes={"train": 4_000, "test": 1_000},
        ),
        DatasetSpec(
            name="dbpedia",
            label_names=tuple(DBPEDIA_LABELS),
            splits=("train", "test"),
            description="DBpedia ontology classification (Zhang et al. 2015), 14 classes",
            local_format="zhang_csv",
            local_files={"train": "train.csv", "test": "test.csv"},
            zhang_columns=("class", "title", "content"),
            text_columns=("title", "content"),
            hub_repo="fancyzhx/dbpedia_14",
            escapes="backslash",
            sizes={"train": 560_000, "test": 70_000},
        ),
        DatasetSpec(
            name="imdb",
            label_names=("neg", "pos"),
            splits=("train", "test"),
            description="IMDB movie-review sentiment (Maas et al. 2011), 2 classes",
            local_format="aclimdb",
            local_files={"train": "train", "test": "test"},
            hub_repo="stanfordnlp/imdb",
            tfds_name="imdb_reviews",
            sizes={"train": 25_000, "test": 25_000},
        ),
        DatasetSpec(
            name="sst2",
            label_names=("negative", "positive"),
            splits=("train", "validation", "test"),
            description=(
                "SST-2 sentence sentiment (GLUE), 2 classes; test labels only in the "
                "SentEval test.tsv (GLUE hides them)"
            ),
            local_format="glue_tsv",
            local_files={"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"},
            text_columns=("sentence",),
            hub_repo="stanfordnlp/sst2",
            tfds_name="glue/sst2",
            tfds_text=("sentence",),
            hidden_label_splits=("test",),
            sizes={"train": 67_349, "validation": 872, "test": 1_821},
        ),
        DatasetSpec(
            name="trec",
            label_names=tuple(TREC_LABELS),
            splits=("train", "test"),
            description="TREC question classification (Li & Roth 2002), 6 coarse classes",
            local_format="trec",
            local_files={"train": "train_5500.label", "test": "TREC_10.label"},
            label_column="coarse_label",
            hub_repo="CogComp/trec",
            hub_label_order=("ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"),
            tfds_name="trec",
            tfds_label="label-coarse",
            tfds_label_order=("DESC", "ENTY", "ABBR", "HUM", "NUM", "LOC"),
            sizes={"train": 5_452, "test": 500},
        ),
        DatasetSpec(
            name="yelp_polarity",
            label_names=("negative", "positive"),
            splits=("train", "test"),
            description="Yelp review polarity (Zhang et al. 2015), 2 classes",
            local_format="zhang_csv",
            local_files={"train": "train.csv", "test": "test.csv"},
            zhang_columns=("class", "text"),
            hub_repo="fancyzhx/yelp_polarity",
            tfds_name="yelp_polarity_reviews",
            escapes="newline",
            sizes={"train": 560_000, "test": 38_000},
        ),
    ]
}


def list_datasets() -> list[str]:
    """The names [`load`][tfx_textzoo.datasets.load] knows, sorted.

    Examples:
        >>> from tfx_textzoo.datasets import list_datasets
        >>> list_datasets()
        ['ag_news', 'ag_news-sample', 'dbpedia', 'imdb', 'sst2', 'trec', 'yelp_polarity']
    """
    return sorted(DATASETS)


def load(
    name: str,
    split: str | Sequence[str] = "train",
    *,
    data_dir: str | os.PathLike | None = None,
    source: str = "auto",
    tfds_data_dir: str | os.PathLike | None = None,
    on_bad_rows: str = "raise",
) -> TextDataset | list[TextDataset]:
    """Load a named dataset's split(s) as [`TextDataset`][tfx_textzoo.datasets.TextDataset] objects.

    Each split comes from the first source that has it (see the module docstring):
    ``data_dir`` (only that is tried), else ``$TEXTZOO_DATA/<name>/``, tensorflow-datasets,
    then the Hugging Face Hub. Several splits may come from different sources; each
    dataset's ``source`` says where it came from.

    Args:
        name: A name from [`list_datasets`][tfx_textzoo.datasets.list_datasets].
        split: One split name (default ``"train"``), or a list of them.
        data_dir: A directory with the dataset's own files (``train.csv``, ``dev.tsv``,
            ``TREC_10.label``, ``train/pos/*.txt``, ``train.parquet``..., see
            [`DatasetSpec`][tfx_textzoo.datasets.DatasetSpec]); when given, no other source is
            tried.
        source: ``"auto"`` (all, in order), or only ``"local"``, ``"tfds"`` or ``"hf"``.
        tfds_data_dir: tensorflow-datasets' data directory (default ``$TFDS_DATA_DIR``,
            else ``~/tensorflow_datasets``).
        on_bad_rows: ``"raise"`` (default) or ``"skip"`` bad rows (listed in ``.skipped``,
            with a [`BadRowsWarning`][tfx_textzoo.datasets.BadRowsWarning]).

    Returns:
        One [`TextDataset`][tfx_textzoo.datasets.TextDataset] for a ``str`` split, a list for a list
        of splits.

    Raises:
        ValueError: An unknown dataset (close names are suggested), split or source.
        DatasetNotFoundError: No source has a split; says why for each, and which files
            to put where.
        DataFormatError: A source's data is malformed (file and lines named).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> train, test = textzoo.datasets.load("ag_news-sample", split=["train", "test"])
        >>> len(train), len(test), test.label_names
        (4000, 1000, ['World', 'Sports', 'Business', 'Sci/Tech'])
    """
    spec = _get_spec(name)
    splits = [split] if isinstance(split, str) else list(split)
    if not splits:
        raise ValueError(f"split is empty; {spec.name}'s splits are {list(spec.splits)}")
    for s in splits:
        _check_split(spec, s)
    if source not in _SOURCES:
        raise ValueError(f"source must be one of {list(_SOURCES)}, got {source!r}")
    if data_dir is not None and source in ("tfds", "hf"):
        raise ValueError(
            f"data_dir= holds local files, but source={source!r}; for a tensorflow-datasets "
            "data directory pass tfds_data_dir= instead"
        )
    _check_on_bad_rows(on_bad_rows)
    loaded = [_load_split(spec, s, data_dir, source, tfds_data_dir, on_bad_rows) for s in splits]
    return loaded[0] if isinstance(split, str) else loaded


def from_csv(
    path: str | os.PathLike,
    text_columns: str | int | Sequence[str | int] = "text",
    label_column: str | int = "label",
    *,
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
    """
    return _read_csv(
        Path(path),
        _as_list(text_columns),
        label_column,
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
    label_names: Sequence[str] | None = None,
    one_based: bool = False,
    on_bad_rows: str = "raise",
    name: str | None = None,
) -> TextDataset:
    """Read parquet file(s) of texts and labels (e.g. a Hugging Face dataset's files).

    Args:
        path: A file, a list of files, or a directory (all its ``*.parquet``, sorted).
        text_columns: The text column(s), joined with a space.
        label_column: The label column.
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


def sample_path(split: str) -> Path:
    """Path of the embedded AG News sample's ``"train"`` or ``"test"`` csv.

    Examples:
        >>> from tfx_textzoo.datasets import sample_path
        >>> sample_path("train").name
        'ag_news_sample_train.csv'
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return Path(str(resources.files("tfx_textzoo") / "data" / f"ag_news_sample_{split}.csv"))


def load_ag_news_sample(split: str = "train") -> TextDataset:
    """The embedded AG News sample (4,000 train / 1,000 test texts), always offline.

    Same as ``load("ag_news-sample", split)``.

    Examples:
        >>> from tfx_textzoo.datasets import load_ag_news_sample
        >>> train = load_ag_news_sample("train")
        >>> len(train), sorted(set(train.labels.tolist()))
        (4000, [0, 1, 2, 3])
    """
    data = read_ag_news_csv(sample_path(split))
    data.name = f"ag_news-sample/{split}"
    data.source = f"embedded:{sample_path(split)}"
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


# --- load(): names, splits, sources ---------------------------------------------------


def _get_spec(name: str) -> DatasetSpec:
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a str, got {type(name).__name__}")
    if name in DATASETS:
        return DATASETS[name]
    key = name.strip().lower().replace("-", "_")
    matches = [n for n in DATASETS if n.replace("-", "_") == key]
    matches = matches or difflib.get_close_matches(name.lower(), list(DATASETS), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""
    raise UnknownDatasetError(
        f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(list_datasets())}.",
        name,
        "For your own files use from_csv(...) or from_parquet(...).",
    )


def _check_split(spec: DatasetSpec, split: str) -> None:
    if split in spec.splits:
        return
    if not isinstance(split, str):
        raise TypeError(f"split must be a str or a list of str, got {type(split).__name__}")
    aliases = {"dev": "validation", "val": "validation", "valid": "validation", "eval": "test"}
    guess = aliases.get(split.lower()) or next(
        iter(difflib.get_close_matches(split, spec.splits, n=1, cutoff=0.5)), None
    )
    hint = f" Did you mean {guess!r}?" if guess in spec.splits else ""
    raise ValueError(
        f"{spec.name} has no split {split!r}; its splits are: {', '.join(spec.splits)}.{hint}"
    )


def _check_on_bad_rows(value: str) -> str:
    if value not in ("raise", "skip"):
        raise ValueError(f"on_bad_rows must be 'raise' or 'skip', got {value!r}")
    return value


def _load_split(spec, split, data_dir, source, tfds_data_dir, on_bad_rows) -> TextDataset:
    if spec.local_format == "embedded":
        if data_dir is not None or source in ("tfds", "hf"):
            raise ValueError(
                f"{spec.name} ships with the package: it has no data_dir or {source} source "
                "(did you mean 'ag_news'?)"
            )
        return load_ag_news_sample(split)
    attempts: list[tuple[str, str]] = []
    for kind, label, fetch in _sources(spec, split, data_dir, source, tfds_data_dir, on_bad_rows):
        try:
            return fetch()
        except DataFormatError:
            raise  # the data is there but malformed: say so, do not try elsewhere
        except ImportError:
            if kind == "local":
                raise  # the files are there; a reader's dependency is missing
            attempts.append((label, _import_failure(kind)))
        except Exception as err:  # noqa: BLE001 - every failure is reported below
            attempts.append((label, _one_line(err)))
    raise DatasetNotFoundError(_not_found_message(spec, split, attempts, data_dir))


def _sources(spec, split, data_dir, source, tfds_data_dir, on_bad_rows):
    """``(kind, label, fetch)`` for each source to try, in order."""
    if data_dir is not None:
        path = Path(data_dir).expanduser()
        return [
            ("local", f"[local] {path}", lambda: _from_local_dir(spec, split, path, on_bad_rows))
        ]
    out = []
    if source in ("auto", "local"):
        env = os.environ.get("TEXTZOO_DATA")
        if env:
            path = Path(env).expanduser() / spec.name
            label = f"[local] $TEXTZOO_DATA/{spec.name} = {path}"
            out.append(("local", label, lambda: _from_local_dir(spec, split, path, on_bad_rows)))
        else:
            out.append(("local", "[local] $TEXTZOO_DATA", _no_local_dir))
    if source in ("auto", "tfds"):
        tfds_dir = tfds_data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
        label = f"[tfds] {spec.tfds_name or '(none)'} in {tfds_dir}"
        out.append(("tfds", label, lambda: _from_tfds(spec, split, tfds_data_dir, on_bad_rows)))
    if source in ("auto", "hf"):
        label = f"[hf] {spec.hub_repo or '(none)'} (cache {cache_dir() / 'hf'})"
        out.append(("hf", label, lambda: _from_hub(spec, split, on_bad_rows)))
    return out


def _no_local_dir():
    raise FileNotFoundError("TEXTZOO_DATA is not set and no data_dir= was given")


def _import_failure(kind: str) -> str:
    if kind == "tfds":
        return f"tensorflow-datasets is not installed ({_EXTRA})"
    return f"pyarrow is not installed, it reads the parquet files ({_EXTRA})"


def _not_found_message(spec, split, attempts, data_dir) -> str:
    lines = [f"Could not load split {split!r} of dataset {spec.name!r}. Sources tried, in order:"]
    for i, (label, why) in enumerate(attempts, 1):
        lines.append(f"  {i}. {label}\n     -> {why}")
    if data_dir is not None:
        lines.append("(data_dir= was given, so no other source was tried.)")
    mode = "on (TEXTZOO_OFFLINE / HF_HUB_OFFLINE)" if is_offline() else "off"
    lines.append(f"Offline mode: {mode}. To fix, do one of:")
    env = os.environ.get("TEXTZOO_DATA")
    where = f"$TEXTZOO_DATA/{spec.name}/ (TEXTZOO_DATA={env or '<not set>'})"
    lines.append(f"  - put these files in a directory DIR and pass data_dir=DIR, or in {where}:")
    lines += [f"      {line}" for line in _local_file_help(spec, split)]
    hidden = split in spec.hidden_label_splits
    if spec.tfds_name and not hidden:
        lines.append(
            "  - prepare it with tensorflow-datasets once, with network access: python -c "
            f"\"import tensorflow_datasets as tfds; tfds.builder('{spec.tfds_name}')"
            '.download_and_prepare()"; then copy that data directory (default '
            "~/tensorflow_datasets) and point TFDS_DATA_DIR or tfds_data_dir= at it"
        )
    if spec.hub_repo and not hidden:
        lines.append(
            f"  - get {spec.hub_repo} from the Hugging Face Hub: run once with network access "
            "(TEXTZOO_OFFLINE and HF_HUB_OFFLINE unset), or download it yourself: "
            f"hf download {spec.hub_repo} --repo-type dataset --include '*.parquet' "
            f"--cache-dir {cache_dir() / 'hf'}"
        )
    if hidden:
        lines.append(f"  ({_hidden_labels(spec, split)})")
    return "\n".join(lines)


def _local_file_help(spec: DatasetSpec, split: str) -> list[str]:
    native = spec.local_files.get(split, "")
    n = len(spec.label_names)
    if spec.local_format == "zhang_csv":
        cols = ",".join(spec.zhang_columns)
        first = (
            f"{native}: Zhang et al. csv {cols} with classes 1..{n}, header row optional "
            "(an optional classes.txt names the classes, one per line)"
        )
    elif spec.local_format == "glue_tsv":
        first = (
            f"{native}: GLUE tsv with the header sentence<TAB>label (0 = negative, 1 = positive)"
        )
    elif spec.local_format == "trec":
        first = f"{native}: TREC 'COARSE:fine question' lines (latin-1)"
    else:  # aclimdb
        first = (
            f"{split}/pos/*.txt and {split}/neg/*.txt (the aclImdb layout; "
            f"aclImdb/{split}/ also works)"
        )
    cols = ",".join([*spec.text_columns, spec.label_column])
    if cols != "text,label":
        cols += " (or text,label)"
    order = spec.hub_label_order or spec.label_names
    csv_too = "" if spec.local_format == "zhang_csv" else f" / {split}.csv with a header"
    return [
        first,
        f"or {split}.parquet / {split}-*.parquet / data/{split}-*.parquet{csv_too}, columns "
        f"{cols}, label ids 0..{n - 1} = {', '.join(order)}",
    ]


def _hidden_labels(spec: DatasetSpec, split: str) -> str:
    return (
        f"{spec.name}'s {split!r} labels are hidden in GLUE (tensorflow-datasets and the Hub "
        f"give -1 for every text): use the SentEval-labelled {spec.local_files.get(split)} "
        "via data_dir= / TEXTZOO_DATA, or evaluate on split='validation'"
    )


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(err).__name__}: {text}"


# --- the sources ----------------------------------------------------------------------


def _from_local_dir(spec, split, directory: Path, on_bad_rows) -> TextDataset:
    if not directory.exists():
        raise FileNotFoundError(f"{directory} does not exist")
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} is a file; pass the directory that holds it")
    found = _local_split_files(spec, split, directory)
    if found is None:
        others = [s for s in spec.splits if s != split and _local_split_files(spec, s, directory)]
        hint = f"; it has files for split(s) {others}: pass split=..." if others else ""
        raise FileNotFoundError(
            f"{directory} has no {split!r} files (looked for "
            f"{' / '.join(_local_patterns(spec, split))}){hint}"
        )
    kind, paths = found
    names = list(spec.label_names)
    if kind == spec.local_format == "zhang_csv":
        data = _read_zhang_csv(paths[0], spec, names, on_bad_rows)
    elif kind == spec.local_format == "glue_tsv":
        data = _read_glue_tsv(paths[0], on_bad_rows)
    elif kind == spec.local_format == "trec":
        data = _read_trec_file(paths[0], on_bad_rows)
    elif kind == "aclimdb":
        data = _read_aclimdb(paths[0], names, on_bad_rows)
    else:  # Hub-style parquet or csv
        data = _read_hub_style(spec, paths, kind, on_bad_rows)
    renamed = _classes_txt(spec, directory)
    if renamed:
        data.label_names = renamed
    data.name = f"{spec.name}/{split}"
    data.source = f"local:{paths[0] if len(paths) == 1 else directory}"
    return data


def _local_patterns(spec: DatasetSpec, split: str) -> list[str]:
    native = spec.local_files.get(split)
    first = f"{native}/pos|neg/*.txt" if spec.local_format == "aclimdb" else native
    csv_too = [] if spec.local_format == "zhang_csv" else [f"{split}.csv"]
    return [first, f"{split}.parquet", f"{split}-*.parquet", f"data/{split}-*.parquet", *csv_too]


def _local_split_files(spec, split, directory: Path) -> tuple[str, list[Path]] | None:
    native = spec.local_files.get(split)
    if spec.local_format == "aclimdb":
        for root in (directory, directory / "aclImdb"):
            if (root / split / "pos").is_dir() or (root / split / "neg").is_dir():
                return "aclimdb", [root / split]
    elif native and (directory / native).is_file():
        return spec.local_format, [directory / native]
    parquet = _find_parquet(directory, split)
    if parquet:
        return "parquet", parquet
    if spec.local_format != "zhang_csv" and (directory / f"{split}.csv").is_file():
        return "csv", [directory / f"{split}.csv"]
    return None


def _find_parquet(root: Path, split: str) -> list[Path]:
    """The split's parquet files: the first of these layouts that has any."""
    for pattern in (
        f"{split}.parquet",
        f"{split}-*.parquet",
        f"*/{split}-*.parquet",  # data/train-00000-of-00001.parquet, plain_text/...
        f"{split}/*.parquet",
        f"*/{split}/*.parquet",  # the Hub's refs/convert/parquet branch
    ):
        files = sorted(p for p in root.glob(pattern) if p.is_file())
        if files:
            return files
    return []


def _classes_txt(spec: DatasetSpec, directory: Path) -> list[str] | None:
    path = directory / "classes.txt"
    if not path.is_file():
        return None
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    names = [n for n in names if n]
    if len(names) != len(spec.label_names):
        raise DataFormatError(
            f"{path} lists {len(names)} classes ({', '.join(names)}) but {spec.name} has "
            f"{len(spec.label_names)} ({', '.join(spec.label_names)}).",
            "Fix or remove it; for another dataset use from_csv(..., label_names=[...]).",
        )
    return names


def _from_tfds(spec, split, tfds_data_dir, on_bad_rows) -> TextDataset:
    if not spec.tfds_name:
        raise LookupError(f"tensorflow-datasets has no {spec.name} dataset")
    if split in spec.hidden_label_splits:
        raise LookupError(_hidden_labels(spec, split))
    tfds = _import_tfds()
    data_dir = os.fspath(tfds_data_dir or os.environ.get("TFDS_DATA_DIR") or "") or None
    builder = tfds.builder(spec.tfds_name, data_dir=data_dir)
    if not builder.is_prepared():
        if is_offline():
            raise FileNotFoundError(
                f"offline mode and {spec.tfds_name} is not prepared in {builder.data_dir}"
            )
        builder.download_and_prepare()
    if split not in builder.info.splits:
        raise LookupError(f"{spec.tfds_name} has no split {split!r}")
    where = f"tfds {spec.tfds_name} {split} ({builder.data_dir})"
    feature = builder.info.features[spec.tfds_label]
    remap = _remap(getattr(feature, "names", None), spec.tfds_label_order, spec.label_names, where)
    rows = _Rows(where, label_names=spec.label_names, remap=remap, on_bad_rows=on_bad_rows)
    rows.unit = "row"
    dataset = builder.as_dataset(split=split, shuffle_files=False).batch(4096)
    number = 0
    for batch in tfds.as_numpy(dataset):
        parts = [batch[c] for c in spec.tfds_text]
        for i, label in enumerate(batch[spec.tfds_label].tolist()):
            number += 1
            text = " ".join(_decode(p[i]) for p in parts)
            rows.add(number, _clean(text, spec.escapes), label)
    return rows.build(
        f"{spec.name}/{split}", f"tfds:{spec.tfds_name}:{builder.version} ({builder.data_dir})"
    )


def _from_hub(spec, split, on_bad_rows) -> TextDataset:
    if not spec.hub_repo:
        raise LookupError(f"no Hugging Face Hub repo is known for {spec.name}")
    if split in spec.hidden_label_splits:
        raise LookupError(_hidden_labels(spec, split))
    import huggingface_hub

    offline = is_offline()
    patterns = [
        f"{split}.parquet",
        f"{split}-*.parquet",
        f"*/{split}-*.parquet",
        f"{split}/*.parquet",
        f"*/{split}/*.parquet",
    ]
    reasons = []
    cached = False
    for revision in (None, "refs/convert/parquet"):
        try:
            path = huggingface_hub.snapshot_download(
                spec.hub_repo,
                repo_type="dataset",
                revision=revision,
                cache_dir=cache_dir() / "hf",
                allow_patterns=patterns,
                local_files_only=offline,
                etag_timeout=5,
            )
        except Exception as err:  # noqa: BLE001 - reported below
            reasons.append(f"{revision or 'main'}: {_one_line(err)}")
            continue
        files = _find_parquet(Path(path), split)
        if files:
            data = _read_hub_style(spec, files, "parquet", on_bad_rows)
            data.name = f"{spec.name}/{split}"
            data.source = f"hf:{spec.hub_repo}" + (f"@{revision}" if revision else "")
            return data
        reasons.append(f"{revision or 'main'}: no parquet files for split {split!r} in {path}")
        cached = True
    if offline and not cached:
        raise FileNotFoundError(
            f"offline mode and {spec.hub_repo} ({split}) is not in the cache {cache_dir() / 'hf'}"
        )
    raise FileNotFoundError("; ".join(reasons))


def _import_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as err:
        raise ImportError(f"tensorflow-datasets is not installed ({err}); {_EXTRA}") from err
    return tfds


def _import_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ImportError(f"reading parquet files needs pyarrow ({err}); {_EXTRA}") from err
    return pq


# --- readers --------------------------------------------------------------------------


def _read_hub_style(spec: DatasetSpec, paths: list[Path], kind: str, on_bad_rows) -> TextDataset:
    """Parquet / csv-with-header files with the Hub's columns (or ``text``, ``label``)."""
    available = (
        _parquet_columns(paths[0]) if kind == "parquet" else _csv_header(paths[0], ",", "utf-8")
    )
    columns, label, order = list(spec.text_columns), spec.label_column, spec.hub_label_order
    if not set([*columns, label]) <= set(available) and {"text", "label"} <= set(available):
        columns, label, order = ["text"], "label", None
    clean = _cleaner(spec.escapes)
    if kind == "parquet":
        return _read_parquet(
            paths,
            columns,
            label,
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
    wanted = [*text_columns, label_column]
    by_name = any(isinstance(c, str) for c in wanted)
    if header not in (True, False, "auto"):
        raise ValueError(f"header must be True, False or 'auto', got {header!r}")
    if header is False and by_name:
        raise ValueError(
            "columns given by name need a header row (header=True or 'auto'); for a file "
            "without one, give 0-based column indices"
        )
    rows = _Rows(str(path), label_names=label_names, one_based=one_based, on_bad_rows=on_bad_rows)
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
                "Pass text_columns=[...] and label_column='...' (or header=False and 0-based "
                "column indices).",
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
    *text_index, label_index = index
    clean = clean or _strip
    for line, row in _header_copies_rejected(itertools.chain(first, records), header_row, rows):
        if len(row) != ncols:
            rows.reject(
                line, "wrong number of columns", f"expected {ncols} columns, got {len(row)}"
            )
            continue
        text = " ".join(p for p in (row[i].strip() for i in text_index) if p)
        rows.add(line, clean(text), row[label_index])
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
    rows = _Rows(where or str(files[0]), one_based=one_based, on_bad_rows=on_bad_rows)
    rows.unit = "row"
    for path in files:
        schema = pq.read_schema(path)
        missing = [c for c in [*text_columns, label_column] if c not in schema.names]
        if missing:
            raise MissingColumnsError(
                f"{path}: column(s) {missing} not found; the file has columns {schema.names}.",
                "Pass text_columns=[...] and label_column='...'.",
            )
        if path == files[0]:
            recorded = _hub_class_names(schema, label_column)
            if label_names is None and recorded:
                rows.label_names = list(recorded)
            elif label_names is not None:
                rows.label_names = list(label_names)
                rows.remap = _remap(recorded, label_order, label_names, str(path))
        table = pq.read_table(path, columns=[*text_columns, label_column])
        parts = [table.column(c).to_pylist() for c in text_columns]
        labels = table.column(label_column).to_pylist()
        for number, (texts, label) in enumerate(
            zip(zip(*parts, strict=True), labels, strict=True), 1
        ):
            text = " ".join(t for t in (_text_part(p) for p in texts) if t)
            rows.add(number, clean(text), label, file=str(path))
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
        >>> from tfx_textzoo.datasets import _quote_problem
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

    def __init__(self, where, *, label_names=None, one_based=False, remap=None, on_bad_rows):
        self.where = where
        self.label_names = None if label_names is None else list(label_names)
        self.one_based = one_based
        self.remap = remap
        self.on_bad_rows = _check_on_bad_rows(on_bad_rows)
        self.unit = "line"
        self.texts: list[str] = []
        self.labels: list = []
        self.lines: list[int] = []
        self.file_ids: list[int] = []
        self.files = [where]
        self._file_ids = {where: 0}
        self.bad: list[tuple[int, int, str, str]] = []  # (file id, line, kind, detail)
        self.total = 0

    def add(self, line: int, text: str, label, file: str | None = None) -> None:
        self.total += 1
        if not text:
            self.bad.append((self._file_id(file), line, "empty text", "empty text"))
            return
        self.texts.append(text)
        self.labels.append(label)
        self.lines.append(line)
        self.file_ids.append(self._file_id(file))

    def reject(self, line: int, kind: str, detail: str, file: str | None = None) -> None:
        self.total += 1
        self.bad.append((self._file_id(file), line, kind, detail))

    def build(self, name: str, source: str) -> TextDataset:
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
        keep = ids >= 0
        texts = self.texts if not label_bad else list(itertools.compress(self.texts, keep))
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
        return TextDataset(texts, ids[keep], names, name, source, skipped)

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
