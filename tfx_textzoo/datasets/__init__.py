r"""Datasets: named text-classification datasets, csv/parquet readers and ``TextDataset``.

[`load`][tfx_textzoo.datasets.load] returns a [`TextDataset`][tfx_textzoo.datasets.TextDataset]
(texts, labels, label names; the second texts of sentence pairs; one label per text, or a
set of labels per text as a 0/1 matrix) for a named dataset (see `DATASETS` and
[`list_datasets`][tfx_textzoo.datasets.list_datasets]). Each split is taken from the first
source that has it:

1. local files: ``data_dir=`` (then nothing else is tried), or ``$TEXTZOO_DATA/<name>/``;
2. tensorflow-datasets: a prepared data directory (``tfds_data_dir=``, ``$TFDS_DATA_DIR``
   or ``~/tensorflow_datasets``), downloaded and prepared there when online;
3. the dataset's Hugging Face Hub repo: its parquet files, cached in ``$TEXTZOO_HOME/hf``.

When none has it, [`DatasetNotFoundError`][tfx_textzoo.datasets.DatasetNotFoundError] lists each
source, why it failed, and which files to put where. In offline mode
(``TEXTZOO_OFFLINE=1`` or ``HF_HUB_OFFLINE=1``) nothing is downloaded and the network is
never tried. ``"ag_news-sample"`` is a 4,000 / 1,000-text AG News sample shipped with the
package: always available. The task kinds: ``goemotions`` is multi-label (28 emotions),
``rte`` and ``mrpc`` are sentence pairs, ``bbc_news`` has long articles (one file,
deduplicated, then split with the seed `BBC_SPLIT_SEED`; ``"all"`` is every unique article).

[`from_csv`][tfx_textzoo.datasets.from_csv] and [`from_parquet`][tfx_textzoo.datasets.from_parquet]
read your own files (``text_pair_columns=`` for pairs; ``label_delimiter=`` or a column of
lists for label sets). Every reader checks every row: bad rows (missing or out-of-range
labels, empty texts or second texts, wrong column counts, copies of the header row, a
quote that is never closed or that swallows the lines after it, fields over
`MAX_FIELD_CHARS`, bytes that are not UTF-8) raise
[`DataFormatError`][tfx_textzoo.datasets.DataFormatError] naming the file and the lines, or with
``on_bad_rows="skip"`` are skipped, listed in ``TextDataset.skipped`` and reported with a
[`BadRowsWarning`][tfx_textzoo.datasets.BadRowsWarning]. Nothing is dropped silently.

Texts of the named datasets are cleaned the same way whatever the source: the parts
(e.g. AG News' title and description) are joined with a space, the Zhang et al. csv
escapes are undone (a backslash in AG News / DBpedia, ``\n`` in Yelp), and runs of
whitespace become one space (BBC News keeps its file's spacing: see
[`read_bbc_csv`][tfx_textzoo.datasets.read_bbc_csv]).
[`from_csv`][tfx_textzoo.datasets.from_csv] and
[`from_parquet`][tfx_textzoo.datasets.from_parquet] only strip each part and join the parts
with a space.

Training and evaluation read any input through
[`as_examples`][tfx_textzoo.datasets.as_examples] (texts, text pairs, labels or label
sets), prediction through [`as_inputs`][tfx_textzoo.datasets.as_inputs].

The package's modules: ``textdataset`` (the class and the errors), ``catalog`` (the
table), ``loading`` (``load``), ``sources`` (local, tfds, Hub), ``readers`` (the file
formats), ``labelsets`` (multi-label label forms) and ``adapters`` (input forms);
import everything from ``tfx_textzoo.datasets``.

Environment variables:
    TEXTZOO_DATA: a directory with one sub-directory of files per dataset
        (``$TEXTZOO_DATA/ag_news/train.csv``...).
    TFDS_DATA_DIR: tensorflow-datasets' data directory.
    TEXTZOO_HOME: the cache (Hub downloads go to ``$TEXTZOO_HOME/hf``).
    TEXTZOO_OFFLINE: ``1`` never to touch the network (``HF_HUB_OFFLINE=1`` too).
"""

from tfx_textzoo.datasets.adapters import (
    Examples,
    as_examples,
    as_inputs,
    as_texts_and_labels,
    check_text_list,
    check_text_pairs,
    check_two_classes,
)
from tfx_textzoo.datasets.catalog import (
    AG_NEWS_LABELS,
    BBC_NEWS_LABELS,
    DATASETS,
    DBPEDIA_LABELS,
    GOEMOTIONS_LABELS,
    TREC_LABELS,
    DatasetSpec,
    list_datasets,
)
from tfx_textzoo.datasets.loading import load
from tfx_textzoo.datasets.readers import (
    BBC_SPLIT_SEED,
    BBC_TEST_FRACTION,
    MAX_FIELD_CHARS,
    decode_text,
    deduplicated,
    from_csv,
    from_parquet,
    read_ag_news_csv,
    read_bbc_csv,
    read_goemotions_tsv,
    read_mrpc_tsv,
    read_rte_tsv,
    read_sst2_tsv,
    read_trec,
    stratified_split,
)
from tfx_textzoo.datasets.sources import load_ag_news_sample, sample_path
from tfx_textzoo.datasets.textdataset import (
    BadRowsError,
    BadRowsWarning,
    DataEncodingError,
    DataFormatError,
    DatasetNotFoundError,
    MissingColumnsError,
    SkippedRow,
    TextDataset,
)

__all__ = [
    "AG_NEWS_LABELS",
    "BBC_NEWS_LABELS",
    "BBC_SPLIT_SEED",
    "BBC_TEST_FRACTION",
    "DATASETS",
    "DBPEDIA_LABELS",
    "GOEMOTIONS_LABELS",
    "MAX_FIELD_CHARS",
    "TREC_LABELS",
    "BadRowsError",
    "BadRowsWarning",
    "DataEncodingError",
    "DataFormatError",
    "DatasetNotFoundError",
    "DatasetSpec",
    "Examples",
    "MissingColumnsError",
    "SkippedRow",
    "TextDataset",
    "as_examples",
    "as_inputs",
    "as_texts_and_labels",
    "check_text_list",
    "check_text_pairs",
    "check_two_classes",
    "decode_text",
    "deduplicated",
    "from_csv",
    "from_parquet",
    "list_datasets",
    "load",
    "load_ag_news_sample",
    "read_ag_news_csv",
    "read_bbc_csv",
    "read_goemotions_tsv",
    "read_mrpc_tsv",
    "read_rte_tsv",
    "read_sst2_tsv",
    "read_trec",
    "sample_path",
    "stratified_split",
]
