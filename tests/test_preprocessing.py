"""The fast pipeline: tokenize once, length buckets, dynamic padding, order kept."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TEXTS, tiny_model

from tfx_textzoo import preprocessing
from tfx_textzoo.evaluation import predict_proba

# 40 texts of 1 to ~40 tokens, in a scrambled order.
RNG = np.random.default_rng(0)
LONG = [" ".join(["the team won"] * int(k)) for k in RNG.integers(1, 14, size=40)]
LABELS = np.arange(40) % 4


@pytest.fixture(scope="module")
def model():
    return tiny_model("bert-tiny", sequence_length=32)


def test_tokenize_once_matches_the_preprocessor(model):
    tok = preprocessing.tokenize(model, LONG, LABELS, batch_size=7)
    dense = model.preprocessor(np.array(LONG))
    mask = dense["padding_mask"].numpy()
    np.testing.assert_array_equal(tok.lengths, mask.sum(1))
    for name in ("token_ids", "segment_ids", "padding_mask"):
        np.testing.assert_array_equal(
            tok.features[name].to_tensor(shape=mask.shape).numpy(),
            np.where(mask, dense[name].numpy(), 0),
        )
    assert tok.max_length == 32 and tok.labels.tolist() == LABELS.tolist()


def test_training_batches_cover_every_text_once_per_epoch_and_reshuffle(model):
    tok = preprocessing.tokenize(model, LONG, LABELS)
    dataset = preprocessing.training_dataset(tok, 4, seed=0)
    assert int(dataset.cardinality()) == preprocessing.num_batches(tok, 4) == 10
    bounds = preprocessing.bucket_lengths(32)
    epochs = []
    for _ in range(2):
        seen, order, sizes = [], [], []
        for x, y in dataset:
            ids = x["token_ids"].numpy()
            width = ids.shape[1]
            lengths = x["padding_mask"].numpy().sum(1)
            # padded to the smallest bucket length that holds the batch's longest text
            assert width == min(b for b in bounds if b >= lengths.max()), (width, lengths)
            seen += [tuple(row[row != 0]) for row in ids]
            order += y.numpy().tolist()
            sizes.append(len(ids))
        assert sorted(sizes) == [4] * 10  # 40 texts: every batch full
        epochs.append(order)
        expected = sorted(tuple(r) for r in tok.features["token_ids"].to_list())
        assert sorted(seen) == expected
    assert epochs[0] != epochs[1], "batches must be reshuffled every epoch"
    tight = [
        x["padding_mask"].numpy()
        for x, _ in preprocessing.training_dataset(tok, 4, pad_to_bucket=False, seed=1)
    ]
    total = int(tok.lengths.sum())
    padded = sum(m.size for m in tight)
    # one sorted group of 40: sorted lengths cut into 10 batches of 4, each padded to
    # its longest text, is the least padding any 10 batches of 4 can have
    ranked = np.sort(tok.lengths).reshape(10, 4)
    assert padded == int(ranked.max(1).sum()) * 4
    assert all(m.shape[1] == m.sum(1).max() for m in tight)  # no column of padding only
    assert padded - total <= 0.5 * (40 * 32 - total)


def test_training_batches_of_sorted_groups_keep_every_text_with_its_label(model):
    from collections import Counter

    # groups of 2 batches: 5 groups, sorted inside; the last batch of 3 texts is partial
    tok = preprocessing.tokenize(model, LONG[:39], LABELS[:39])
    batches = list(preprocessing.training_dataset(tok, 4, seed=3, group_batches=2))
    assert len(batches) == preprocessing.num_batches(tok, 4) == 10
    assert sorted(len(y) for _, y in batches) == [3] + [4] * 9
    seen = Counter(
        (tuple(row[row != 0]), int(label))
        for x, y in batches
        for row, label in zip(x["token_ids"].numpy(), y.numpy(), strict=True)
    )
    rows = tok.features["token_ids"].to_list()
    pairs = zip(rows, LABELS[:39], strict=True)
    assert seen == Counter((tuple(r), int(label)) for r, label in pairs)


def test_sorted_dataset_and_predictions_keep_input_order(model):
    tok = preprocessing.tokenize(model, LONG)
    dataset, order = preprocessing.sorted_dataset(tok, 8)
    lengths = np.concatenate([x["padding_mask"].numpy().sum(1) for x in dataset])
    assert lengths.tolist() == sorted(tok.lengths.tolist())
    np.testing.assert_array_equal(tok.lengths[order], lengths)
    fast = predict_proba(model, LONG, batch_size=8)
    slow = model.predict(np.array(LONG), batch_size=8, verbose=0)
    np.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-5)


def test_scratch_model_pipeline():
    model = tiny_model("scratch-tiny")
    tok = preprocessing.tokenize(model, TEXTS + ["zzz unknown"])
    assert tok.single_input == "token_ids"
    assert tok.lengths.tolist() == [
        int(n) for n in (model.preprocessor(np.array(TEXTS + ["zzz unknown"])).numpy() != 0).sum(1)
    ]
    fast = predict_proba(model, TEXTS)
    np.testing.assert_allclose(
        fast, model.predict(np.array(TEXTS), verbose=0), rtol=1e-4, atol=1e-5
    )


def test_tokenize_follows_a_re_adapted_vocabulary():
    import tfx_textzoo as textzoo

    model = textzoo.load("scratch-tiny", num_classes=2, weights=None)
    model.preprocessor.adapt(["alpha beta", "alpha"])
    first = preprocessing.tokenize(model, ["gamma alpha"])
    model.preprocessor.adapt(["gamma delta", "gamma"])  # a new vocabulary: gamma is known now
    second = preprocessing.tokenize(model, ["gamma alpha"])
    expected = model.preprocessor(np.array(["gamma alpha"])).numpy()[0]
    assert second.features["token_ids"].to_list()[0] == expected[expected != 0].tolist()
    assert first.features["token_ids"].to_list() != second.features["token_ids"].to_list()


def test_multi_label_labels_go_through_every_dataset_and_fit():
    import tensorflow as tf
    from helpers import tiny_overrides

    import tfx_textzoo as textzoo

    names = ["sport", "money", "tech"]
    model = textzoo.load(
        "bert-tiny",
        labels=names,
        multi_label=True,
        weights=None,
        sequence_length=32,
        **tiny_overrides("bert"),
    )
    # a 0/1 label set per text (some empty, some with two labels), read back by text
    matrix = RNG.integers(0, 2, size=(len(LONG), 3))
    tok = preprocessing.tokenize(model, LONG, matrix)
    assert tok.labels.dtype == np.float32 and tok.labels.shape == (40, 3)
    by_text = {}
    for i, row in enumerate(tok.features["token_ids"].to_list()):
        by_text.setdefault(tuple(row), set()).add(tuple(matrix[i]))
    seen = 0
    for x, y in preprocessing.training_dataset(tok, 8, seed=0):
        assert y.dtype == tf.float32 and y.shape[1] == 3
        for row, labels in zip(x["token_ids"].numpy(), y.numpy(), strict=True):
            assert tuple(labels.astype(int)) in by_text[tuple(row[row != 0])]
            seen += 1
    assert seen == 40
    dataset, order = preprocessing.sorted_dataset(tok, 8)
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in dataset]), matrix[order])
    from tfx_textzoo import inference

    core = inference.core_model(model)  # token ids -> probabilities, the model's layers
    core.compile(optimizer="adam", loss=model.task.loss())
    history = core.fit(
        preprocessing.training_dataset(tok, 8, seed=0), epochs=1, verbose=0, shuffle=False
    )
    assert np.isfinite(history.history["loss"][0])
    probs = preprocessing.run_sorted(lambda x: model(x, training=False), tok, 8)
    direct = model.predict(np.array(LONG), verbose=0)
    assert probs.shape == (40, 3)
    np.testing.assert_allclose(probs, direct, rtol=1e-4, atol=1e-5)


def test_labels_must_match_the_texts(model):
    from tfx_textzoo.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match=r"labels must be one label per text \(3,\)"):
        preprocessing.tokenize(model, LONG[:3], [0, 1])
