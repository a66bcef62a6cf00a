"""finetune(): inputs, both phases, the schedule, early stopping, restore-best, strategy."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import TEXTS, tiny_model

import tfx_textzoo as textzoo
from tfx_textzoo.datasets import TextDataset, as_texts_and_labels
from tfx_textzoo.evaluation import predict_proba
from tfx_textzoo.training import AdamWLayerDecay, WarmupLinearDecay, _head_model

NAMES = ["World", "Sports", "Business", "Sci/Tech"]
# 16 texts, 4 per class, of different lengths (so several length buckets are used).
TRAIN = [(TEXTS[i % 4] + " and more" * (i // 4), [2, 1, 3, 0][i % 4]) for i in range(16)]
TRAIN_TEXTS = [t for t, _ in TRAIN]
TRAIN_LABELS = [y for _, y in TRAIN]


def bert(**kwargs):
    return tiny_model("bert-tiny", labels=NAMES, **kwargs)


def tune(model, data=None, **kwargs):
    """finetune() on the 16 training texts, batch 4, quietly (unless told otherwise)."""
    kwargs = {"batch_size": 4, "verbose": 0, **kwargs}
    return textzoo.finetune(model, data or (TRAIN_TEXTS, TRAIN_LABELS), **kwargs)


def backbone_weights(model):
    return [w.copy() for w in model.backbone.get_weights()]


def head_weights(model):
    return [v.numpy().copy() for v in model.trainable_variables if "logits" in v.path]


def changed(before, after):
    return any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


# ---------------------------------------------------------------- input types


def test_inputs_tuple_and_label_names():
    texts, labels = as_texts_and_labels(
        (TRAIN_TEXTS, [NAMES[y] for y in TRAIN_LABELS]), label_names=NAMES, num_classes=4
    )
    assert texts.tolist() == TRAIN_TEXTS
    assert labels.tolist() == TRAIN_LABELS
    assert labels.dtype == np.int32


@pytest.mark.parametrize("batched", [False, True])
def test_inputs_tf_data(batched):
    ds = tf.data.Dataset.from_tensor_slices((TRAIN_TEXTS, TRAIN_LABELS))
    if batched:
        ds = ds.batch(5)
    texts, labels = as_texts_and_labels(ds, num_classes=4)
    assert texts.tolist() == TRAIN_TEXTS
    assert labels.tolist() == TRAIN_LABELS


def test_inputs_dataframe_joins_text_columns():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "title": ["Wall St. rallies", "Cup final"],
            "description": ["Stocks up.", None],
            "class": ["Business", "Sports"],
        }
    )
    texts, labels = as_texts_and_labels(
        frame, label_names=NAMES, text_column=["title", "description"], label_column="class"
    )
    assert texts.tolist() == ["Wall St. rallies Stocks up.", "Cup final"]
    assert labels.tolist() == [2, 1]
    with pytest.raises(ValueError, match=r"column\(s\) \['headline'\] not found.*title"):
        as_texts_and_labels(frame, text_column="headline", label_column="class")


def test_inputs_hf_dataset():
    datasets = pytest.importorskip("datasets")
    data = datasets.Dataset.from_dict({"text": TRAIN_TEXTS, "label": TRAIN_LABELS})
    texts, labels = as_texts_and_labels(data, num_classes=4)
    assert texts.tolist() == TRAIN_TEXTS
    assert labels.tolist() == TRAIN_LABELS


def test_inputs_text_dataset():
    data = TextDataset(TRAIN_TEXTS, np.array(TRAIN_LABELS), NAMES)
    assert as_texts_and_labels(data)[1].tolist() == TRAIN_LABELS


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "match"),
    [
        (
            (["a", " ", "c", ""], [0, 1, 0, 1]),
            {},
            ValueError,
            r"2 empty text\(s\), at rows \[1, 3\]",
        ),
        ((["a", 3], [0, 1]), {}, TypeError, r"texts must be strings; rows \[1\]"),
        ((["a", "b"], [0, 5]), {"num_classes": 4}, ValueError, r"outside 0..3, at rows \[1\]"),
        ((["a", "b"], ["World", "Weather"]), {"label_names": NAMES}, ValueError, "Weather"),
        ((["a", "b"], ["x", "y"]), {}, ValueError, "no label names"),
        ((["a", "b"], [0]), {}, ValueError, "2 texts but 1 labels"),
        (([], []), {}, ValueError, "no texts"),
        ("just a string", {}, TypeError, "unsupported input"),
    ],
)
def test_input_errors(data, kwargs, error, match):
    with pytest.raises(error, match=match):
        as_texts_and_labels(data, **kwargs)


def test_finetune_accepts_dataframe_and_tf_data_end_to_end():
    pd = pytest.importorskip("pandas")
    model = bert()
    frame = pd.DataFrame({"text": TRAIN_TEXTS, "label": [NAMES[y] for y in TRAIN_LABELS]})
    val = tf.data.Dataset.from_tensor_slices((TRAIN_TEXTS[:8], TRAIN_LABELS[:8])).batch(3)
    history = textzoo.finetune(
        model, frame, validation_data=val, epochs=1, freeze_epochs=0, batch_size=4, verbose=0
    )
    record = history.epochs[0]
    assert record["phase"] == "full"
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= set(record)
    assert np.isfinite(record["val_loss"])


# ---------------------------------------------------------------- the two phases


@pytest.mark.parametrize("cache_features", [True, False])
def test_phase1_freezes_backbone_and_phase2_trains_it(cache_features):
    model = bert()
    start_backbone, start_head = backbone_weights(model), head_weights(model)
    tune(
        model,
        epochs=1,
        freeze_epochs=1,
        cache_features=cache_features,
    )
    after_phase1 = backbone_weights(model)
    assert not changed(start_backbone, after_phase1), "phase 1 changed the backbone"
    assert changed(start_head, head_weights(model)), "phase 1 did not train the head"
    assert model.backbone.trainable, "the backbone must be trainable again afterwards"

    history = tune(
        model,
        epochs=2,
        freeze_epochs=1,
        cache_features=cache_features,
    )
    assert [r["phase"] for r in history.epochs] == ["frozen", "full"]
    assert [r["epoch"] for r in history.epochs] == [1, 2]
    assert changed(after_phase1, backbone_weights(model)), "phase 2 did not train the backbone"
    assert ("feature_cache" in history.timings) == cache_features


def test_cached_head_matches_full_model():
    model = bert()
    head = _head_model(model)
    assert head is not None
    x = model.preprocessor(tf.constant(TRAIN_TEXTS[:4]))
    pooled = model.backbone(x)["pooled_output"]
    np.testing.assert_allclose(head(pooled), model(x), rtol=1e-5, atol=1e-6)


def test_mean_pooling_head_is_cached_and_survives_save(tmp_path):
    model = bert(pooling="mean")
    assert model.pooling == "mean"
    x = model.preprocessor(tf.constant(TRAIN_TEXTS[:4]))
    out = model.backbone(x)
    mask = tf.cast(x["padding_mask"], "float32")[..., None]
    mean = tf.reduce_sum(out["sequence_output"] * mask, 1) / tf.reduce_sum(mask, 1)
    np.testing.assert_allclose(_head_model(model)(mean), model(x), rtol=1e-5, atol=1e-6)
    start = backbone_weights(model)
    history = tune(model, epochs=2, freeze_epochs=1)
    assert "feature_cache" in history.timings
    assert changed(start, backbone_weights(model))
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert restored.pooling == "mean"
    np.testing.assert_allclose(
        restored.predict(TRAIN_TEXTS, verbose=0),
        model.predict(TRAIN_TEXTS, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


def test_learning_rate_follows_warmup_then_linear_decay():
    model = bert()
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))

    history = tune(
        model,
        epochs=3,
        freeze_epochs=1,
        batch_size=2,
        learning_rate=1e-3,
        head_learning_rate=5e-3,
        warmup_ratio=0.25,
        callbacks=[Record()],
    )
    steps, warmup = history.settings["total_steps"], history.settings["warmup_steps"]
    assert warmup == round(0.25 * steps) and steps >= 8
    phase1 = len(seen) - steps
    assert seen[:phase1] == pytest.approx([5e-3] * phase1)  # constant head learning rate
    expected = [
        1e-3 * s / warmup if s < warmup else 1e-3 * (steps - s) / (steps - warmup)
        for s in range(steps)
    ]
    assert seen[phase1:] == pytest.approx(expected, rel=1e-5, abs=1e-9)
    assert max(seen[phase1:]) == pytest.approx(1e-3)
    assert history.epochs[-1]["learning_rate"] == pytest.approx(0.0, abs=1e-9)


def test_schedule_serializes():
    schedule = WarmupLinearDecay(2e-5, warmup_steps=3, total_steps=30)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(restored, WarmupLinearDecay)
    assert restored.get_config() == schedule.get_config()
    steps = np.arange(40)
    np.testing.assert_allclose(restored(steps), schedule(steps))
    with pytest.raises(ValueError, match="warmup_steps <= total_steps"):
        WarmupLinearDecay(1e-3, warmup_steps=5, total_steps=4)


def test_layer_decay_scales_updates_per_layer():
    model = bert(num_layers=2)
    before = {v.path: v.numpy().copy() for v in model.trainable_variables}
    tune(
        model,
        epochs=1,
        freeze_epochs=0,
        batch_size=8,
        learning_rate=1e-2,
        warmup_ratio=0.0,
        weight_decay=0.0,
        layer_decay=1e-3,
    )
    assert isinstance(model.optimizer, AdamWLayerDecay)
    mult = model.optimizer.learning_rate_multipliers
    assert mult["logits/kernel"] == 1.0
    assert mult["transformer_layer_1/feedforward_output_dense/kernel"] == pytest.approx(1e-3)
    assert mult["transformer_layer_0/feedforward_output_dense/kernel"] == pytest.approx(1e-6)

    def moved(path):
        var = next(v for v in model.trainable_variables if v.path == path)
        return np.abs(var.numpy() - before[path]).max()

    top, low = moved("logits/kernel"), moved("transformer_layer_0/feedforward_output_dense/kernel")
    assert top > 1e-3
    assert low < top * 1e-4


# ---------------------------------------------------------------- stopping, best weights


def test_early_stopping_with_patience():
    model = bert()
    history = tune(
        model,
        validation_data=(TRAIN_TEXTS, TRAIN_LABELS),
        epochs=6,
        freeze_epochs=0,
        batch_size=8,
        learning_rate=1e-12,
        monitor="val_accuracy",
        patience=2,
    )
    # With a learning rate of 1e-12 the predictions (hence val_accuracy) never change:
    # epoch 1 is the best, epochs 2 and 3 do not improve, and training stops there.
    assert history.stopped_early
    assert len(history.epochs) == 3
    assert history.best_epoch == 1


def test_restore_best_puts_back_the_best_epoch(tmp_path):
    model = bert()
    val = (TRAIN_TEXTS, TRAIN_LABELS)
    history = tune(
        model,
        validation_data=val,
        epochs=3,
        freeze_epochs=1,
        learning_rate=20.0,
        warmup_ratio=0.0,
        clipnorm=None,
        seed=1,
        checkpoint_dir=tmp_path,
        monitor="val_loss",
    )
    # A learning rate of 20 wrecks the model in phase 2, so the frozen epoch is the best.
    losses = [r["val_loss"] for r in history.epochs]
    assert history.best_epoch == 1 and min(losses) == losses[0] < losses[-1]
    assert history.restored_best
    probs = predict_proba(model, TRAIN_TEXTS)
    restored_loss = -np.mean(np.log(probs[np.arange(16), TRAIN_LABELS]))
    assert restored_loss == pytest.approx(losses[0], rel=1e-4)
    # The checkpoint directory holds the best and last weights and the history.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.weights.h5",
        "history.json",
        "last.weights.h5",
    ]
    saved = json.loads((tmp_path / "history.json").read_text())
    assert saved["best_epoch"] == 1 and len(saved["epochs"]) == 3
    other = bert()
    other.load_weights(tmp_path / "best.weights.h5")
    np.testing.assert_allclose(predict_proba(other, TRAIN_TEXTS), probs, rtol=1e-5, atol=1e-6)


def test_class_weight_zero_means_no_learning():
    model = bert()
    before = [v.numpy().copy() for v in model.trainable_variables]
    history = tune(
        model,
        epochs=1,
        freeze_epochs=0,
        weight_decay=0.0,
        class_weight={name: 0.0 for name in NAMES},
    )
    assert history.epochs[0]["loss"] == 0.0
    after = [v.numpy() for v in model.trainable_variables]
    assert not changed(before, after)


def test_class_weight_balanced_and_errors():
    from tfx_textzoo.training import _class_weight

    assert _class_weight("balanced", np.array([0, 0, 0, 1]), 2, None) == {0: 4 / 6, 1: 2.0}
    assert _class_weight({"Sports": 3.0}, np.array([0]), 4, NAMES) == {0: 1, 1: 3.0, 2: 1, 3: 1}
    with pytest.raises(ValueError, match="'Weather' is not one of the model's labels"):
        _class_weight({"Weather": 1.0}, np.array([0]), 4, NAMES)


def test_setting_errors():
    model = bert()
    data = (TRAIN_TEXTS, TRAIN_LABELS)
    with pytest.raises(ValueError, match="freeze_epochs must be between 0 and epochs"):
        textzoo.finetune(model, data, epochs=1, freeze_epochs=2, verbose=0)
    with pytest.raises(ValueError, match=r"outside 0..3"):
        textzoo.finetune(model, (TRAIN_TEXTS, [7] * 16), epochs=1, verbose=0)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        textzoo.finetune(model, data, batch_size=2.5, verbose=0)


# ---------------------------------------------------------------- reproducibility, families


def test_seed_makes_runs_identical():
    def run():
        keras.utils.set_random_seed(3)
        model = bert()
        history = tune(
            model,
            epochs=2,
            freeze_epochs=1,
            seed=7,
        )
        return [r["loss"] for r in history.epochs], model.get_weights()

    (loss_a, w_a), (loss_b, w_b) = run(), run()
    assert loss_a == loss_b
    assert not changed(w_a, w_b)


def test_scratch_adapts_and_skips_frozen_phase():
    model = textzoo.load(
        "scratch-tiny", num_classes=4, vocabulary_size=64, embedding_dim=8, hidden_units=4
    )
    assert not model.preprocessor.is_adapted
    history = textzoo.finetune(
        model, (TRAIN_TEXTS, TRAIN_LABELS), epochs=2, freeze_epochs=1, batch_size=4, verbose=0
    )
    assert model.preprocessor.is_adapted
    assert [r["phase"] for r in history.epochs] == ["full", "full"]
    assert history.settings["freeze_epochs"] == 0
    assert model.predict(["the team won"], verbose=0).shape == (1, 4)


def test_save_and_reload_after_finetune_keeps_schedule(tmp_path):
    model = bert()
    textzoo.finetune(
        model, (TRAIN_TEXTS, TRAIN_LABELS), epochs=2, freeze_epochs=1, batch_size=4, verbose=0
    )
    schedule = model.optimizer.learning_rate  # the phase-2 schedule, evaluated
    assert isinstance(model.optimizer._learning_rate, WarmupLinearDecay)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert restored.labels == NAMES
    assert isinstance(restored.optimizer._learning_rate, WarmupLinearDecay)
    assert restored.optimizer._learning_rate.get_config() == (
        model.optimizer._learning_rate.get_config()
    )
    assert float(restored.optimizer.learning_rate) == pytest.approx(float(schedule))
    np.testing.assert_allclose(
        restored.predict(TRAIN_TEXTS, verbose=0),
        model.predict(TRAIN_TEXTS, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )


STRATEGY_SCRIPT = textwrap.dedent(
    """
    import os, sys
    os.environ["TEXTZOO_OFFLINE"] = "1"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from helpers import TEXTS, TINY_OVERRIDES
    import tfx_textzoo as textzoo

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    # 20 texts of 9-19 tokens: length buckets of 15 (<= 16 tokens) and 5 texts, each one
    # odd-sized batch of the global 32, split unevenly over the replicas (8 + 7): Keras'
    # symbolic build used to fail on it ("AddN must have the same size and shape").
    texts = [t + " and more" * i for i in range(5) for t in TEXTS]
    labels = [2, 1, 3, 0] * 5
    kwargs = dict(num_classes=4, weights=None, sequence_length=32, **TINY_OVERRIDES["bert"])

    outside = textzoo.load("bert-tiny", **kwargs)
    try:
        textzoo.finetune(outside, (texts, labels), epochs=1, strategy=strategy, verbose=0)
    except ValueError as err:
        assert "strategy.scope()" in str(err), err
    else:
        raise AssertionError("a model built outside the scope must be refused")

    with strategy.scope():
        model = textzoo.load("bert-tiny", **kwargs)
    before = [w.copy() for w in model.backbone.get_weights()]
    history = textzoo.finetune(model, (texts, labels), validation_data=(texts, labels),
                               epochs=2, freeze_epochs=1, batch_size=32, strategy=strategy,
                               restore_best=False,
                               verbose=0)
    after = model.backbone.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))
    assert [r["phase"] for r in history.epochs] == ["frozen", "full"]
    assert all(np.isfinite(r["val_loss"]) for r in history.epochs)
    print("REPLICAS", strategy.num_replicas_in_sync)
    """
)


def test_mirrored_strategy_over_two_cpus(tmp_path):
    script = tmp_path / "strategy.py"
    script.write_text(STRATEGY_SCRIPT)
    tests_dir = str(__import__("pathlib").Path(__file__).parent)
    out = subprocess.run(
        [sys.executable, str(script), tests_dir], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "REPLICAS 2" in out.stdout


def test_repeated_calls_reuse_the_traced_step_with_a_fresh_optimizer():
    from tfx_textzoo.training import _COMPILED

    model = bert()
    data = (TRAIN_TEXTS, TRAIN_LABELS)
    textzoo.finetune(model, data, epochs=1, freeze_epochs=0, batch_size=4, verbose=0)
    _, trainer, optimizer = _COMPILED[model]["full"]
    step = trainer.train_function
    assert step is not None and int(optimizer.iterations) == 4
    history = textzoo.finetune(model, data, epochs=1, freeze_epochs=0, batch_size=4, verbose=0)
    assert _COMPILED[model]["full"][1] is trainer and trainer.train_function is step
    assert int(optimizer.iterations) == 4, "the reused optimizer must restart from step 0"
    assert history.settings["total_steps"] == 4
    # Other settings compile a new trainer.
    textzoo.finetune(
        model, data, epochs=1, freeze_epochs=0, batch_size=4, learning_rate=3e-4, verbose=0
    )
    assert _COMPILED[model]["full"][1] is not trainer


def test_jit_compile_auto_policy_and_xla_run():
    from tfx_textzoo.training import XLA_MIN_STEPS_ON_CPU, _use_xla

    assert _use_xla("auto", XLA_MIN_STEPS_ON_CPU - 1) is False  # this machine has no GPU
    assert _use_xla("auto", XLA_MIN_STEPS_ON_CPU) is True
    assert _use_xla(False, 10**6) is False
    model = bert()
    before = backbone_weights(model)
    short = ["the team won", "stocks on friday", "new chip", "peace"] * 2  # one bucket shape
    history = textzoo.finetune(
        model,
        (short, [1, 2, 3, 0] * 2),
        epochs=1,
        freeze_epochs=0,
        batch_size=4,
        jit_compile=True,
        verbose=0,
    )
    assert history.settings["jit_compile"] is True
    assert np.isfinite(history.epochs[0]["loss"])
    assert changed(before, backbone_weights(model))
    with pytest.raises(ValueError, match="jit_compile must be True, False or 'auto'"):
        textzoo.finetune(model, (short, [0] * 8), jit_compile="yes", verbose=0)


def test_layer_decay_comes_from_the_catalog_entry():
    """ELECTRA's entries name the paper's layer-wise decay; finetune uses it unless given."""
    assert textzoo.get_model_info("electra-small")["finetune"]["layer_decay"] == 0.8
    model = tiny_model("electra-small", num_classes=2)
    texts, labels = ["good film", "bad film"] * 4, [1, 0] * 4
    history = textzoo.finetune(model, (texts, labels), epochs=1, freeze_epochs=0, verbose=0)
    assert history.settings["layer_decay"] == 0.8
    history = textzoo.finetune(
        model, (texts, labels), epochs=1, freeze_epochs=0, layer_decay=0.5, verbose=0
    )
    assert history.settings["layer_decay"] == 0.5
    bert = tiny_model("bert-tiny", num_classes=2)
    history = textzoo.finetune(bert, (texts, labels), epochs=1, freeze_epochs=0, verbose=0)
    assert history.settings["layer_decay"] is None


# ---------------------------------------------------------------- micro-batches


class _RecordRows(keras.layers.Layer):
    """Identity that records how many rows each (eager) forward pass holds."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rows = []

    def call(self, x):
        if tf.executing_eagerly():
            self.rows.append(int(x.shape[0]))
        return x


def _toy(record=None):
    ids = keras.Input((None,), dtype="int32")
    h = keras.layers.Embedding(40, 6)(ids)
    if record is not None:
        h = record(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(5, "tanh")(h))
    return keras.Model(ids, out)


def test_micro_batched_step_makes_the_whole_batch_update():
    """7 texts of 10 tokens, at most 30 tokens a pass: passes of 3, 3 and 1 texts whose
    summed, share-weighted gradients make the same AdamW step as the whole batch (with
    sample weights), and the same logged loss and accuracy. The optimizer is finetune's
    FusedAdamW: Keras' own AdamW squares an embedding gradient's repeated rows one by one
    (keras.ops.square of tf.IndexedSlices: 1^2 + 2^2 = 5, not (1 + 2)^2 = 9), so on a whole
    batch it is not the update of the summed gradient that micro-batches give."""
    from tfx_textzoo.training import FusedAdamW, micro_batched_train_step

    rng = np.random.default_rng(0)
    ids = rng.integers(1, 40, (7, 10)).astype("int32")
    y = np.array([0, 1, 2, 0, 1, 2, 2])
    weights = np.array([1.0, 2.0, 0.5, 1.0, 0.0, 3.0, 1.0], "float32")
    record = _RecordRows()
    keras.utils.set_random_seed(1)
    micro, whole = _toy(record), _toy()
    whole.set_weights(micro.get_weights())
    logs = []
    for model, step in ((micro, True), (whole, False)):
        model.compile(
            FusedAdamW(0.05, weight_decay=0.01),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
            run_eagerly=step,  # eager: the recording layer sees each pass's rows
        )
        if step:
            model.train_step = micro_batched_train_step(model, max_tokens=30)
        h = model.fit(ids, y, sample_weight=weights, batch_size=7, epochs=2, verbose=0)
        logs.append(h.history)
    assert record.rows == [3, 3, 1, 3, 3, 1]
    for a, b in zip(micro.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logs[0]["loss"], logs[1]["loss"], rtol=1e-5)
    assert logs[0]["accuracy"] == logs[1]["accuracy"]
    with pytest.raises(ValueError, match="max_tokens must be at least 1"):
        micro_batched_train_step(micro, 0)


def _without_dropout(model):
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    return model


def test_finetune_in_micro_batches_trains_as_whole_batches():
    """finetune's full phase in micro-batches of 2 texts (dropout off, so that both runs
    draw nothing at random but the shuffle): the same losses and probabilities as whole
    batches of 4, with a class weight; "auto" leaves these short batches whole."""
    keras.utils.set_random_seed(5)
    first = _without_dropout(bert())
    initial = first.get_weights()
    runs = []
    for micro in (None, 2 * 16):  # 16: the sequence length, so at most 2 texts a pass
        model = first if micro is None else _without_dropout(bert())
        model.set_weights(initial)
        history = tune(
            model,
            epochs=2,
            freeze_epochs=0,
            seed=3,
            micro_batch_tokens=micro,
            class_weight={0: 2.0, 1: 1.0, 2: 1.0, 3: 0.5},
        )
        runs.append((history, predict_proba(model, TRAIN_TEXTS[:6])))
    (whole, p_whole), (micro, p_micro) = runs
    assert whole.settings["micro_batch_tokens"] is None
    assert micro.settings["micro_batch_tokens"] == 32
    np.testing.assert_allclose(
        [r["loss"] for r in micro.epochs], [r["loss"] for r in whole.epochs], rtol=1e-5
    )
    np.testing.assert_allclose(p_micro, p_whole, atol=1e-5)
    auto = tune(bert(), epochs=1, freeze_epochs=0)  # 4 texts x <= 16 tokens <= 2048
    assert auto.settings["micro_batch_tokens"] is None


def test_micro_batch_auto_policy_splits_only_long_texts():
    """"auto": micro-batches of 2,048 tokens only when a batch of the median text holds
    more than 4,096 (long texts), never under XLA; an explicit budget only when a batch
    would exceed it; and a split is as even as can be (7 texts in passes of at most 4:
    4 + 3)."""
    from tfx_textzoo import preprocessing
    from tfx_textzoo.training import (
        MICRO_BATCH_AUTO_MIN_TOKENS,
        MICRO_BATCH_TOKENS_ON_CPU,
        _micro_batch_tokens,
        micro_batched_train_step,
    )

    tok = preprocessing.tokenize(bert(), TRAIN_TEXTS)
    median = float(np.median(tok.lengths))
    short = int(MICRO_BATCH_AUTO_MIN_TOKENS // median)  # a batch of the median text: <= 4,096
    assert _micro_batch_tokens("auto", False, short, tok) is None
    assert _micro_batch_tokens("auto", False, short + 1, tok) == MICRO_BATCH_TOKENS_ON_CPU
    assert _micro_batch_tokens("auto", True, short + 1, tok) is None
    assert _micro_batch_tokens(None, False, short + 1, tok) is None
    longest = int(tok.lengths.max())
    assert _micro_batch_tokens(4 * longest, False, 4, tok) is None
    assert _micro_batch_tokens(4 * longest - 1, False, 4, tok) == 4 * longest - 1

    record = _RecordRows()
    model = _toy(record)
    model.compile("sgd", "sparse_categorical_crossentropy", run_eagerly=True)
    model.train_step = micro_batched_train_step(model, max_tokens=40)
    model.fit(np.ones((7, 10), "int32"), np.zeros(7), batch_size=7, verbose=0)
    assert record.rows == [4, 3]


@pytest.mark.parametrize("value", [0, -3, "half", 2.5])
def test_micro_batch_tokens_errors(value):
    with pytest.raises(ValueError, match="micro_batch_tokens must be"):
        tune(bert(), epochs=1, freeze_epochs=0, micro_batch_tokens=value)
