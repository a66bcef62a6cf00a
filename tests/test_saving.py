"""save_pretrained / load(dir | hf://) / export: round trips, model card, atomicity, errors."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from helpers import LABELS, TEXTS, tiny_model

import tfx_textzoo as textzoo
from tfx_textzoo import saving
from tfx_textzoo.errors import CorruptModelError, InvalidArgumentError, UnsafePathError
from tfx_textzoo.evaluation import predict_proba
from tfx_textzoo.training import FinetuneHistory

NAMES = ["World", "Sports", "Business", "Sci/Tech"]
ROOT = Path(__file__).resolve().parents[1]


def _history() -> FinetuneHistory:
    return FinetuneHistory(
        epochs=[
            {"phase": "frozen", "epoch": 1, "loss": 1.2, "accuracy": 0.5, "val_accuracy": 0.5},
            {"phase": "full", "epoch": 2, "loss": 0.7, "accuracy": 0.75, "val_accuracy": 0.75},
        ],
        monitor="val_accuracy",
        best_epoch=2,
        restored_best=True,
        settings={
            "epochs": 2,
            "freeze_epochs": 1,
            "batch_size": 4,
            "learning_rate": 1e-4,
            "head_learning_rate": 1e-3,
            "warmup_ratio": 0.1,
            "weight_decay": 0.01,
        },
    )


def _populate_hf_cache(repo_id: str, files: Path) -> None:
    """Lay files out exactly as huggingface_hub's cache does (what `hf download` leaves)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = textzoo.weights.cache_dir() / "hf" / ("models--" + repo_id.replace("/", "--"))
    shutil.copytree(files, root / "snapshots" / commit)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained-looking tiny BERT saved with a report and a history (built once)."""
    model = tiny_model("bert-tiny", labels=NAMES)
    model.fit(np.array(TEXTS), np.array(LABELS), batch_size=4, epochs=1, verbose=0)
    report = textzoo.evaluate(model, (TEXTS, [NAMES[i] for i in LABELS]), verbose=0)
    report.dataset_name = "ag_news"
    path = tmp_path_factory.mktemp("saved") / "ag-news-tiny"
    out = textzoo.save_pretrained(model, path, report=report, history=_history())
    return model, report, out


@pytest.mark.parametrize(
    "name, kwargs",
    [("bert-tiny", {"pooling": "cls"}), ("bert-tiny", {"pooling": "mean"}), ("scratch-tiny", {})],
)
def test_save_load_round_trip_per_family(tmp_path, name, kwargs):
    model = tiny_model(name, labels=NAMES, **kwargs)
    model.fit(np.array(TEXTS), np.array(LABELS), batch_size=4, epochs=1, verbose=0)
    expected = predict_proba(model, TEXTS)

    out = textzoo.save_pretrained(model, tmp_path / "m")
    assert out == tmp_path / "m"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temp directory left
    restored = textzoo.load(str(out))

    assert type(restored) is type(model)
    assert restored.compiled
    assert restored.labels == NAMES
    assert restored.model_name == model.model_name
    assert getattr(restored, "pooling", None) == getattr(model, "pooling", None)
    np.testing.assert_allclose(predict_proba(restored, TEXTS), expected, atol=1e-6)
    assert textzoo.predict(restored, TEXTS) == textzoo.predict(model, TEXTS)
    # A restored model trains on raw strings again.
    history = restored.fit(np.array(TEXTS), np.array(LABELS), batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_saved_directory_files_and_textzoo_json(saved):
    model, report, out = saved
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "assets/tokenizer/vocabulary.txt",
        "config.json",
        "metadata.json",
        "model.weights.h5",
        "preprocessor.json",
        "task.json",
        "task.weights.h5",
        "textzoo.json",
        "tokenizer.json",
    ]
    assert not [p for p in out.rglob("*") if p.suffix in {".pkl", ".pickle", ".npy"}]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~umask  # not tempfile's private 0700

    meta = json.loads((out / "textzoo.json").read_text())
    assert meta["format"] == "tfx_textzoo.saved_model"
    assert meta["format_version"] == saving.FORMAT_VERSION
    assert meta["tfx_textzoo_version"] == textzoo.__version__
    assert meta["labels"] == NAMES and meta["num_classes"] == 4
    assert (meta["model_name"], meta["family"]) == ("small-bert-L2-H128", "bert")
    assert meta["task_class"] == "tfx_textzoo.families.bert.BertClassifier"
    assert meta["sequence_length"] == 16
    assert meta["license"] == "apache-2.0"
    assert meta["dataset"] == "ag_news"
    assert meta["catalog_entry"]["name"] == "small-bert-L2-H128"
    assert meta["training"]["settings"]["learning_rate"] == 1e-4
    assert [e["phase"] for e in meta["training"]["epochs"]] == ["frozen", "full"]
    assert meta["training"]["best_epoch"] == 2
    assert meta["evaluation"]["accuracy"] == pytest.approx(report.accuracy)
    assert meta["evaluation"]["confusion_matrix"] == report.confusion_matrix.tolist()
    assert meta["files"]["model.weights.h5"] == (out / "model.weights.h5").stat().st_size
    assert set(meta["sha256"]) == set(meta["files"])
    assert (
        meta["sha256"]["task.json"] == hashlib.sha256((out / "task.json").read_bytes()).hexdigest()
    )
    assert "README.md" not in meta["files"]


def test_task_weights_hold_no_optimizer_state(saved):
    import h5py

    _, _, out = saved
    with h5py.File(out / "task.weights.h5") as f:
        names = []
        f.visit(names.append)
    assert names and not [n for n in names if n.startswith("optimizer")]


def test_model_card_metadata_and_text(saved):
    from huggingface_hub import ModelCard

    _, report, out = saved
    card = ModelCard.load(out / "README.md")
    data = card.data
    assert data.library_name == "keras-hub"
    assert data.pipeline_tag == "text-classification"
    assert data.license == "apache-2.0"
    assert data.datasets == ["ag_news"]
    assert "tfx_textzoo" in data.tags
    assert data.base_model is None  # a resized, randomly initialised variant
    metrics = {(r.metric_type, r.metric_config): r.metric_value for r in data.eval_results}
    assert metrics[("accuracy", None)] == pytest.approx(report.accuracy)
    assert metrics[("f1", "macro")] == pytest.approx(report.macro_f1)
    assert {r.dataset_name for r in data.eval_results} == {"ag_news"}
    assert data.to_dict()["model-index"][0]["name"] == "ag-news-tiny"
    text = card.text
    for heading in ("Intended use", "Training data", "Training procedure", "Results"):
        assert f"## {heading}" in text
    assert "Limitations" in text and "truncated to 16 tokens" in text
    assert report.to_markdown().splitlines()[0] in text
    assert "| 2 | full | 0.7000 | 0.7500 | 0.7500 |" in text
    assert f'textzoo.load("{out}")' in text


def test_model_card_for_a_repo_and_base_model():
    model = textzoo.load("bert-tiny", num_classes=2, weights=None)  # the entry's architecture
    card = saving.model_card(model, repo_id="me/sentiment", license="MIT")
    assert card.data.base_model == "google/bert_uncased_L-2_H-128_A-2"
    assert card.data.license == "mit"
    assert card.data.eval_results is None
    assert 'textzoo.load("hf://me/sentiment")' in card.text
    scratch = tiny_model("scratch-tiny")
    assert saving.model_card(scratch).data.base_model is None


def test_failure_mid_save_leaves_nothing(tmp_path, monkeypatch):
    model = tiny_model("scratch-tiny")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(saving, "_save_preprocessor_assets", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        textzoo.save_pretrained(model, tmp_path / "out" / "m")
    assert list((tmp_path / "out").iterdir()) == []


def test_overwrite_rules(tmp_path, monkeypatch):
    first = tiny_model("scratch-tiny", labels=NAMES)
    second = tiny_model("bert-tiny", labels=["a", "b", "c", "d"])
    path = tmp_path / "m"
    textzoo.save_pretrained(first, path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        textzoo.save_pretrained(second, path)
    assert textzoo.load(path).labels == NAMES

    # A failure while overwriting keeps the old model.
    monkeypatch.setattr(saving, "model_card", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        textzoo.save_pretrained(second, path, overwrite=True)
    monkeypatch.undo()
    assert textzoo.load(path).labels == NAMES

    textzoo.save_pretrained(second, path, overwrite=True)
    restored = textzoo.load(path)
    assert restored.labels == ["a", "b", "c", "d"]
    np.testing.assert_allclose(
        predict_proba(restored, TEXTS), predict_proba(second, TEXTS), atol=1e-6
    )
    assert [p.name for p in tmp_path.iterdir()] == ["m"]

    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(FileExistsError, match="refusing"):
        textzoo.save_pretrained(second, foreign, overwrite=True)
    assert (foreign / "cat.jpg").exists()


def _corrupt(out: Path, name: str, how: str) -> None:
    path = out / name
    if how == "delete":
        path.unlink()
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif how == "garbage":  # same size, not HDF5 any more
        path.write_bytes(b"\0" * path.stat().st_size)
    elif how == "bad-json":
        path.write_text("{not json", encoding="utf-8")


@pytest.mark.parametrize(
    "name, how, error, match",
    [
        ("textzoo.json", "delete", FileNotFoundError, "textzoo.json is missing"),
        ("textzoo.json", "bad-json", ValueError, "textzoo.json .*not valid JSON"),
        ("config.json", "delete", FileNotFoundError, "config.json is missing"),
        ("model.weights.h5", "delete", FileNotFoundError, "model.weights.h5 is missing"),
        ("task.weights.h5", "truncate", ValueError, "task.weights.h5 .*truncated"),
        ("model.weights.h5", "garbage", CorruptModelError, "model.weights.h5 .*SHA-256"),
        ("assets/tokenizer/vocabulary.txt", "delete", FileNotFoundError, "vocabulary.txt"),
        ("task.json", "bad-json", ValueError, "task.json .*not valid JSON"),
    ],
)
def test_corrupt_or_missing_files_are_named(saved, tmp_path, name, how, error, match):
    out = tmp_path / "copy"
    shutil.copytree(saved[2], out)
    _corrupt(out, name, how)
    with pytest.raises(error, match=match) as info:
        textzoo.load(out)
    assert "save_pretrained" in str(info.value) or "Save the model again" in str(info.value)


def test_scratch_vocabulary_is_saved_and_required(tmp_path):
    model = tiny_model("scratch-tiny")
    out = textzoo.save_pretrained(model, tmp_path / "m")
    vocab = json.loads((out / "assets/vectorizer/vocabulary.json").read_text())
    assert vocab == [str(t) for t in model.preprocessor.vectorizer.get_vocabulary()]
    (out / "assets/vectorizer/vocabulary.json").unlink()
    with pytest.raises(FileNotFoundError, match="vocabulary.json is missing"):
        textzoo.load(out)


def test_not_a_saved_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        textzoo.load(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        textzoo.load("out/typo-dir")
    preset = tmp_path / "preset"
    tiny_model("bert-tiny").backbone.save_to_preset(str(preset))
    with pytest.raises(FileNotFoundError, match=r"textzoo.json is missing.*weights=DIR"):
        textzoo.load(preset)


def test_classes_given_with_a_saved_model(saved):
    _, _, out = saved
    assert textzoo.load(out, num_classes=4).labels == NAMES
    assert textzoo.load(out, labels=NAMES).labels == NAMES
    with pytest.raises(ValueError, match="4 classes.*num_classes=3"):
        textzoo.load(out, num_classes=3)
    with pytest.raises(ValueError, match="saved with labels"):
        textzoo.load(out, labels=["a", "b", "c", "d"])
    with pytest.raises(TypeError, match="sequence_length"):
        textzoo.load(out, sequence_length=8)
    with pytest.raises(TypeError, match="num_layers"):
        textzoo.load(out, num_layers=3)
    with pytest.raises(TypeError, match="weights"):
        textzoo.load(out, weights=None)


def test_labels_can_be_named_when_saved_without(tmp_path):
    model = tiny_model("bert-tiny", num_classes=4)
    out = textzoo.save_pretrained(model, tmp_path / "m")
    assert textzoo.load(out).labels is None
    assert textzoo.load(out, labels=NAMES).labels == NAMES


def test_bare_name_is_a_catalog_name_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bert-tiny").mkdir()
    (tmp_path / "mine").mkdir()
    assert not saving.is_saved_location("bert-tiny")
    assert saving.is_saved_location("./bert-tiny")
    assert saving.is_saved_location("mine")
    assert not saving.is_saved_location("no-such-thing")


def test_hf_uri_from_prepopulated_cache_offline(saved):
    model, _, out = saved
    _populate_hf_cache("me/ag-news-tiny", out)
    restored = textzoo.load("hf://me/ag-news-tiny")
    assert restored.labels == NAMES and restored.model_name == model.model_name
    np.testing.assert_allclose(
        predict_proba(restored, TEXTS), predict_proba(model, TEXTS), atol=1e-6
    )
    with pytest.raises(FileNotFoundError, match=r"offline.*not in the cache"):
        textzoo.load("hf://me/never-downloaded")


def test_hf_plain_weights_repo_is_refused(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "config.json").write_text('{"model_type": "bert"}')
    (files / "model.safetensors").write_bytes(b"weights")
    (files / "vocab.txt").write_text("[PAD]\n")
    _populate_hf_cache("google/some-bert", files)
    with pytest.raises(ValueError, match="plain weights repository") as info:
        textzoo.load("hf://google/some-bert")
    assert "weights='hf://google/some-bert'" in str(info.value)


def test_hf_cache_with_a_corrupt_file_names_the_cache(saved, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(saved[2], copy)
    _corrupt(copy, "task.weights.h5", "truncate")
    _populate_hf_cache("me/broken", copy)
    with pytest.raises(ValueError, match=r"truncated.*models--me--broken"):
        textzoo.load("hf://me/broken")


_SERVE = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import tensorflow as tf
    texts = json.loads(sys.argv[1])
    result = {}
    for path in sys.argv[2:]:  # the scratch model first: it needs no tensorflow_text
        if path.endswith("bert"):
            import tensorflow_text  # noqa: F401 - registers the WordPiece ops BERT uses
        serve = tf.saved_model.load(path).signatures["serving_default"]
        out = serve(text=tf.constant(texts))
        result[path] = {
            "inputs": sorted(serve.structured_input_signature[1]),
            "probabilities": out["probabilities"].numpy().tolist(),
            "dtype": out["probabilities"].dtype.name,
            "label": [x.decode() for x in out["label"].numpy()],
            "label_id": out["label_id"].numpy().tolist(),
        }
    result["imported"] = sorted(
        m for m in ("tfx_textzoo", "keras_hub") if m in sys.modules
    )
    print(json.dumps(result))
    """
)


def test_export_serves_raw_strings_without_tfx_textzoo(tmp_path):
    models = {
        "scratch": tiny_model("scratch-tiny", labels=NAMES),
        "bert": tiny_model("bert-tiny", labels=NAMES, pooling="mean"),
    }
    paths = {k: textzoo.export(m, tmp_path / k) for k, m in models.items()}
    texts = [*TEXTS, "a text with words the vocabulary never saw, and more of them"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", _SERVE, json.dumps(texts), *map(str, paths.values())],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["imported"] == []
    for key, model in models.items():
        served = result[str(paths[key])]
        expected = model.predict(texts, verbose=0)
        assert served["inputs"] == ["text"]
        assert served["dtype"] == "float32"
        np.testing.assert_allclose(served["probabilities"], expected, atol=1e-5)
        assert served["label_id"] == expected.argmax(axis=1).tolist()
        assert served["label"] == [NAMES[i] for i in expected.argmax(axis=1)]


_PLAIN_KERAS_HUB = textwrap.dedent(
    """
    import json, sys
    import keras_hub
    texts = json.loads(sys.argv[1])
    result = {}
    for path in sys.argv[2:]:
        try:
            model = keras_hub.models.TextClassifier.from_preset(path)
        except Exception as err:
            result[path] = {"error": f"{type(err).__name__}: {err}"}
            continue
        task = json.load(open(path + "/task.json"))
        result[path] = {
            "class": type(model).__name__,
            "probabilities": model.predict(texts, verbose=0).tolist(),
            "labels": task["tfx_textzoo"]["task_config"]["labels"],
        }
    result["imported"] = sorted(m for m in sys.modules if m.split(".")[0] == "tfx_textzoo")
    print(json.dumps(result))
    """
)


def test_plain_keras_hub_loads_what_is_its_own_graph(tmp_path):
    """A BERT on the pooler loads in keras-hub alone, predicting the same; mean pooling not."""
    from huggingface_hub import ModelCard

    models = {
        "pooler": tiny_model("bert-tiny", labels=NAMES),
        "mean": tiny_model("bert-tiny", labels=NAMES, pooling="mean"),
        "scratch": tiny_model("scratch-tiny", labels=NAMES),
    }
    for model in models.values():
        model.fit(np.array(TEXTS), np.array(LABELS), batch_size=4, epochs=1, verbose=0)
    paths = {k: textzoo.save_pretrained(m, tmp_path / k) for k, m in models.items()}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", _PLAIN_KERAS_HUB, json.dumps(TEXTS), *map(str, paths.values())],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["imported"] == []

    plain = result[str(paths["pooler"])]
    assert plain["class"] == "BertTextClassifier" and plain["labels"] == NAMES
    expected = predict_proba(models["pooler"], TEXTS)
    np.testing.assert_allclose(plain["probabilities"], expected, atol=1e-6)
    card = ModelCard.load(paths["pooler"] / "README.md")
    assert card.data.library_name == "keras-hub"
    assert "keras_hub.models.BertTextClassifier.from_preset(" in card.text
    assert json.loads((paths["pooler"] / "textzoo.json").read_text())["keras_hub_loadable"]

    for key in ("mean", "scratch"):  # layers keras-hub lacks: the card must not promise it
        assert "tfx_textzoo>" in result[str(paths[key])]["error"]
        card = ModelCard.load(paths[key] / "README.md")
        assert card.data.library_name == "tfx_textzoo"
        assert "keras_hub.models" not in card.text and "cannot load it" in card.text
        assert "textzoo.load(" in card.text and "not on PyPI" in card.text

    for key, model in models.items():  # and tfx_textzoo restores its own class from each
        loaded = textzoo.load(paths[key])
        assert type(loaded) is type(model) and loaded.labels == NAMES
        assert loaded.model_name == model.model_name
        assert getattr(loaded, "pooling", None) == getattr(model, "pooling", None)
        np.testing.assert_array_equal(predict_proba(loaded, TEXTS), predict_proba(model, TEXTS))


def test_export_format_and_overwrite_rules(tmp_path):
    model = tiny_model("scratch-tiny")
    with pytest.raises(ValueError, match="Supported: saved_model"):
        textzoo.export(model, tmp_path / "x", format="onnx")
    out = textzoo.export(model, tmp_path / "serving")
    assert (out / "saved_model.pb").exists()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        textzoo.export(model, out)
    textzoo.export(model, out, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving"]


def test_only_classifiers_are_saved(tmp_path):
    import keras

    with pytest.raises(TypeError, match="TextClassifier"):
        textzoo.save_pretrained(keras.Sequential([keras.layers.Dense(2)]), tmp_path / "m")
    assert not (tmp_path / "m").exists()


# --- integrity: hashes, labels, paths (issue 13) -------------------------------------------


def _edit_metadata(out: Path, **changes) -> None:
    meta = json.loads((out / "textzoo.json").read_text())
    for key, value in changes.items():
        if value is _DROP:
            meta.pop(key, None)
        else:
            meta[key] = value
    (out / "textzoo.json").write_text(json.dumps(meta))


_DROP = object()


def _same_size_edit(path: Path) -> None:
    """Change one byte of a text file, keeping its size (a token of the vocabulary)."""
    data = path.read_bytes()
    i = data.index(b"team")
    path.write_bytes(data[:i] + b"tean" + data[i + 4 :])


def test_same_size_corruption_is_caught_by_sha256(saved, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(saved[2], out)
    vocabulary = out / "assets/tokenizer/vocabulary.txt"
    size = vocabulary.stat().st_size
    _same_size_edit(vocabulary)
    assert vocabulary.stat().st_size == size
    with pytest.raises(CorruptModelError, match=r"vocabulary.txt .*SHA-256.*changed"):
        textzoo.load(out)


def test_directories_without_hashes_still_load_and_check_sizes(saved, tmp_path):
    """Saved before hashes were recorded (format 1 with sizes only): sizes are checked."""
    out = tmp_path / "copy"
    shutil.copytree(saved[2], out)
    _edit_metadata(out, sha256=_DROP)
    assert textzoo.load(out).labels == NAMES
    _corrupt(out, "task.weights.h5", "truncate")
    with pytest.raises(CorruptModelError, match="truncated"):
        textzoo.load(out)


def test_the_card_may_be_edited(saved, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(saved[2], out)
    (out / "README.md").write_text("# edited on the Hub\n")
    assert textzoo.load(out).labels == NAMES


@pytest.mark.parametrize(
    "labels, match",
    [
        (["Sports", "World", "Business", "Sci/Tech"], r"records the labels .*task.json"),
        ([*NAMES, "Extra"], r"names 5 classes .* 4 outputs"),
        (NAMES[:3], r"names 3 classes .* 4 outputs"),
        ("World", "not a list of class names"),
    ],
)
def test_labels_that_disagree_with_the_model_are_refused(saved, tmp_path, labels, match):
    out = tmp_path / "copy"
    shutil.copytree(saved[2], out)
    _edit_metadata(out, labels=labels)
    with pytest.raises(CorruptModelError, match=match):
        textzoo.load(out)


@pytest.fixture(scope="module")
def scratch_saved(tmp_path_factory):
    model = tiny_model("scratch-tiny", labels=NAMES)
    return textzoo.save_pretrained(model, tmp_path_factory.mktemp("scratch") / "m")


_WATCHED: list[str] = []
_WATCH_PREFIX: list[str] = []


def _audit(event, args):
    if event == "open" and _WATCH_PREFIX and isinstance(args[0], str | bytes | os.PathLike):
        path = os.fsdecode(args[0])
        if os.path.abspath(path).startswith(_WATCH_PREFIX[0]):
            _WATCHED.append(path)


sys.addaudithook(_audit)


def _craft(how: str, out: Path, outside: Path) -> None:
    vocabulary = out / "assets/vectorizer/vocabulary.json"
    meta = json.loads((out / "textzoo.json").read_text())
    if how == "assets-dotdot":
        meta["preprocessor_assets"]["vectorizer"] = "../outside/vocabulary.json"
    elif how == "assets-absolute":
        meta["preprocessor_assets"]["vectorizer"] = str(outside / "vocabulary.json")
    elif how == "files-dotdot":
        meta["files"]["../outside/secret.bin"] = 6
    elif how == "files-absolute":
        meta["files"][str(outside / "secret.bin")] = 6
    elif how == "sha256-dotdot":
        meta.setdefault("sha256", {})["../outside/secret.bin"] = "0" * 64
    elif how == "symlink":
        vocabulary.unlink()
        vocabulary.symlink_to(outside / "vocabulary.json")
    elif how == "unlisted-symlink":  # a file keras-hub reads by its fixed name
        shutil.copy(out / "config.json", outside / "config.json")
        (out / "config.json").unlink()
        (out / "config.json").symlink_to(outside / "config.json")
        meta["files"].pop("config.json")
        meta.get("sha256", {}).pop("config.json", None)
    elif how == "symlink-dir":
        shutil.rmtree(out / "assets/vectorizer")
        (out / "assets/vectorizer").symlink_to(outside, target_is_directory=True)
    (out / "textzoo.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "how, match",
    [
        ("assets-dotdot", r"preprocessor_assets\['vectorizer'\] .*'\.\./outside.*goes up"),
        ("assets-absolute", r"preprocessor_assets\['vectorizer'\] .*absolute path"),
        ("files-dotdot", r"files\['\.\./outside/secret.bin'\] .*goes up"),
        ("files-absolute", r"files\[.*secret.bin'\] .*absolute path"),
        ("sha256-dotdot", r"sha256\['\.\./outside/secret.bin'\] .*goes up"),
        ("symlink", r"vocabulary.json.*symbolic link.*outside"),
        ("symlink-dir", r"vocabulary.json.*symbolic link.*outside"),
        ("unlisted-symlink", r"symbolic link config.json .*outside"),
    ],
)
def test_paths_leading_outside_the_directory_are_refused(scratch_saved, tmp_path, how, match):
    out = tmp_path / "copy"
    shutil.copytree(scratch_saved, out)
    outside = tmp_path / "outside"
    outside.mkdir()
    # What a crafted directory would make load() read: a valid vocabulary, a secret.
    shutil.copy(out / "assets/vectorizer/vocabulary.json", outside / "vocabulary.json")
    (outside / "secret.bin").write_bytes(b"secret")
    _craft(how, out, outside)
    _WATCHED.clear()
    _WATCH_PREFIX[:] = [str(outside)]
    try:
        with pytest.raises(UnsafePathError, match=match) as info:
            textzoo.load(out)
    finally:
        _WATCH_PREFIX.clear()
    assert _WATCHED == []  # nothing outside was opened
    assert isinstance(info.value, CorruptModelError) and "save the model again" in str(info.value)


def test_export_refuses_the_model_directory_inside_or_above_it(tmp_path):
    model = tiny_model("scratch-tiny", labels=NAMES)
    expected = predict_proba(model, TEXTS)
    serving = textzoo.export(model, tmp_path / "serving")  # an earlier export...
    saved = textzoo.save_pretrained(model, serving / "model")  # ...holding the model
    before = sorted(p.relative_to(saved).as_posix() for p in saved.rglob("*"))
    loaded = textzoo.load(saved)

    with pytest.raises(InvalidArgumentError, match="is the directory the model was loaded"):
        textzoo.export(loaded, saved, overwrite=True)  # textzoo export DIR DIR --overwrite
    with pytest.raises(InvalidArgumentError, match="is inside the directory"):
        textzoo.export(loaded, saved / "serving")
    with pytest.raises(InvalidArgumentError, match="contains the directory"):
        textzoo.export(loaded, serving, overwrite=True)
    (tmp_path / "alias").symlink_to(saved, target_is_directory=True)
    for same in (saved / "assets" / "..", tmp_path / "alias"):
        with pytest.raises(InvalidArgumentError, match="is the directory"):
            textzoo.export(loaded, same, overwrite=True)

    assert sorted(p.relative_to(saved).as_posix() for p in saved.rglob("*")) == before
    np.testing.assert_allclose(predict_proba(textzoo.load(saved), TEXTS), expected, atol=1e-6)

    # Nor over another saved model: that is not an export.
    other = textzoo.save_pretrained(model, tmp_path / "other")
    with pytest.raises(FileExistsError, match="holds a saved model"):
        textzoo.export(model, other, overwrite=True)
    assert textzoo.load(other).labels == NAMES
    # An export beside it is fine.
    assert (textzoo.export(loaded, tmp_path / "serving2") / "saved_model.pb").exists()
