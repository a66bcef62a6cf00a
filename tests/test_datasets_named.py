"""Issue 15's named datasets: goemotions (multi-label), rte and mrpc (sentence pairs) and
bbc_news (one file, deduplicated, split here), from every source: the fixture files in
tests/fixtures/datasets (written in the real on-disk formats), a real tensorflow-datasets
directory prepared offline from fixture rows, a pre-populated Hugging Face cache. The
real files in ../shared are checked (md5, sizes, published counts) when present.
No network: TEXTZOO_OFFLINE=1 (conftest)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo.datasets import (
    BBC_SPLIT_SEED,
    DATASETS,
    GOEMOTIONS_LABELS,
    BadRowsError,
    BadRowsWarning,
    DataFormatError,
    DatasetNotFoundError,
    TextDataset,
    as_examples,
    deduplicated,
    from_csv,
    from_parquet,
    list_datasets,
    load,
    read_bbc_csv,
    read_goemotions_tsv,
    read_mrpc_tsv,
    read_rte_tsv,
    stratified_split,
)

FIXTURES = Path(__file__).parent / "fixtures" / "datasets"
E = {name: i for i, name in enumerate(GOEMOTIONS_LABELS)}


def one_hot(sets, k=28):
    out = np.zeros((len(sets), k), "int32")
    for row, ids in enumerate(sets):
        out[row, ids] = 1
    return out.tolist()


# --- the table ----------------------------------------------------------------------------


def test_new_names_in_the_table():
    assert {"goemotions", "rte", "mrpc", "bbc_news"} <= set(list_datasets())
    go = DATASETS["goemotions"]
    assert go.multi_label and len(go.label_names) == 28 and go.label_names[27] == "neutral"
    assert (
        go.splits == ("train", "validation", "test") and go.local_files["validation"] == "dev.tsv"
    )
    assert (go.tfds_name, go.hub_repo, go.hub_config) == (
        "goemotions",
        "google-research-datasets/go_emotions",
        "simplified",
    )
    rte, mrpc = DATASETS["rte"], DATASETS["mrpc"]
    assert rte.label_names == ("entailment", "not_entailment") and rte.pair_columns == (
        "sentence2",
    )
    assert (rte.tfds_name, rte.hub_repo, rte.hub_config) == ("glue/rte", "nyu-mll/glue", "rte")
    assert mrpc.label_names == ("not_equivalent", "equivalent")
    assert (mrpc.tfds_name, mrpc.hub_config) == ("glue/mrpc", "mrpc")
    bbc = DATASETS["bbc_news"]
    assert bbc.splits == ("train", "test", "all") and bbc.label_names == tuple(
        sorted(bbc.label_names)
    )
    assert bbc.tfds_name is None and bbc.hub_repo is None
    assert BBC_SPLIT_SEED == 2006


# --- goemotions -----------------------------------------------------------------------------


def test_goemotions_local_files():
    train, dev, test = load(
        "goemotions", split=["train", "validation", "test"], data_dir=FIXTURES / "goemotions"
    )
    assert train.multi_label and train.label_names == GOEMOTIONS_LABELS
    assert train.texts == [
        "My favourite food is anything I didn't have to cook myself.",
        'He said "no way" and left, [NAME].',  # CSV quoting undone
        "Thanks so much \U0001f60a you rock",  # whitespace normalised
        "WHY THE FUCK IS BAYLESS ISOING",
    ]
    assert train.labels.tolist() == one_hot([[27], [2, 3], [0, 15, 18], [2]])
    assert train.label_sets()[2] == ["admiration", "gratitude", "love"]
    counts = train.class_counts()
    assert (counts["anger"], counts["annoyance"], counts["neutral"], counts["grief"]) == (
        2,
        1,
        1,
        0,
    )
    assert dev.name == "goemotions/validation" and dev.label_sets() == [
        ["grief", "sadness"],
        ["neutral"],
    ]
    assert test.label_sets() == [["pride"]]
    assert train.source.startswith("local:") and train.source.endswith("train.tsv")
    # into a multi-label model's examples, unchanged
    ex = as_examples(train, multi_label=True, label_names=GOEMOTIONS_LABELS)
    assert ex.labels.dtype == np.float32 and ex.labels.tolist() == train.labels.tolist()


def test_goemotions_bad_rows_header_and_emotions_txt(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_bytes(
        b"text\tlabel\tid\nfine\t27\ta\nbroken row\nnone\t\tc\nwhat\t28\td\nok\t1,2\te\n"
    )
    with pytest.raises(BadRowsError) as err:
        read_goemotions_tsv(path)
    message = str(err.value)
    assert "3 bad row(s) out of 5 read" in message
    assert "1 x wrong number of columns: line 3" in message
    assert "1 x missing label: line 4" in message
    assert "1 x label out of range: line 5 (first: label 28 is outside 0..27)" in message
    with pytest.warns(BadRowsWarning):
        data = read_goemotions_tsv(path, on_bad_rows="skip")
    assert data.texts == ["fine", "ok"] and data.label_sets() == [
        ["neutral"],
        ["amusement", "anger"],
    ]
    assert [row.line for row in data.skipped] == [3, 4, 5]
    # an emotions.txt with another count is refused; one with the 28 names renames them
    shutil.copy(FIXTURES / "goemotions" / "dev.tsv", tmp_path / "dev.tsv")
    (tmp_path / "emotions.txt").write_text("joy\nsadness")
    with pytest.raises(DataFormatError, match="lists 2 classes"):
        load("goemotions", split="validation", data_dir=tmp_path)
    (tmp_path / "emotions.txt").write_text("\n".join(n.upper() for n in GOEMOTIONS_LABELS))
    dev = load("goemotions", split="validation", data_dir=tmp_path)
    assert dev.label_sets() == [["GRIEF", "SADNESS"], ["NEUTRAL"]]


# --- rte and mrpc ---------------------------------------------------------------------------


def test_rte_local_files():
    train, dev = load("rte", split=["train", "validation"], data_dir=FIXTURES / "rte")
    assert train.text_pairs is not None and len(train) == 3
    assert train[1] == (
        ('"That film wasn\'t too successful," he said "yes.', "The film was a success."),
        1,
    )  # quoting off: bare quotes kept; the leading space stripped
    assert train.labels.tolist() == [1, 1, 0] and dev.labels.tolist() == [1, 0]
    assert dev.text_pairs == ["Christopher Reeve had an accident.", "Bacteria is winning."]
    assert (
        repr(dev)
        == "TextDataset('rte/validation', 2 text pairs, 2 classes: entailment=1, not_entailment=1)"
    )
    ex = as_examples(train)
    assert ex.text_pairs.tolist() == train.text_pairs and ex.labels.tolist() == [1, 1, 0]
    with pytest.raises(
        DataFormatError, match="unlabelled RTE test.tsv.*evaluate on split='validation'"
    ):
        load("rte", split="test", data_dir=FIXTURES / "rte")
    assert read_rte_tsv(FIXTURES / "rte" / "dev.tsv").texts == dev.texts


def test_rte_bad_rows(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_text(
        "index\tsentence1\tsentence2\tlabel\n0\tA.\t \tentailment\n1\tB.\tC.\tmaybe\n2\tD.\tE.\n"
    )
    with pytest.raises(BadRowsError) as err:
        read_rte_tsv(path)
    message = str(err.value)
    assert "1 x empty second text: line 2" in message
    assert "1 x unknown label: line 3 (first: unknown label 'maybe')" in message
    assert "1 x wrong number of columns: line 4" in message
    assert "The 2 classes are: entailment, not_entailment." in message
    path.write_text("sentence1\tsentence2\tlabel\nA.\tB.\tentailment\n")
    with pytest.raises(DataFormatError, match="expected the header index<TAB>sentence1"):
        read_rte_tsv(path)


def test_mrpc_local_files():
    train, dev, test = load(
        "mrpc", split=["train", "validation", "test"], data_dir=FIXTURES / "mrpc"
    )
    assert train.label_names == ["not_equivalent", "equivalent"]
    assert train[0] == (
        (
            'Amrozi accused his brother, whom he called "the witness", of lying.',
            'Referring to him as only "the witness", Amrozi accused his brother of lying.',
        ),
        1,
    )
    assert train.labels.tolist() == [1, 0] and dev.labels.tolist() == [1]
    assert test.labels.tolist() == [1, 0]  # msr_paraphrase_test.txt, its byte-order mark dropped
    assert test.source.endswith("msr_paraphrase_test.txt")
    assert test.text_pairs[0] == "PCCW's COO will also become chief executive."
    with pytest.raises(DataFormatError, match="unlabelled MRPC test.tsv"):
        load("mrpc", split="test", data_dir=FIXTURES / "mrpc_glue_test")
    assert read_mrpc_tsv(FIXTURES / "mrpc" / "dev.tsv").texts == dev.texts


# --- bbc_news -------------------------------------------------------------------------------


def test_bbc_news_dedup_and_split():
    """17 rows: rows 11 and 17 repeat rows 3 and 1 exactly -> 15 unique; row 14 is row 8
    with other spacing. Test share per class: round(0.2 * n): business 3 -> 1, sport 6 -> 1,
    tech / entertainment / politics 2 -> 0; so 13 train, 2 test."""
    raw = read_bbc_csv(FIXTURES / "bbc_news" / "bbc-text.csv")
    assert (
        len(raw) == 17
        and raw.texts[0] == "tv future in the hands of viewers  with home theatre systems"
    )
    train, test, every = load(
        "bbc_news", split=["train", "test", "all"], data_dir=FIXTURES / "bbc_news"
    )
    assert len(every) == 15 and every.texts == [
        raw.texts[i] for i in range(17) if i not in (10, 16)
    ]
    assert every.class_counts() == {
        "business": 3,
        "entertainment": 2,
        "politics": 2,
        "sport": 6,
        "tech": 2,
    }
    assert (len(train), len(test)) == (13, 2)
    assert test.class_counts() == {
        "business": 1,
        "entertainment": 0,
        "politics": 0,
        "sport": 1,
        "tech": 0,
    }
    assert not set(train.texts) & set(test.texts)
    assert sorted(train.texts + test.texts) == sorted(every.texts)
    spaced = {" ".join(t.split()) for t in test.texts}
    assert (
        "henman hopes ended in dubai third seed tim henman slumped" not in spaced
    )  # its pair stays in train
    again = load("bbc_news", split="test", data_dir=FIXTURES / "bbc_news")
    assert again.texts == test.texts  # seeded: the same split every time
    assert train.name == "bbc_news/train"


def test_deduplicated_refuses_conflicting_labels_and_stratified_split_rules():
    data = TextDataset(["a", "b", "a"], [0, 1, 1], ["x", "y"], "news.csv")
    with pytest.raises(
        DataFormatError,
        match=r"news.csv: 1 text\(s\) repeat with another label.*rows 1 \(x\) and 3 \(y\)",
    ):
        deduplicated(data)
    data = TextDataset([f"t{i}" for i in range(20)], [0] * 10 + [1] * 10, ["x", "y"])
    train, test = stratified_split(data, 0.3, seed=1)
    assert test.class_counts() == {"x": 3, "y": 3} and len(train) == 14
    assert stratified_split(data, 0.3, seed=1)[1].texts == test.texts
    assert stratified_split(data, 0.3, seed=2)[1].texts != test.texts
    with pytest.raises(ValueError, match="test_fraction must be in"):
        stratified_split(data, 1.0, seed=0)


# --- from_csv / from_parquet: pairs and label sets ----------------------------------------


def test_from_csv_pairs_and_label_sets(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "premise,hypothesis,tags\nA dog runs.,An animal moves.,yes|sure\nIt rains.,It is dry.,\n"
    )
    data = from_csv(path, "premise", "tags", text_pair_columns="hypothesis", label_delimiter="|")
    assert data.texts == ["A dog runs.", "It rains."] and data.text_pairs == [
        "An animal moves.",
        "It is dry.",
    ]
    assert data.multi_label and data.label_names == ["sure", "yes"]
    assert data.labels.tolist() == [[1, 1], [0, 0]]
    named = from_csv(
        path, "premise", "tags", label_delimiter="|", label_names=["yes", "sure", "no"]
    )
    assert named.labels.tolist() == [[1, 1, 0], [0, 0, 0]]


def test_from_parquet_list_labels_and_pairs(tmp_path):
    path = tmp_path / "train.parquet"
    pq.write_table(
        pa.table({"a": ["x y", "z"], "b": ["p", "q"], "labels": [[0, 2], []], "one": [1, 0]}), path
    )
    multi = from_parquet(path, "a", "labels", label_names=["n0", "n1", "n2"])
    assert multi.multi_label and multi.labels.tolist() == [[1, 0, 1], [0, 0, 0]]
    pairs = from_parquet(path, "a", "one", text_pair_columns="b", label_names=["neg", "pos"])
    assert pairs[0] == (("x y", "p"), 1) and pairs.text_pairs == ["p", "q"]


# --- tensorflow-datasets ---------------------------------------------------------------------

TFDS_GLUE = {
    "rte": {
        "train": [("A man sleeps.", "A man is awake.", 1), ("It rains.", "It is wet.", 0)],
        "validation": [("Cats purr.", "Cats make sounds.", 0)],
        "test": [("Hidden.", "Labels.", -1)],
    },
    "mrpc": {"train": [("He left.", "He went away.", 1), ("Red.", "Blue.", 0)]},
}
TFDS_GO = {
    "train": [
        ("I love it", ["love"]),
        ("thanks a lot", ["gratitude", "joy"]),
        ("meh", ["neutral"]),
    ],
    "validation": [("ugh", ["annoyance"])],
}


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    """A real tensorflow-datasets data directory, prepared offline from fixture rows."""
    tfds = pytest.importorskip("tensorflow_datasets")
    data_dir = str(tmp_path_factory.mktemp("tfds"))

    class Glue(tfds.builder_cls("glue"), skip_registration=True):
        name = "glue"

        def _split_generators(self, dl_manager):
            rows = TFDS_GLUE[self.builder_config.name]
            return {split: self._generate_examples(split) for split in rows}

        def _generate_examples(self, split):
            rows = TFDS_GLUE[self.builder_config.name][split]
            for i, (a, b, label) in enumerate(rows):
                yield i, {"idx": i, "sentence1": a, "sentence2": b, "label": label}

    class GoEmotions(tfds.builder_cls("goemotions"), skip_registration=True):
        name = "goemotions"

        def _split_generators(self, dl_manager):
            return {split: self._generate_examples(split) for split in TFDS_GO}

        def _generate_examples(self, split):
            for i, (text, labels) in enumerate(TFDS_GO[split]):
                yield i, {"comment_text": text, **{n: n in labels for n in GOEMOTIONS_LABELS}}

    Glue(config="rte", data_dir=data_dir).download_and_prepare()
    Glue(config="mrpc", data_dir=data_dir).download_and_prepare()
    GoEmotions(data_dir=data_dir).download_and_prepare()
    return data_dir


def test_tfds_rte_and_mrpc_pairs(tfds_dir):
    train = load("rte", tfds_data_dir=tfds_dir, source="tfds")
    assert train.source.startswith("tfds:glue/rte")
    got = sorted(zip(train.texts, train.text_pairs, train.labels.tolist(), strict=True))
    assert got == [("A man sleeps.", "A man is awake.", 1), ("It rains.", "It is wet.", 0)]
    assert load("rte", split="validation", tfds_data_dir=tfds_dir, source="tfds")[0] == (
        ("Cats purr.", "Cats make sounds."),
        0,
    )
    with pytest.raises(DatasetNotFoundError, match="RTE's test labels are not public"):
        load("rte", split="test", tfds_data_dir=tfds_dir, source="tfds")
    mrpc = load("mrpc", tfds_data_dir=tfds_dir, source="tfds")
    assert {mrpc.label_names[y] for t, y in mrpc if t == ("He left.", "He went away.")} == {
        "equivalent"
    }


def test_tfds_goemotions_per_label_features(tfds_dir):
    train = load("goemotions", tfds_data_dir=tfds_dir, source="tfds")
    assert train.multi_label and train.source.startswith("tfds:goemotions")
    got = {text: labels for text, labels in zip(train.texts, train.label_sets(), strict=True)}
    assert got == {"I love it": ["love"], "thanks a lot": ["gratitude", "joy"], "meh": ["neutral"]}
    validation = load("goemotions", split="validation", tfds_data_dir=tfds_dir, source="tfds")
    assert validation.labels.tolist() == one_hot([[E["annoyance"]]])


# --- the Hugging Face Hub cache ------------------------------------------------------------


def populate_hf_dataset_cache(repo_id: str, files: dict) -> None:
    """Lay parquet tables out as huggingface_hub's cache does for a dataset repo."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = textzoo.weights.cache_dir() / "hf" / ("datasets--" + repo_id.replace("/", "--"))
    snapshot = root / "snapshots" / commit
    for relative, (columns, features) in files.items():
        table = pa.table(columns)
        if features:
            table = table.replace_schema_metadata(
                {"huggingface": json.dumps({"info": {"features": features}})}
            )
        (snapshot / relative).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, snapshot / relative)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)


def class_label(names):
    return {"names": list(names), "_type": "ClassLabel"}


def test_hub_glue_configs_are_kept_apart():
    rte = {
        "sentence1": ["A man sleeps.", "It rains."],
        "sentence2": ["He is awake.", "It is wet."],
        "label": [1, 0],
        "idx": [0, 1],
    }
    mrpc = {"sentence1": ["He left."], "sentence2": ["He went away."], "label": [1], "idx": [0]}
    decoy = {"sentence1": ["x"], "sentence2": ["y"], "label": [2], "idx": [0]}
    populate_hf_dataset_cache(
        "nyu-mll/glue",
        {
            "ax/test-00000-of-00001.parquet": (decoy, None),
            "mnli/train-00000-of-00001.parquet": (decoy, None),
            "rte/train-00000-of-00001.parquet": (
                rte,
                {"label": class_label(["entailment", "not_entailment"])},
            ),
            "mrpc/train-00000-of-00001.parquet": (
                mrpc,
                {"label": class_label(["not_equivalent", "equivalent"])},
            ),
        },
    )
    train = load("rte", source="hf")
    assert train.source == "hf:nyu-mll/glue"
    assert train.texts == ["A man sleeps.", "It rains."] and train.text_pairs == [
        "He is awake.",
        "It is wet.",
    ]
    assert train.labels.tolist() == [1, 0]
    assert load("mrpc", source="hf")[0] == (("He left.", "He went away."), 1)
    with pytest.raises(DatasetNotFoundError, match="no parquet files for split 'validation'"):
        load("rte", split="validation", source="hf")  # never the decoys of other configs


def test_hub_go_emotions_list_labels():
    names = GOEMOTIONS_LABELS
    populate_hf_dataset_cache(
        "google-research-datasets/go_emotions",
        {
            "raw/train-00000-of-00001.parquet": ({"text": ["decoy"], "admiration": [1]}, None),
            "simplified/train-00000-of-00001.parquet": (
                {"text": ["wow  thanks", "ok"], "labels": [[0, 15], [27]], "id": ["a", "b"]},
                {"labels": {"feature": class_label(names), "_type": "Sequence"}},
            ),
            "simplified/test-00000-of-00001.parquet": (
                {"text": ["sad"], "labels": [[25]], "id": ["c"]},
                None,
            ),
        },
    )
    train = load("goemotions", source="hf")
    assert train.source == "hf:google-research-datasets/go_emotions"
    assert train.texts == ["wow thanks", "ok"]
    assert train.label_sets() == [["admiration", "gratitude"], ["neutral"]]
    assert load("goemotions", split="test", source="hf").label_sets() == [["sadness"]]


def test_not_found_lists_the_new_formats(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    with pytest.raises(DatasetNotFoundError) as err:
        load("goemotions", split="validation", source="local")
    assert "GoEmotions tsv without a header" in str(err.value)
    with pytest.raises(DatasetNotFoundError) as err:
        load("bbc_news", data_dir=tmp_path)
    assert "bbc-text.csv" in str(err.value)


# --- the real files in ../shared ------------------------------------------------------


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


GO_TRAIN_COUNTS = [
    4130, 2328, 1567, 2470, 2939, 1087, 1368, 2191, 641, 1269, 2022, 793, 303, 853,
    596, 2662, 77, 1452, 2086, 164, 1581, 111, 1110, 153, 545, 1326, 1060, 14219,
]  # fmt: skip


@pytest.mark.integration
def test_real_goemotions(shared_dir):
    root = shared_dir / "data" / "goemotions"
    assert md5(root / "train.tsv") == "83a206cc5aa2fa9749ee45675f866d03"
    assert md5(root / "dev.tsv") == "8820aa4fd13c5dee1b55c2893aad1232"
    assert md5(root / "test.tsv") == "8c3482a12f52ff56429a5d178257be09"
    assert md5(root / "emotions.txt") == "e0e6d342e661e202e3a0f241db907512"
    train, dev, test = load("goemotions", split=["train", "validation", "test"], data_dir=root)
    assert [len(d) for d in (train, dev, test)] == [43_410, 5_426, 5_427]
    assert train.label_names == GOEMOTIONS_LABELS and train.labels.shape == (43_410, 28)
    assert list(train.class_counts().values()) == GO_TRAIN_COUNTS
    histograms = [
        np.bincount(d.labels.sum(axis=1), minlength=6)[1:6].tolist() for d in (train, dev, test)
    ]
    assert histograms == [
        [36_308, 6_541, 532, 28, 1],
        [4_548, 809, 62, 7, 0],
        [4_590, 774, 61, 2, 0],
    ]
    quoted = [t for t in train.texts if '"' in t]
    assert quoted and not any(t.startswith('"') and '""' in t for t in quoted)  # quoting undone


@pytest.mark.integration
def test_real_rte(shared_dir):
    root = shared_dir / "data" / "rte"
    assert md5(root / "train.tsv") == "791051bd1bdc71a74ad2d674d5c256ca"
    assert md5(root / "dev.tsv") == "973cb4178d4534cf745a01c309d4a66c"
    assert md5(root / "test.tsv") == "6041008f3f3e48704f57ce1b88ad2e74"
    train, dev = load("rte", split=["train", "validation"], data_dir=root)
    assert (len(train), len(dev)) == (2_490, 277)
    assert train.class_counts() == {"entailment": 1_249, "not_entailment": 1_241}
    assert dev.class_counts() == {"entailment": 146, "not_entailment": 131}
    assert train.texts[2164].startswith('"That film')  # the stray leading space stripped
    assert all(train.text_pairs) and len(train.text_pairs) == 2_490
    with pytest.raises(DataFormatError, match="not public"):
        load("rte", split="test", data_dir=root)


@pytest.mark.integration
def test_real_bbc_news(shared_dir):
    path = shared_dir / "data" / "bbc_news" / "bbc-text.csv"
    assert md5(path) == "f9fbdf2d83a17f0e09ddc33c56816ed1"
    raw = read_bbc_csv(path)
    assert len(raw) == 2_225
    assert raw.class_counts() == {
        "business": 510,
        "entertainment": 386,
        "politics": 417,
        "sport": 511,
        "tech": 401,
    }
    train, test, every = load("bbc_news", split=["train", "test", "all"], data_dir=path.parent)
    assert len(every) == 2_126 == len(set(every.texts))
    assert (len(train), len(test)) == (1_700, 426)
    # round(0.2 * unique per class): business 503 -> 101, entertainment 369 -> 74,
    # politics 403 -> 81, sport 504 -> 101, tech 347 -> 69
    assert test.class_counts() == {
        "business": 101,
        "entertainment": 74,
        "politics": 81,
        "sport": 101,
        "tech": 69,
    }
    assert not set(train.texts) & set(test.texts)
    normalised = lambda d: {" ".join(t.split()) for t in d.texts}  # noqa: E731
    assert not normalised(train) & normalised(test)
    words = sorted(len(t.split()) for t in every.texts)
    assert words[0] >= 90 and words[-1] == 4_492
