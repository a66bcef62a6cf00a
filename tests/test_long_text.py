"""Long texts: head / tail / head+tail truncation, overlapping windows, aggregation.

Expectations are written by hand from the tiny BERT vocabulary (helpers.TINY_VOCAB):
with ``sequence_length=8`` a text keeps 6 of its own tokens ([CLS] and [SEP] take 2).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from helpers import TEXTS, TINY_VOCAB, tiny_model, tiny_overrides

import tfx_textzoo as textzoo
from tfx_textzoo import inference, preprocessing
from tfx_textzoo.errors import InvalidArgumentError

WORDS = "the team won stocks on friday new chip final peace".split()  # 10 tokens
LONG = " ".join(WORDS)
IDS = [TINY_VOCAB.index(w) for w in WORDS]
CLS, SEP = TINY_VOCAB.index("[CLS]"), TINY_VOCAB.index("[SEP]")


@pytest.fixture(scope="module")
def bert():
    return tiny_model("bert-tiny", num_classes=3, sequence_length=8)


def rows(tok):
    return tok.features["token_ids"].to_list()


def test_truncation_keeps_the_head_the_tail_or_both(bert):
    texts = [LONG, "the team"]
    short = [CLS, IDS[0], IDS[1], SEP]
    expected = {
        "head": IDS[:6],  # the first 6
        "tail": IDS[-6:],  # the last 6
        "head+tail": IDS[:2] + IDS[-4:],  # head_tail_split(6) == (2, 4)
    }
    assert textzoo.tasks.head_tail_split(6) == (2, 4)
    for truncation, kept in expected.items():
        tok = preprocessing.tokenize(bert, texts, truncation=truncation)
        assert rows(tok) == [[CLS, *kept, SEP], short], truncation
        assert tok.num_truncated == 1 and tok.lengths.tolist() == [8, 4]
        segment_ids = tok.features["segment_ids"].to_list()
        assert segment_ids == [[0] * 8, [0] * 4]


def test_head_is_what_the_preprocessor_gives(bert):
    tok = preprocessing.tokenize(bert, [LONG, "the team"], truncation="head")
    dense = bert.preprocessor(np.array([LONG, "the team"]))
    mask = dense["padding_mask"].numpy()
    assert [row[m].tolist() for row, m in zip(dense["token_ids"].numpy(), mask, strict=True)] == (
        rows(tok)
    )


def test_truncation_none_reads_the_models_task():
    model = tiny_model("bert-tiny", num_classes=3, sequence_length=8)
    model.task = model.task.replace(truncation="tail")
    assert rows(preprocessing.tokenize(model, [LONG])) == [[CLS, *IDS[-6:], SEP]]
    with pytest.raises(InvalidArgumentError, match="truncation must be 'head' or 'tail'"):
        preprocessing.tokenize(model, [LONG], truncation="middle")


def test_windows_by_hand(bert):
    # budget 6; 10 tokens; stride 3 (the default, 6 // 2): starts 0, 3, then 4 = 10 - 6
    tok = preprocessing.tokenize_windows(bert, [LONG, "the team", " ".join(WORDS[:7])], [2, 0, 1])
    assert (
        rows(tok)
        == [
            [CLS, *IDS[0:6], SEP],
            [CLS, *IDS[3:9], SEP],
            [CLS, *IDS[4:10], SEP],
            [CLS, IDS[0], IDS[1], SEP],
            [CLS, *IDS[0:6], SEP],  # 7 tokens: starts 0 and 1 = 7 - 6
            [CLS, *IDS[1:7], SEP],
        ]
    )
    assert tok.documents.tolist() == [0, 0, 0, 1, 2, 2]
    assert tok.labels.tolist() == [2, 2, 2, 0, 1, 1]
    assert tok.num_truncated == 2 and len(tok) == 6
    starts = {
        1: [0, 1, 2, 3, 4],
        2: [0, 2, 4],
        4: [0, 4],
        5: [0, 4],
        6: [0, 4],
    }
    for stride, expected in starts.items():
        tok = preprocessing.tokenize_windows(bert, [LONG], stride=stride)
        assert rows(tok) == [[CLS, *IDS[s : s + 6], SEP] for s in expected], stride
    exact = preprocessing.tokenize_windows(bert, [" ".join(WORDS[:6]), ""], stride=1)
    assert rows(exact) == [[CLS, *IDS[:6], SEP], [CLS, SEP]]  # a text that fits: one window


def reference_windows(length: int, budget: int, stride: int) -> list[tuple[int, int]]:
    """Windows as a loop: step by stride, the last one moved back to end at the text's end."""
    windows, start = [], 0
    while True:
        windows.append((start, min(start + budget, length)))
        if start + budget >= length:
            return windows
        start = min(start + stride, length - budget)


def test_windows_cover_every_token_and_match_a_loop(bert):
    rng = np.random.default_rng(1)
    lengths = rng.integers(0, 30, size=25)
    texts = [" ".join(rng.choice(WORDS, size=n)) for n in lengths]
    raw = [[TINY_VOCAB.index(w) for w in t.split()] for t in texts]
    for stride in (1, 2, 5, 6):
        tok = preprocessing.tokenize_windows(bert, texts, stride=stride, batch_size=4)
        expected, documents = [], []
        for d, ids in enumerate(raw):
            spans = reference_windows(len(ids), 6, stride)
            covered = set().union(*(range(a, b) for a, b in spans))
            assert covered == set(range(len(ids)))
            expected += [[CLS, *ids[a:b], SEP] for a, b in spans]
            documents += [d] * len(spans)
        assert rows(tok) == expected
        assert tok.documents.tolist() == documents
        assert tok.num_truncated == int((lengths > 6).sum())


def test_windows_run_in_length_sorted_batches_and_graph_windows_agree(bert):
    texts = [LONG * 2, "the team", LONG]
    tok = preprocessing.tokenize_windows(bert, texts, stride=4)
    count = lambda x: tf.reduce_sum(tf.cast(x["padding_mask"], "int32"), axis=1)  # noqa: E731
    np.testing.assert_array_equal(preprocessing.run_sorted(count, tok, 2), tok.lengths)
    probs = inference.probabilities(bert, tok, batch_size=2)
    features, documents = preprocessing.window_features(bert, tf.constant(texts), stride=4)
    assert documents.numpy().tolist() == tok.documents.tolist()
    np.testing.assert_array_equal(
        features["token_ids"].numpy(), tok.features["token_ids"].to_tensor(shape=[len(tok), 8])
    )
    dense = bert(features, training=False).numpy()
    np.testing.assert_allclose(probs, dense, rtol=1e-5, atol=1e-6)
    cut = preprocessing.truncated_features(bert, tf.constant(texts), "head+tail")
    tok = preprocessing.tokenize(bert, texts, truncation="head+tail")
    np.testing.assert_array_equal(
        cut["token_ids"].numpy(), tok.features["token_ids"].to_tensor(shape=[3, 8])
    )


def test_stride_is_checked(bert):
    for stride in (0, 7, 2.5):
        with pytest.raises(InvalidArgumentError, match="stride must be"):
            preprocessing.tokenize_windows(bert, [LONG], stride=stride)


def test_aggregate_mean_and_max_by_hand():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.5, 0.25, 0.25]])
    documents = np.array([0, 0, 2, 1])
    mean = inference.aggregate(probs, documents, 3)
    np.testing.assert_allclose(mean, [[0.4, 0.25, 0.35], [0.5, 0.25, 0.25], [0.2, 0.5, 0.3]])
    maxima = inference.aggregate(probs, documents, 3, "max", multi_label=False)
    np.testing.assert_allclose(
        maxima, [[0.7 / 1.6, 0.3 / 1.6, 0.6 / 1.6], [0.5, 0.25, 0.25], [0.2, 0.5, 0.3]]
    )
    np.testing.assert_allclose(maxima.sum(axis=1), 1.0)
    sigmoid = np.array([[0.9, 0.1], [0.2, 0.4], [0.3, 0.3]])
    np.testing.assert_allclose(
        inference.aggregate(sigmoid, np.array([0, 0, 1]), 2, "max", multi_label=True),
        [[0.9, 0.4], [0.3, 0.3]],
    )


def test_aggregate_refuses_what_it_cannot_do():
    probs = np.full((2, 2), 0.5)
    with pytest.raises(InvalidArgumentError, match="multi_label"):
        inference.aggregate(probs, np.array([0, 1]), 2, "max")
    with pytest.raises(InvalidArgumentError, match="aggregate must be"):
        inference.aggregate(probs, np.array([0, 1]), 2, "median")
    with pytest.raises(InvalidArgumentError, match="no window for documents \\[1\\]"):
        inference.aggregate(probs, np.array([0, 2]), 3)
    with pytest.raises(InvalidArgumentError, match="one document index per row"):
        inference.aggregate(probs, np.array([0]), 1)


# The token budget of a 16-token model for one text and for a pair, by hand from each
# family's packing: [CLS] a [SEP] (b [SEP]); <s> a </s>(</s> b </s>); scratch: a (xxsep b).
BUDGETS = {
    "albert-base-v2": (14, 13),
    "bert-tiny": (14, 13),
    "deberta-v3-small": (14, 13),
    "distilbert-base-cased": (14, 13),
    "electra-small": (14, 13),
    "roberta-base": (14, 12),
    "xlm-roberta-base": (14, 12),
    "scratch-tiny": (16, 15),
}
# Texts with what DistilBERT's preprocessor cleans (U+00A0, U+200B) before its tokenizer.
ODD = ["the team\u00a0won", "stocks on\u200bfriday", "the  final", ""]


@pytest.mark.parametrize(
    "name",
    [  # make test: BERT and scratch; the other families are `slow` (CI runs them)
        n if n in ("bert-tiny", "scratch-tiny") else pytest.param(n, marks=pytest.mark.slow)
        for n in sorted(BUDGETS)
    ],
)
def test_every_family_splits_its_preprocessor_exactly(name):
    pairs = list(reversed(TEXTS))
    if name.startswith("scratch"):  # learns its vocabulary, with the pair separator
        model = textzoo.load(
            name, num_classes=2, weights=None, sequence_length=16, **tiny_overrides("scratch")
        )
        model.prepare_tokenizer(TEXTS, pairs)
    else:
        model = tiny_model(name, num_classes=2)
    assert (preprocessing.token_budget(model), preprocessing.token_budget(model, 2)) == (
        BUDGETS[name]
    )
    long = " ".join(TEXTS)  # more than 16 tokens in every family
    texts = [*TEXTS, *ODD, long]

    def masked(out, n):
        out = out if isinstance(out, dict) else {"token_ids": out}
        ids = out["token_ids"].numpy()
        mask = out["padding_mask"].numpy() if "padding_mask" in out else ids != 0
        return {k: [v.numpy()[i][mask[i]].tolist() for i in range(n)] for k, v in out.items()}

    tok = preprocessing.tokenize(model, texts)
    expected = masked(model.preprocessor(tf.constant(texts)), len(texts))
    assert {k: v.to_list() for k, v in tok.features.items()} == expected
    raw = tf.function(model.text_token_ids)(tf.constant(texts)).row_lengths().numpy()
    assert raw[-1] > BUDGETS[name][0]
    assert tok.num_truncated == int((raw > BUDGETS[name][0]).sum())
    pair_tok = preprocessing.tokenize(model, TEXTS + [long], text_pairs=pairs + [long])
    pair_expected = masked(
        model.preprocessor(x=(tf.constant(TEXTS + [long]), tf.constant(pairs + [long]))), 5
    )
    assert {k: v.to_list() for k, v in pair_tok.features.items()} == pair_expected
    windows = preprocessing.tokenize_windows(model, texts)
    first = [int(np.flatnonzero(windows.documents == d)[0]) for d in range(len(texts))]
    head = {k: [v.to_list()[i] for i in first] for k, v in windows.features.items()}
    assert head == expected  # the first window of every text is its head
    assert windows.documents.tolist().count(len(texts) - 1) > 1
