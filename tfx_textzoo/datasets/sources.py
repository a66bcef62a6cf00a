"""Where a named dataset's split comes from: local files, tensorflow-datasets, the Hub.

Each ``_from_*`` function returns a [`TextDataset`][tfx_textzoo.datasets.TextDataset] or
raises; [`load`][tfx_textzoo.datasets.load] tries them in order. The embedded AG News
sample lives here too.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np

from tfx_textzoo.datasets.catalog import DatasetSpec
from tfx_textzoo.datasets.readers import (
    _EXTRA,
    _bbc_split,
    _clean,
    _decode,
    _read_aclimdb,
    _read_bbc_csv,
    _read_glue_pairs_tsv,
    _read_glue_tsv,
    _read_goemotions_tsv,
    _read_hub_style,
    _read_mrpc_tsv,
    _read_trec_file,
    _read_zhang_csv,
    _remap,
    _Rows,
    read_ag_news_csv,
)
from tfx_textzoo.datasets.textdataset import DataFormatError, TextDataset
from tfx_textzoo.weights import cache_dir, is_offline


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


def _hidden_labels(spec: DatasetSpec, split: str) -> str:
    if spec.hidden_labels_note:
        return spec.hidden_labels_note
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
    elif kind == spec.local_format == "goemotions_tsv":
        data = _read_goemotions_tsv(paths[0], names, on_bad_rows)
    elif kind == spec.local_format == "glue_pairs_tsv":
        data = _read_glue_pairs_tsv(paths[0], spec, on_bad_rows)
    elif kind == spec.local_format == "mrpc_tsv":
        data = _read_mrpc_tsv(paths[0], spec, on_bad_rows)
    elif kind == spec.local_format == "bbc_csv":
        data = _read_bbc_csv(paths[0], names, on_bad_rows)
        data.name = str(paths[0])
        data = _bbc_split(data, split)
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
    csv_too = [] if spec.local_format in ("zhang_csv", "bbc_csv") else [f"{split}.csv"]
    config = [f"{spec.hub_config}/{split}-*.parquet"] if spec.hub_config else []
    return [
        first,
        *spec.local_alternates.get(split, ()),
        f"{split}.parquet",
        f"{split}-*.parquet",
        *config,
        f"data/{split}-*.parquet",
        *csv_too,
    ]


def _local_split_files(spec, split, directory: Path) -> tuple[str, list[Path]] | None:
    native = spec.local_files.get(split)
    if spec.local_format == "aclimdb":
        for root in (directory, directory / "aclImdb"):
            if (root / split / "pos").is_dir() or (root / split / "neg").is_dir():
                return "aclimdb", [root / split]
    else:
        for name in (native, *spec.local_alternates.get(split, ())):
            if name and (directory / name).is_file():
                return spec.local_format, [directory / name]
    parquet = _find_parquet(directory, split, spec.hub_config)
    if parquet:
        return "parquet", parquet
    csv_ok = spec.local_format not in ("zhang_csv", "bbc_csv")
    if csv_ok and (directory / f"{split}.csv").is_file():
        return "csv", [directory / f"{split}.csv"]
    return None


def _find_parquet(root: Path, split: str, config: str | None = None) -> list[Path]:
    """The split's parquet files: the first of these layouts that has any.

    With a ``config`` (a Hub repo of several datasets: ``nyu-mll/glue``'s ``rte/``) only
    that configuration's folder is searched below ``root``, never another's.
    """
    for pattern in _parquet_patterns(split, config):
        files = sorted(p for p in root.glob(pattern) if p.is_file())
        if files:
            return files
    return []


def _parquet_patterns(split: str, config: str | None) -> list[str]:
    flat = [f"{split}.parquet", f"{split}-*.parquet"]
    if config:
        return [
            *flat,
            f"{config}/{split}-*.parquet",  # rte/train-00000-of-00001.parquet
            f"{config}/{split}/*.parquet",  # the Hub's refs/convert/parquet branch
            f"data/{split}-*.parquet",
            f"{split}/*.parquet",
        ]
    return [
        *flat,
        f"*/{split}-*.parquet",  # data/train-00000-of-00001.parquet, plain_text/...
        f"{split}/*.parquet",
        f"*/{split}/*.parquet",  # the Hub's refs/convert/parquet branch
    ]


def _classes_txt(spec: DatasetSpec, directory: Path) -> list[str] | None:
    path = directory / spec.label_names_file
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
    per_name = spec.tfds_label_per_name  # one bool feature per label (goemotions)
    remap = None
    if not per_name:
        feature = builder.info.features[spec.tfds_label]
        names = getattr(feature, "names", None)
        remap = _remap(names, spec.tfds_label_order, spec.label_names, where)
    rows = _Rows(
        where,
        label_names=spec.label_names,
        remap=remap,
        on_bad_rows=on_bad_rows,
        pairs=bool(spec.tfds_pair),
        multi_label=per_name,
    )
    rows.unit = "row"
    dataset = builder.as_dataset(split=split, shuffle_files=False).batch(4096)
    number = 0
    for batch in tfds.as_numpy(dataset):
        parts = [batch[c] for c in spec.tfds_text]
        pair_parts = [batch[c] for c in spec.tfds_pair]
        if per_name:
            flags = np.stack([np.asarray(batch[name], bool) for name in spec.label_names], 1)
            labels = [np.flatnonzero(row).tolist() for row in flags]
        else:
            labels = batch[spec.tfds_label].tolist()
        for i, label in enumerate(labels):
            number += 1
            text = " ".join(_decode(p[i]) for p in parts)
            pair = None
            if pair_parts:
                pair = _clean(" ".join(_decode(p[i]) for p in pair_parts), spec.escapes)
            rows.add(number, _clean(text, spec.escapes), label, pair=pair)
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
    patterns = _parquet_patterns(split, spec.hub_config)
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
        files = _find_parquet(Path(path), split, spec.hub_config)
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
