"""save_pretrained / load / export / model card of multi-label and pair models (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import TEXTS

import tfx_textzoo as textzoo
from tfx_textzoo import saving
from tfx_textzoo.errors import CorruptModelError, InvalidArgumentError
from tfx_textzoo.tasks import Task

TAGS = ["politics", "sports", "money", "tech"]
TINY = dict(weights=None, num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32)
SECOND = [
    "Markets reacted to the report",
    "A late goal decided it",
    "Phones get a new processor",
    "The treaty was signed",
]


def _probabilities(model, texts, pairs=None) -> np.ndarray:
    """The Keras model's probabilities of raw texts (or pairs) through its preprocessor.

    keras-hub's preprocessor reads a lone 2-tuple as (texts, labels): the pair goes in
    as x with y=None.
    """
    import tensorflow as tf

    texts = tf.constant(texts)
    if pairs is None:
        features = model.preprocessor(texts)
    else:
        features = model.preprocessor((texts, tf.constant(pairs)), None)
    return np.asarray(model(features, training=False), dtype="float32")


def _bert_features(model, rows: list[list[int]]) -> dict[str, np.ndarray]:
    """BERT inputs packed by hand: [CLS] ids [SEP], padded to the sequence length."""
    vocab = model.preprocessor.tokenizer
    cls, sep = vocab.token_to_id("[CLS]"), vocab.token_to_id("[SEP]")
    length = model.preprocessor.sequence_length
    token_ids = np.zeros((len(rows), length), "int32")
    for i, ids in enumerate(rows):
        packed = [cls, *ids, sep]
        token_ids[i, : len(packed)] = packed
    return {
        "token_ids": token_ids,
        "padding_mask": token_ids != 0,
        "segment_ids": np.zeros_like(token_ids),
    }


def _token_ids(model, text: str) -> list[int]:
    return np.asarray(model.preprocessor.tokenizer(text)).astype(int).tolist()


def _tagger(**task_changes):
    """A tiny multi-label BERT whose thresholds split its own probabilities on TEXTS."""
    model = textzoo.load("bert-tiny", labels=TAGS, multi_label=True, sequence_length=16, **TINY)
    probs = _probabilities(model, TEXTS)
    # Each label's threshold is its median probability: some texts above, some below.
    thresholds = tuple(float(t) for t in np.median(probs.astype("float64"), axis=0))
    model.task = model.task.replace(thresholds=thresholds, **task_changes)
    return model


def _serve(path: Path):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401 - the WordPiece ops of a BERT export

    return tf.saved_model.load(str(path)).signatures["serving_default"]


@pytest.fixture(scope="module")
def tagger():
    return _tagger()


def test_multi_label_task_survives_save_and_load(tagger, tmp_path):
    out = textzoo.save_pretrained(tagger, tmp_path / "tagger")
    meta = json.loads((out / "textzoo.json").read_text())
    assert meta["task"] == {
        "kind": "multi_label",
        "text_pair": False,
        "thresholds": list(tagger.task.thresholds),
        "truncation": "head",
    }
    task_json = json.loads((out / "task.json").read_text())
    in_model = task_json.get("tfx_textzoo", {}).get("task_config", task_json["config"])
    assert in_model["task"] == meta["task"]

    restored = textzoo.load(out, multi_label=True)
    assert restored.task == tagger.task
    assert restored.labels == TAGS
    np.testing.assert_array_equal(_probabilities(restored, TEXTS), _probabilities(tagger, TEXTS))
    with pytest.raises(InvalidArgumentError, match="multi-label"):
        textzoo.load(out, multi_label=False)


def _rewrite(out: Path, name: str, edit) -> None:
    """Edit a JSON file of a saved directory, keeping the recorded sizes and hashes true."""
    path = out / name
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    if name != "textzoo.json":
        meta = json.loads((out / "textzoo.json").read_text())
        meta["files"][name] = path.stat().st_size
        meta["sha256"][name] = saving._files.sha256_file(path)
        (out / "textzoo.json").write_text(json.dumps(meta))


def test_task_metadata_that_disagrees_with_the_model_is_refused(tagger, tmp_path):
    out = textzoo.save_pretrained(tagger, tmp_path / "tagger")

    def other_thresholds(meta):
        meta["task"]["thresholds"] = [0.5] * len(TAGS)

    _rewrite(out, "textzoo.json", other_thresholds)
    with pytest.raises(CorruptModelError, match="records the task .* model.task.replace"):
        textzoo.load(out)

    def not_a_task(meta):
        meta["task"] = {"kind": "regression"}

    _rewrite(out, "textzoo.json", not_a_task)
    with pytest.raises(CorruptModelError, match="'task' in textzoo.json .* not a valid task"):
        textzoo.load(out)

    def two_thresholds(task):  # task.json's own task (keras-hub names: under tfx_textzoo)
        task["tfx_textzoo"]["task_config"]["task"]["thresholds"] = [0.5, 0.5]

    _rewrite(out, "task.json", two_thresholds)
    with pytest.raises(CorruptModelError, match="records 2 decision thresholds but the model"):
        textzoo.load(out)


def test_models_saved_before_the_task_was_recorded_load_single_label(tmp_path):
    model = textzoo.load("scratch-tiny", labels=["neg", "pos"])
    model.prepare_tokenizer(TEXTS)
    out = textzoo.save_pretrained(model, tmp_path / "old")
    expected = _probabilities(model, TEXTS)
    _rewrite(out, "textzoo.json", lambda meta: meta.pop("task"))
    _rewrite(out, "task.json", lambda task: task["config"].pop("task"))

    restored = textzoo.load(out)
    assert restored.task == Task()
    np.testing.assert_array_equal(_probabilities(restored, TEXTS), expected)


def test_multi_label_export_serves_probabilities_decisions_and_labels(tagger, tmp_path):
    out = textzoo.export(tagger, tmp_path / "serving")
    serve = _serve(out)
    assert set(serve.structured_input_signature[1]) == {"text"}
    texts = [*TEXTS, "a text about nothing in particular"]
    result = {k: v.numpy() for k, v in serve(text=np.array(texts, dtype=object)).items()}
    assert sorted(result) == ["decisions", "label_ids", "labels", "num_labels", "probabilities"]

    probs = result["probabilities"]
    assert probs.dtype == np.float32 and probs.shape == (len(texts), len(TAGS))
    np.testing.assert_allclose(probs, _probabilities(tagger, texts), atol=1e-6)
    # Decisions at the thresholds, decided in float64 by numpy on the served probabilities.
    expected = probs.astype("float64") >= np.array(tagger.task.thresholds)
    np.testing.assert_array_equal(result["decisions"], expected)
    assert expected.any() and not expected.all()  # the medians split the texts
    np.testing.assert_array_equal(result["num_labels"], expected.sum(axis=1))
    for row in range(len(texts)):
        chosen = np.flatnonzero(expected[row]).tolist()  # in label order, as predict
        width = len(TAGS)
        assert result["label_ids"][row].tolist() == chosen + [-1] * (width - len(chosen))
        names = [TAGS[j].encode() for j in chosen]
        assert result["labels"][row].tolist() == names + [b""] * (width - len(names))


def test_export_decides_a_probability_equal_to_its_threshold_as_numpy_does(tmp_path):
    model = textzoo.load("scratch-tiny", labels=TAGS[:2], multi_label=True, sequence_length=16)
    model.prepare_tokenizer(TEXTS)
    text = np.array(TEXTS[:1])
    probs = _serve(textzoo.export(model, tmp_path / "first"))(text=text)["probabilities"].numpy()
    at = float(probs[0, 0])  # exactly the float32 probability: chosen
    # Just above the second (in float64), so not chosen; rounded to float32 it would equal it.
    above = float(np.nextafter(np.float64(probs[0, 1]), 1.0))
    assert np.float32(above) == probs[0, 1]
    model.task = model.task.replace(thresholds=(at, above))
    served = _serve(textzoo.export(model, tmp_path / "second"))(text=text)
    np.testing.assert_array_equal(served["probabilities"].numpy(), probs)
    assert model.task.decide(probs).tolist() == [[True, False]]
    assert served["decisions"].numpy().tolist() == [[True, False]]


def test_pair_export_takes_text_and_text_pair(tmp_path):
    model = textzoo.load("bert-tiny", labels=["entailment", "not"], sequence_length=24, **TINY)
    model.task = model.task.replace(text_pair=True)
    serve = _serve(textzoo.export(model, tmp_path / "serving"))
    assert set(serve.structured_input_signature[1]) == {"text", "text_pair"}
    result = serve(text=np.array(TEXTS), text_pair=np.array(SECOND))
    expected = _probabilities(model, TEXTS, SECOND)
    np.testing.assert_allclose(result["probabilities"].numpy(), expected, atol=1e-6)
    assert result["label_id"].numpy().tolist() == expected.argmax(axis=1).tolist()
    # The pair is packed as two segments, not read as the first text alone.
    import tensorflow as tf

    segments = model.preprocessor((tf.constant(TEXTS), tf.constant(SECOND)), None)
    assert set(np.unique(segments["segment_ids"].numpy())) == {0, 1}


def test_multi_label_pair_export(tmp_path):
    model = _tagger(text_pair=True)
    serve = _serve(textzoo.export(model, tmp_path / "serving"))
    result = serve(text=np.array(TEXTS), text_pair=np.array(SECOND))
    probs = result["probabilities"].numpy()
    np.testing.assert_allclose(probs, _probabilities(model, TEXTS, SECOND), atol=1e-6)
    np.testing.assert_array_equal(
        result["decisions"].numpy(), probs.astype("float64") >= np.array(model.task.thresholds)
    )


LONG = [
    "the team won the final after extra time and the fans sang all night long",
    "stocks rallied",
    "new chips double the battery life of phones and laptops sold this year",
]


@pytest.mark.parametrize("truncation", ["tail", "head+tail"])
def test_export_applies_the_models_truncation(tmp_path, truncation):
    # Seeded: an unseeded tiny random model can react to the tokens it reads by less
    # than float32's resolution (CI once drew one whose head and tail outputs differed
    # by 6e-8), and then the last check could not tell the two readings apart.
    keras.utils.set_random_seed(3)
    model = textzoo.load("bert-tiny", labels=["a", "b"], sequence_length=8, **TINY)
    model.task = model.task.replace(truncation=truncation)
    serve = _serve(textzoo.export(model, tmp_path / "serving"))
    budget = 8 - 2  # [CLS] and [SEP]
    head, tail = {"tail": (0, budget), "head+tail": textzoo.tasks.head_tail_split(budget)}[
        truncation
    ]
    rows = []
    for text in LONG:
        ids = _token_ids(model, text)
        rows.append(ids if len(ids) <= budget else ids[:head] + ids[len(ids) - tail :])
    assert len(_token_ids(model, LONG[0])) > budget  # it is cut
    expected = np.asarray(model(_bert_features(model, rows), training=False))
    served = serve(text=np.array(LONG))["probabilities"].numpy()
    np.testing.assert_allclose(served, expected, atol=1e-6)
    head_only = _probabilities(model, LONG)  # what reading the start gives: not that
    assert np.abs(served[0] - head_only[0]).max() > 1e-7, np.abs(served[0] - head_only[0])


@pytest.mark.parametrize("aggregate", ["mean", "max"])
def test_chunks_export_aggregates_windows_as_numpy(tmp_path, aggregate):
    import keras

    keras.utils.set_random_seed(7)
    model = textzoo.load("bert-tiny", labels=TAGS[:3], multi_label=True, sequence_length=8, **TINY)
    # A random tiny model's probabilities all sit within 1e-6 of 0.5: spread them, so
    # that thresholds between them are not decided by float32 round-off.
    kernel, bias = model.output_dense.get_weights()
    model.output_dense.set_weights([kernel * 1000.0, bias])
    budget, stride = 8 - 2, 4
    windows, documents = [], []
    for d, text in enumerate(LONG):
        ids = _token_ids(model, text)
        count = 1 if len(ids) <= budget else -(-(len(ids) - budget) // stride) + 1
        for k in range(count):
            start = min(k * stride, max(len(ids) - budget, 0))
            windows.append(ids[start : start + budget])
            documents.append(d)
    documents = np.array(documents)
    window_probs = np.asarray(model(_bert_features(model, windows), training=False), "float64")
    reduce = np.mean if aggregate == "mean" else np.max
    expected = np.stack([reduce(window_probs[documents == d], axis=0) for d in range(3)])
    # Between each label's two lowest probabilities: one text below, two above.
    lowest = np.sort(expected, axis=0)[:2]
    thresholds = tuple(float(t) for t in lowest.mean(axis=0))
    model.task = model.task.replace(thresholds=thresholds)

    out = textzoo.export(
        model, tmp_path / "serving", long_text="chunks", stride=stride, aggregate=aggregate
    )
    result = _serve(out)(text=np.array(LONG))
    assert result["num_windows"].numpy().tolist() == np.bincount(documents).tolist()
    assert result["num_windows"].numpy().max() > 1
    np.testing.assert_allclose(result["probabilities"].numpy(), expected, atol=1e-6)
    # Where a probability is within the served float32's error of its threshold, the
    # numpy float64 decision may differ: compare the decisions everywhere else.
    clear = np.abs(expected - np.array(thresholds)) > 1e-6
    assert clear.mean() > 0.5
    decisions = result["decisions"].numpy()
    np.testing.assert_array_equal(decisions[clear], (expected >= np.array(thresholds))[clear])


def test_single_label_chunks_export_renormalises_max(tmp_path):
    model = textzoo.load("bert-tiny", labels=["a", "b", "c"], sequence_length=8, **TINY)
    served = _serve(textzoo.export(model, tmp_path / "s", long_text="chunks", aggregate="max"))
    probs = served(text=np.array(LONG))["probabilities"].numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_export_refuses_what_it_cannot_serve(tmp_path):
    import keras_hub

    model = textzoo.load("bert-tiny", labels=["a", "b"], sequence_length=8, **TINY)
    with pytest.raises(InvalidArgumentError, match="long_text must be 'truncate' or 'chunks'"):
        textzoo.export(model, tmp_path / "serving", long_text="windows")
    with pytest.raises(InvalidArgumentError, match="stride is for long_text='chunks'"):
        textzoo.export(model, tmp_path / "serving", stride=4)
    with pytest.raises(InvalidArgumentError, match="aggregate is for long_text='chunks'"):
        textzoo.export(model, tmp_path / "serving", aggregate="max")
    with pytest.raises(InvalidArgumentError, match="aggregate must be"):
        textzoo.export(model, tmp_path / "serving", long_text="chunks", aggregate="median")
    with pytest.raises(InvalidArgumentError, match="stride"):
        textzoo.export(model, tmp_path / "serving", long_text="chunks", stride=7)  # budget 6
    model.task = Task(text_pair=True)
    with pytest.raises(InvalidArgumentError, match="'truncate' for a pair model"):
        textzoo.export(model, tmp_path / "serving", long_text="chunks")
    model.task = Task(text_pair=True, truncation="tail")
    with pytest.raises(InvalidArgumentError, match="'head' for a pair model"):
        textzoo.export(model, tmp_path / "serving")
    plain = keras_hub.models.BertTextClassifier(
        backbone=model.backbone,
        num_classes=2,
        preprocessor=keras_hub.models.BertTextClassifierPreprocessor(
            tokenizer=model.preprocessor.tokenizer, sequence_length=8
        ),
    )
    with pytest.raises(TypeError, match="not a tfx_textzoo classifier"):
        textzoo.export(plain, tmp_path / "serving", long_text="chunks")
    assert not (tmp_path / "serving").exists()


def test_scratch_pair_export_takes_two_inputs(tmp_path):
    model = textzoo.load("scratch-tiny", labels=["same", "other"], sequence_length=16)
    model.prepare_tokenizer(TEXTS, SECOND)
    model.task = model.task.replace(text_pair=True)
    serve = _serve(textzoo.export(model, tmp_path / "serving"))
    assert set(serve.structured_input_signature[1]) == {"text", "text_pair"}
    both = serve(text=np.array(TEXTS), text_pair=np.array(SECOND))["probabilities"].numpy()
    swapped = serve(text=np.array(SECOND), text_pair=np.array(TEXTS))["probabilities"].numpy()
    assert both.shape == (4, 2) and np.isfinite(both).all()
    assert np.abs(both - swapped).max() > 1e-7  # the order of the two texts counts


def test_multi_label_model_card(tagger, tmp_path):
    from huggingface_hub import ModelCard
    from sklearn import metrics

    from tfx_textzoo.evaluation import Report

    targets = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 1]])
    probs = _probabilities(tagger, TEXTS).astype("float64")
    thresholds = tagger.task.thresholds
    report = Report.from_predictions(
        targets, probs, label_names=TAGS, thresholds=thresholds, dataset_name="tags"
    )
    out = textzoo.save_pretrained(tagger, tmp_path / "tagger", report=report)
    card = ModelCard.load(out / "README.md")
    assert card.data.pipeline_tag == "text-classification"
    assert "multi-label-classification" in card.data.tags
    assert card.data.datasets == ["tags"]
    results = {(r.metric_type, r.metric_config): r.metric_value for r in card.data.eval_results}
    predicted = probs >= np.array(thresholds)  # sklearn on the decisions, independently
    f1 = {
        average: metrics.f1_score(targets, predicted, average=average, zero_division=0)
        for average in ("micro", "macro", "samples")
    }
    assert results == {
        ("f1", "micro"): pytest.approx(f1["micro"]),
        ("f1", "macro"): pytest.approx(f1["macro"]),
        ("f1", "samples"): pytest.approx(f1["samples"]),
        ("accuracy", "subset"): pytest.approx(metrics.accuracy_score(targets, predicted)),
        ("hamming_loss", None): pytest.approx(metrics.hamming_loss(targets, predicted)),
    }
    text = card.text
    assert "multi-label" in text and "Confusion matrix" not in text
    for name, threshold in zip(TAGS, thresholds, strict=True):
        assert f"| {name} | {threshold:.4g} |" in text
    assert report.to_markdown().splitlines()[0] in text
    assert "label lists" in text and "may choose none of them, or several" in text
    # The keras-hub snippet thresholds the probabilities instead of taking the argmax.
    assert f"thresholds = {list(thresholds)!r}" in text
    assert "argmax" not in text

    single = Report.from_predictions([0, 1], np.eye(2), label_names=["a", "b"])
    with pytest.raises(ValueError, match="single-label evaluation report but the model is"):
        textzoo.save_pretrained(tagger, tmp_path / "other", report=single)
    assert not (tmp_path / "other").exists()


def test_pair_model_card_shows_pair_input():
    model = textzoo.load("bert-tiny", labels=["entailment", "not"], **TINY)
    model.task = model.task.replace(text_pair=True, truncation="tail")
    card = saving.model_card(model, repo_id="me/nli")
    assert card.data.pipeline_tag == "text-classification"
    assert "sentence-pair-classification" in card.data.tags
    text = card.text
    assert "pairs of raw strings" in text
    assert 'textzoo.predict(model, ["A man is playing a guitar."], text_pair=' in text
    assert 'model.predict((["A man is playing a guitar."], ["Someone plays music."]))' in text
    assert "'tail': the last tokens are read" in text
