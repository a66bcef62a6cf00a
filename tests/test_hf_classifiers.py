"""Fine-tuned transformers classifiers: `textzoo.load(dir)` and `textzoo.load("hf://...")`.

The checkpoints are the committed fixtures (tests/fixtures/hf/<family>/classifier, written by
transformers itself); the expected probabilities are transformers' own outputs on them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo import hf_classifiers, tasks
from tfx_textzoo.evaluation import predict_proba
from tfx_textzoo.tasks import Task

FIXTURES = Path(__file__).parent / "fixtures" / "hf"
# Every family with a classifier fixture must load it (the folder name = the family name).
FAMILIES = sorted(p.name for p in FIXTURES.iterdir() if (p / "classifier").is_dir())
# Where a family's math differs from transformers' (a documented tolerance), else 1e-4.
TOLERANCE = {"bert": 1e-4}
# keras-hub lower-cases WordPiece text with NFKC case folding ("ＦＵＬＬ" -> "full"),
# transformers with str.lower() (full-width kept, [UNK] in these vocabularies): different
# token ids, so different inputs (see test_hf_parity.py).
FULL_WIDTH = "ＦＵＬＬ"


def expected(family: str) -> dict:
    return json.loads((FIXTURES / family / "expected.json").read_text(encoding="utf-8"))


def comparable(data: dict) -> list[dict]:
    """Inputs the two tokenizers encode alike: not full-width text, not truncated pairs."""
    return [
        row
        for row in data["inputs"]
        if FULL_WIDTH not in row["text"] and not (row["kind"] == "pair" and row["truncated"])
    ]


def inputs(rows: list[dict]):
    return [(r["text"], r["text_pair"]) if r["kind"] == "pair" else r["text"] for r in rows]


def load_fixture(family: str, **kwargs):
    model = textzoo.load(str(FIXTURES / family / "classifier"), **kwargs)
    # transformers' outputs were computed at max_length 16 (the long text truncated).
    model.preprocessor.sequence_length = expected(family)["max_length"]
    return model


def _probabilities(model, rows):
    texts = [r for r in rows if r["kind"] == "text"]
    return predict_proba(model, inputs(texts)), np.array([r["probabilities"] for r in texts])


@pytest.mark.parametrize("family", FAMILIES)
def test_fine_tuned_classifier_matches_transformers(family):
    data = expected(family)
    model = load_fixture(family)
    assert model.labels == ["NEG", "NEU", "POS"]
    assert model.model_name is None
    assert type(model).__module__.startswith("tfx_textzoo.families.")
    got, want = _probabilities(model, comparable(data))
    worst = float(np.max(np.abs(got - want)))
    print(f"{family}: largest |textzoo - transformers| probability: {worst:.2e}")
    assert worst < TOLERANCE.get(family, 1e-4), worst
    texts = [r["text"] for r in comparable(data) if r["kind"] == "text"]
    assert textzoo.predict(model, texts) == [model.labels[i] for i in want.argmax(axis=1)]


def _populate_hf_cache(repo_id: str, files: Path) -> None:
    """Lay files out exactly as huggingface_hub's cache does (what `hf download` leaves)."""
    commit = "89abcdef0123456789abcdef0123456789abcdef"
    root = textzoo.weights.cache_dir() / "hf" / ("models--" + repo_id.replace("/", "--"))
    shutil.copytree(files, root / "snapshots" / commit)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)


def test_hf_uri_from_a_prefilled_cache_offline():
    _populate_hf_cache("someone/bert-sentiment", FIXTURES / "bert" / "classifier")
    model = textzoo.load("hf://someone/bert-sentiment")
    model.preprocessor.sequence_length = 16
    local = load_fixture("bert")
    rows = [r for r in comparable(expected("bert")) if r["kind"] == "text"]
    np.testing.assert_array_equal(
        predict_proba(model, inputs(rows)), predict_proba(local, inputs(rows))
    )
    assert model.labels == ["NEG", "NEU", "POS"]


def test_save_load_and_export_keep_the_fine_tuned_head(tmp_path):
    import tensorflow as tf

    model = load_fixture("bert")
    texts = inputs([r for r in comparable(expected("bert")) if r["kind"] == "text"])
    want = predict_proba(model, texts)
    textzoo.save_pretrained(model, tmp_path / "saved")
    restored = textzoo.load(str(tmp_path / "saved"))
    assert restored.labels == ["NEG", "NEU", "POS"]
    np.testing.assert_allclose(predict_proba(restored, texts), want, atol=1e-6)
    serve = tf.saved_model.load(str(textzoo.export(model, tmp_path / "served")))
    out = serve.signatures["serving_default"](text=tf.constant(texts))
    np.testing.assert_allclose(out["probabilities"].numpy(), want, atol=1e-5)


def test_fine_tuned_classifier_finetunes_further():
    model = load_fixture("bert")
    texts = ["good film", "bad film", "fine film", "great film"] * 2
    labels = ["POS", "NEG", "NEU", "POS"] * 2
    history = textzoo.finetune(
        model, (texts, labels), epochs=2, freeze_epochs=1, batch_size=4, verbose=0, seed=0
    )
    assert [r["phase"] for r in history.epochs] == ["frozen", "full"]


def test_labels_argument_renames_and_num_classes_checks():
    model = load_fixture("bert", labels=["negative", "neutral", "positive"], num_classes=3)
    assert model.labels == ["negative", "neutral", "positive"]
    with pytest.raises(ValueError, match="num_classes .* 3, the number of labels"):
        load_fixture("bert", num_classes=2)
    with pytest.raises(ValueError, match="labels .* 3 names"):
        load_fixture("bert", labels=["a", "b"])


def test_build_arguments_are_refused():
    with pytest.raises(TypeError, match=r"Hugging Face classifier.*\['sequence_length'\]"):
        textzoo.load(str(FIXTURES / "bert" / "classifier"), sequence_length=32)


def _edited_copy(tmp_path: Path, family: str = "bert", **changes) -> Path:
    directory = tmp_path / "ckpt"
    shutil.copytree(FIXTURES / family / "classifier", directory)
    config = json.loads((directory / "config.json").read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"problem_type": "regression"}, "regression"),
        ({"id2label": {"0": "SCORE"}, "label2id": None}, "one output"),
        (
            {
                "problem_type": "multi_label_classification",
                "id2label": {"0": "SCORE"},
                "label2id": None,
            },
            "one output .* multi-label classifier of one label",
        ),
        ({"problem_type": "ordinal"}, "problem_type 'ordinal'.*which transformers does not"),
        ({"model_type": "gpt2"}, "model type 'gpt2', which no tfx_textzoo family reads"),
        ({"id2label": {"0": "A", "2": "B"}}, r"number the labels 0..1"),
    ],
)
def test_unsupported_checkpoints_are_refused_clearly(tmp_path, changes, message):
    directory = _edited_copy(tmp_path, **changes)
    with pytest.raises(ValueError, match=message):
        textzoo.load(str(directory))


def test_pickle_only_checkpoint_is_refused_without_reading_it(tmp_path):
    directory = _edited_copy(tmp_path)
    (directory / "model.safetensors").unlink()
    (directory / "pytorch_model.bin").write_bytes(b"\x80\x04 never unpickled")
    with pytest.raises(textzoo.weights.PickledWeightsError, match="never loads a pickle"):
        textzoo.load(str(directory))


def test_base_model_directory_is_not_a_classifier():
    assert hf_classifiers.classifier_config(FIXTURES / "bert" / "base") is None
    assert hf_classifiers.classifier_config(FIXTURES / "bert" / "classifier") is not None


def sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype="float64")))


@pytest.mark.parametrize("family", FAMILIES)
def test_multi_label_checkpoint_loads_with_sigmoid_of_transformers_logits(tmp_path, family):
    """problem_type multi_label_classification: each label's probability is sigmoid(logit).

    transformers trains such a checkpoint with BCEWithLogitsLoss and its pipelines read the
    logits through a sigmoid; the fixture's logits are transformers' own outputs.
    """
    directory = _edited_copy(tmp_path, family, problem_type="multi_label_classification")
    model = textzoo.load(str(directory))
    model.preprocessor.sequence_length = expected(family)["max_length"]
    assert model.task == Task(multi_label=True)
    assert model.labels == ["NEG", "NEU", "POS"]
    rows = [r for r in comparable(expected(family)) if r["kind"] == "text"]
    got = predict_proba(model, inputs(rows))
    want = sigmoid([r["logits"] for r in rows])
    worst = float(np.max(np.abs(got - want)))
    assert worst < TOLERANCE.get(family, 1e-4), worst
    # independent sigmoids, not a distribution: rows do not sum to 1
    assert not np.allclose(got.sum(axis=1), 1.0, atol=1e-3)
    assert type(model.loss).__name__ == "BinaryCrossentropy"  # compiled for multi-label


def test_multi_label_checkpoint_keeps_its_task_through_keras_save(tmp_path):
    import keras

    directory = _edited_copy(tmp_path, problem_type="multi_label_classification")
    model = textzoo.load(str(directory))
    model.preprocessor.sequence_length = 16
    texts = inputs([r for r in comparable(expected("bert")) if r["kind"] == "text"])
    want = predict_proba(model, texts)
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    assert restored.task == Task(multi_label=True)
    np.testing.assert_allclose(predict_proba(restored, texts), want, atol=1e-6)


def test_single_label_problem_type_is_single_label(tmp_path):
    directory = _edited_copy(tmp_path, problem_type="single_label_classification")
    model = textzoo.load(str(directory))
    assert model.task == Task()
    assert hf_classifiers.task_of({}) == Task()


@pytest.mark.slow
def test_multi_label_checkpoint_finetunes_further_and_tunes_thresholds(tmp_path):
    directory = _edited_copy(tmp_path, problem_type="multi_label_classification")
    model = textzoo.load(str(directory))
    model.preprocessor.sequence_length = 16
    texts = ["good film", "bad film", "fine film", "great bad film"] * 2
    sets = [["POS"], ["NEG"], ["NEU"], ["POS", "NEG"]] * 2
    history = textzoo.finetune(
        model,
        (texts, sets),
        validation_data=(texts, sets),
        epochs=2,
        freeze_epochs=1,
        batch_size=4,
        verbose=0,
        seed=0,
    )
    assert [r["phase"] for r in history.epochs] == ["frozen", "full"]
    assert history.monitor == "val_micro_f1"
    want = [[float(n in s) for n in model.labels] for s in sets]
    probs = predict_proba(model, texts)
    assert model.task.thresholds == tasks.tune_thresholds(probs, want)
