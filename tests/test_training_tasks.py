"""finetune() beyond one label per text: multi-label, text pairs and truncation.

Tiny models (bert-tiny at hidden size 16, scratch-tiny) on toy tasks a model can learn.
Expected thresholds are recomputed from the model's own validation probabilities
(Keras' ``model.predict``, not finetune's pipeline) with tasks.tune_thresholds, itself
checked against a brute-force search in test_tasks.py.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo import inference, preprocessing, tasks
from tfx_textzoo.datasets import TextDataset
from tfx_textzoo.errors import SingleClassError
from tfx_textzoo.tasks import Task

TAGS = ["sports", "money", "tech"]
WORDS = {"sports": "football", "money": "stocks", "tech": "chip"}
FILLER = ["today", "news", "report", "story"]


def bert(labels=TAGS, multi_label=True, **kwargs):
    """A tiny random bert-tiny; mean pooling learns word-presence tasks in a few epochs."""
    kwargs = {"pooling": "mean", **kwargs}
    return textzoo.load(
        "bert-tiny",
        labels=labels,
        multi_label=multi_label,
        weights=None,
        num_layers=1,
        hidden_dim=16,
        num_heads=2,
        intermediate_dim=32,
        sequence_length=16,
        **kwargs,
    )


def tag_set(i: int) -> list[str]:
    """Label set number ``i`` (0..7): every subset of the three tags, the empty one too."""
    return [tag for bit, tag in enumerate(TAGS) if i >> bit & 1]


def tagged(n: int, offset: int = 0) -> tuple[list[str], list[list[str]]]:
    """Texts whose label set is the set of tag words they contain (learnable)."""
    texts, sets = [], []
    for i in range(n):
        labels = tag_set((i + offset) % 8)
        words = [WORDS[t] for t in labels] + [FILLER[(i + offset) % 4]]
        texts.append(" ".join(words[::-1] if i % 2 else words))
        sets.append(labels)
    return texts, sets


def targets(sets, names=TAGS) -> np.ndarray:
    return np.array([[float(n in s) for n in names] for s in sets])


TRAIN = tagged(32)
VALID = tagged(16, offset=3)


def tune(model, train=TRAIN, **kwargs):
    kwargs = {"batch_size": 8, "verbose": 0, "seed": 0, **kwargs}
    return textzoo.finetune(model, train, **kwargs)


# ---------------------------------------------------------------- multi-label


@pytest.fixture(scope="module")
def trained():
    """A multi-label bert-tiny trained on both phases with validation data."""
    model = bert()
    history = tune(
        model,
        validation_data=VALID,
        epochs=10,
        freeze_epochs=1,
        learning_rate=1e-2,
        head_learning_rate=1e-2,
    )
    return model, history


def test_multi_label_runs_both_phases_and_learns(trained):
    model, history = trained
    assert [r["phase"] for r in history.epochs] == ["frozen"] + ["full"] * 9
    losses = [r["loss"] for r in history.epochs]
    assert losses[-1] < 0.7 * losses[0], losses
    assert history.monitor == "val_micro_f1"
    assert all("micro_f1" in r and "val_micro_f1" in r for r in history.epochs)
    assert "accuracy" not in history.epochs[0]
    # it learned the toy task: each tag word switches its label on
    probs = model.predict(np.array(VALID[0]), verbose=0)
    decided = model.task.decide(probs)
    assert (decided == targets(VALID[1]).astype(bool)).mean() >= 0.9


def test_multi_label_thresholds_are_tuned_on_validation(trained):
    model, history = trained
    assert model.task.multi_label
    assert model.task.thresholds is not None and len(model.task.thresholds) == 3
    # recomputed independently: Keras' own predict on the strings, then the tuning rule
    probs = model.predict(np.array(VALID[0]), verbose=0)
    assert model.task.thresholds == tasks.tune_thresholds(probs, targets(VALID[1]))
    assert history.thresholds == model.task.thresholds
    assert history.to_dict()["thresholds"] == model.task.thresholds
    assert '"thresholds": [' in history.to_json()


def test_multi_label_thresholds_survive_keras_save(trained, tmp_path):
    model, _ = trained
    path = tmp_path / "tags.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert restored.task == model.task
    texts = np.array(VALID[0])
    np.testing.assert_allclose(
        restored.predict(texts, verbose=0), model.predict(texts, verbose=0), atol=1e-6
    )


def test_multi_label_head_is_compiled_for_the_task_after_training(trained):
    model, _ = trained
    assert type(model.loss).__name__ == "BinaryCrossentropy"
    out = model.evaluate(np.array(VALID[0]), targets(VALID[1]), verbose=0, return_dict=True)
    assert set(out) >= {"loss", "micro_f1"}


def test_multi_label_without_validation_keeps_half_and_says_so(capsys):
    model = bert()
    history = tune(model, epochs=1, freeze_epochs=0, verbose=1)
    assert model.task.thresholds is None and history.thresholds is None
    assert model.task.threshold_array(3).tolist() == [0.5, 0.5, 0.5]
    assert history.monitor == "loss"
    assert "No validation_data: every label's decision threshold is 0.5" in capsys.readouterr().out


def test_refinetuning_without_validation_drops_old_thresholds():
    model = bert()
    model.task = model.task.replace(thresholds=(0.2, 0.3, 0.4))
    tune(model, epochs=1, freeze_epochs=0)
    assert model.task.thresholds is None  # they were tuned for the old weights


@pytest.mark.parametrize("cache_features", [True, False])
def test_multi_label_frozen_phase_trains_the_head_only(cache_features):
    model = bert()
    backbone = [w.copy() for w in model.backbone.get_weights()]
    head = [v.numpy().copy() for v in model.trainable_variables if "logits" in v.path]
    history = tune(model, epochs=1, freeze_epochs=1, cache_features=cache_features)
    assert [r["phase"] for r in history.epochs] == ["frozen"]
    assert np.isfinite(history.epochs[0]["loss"])
    assert all(
        np.array_equal(a, b) for a, b in zip(backbone, model.backbone.get_weights(), strict=True)
    )
    after = [v.numpy() for v in model.trainable_variables if "logits" in v.path]
    assert any(not np.array_equal(a, b) for a, b in zip(head, after, strict=True))


def bce(probs, y) -> float:
    probs = np.clip(np.asarray(probs, dtype="float64"), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(probs) + (1 - y) * np.log(1 - probs)))


def micro_f1(probs, y) -> float:
    decided = np.asarray(probs) > 0.5  # Keras' F1Score: greater than the threshold
    tp = (decided & (y == 1)).sum()
    return float(2 * tp / (decided.sum() + (y == 1).sum()))


@pytest.mark.parametrize("pairs", [False, True], ids=["texts", "pairs"])
@pytest.mark.parametrize("cache_features", [True, False], ids=["cached", "uncached"])
def test_frozen_phase_scores_validation_against_its_targets(cache_features, pairs):
    """The frozen phase (cached features or not) pairs each text with its 0/1 targets.

    At a negligible head learning rate, its val_loss and val_micro_f1 are those of the
    untrained model on the validation texts, computed here by hand.
    """
    model = bert()
    seconds = [FILLER[i % 4] for i in range(len(VALID[0]))]
    valid = ((VALID[0], seconds), VALID[1]) if pairs else VALID
    train = ((TRAIN[0], TRAIN[0]), TRAIN[1]) if pairs else TRAIN
    if pairs:
        tok = preprocessing.tokenize(model, VALID[0], text_pairs=seconds)
        probs = inference.probabilities(model, tok, 64)
    else:
        probs = model.predict(np.array(VALID[0]), verbose=0)
    history = tune(
        model,
        train,
        validation_data=valid,
        epochs=1,
        freeze_epochs=1,
        head_learning_rate=1e-9,
        cache_features=cache_features,
    )
    record = history.epochs[0]
    assert record["phase"] == "frozen"
    y = targets(VALID[1])
    assert record["val_loss"] == pytest.approx(bce(probs, y), rel=1e-4)
    assert record["val_micro_f1"] == pytest.approx(micro_f1(probs, y), abs=1e-6)
    assert ("feature_cache" in history.timings) == cache_features


def test_multi_label_inputs_matrix_dataset_and_delimited_strings():
    model = bert()
    texts, sets = TRAIN
    matrix = targets(sets).astype(int)
    tune(model, (texts, matrix), epochs=1, freeze_epochs=0)
    data = TextDataset(texts, matrix, TAGS)
    tune(model, data, epochs=1, freeze_epochs=0)
    joined = ["|".join(s) for s in sets]
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"text": texts, "tags": joined})
    tune(model, frame, epochs=1, freeze_epochs=0, label_column="tags", label_delimiter="|")
    columns = pd.DataFrame({"text": texts, **{t: matrix[:, i] for i, t in enumerate(TAGS)}})
    tune(model, columns, epochs=1, freeze_epochs=0, label_column=TAGS)


def test_multi_label_dataset_in_another_label_order_is_matched_by_name():
    model = bert()
    texts, sets = TRAIN
    order = ["tech", "sports", "money"]
    data = TextDataset(texts, targets(sets, order).astype(int), order)
    valid = TextDataset(VALID[0], targets(VALID[1], order).astype(int), order)
    history = tune(model, data, validation_data=valid, epochs=2, freeze_epochs=0)
    probs = model.predict(np.array(VALID[0]), verbose=0)  # columns in the model's order
    assert history.thresholds == tasks.tune_thresholds(probs, targets(VALID[1]))


def test_multi_label_data_without_any_label_is_refused():
    model = bert()
    with pytest.raises(SingleClassError, match="none of its 4 texts has any label"):
        tune(model, (["a", "b", "c", "d"], [[], [], [], []]), epochs=1, freeze_epochs=0)


def test_multi_label_data_with_one_label_set_for_all_is_refused():
    model = bert()
    with pytest.raises(SingleClassError, match=r"all 4 texts have the same labels, \['tech'\]"):
        tune(model, (["a", "b", "c", "d"], [["tech"]] * 4), epochs=1, freeze_epochs=0)


def test_labels_never_or_always_present_are_named_in_a_warning():
    model = bert()
    texts = ["football stocks", "football", "football chip", "football today"]
    sets = [["sports", "money"], ["sports"], ["sports"], ["sports"]]
    with pytest.warns(UserWarning) as caught:
        tune(model, (texts, sets), epochs=1, freeze_epochs=0)
    message = " ".join(str(w.message) for w in caught)
    assert "no text has ['tech']" in message
    assert "every text has ['sports']" in message


def test_complete_label_sets_do_not_warn():
    model = bert()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        tune(model, epochs=1, freeze_epochs=0)


def test_multi_label_class_weight_is_refused_with_what_to_do():
    model = bert()
    with pytest.raises(ValueError, match="class_weight.*multi-label.*validation_data"):
        tune(model, epochs=1, class_weight="balanced")
    with pytest.raises(ValueError, match="class_weight"):
        tune(model, epochs=1, class_weight={"tech": 2.0})


def test_multi_label_monitor_names():
    model = bert()
    with pytest.raises(ValueError, match="not accuracy"):
        tune(model, validation_data=VALID, epochs=1, monitor="val_accuracy")
    with pytest.raises(ValueError, match="val_ metrics need validation_data"):
        tune(model, epochs=1, monitor="val_micro_f1")
    history = tune(model, epochs=2, freeze_epochs=0, monitor="micro_f1")
    assert history.monitor == "micro_f1" and history.best_epoch is not None


def test_label_delimiter_needs_a_multi_label_model():
    model = bert(labels=["neg", "pos"], multi_label=False)
    with pytest.raises(ValueError, match="label_delimiter"):
        tune(model, (["a", "b"], ["neg", "pos"]), label_delimiter="|")


def test_scratch_multi_label_learns():
    model = textzoo.load(
        "scratch-tiny",
        labels=TAGS,
        multi_label=True,
        vocabulary_size=64,
        embedding_dim=8,
        hidden_units=8,
    )
    history = tune(model, validation_data=VALID, epochs=12, learning_rate=2e-2)
    assert [r["phase"] for r in history.epochs] == ["full"] * 12
    losses = [r["loss"] for r in history.epochs]
    assert losses[-1] < losses[0], losses
    probs = model.predict(np.array(VALID[0]), verbose=0)
    assert model.task.thresholds == tasks.tune_thresholds(probs, targets(VALID[1]))


# ---------------------------------------------------------------- text pairs


def pair_task(n: int = 32):
    """Pairs ``(a, b)`` whose label says which text has which word: order matters.

    Label 1 ("first") for ``("football ...", "... stocks")``, 0 ("second") for
    ``("stocks ...", "... football")``. Pairs come in twins with the same words and
    opposite labels, so a model that read the two texts as one bag of words, or
    without knowing which text is which, could not tell them apart.
    """
    a, b, y = [], [], []
    for i in range(n):
        first = i % 2 == 0
        x, z = ("football", "stocks") if first else ("stocks", "football")
        a.append(f"{x} {FILLER[(i // 2) % 4]}")
        b.append(f"{FILLER[(i // 8) % 4]} {z}")
        y.append(int(first))
    return a, b, y


def pair_probabilities(model, a, b):
    tok = preprocessing.tokenize(model, a, text_pairs=b)
    return inference.probabilities(model, tok, 64)


def test_pairs_finetune_learns_a_task_only_pairs_solve():
    model = bert(labels=["second", "first"], multi_label=False)
    a, b, y = pair_task(32)
    history = tune(
        model,
        ((a, b), y),
        validation_data=((a[:16], b[:16]), y[:16]),
        epochs=10,
        freeze_epochs=1,
        learning_rate=1e-2,
        warmup_ratio=0.0,
    )
    assert [r["phase"] for r in history.epochs] == ["frozen"] + ["full"] * 9
    assert model.task == Task(text_pair=True)
    assert history.thresholds is None
    losses = [r["loss"] for r in history.epochs]
    assert losses[-1] < losses[1], losses
    predicted = pair_probabilities(model, a, b).argmax(axis=1)
    assert (predicted == np.array(y)).mean() >= 0.9, losses
    assert history.epochs[-1]["val_accuracy"] >= 0.9


def test_pair_order_reaches_the_model():
    """(a, b) and (b, a) are different inputs: the segments are packed in order."""
    model = bert(labels=["second", "first"], multi_label=False)
    a, b = ["football stocks"], ["chip peace"]
    ab = preprocessing.tokenize(model, a, text_pairs=b)
    ba = preprocessing.tokenize(model, b, text_pairs=a)
    assert not np.array_equal(
        ab.features["segment_ids"].to_list(), ba.features["segment_ids"].to_list()
    ) or not np.array_equal(ab.features["token_ids"].to_list(), ba.features["token_ids"].to_list())
    assert not np.allclose(pair_probabilities(model, a, b), pair_probabilities(model, b, a))


def test_pairs_from_rows_dataset_and_dataframe():
    a, b, y = pair_task(16)
    model = bert(labels=["second", "first"], multi_label=False)
    tune(model, (list(zip(a, b, strict=True)), y), epochs=1, freeze_epochs=1)
    assert model.task.text_pair
    data = TextDataset(a, y, ["second", "first"], text_pairs=b)
    tune(model, data, validation_data=data, epochs=1, freeze_epochs=1, cache_features=False)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"premise": a, "hypothesis": b, "label": y})
    tune(
        model,
        frame,
        epochs=1,
        freeze_epochs=0,
        text_column="premise",
        text_pair_column="hypothesis",
    )
    assert model.task.text_pair


def test_multi_label_pairs():
    """Multi-label on pairs: the frozen feature cache and the buckets carry both."""
    model = bert()
    texts, sets = TRAIN
    seconds = [FILLER[i % 4] for i in range(len(texts))]
    history = tune(
        model,
        ((texts, seconds), sets),
        validation_data=((VALID[0], VALID[0]), VALID[1]),
        epochs=2,
        freeze_epochs=1,
    )
    assert model.task == Task(multi_label=True, text_pair=True, thresholds=history.thresholds)
    tok = preprocessing.tokenize(model, VALID[0], text_pairs=VALID[0])
    probs = inference.probabilities(model, tok, 64)
    assert history.thresholds == tasks.tune_thresholds(probs, targets(VALID[1]))


def test_pairs_and_single_texts_are_not_mixed():
    a, b, y = pair_task(8)
    model = bert(labels=["second", "first"], multi_label=False)
    with pytest.raises(ValueError, match="train holds text pairs but validation_data"):
        tune(model, ((a, b), y), validation_data=(a, y), epochs=1)
    tune(model, ((a, b), y), epochs=1, freeze_epochs=0)
    with pytest.raises(ValueError, match="trained on text pairs.*single texts"):
        tune(model, (a, y), epochs=1)


def test_pair_model_survives_keras_save(tmp_path):
    a, b, y = pair_task(8)
    model = bert(labels=["second", "first"], multi_label=False)
    tune(model, ((a, b), y), epochs=1, freeze_epochs=0)
    model.save(tmp_path / "pairs.keras")
    restored = keras.saving.load_model(tmp_path / "pairs.keras")
    assert restored.task == Task(text_pair=True)
    np.testing.assert_allclose(
        pair_probabilities(restored, a, b), pair_probabilities(model, a, b), atol=1e-6
    )


# ---------------------------------------------------------------- truncation


def test_truncation_is_used_for_training_and_stored():
    model = bert(labels=["neg", "pos"], multi_label=False)
    assert model.task.truncation == "head"
    # the label is in the last word of long texts: only the tail sees it
    filler = " ".join(["news"] * 30)
    texts = [f"{filler} football", f"{filler} stocks"] * 8
    labels = ["pos", "neg"] * 8
    tune(model, (texts, labels), epochs=1, freeze_epochs=0, truncation="tail")
    assert model.task.truncation == "tail"
    tune(model, (texts, labels), epochs=1, freeze_epochs=0)  # None: the model's, kept
    assert model.task.truncation == "tail"
    tune(model, (texts, labels), epochs=1, freeze_epochs=0, truncation="head+tail")
    assert model.task.truncation == "head+tail"


def test_truncation_tail_tokenizes_the_end():
    model = bert(labels=["neg", "pos"], multi_label=False)
    filler = " ".join(["news"] * 30)
    head = preprocessing.tokenize(model, [f"{filler} football"], truncation="head")
    tail = preprocessing.tokenize(model, [f"{filler} football"], truncation="tail")
    vocab = model.preprocessor.tokenizer.token_to_id
    football = vocab("football")
    assert football in tail.features["token_ids"].to_list()[0]
    assert football not in head.features["token_ids"].to_list()[0]


def test_bad_truncation_is_refused():
    model = bert(labels=["neg", "pos"], multi_label=False)
    with pytest.raises(ValueError, match="truncation.*'head\\+tail'"):
        tune(model, (["a", "b"], ["neg", "pos"]), truncation="middle")


def test_multi_label_pairs_under_xla():
    """jit_compile=True pads each batch to its bucket: 0/1 targets and pairs go along."""
    model = bert()
    seconds = [FILLER[i % 4] for i in range(len(TRAIN[0]))]
    history = tune(
        model,
        ((TRAIN[0], seconds), TRAIN[1]),
        validation_data=((VALID[0], VALID[0]), VALID[1]),
        epochs=1,
        freeze_epochs=0,
        jit_compile=True,
    )
    assert history.settings["jit_compile"] is True
    assert np.isfinite(history.epochs[0]["loss"])
    tok = preprocessing.tokenize(model, VALID[0], text_pairs=VALID[0])
    probs = inference.probabilities(model, tok, 64)
    assert history.thresholds == tasks.tune_thresholds(probs, targets(VALID[1]))
