"""Issue 13, silent wrong results: each example of the issue as a regression test.

The tests at the top use the public API only (so they also run against older code, where
they fail); the unit tests of ``tfx_textzoo._checks`` are at the bottom.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import pytest
from helpers import TINY_VOCAB, tiny_model

import tfx_textzoo as textzoo
from tfx_textzoo.datasets import TextDataset
from tfx_textzoo.errors import (
    ArchitectureMismatchError,
    InvalidArgumentError,
    LabelMismatchError,
    OutputNotWritableError,
    TrainingDivergedError,
)

# Two classes a tiny model separates in a few epochs (words of the tiny vocabulary).
SPORT = ["the team won the final", "team won", "the final won", "won the final team"]
MONEY = ["stocks on friday", "new chip stocks", "chip on friday", "new stocks friday"]
TEXTS = SPORT + MONEY
WORDS = ["pos"] * 4 + ["neg"] * 4  # the true class name of each text


def swapped(texts=TEXTS, words=WORDS):
    """A TextDataset whose label_names are the model's (["neg", "pos"]) in the other order."""
    names = ["pos", "neg"]
    return TextDataset(texts, [names.index(w) for w in words], names, "swapped")


def quick(model, data=(TEXTS, WORDS), **kwargs):
    kwargs = {"epochs": 1, "freeze_epochs": 0, "batch_size": 4, "verbose": 0, **kwargs}
    return textzoo.finetune(model, data, **kwargs)


@pytest.fixture(scope="module")
def model():
    return tiny_model("bert-tiny", labels=["neg", "pos"], num_classes=None)


# ---------------------------------------------------------------- label order


@pytest.mark.parametrize("name", ["scratch-tiny", "bert-tiny"])
def test_finetune_matches_label_names_by_name(name):
    model = tiny_model(name, labels=["neg", "pos"], num_classes=None)
    history = textzoo.finetune(
        model,
        swapped(),
        validation_data=swapped(),
        epochs=20,
        freeze_epochs=0,
        batch_size=4,
        learning_rate=1e-2,
        seed=0,
        verbose=0,
    )
    # It learned the classes by name: its own training data comes back right.
    assert textzoo.predict(model, TEXTS) == WORDS
    assert history.epochs[-1]["val_accuracy"] == 1.0
    assert textzoo.evaluate(model, swapped()).accuracy == 1.0


@pytest.mark.parametrize("where", ["train", "validation_data", "evaluate"])
def test_other_class_sets_are_refused_with_one_message(model, where):
    other = TextDataset(TEXTS, [0, 1] * 4, ["pos", "neutral"])
    with pytest.raises(LabelMismatchError, match="label names.*are not the model's") as info:
        if where == "evaluate":
            textzoo.evaluate(model, other)
        elif where == "train":
            quick(model, other)
        else:
            quick(model, validation_data=other)
    assert "labels=data.label_names" in str(info.value)


# ---------------------------------------------------------------- shapes


def test_predict_refuses_a_dataframe_without_text_column(model):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"text": TEXTS, "label": WORDS})
    with pytest.raises(InvalidArgumentError, match="text_column") as info:
        textzoo.predict(model, frame)
    assert info.value.argument == "text_column" and "['text', 'label']" in str(info.value)
    by_column = textzoo.predict(model, frame, text_column="text")
    assert by_column == textzoo.predict(model, TEXTS) and len(by_column) == len(TEXTS)
    probs = textzoo.evaluation.predict_proba(model, frame, text_column="text")
    assert probs.shape == (len(TEXTS), 2)


def test_predict_refuses_a_2d_array(model):
    grid = np.array(TEXTS).reshape(4, 2)
    with pytest.raises(InvalidArgumentError, match=r"1-D.*shape \(4, 2\)"):
        textzoo.predict(model, grid)
    with pytest.raises(InvalidArgumentError, match=r"1-D"):
        textzoo.evaluation.predict_proba(model, grid)
    # 1-D forms all give one prediction per text.
    pd = pytest.importorskip("pandas")
    expected = textzoo.predict(model, TEXTS)
    assert textzoo.predict(model, np.array(TEXTS)) == expected
    assert textzoo.predict(model, pd.Series(TEXTS)) == expected
    assert textzoo.predict(model, tuple(TEXTS)) == expected


# ---------------------------------------------------------------- settings


@pytest.mark.parametrize(
    "argument, value",
    [
        ("learning_rate", math.inf),
        ("learning_rate", math.nan),
        ("learning_rate", 0.0),
        ("head_learning_rate", math.inf),
        ("layer_decay", 0),
        ("layer_decay", 1.5),
        ("clipnorm", 0),
        ("clipnorm", -1.0),
        ("weight_decay", -0.01),
        ("warmup_ratio", math.nan),
        ("class_weight", {"pos": -1.0}),
        ("class_weight", {0: math.inf}),
        ("monitor", "val_accuracy"),
        ("monitor", "f1"),
        ("patience", -1),
        ("patience", "3"),
        ("patience", True),
        ("verbose", 7),
        ("verbose", "loud"),
        ("seed", "abc"),
        ("seed", -1),
        ("seed", 1.5),
        ("epochs", True),
        ("batch_size", np.float32(4)),
        ("restore_best", "yes"),
        ("cache_features", None),
        ("jit_compile", "yes"),
        ("checkpoint_dir", 3),
    ],
)
def test_finetune_refuses_settings_that_do_nothing_or_break_the_model(model, argument, value):
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(InvalidArgumentError) as info:
        quick(model, **{argument: value})
    assert info.value.argument.startswith(argument)
    assert str(info.value).startswith(argument)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_monitor_of_validation_metric_needs_validation_data(model):
    with pytest.raises(InvalidArgumentError, match="validation_data"):
        quick(model, monitor="val_loss")
    history = quick(model, validation_data=(TEXTS, WORDS), monitor="val_loss")
    assert history.monitor == "val_loss" and history.best_epoch == 1


def test_numpy_integers_are_integers_and_bools_are_not_counts():
    model = textzoo.load(
        "scratch-tiny", np.int64(2), labels=["neg", "pos"], sequence_length=np.int32(8)
    )
    assert model.outputs[0].shape[-1] == 2
    history = quick(
        model,
        epochs=np.int64(2),
        batch_size=np.int32(4),
        seed=np.int64(0),
        patience=np.int8(1),
        class_weight={np.int64(0): 2.0},
    )
    assert len(history.epochs) == 2
    assert len(textzoo.predict(model, TEXTS[0], top_k=np.int64(2))) == 2
    with pytest.raises(InvalidArgumentError, match="num_classes"):
        textzoo.load("scratch-tiny", num_classes=True)
    with pytest.raises(InvalidArgumentError, match="sequence_length"):
        textzoo.load("scratch-tiny", num_classes=2, sequence_length=True)
    with pytest.raises(InvalidArgumentError, match="sequence_length"):
        textzoo.load("bert-tiny", num_classes=2, weights=None, sequence_length=0)


@pytest.mark.parametrize(
    "call, argument",
    [
        (lambda m: textzoo.predict(m, TEXTS, batch_size=0), "batch_size"),
        (lambda m: textzoo.predict(m, TEXTS, batch_size=2.5), "batch_size"),
        (lambda m: textzoo.predict(m, TEXTS, verbose=5), "verbose"),
        (lambda m: textzoo.predict(m, TEXTS, jit_compile="fast"), "jit_compile"),
        (lambda m: textzoo.predict(m, TEXTS, return_proba="yes"), "return_proba"),
        (lambda m: textzoo.predict(m, TEXTS, top_k=True), "top_k"),
        (lambda m: textzoo.evaluation.predict_proba(m, TEXTS, batch_size=-1), "batch_size"),
        (lambda m: textzoo.evaluate(m, (TEXTS, WORDS), batch_size=0), "batch_size"),
        (lambda m: textzoo.evaluate(m, (TEXTS, WORDS), verbose=-1), "verbose"),
        (lambda m: textzoo.evaluate(m, (TEXTS, WORDS), jit_compile=None), "jit_compile"),
    ],
)
def test_predict_and_evaluate_settings(model, call, argument):
    with pytest.raises(InvalidArgumentError) as info:
        call(model)
    assert info.value.argument == argument


def test_catalog_defaults_are_checked_and_named(model, monkeypatch):
    spec = textzoo.registry.get_spec(model.model_name)
    broken = dataclasses.replace(spec, finetune={**spec.finetune, "learning_rate": math.inf})
    monkeypatch.setattr(textzoo.registry, "get_spec", lambda name: broken)
    with pytest.raises(InvalidArgumentError, match="catalog entry") as info:
        quick(model)
    assert info.value.argument == "learning_rate"
    quick(model, learning_rate=1e-3)  # the user's value overrides the catalog's


def test_a_loss_that_becomes_nan_stops_training():
    model = tiny_model("bert-tiny", labels=["neg", "pos"], num_classes=None)
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+ \(full phase.*lower learning_rate"):
        quick(model, epochs=3, learning_rate=1e30, clipnorm=None, seed=0)


def test_a_head_loss_that_becomes_nan_names_the_frozen_phase():
    model = tiny_model("bert-tiny", labels=["neg", "pos"], num_classes=None)
    with pytest.raises(TrainingDivergedError, match=r"frozen phase.*head_learning_rate"):
        quick(model, epochs=3, freeze_epochs=3, head_learning_rate=1e30, clipnorm=None, seed=0)


def test_checkpoint_dir_is_checked_before_the_first_step(model, tmp_path):
    (tmp_path / "file").write_text("not a directory")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(OutputNotWritableError, match="checkpoint_dir"):
        quick(model, checkpoint_dir=tmp_path / "file" / "run")
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


# ---------------------------------------------------------------- weights of another architecture


@pytest.fixture(scope="module")
def small_preset(tmp_path_factory):
    """A keras-hub preset of a 1-layer, 8-wide BERT: not small-bert-L2-H128's architecture."""
    import keras_hub

    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(TINY_VOCAB),
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=32,
    )
    path = tmp_path_factory.mktemp("preset") / "bert-1-8"
    backbone.save_to_preset(str(path))
    keras_hub.models.BertTokenizer(vocabulary=TINY_VOCAB).save_to_preset(str(path))
    return str(path)


def test_weights_of_another_architecture_are_refused(small_preset):
    with pytest.raises(ArchitectureMismatchError) as info:
        textzoo.load("small-bert-L2-H128", num_classes=2, weights=small_preset)
    message = str(info.value)
    for key, real, catalog in [
        ("num_layers", 1, 2),
        ("hidden_dim", 8, 128),
        ("intermediate_dim", 16, 512),
        ("vocabulary_size", len(TINY_VOCAB), 30522),
    ]:
        assert f"{key} is {real} in the weights but {catalog} for small-bert-L2-H128" in message
    assert "num_heads" not in message  # the same in both
    assert "allow_architecture_mismatch=True" in message


def test_opt_in_records_the_real_architecture(small_preset, tmp_path):
    model = textzoo.load(
        "small-bert-L2-H128",
        labels=["neg", "pos"],
        weights=small_preset,
        allow_architecture_mismatch=True,
    )
    real = {
        "num_layers": 1,
        "hidden_dim": 8,
        "intermediate_dim": 16,
        "vocabulary_size": len(TINY_VOCAB),
    }
    assert model.architecture_overrides == real
    assert model.architecture == {**real, "num_heads": 2}
    assert model.get_config()["architecture_overrides"] == real
    model.save(tmp_path / "m.keras")
    assert keras.saving.load_model(tmp_path / "m.keras").architecture_overrides == real
    textzoo.save_pretrained(model, tmp_path / "saved")
    assert textzoo.load(tmp_path / "saved").architecture_overrides == real


# ---------------------------------------------------------------- numbers named for the user


@pytest.mark.parametrize(
    "name, overrides, argument, hidden",
    [
        ("bert-tiny", {"hidden_dim": 0}, "hidden_dim", "`output_dim`"),
        ("bert-tiny", {"intermediate_dim": 0}, "intermediate_dim", "`units`"),
        ("bert-tiny", {"hidden_dim": 8, "num_heads": 3}, "num_heads", None),
        ("bert-tiny", {"num_layers": 0}, "num_layers", None),
        ("bert-tiny", {"num_layers": 1.5}, "num_layers", "interpreted"),
        ("bert-tiny", {"dropout": 2.0}, "dropout", "`rate`"),
        ("scratch-tiny", {"embedding_dim": 0}, "embedding_dim", "`output_dim`"),
        ("scratch-tiny", {"hidden_units": 0}, "hidden_units", "`units`"),
        ("scratch-tiny", {"vocabulary_size": 1}, "vocabulary_size", "`max_tokens`"),
        ("scratch-tiny", {"num_layers": 0}, "num_layers", None),
    ],
)
def test_architecture_numbers_are_named_as_passed(name, overrides, argument, hidden):
    with pytest.raises(InvalidArgumentError) as info:
        textzoo.load(name, labels=["a", "b"], weights=None, **overrides)
    assert info.value.argument == argument and str(info.value).startswith(argument)
    if hidden:
        assert hidden not in str(info.value)


def test_heads_that_do_not_divide_hidden_dim_would_have_built_a_narrower_model():
    with pytest.raises(InvalidArgumentError, match=r"num_heads must be a divisor of hidden_dim"):
        textzoo.load("bert-tiny", num_classes=2, weights=None, hidden_dim=8, num_heads=3)
    # hidden_dim alone against the catalog's num_heads (2): named, catalog value said.
    with pytest.raises(InvalidArgumentError, match=r"hidden_dim must be a multiple of num_heads"):
        textzoo.load("bert-tiny", num_classes=2, weights=None, hidden_dim=9)


# ---------------------------------------------------------------- tfx_textzoo._checks


def test_check_helpers_types_and_ranges():
    from tfx_textzoo._checks import check_int, check_number, check_verbose
    from tfx_textzoo.errors import InvalidArgumentTypeError

    assert check_int("n", np.int16(5), minimum=1) == 5
    with pytest.raises(InvalidArgumentTypeError) as info:
        check_int("n", np.bool_(True))
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    with pytest.raises(InvalidArgumentError, match=r"n must be an int in 1\.\.3, got 4"):
        check_int("n", np.int64(4), minimum=1, maximum=3)
    assert check_number("x", np.float32(0.5), minimum=0, maximum=1) == 0.5
    for bad in (math.inf, -math.inf, math.nan):
        with pytest.raises(InvalidArgumentError, match="finite"):
            check_number("x", bad)
    with pytest.raises(InvalidArgumentTypeError):
        check_number("x", "0.1")
    assert [check_verbose(v) for v in (0, 1, 2, "auto", False)] == [0, 1, 2, "auto", 0]


def test_align_labels_is_the_one_function_finetune_and_evaluate_use():
    from tfx_textzoo import _checks, evaluation, training

    assert not hasattr(evaluation, "_align_labels")
    data = swapped()
    aligned = _checks.align_labels(data, ["neg", "pos"])
    assert aligned.label_names == ["neg", "pos"]
    assert [aligned.label_names[i] for i in aligned.labels] == WORDS
    assert _checks.align_labels(data, None) is data
    assert _checks.align_labels(data, ["pos", "neg"]) is data
    assert training._checks is evaluation._checks is _checks
