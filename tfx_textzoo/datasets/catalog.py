"""The dataset table: `DATASETS`, `DatasetSpec` and `list_datasets`.

Pure data: one [`DatasetSpec`][tfx_textzoo.datasets.DatasetSpec] per name
[`load`][tfx_textzoo.datasets.load] knows. Everything here is re-exported by
[`tfx_textzoo.datasets`][tfx_textzoo.datasets].
"""

from __future__ import annotations

import dataclasses
import difflib

from tfx_textzoo.errors import UnknownDatasetError

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
#: GoEmotions' 28 labels in id order (its ``emotions.txt``; 27 = neutral).
GOEMOTIONS_LABELS = [
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
]
BBC_NEWS_LABELS = ["business", "entertainment", "politics", "sport", "tech"]


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    r"""One named dataset: its classes, splits, and where each source keeps it.

    Attributes:
        name: The name [`load`][tfx_textzoo.datasets.load] takes.
        label_names: Class names, in label-id order.
        splits: Split names (``"train"``, ``"validation"``, ``"test"``).
        description: One line.
        local_format: How its own files are laid out: ``"zhang_csv"`` (Zhang et al. 2015:
            ``class,<text columns>``, classes 1-based), ``"glue_tsv"`` (SST-2),
            ``"glue_pairs_tsv"`` (RTE: ``index, sentence1, sentence2, label``),
            ``"mrpc_tsv"`` (``Quality, #1 ID, #2 ID, #1 String, #2 String``),
            ``"goemotions_tsv"`` (no header: text, comma-separated label ids, id),
            ``"bbc_csv"`` (``category,text``, one file split here), ``"trec"``,
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
        multi_label: Each text has a set of labels (the labels are a 0/1 matrix).
        pair_columns: The second-text column(s) of sentence pairs in the Hub's parquet
            files (and local Hub-style files); empty for single texts.
        tfds_pair: The tfds feature(s) of the second text of a pair.
        tfds_label_per_name: tfds has one bool feature per label name (multi-label).
        hub_config: The Hub repo's configuration (a sub-folder: ``"rte"`` of
            ``nyu-mll/glue``), or None.
        local_alternates: Split -> other local file names tried after ``local_files``.
        label_names_file: A file of a local directory that may rename the classes, one
            per line (``classes.txt``; GoEmotions' ``emotions.txt``).
        hidden_labels_note: What to say when a split's labels are hidden (default: the
            SentEval-labelled file of ``local_files``).
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
    multi_label: bool = False
    pair_columns: tuple[str, ...] = ()
    tfds_pair: tuple[str, ...] = ()
    tfds_label_per_name: bool = False
    hub_config: str | None = None
    local_alternates: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    label_names_file: str = "classes.txt"
    hidden_labels_note: str | None = None


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
            name="bbc_news",
            label_names=tuple(BBC_NEWS_LABELS),
            splits=("train", "test", "all"),
            description=(
                "BBC News articles (Greene & Cunningham 2006), 5 classes, long texts; one "
                "file: exact repeats dropped (2,225 -> 2,126), then a stratified 80/20 "
                "train/test split with seed 2006 ('all': the 2,126)"
            ),
            local_format="bbc_csv",
            local_files={"train": "bbc-text.csv", "test": "bbc-text.csv", "all": "bbc-text.csv"},
            label_column="category",
            sizes={"train": 1_700, "test": 426, "all": 2_126},
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
            name="goemotions",
            label_names=tuple(GOEMOTIONS_LABELS),
            splits=("train", "validation", "test"),
            description=(
                "GoEmotions Reddit comments (Demszky et al. 2020), 28 emotions, multi-label "
                "(1-5 labels per text)"
            ),
            local_format="goemotions_tsv",
            local_files={"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"},
            label_column="labels",
            multi_label=True,
            hub_repo="google-research-datasets/go_emotions",
            hub_config="simplified",
            tfds_name="goemotions",
            tfds_text=("comment_text",),
            tfds_label_per_name=True,
            label_names_file="emotions.txt",
            sizes={"train": 43_410, "validation": 5_426, "test": 5_427},
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
            name="mrpc",
            label_names=("not_equivalent", "equivalent"),
            splits=("train", "validation", "test"),
            description=(
                "MRPC paraphrase sentence pairs (Dolan & Brockett 2005, GLUE), 2 classes; "
                "test labels only in the MSR corpus' msr_paraphrase_test.txt (GLUE hides them)"
            ),
            local_format="mrpc_tsv",
            local_files={
                "train": "train.tsv",
                "validation": "dev.tsv",
                "test": "msr_paraphrase_test.txt",
            },
            local_alternates={"test": ("test.tsv",)},
            text_columns=("sentence1",),
            pair_columns=("sentence2",),
            hub_repo="nyu-mll/glue",
            hub_config="mrpc",
            tfds_name="glue/mrpc",
            tfds_text=("sentence1",),
            tfds_pair=("sentence2",),
            hidden_label_splits=("test",),
            sizes={"train": 3_668, "validation": 408, "test": 1_725},
        ),
        DatasetSpec(
            name="rte",
            label_names=("entailment", "not_entailment"),
            splits=("train", "validation", "test"),
            description=(
                "RTE textual entailment sentence pairs (GLUE), 2 classes; the test labels "
                "are not public"
            ),
            local_format="glue_pairs_tsv",
            local_files={"train": "train.tsv", "validation": "dev.tsv", "test": "test.tsv"},
            text_columns=("sentence1",),
            pair_columns=("sentence2",),
            hub_repo="nyu-mll/glue",
            hub_config="rte",
            tfds_name="glue/rte",
            tfds_text=("sentence1",),
            tfds_pair=("sentence2",),
            hidden_label_splits=("test",),
            hidden_labels_note=(
                "RTE's test labels are not public (GLUE scores test predictions on its "
                "server; tensorflow-datasets and the Hub give -1, test.tsv has no label "
                "column): evaluate on split='validation'"
            ),
            sizes={"train": 2_490, "validation": 277, "test": 3_000},
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
        >>> list_datasets()  # doctest: +NORMALIZE_WHITESPACE
        ['ag_news', 'ag_news-sample', 'bbc_news', 'dbpedia', 'goemotions', 'imdb', 'mrpc',
         'rte', 'sst2', 'trec', 'yelp_polarity']
    """
    return sorted(DATASETS)


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
