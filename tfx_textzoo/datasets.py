"""Datasets: the embedded AG News sample and the AG News csv format."""

from __future__ import annotations

import csv
import dataclasses
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
