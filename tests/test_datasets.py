"""textzoo.datasets: every source (local files in each format, a real prepared
tensorflow-datasets directory, a pre-populated Hugging Face cache, the embedded sample)
and every bad-file error, on fixture files written here. No network: TEXTZOO_OFFLINE=1."""

from __future__ import annotations

import json
import sys
import time
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo.datasets import (
    AG_NEWS_LABELS,
    DATASETS,
    TREC_LABELS,
    BadRowsWarning,
    DataFormatError,
    DatasetNotFoundError,
    SkippedRow,
    TextDataset,
    as_texts_and_labels,
    from_csv,
    from_parquet,
    list_datasets,
    load,
    load_ag_news_sample,
    read_ag_news_csv,
    read_sst2_tsv,
    read_trec,
)

# Zhang et al. AG News rows: class (1-based), title, description; "\" stands for a line break.
AG_ROWS = [
    ("3", "Oil\\prices rise", "Crude climbs again."),
    ("1", "Vote today", "Polls open at 8."),
    ("2", "Late goal", "A winner in extra time."),
    ("4", "New chip", "Faster  and cooler."),
]
AG_TEXTS = [
    "Oil prices rise Crude climbs again.",
    "Vote today Polls open at 8.",
    "Late goal A winner in extra time.",
    "New chip Faster and cooler.",
]
AG_LABELS = [2, 0, 1, 3]


def csv_line(*cells) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells) + "\n"


def write_zhang(path, rows=AG_ROWS, header=None):
    text = (csv_line(*header) if header else "") + "".join(csv_line(*r) for r in rows)
    path.write_text(text, encoding="utf-8")
    return path


def write_parquet(path, columns: dict, class_names: dict | None = None):
    """A parquet file; ``class_names`` records ClassLabel names as HF ``datasets`` does."""
    table = pa.table(columns)
    if class_names:
        features = {
            name: (
                {"names": class_names[name], "_type": "ClassLabel"}
                if name in class_names
                else {"dtype": "string", "_type": "Value"}
            )
            for name in columns
        }
        table = table.replace_schema_metadata(
            {"huggingface": json.dumps({"info": {"features": features}})}
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def populate_hf_dataset_cache(repo_id: str, files: dict[str, callable]) -> None:
    """Lay files out as huggingface_hub's cache does for a dataset repo."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = textzoo.weights.cache_dir() / "hf" / ("datasets--" + repo_id.replace("/", "--"))
    snapshot = root / "snapshots" / commit
    for relative, write in files.items():
        write(snapshot / relative)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)


# --- the catalog and TextDataset ----------------------------------------------------------


def test_catalog_schema():
    assert list_datasets() == sorted(DATASETS)
    assert {"ag_news", "ag_news-sample", "imdb", "sst2", "trec", "yelp_polarity", "dbpedia"} <= (
        set(DATASETS)
    )
    for name, spec in DATASETS.items():
        assert spec.name == name
        assert len(set(spec.label_names)) == len(spec.label_names) >= 2
        assert set(spec.local_files) == set(spec.splits)
        assert set(spec.sizes) == set(spec.splits)
        for order in (spec.hub_label_order, spec.tfds_label_order):
            assert order is None or sorted(order) == sorted(spec.label_names)
        assert spec.local_format in (
            "zhang_csv",
            "glue_tsv",
            "glue_pairs_tsv",
            "mrpc_tsv",
            "goemotions_tsv",
            "bbc_csv",
            "trec",
            "aclimdb",
            "embedded",
        )
        assert bool(spec.pair_columns) == bool(spec.tfds_pair) or not spec.tfds_name
        assert (spec.local_format == "zhang_csv") == bool(spec.zhang_columns) or (
            spec.local_format == "embedded"
        )
    assert len(DATASETS["dbpedia"].label_names) == 14
    assert DATASETS["dbpedia"].tfds_name is None  # tensorflow-datasets has no DBpedia
    assert DATASETS["ag_news"].sizes == {"train": 120_000, "test": 7_600}


def test_sample_through_load():
    train, test = load("ag_news-sample", split=["train", "test"])
    assert (len(train), len(test)) == (4000, 1000)
    assert train.label_names == AG_NEWS_LABELS
    assert train.name == "ag_news-sample/train" and train.source.startswith("embedded:")
    assert sum(test.class_counts().values()) == 1000
    assert load("ag_news-sample", split="test").texts == test.texts  # a str gives one dataset
    assert load("ag_news-sample").texts == train.texts  # the default split is "train"
    assert test.texts == load_ag_news_sample("test").texts
    assert "\\" not in "".join(train.texts)
    with pytest.raises(ValueError, match="ships with the package"):
        load("ag_news-sample", data_dir="/somewhere")


def test_text_dataset_api():
    data = TextDataset(["good", "bad", "fine", "meh"], [1, 0, 1, 0], ("neg", "pos"), "toy")
    assert data.num_classes == 2 and len(data) == 4
    assert data[2] == ("fine", 1)
    assert list(data) == [("good", 1), ("bad", 0), ("fine", 1), ("meh", 0)]
    part = data[1:3]
    assert isinstance(part, TextDataset) and part.texts == ["bad", "fine"]
    assert part.labels.tolist() == [0, 1] and part.label_names == ["neg", "pos"]
    assert data[[3, 0]].texts == ["meh", "good"]
    assert data[data.labels == 1].texts == ["good", "fine"]
    assert data.class_counts() == {"neg": 2, "pos": 2}
    assert data.head(2) == [
        {"text": "good", "label": 1, "label_name": "pos"},
        {"text": "bad", "label": 0, "label_name": "neg"},
    ]
    assert data.labels.dtype == np.int32
    assert repr(data) == "TextDataset('toy', 4 texts, 2 classes: neg=2, pos=2)"
    big = TextDataset(["x " * 500] * 3, [0, 1, 2], [f"c{i}" for i in range(10)], "big")
    assert len(repr(big)) < 200 and "(4 more)" in repr(big)
    with pytest.raises(ValueError, match="3 texts but 2 labels"):
        TextDataset(["a", "b", "c"], [0, 1], ["x", "y"])
    with pytest.raises(ValueError, match="rows \\[1\\]"):
        TextDataset(["a", "b"], [0, 2], ["x", "y"])


def test_to_tf_dataset():
    data = TextDataset(["a", "b", "c", "d", "e"], [0, 1, 0, 1, 1], ["x", "y"])
    batches = list(data.to_tf_dataset(batch_size=2).as_numpy_iterator())
    assert [b[0].tolist() for b in batches] == [[b"a", b"b"], [b"c", b"d"], [b"e"]]
    assert [b[1].tolist() for b in batches] == [[0, 1], [0, 1], [1]]
    one = next(iter(data.to_tf_dataset()))
    assert one[0].numpy() == b"a" and one[1].dtype.name == "int32"
    shuffled = [
        (t.decode(), int(y))
        for t, y in data.to_tf_dataset(shuffle=True, seed=3).as_numpy_iterator()
    ]
    assert sorted(shuffled) == sorted(data)
    texts, labels = as_texts_and_labels(data.to_tf_dataset(batch_size=2))
    assert texts.tolist() == data.texts and labels.tolist() == data.labels.tolist()


# --- local files --------------------------------------------------------------------------


def test_zhang_csv_without_header_and_classes_txt(tmp_path):
    write_zhang(tmp_path / "train.csv")
    train = load("ag_news", split="train", data_dir=tmp_path)
    assert train.texts == AG_TEXTS and train.labels.tolist() == AG_LABELS
    assert train.label_names == AG_NEWS_LABELS
    assert train.name == "ag_news/train" and train.source == f"local:{tmp_path / 'train.csv'}"
    (tmp_path / "classes.txt").write_text("Welt\nSport\nWirtschaft\nWissenschaft\n")
    renamed = load("ag_news", split="train", data_dir=tmp_path)
    assert renamed.label_names == ["Welt", "Sport", "Wirtschaft", "Wissenschaft"]
    assert renamed.labels.tolist() == AG_LABELS
    (tmp_path / "classes.txt").write_text("A\nB\nC\n")
    with pytest.raises(DataFormatError, match="lists 3 classes .* but ag_news has 4"):
        load("ag_news", split="train", data_dir=tmp_path)


@pytest.mark.parametrize(
    "header", [["Class Index", "Title", "Description"], ["class", "title", "description"]]
)
def test_zhang_csv_with_header(tmp_path, header):
    write_zhang(tmp_path / "test.csv", header=header)
    test = load("ag_news", split="test", data_dir=tmp_path)
    assert test.texts == AG_TEXTS and test.labels.tolist() == AG_LABELS
    assert read_ag_news_csv(tmp_path / "test.csv").texts == AG_TEXTS


def test_zhang_csv_first_row_with_a_label_name_is_not_a_header(tmp_path):
    rows = [("Sports", "Late goal", "Extra time."), ("World", "Vote", "Polls open.")]
    write_zhang(tmp_path / "train.csv", rows)
    data = load("ag_news", data_dir=tmp_path)
    assert data.texts == ["Late goal Extra time.", "Vote Polls open."]
    assert data.labels.tolist() == [1, 0]


def test_zhang_csv_header_mismatch(tmp_path):
    write_zhang(tmp_path / "train.csv", header=["class", "headline"], rows=[("1", "a"), ("2", "b")])
    with pytest.raises(DataFormatError, match=r"train.csv:1: header \['class', 'headline'\]"):
        load("ag_news", data_dir=tmp_path)


def test_dbpedia_and_yelp_zhang_csv(tmp_path):
    (tmp_path / "dbpedia").mkdir()
    write_zhang(
        tmp_path / "dbpedia" / "test.csv",
        [("1", "Acme Corp", " Acme makes anvils."), ("14", "Moby-Dick", " A novel.")],
    )
    dbpedia = load("dbpedia", split="test", data_dir=tmp_path / "dbpedia")
    assert dbpedia.texts == ["Acme Corp Acme makes anvils.", "Moby-Dick A novel."]
    assert [dbpedia.label_names[y] for y in dbpedia.labels] == ["Company", "WrittenWork"]
    (tmp_path / "yelp").mkdir()
    write_zhang(
        tmp_path / "yelp" / "train.csv",
        [("1", 'Cold food.\\nRude \\"staff\\".'), ("2", "Great pie.\\n\\nWill return!")],
    )
    yelp = load("yelp_polarity", data_dir=tmp_path / "yelp")
    assert yelp.texts == ['Cold food. Rude "staff".', "Great pie. Will return!"]
    assert yelp.labels.tolist() == [0, 1] and yelp.label_names == ["negative", "positive"]


def test_hub_style_parquet_and_csv(tmp_path):
    # data/<split>-*.parquet as the Hub lays it out, 0-based labels.
    write_parquet(
        tmp_path / "ag" / "data" / "train-00000-of-00001.parquet",
        {"text": ["Oil\\prices rise", "Vote today"], "label": [2, 0]},
    )
    ag = load("ag_news", data_dir=tmp_path / "ag")
    assert ag.texts == ["Oil prices rise", "Vote today"] and ag.labels.tolist() == [2, 0]
    # <split>.parquet with imdb's columns.
    write_parquet(tmp_path / "imdb" / "test.parquet", {"text": ["Great!", "Bad."], "label": [1, 0]})
    imdb = load("imdb", split="test", data_dir=tmp_path / "imdb")
    assert imdb.texts == ["Great!", "Bad."] and imdb.label_names == ["neg", "pos"]
    # A csv with a header: sst2's Hub columns; ag_news' train.csv with text,label columns.
    (tmp_path / "sst2").mkdir()
    (tmp_path / "sst2" / "validation.csv").write_text(
        'idx,sentence,label\n0,"a gem , truly ",1\n1,dull,0\n'
    )
    sst2 = load("sst2", split="validation", data_dir=tmp_path / "sst2")
    assert sst2.texts == ["a gem , truly", "dull"] and sst2.labels.tolist() == [1, 0]
    (tmp_path / "ag2").mkdir()
    (tmp_path / "ag2" / "test.csv").write_text("text,label\nVote today,0\nNew chip,3\n")
    ag2 = load("ag_news", split="test", data_dir=tmp_path / "ag2")
    assert ag2.texts == ["Vote today", "New chip"] and ag2.labels.tolist() == [0, 3]


def test_hub_style_label_order_from_metadata_or_table(tmp_path):
    texts = ["What is NASA ?", "What is a ship ?", "Why is the sky blue ?"]
    # With the ClassLabel names recorded in the file (the Hub's order: ABBR, ENTY, DESC, ...).
    hub_order = ["ABBR", "ENTY", "DESC", "HUM", "LOC", "NUM"]
    write_parquet(
        tmp_path / "a" / "train.parquet",
        {"text": texts, "coarse_label": [0, 1, 2], "fine_label": [0, 5, 25]},
        class_names={"coarse_label": hub_order, "fine_label": [f"f{i}" for i in range(50)]},
    )
    a = load("trec", data_dir=tmp_path / "a")
    assert [a.label_names[y] for y in a.labels] == ["ABBR", "ENTY", "DESC"]
    assert a.label_names == TREC_LABELS
    # Without metadata the catalog's hub_label_order is used.
    write_parquet(tmp_path / "b" / "train.parquet", {"text": texts, "coarse_label": [0, 1, 2]})
    b = load("trec", data_dir=tmp_path / "b")
    assert [b.label_names[y] for y in b.labels] == ["ABBR", "ENTY", "DESC"]


def test_sst2_glue_tsv(tmp_path):
    (tmp_path / "train.tsv").write_text('sentence\tlabel\nit \'s " fine " \t1\nawful . \t0\n')
    (tmp_path / "dev.tsv").write_text("sentence\tlabel\na gem\t1\n")
    (tmp_path / "test.tsv").write_text("sentence\tlabel\nflat\t0\nwarm\t1\n")
    train, validation, test = load("sst2", split=["train", "validation", "test"], data_dir=tmp_path)
    assert train.texts == ['it \'s " fine "', "awful ."] and train.labels.tolist() == [1, 0]
    assert validation.texts == ["a gem"] and validation.source.endswith("dev.tsv")
    assert test.labels.tolist() == [0, 1] and test.label_names == ["negative", "positive"]
    assert read_sst2_tsv(tmp_path / "train.tsv").texts == train.texts
    (tmp_path / "test.tsv").write_text("index\tsentence\n0\tflat\n")
    with pytest.raises(DataFormatError, match="GLUE's unlabelled SST-2 test.tsv"):
        load("sst2", split="test", data_dir=tmp_path)
    (tmp_path / "dev.tsv").write_text("text\tlabel\na gem\t1\n")
    with pytest.raises(DataFormatError, match="dev.tsv:1: expected the header"):
        load("sst2", split="validation", data_dir=tmp_path)


def test_trec_files(tmp_path):
    (tmp_path / "train_5500.label").write_bytes(
        b"DESC:manner How did serfdom develop in and then leave Russia ?\n"
        b"ENTY:cremat What films featured the character Popeye Doyle ?\n"
        b"HUM:ind Who was Caf\xe9 Society 's founder ?\n"
    )
    (tmp_path / "TREC_10.label").write_bytes(b"NUM:dist How far is it from Denver to Aspen ?\n")
    train, test = load("trec", split=["train", "test"], data_dir=tmp_path)
    assert [train.label_names[y] for y in train.labels] == ["DESC", "ENTY", "HUM"]
    assert train.texts[2] == "Who was Café Society 's founder ?"  # latin-1
    assert test.texts == ["How far is it from Denver to Aspen ?"] and test.labels.tolist() == [5]
    assert read_trec(tmp_path / "train_5500.label").texts == train.texts
    (tmp_path / "TREC_10.label").write_bytes(b"NUM:dist Fine ?\nno label here\nXYZ:a Bad ?\n")
    with pytest.raises(DataFormatError) as err:
        load("trec", split="test", data_dir=tmp_path)
    message = str(err.value)
    assert "TREC_10.label: 2 bad row(s) out of 3" in message
    assert "1 x not 'COARSE:fine question': line 2" in message
    assert "1 x unknown label: line 3 (first: unknown label 'XYZ')" in message


@pytest.mark.parametrize("nested", [False, True])
def test_imdb_aclimdb_layout(tmp_path, nested):
    root = tmp_path / "aclImdb" if nested else tmp_path
    reviews = {
        "train/pos/10_9.txt": "A delight.<br /><br />See it.",
        "train/pos/2_8.txt": "Loved it.",
        "train/neg/1_2.txt": "  Dull\nand long. ",
        "test/neg/0_1.txt": "Bad.",
        "test/pos/0_10.txt": "Good.",
    }
    for relative, text in reviews.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    train, test = load("imdb", split=["train", "test"], data_dir=tmp_path)
    assert train.texts == ["Dull and long.", "Loved it.", "A delight.<br /><br />See it."]
    assert train.labels.tolist() == [0, 1, 1] and train.label_names == ["neg", "pos"]
    assert test.texts == ["Bad.", "Good."] and test.labels.tolist() == [0, 1]
    (root / "test" / "neg" / "0_1.txt").write_bytes(b"Bad \xff.")
    with pytest.raises(DataFormatError, match=r"0_1.txt:1: byte\(s\) b'\\xff' at byte offset 4"):
        load("imdb", split="test", data_dir=tmp_path)
    with pytest.warns(BadRowsWarning, match="skipped 1 bad row"):
        skipped = load("imdb", split="test", data_dir=tmp_path, on_bad_rows="skip")
    assert skipped.texts == ["Good."]
    assert skipped.skipped[0].file.endswith("0_1.txt") and skipped.skipped[0].line == 1
    assert skipped.skipped[0].reason == "byte(s) b'\\xff' at byte offset 4 (column 5)"


def test_textzoo_data_env(tmp_path, monkeypatch):
    (tmp_path / "ag_news").mkdir()
    write_zhang(tmp_path / "ag_news" / "test.csv")
    monkeypatch.setenv("TEXTZOO_DATA", str(tmp_path))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "no_tfds"))
    test = load("ag_news", split="test")
    assert test.texts == AG_TEXTS and test.source == f"local:{tmp_path / 'ag_news' / 'test.csv'}"
    with pytest.raises(DatasetNotFoundError) as err:
        load("ag_news", split="train")
    message = str(err.value)
    assert f"$TEXTZOO_DATA/ag_news = {tmp_path / 'ag_news'}" in message
    assert "has no 'train' files" in message and "it has files for split(s) ['test']" in message


def test_explicit_data_dir_is_the_only_source(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load("ag_news", data_dir=tmp_path / "missing")
    message = str(err.value)
    assert "does not exist" in message and "[tfds]" not in message and "[hf]" not in message
    assert "data_dir= was given" in message
    with pytest.raises(ValueError, match="tfds_data_dir"):
        load("ag_news", data_dir=tmp_path, source="tfds")


# --- tensorflow-datasets ----------------------------------------------------------------

TFDS_AG = {
    "train": [
        (2, "Oil\\prices rise", "Crude climbs."),
        (0, "Vote", "Polls open."),
        (3, "Chip", "Fast."),
    ],
    "test": [(1, "Goal", "Late winner.")],
}
TFDS_SST2 = {
    "train": [("a gem", 1)],
    "validation": [("dull ", 0), ("warm", 1)],
    "test": [("x", -1)],
}
TFDS_TREC = {
    "train": [("Why ?", "DESC"), ("NASA ?", "ABBR"), ("Where ?", "LOC"), ("How many ?", "NUM")]
}


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    """A real tensorflow-datasets data directory, prepared offline from fixture rows."""
    tfds = pytest.importorskip("tensorflow_datasets")
    data_dir = str(tmp_path_factory.mktemp("tfds"))

    class AgNews(tfds.builder_cls("ag_news_subset"), skip_registration=True):
        name = "ag_news_subset"

        def _split_generators(self, dl_manager):
            return {split: self._generate_examples(split) for split in TFDS_AG}

        def _generate_examples(self, split):
            for i, (label, title, description) in enumerate(TFDS_AG[split]):
                yield i, {"label": label, "title": title, "description": description}

    class Glue(tfds.builder_cls("glue"), skip_registration=True):
        name = "glue"

        def _split_generators(self, dl_manager):
            return {split: self._generate_examples(split) for split in TFDS_SST2}

        def _generate_examples(self, split):
            for i, (sentence, label) in enumerate(TFDS_SST2[split]):
                yield i, {"idx": i, "sentence": sentence, "label": label}

    class Trec(tfds.builder_cls("trec"), skip_registration=True):
        name = "trec"

        def _split_generators(self, dl_manager):
            return {split: self._generate_examples(split) for split in TFDS_TREC}

        def _generate_examples(self, split):
            for i, (text, coarse) in enumerate(TFDS_TREC[split]):
                yield i, {"text": text, "label-coarse": coarse, "label-fine": 0}

    AgNews(data_dir=data_dir).download_and_prepare()
    Glue(config="sst2", data_dir=data_dir).download_and_prepare()
    Trec(data_dir=data_dir).download_and_prepare()
    return data_dir


def test_tfds_source_from_env(tfds_dir, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", tfds_dir)
    train = load("ag_news", split="train")
    assert train.source.startswith("tfds:ag_news_subset:1.0.0")
    got = sorted(zip(train.texts, train.labels.tolist(), strict=True))  # tfds shuffles
    assert got == sorted(
        [("Oil prices rise Crude climbs.", 2), ("Vote Polls open.", 0), ("Chip Fast.", 3)]
    )
    assert train.label_names == AG_NEWS_LABELS
    test = load("ag_news", split="test", source="tfds")
    assert test.texts == ["Goal Late winner."] and test.labels.tolist() == [1]


def test_tfds_sst2_validation_and_hidden_test(tfds_dir):
    validation = load("sst2", split="validation", tfds_data_dir=tfds_dir)
    assert sorted(zip(validation.texts, validation.labels.tolist(), strict=True)) == [
        ("dull", 0),
        ("warm", 1),
    ]
    with pytest.raises(DatasetNotFoundError, match="labels are hidden in GLUE"):
        load("sst2", split="test", source="tfds", tfds_data_dir=tfds_dir)


def test_tfds_trec_label_order_is_mapped_by_name(tfds_dir):
    train = load("trec", tfds_data_dir=tfds_dir, source="tfds")
    got = {text: train.label_names[y] for text, y in train}
    assert got == {"Why ?": "DESC", "NASA ?": "ABBR", "Where ?": "LOC", "How many ?": "NUM"}


def test_tfds_not_installed_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    with pytest.raises(DatasetNotFoundError) as err:
        load("ag_news", source="tfds")
    # tfx_textzoo is on no index: name the packages themselves, and the extra
    assert 'tensorflow-datasets is not installed (pip install "tensorflow-datasets>=4.9"' in str(
        err.value
    )
    assert "[datasets] extra" in str(err.value)


# --- the Hugging Face Hub cache -----------------------------------------------------------


def test_hub_source_from_prepopulated_cache():
    rows = {
        "label": [0, 13, 8],
        "title": ["Acme", "Moby-Dick", "Ely"],
        "content": [" Anvils.", " A novel.", " A village."],
    }
    populate_hf_dataset_cache(
        "fancyzhx/dbpedia_14",
        {
            "dbpedia_14/train-00000-of-00001.parquet": lambda p: write_parquet(
                p, rows, class_names={"label": list(DATASETS["dbpedia"].label_names)}
            ),
            "dbpedia_14/test-00000-of-00001.parquet": lambda p: write_parquet(
                p, {"label": [1], "title": ["MIT"], "content": ["A school."]}
            ),
        },
    )
    train = load("dbpedia", split="train")
    assert train.source == "hf:fancyzhx/dbpedia_14"
    assert train.texts == ["Acme Anvils.", "Moby-Dick A novel.", "Ely A village."]
    assert [train.label_names[y] for y in train.labels] == ["Company", "WrittenWork", "Village"]
    test = load("dbpedia", split="test", source="hf")
    assert test.texts == ["MIT A school."] and test.labels.tolist() == [1]


def test_hub_trec_without_metadata_uses_the_hub_order():
    populate_hf_dataset_cache(
        "CogComp/trec",
        {
            "data/test-00000-of-00001.parquet": lambda p: write_parquet(
                p,
                {
                    "text": ["A ?", "B ?", "C ?"],
                    "coarse_label": [0, 1, 2],
                    "fine_label": [0, 2, 24],
                },
            )
        },
    )
    test = load("trec", split="test", source="hf")
    assert [test.label_names[y] for y in test.labels] == ["ABBR", "ENTY", "DESC"]


# --- everything missing -----------------------------------------------------------------


def test_all_sources_fail_offline_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.delenv("TEXTZOO_DATA", raising=False)
    start = time.monotonic()
    with pytest.raises(DatasetNotFoundError) as err:
        load("ag_news", split="train")
    assert time.monotonic() - start < 10
    assert isinstance(err.value, FileNotFoundError)
    message = str(err.value)
    assert "Could not load split 'train' of dataset 'ag_news'" in message
    assert "1. [local] $TEXTZOO_DATA\n     -> FileNotFoundError: TEXTZOO_DATA is not set" in message
    assert f"2. [tfds] ag_news_subset in {tmp_path / 'tfds'}" in message
    assert "offline mode and ag_news_subset is not prepared" in message
    assert "3. [hf] fancyzhx/ag_news" in message
    assert "offline mode and fancyzhx/ag_news (train) is not in the cache" in message
    # ... and how to provide the files.
    assert "train.csv: Zhang et al. csv class,title,description with classes 1..4" in message
    assert "data/train-*.parquet" in message and "$TEXTZOO_DATA/ag_news/" in message
    assert "tfds.builder('ag_news_subset').download_and_prepare()" in message
    assert "TFDS_DATA_DIR" in message
    assert "hf download fancyzhx/ag_news --repo-type dataset" in message


def test_dbpedia_has_no_tfds_source():
    with pytest.raises(DatasetNotFoundError, match="tensorflow-datasets has no dbpedia dataset"):
        load("dbpedia", source="tfds")


def test_unknown_names_splits_and_options():
    with pytest.raises(ValueError, match="Did you mean 'ag_news'") as err:
        load("agnews")
    assert "Known datasets: ag_news, ag_news-sample, bbc_news, dbpedia, goemotions, imdb," in str(
        err.value
    )
    with pytest.raises(ValueError, match="Did you mean 'sst2'"):
        load("SST-2")
    with pytest.raises(ValueError, match="Unknown dataset 'cifar10'. Known datasets"):
        load("cifar10")
    with pytest.raises(
        ValueError, match="ag_news has no split 'validation'; its splits are: train, test"
    ):
        load("ag_news", split=["train", "validation"])
    with pytest.raises(ValueError, match="Did you mean 'validation'"):
        load("sst2", split="dev")
    with pytest.raises(ValueError, match="source must be one of"):
        load("ag_news", source="kaggle")
    with pytest.raises(ValueError, match="on_bad_rows must be"):
        load("ag_news-sample", on_bad_rows="ignore")


# --- from_csv / from_parquet and bad files --------------------------------------------


def test_from_csv_labels_as_names_ids_and_one_based(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review,stars,sentiment\nGreat,5,pos\nAwful,1,neg\nFine,4,pos\n")
    names = from_csv(path, text_columns="review", label_column="sentiment")
    assert names.label_names == ["neg", "pos"] and names.labels.tolist() == [1, 0, 1]
    given = from_csv(path, "review", "sentiment", label_names=["pos", "neg"])
    assert given.labels.tolist() == [0, 1, 0]
    ids = from_csv(path, "review", "stars", one_based=True)
    assert ids.label_names == ["1", "2", "3", "4", "5"] and ids.labels.tolist() == [4, 0, 3]
    joined = from_csv(path, ["review", "sentiment"], "stars", label_names=list("12345"))
    assert joined.texts == ["Great pos", "Awful neg", "Fine pos"]
    assert joined.labels.tolist() == [4, 0, 3]  # labels matching a name map by name


def test_from_csv_without_header_and_auto_detection(tmp_path):
    path = tmp_path / "plain.tsv"
    path.write_text("1\tfirst text\n0\tsecond text\n")
    data = from_csv(path, text_columns=1, label_column=0, delimiter="\t")
    assert data.texts == ["first text", "second text"] and data.labels.tolist() == [1, 0]
    path.write_text("label\ttext\n1\tfirst text\n0\tsecond text\n")
    assert from_csv(path, 1, 0, delimiter="\t").texts == ["first text", "second text"]
    path.write_text("\ufefftext,label\nhello,1\n")  # a byte-order mark is skipped
    assert from_csv(path).texts == ["hello"]
    with pytest.raises(ValueError, match="need a header row"):
        from_csv(path, header=False)


def test_missing_columns_are_listed(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("headline,body,topic\nA,B,1\n")
    with pytest.raises(DataFormatError) as err:
        from_csv(path, text_columns=["title", "body"], label_column="class")
    assert f"{path}:1: column(s) ['title', 'class'] not found" in str(err.value)
    assert "['headline', 'body', 'topic']" in str(err.value)
    write_parquet(tmp_path / "x.parquet", {"sentence": ["a"], "label": [0]})
    with pytest.raises(
        DataFormatError,
        match=r"column\(s\) \['text'\] not found; the file has "
        r"columns \['sentence', 'label'\]",
    ):
        from_parquet(tmp_path / "x.parquet")


def test_labels_out_of_range_name_file_and_line(tmp_path):
    rows = [*AG_ROWS[:2], ("5", "Odd", "Class five."), AG_ROWS[2], ("0", "Zero", "Class zero.")]
    write_zhang(tmp_path / "train.csv", rows)
    with pytest.raises(DataFormatError) as err:
        load("ag_news", data_dir=tmp_path)
    message = str(err.value)
    assert f"{tmp_path / 'train.csv'}: 2 bad row(s) out of 5 read:" in message
    assert "2 x label out of range: line 3, line 5 (first: label 5 is outside 1..4)" in message
    assert "The 4 classes are: World, Sports, Business, Sci/Tech." in message
    assert "on_bad_rows='skip'" in message


def test_empty_texts_are_counted_with_their_rows(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("text,label\nfine,0\n ,1\nok,1\n,0\n  \t,1\n")
    with pytest.raises(DataFormatError) as err:
        from_csv(path)
    assert "3 bad row(s) out of 5 read:" in str(err.value)
    assert "3 x empty text: line 3, line 5, line 6" in str(err.value)


def test_non_utf8_bytes_name_line_and_offset(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"text,label\nfine,0\ncaf\xe9 au lait,1\n")
    with pytest.raises(DataFormatError) as err:
        from_csv(path)
    message = str(err.value)
    assert f"{path}:3: byte(s) b'\\xe9' at byte offset 21 (column 4) are not valid utf-8" in message
    assert "encoding='latin-1'" in message
    assert from_csv(path, encoding="latin-1").texts == ["fine", "café au lait"]
    with pytest.warns(BadRowsWarning, match="1 non-UTF-8 bytes"):
        data = from_csv(path, on_bad_rows="skip")
    assert data.texts == ["fine"] and data.skipped[0][:2] == (3, "bytes that are not valid utf-8")


def test_wrong_number_of_columns(tmp_path):
    write_zhang(tmp_path / "train.csv", [AG_ROWS[0], ("2", "no description"), AG_ROWS[1]])
    with pytest.raises(DataFormatError) as err:
        load("ag_news", data_dir=tmp_path)
    assert (
        "1 x wrong number of columns: line 2 (first: expected 3 columns "
        "(class,title,description), got 2)"
    ) in str(err.value)
    path = tmp_path / "x.csv"
    path.write_text("text,label\na,0\nb,1,extra\n")
    with pytest.raises(DataFormatError, match="line 3 \\(first: expected 2 columns, got 3\\)"):
        from_csv(path)


def test_skip_records_bad_rows_and_warns(tmp_path):
    rows = [AG_ROWS[0], ("9", "Bad", "Label."), ("1", "", ""), AG_ROWS[1], ("x", "No", "Id.")]
    write_zhang(tmp_path / "train.csv", rows)
    with pytest.warns(BadRowsWarning) as record:
        data = load("ag_news", data_dir=tmp_path, on_bad_rows="skip")
    assert data.texts == AG_TEXTS[:2] and data.labels.tolist() == AG_LABELS[:2]
    path = str(tmp_path / "train.csv")
    assert data.skipped == [
        SkippedRow(2, "label 9 is outside 1..4", path),
        SkippedRow(3, "empty text", path),
        SkippedRow(5, "unknown label 'x'", path),
    ]
    message = str(record[0].message)
    assert "skipped 3 bad row(s) out of 5" in message and "line 2: label 9 is outside" in message
    assert "3 rows skipped" in repr(data)
    write_zhang(tmp_path / "test.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # clean data: no warning, nothing skipped
        clean = load("ag_news", split="test", data_dir=tmp_path, on_bad_rows="skip")
    assert clean.texts == AG_TEXTS and clean.skipped == []


def test_all_rows_bad_or_none(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("text,label\n")
    with pytest.raises(DataFormatError, match="no rows"):
        from_csv(path)
    path.write_text("text,label\n,0\n")
    with pytest.raises(DataFormatError, match="no rows left after skipping 1 bad one"):
        from_csv(path, on_bad_rows="skip")


def test_from_parquet_uses_recorded_class_names(tmp_path):
    write_parquet(
        tmp_path / "d" / "train-00000-of-00002.parquet",
        {"text": ["a", "b"], "label": [1, 0]},
        class_names={"label": ["neg", "pos"]},
    )
    write_parquet(
        tmp_path / "d" / "train-00001-of-00002.parquet",
        {"text": ["c", None], "label": [1, 1]},
        class_names={"label": ["neg", "pos"]},
    )
    with pytest.raises(DataFormatError, match="train-00001-of-00002.parquet:2"):
        from_parquet(tmp_path / "d")
    with pytest.warns(BadRowsWarning):
        data = from_parquet(tmp_path / "d", on_bad_rows="skip")
    assert data.label_names == ["neg", "pos"] and data.texts == ["a", "b", "c"]
    assert data.labels.tolist() == [1, 0, 1]
    flipped = from_parquet(
        sorted((tmp_path / "d").glob("*.parquet"))[:1], label_names=["pos", "neg"]
    )
    assert flipped.labels.tolist() == [0, 1]  # mapped by name


def test_pyarrow_missing_for_local_parquet_names_the_extra(tmp_path, monkeypatch):
    write_parquet(tmp_path / "train.parquet", {"text": ["a"], "label": [0]})
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    # tfx_textzoo is on no package index: the hint names the packages, then the extra.
    hint = r'pip install "tensorflow-datasets>=4.9" "pyarrow>=15", the \[datasets\] extra'
    with pytest.raises(ImportError, match=hint):
        load("imdb", data_dir=tmp_path)


def test_loaded_data_feeds_as_texts_and_labels():
    data = load("ag_news-sample", split="test")[:8]
    texts, labels = as_texts_and_labels(data, num_classes=4)
    assert texts.tolist() == data.texts and labels.tolist() == data.labels.tolist()


# --- the real files in ../shared ------------------------------------------------------


@pytest.mark.integration
def test_real_files(shared_dir):
    data = shared_dir / "data"
    ag = load("ag_news", split="test", data_dir=data / "ag_news")
    assert len(ag) == 7600 and ag.label_names == AG_NEWS_LABELS
    assert ag.class_counts() == {name: 1900 for name in AG_NEWS_LABELS}
    assert ag.texts[0].startswith("Fears for T N pension after talks Unions representing")
    assert "\\" not in "".join(ag.texts)
    sst2 = load("sst2", split=["train", "validation", "test"], data_dir=data / "sst2")
    assert [len(d) for d in sst2] == [67_349, 872, 1_821]
    assert [d.label_names for d in sst2] == [["negative", "positive"]] * 3
    assert sst2[1].class_counts() == {"negative": 428, "positive": 444}
    trec = load("trec", split=["train", "test"], data_dir=data / "trec6")
    assert [len(d) for d in trec] == [5_452, 500]
    assert trec[1].class_counts()["NUM"] == 113 and trec[1].label_names == TREC_LABELS


# --- issue 13: the shared csv/tsv reader (every reader: from_csv, Zhang, GLUE, Hub-style) ---


def _write_reader_file(kind, tmp_path, rows_text):
    """Write ``rows_text`` (a list of (text, label) rows) as ``kind`` reads it; return a loader."""
    if kind == "from_csv":
        path = tmp_path / "reviews.csv"
        path.write_text("text,label\n" + "".join(csv_line(t, y) for t, y in rows_text))
        return path, lambda **kw: from_csv(path, **kw)
    if kind == "zhang":
        path = tmp_path / "train.csv"
        header = "class,title,description\n"  # classes are 1-based
        path.write_text(header + "".join(csv_line(str(int(y) + 1), t, "b") for t, y in rows_text))
        return path, lambda **kw: load("ag_news", data_dir=tmp_path, **kw)
    if kind == "glue":
        path = tmp_path / "dev.tsv"
        path.write_text("sentence\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in rows_text))
        return path, lambda **kw: load("sst2", split="validation", data_dir=tmp_path, **kw)
    path = tmp_path / "train.csv"  # hub-style: a trec train.csv with a header
    path.write_text("text,coarse_label\n" + "".join(csv_line(t, y) for t, y in rows_text))
    return path, lambda **kw: load("trec", data_dir=tmp_path, **kw)


READERS = ["from_csv", "zhang", "glue", "hub_csv"]


@pytest.mark.parametrize("kind", READERS)
def test_a_repeated_header_row_is_a_bad_row_not_a_class(tmp_path, kind):
    """Files joined with `cat` repeat the header: it must not become a class named 'label'."""
    rows = [("good film", "1"), ("bad film", "1"), ("fine film", "1")]
    path, read = _write_reader_file(kind, tmp_path, rows)
    header = path.read_text().splitlines()[0]
    path.write_text(path.read_text() + header + "\n" + path.read_text().split("\n", 1)[1])
    with pytest.raises(DataFormatError) as err:
        read()
    assert "1 x repeated header row: line 5" in str(err.value)
    assert "a copy of the header row of line 1" in str(err.value)
    with pytest.warns(BadRowsWarning, match="1 repeated header row"):
        data = read(on_bad_rows="skip")
    assert len(data) == 6 and data.skipped[0][:1] == (5,)
    assert not {"label", "class", "coarse_label"} & set(data.label_names)


@pytest.mark.parametrize("kind", READERS)
def test_a_field_over_the_csv_module_limit_is_read(tmp_path, kind):
    """The csv module refuses fields over 131,072 characters: a long review is still a text."""
    import csv

    long_text = "word " * 40_000  # 200,000 characters
    rows = [("good film", "1"), (long_text.strip(), "0"), ("bad film", "0")]
    _, read = _write_reader_file(kind, tmp_path, rows)
    limit = csv.field_size_limit()
    data = read()
    assert len(data) == 3 and len(data.texts[1]) >= 199_999
    assert len(read(on_bad_rows="skip")) == 3
    assert csv.field_size_limit() == limit  # the process-wide limit is left as it was


@pytest.mark.parametrize("kind", READERS)
def test_skip_skips_a_field_over_the_limit(tmp_path, kind, monkeypatch):
    monkeypatch.setattr(textzoo.datasets.readers, "MAX_FIELD_CHARS", 150_000)
    rows = [("good film", "1"), ("x" * 200_000, "0"), ("bad film", "0"), ("ok film", "1")]
    _, read = _write_reader_file(kind, tmp_path, rows)
    with pytest.raises(DataFormatError) as err:
        read()
    assert "1 x field too long: line 3" in str(err.value)
    assert "200,000 characters (at most 150,000 are read)" in str(err.value)
    with pytest.warns(BadRowsWarning, match="1 field too long"):
        data = read(on_bad_rows="skip")
    assert len(data) == 3 and [s.line for s in data.skipped] == [3]


@pytest.mark.parametrize("kind", ["from_csv", "zhang", "hub_csv"])
def test_an_unterminated_quote_is_named_with_the_line_it_starts_on(tmp_path, kind):
    rows = [("good film", "1"), ("bad film", "0"), ("fine film", "1"), ("ok film", "0")]
    path, read = _write_reader_file(kind, tmp_path, rows)
    lines = path.read_text().replace('"', "").splitlines(keepends=True)
    lines[2] = lines[2].replace("bad film", '"bad film', 1)  # line 3 opens a quote, never closed
    path.write_text("".join(lines))
    with pytest.raises(DataFormatError) as err:
        read()
    message = str(err.value)
    assert "1 x unterminated quote: line 3" in message
    assert "a quote opens a field on line 3 and is never closed" in message
    assert "wrong number of columns" not in message
    with pytest.warns(BadRowsWarning, match="1 unterminated quote"):
        data = read(on_bad_rows="skip")  # the lines after it are read again: nothing else lost
    assert len(data) == 3 and [s.line for s in data.skipped] == [3]


def test_an_unbalanced_quote_does_not_swallow_the_lines_after_it(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('text,label\ngood,1\n"bad,0\nfine,1\n"quoted",0\nlast,1\n')
    with pytest.raises(DataFormatError) as err:
        from_csv(path)
    assert "1 x unbalanced quote: line 3" in str(err.value)
    assert "is a quote on line 3 unbalanced?" in str(err.value)
    with pytest.warns(BadRowsWarning):
        data = from_csv(path, on_bad_rows="skip")
    assert data.texts == ["good", "fine", "quoted", "last"]
    path.write_text('text,label\ngood,1\n"bad" film,0\nfine,1\n')
    assert from_csv(path).texts == ["good", "bad film", "fine"]  # one line: read as before


def test_error_types_carry_the_problem_apart_from_the_python_advice(tmp_path):
    from tfx_textzoo.datasets import BadRowsError, DataEncodingError, MissingColumnsError
    from tfx_textzoo.errors import TextzooError, UnknownDatasetError

    path = tmp_path / "latin.csv"
    path.write_bytes(b"text,label\ncaf\xe9,1\nok,0\n")
    with pytest.raises(DataEncodingError) as err:
        from_csv(path)
    assert isinstance(err.value, TextzooError) and isinstance(err.value, ValueError)
    assert err.value.problem.startswith(f"{path}:2: byte(s) b'\\xe9'")
    assert "from_csv" not in err.value.problem and "from_csv" in str(err.value)
    path.write_text("text,label\n,1\n")
    with pytest.raises(MissingColumnsError):
        from_csv(path, text_columns="body")
    with pytest.raises(BadRowsError) as err:
        from_csv(path)
    assert "on_bad_rows" not in err.value.problem
    with pytest.raises(UnknownDatasetError) as err:
        load("ag_newz")
    assert "from_csv" not in err.value.problem and err.value.name == "ag_newz"
    with pytest.raises(DatasetNotFoundError) as err:
        load("ag_news", data_dir=tmp_path / "none")
    assert isinstance(err.value, TextzooError)


def test_check_two_classes_names_the_one_class():
    from tfx_textzoo.datasets import check_two_classes
    from tfx_textzoo.errors import SingleClassError

    check_two_classes([0, 1, 1], ["neg", "pos"])
    with pytest.raises(SingleClassError, match="the data has one class, 'pos' \\(all 2 texts\\)"):
        check_two_classes([1, 1], ["neg", "pos"])
