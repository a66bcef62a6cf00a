"""The command line for multi-label models, sentence pairs and long documents.

The commands run in-process (``cli.main``) on tiny models saved with
``save_pretrained``; what they print is checked against an independent computation:
decisions by a numpy threshold of the probabilities the model's graph gives, metrics by
sklearn, label matrices and splits by hand. Option errors are checked before any
model is built (they need no TensorFlow).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo import cli

NAMES = ["sport", "money", "politics", "tech"]
TINY = {"weights": None, "num_layers": 1, "hidden_dim": 16, "num_heads": 2, "intermediate_dim": 32}
RNG = np.random.default_rng(11)
WORDS = "the team won stocks on friday new chip final peace a of minister club".split()
TEXTS = [" ".join(RNG.choice(WORDS, size=int(k))) for k in RNG.integers(1, 7, size=12)]
SECONDS = [" ".join(RNG.choice(WORDS, size=int(k))) for k in RNG.integers(1, 7, size=12)]
LONG = [" ".join(RNG.choice(WORDS, size=int(k))) for k in (40, 3, 70)]


def run(capsys, *args):
    """``textzoo ARGS`` in-process: (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_user_error(code, out, err, *fragments):
    assert code == 1, (out, err)
    assert "error: " in err and "hint: " in err and "Traceback" not in err, err
    assert out == ""
    for fragment in fragments:
        assert fragment in err, (fragment, err)


# --- option errors, before any data is read or TensorFlow starts ----------------------


@pytest.mark.parametrize(
    "args, fragments",
    [
        (
            ["--dataset", "{tmp}/x.csv", "--label-delimiter", "|"],
            ["--label-delimiter splits a label column", "needs --multi-label"],
        ),
        (
            ["--dataset", "{tmp}/x.csv", "--label-column", "a", "--label-column", "b"],
            ["several --label-column (a, b) are one 0/1 column per label", "--multi-label"],
        ),
        (
            ["--dataset", "{tmp}/x.csv", "--multi-label", "--label-delimiter", ""],
            ["--label-delimiter is empty"],
        ),
        (
            ["--dataset", "{tmp}/x.csv", "--multi-label", "--label-delimiter", ",",
             "--label-column", "a", "--label-column", "b"],
            ["--label-delimiter splits one label column"],
        ),
        (
            ["--dataset", "rte", "--text-pair-column", "sentence2"],
            ["--text-pair-column describes the columns of a .csv/.tsv --dataset", "rte"],
        ),
        (
            ["--dataset", "goemotions", "--multi-label", "--label-delimiter", ","],
            ["--label-delimiter describes the columns", "goemotions"],
        ),
    ],
)  # fmt: skip
def test_train_column_options_that_contradict(capsys, tmp_path, args, fragments):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "train", "scratch-tiny", *args, "--output", out)
    assert_user_error(code, stdout, err, *fragments)
    assert not out.exists()


def test_truncation_choices_are_checked_by_the_parser(capsys, tmp_path):
    code, _, err = run(
        capsys, "train", "scratch-tiny", "--dataset", "ag_news-sample", "--truncation",
        "middle", "--output", tmp_path / "out",
    )  # fmt: skip
    assert code == 2 and "'middle' is not one of 'head', 'tail', 'head+tail'" in err


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--stride", "8"], ["--stride sets how --long-text chunks reads", "--long-text chunks"]),
        (["--aggregate", "max"], ["--aggregate sets how --long-text chunks reads"]),
        (
            ["--long-text", "chunks", "--truncation", "tail"],
            ["--truncation tail chooses the tokens one window keeps", "either --truncation"],
        ),
        (["--text-column", "body"], ["--text-column names a column of a .csv/.tsv --file"]),
        (
            ["--file", "{tmp}/lines.txt", "--text-pair-column", "b"],
            ["--text-pair-column names a column", "lines.txt is not one"],
        ),
    ],
)
def test_predict_options_that_contradict(capsys, tmp_path, args, fragments):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = run(capsys, "predict", tmp_path / "nowhere", "some text", *args)
    assert_user_error(code, out, err, *fragments)


def test_long_text_arguments_pass_only_what_was_asked():
    assert cli._long_text_arguments(None, "truncate", None, None) == {}
    assert cli._long_text_arguments("tail", "truncate", None, None) == {"truncation": "tail"}
    assert cli._long_text_arguments(None, "chunks", None, None) == {
        "long_text": "chunks",
        "aggregate": "mean",
    }
    assert cli._long_text_arguments(None, "chunks", "max", 5) == {
        "long_text": "chunks",
        "aggregate": "max",
        "stride": 5,
    }


# --- reading multi-label and pair files ---------------------------------------------


def test_multi_label_csv_with_a_delimited_column(tmp_path):
    path = tmp_path / "tags.csv"
    path.write_text(
        'text,tags\n"sunny beach",travel|nature\nmeeting,\n"a walk, then a flight",nature|travel\n'
        "the office,work\n"
    )
    columns = cli._Columns(["text"], [], ["tags"], multi_label=True)
    assert columns.label_delimiter == "|"  # the default
    data = cli._read_csv_dataset(str(path), columns, "raise", "utf-8")
    assert data.multi_label and data.label_names == ["nature", "travel", "work"]
    assert data.labels.tolist() == [[1, 1, 0], [0, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert data.texts[2] == "a walk, then a flight"


def test_multi_label_csv_with_one_01_column_per_label(tmp_path):
    path = tmp_path / "toxic.csv"
    path.write_text("comment,toxic,insult,threat\nyou fool,1,1,0\nnice one,0,0,0\nor else,1,0,1\n")
    columns = cli._Columns(["comment"], [], ["toxic", "insult", "threat"], multi_label=True)
    data = cli._read_csv_dataset(str(path), columns, "raise", "utf-8")
    assert data.label_names == ["toxic", "insult", "threat"]  # the columns' order
    assert data.labels.tolist() == [[1, 1, 0], [0, 0, 0], [1, 0, 1]]
    assert data.texts == ["you fool", "nice one", "or else"]
    path.write_text("comment,toxic,insult\nyou fool,1,2\n")
    columns = cli._Columns(["comment"], [], ["toxic", "insult"], multi_label=True)
    with pytest.raises(Exception, match="2"):
        cli._read_csv_dataset(str(path), columns, "raise", "utf-8")


def test_pair_csv(tmp_path):
    path = tmp_path / "nli.tsv"
    path.write_text(
        "premise\thypothesis\tlabel\n"
        "A man sleeps.\tA man is awake.\tno\nIt rains.\tIt is wet.\tyes\n"
    )
    columns = cli._Columns(["premise"], ["hypothesis"], ["label"])
    data = cli._read_csv_dataset(str(path), columns, "raise", "utf-8")
    assert data.texts == ["A man sleeps.", "It rains."]
    assert data.text_pairs == ["A man is awake.", "It is wet."]
    assert data.labels.tolist() == [0, 1] and data.label_names == ["no", "yes"]
    same = cli._Columns(["premise"], ["premise"], ["label"])
    with pytest.raises(cli.UserError, match="both a --text-column and a --text-pair-column"):
        cli._read_csv_dataset(str(path), same, "raise", "utf-8")


def test_multi_label_holdout_is_stratified_on_the_first_label():
    from tfx_textzoo.datasets import TextDataset

    # first labels: 0 for 60 texts, 1 for 30, none for 10 (label 2 is never first)
    rows = [[1, 0, 1]] * 40 + [[1, 1, 0]] * 20 + [[0, 1, 1]] * 30 + [[0, 0, 0]] * 10
    data = TextDataset([f"t{i}" for i in range(100)], rows, ["a", "b", "c"], "toy")
    assert cli._first_labels(data.labels).tolist() == [0] * 60 + [1] * 30 + [3] * 10
    train, evaluation, note = cli._holdout(data, 0.2, seed=0)
    assert len(train) == 80 and len(evaluation) == 20
    assert not set(train.texts) & set(evaluation.texts)
    first = cli._first_labels(evaluation.labels)
    assert np.bincount(first, minlength=4).tolist() == [12, 6, 0, 2]  # 60/30/10 of 20
    assert "stratified by first label" in note
    assert cli._holdout(data, 0.2, seed=0)[1].texts == evaluation.texts  # seeded


def test_train_refuses_multi_label_on_single_label_data(capsys, tmp_path):
    code, out, err = run(
        capsys, "train", "scratch-tiny", "--dataset", "ag_news-sample", "--multi-label",
        "--max-train", 40, "--max-eval", 20, "--output", tmp_path / "out",
    )  # fmt: skip
    assert_user_error(code, out, err, "--multi-label was given, but ag_news-sample has one label")


def test_train_refuses_a_multi_label_file_without_any_label(capsys, tmp_path):
    path = tmp_path / "tags.csv"
    path.write_text("text,label\n" + "".join(f"text {i},\n" for i in range(20)))
    code, out, err = run(
        capsys, "train", "scratch-tiny", "--dataset", path, "--multi-label",
        "--output", tmp_path / "out",
    )  # fmt: skip
    assert code == 1, err
    assert "every label set is empty" in err or "no label" in err, err


# --- predict / evaluate with saved tiny models -------------------------------------


def _sharpen(model, scale):
    kernel = model.output_dense.kernel
    kernel.assign(np.random.default_rng(0).normal(0, scale, kernel.shape))
    return model


def _graph_probs(model, firsts, seconds=None):
    """Probabilities from the preprocessor and the graph, without the sorted pipeline."""
    import tensorflow as tf

    from tfx_textzoo import inference

    x = tf.constant(firsts) if seconds is None else (tf.constant(firsts), tf.constant(seconds))
    return np.asarray(inference.core_model(model)(model.preprocessor(x=x), training=False))


@pytest.fixture(scope="module")
def tagger_dir(tmp_path_factory):
    """A saved multi-label bert-tiny with tuned-looking per-label thresholds."""
    import keras

    import tfx_textzoo as textzoo

    keras.utils.set_random_seed(3)
    model = _sharpen(
        textzoo.load("bert-tiny", labels=NAMES, multi_label=True, sequence_length=16, **TINY),
        3.0,
    )
    # Thresholds midway between two middle distinct probabilities, not at one: a median
    # can be a text's own probability (an odd count, or a repeated text), and float32
    # noise of 1e-8 between paddings then flips its label.
    medians = []
    for column in _graph_probs(model, TEXTS).T:
        distinct = np.unique(np.round(column, 5))
        middle = len(distinct) // 2
        pair = distinct[max(middle - 1, 0) : middle + 1]
        medians.append(np.clip(pair.mean(), 0.01, 0.99))
    model.task = model.task.replace(thresholds=tuple(float(m) for m in medians))
    out = tmp_path_factory.mktemp("cli-tasks") / "tagger"
    textzoo.save_pretrained(model, out)
    return out, model


def test_predict_prints_label_sets_at_the_thresholds(tagger_dir, capsys):
    out, model = tagger_dir
    probs = _graph_probs(model, TEXTS)
    thresholds = np.array(model.task.thresholds)
    expected = [[NAMES[j] for j in range(4) if p[j] >= thresholds[j]] for p in probs]
    assert any(not e for e in expected) or any(len(e) > 1 for e in expected)
    code, stdout, err = run(capsys, "predict", out, *TEXTS, "--quiet")
    assert code == 0, err
    lines = stdout.splitlines()
    assert len(lines) == len(TEXTS)
    for line, text, labels in zip(lines, TEXTS, expected, strict=True):
        shown, printed_text = line.split("\t")
        assert printed_text == text
        assert shown == (", ".join(labels) or "(none)")
    code, stdout, err = run(capsys, "predict", out, *TEXTS, "--quiet", "--json")
    assert code == 0, err
    rows = json.loads(stdout)
    assert [r["labels"] for r in rows] == expected
    got = np.array([[r["probabilities"][name] for name in NAMES] for r in rows])
    np.testing.assert_allclose(got, probs, atol=1e-5)
    assert all("label" not in r for r in rows)


def test_predict_top_k_ranks_a_multi_label_model_regardless_of_thresholds(tagger_dir, capsys):
    out, model = tagger_dir
    probs = _graph_probs(model, TEXTS[:3])
    code, stdout, err = run(capsys, "predict", out, *TEXTS[:3], "--top-k", 2, "--json", "-q")
    assert code == 0, err
    for row, p in zip(json.loads(stdout), probs, strict=True):
        assert [t["label"] for t in row["top_k"]] == [NAMES[j] for j in np.argsort(-p)[:2]]


def test_evaluate_multi_label_report_and_per_label_plot(tagger_dir, capsys, tmp_path):
    from sklearn.metrics import f1_score, hamming_loss

    out, model = tagger_dir
    truth = (RNG.random((len(TEXTS), 4)) < 0.4).astype(int)
    truth[0] = 0  # a text with no label
    path = tmp_path / "tags.csv"
    path.write_text(
        "text,labels\n"
        + "".join(
            f'"{t}",{"|".join(n for n, y in zip(NAMES, row, strict=True) if y)}\n'
            for t, row in zip(TEXTS, truth, strict=True)
        )
    )
    decided = (_graph_probs(model, TEXTS) >= np.array(model.task.thresholds)).astype(int)
    plot = tmp_path / "plots" / "labels.png"
    plot.parent.mkdir()
    args = ["evaluate", out, "--dataset", path, "--label-column", "labels", "--quiet"]
    code, stdout, err = run(capsys, *args, "--plot", plot, "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["task"] == "multi_label" and report["plot"] == str(plot)
    assert report["micro_f1"] == pytest.approx(f1_score(truth, decided, average="micro"))
    assert report["macro_f1"] == pytest.approx(
        f1_score(truth, decided, average="macro", zero_division=0)
    )
    assert report["hamming_loss"] == pytest.approx(hamming_loss(truth, decided))
    assert report["accuracy"] == pytest.approx(np.mean((truth == decided).all(axis=1)))
    assert plot.read_bytes()[:4] == b"\x89PNG"
    # the table, and the default image name of a multi-label model (per_label.png)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        code, stdout, err = run(capsys, *args)
    assert code == 0, err
    assert "Micro F1" in stdout and "Hamming loss" in stdout and "| politics |" in stdout
    assert "per-label plot: per_label.png" in stdout
    assert (tmp_path / "per_label.png").read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "confusion_matrix.png").exists()


def test_evaluate_refuses_a_delimiter_for_a_single_label_model(pair_dir, capsys, tmp_path):
    out, _ = pair_dir
    path = tmp_path / "x.csv"
    path.write_text("text,label\na b,yes\n")
    code, stdout, err = run(
        capsys, "evaluate", out, "--dataset", path, "--label-delimiter", "|", "--no-plot"
    )
    assert_user_error(code, stdout, err, "it needs a multi-label model")


@pytest.fixture(scope="module")
def pair_dir(tmp_path_factory):
    """A saved two-class bert-tiny whose task reads sentence pairs."""
    import keras

    import tfx_textzoo as textzoo

    keras.utils.set_random_seed(4)
    model = _sharpen(
        textzoo.load("bert-tiny", labels=["no", "yes"], sequence_length=16, **TINY), 30
    )
    model.task = model.task.replace(text_pair=True)
    out = tmp_path_factory.mktemp("cli-tasks") / "pairs"
    textzoo.save_pretrained(model, out)
    return out, model


def test_predict_pairs_from_tab_separated_lines_and_from_a_csv(pair_dir, capsys, tmp_path):
    out, model = pair_dir
    probs = _graph_probs(model, TEXTS, SECONDS)
    expected = [["no", "yes"][i] for i in probs.argmax(axis=1)]
    lines = "".join(f"{a}\t{b}\n" for a, b in zip(TEXTS, SECONDS, strict=True))
    with pytest.MonkeyPatch.context() as mp:
        import io
        import sys

        mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines.encode())))
        code, stdout, err = run(capsys, "predict", out, "--file", "-", "--quiet")
    assert code == 0, err
    for line, a, b, label, p in zip(
        stdout.splitlines(), TEXTS, SECONDS, expected, probs, strict=True
    ):
        shown_label, score, first, second = line.split("\t")
        assert (shown_label, first, second) == (label, a, b)
        assert float(score) == pytest.approx(p.max(), abs=1e-4)
    table = tmp_path / "pairs.csv"
    table.write_text(
        "premise,hypothesis\n"
        + "".join(f'"{a}","{b}"\n' for a, b in zip(TEXTS, SECONDS, strict=True))
    )
    code, stdout, err = run(
        capsys, "predict", out, "--file", table, "--text-column", "premise",
        "--text-pair-column", "hypothesis", "--json", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    rows = json.loads(stdout)
    assert [(r["text"], r["text_pair"], r["label"]) for r in rows] == list(
        zip(TEXTS, SECONDS, expected, strict=True)
    )
    got = np.array([[r["probabilities"]["no"], r["probabilities"]["yes"]] for r in rows])
    np.testing.assert_allclose(got, probs, atol=1e-5)


def test_predict_a_pair_model_needs_two_texts(pair_dir, capsys):
    out, _ = pair_dir
    code, stdout, err = run(capsys, "predict", out, "only one text")
    assert_user_error(
        code, stdout, err, "the model reads sentence pairs, but argument 1 is not two texts"
    )


def _chunked_json(capsys, out, aggregate):
    code, stdout, err = run(
        capsys, "predict", out, *LONG, "--long-text", "chunks", "--aggregate", aggregate,
        "--stride", 8, "--json", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    return json.loads(stdout)


def test_predict_and_evaluate_long_texts_in_chunks(tagger_dir, capsys, tmp_path):
    import tfx_textzoo as textzoo

    out, model = tagger_dir
    expected = textzoo.predict(
        model, LONG, return_proba=True, long_text="chunks", aggregate="mean", stride=8
    )
    rows = _chunked_json(capsys, out, "mean")
    for row, ranked in zip(rows, expected, strict=True):
        for p in ranked:
            assert row["probabilities"][p.label] == pytest.approx(p.score, abs=1e-6)
    truncated = _graph_probs(model, LONG[:1])[0]
    chunked = [rows[0]["probabilities"][n] for n in NAMES]
    assert not np.allclose(chunked, truncated, atol=1e-4)  # the windows were read
    path = tmp_path / "long.csv"
    path.write_text("text,labels\n" + "".join(f'"{t}",sport\n' for t in LONG))
    code, stdout, err = run(
        capsys, "evaluate", out, "--dataset", path, "--label-column", "labels",
        "--long-text", "chunks", "--no-plot", "--json", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(stdout)
    assert report["long_text"] == "chunks" and report["num_long_texts"] == 2  # 40 and 70 words


def test_predict_long_texts_in_chunks_max(tagger_dir, capsys):
    import tfx_textzoo as textzoo

    out, model = tagger_dir
    expected = textzoo.predict(
        model, LONG, return_proba=True, long_text="chunks", aggregate="max", stride=8
    )
    for row, ranked in zip(_chunked_json(capsys, out, "max"), expected, strict=True):
        for p in ranked:
            assert row["probabilities"][p.label] == pytest.approx(p.score, abs=1e-6)


# --- train end to end (scratch-tiny, one epoch) -------------------------------------

TOPICS = {"sport": "goal match team", "money": "stocks bank price", "tech": "chip code phone"}


def _tagged_rows(n, seed=0):
    """Texts with 0-2 topics each; a topic's words appear in its texts."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        chosen = [t for t in TOPICS if rng.random() < 0.4]
        words = [w for t in chosen for w in rng.choice(TOPICS[t].split(), 2)]
        rows.append((" ".join([*words, "news", f"item{i % 7}"]), chosen))
    return rows


def test_train_multi_label_csv_end_to_end(capsys, tmp_path):
    import tfx_textzoo as textzoo
    from tfx_textzoo import evaluation, tasks

    path = tmp_path / "tags.csv"
    path.write_text("text,topics\n" + "".join(f"{t},{'|'.join(c)}\n" for t, c in _tagged_rows(80)))
    out = tmp_path / "model"
    code, stdout, err = run(
        capsys, "train", "scratch-tiny", "--dataset", path, "--label-column", "topics",
        "--multi-label", "--epochs", 1, "--batch-size", 8, "--output", out, "--json", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(stdout)
    assert data["report"]["task"] == "multi_label"
    assert data["train"]["multi_label"] and data["training"]["monitor"] == "val_micro_f1"
    assert "stratified by first label" in data["split"]
    files = set(data["files"])
    assert "per_label.png" in files and "confusion_matrix.png" not in files
    assert "![per-label scores](per_label.png)" in (out / "README.md").read_text()
    model = textzoo.load(out)
    task = tasks.of(model)
    assert task.multi_label and model.labels == ["money", "sport", "tech"]
    # the thresholds were tuned on the validation texts the CLI held out
    whole = cli._read_csv_dataset(
        str(path), cli._Columns([], [], ["topics"], True), "raise", "utf-8"
    )
    train, _, _ = cli._holdout(whole, 0.2, seed=0)
    _, validation, _ = cli._validation_data(
        train, str(path), split=None, fraction=0.1, data_dir=None, seed=0, on_bad_rows="raise"
    )
    probs = evaluation.predict_proba(model, validation.texts)
    expected = tasks.tune_thresholds(probs, validation.labels)
    np.testing.assert_allclose(task.thresholds, expected, atol=1e-6)


def test_train_multi_label_01_columns_then_predict(capsys, tmp_path):
    import tfx_textzoo as textzoo

    rows = _tagged_rows(60, seed=1)
    path = tmp_path / "flags.csv"
    path.write_text(
        "body,sport,tech\n"
        + "".join(f"{t},{int('sport' in c)},{int('tech' in c)}\n" for t, c in rows)
    )
    out = tmp_path / "model"
    code, stdout, err = run(
        capsys, "train", "scratch-tiny", "--dataset", path, "--text-column", "body",
        "--label-column", "sport", "--label-column", "tech", "--multi-label", "--epochs", 1,
        "--validation-fraction", 0, "--truncation", "head+tail", "--output", out, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "Micro F1" in stdout and "micro F1" in stdout.splitlines()[-2]
    model = textzoo.load(out)
    assert model.labels == ["sport", "tech"] and model.task.thresholds in (None, (0.5, 0.5))
    assert model.task.truncation == "head+tail"
    code, stdout, err = run(capsys, "predict", out, "goal match news", "--quiet")
    assert code == 0, err
    shown = stdout.split("\t")[0]
    assert shown == "(none)" or set(shown.split(", ")) <= {"sport", "tech"}


def test_train_goemotions_by_name_is_multi_label(capsys, tmp_path):
    from tfx_textzoo.datasets import GOEMOTIONS_LABELS

    data_dir = tmp_path / "goemotions"
    data_dir.mkdir()
    rng = np.random.default_rng(2)
    for split, n in (("train.tsv", 60), ("test.tsv", 20)):
        lines = []
        for i in range(n):
            ids = sorted({int(j) for j in rng.integers(0, 28, size=rng.integers(1, 3))})
            lines.append(f"comment {i} {' '.join(GOEMOTIONS_LABELS[j] for j in ids)}\t"
                         f"{','.join(map(str, ids))}\tid{i}\n")  # fmt: skip
        (data_dir / split).write_text("".join(lines))
    out = tmp_path / "model"
    code, stdout, err = run(
        capsys, "train", "scratch-tiny", "--dataset", "goemotions", "--data-dir", data_dir,
        "--epochs", 1, "--output", out, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert "multi-label: 28 labels" in err
    data = json.loads(stdout)
    assert data["report"]["task"] == "multi_label"
    assert len(data["report"]["per_class"]) == 28


def _rte_dir(tmp_path):
    data_dir = tmp_path / "rte"
    data_dir.mkdir()
    for split, n in (("train.tsv", 40), ("dev.tsv", 12)):
        rows = [
            f"{i}\tA man number {i} plays.\tA person {'plays' if i % 2 else 'sleeps'}.\t"
            f"{'entailment' if i % 2 else 'not_entailment'}\n"
            for i in range(n)
        ]
        (data_dir / split).write_text("index\tsentence1\tsentence2\tlabel\n" + "".join(rows))
    return data_dir


def test_train_rte_by_name_reads_pairs(capsys, tmp_path):
    import tfx_textzoo as textzoo

    data_dir = _rte_dir(tmp_path)
    out = tmp_path / "model"
    args = ["train", "bert-tiny", "--weights", "none", "--dataset", "rte", "--data-dir", data_dir,
            "--eval-split", "validation", "--epochs", 1, "--output", out, "--quiet"]  # fmt: skip
    code, stdout, err = run(capsys, *args, "--truncation", "head+tail")
    assert_user_error(code, stdout, err, "--truncation head+tail is for single texts")
    assert not out.exists()
    code, stdout, err = run(capsys, *args)
    assert code == 0, err
    model = textzoo.load(out)
    assert model.task.text_pair and model.task.truncation == "head"
    code, stdout, err = run(capsys, "predict", out, "A man plays.\tA person plays.", "-q")
    assert code == 0, err
    label, score, first, second = stdout.rstrip("\n").split("\t")
    assert label in ("entailment", "not_entailment") and 0.5 <= float(score) <= 1.0
    assert (first, second) == ("A man plays.", "A person plays.")


def test_train_rte_with_a_from_scratch_model(capsys, tmp_path):
    out = tmp_path / "model"
    code, stdout, err = run(
        capsys, "train", "scratch-tiny", "--dataset", "rte", "--data-dir", _rte_dir(tmp_path),
        "--eval-split", "validation", "--epochs", 1, "--output", out, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    model = textzoo.load(str(out))
    assert model.task.text_pair
    # The vocabulary learned the pair separator, so pairs pack as "a xxsep b".
    assert "xxsep" in model.preprocessor.vectorizer.get_vocabulary()
    pair = ("A man plays a guitar.", "A person makes music.")
    assert textzoo.predict(model, [pair])[0] in model.labels


def test_export_a_multi_label_model_serves_its_label_sets(tagger_dir, capsys, tmp_path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 - the WordPiece ops of a BERT export

    out, model = tagger_dir
    serving = tmp_path / "serving"
    code, stdout, err = run(capsys, "export", out, serving, "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["inputs"] == {"text": "string [N]"}
    assert set(data["outputs"]) == {"probabilities", "decisions", "labels", "label_ids",
                                    "num_labels"}  # fmt: skip
    served = tf.saved_model.load(str(serving)).signatures["serving_default"]
    result = served(text=tf.constant(TEXTS))
    thresholds = np.array(model.task.thresholds)
    decided = _graph_probs(model, TEXTS) >= thresholds
    np.testing.assert_array_equal(result["decisions"].numpy(), decided)
    got = [
        [name.decode() for name in row[:n]]
        for row, n in zip(result["labels"].numpy(), result["num_labels"].numpy(), strict=True)
    ]
    assert got == [[NAMES[j] for j in np.flatnonzero(row)] for row in decided]
    code, _, err = run(capsys, "export", out, tmp_path / "x", "--stride", 4)
    assert code == 1 and "--stride sets how --long-text chunks reads" in err


def test_predict_csv_file_errors_name_the_column_and_row(capsys, tmp_path):
    table = tmp_path / "pairs.csv"
    table.write_text("premise,hypothesis\nA man sleeps.,He is awake.\n\nIt rains.,It is,wet\n")
    args = ["predict", tmp_path / "model", "--file", table, "--text-column", "premise"]
    code, out, err = run(capsys, *args, "--text-pair-column", "claim")
    assert_user_error(code, out, err, "column(s) ['claim'] not found", "'hypothesis'")
    code, out, err = run(capsys, *args, "--text-pair-column", "hypothesis")
    assert_user_error(code, out, err, "row 4 has 3 columns, the header 2")
    table.write_text('premise,hypothesis\n"A man sleeps.","He is, awake."\n')
    assert cli._read_table_texts(str(table), ["premise"], ["hypothesis"], "utf-8") == (
        ["A man sleeps."],
        ["He is, awake."],
    )


def test_hidden_test_labels_hint_at_another_split():
    from tfx_textzoo.datasets import DataFormatError

    err = DataFormatError("test.tsv is GLUE's unlabelled RTE test.tsv")
    hint = cli._as_user_error(err, ["train", "NAME", "--dataset", "rte", "--output", "x"]).hint
    assert hint.startswith("rte's 'test' split has no public labels: pass --eval-split validation")
    hint = cli._as_user_error(err, ["evaluate", "DIR", "--dataset", "rte", "--split", "test"]).hint
    assert "pass --split validation" in hint
    other = cli._as_user_error(
        err, ["train", "NAME", "--dataset", "rte", "--eval-split", "validation"]
    )
    assert other.hint == "fix the file named above (or pass another one)"


# --- the real files in ../shared ------------------------------------------------------


@pytest.mark.integration
def test_train_and_evaluate_on_real_goemotions(shared_dir, capsys, tmp_path):
    data_dir = shared_dir / "data" / "goemotions"
    if not (data_dir / "train.tsv").is_file():
        pytest.skip(f"{data_dir}/train.tsv not found")
    out = tmp_path / "model"
    code, stdout, err = run(
        capsys, "train", "scratch-tiny", "--dataset", "goemotions", "--data-dir", data_dir,
        "--eval-split", "test", "--max-train", 1000, "--max-eval", 300, "--epochs", 1,
        "--output", out, "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(stdout)
    assert data["report"]["task"] == "multi_label" and data["report"]["num_examples"] == 300
    assert len(data["report"]["thresholds"]) == 28
    assert data["train"]["texts"] == 900 and data["validation"]["texts"] == 100
    code, stdout, err = run(
        capsys, "evaluate", out, "--dataset", "goemotions", "--data-dir", data_dir,
        "--split", "validation", "--max-eval", 200, "--no-plot", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "Micro F1" in stdout and "| neutral |" in stdout


@pytest.mark.integration
@pytest.mark.slow
def test_evaluate_real_rte_pairs_and_bbc_chunks(shared_dir, capsys, tmp_path):
    rte = shared_dir / "data" / "rte"
    bbc = shared_dir / "data" / "bbc_news"
    if not (rte / "dev.tsv").is_file() or not (bbc / "bbc-text.csv").is_file():
        pytest.skip(f"{rte}/dev.tsv or {bbc}/bbc-text.csv not found")
    out = tmp_path / "rte"
    code, stdout, err = run(
        capsys, "train", "bert-tiny", "--weights", "none", "--dataset", "rte", "--data-dir",
        rte, "--eval-split", "validation", "--max-train", 200, "--epochs", 1, "--output", out,
        "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "on 277 texts" in stdout  # the whole validation split, read as pairs
    out = tmp_path / "bbc"
    code, stdout, err = run(
        capsys, "train", "bert-tiny", "--weights", "none", "--dataset", "bbc_news",
        "--data-dir", bbc, "--max-train", 100, "--max-eval", 40, "--epochs", 1,
        "--truncation", "head+tail", "--output", out, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    code, stdout, err = run(
        capsys, "evaluate", out, "--dataset", "bbc_news", "--data-dir", bbc, "--max-eval", 40,
        "--long-text", "chunks", "--no-plot", "--json", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(stdout)
    assert report["long_text"] == "chunks" and 0 < report["num_long_texts"] <= 40
