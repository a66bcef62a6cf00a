"""predict / evaluate for multi-label models, text pairs and long texts, on tiny models.

Every expectation is computed independently: decisions by a numpy threshold of the
probabilities, pairs by the preprocessor packing the two texts itself, windows by
running each window through the model and averaging with numpy, metrics by sklearn.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfx_textzoo as textzoo
from tfx_textzoo import evaluation, inference, preprocessing
from tfx_textzoo.evaluation import Prediction

NAMES = ["sport", "money", "politics", "tech"]
# Tiny models; mean pooling so that every token moves the output (a random [CLS] barely does).
TINY = {
    "weights": None,
    "num_layers": 1,
    "hidden_dim": 16,
    "num_heads": 2,
    "intermediate_dim": 32,
    "pooling": "mean",
}
RNG = np.random.default_rng(7)
WORDS = "the team won stocks on friday new chip final peace a of minister club".split()
# Pairs of these fit in 16 tokens with their 3 special tokens (no pair truncation).
TEXTS = [" ".join(RNG.choice(WORDS, size=int(k))) for k in RNG.integers(1, 7, size=24)]
SECONDS = [" ".join(RNG.choice(WORDS, size=int(k))) for k in RNG.integers(1, 7, size=24)]
# Long enough for several 16-token windows each, and one short text among them.
LONG = [" ".join(RNG.choice(WORDS, size=int(k))) for k in (40, 3, 70, 25)]


def sharpen(model, scale=3.0):
    """A random head of some scale: distinct probabilities, not saturated at 0 or 1."""
    kernel = model.output_dense.kernel
    kernel.assign(np.random.default_rng(0).normal(0, scale, kernel.shape))
    return model


@pytest.fixture(scope="module")
def tagger():
    keras.utils.set_random_seed(3)
    model = sharpen(
        textzoo.load("bert-tiny", labels=NAMES, multi_label=True, sequence_length=16, **TINY),
    )
    # thresholds at each label's median probability: about half the texts get each label
    probs = model.predict(np.array(TEXTS), verbose=0)
    medians = np.clip(np.median(probs, axis=0), 0.01, 0.99)
    model.task = model.task.replace(thresholds=tuple(float(m) for m in medians))
    return model


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(4)
    return sharpen(textzoo.load("bert-tiny", labels=["no", "yes"], sequence_length=16, **TINY))


def reference_probs(model, firsts, seconds=None):
    """Probabilities without the length-sorted pipeline: the preprocessor, then the graph.

    Pairs go in as ``x=(firsts, seconds)``: the preprocessor packs them as two segments
    (a positional tuple would be read as ``(x, y)``). Texts here are short enough that
    no pair is truncated.
    """
    x = tf.constant(firsts) if seconds is None else (tf.constant(firsts), tf.constant(seconds))
    return np.asarray(inference.core_model(model)(model.preprocessor(x=x), training=False))


# --- multi-label -------------------------------------------------------------------


def test_multi_label_predict_is_the_threshold_of_predict_proba(tagger):
    probs = evaluation.predict_proba(tagger, TEXTS, batch_size=5)
    np.testing.assert_allclose(probs, reference_probs(tagger, TEXTS), atol=1e-5)
    assert not np.allclose(probs.sum(axis=1), 1.0)  # sigmoid: independent per label
    thresholds = np.array(tagger.task.thresholds)
    expected = [[NAMES[j] for j in range(4) if row[j] >= thresholds[j]] for row in probs]
    got = textzoo.predict(tagger, TEXTS, batch_size=5)
    assert got == expected
    assert any(len(row) == 0 for row in got) or any(len(row) > 1 for row in got)
    assert len({tuple(row) for row in got}) > 2  # the thresholds make real decisions
    assert textzoo.predict(tagger, TEXTS[3]) == expected[3]


def test_multi_label_return_proba_lists_every_label_most_likely_first(tagger):
    probs = evaluation.predict_proba(tagger, TEXTS[:5])
    full = textzoo.predict(tagger, TEXTS[:5], return_proba=True)
    for row, p in zip(full, probs, strict=True):
        assert all(isinstance(x, Prediction) for x in row)
        assert [x.label for x in row] == [NAMES[j] for j in np.argsort(-p, kind="stable")]
        np.testing.assert_allclose([x.score for x in row], np.sort(p)[::-1], atol=1e-6)
    top2 = textzoo.predict(tagger, TEXTS[:5], return_proba=True, top_k=2)
    assert [row[:2] for row in full] == top2
    names2 = textzoo.predict(tagger, TEXTS[:5], top_k=2)
    assert names2 == [[x.label for x in row] for row in top2]


def test_thresholds_changed_after_training_change_the_decisions(tagger):
    probs = evaluation.predict_proba(tagger, TEXTS)
    saved = tagger.task
    try:
        tagger.task = saved.replace(thresholds=(0.01, 0.99, 0.01, 0.99))
        got = textzoo.predict(tagger, TEXTS)
        expected = [
            [n for n, p, t in zip(NAMES, row, (0.01, 0.99, 0.01, 0.99), strict=True) if p >= t]
            for row in probs
        ]
        assert got == expected
    finally:
        tagger.task = saved


def test_evaluate_multi_label_matches_sklearn_on_the_decisions(tagger):
    from sklearn import metrics

    label_sets = [[NAMES[(i + j) % 4] for j in range(i % 3)] for i in range(len(TEXTS))]
    assert [] in label_sets  # texts without any label are allowed
    report = textzoo.evaluate(tagger, (TEXTS, label_sets))
    truth = np.array([[name in s for name in NAMES] for s in label_sets], dtype=int)
    probs = reference_probs(tagger, TEXTS)
    decided = (probs >= np.array(tagger.task.thresholds)).astype(int)
    assert report.task == "multi_label"
    assert report.thresholds == pytest.approx(list(tagger.task.thresholds))
    np.testing.assert_array_equal(report.labels, truth)
    np.testing.assert_allclose(report.probabilities, probs, atol=1e-5)
    assert report.micro_f1 == pytest.approx(metrics.f1_score(truth, decided, average="micro"))
    assert report.macro_f1 == pytest.approx(
        metrics.f1_score(truth, decided, average="macro", zero_division=0)
    )
    assert report.hamming_loss == pytest.approx((truth != decided).mean())
    assert report.subset_accuracy == pytest.approx((truth == decided).all(axis=1).mean())
    assert report.per_class["money"]["support"] == truth[:, 1].sum()
    assert report.num_long_texts == 0 and report.long_text == "truncate"
    worst = report.errors(k=3)
    wrong = (truth != decided).sum(axis=1)
    assert [e["num_wrong"] for e in worst] == sorted(wrong, reverse=True)[:3]
    assert all(e["text"] == TEXTS[e["index"]] for e in worst)


def test_evaluate_multi_label_dataframe_with_a_delimited_label_column(tagger):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {"body": TEXTS[:6], "tags": ["sport|money", "", "tech", "politics|tech", "money", ""]}
    )
    report = textzoo.evaluate(
        tagger, frame, text_column="body", label_column="tags", label_delimiter="|"
    )
    assert report.num_examples == 6
    assert {n: m["support"] for n, m in report.per_class.items()} == {
        "sport": 1,
        "money": 2,
        "politics": 1,
        "tech": 2,
    }
    # the same labels as one 0/1 column per label (in another order than the model's)
    for name in reversed(NAMES):
        frame[name] = [int(name in tags.split("|")) for tags in frame["tags"]]
    by_columns = textzoo.evaluate(
        tagger, frame, text_column="body", label_column=list(reversed(NAMES))
    )
    np.testing.assert_array_equal(by_columns.labels, report.labels)
    assert by_columns.per_class == report.per_class


# --- pairs -------------------------------------------------------------------------


def test_pairs_go_through_predict_in_every_form(classifier):
    pairs = list(zip(TEXTS, SECONDS, strict=True))
    expected = reference_probs(classifier, TEXTS, SECONDS)
    alone = reference_probs(classifier, TEXTS)
    assert np.abs(expected - alone).max() > 1e-3  # the second text changes the result
    np.testing.assert_allclose(
        evaluation.predict_proba(classifier, pairs, batch_size=4), expected, atol=1e-5
    )
    np.testing.assert_allclose(
        evaluation.predict_proba(classifier, TEXTS, text_pair=SECONDS), expected, atol=1e-5
    )
    names = ["no", "yes"]
    assert textzoo.predict(classifier, pairs) == [names[i] for i in expected.argmax(1)]
    one = textzoo.predict(classifier, TEXTS[2], text_pair=SECONDS[2], return_proba=True)
    assert one[0].score == pytest.approx(expected[2].max(), abs=1e-5)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"premise": TEXTS, "hypothesis": SECONDS})
    from_frame = evaluation.predict_proba(
        classifier, frame, text_column="premise", text_pair_column="hypothesis"
    )
    np.testing.assert_allclose(from_frame, expected, atol=1e-5)


def test_a_pair_model_refuses_single_texts_and_says_how_to_pass_pairs(classifier):
    saved = classifier.task
    classifier.task = saved.replace(text_pair=True)
    try:
        with pytest.raises(ValueError, match=r"fine-tuned on text pairs.*text_pair=") as info:
            textzoo.predict(classifier, TEXTS[:2])
        assert "text_pair_column=" in str(info.value)
        with pytest.raises(ValueError, match="fine-tuned on text pairs"):
            textzoo.evaluate(classifier, (TEXTS[:2], ["no", "yes"]))
        got = textzoo.predict(classifier, list(zip(TEXTS[:2], SECONDS[:2], strict=True)))
        assert len(got) == 2
    finally:
        classifier.task = saved


def test_pair_input_errors(classifier):
    with pytest.raises(ValueError, match="3 first texts but 2 second texts"):
        textzoo.predict(classifier, TEXTS[:3], text_pair=SECONDS[:2])
    with pytest.raises(ValueError, match="text_pair must be None when texts already holds"):
        textzoo.predict(classifier, [("a", "b")], text_pair=["c"])
    with pytest.raises(ValueError, match=r"long_text must be .truncate. for pairs"):
        textzoo.predict(classifier, [("a", "b")], long_text="chunks")


def test_evaluate_pairs_from_a_dataframe(classifier):
    pd = pytest.importorskip("pandas")
    labels = ["yes", "no"] * 12
    frame = pd.DataFrame({"a": TEXTS, "b": SECONDS, "label": labels})
    report = textzoo.evaluate(
        classifier, frame, text_column="a", text_pair_column="b", label_column="label"
    )
    expected = reference_probs(classifier, TEXTS, SECONDS)
    np.testing.assert_allclose(report.probabilities, expected, atol=1e-5)
    truth = np.array([["no", "yes"].index(x) for x in labels])
    assert report.accuracy == pytest.approx((expected.argmax(1) == truth).mean())
    for error in report.errors():
        assert error["text_pair"] == SECONDS[error["index"]]


# --- long texts ---------------------------------------------------------------------


def window_probs(model, tok):
    """Each window through the model on its own (no length sorting), in window order."""
    rows = []
    for i in range(len(tok)):
        window = {name: ragged[i : i + 1].to_tensor() for name, ragged in tok.features.items()}
        rows.append(inference.core_model(model)(tok._structure(window), training=False)[0])
    return np.asarray(rows)


@pytest.mark.parametrize("how", ["mean", "max"])
def test_chunks_aggregate_the_window_probabilities(tagger, how):
    tok = preprocessing.tokenize_windows(tagger, LONG, stride=8)
    documents = np.asarray(tok.documents)
    assert np.bincount(documents).tolist()[1] == 1 and np.bincount(documents)[2] > 2
    windows = window_probs(tagger, tok)
    reduce = np.mean if how == "mean" else np.max
    expected = np.stack([reduce(windows[documents == d], axis=0) for d in range(len(LONG))])
    got = evaluation.predict_proba(tagger, LONG, long_text="chunks", aggregate=how, stride=8)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # the short text is one window: the same as reading it whole
    whole = evaluation.predict_proba(tagger, LONG)
    np.testing.assert_allclose(got[1], whole[1], atol=1e-5)
    assert np.abs(got[2] - whole[2]).max() > 1e-4  # a long text reads differently
    decided = textzoo.predict(tagger, LONG, long_text="chunks", aggregate=how, stride=8)
    cut = np.array(tagger.task.thresholds)
    assert decided == [[NAMES[j] for j in range(4) if row[j] >= cut[j]] for row in expected]


def test_evaluate_counts_long_texts_in_both_modes(classifier):
    tokenizer = classifier.preprocessor.tokenizer
    too_long = sum(len(tokenizer(t)) + 2 > 16 for t in LONG)  # [CLS] ... [SEP]
    assert too_long == 3
    labels = ["yes", "no", "yes", "no"]
    truncated = textzoo.evaluate(classifier, (LONG, labels))
    assert truncated.num_long_texts == 3 and truncated.long_text == "truncate"
    chunked = textzoo.evaluate(classifier, (LONG, labels), long_text="chunks", stride=8)
    assert chunked.num_long_texts == 3 and chunked.long_text == "chunks"
    np.testing.assert_allclose(
        chunked.probabilities,
        evaluation.predict_proba(classifier, LONG, long_text="chunks", stride=8),
        atol=1e-6,
    )
    assert chunked.to_dict()["num_long_texts"] == 3
    assert "3 of 4 texts are longer" in chunked.to_markdown()


def test_truncation_argument_is_the_model_task_s_truncation(classifier):
    tail = evaluation.predict_proba(classifier, LONG, truncation="tail")
    head = evaluation.predict_proba(classifier, LONG)
    assert np.abs(tail[2] - head[2]).max() > 1e-4
    np.testing.assert_allclose(tail[1], head[1], atol=1e-6)  # a short text is read whole
    saved = classifier.task
    classifier.task = saved.replace(truncation="tail")
    try:
        np.testing.assert_allclose(evaluation.predict_proba(classifier, LONG), tail, atol=1e-6)
    finally:
        classifier.task = saved


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"long_text": "windows"}, "long_text must be 'truncate' or 'chunks'"),
        ({"aggregate": "median"}, "aggregate must be 'mean' or 'max'"),
        ({"stride": 8}, 'stride must be None with long_text="truncate"'),
        ({"long_text": "chunks", "stride": 0}, "stride must be an int >= 1"),
        ({"long_text": "chunks", "truncation": "tail"}, "truncation must be None"),
        ({"truncation": "middle"}, "truncation must be"),
    ],
)
def test_long_text_setting_errors(classifier, kwargs, match):
    with pytest.raises(ValueError, match=match):
        textzoo.predict(classifier, LONG, **kwargs)


def test_evaluate_multi_label_dataset_with_labels_in_another_order(tagger):
    from tfx_textzoo.datasets import TextDataset

    label_sets = [[NAMES[(2 * i + j) % 4] for j in range(i % 3)] for i in range(len(TEXTS))]
    straight = textzoo.evaluate(tagger, (TEXTS, label_sets))
    shuffled = ["tech", "sport", "politics", "money"]
    matrix = np.array([[name in s for name in shuffled] for s in label_sets], dtype="int32")
    remapped = textzoo.evaluate(tagger, TextDataset(TEXTS, matrix, shuffled, name="shuffled"))
    np.testing.assert_array_equal(remapped.labels, straight.labels)
    assert remapped.per_class == straight.per_class and remapped.micro_f1 == straight.micro_f1
    assert remapped.dataset_name == "shuffled" and remapped.label_names == NAMES
