"""precision=: the backbone in mixed bfloat16 for finetune / predict, float32 everywhere else.

The suite pins ``TEXTZOO_PRECISION=float32`` (conftest); these tests pass the policy
explicitly, or unset the variable to test what ``"auto"`` decides. bfloat16 runs on any
x86 CPU (emulated where AVX512_BF16 is missing), so they run everywhere.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import tfx_textzoo as textzoo
from tfx_textzoo import precision
from tfx_textzoo.errors import InvalidArgumentError
from tfx_textzoo.evaluation import predict_proba

TEXTS = [
    "stocks fell sharply as markets opened",
    "the team won the final in extra time",
    "a new phone with a faster chip was announced",
    "the central bank raised interest rates again",
    "the striker scored twice in the second half",
    "researchers released an open source compiler",
    "oil prices rose after the supply report",
    "the coach praised the young goalkeeper",
] * 4
LABELS = [0, 1, 2, 0, 1, 2, 0, 1] * 4
TINY = dict(weights=None, num_layers=2, sequence_length=32)


def _model(**kwargs):
    keras.utils.set_random_seed(7)
    return textzoo.load("bert-tiny", num_classes=3, **{**TINY, **kwargs})


def _policies(model):
    return {id(layer): layer.dtype_policy.name for layer in model._flatten_layers()}


# --- resolve / auto -------------------------------------------------------------------


def test_cpu_flags_decide_bf16(tmp_path):
    with_bf16 = tmp_path / "with"
    with_bf16.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n")
    amx = tmp_path / "amx"
    amx.write_text("flags\t\t: fpu avx512f amx_bf16 amx_tile\n")
    without = tmp_path / "without"
    without.write_text("flags\t\t: fpu sse2 avx2 fma avx512f avx512_vnni\n")
    assert precision.cpu_has_bf16(str(with_bf16)) is True
    assert precision.cpu_has_bf16(str(amx)) is True
    assert precision.cpu_has_bf16(str(without)) is False
    assert precision.cpu_has_bf16(str(tmp_path / "missing")) is False


def test_auto_follows_the_cpu_and_the_environment(monkeypatch):
    monkeypatch.delenv(precision.ENV, raising=False)
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: True)
    assert precision.resolve("auto") == "mixed_bfloat16"
    assert precision.resolve(None) == "mixed_bfloat16"
    monkeypatch.setattr(precision, "cpu_has_bf16", lambda: False)
    assert precision.resolve("auto") == "float32"
    monkeypatch.setenv(precision.ENV, "mixed_bfloat16")
    assert precision.resolve("auto") == "mixed_bfloat16"
    assert precision.resolve("float32") == "float32"  # explicit beats the environment
    monkeypatch.setenv(precision.ENV, "half")
    with pytest.raises(InvalidArgumentError, match="TEXTZOO_PRECISION must be one of"):
        precision.resolve("auto")


@pytest.mark.parametrize("bad", ["bf16", "mixed_float16", "FLOAT32", 16, True])
def test_bad_precision_is_refused_in_the_users_terms(bad):
    with pytest.raises(InvalidArgumentError, match=r"precision must be one of 'auto'"):
        precision.resolve(bad)
    model = _model()
    with pytest.raises(InvalidArgumentError, match="precision must be"):
        textzoo.predict(model, TEXTS[:2], precision=bad)
    with pytest.raises(InvalidArgumentError, match="precision must be"):
        textzoo.finetune(model, (TEXTS, LABELS), epochs=1, verbose=0, precision=bad)


# --- computing_in ---------------------------------------------------------------------


def test_computing_in_sets_the_backbone_only_and_puts_it_back():
    model = _model()
    before = _policies(model)
    backbone = {id(layer) for layer in model.backbone._flatten_layers()}
    with precision.computing_in(model, "mixed_bfloat16"):
        inside = _policies(model)
    assert _policies(model) == before
    changed = {key for key, name in inside.items() if name != before[key]}
    assert changed and changed <= backbone
    assert backbone <= set(inside)
    assert all(inside[key] == "mixed_bfloat16" for key in backbone)
    assert all(name == before[key] for key, name in inside.items() if key not in backbone)
    with pytest.raises(RuntimeError, match="boom"):
        with precision.computing_in(model, "mixed_bfloat16"):
            raise RuntimeError("boom")
    assert _policies(model) == before
    with pytest.raises(InvalidArgumentError, match="resolve"):
        with precision.computing_in(model, "auto"):
            pass


# --- predict --------------------------------------------------------------------------


def test_predict_in_bf16_is_close_to_float32_and_never_reused_by_float32():
    model = _model()
    fp32 = predict_proba(model, TEXTS, precision="float32")
    bf16 = predict_proba(model, TEXTS, precision="mixed_bfloat16")
    again = predict_proba(model, TEXTS, precision="float32")
    assert bf16.dtype == np.float32
    np.testing.assert_array_equal(again, fp32)  # its own traced function, not bf16's
    difference = np.abs(bf16 - fp32).max()
    # bfloat16 keeps 8 bits of mantissa: the outputs differ (it really ran), but little.
    assert 1e-6 < difference < 0.02, difference
    np.testing.assert_allclose(bf16.sum(axis=1), 1.0, atol=1e-5)  # float32 softmax
    # The reference: Keras' own mixed policy on the whole backbone, the plain graph.
    reference = _model()
    reference.set_weights(model.get_weights())
    for layer in reference.backbone._flatten_layers():
        layer.dtype_policy = "mixed_bfloat16"
    x = reference.preprocessor(TEXTS)
    expected = keras.ops.convert_to_numpy(reference(x)).astype("float32")
    # Same bfloat16 arithmetic, but padded to 32 and not the batch's longest text.
    np.testing.assert_allclose(bf16, expected, atol=0.01)
    assert np.abs(bf16 - expected).max() < difference + 0.01


def test_evaluate_takes_precision_and_reports_close_accuracy():
    model = _model()
    fp32 = textzoo.evaluate(model, (TEXTS, LABELS), precision="float32")
    bf16 = textzoo.evaluate(model, (TEXTS, LABELS), precision="mixed_bfloat16")
    assert abs(fp32.accuracy - bf16.accuracy) <= 2 / len(TEXTS)


# --- finetune -------------------------------------------------------------------------


def test_finetune_in_bf16_trains_float32_weights_and_leaves_the_model_float32(tmp_path):
    model = _model()
    before = _policies(model)
    start = [w.copy() for w in model.get_weights()]
    history = textzoo.finetune(
        model,
        (TEXTS, LABELS),
        validation_data=(TEXTS[:8], LABELS[:8]),
        epochs=3,
        freeze_epochs=1,
        batch_size=8,
        seed=3,
        restore_best=False,  # the last epoch's weights: the backbone's updates in bf16
        verbose=0,
        precision="mixed_bfloat16",
    )
    assert history.settings["precision"] == "mixed_bfloat16"
    after = _policies(model)
    assert {key: after[key] for key in before} == before  # held only while it trained
    assert all(v.dtype == "float32" for v in model.weights)
    assert all(v.dtype == "float32" for v in model.optimizer.variables if "float" in v.dtype)
    changed = [not np.array_equal(a, b) for a, b in zip(start, model.get_weights(), strict=True)]
    trainable = {id(v) for v in model.trainable_variables}
    moved = [c for v, c in zip(model.weights, changed, strict=True) if id(v) in trainable]
    assert sum(moved) >= 0.9 * len(moved)  # the backbone trained, not just the head
    losses = [r["loss"] for r in history.epochs]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    textzoo.save_pretrained(model, tmp_path / "saved")
    config = json.dumps(json.loads((tmp_path / "saved" / "config.json").read_text()))
    assert "bfloat16" not in config  # nothing saved changes
    reloaded = textzoo.load(str(tmp_path / "saved"))
    np.testing.assert_allclose(
        predict_proba(reloaded, TEXTS, precision="float32"),
        predict_proba(model, TEXTS, precision="float32"),
        atol=1e-6,
    )


def test_finetune_bf16_follows_float32_closely():
    runs = {}
    for policy in ("float32", "mixed_bfloat16"):
        model = _model()
        history = textzoo.finetune(
            model,
            (TEXTS, LABELS),
            epochs=2,
            freeze_epochs=0,
            batch_size=8,
            seed=5,
            verbose=0,
            precision=policy,
        )
        runs[policy] = ([r["loss"] for r in history.epochs], model.get_weights())
    (l32, w32), (l16, w16) = runs["float32"], runs["mixed_bfloat16"]
    np.testing.assert_allclose(l16, l32, rtol=0.05)
    assert any(not np.array_equal(a, b) for a, b in zip(w32, w16, strict=True))  # bf16 really ran


# --- export ---------------------------------------------------------------------------


def test_export_in_bf16_serves_close_probabilities_and_leaves_the_model(tmp_path):
    import tensorflow as tf

    model = _model()
    before = _policies(model)
    fp32 = predict_proba(model, TEXTS, precision="float32")
    bf16 = predict_proba(model, TEXTS, precision="mixed_bfloat16")
    out = textzoo.export(model, tmp_path / "serving", precision="mixed_bfloat16")
    after = _policies(model)
    assert {key: after[key] for key in before} == before
    serve = tf.saved_model.load(str(out)).signatures["serving_default"]
    served = serve(text=tf.constant(TEXTS))["probabilities"].numpy()
    assert served.dtype == np.float32
    np.testing.assert_allclose(served, bf16, atol=0.01)
    assert np.abs(served - fp32).max() > 1e-6  # the exported graph computes in bfloat16
    with pytest.raises(InvalidArgumentError, match="precision must be"):
        textzoo.export(model, tmp_path / "other", precision="int8")
    assert not (tmp_path / "other").exists()


# --- command line ---------------------------------------------------------------------


def test_cli_train_and_evaluate_take_precision(tmp_path):
    env = {
        **os.environ,
        "TEXTZOO_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
        "TEXTZOO_HOME": str(tmp_path / "home"),
        "HF_HOME": str(tmp_path / "hf"),
    }
    cli = [sys.executable, "-m", "tfx_textzoo.cli"]
    out = tmp_path / "model"
    train = subprocess.run(
        [*cli, "train", "bert-tiny", "--weights", "none", "--dataset", "ag_news-sample",
         "--max-train", "64", "--max-eval", "32", "--epochs", "2", "--freeze-epochs", "1",
         "--precision", "mixed_bfloat16", "--output", str(out), "--json"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-3000:]
    assert json.loads(train.stdout)["training"]["settings"]["precision"] == "mixed_bfloat16"
    assert "bfloat16" not in (out / "config.json").read_text()
    bad = subprocess.run(
        [*cli, "evaluate", str(out), "--dataset", "ag_news-sample", "--precision", "half"],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert bad.returncode == 2 and "'half' is not one of" in bad.stderr
