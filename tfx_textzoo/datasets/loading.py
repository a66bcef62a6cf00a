"""[`load`][tfx_textzoo.datasets.load]: a named dataset's split from the first source that has it.

Re-exported by [`tfx_textzoo.datasets`][tfx_textzoo.datasets].
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tfx_textzoo.datasets.catalog import DatasetSpec, _check_split, _get_spec
from tfx_textzoo.datasets.sources import (
    _EXTRA,
    _from_hub,
    _from_local_dir,
    _from_tfds,
    _hidden_labels,
    _one_line,
    load_ag_news_sample,
)
from tfx_textzoo.datasets.textdataset import (
    DataFormatError,
    DatasetNotFoundError,
    TextDataset,
    _check_on_bad_rows,
)
from tfx_textzoo.weights import cache_dir, is_offline

_SOURCES = ("auto", "local", "tfds", "hf")


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
    elif spec.local_format == "goemotions_tsv":
        first = (
            f"{native}: GoEmotions tsv without a header: text<TAB>label ids (comma-separated, "
            f"0..{n - 1})<TAB>comment id (an optional emotions.txt names the labels)"
        )
    elif spec.local_format == "glue_pairs_tsv":
        first = (
            f"{native}: GLUE tsv with the header index<TAB>sentence1<TAB>sentence2<TAB>label "
            f"(labels {' / '.join(spec.label_names)})"
        )
    elif spec.local_format == "mrpc_tsv":
        others = " or ".join(spec.local_alternates.get(split, ()))
        first = (
            f"{native}{' or ' + others if others else ''}: MRPC tsv with the header "
            "Quality<TAB>#1 ID<TAB>#2 ID<TAB>#1 String<TAB>#2 String (1 = equivalent); GLUE's "
            "train.tsv / dev.tsv, or the MSR corpus' msr_paraphrase_test.txt for test"
        )
    elif spec.local_format == "bbc_csv":
        first = (
            f"{native}: the BBC News csv with the header category,text (md5 "
            "f9fbdf2d83a17f0e09ddc33c56816ed1); train/test/all are made from it"
        )
    else:  # aclimdb
        first = (
            f"{split}/pos/*.txt and {split}/neg/*.txt (the aclImdb layout; "
            f"aclImdb/{split}/ also works)"
        )
    cols = ",".join([*spec.text_columns, *spec.pair_columns, spec.label_column])
    if cols != "text,label" and not spec.pair_columns:
        cols += " (or text,label)"
    order = spec.hub_label_order or spec.label_names
    if spec.local_format == "bbc_csv":
        return [first]
    csv_too = "" if spec.local_format == "zhang_csv" else f" / {split}.csv with a header"
    ids = f"label ids 0..{n - 1} = {', '.join(order)}"
    if spec.multi_label:
        ids = f"a list of label ids per text (0..{n - 1} = {', '.join(order[:3])}, ...)"
    config = f" / {spec.hub_config}/{split}-*.parquet" if spec.hub_config else ""
    return [
        first,
        f"or {split}.parquet / {split}-*.parquet{config} / data/{split}-*.parquet{csv_too}, "
        f"columns {cols}, {ids}",
    ]
