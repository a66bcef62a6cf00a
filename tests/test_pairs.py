"""Sentence pairs in the fast pipeline: two segments, round-robin trimming, scratch's join."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from helpers import TINY_VOCAB, tiny_model

import tfx_textzoo as textzoo
from tfx_textzoo import preprocessing
from tfx_textzoo.errors import InvalidArgumentError
from tfx_textzoo.families.scratch import SEPARATOR, ScratchPreprocessor

V = {token: i for i, token in enumerate(TINY_VOCAB)}
CLS, SEP = V["[CLS]"], V["[SEP]"]


def ids(text: str) -> list[int]:
    return [V[w] for w in text.split()]


@pytest.fixture(scope="module")
def bert():
    return tiny_model("bert-tiny", num_classes=2, sequence_length=12)


def test_a_pair_is_two_segments(bert):
    tok = preprocessing.tokenize(
        bert, ["the team won", "stocks"], [1, 0], text_pairs=["the final", "a new chip"]
    )
    assert tok.features["token_ids"].to_list() == [
        [CLS, *ids("the team won"), SEP, *ids("the final"), SEP],
        [CLS, V["stocks"], SEP, *ids("a new chip"), SEP],
    ]
    assert tok.features["segment_ids"].to_list() == [
        [0, 0, 0, 0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1, 1, 1],
    ]
    assert tok.features["padding_mask"].to_list() == [[True] * 8, [True] * 7]
    assert tok.lengths.tolist() == [8, 7] and tok.labels.tolist() == [1, 0]
    assert tok.num_truncated == 0


def test_a_long_pair_is_trimmed_round_robin(bert):
    # sequence_length 12 - [CLS] [SEP] [SEP] = 9 tokens for both texts together
    a = "the team won stocks on friday new chip"  # 8
    b = "final peace a of the"  # 5
    tok = preprocessing.tokenize(
        bert, [a, "the", a, "the team"], text_pairs=[b, a + " final", "team", b]
    )
    # round robin: a token of each text in turn while both have some left
    assert (
        tok.features["token_ids"].to_list()
        == [
            [CLS, *ids(a)[:5], SEP, *ids(b)[:4], SEP],  # 5 + 4
            [CLS, V["the"], SEP, *ids(a)[:8], SEP],  # 1 + 8 (the short text keeps all)
            [CLS, *ids(a), SEP, V["team"], SEP],  # fits: 8 + 1
            [CLS, *ids("the team"), SEP, *ids(b), SEP],  # fits: 2 + 5
        ]
    )
    assert tok.features["segment_ids"].to_list()[0] == [0] * 7 + [1] * 5
    assert tok.num_truncated == 2
    same = bert.preprocessor(x=(tf.constant([a]), tf.constant([b])))["token_ids"].numpy()[0]
    assert same.tolist() == tok.features["token_ids"].to_list()[0]


def test_pairs_refuse_other_truncations_and_misaligned_texts(bert):
    with pytest.raises(InvalidArgumentError, match="'head' for text pairs.*round robin"):
        preprocessing.tokenize(bert, ["the"], text_pairs=["team"], truncation="tail")
    model = tiny_model("bert-tiny", num_classes=2)
    model.task = model.task.replace(truncation="head+tail")
    with pytest.raises(InvalidArgumentError, match="model.task.truncation must be 'head'"):
        preprocessing.tokenize(model, ["the"], text_pairs=["team"])
    with pytest.raises(InvalidArgumentError, match="text_pairs must be one second text"):
        preprocessing.tokenize(bert, ["the", "team"], text_pairs=["won"])


def test_scratch_pairs_are_joined_by_a_separator_the_vocabulary_learns():
    # "[SEP]" would not survive: lower_and_strip_punctuation makes it the word "sep"
    plain = ScratchPreprocessor(vocabulary_size=20, sequence_length=4)
    plain.adapt(["[SEP] sep"])
    assert [str(t) for t in plain.vectorizer.get_vocabulary()] == ["", "[UNK]", "sep"]

    model = textzoo.load("scratch-tiny", num_classes=2, weights=None, sequence_length=6)
    model.prepare_tokenizer(["the cat sat the cat the"], ["a dog"])
    vocabulary = [str(t) for t in model.preprocessor.vectorizer.get_vocabulary()]
    # counts: the 3, cat 2, then sat / a / dog / xxsep once each (ties in some order)
    assert vocabulary[:4] == ["", "[UNK]", "the", "cat"]
    assert sorted(vocabulary[4:]) == sorted(["sat", "a", "dog", SEPARATOR])
    v = {token: i for i, token in enumerate(vocabulary)}
    tok = preprocessing.tokenize(
        model, ["the cat", "the cat sat the cat"], text_pairs=["a dog", "dog dog cat"]
    )
    assert tok.features["token_ids"].to_list() == [
        [v["the"], v["cat"], v[SEPARATOR], v["a"], v["dog"]],
        # 5 + 3 tokens for 6 - 1 places, round robin: 3 + 2
        [v["the"], v["cat"], v["sat"], v[SEPARATOR], v["dog"], v["dog"]],
    ]
    assert tok.num_truncated == 1
    direct = model.preprocessor(x=(tf.constant(["the cat"]), tf.constant(["a dog"])))
    assert direct.numpy().tolist() == [[v["the"], v["cat"], v[SEPARATOR], v["a"], v["dog"], 0]]
    predictions = model(
        model.preprocessor(x=(tf.constant(["the cat"]), tf.constant(["a dog"])))
    ).numpy()
    assert predictions.shape == (1, 2) and np.isfinite(predictions).all()


def test_scratch_pairs_need_the_separator_in_the_vocabulary():
    model = textzoo.load("scratch-tiny", num_classes=2, weights=None, sequence_length=6)
    model.prepare_tokenizer(["the cat", "a dog"])  # single texts: no separator learned
    with pytest.raises(ValueError, match="no pair separator.*text_pairs"):
        preprocessing.tokenize(model, ["the"], text_pairs=["cat"])
    full = ScratchPreprocessor(vocabulary_size=4, sequence_length=4)
    full.adapt(["b b b c a"], text_pairs=["c"])  # the separator is rarer than b and c
    assert [str(t) for t in full.vectorizer.get_vocabulary()] == ["", "[UNK]", "b", SEPARATOR]
