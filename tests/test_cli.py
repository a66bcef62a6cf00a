"""The ``textzoo`` console script, driven in a subprocess as a user runs it.

A subprocess that builds or loads a model pays a TensorFlow import (~5 s), so one tiny
model is trained once per module (``trained``) and shared by the evaluate / predict /
export / push tests; ``list``, ``info`` and ``--help`` import no TensorFlow.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hub_server import FakeHub

from tfx_textzoo import cli

SCRIPT = shutil.which("textzoo", path=str(Path(sys.executable).parent)) or shutil.which("textzoo")
COMMAND = [SCRIPT] if SCRIPT else [sys.executable, "-m", "tfx_textzoo.cli"]
TOKEN = "hf_cli_test_secret_token"


def textzoo(*args, env=None, stdin=None, timeout=240, max_file_size=None):
    """Run the console script; returns the CompletedProcess (text stdout / stderr).

    ``max_file_size``: no file may grow past these bytes (RLIMIT_FSIZE): a write past it
    fails with EFBIG, as a write to a full disk fails with ENOSPC.
    """
    environment = {**os.environ, **(env or {})}
    environment = {k: v for k, v in environment.items() if v is not None}
    return subprocess.run(
        [*COMMAND, *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        input=stdin,
        timeout=timeout,
        preexec_fn=None if max_file_size is None else _file_size_limit(max_file_size),
    )


def _file_size_limit(size):
    def limit():
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the signal kills the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def our_stderr(result) -> list[str]:
    """stderr without TensorFlow's start-up noise (C++ log lines printed at import)."""
    noise = ("I0000 ", "E0000 ", "W0000 ", "WARNING: All log messages")
    return [line for line in result.stderr.splitlines() if not line.startswith(noise)]


def assert_user_error(result, *fragments):
    """Exit 1, an ``error:`` line then a ``hint:`` line on stderr, no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = our_stderr(result)
    errors = [i for i, line in enumerate(lines) if line.startswith("error: ")]
    hints = [i for i, line in enumerate(lines) if line.startswith("hint: ")]
    assert errors and hints and errors[0] < hints[-1], result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``textzoo train`` once: scratch-tiny on 200 sample texts, evaluated on 100."""
    out = tmp_path_factory.mktemp("cli") / "model"
    result = textzoo(
        "train", "scratch-tiny", "--dataset", "ag_news-sample", "--max-train", 200,
        "--max-eval", 100, "--epochs", 1, "--batch-size", 16, "--output", out, "--json",
        env=_offline_env(tmp_path_factory),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout), result


def _offline_env(tmp_path_factory):
    # conftest's autouse fixture is function-scoped; a module fixture sets its own.
    return {
        "TEXTZOO_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "TEXTZOO_HOME": str(tmp_path_factory.mktemp("home")),
        "HF_HOME": str(tmp_path_factory.mktemp("hf")),
    }


def test_train_json_and_directory(trained):
    out, data, result = trained
    assert data["output"] == str(out) and data["model"] == "scratch-tiny"
    # --max-train 200, of which --validation-fraction (default 0.1) is held out
    assert data["train"]["texts"] == 180 and data["validation"]["texts"] == 20
    assert data["eval"]["texts"] == 100
    # stratified samples: AG News classes are balanced, so each class gets a quarter
    assert set(data["train"]["class_counts"].values()) == {45}
    assert set(data["validation"]["class_counts"].values()) == {5}
    assert set(data["eval"]["class_counts"].values()) == {25}
    assert data["training"]["monitor"] == "val_accuracy" and data["training"]["best_epoch"] == 1
    assert "val_accuracy" in data["training"]["epochs"][0]
    assert "20 texts" in data["validation_note"] and "seed 0" in data["validation_note"]
    assert data["split"] is None  # ag_news-sample has separate train and test splits
    assert data["training"]["settings"]["epochs"] == 1
    assert 0.0 <= data["report"]["accuracy"] <= 1.0
    assert data["report"]["num_examples"] == 100
    files = set(data["files"])
    assert {"textzoo.json", "README.md", "report.md", "report.json"} <= files
    assert (out / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    report = json.loads((out / "report.json").read_text())
    assert report["accuracy"] == data["report"]["accuracy"]
    assert "![confusion matrix](confusion_matrix.png)" in (out / "README.md").read_text()
    assert "Accuracy" in (out / "report.md").read_text()
    card = (out / "README.md").read_text()
    assert "20 texts" in card and "held out for validation" in card
    # progress and logs went to stderr: stdout held only the JSON
    assert "model scratch-tiny" in result.stderr and "fine-tuned 1 epoch" in result.stderr
    # building and training a model printed none of TensorFlow's start-up lines
    assert our_stderr(result) == result.stderr.splitlines(), result.stderr


def test_train_validation_options(tmp_path):
    """--validation-fraction 0 trains on everything; a --validation-split must differ."""
    result = textzoo(
        "train", "scratch-tiny", "--dataset", "ag_news-sample", "--validation-split", "test",
        "--output", tmp_path / "x",
    )  # fmt: skip
    assert_user_error(result, "--validation-split test is also the train or eval split")
    result = textzoo(
        "train", "scratch-tiny", "--dataset", "ag_news-sample", "--max-train", 40,
        "--max-eval", 20, "--epochs", 1, "--validation-fraction", 0, "--output",
        tmp_path / "y", "--json", "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["train"]["texts"] == 40 and data["validation"] is None
    assert data["training"]["monitor"] == "loss"
    assert our_stderr(result) == result.stderr.splitlines() == [], result.stderr


def test_train_refuses_an_existing_output_before_training(trained):
    out, _, _ = trained
    result = textzoo("train", "scratch-tiny", "--dataset", "ag_news-sample", "--output", out)
    assert_user_error(result, "already exists", "--overwrite")


def test_saved_directory_loads_with_the_extra_files(trained):
    import tfx_textzoo as textzoo_lib

    out, data, _ = trained
    model = textzoo_lib.load(out)
    assert model.labels == ["World", "Sports", "Business", "Sci/Tech"]


def test_evaluate_json_and_plot(trained, tmp_path):
    out, _, _ = trained
    plot = tmp_path / "cm.png"
    result = textzoo(
        "evaluate", out, "--dataset", "ag_news-sample", "--max-eval", 80, "--plot", plot, "--json"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["num_examples"] == 80 and data["plot"] == str(plot)
    assert "stratified sample of 80 of 1,000" in data["dataset_name"]
    assert np.asarray(data["confusion_matrix"]).sum() == 80
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_predict_arguments_top_k_json(trained):
    out, _, _ = trained
    texts = ["Stocks rallied as the central bank held rates", "The team won the final"]
    result = textzoo("predict", out, *texts, "--top-k", 2, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["text"] for r in rows] == texts
    for row in rows:
        assert len(row["top_k"]) == 2 and row["top_k"][0]["label"] == row["label"]
        assert row["top_k"][0]["score"] >= row["top_k"][1]["score"]
        assert row["label"] in ("World", "Sports", "Business", "Sci/Tech")


def test_predict_file_from_stdin(trained):
    out, _, _ = trained
    result = textzoo("predict", out, "--file", "-", stdin="Oil prices rise\n\nA new chip\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2  # the blank line is skipped
    label, score, text = lines[0].split("\t")
    assert label in ("World", "Sports", "Business", "Sci/Tech")
    assert 0.0 <= float(score) <= 1.0 and text == "Oil prices rise"


def test_export(trained, tmp_path):
    out, _, _ = trained
    serving = tmp_path / "serving"
    result = textzoo("export", out, serving, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["path"] == str(serving) and (serving / "saved_model.pb").is_file()
    assert data["labels"] == ["World", "Sports", "Business", "Sci/Tech"]


def test_push_refuses_offline(trained):
    out, _, _ = trained
    result = textzoo("push", out, "me/cli-demo", env={"TEXTZOO_OFFLINE": "1"})
    assert_user_error(result, "offline mode is on", "unset TEXTZOO_OFFLINE")


def test_push_uploads_report_and_plot_then_loads_from_the_hub(trained, tmp_path):
    """Push to a local fake Hub, then predict from hf:// (a fresh cache, a fresh process)."""
    out, _, _ = trained
    with FakeHub({TOKEN: "me"}, regular_only=True) as hub:
        env = {
            "TEXTZOO_OFFLINE": None,
            "HF_HUB_OFFLINE": None,
            "HF_TOKEN": None,
            "HF_ENDPOINT": hub.url,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HOME": str(tmp_path / "hf_home"),
            "TEXTZOO_HOME": str(tmp_path / "textzoo_home"),
        }
        result = textzoo("push", out, "me/cli-demo", "--token", TOKEN, "--json", env=env)
        assert result.returncode == 0, result.stderr
        assert TOKEN not in result.stdout + result.stderr
        assert json.loads(result.stdout)["uri"] == "hf://me/cli-demo"
        uploaded = hub.files("me/cli-demo")
        assert {"confusion_matrix.png", "report.md", "report.json", "README.md"} <= set(uploaded)
        assert uploaded["confusion_matrix.png"] == (out / "confusion_matrix.png").read_bytes()

        result = textzoo("predict", "hf://me/cli-demo", "Oil prices rise", env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split("\t")[0] in ("World", "Sports", "Business", "Sci/Tech")


def test_list_and_info():
    result = textzoo("list", "scratch-*", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == ["scratch-base", "scratch-small", "scratch-tiny"]
    assert all(r["family"] == "scratch" and r["params"] > 0 for r in rows)

    result = textzoo("info", "small-bert-L4", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["name"] == "small-bert-L4-H128" and info["finetune"]["freeze_epochs"] == 1


def test_list_table():
    result = textzoo("list", "small-bert-L4*")
    assert result.returncode == 0, result.stderr
    header, rule, *rows = result.stdout.splitlines()
    assert header.split() == ["name", "family", "params", "sources", "license", "alias", "of"]
    names = [row.split()[0] for row in rows]
    assert names[:2] == ["small-bert-L4", "small-bert-L4-H128"]
    assert rows[0].split()[-1] == "small-bert-L4-H128"  # the alias points at its entry


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["info", "scrach-small"], ["Unknown model name", "Did you mean: scratch-small"]),
        (
            ["train", "scrach-tiny", "--dataset", "ag_news-sample", "--output", "{tmp}/x"],
            ["Did you mean: scratch-tiny", "textzoo list"],
        ),
        (
            ["train", "scratch-tiny", "--dataset", "ag_news", "--data-dir", "{tmp}",
             "--output", "{tmp}/x"],
            ["Could not load split 'train' of dataset 'ag_news'", "--data-dir"],
        ),
        (
            ["train", "scratch-tiny", "--dataset", "ag_newz", "--output", "{tmp}/x"],
            ["Unknown dataset 'ag_newz'"],
        ),
        (["evaluate", "{tmp}", "--dataset", "ag_news-sample"], ["textzoo.json is missing"]),
        (["predict", "{tmp}/nowhere", "some text"], ["does not exist"]),
        (["predict", "scratch-tiny", "some text"], ["a catalog model name", "textzoo train"]),
        (["push", "{tmp}", "me/x"], ["not a saved textzoo model"]),
    ],
    ids=[
        "unknown-model-info", "unknown-model-train", "missing-data", "unknown-dataset",
        "not-saved-dir", "missing-dir", "catalog-name-as-dir", "push-non-saved-dir",
    ],
)  # fmt: skip
def test_user_errors_exit_1(tmp_path, args, fragments):
    result = textzoo(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_user_error(result, *fragments)
    assert not (tmp_path / "x").exists()


def test_usage_error_exit_2():
    result = textzoo("train", "scratch-tiny", "--dataset", "ag_news-sample")  # no --output
    assert result.returncode == 2
    assert "Missing option '--output'" in result.stderr and "Traceback" not in result.stderr


def test_help_has_examples():
    result = textzoo("--help")
    assert result.returncode == 0 and "Examples:" in result.stdout
    for name in ("list", "info", "train", "evaluate", "predict", "export", "push"):
        assert name in result.stdout
    # every command's help, in-process (a subprocess each would cost a TF import)
    from click.testing import CliRunner

    for name in cli.cli.commands:
        help_text = CliRunner().invoke(cli.cli, [name, "--help"]).output
        assert "Examples:" in help_text and f"$ textzoo {name}" in help_text, name


def test_dataset_names_in_help_are_the_known_ones():
    from tfx_textzoo.datasets import list_datasets

    help_text = next(p.help for p in cli.cli.commands["train"].params if p.name == "dataset")
    assert all(name in help_text for name in list_datasets())


def test_stratified_subset_and_holdout_are_disjoint_and_seeded():
    from tfx_textzoo.datasets import TextDataset

    labels = np.repeat([0, 1, 2, 3], [500, 300, 150, 50])  # sorted by class, like AG News
    data = TextDataset([f"t{i}" for i in range(1000)], labels, list("abcd"), "toy/test")
    train, evaluation, note = cli._holdout(data, 0.2, seed=0)
    assert len(evaluation) == 200 and len(train) == 800
    assert not set(train.texts) & set(evaluation.texts)
    assert evaluation.class_counts() == {"a": 100, "b": 60, "c": 30, "d": 10}
    assert "disjoint" in note and evaluation.name == "toy/test, held-out 20%"
    again = cli._holdout(data, 0.2, seed=0)[1]
    assert again.texts == evaluation.texts
    assert cli._holdout(data, 0.2, seed=1)[1].texts != evaluation.texts
    sample = cli._subset(train, 80, seed=0)
    assert sample.class_counts() == {"a": 40, "b": 24, "c": 12, "d": 4}


@pytest.mark.integration
def test_train_and_evaluate_on_one_split_of_real_ag_news(shared_dir, tmp_path):
    """Only AG News' test split is on this machine: train and evaluate on disjoint parts."""
    data_dir = shared_dir / "data" / "ag_news"
    if not (data_dir / "test.csv").is_file():
        pytest.skip(f"{data_dir}/test.csv not found")
    out = tmp_path / "model"
    result = textzoo(
        "train", "scratch-tiny", "--dataset", "ag_news", "--data-dir", data_dir,
        "--train-split", "test", "--eval-split", "test", "--max-train", 2000,
        "--max-eval", 400, "--epochs", 3, "--output", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "both the train and the eval split" in result.stderr
    assert "6,080 texts to train on, 1,520" in result.stderr
    assert "**Accuracy" in result.stdout and "held-out 20%" in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["num_examples"] == 400
    assert report["accuracy"] > 0.5  # chance is 0.25
    assert "disjoint" in (out / "report.md").read_text()
    assert "disjoint" in (out / "README.md").read_text()


# --- issue 13: every failure a user can cause ends with error: + hint:, exit 1 -------------


def write_csv(path, rows, header="text,label"):
    path.write_text(header + "\n" + "".join(f"{text},{label}\n" for text, label in rows))
    return path


def test_train_one_class_data_names_the_class(tmp_path):
    data = write_csv(tmp_path / "reviews.csv", [(f"review number {i}", "pos") for i in range(20)])
    result = textzoo("train", "scratch-tiny", "--dataset", data, "--output", tmp_path / "out")
    assert_user_error(result, f"the data in {data} has one class, 'pos' (all 20 texts)")
    assert "hint: check --label-column" in result.stderr
    assert "num_classes" not in result.stderr  # the library's name, not the user's
    assert not (tmp_path / "out").exists()


def test_train_output_under_a_file_fails_before_any_data_is_read(tmp_path):
    blocker = tmp_path / "runs"
    blocker.write_text("a file where a directory is expected")
    output = blocker / "model"
    result = textzoo("train", "scratch-tiny", "--dataset", "ag_news-sample", "--output", output)
    assert_user_error(result, f"--output {output} cannot be written", f"{blocker} is a file")
    assert "hint: choose another --output" in result.stderr
    assert "train:" not in result.stderr  # no data was read, no model built


def test_train_repeated_header_row_is_reported_with_its_line(tmp_path):
    rows = [(f"good film {i}", "pos") for i in range(6)] + [("text", "label")]
    rows += [(f"bad film {i}", "neg") for i in range(6)]
    data = write_csv(tmp_path / "joined.csv", rows)
    result = textzoo("train", "scratch-tiny", "--dataset", data, "--output", tmp_path / "out")
    assert_user_error(result, f"{data}: 1 bad row(s)", "repeated header row: line 8")
    assert "hint: fix the rows named above, or pass --skip-bad-rows" in result.stderr
    assert "on_bad_rows" not in result.stderr  # Python advice is not shown by the CLI


def test_train_non_utf8_csv_hints_at_encoding_option(tmp_path):
    data = tmp_path / "latin.csv"
    rows = b"".join(b"caf\xe9 number %d,%d\n" % (i, i % 2) for i in range(20))
    data.write_bytes(b"text,label\n" + rows)
    result = textzoo("train", "scratch-tiny", "--dataset", data, "--output", tmp_path / "out")
    assert_user_error(result, f"{data}:2: byte(s) b'\\xe9'", "--encoding latin-1")
    assert "from_csv" not in result.stderr and "encoding=" not in result.stderr


def test_train_dataset_that_is_a_directory(tmp_path):
    (tmp_path / "data.csv").mkdir()
    result = textzoo(
        "train", "scratch-tiny", "--dataset", tmp_path / "data.csv", "--output", tmp_path / "o"
    )
    assert_user_error(result, f"--dataset {tmp_path / 'data.csv'} is a directory")


def test_evaluate_plot_under_a_file_fails_before_evaluating(trained, tmp_path):
    out, _, _ = trained
    blocker = tmp_path / "plots"
    blocker.write_text("a file")
    result = textzoo("evaluate", out, "--dataset", "ag_news-sample", "--plot", blocker / "cm.png")
    assert_user_error(result, f"the directory of --plot {blocker} cannot be written")
    assert "--overwrite" not in result.stderr  # evaluate has no --overwrite
    assert "evaluating" not in result.stderr


def test_evaluate_on_a_full_disk_names_the_plot(trained, tmp_path):
    out, _, _ = trained
    plot = tmp_path / "cm.png"
    result = textzoo(
        "evaluate", out, "--dataset", "ag_news-sample", "--max-eval", 20, "--plot", plot,
        max_file_size=2_000,  # the image is larger: its write fails with EFBIG
    )  # fmt: skip
    assert_user_error(result, f"--plot {plot} could not be written: File too large")
    assert "hint: choose another --plot path" in result.stderr and "free space" in result.stderr
    assert not plot.exists() and list(tmp_path.iterdir()) == []  # no partial file left


def test_export_serving_dir_under_a_file(trained, tmp_path):
    out, _, _ = trained
    blocker = tmp_path / "serving"
    blocker.write_text("a file")
    result = textzoo("export", out, blocker / "v1")
    assert_user_error(result, f"SERVING_DIR {blocker / 'v1'} cannot be written")
    assert "hint: choose another SERVING_DIR" in result.stderr


@pytest.mark.parametrize("where", ["itself", "inside"])
def test_export_into_the_model_directory_is_refused(trained, where):
    out, _, _ = trained
    before = {p: p.read_bytes() for p in sorted(Path(out).rglob("*")) if p.is_file()}
    serving = Path(out) if where == "itself" else Path(out) / "serving"
    result = textzoo("export", out, serving, "--overwrite")
    assert_user_error(result, "SERVING_DIR must be a directory outside the saved model")
    assert "hint: choose a SERVING_DIR outside the model's directory" in result.stderr
    after = {p: p.read_bytes() for p in sorted(Path(out).rglob("*")) if p.is_file()}
    assert after == before  # the trained model is untouched


def test_predict_non_utf8_file_names_file_and_line(trained, tmp_path):
    out, _, _ = trained
    texts = tmp_path / "texts.txt"
    texts.write_bytes(b"Oil prices rise\ncaf\xe9 society news\n")
    result = textzoo("predict", out, "--file", texts)
    assert_user_error(result, f"{texts}:2: byte(s) b'\\xe9'", "hint: pass the file's encoding")
    assert "--encoding latin-1" in result.stderr and "from_csv" not in result.stderr
    result = textzoo("predict", out, "--file", texts, "--encoding", "latin-1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].endswith("\tcafé society news")


def test_predict_file_that_is_a_directory(trained, tmp_path):
    out, _, _ = trained
    result = textzoo("predict", out, "--file", tmp_path)
    assert_user_error(result, f"--file {tmp_path} is a directory", "one text per line")


def test_training_diverged_maps_to_a_learning_rate_hint(tmp_path, monkeypatch, capsys):
    import tfx_textzoo
    from tfx_textzoo.errors import TrainingDivergedError

    def diverge(*args, **kwargs):
        raise TrainingDivergedError("the training loss became nan at epoch 1, step 3")

    monkeypatch.setattr(tfx_textzoo, "finetune", diverge)
    code = cli.main(
        ["train", "scratch-tiny", "--dataset", "ag_news-sample", "--max-train", "40",
         "--max-eval", "20", "--output", str(tmp_path / "out"), "--quiet"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1, err
    assert "error: the training loss became nan at epoch 1, step 3" in err
    assert "hint: lower the learning rate, e.g. to a tenth with --lr" in err
    assert not (tmp_path / "out").exists()


def test_hints_follow_the_exception_type_not_its_message():
    import errno

    from tfx_textzoo import errors

    def as_error(err, *args):
        return cli._as_user_error(err, ["train", "NAME", *args])

    assert "textzoo list" not in as_error(ValueError("Unknown model name 'x'")).hint
    assert "textzoo list" in as_error(errors.UnknownModelError("no such model 'x'", "x")).hint
    full = OSError(errno.ENOSPC, "No space left on device", "/runs/a/model.weights.h5")
    mapped = as_error(full, "--output", "/runs/a")
    assert mapped.message == "/runs/a/model.weights.h5: No space left on device"
    assert "choose another --output" in mapped.hint and "free space" in mapped.hint
    lr = as_error(errors.InvalidArgumentError("learning_rate", 0.0, "a finite number > 0"))
    assert lr.message == "--lr must be a finite number > 0, got 0.0"  # the option, not the arg
    exists = FileExistsError(errno.EEXIST, "File exists", "cm.png")
    assert "--overwrite" not in cli._as_user_error(exists, ["evaluate", "DIR"]).hint
    assert "--overwrite" in cli._as_user_error(exists, ["export", "DIR", "OUT"]).hint
    assert cli._as_user_error(RuntimeError("a bug"), ["train"]) is None  # keeps its traceback
    assert cli._as_user_error(OSError(errno.EIO, "I/O error"), ["train"]) is None


def test_report_and_card_are_replaced_atomically(tmp_path):
    """A write that fails half-way (a full disk) leaves the model card as it was."""
    out = tmp_path / "model"
    out.mkdir()
    card = "# A model\n\n" + "Some text about it.\n" * 150 + "## Limitations\n\nNone known.\n"
    (out / "README.md").write_text(card)
    script = f"""
import numpy as np
from tfx_textzoo import cli
from tfx_textzoo.datasets import TextDataset

class Report:
    def to_markdown(self):
        return "**Accuracy** 0.5\\n"
    def to_json(self, path):
        pass
    def plot_confusion_matrix(self, path):
        pass

data = TextDataset(["a", "b"], [0, 1], ["x", "y"], "toy")
cli._write_report_files(Report(), cli.Path({str(out)!r}), data, data, None, None)
"""
    limit = len(card) + 100  # the patched card is longer: its write fails half-way
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        preexec_fn=_file_size_limit(limit),
    )
    assert result.returncode != 0 and "File too large" in result.stderr
    assert (out / "README.md").read_text() == card
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "report.md"]
