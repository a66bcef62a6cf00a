"""TF-Hub handles and SavedModels: resolution (cache, offline, download), conversion to a
keras-hub BertBackbone, and preprocessing parity with the TF-Hub preprocessing ops.

The SavedModels are tiny and written by the tests (tests/tfhub_models.py) with the
published encoders' interface and variable names. No network: the download test talks to a
loopback server."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import shutil
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import reference_bert
import tensorflow as tf
import tfhub_models
from tfhub_models import TFHUB_VOCAB

import tfx_textzoo as textzoo
from tfx_textzoo.registry import WeightSource
from tfx_textzoo.weights import WeightsNotFoundError, sources_for

HANDLE = "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-4_H-128_A-2/1"
TEXTS = ["the news of the world", "Hello, World!", "a", "CAFÉ news"]
NUM_HEADS = 2


@pytest.fixture(scope="module")
def hf_weights():
    return reference_bert.random_bert_weights(
        vocab_size=len(TFHUB_VOCAB), hidden=8, layers=2, intermediate=16, max_positions=160,
        seed=21,
    )  # fmt: skip


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory, hf_weights):
    return tfhub_models.write_encoder(tmp_path_factory.mktemp("hub") / "encoder", hf_weights)


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    cache = tmp_path / "tfhub_modules"
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    return cache


def encoder_inputs(model, texts):
    x = model.preprocessor(texts)
    return {
        "input_word_ids": np.asarray(x["token_ids"], np.int32),
        "input_mask": np.asarray(x["padding_mask"], np.int32),
        "input_type_ids": np.asarray(x["segment_ids"], np.int32),
    }


def assert_matches_saved_model(model, saved_model_dir, hf_weights=None):
    """The backbone reproduces the SavedModel's own outputs (and the numpy reference)."""
    inputs = encoder_inputs(model, TEXTS)
    want = tf.saved_model.load(str(saved_model_dir))(inputs)
    got = model.backbone(
        {
            "token_ids": inputs["input_word_ids"],
            "segment_ids": inputs["input_type_ids"],
            "padding_mask": inputs["input_mask"],
        },
        training=False,
    )
    mask = inputs["input_mask"].astype(bool)
    seq, pooled = np.asarray(got["sequence_output"]), np.asarray(got["pooled_output"])
    np.testing.assert_allclose(seq[mask], want["sequence_output"].numpy()[mask], atol=1e-5)
    np.testing.assert_allclose(pooled, want["pooled_output"].numpy(), atol=1e-5)
    assert len(want["encoder_outputs"]) == model.backbone.num_layers
    if hf_weights is not None:
        ref_seq, ref_pooled = reference_bert.bert_forward(
            hf_weights, NUM_HEADS, inputs["input_word_ids"], inputs["input_type_ids"],
            inputs["input_mask"], approximate_gelu=True,
        )  # fmt: skip
        np.testing.assert_allclose(seq[mask], ref_seq[mask], atol=1e-5)
        np.testing.assert_allclose(pooled, ref_pooled, atol=1e-5)


def test_weights_strings_become_tfhub_sources():
    spec = textzoo.registry.get_spec("small-bert-L4-H128")
    kaggle = "https://www.kaggle.com/models/tensorflow/bert/tensorFlow2/en-uncased-l-4-h-128-a-2/2"
    for weights, uri in [
        (f"tfhub://{HANDLE}", HANDLE),
        ("tfhub://tensorflow/small_bert/bert_en_uncased_L-4_H-128_A-2/1", HANDLE),
        (HANDLE, HANDLE),
        (kaggle, kaggle),
        ("https://example.com/models/encoder.tar.gz", "https://example.com/models/encoder.tar.gz"),
    ]:
        assert sources_for(spec, weights) == [WeightSource("tfhub", uri)]
    assert textzoo.weights.tfhub_handle(f"tfhub://{HANDLE.split('dev/')[1]}") == HANDLE
    # The lesson's handle is a catalog source of small-bert-L4-H128, after the others.
    assert spec.sources[-1] == WeightSource("tfhub", HANDLE, spec.sources[-1].note)


def test_saved_model_directory(encoder_dir, hf_weights):
    model = textzoo.load(
        "small-bert-L4-H128",
        num_classes=2,
        allow_architecture_mismatch=True,
        weights=str(encoder_dir),
    )
    assert (model.backbone.num_layers, model.backbone.hidden_dim) == (2, 8)
    assert model.backbone.num_heads == NUM_HEADS
    assert model.preprocessor.tokenizer.get_vocabulary() == TFHUB_VOCAB
    assert model.preprocessor.tokenizer.lowercase is True
    assert_matches_saved_model(model, encoder_dir, hf_weights)
    assert model.predict(TEXTS, verbose=0).shape == (4, 2)


def test_handle_from_prepopulated_tfhub_cache(encoder_dir, hf_weights, hub_cache):
    # What `hub.load(HANDLE)` or a hand-unpacked Kaggle .tar.gz leaves behind.
    folder = hub_cache / hashlib.sha1(HANDLE.encode("utf8")).hexdigest()
    assert folder.name == "bc26e5c2abfce0e12153df21f8ff66db5f4488c8"
    shutil.copytree(encoder_dir, folder)
    model = textzoo.load(
        "small-bert-L4-H128",
        num_classes=2,
        allow_architecture_mismatch=True,
        weights=f"tfhub://{HANDLE}",
    )
    assert_matches_saved_model(model, folder, hf_weights)
    # The short form names the same cache folder; the conversion is cached and reused.
    short = "tfhub://tensorflow/small_bert/bert_en_uncased_L-4_H-128_A-2/1"
    textzoo.load(
        "small-bert-L4-H128", num_classes=2, allow_architecture_mismatch=True, weights=short
    )
    converted = list((textzoo.weights.cache_dir() / "converted").iterdir())
    assert len(converted) == 1 and (converted[0] / "model.safetensors").exists()


def test_offline_with_empty_tfhub_cache_says_how_to_fill_it(hub_cache):
    folder = hub_cache / hashlib.sha1(HANDLE.encode("utf8")).hexdigest()
    with pytest.raises(WeightsNotFoundError) as info:
        textzoo.load("small-bert-L4-H128", num_classes=2, weights=f"tfhub://{HANDLE}")
    message = str(info.value)
    for needle in (HANDLE, str(folder), folder.name, "TFHUB_CACHE_DIR", "tar -xzf", "offline"):
        assert needle in message, needle
    # The catalog's own sources list it too, with the same advice.
    with pytest.raises(WeightsNotFoundError) as info:
        textzoo.load("small-bert-L4-H128", num_classes=2)
    assert HANDLE in str(info.value) and str(folder) in str(info.value)


def test_download_over_http_on_loopback(encoder_dir, hf_weights, hub_cache, tmp_path, monkeypatch):
    """The online path: `<handle>?tf-hub-format=compressed`, unpacked atomically into the cache."""
    served = tmp_path / "served" / "publisher" / "tiny-bert"
    served.mkdir(parents=True)
    with tarfile.open(served / "1", "w:gz") as archive:  # flat, like TF-Hub's archives
        for path in sorted(encoder_dir.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(encoder_dir)), recursive=False)
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path / "served"))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    handle = f"http://127.0.0.1:{server.server_port}/publisher/tiny-bert/1"
    try:
        monkeypatch.delenv("TEXTZOO_OFFLINE")
        monkeypatch.delenv("HF_HUB_OFFLINE")
        model = textzoo.load(
            "small-bert-L4-H128",
            num_classes=2,
            allow_architecture_mismatch=True,
            weights=f"tfhub://{handle}",
        )
    finally:
        server.shutdown()
    assert requests == ["/publisher/tiny-bert/1?tf-hub-format=compressed"]
    sha1 = hashlib.sha1(handle.encode("utf8")).hexdigest()
    assert sorted(p.name for p in hub_cache.iterdir()) == [sha1, f"{sha1}.descriptor.txt"]
    assert f"Module: {handle}" in (hub_cache / f"{sha1}.descriptor.txt").read_text()
    assert_matches_saved_model(model, hub_cache / sha1, hf_weights)


def test_archive_with_a_path_escape_is_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"evil"))
    buffer.seek(0)
    with pytest.raises(ValueError, match="outside"):
        textzoo.weights._extract_tar_stream(buffer, tmp_path / "dst")
    assert not (tmp_path / "evil.txt").exists()


def test_fine_tune_step_then_save_and_load(encoder_dir, tmp_path):
    model = textzoo.load(
        "small-bert-L4-H128",
        labels=["neg", "pos"],
        allow_architecture_mismatch=True,
        weights=str(encoder_dir),
    )
    before = [np.array(w) for w in model.backbone.trainable_weights]
    model.fit(tf.constant(TEXTS), np.array([0, 1, 0, 1]), batch_size=4, epochs=1, shuffle=False,
              verbose=0)  # fmt: skip
    after = [np.array(w) for w in model.backbone.trainable_weights]
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))

    out = textzoo.save_pretrained(model, tmp_path / "saved")
    assert not list(Path(out).rglob("saved_model.pb"))  # a normal Keras 3 model, no SavedModel
    restored = textzoo.load(out)
    np.testing.assert_allclose(
        restored.predict(TEXTS, verbose=0), model.predict(TEXTS, verbose=0), atol=1e-6
    )
    assert restored.preprocessor.tokenizer.strip_accents is True


def test_lower_casing_comes_from_the_saved_model(tmp_path, hf_weights):
    cased = tfhub_models.write_encoder(tmp_path / "cased", hf_weights, do_lower_case=False)
    model = textzoo.load(
        "small-bert-L4-H128", num_classes=2, allow_architecture_mismatch=True, weights=str(cased)
    )
    tokenizer = model.preprocessor.tokenizer
    assert tokenizer.lowercase is False and tokenizer.strip_accents is False
    ids = np.asarray(model.preprocessor(["CAFÉ Hello"])["token_ids"])[0]
    assert ids[1:3].tolist() == [TFHUB_VOCAB.index("CAFÉ"), TFHUB_VOCAB.index("Hello")]


def test_scoped_names_and_extra_heads(tmp_path, hf_weights):
    # A scope prefix on every name, and an MLM head that is not part of the encoder.
    extra = {"predictions/transform/dense/kernel": np.ones((8, 8), np.float32)}
    path = tfhub_models.write_encoder(
        tmp_path / "scoped", hf_weights, prefix="bert_encoder/", extra=extra
    )
    model = textzoo.load(
        "small-bert-L4-H128", num_classes=2, allow_architecture_mismatch=True, weights=str(path)
    )
    assert_matches_saved_model(model, path, hf_weights)


def test_tf1_hub_module_variable_names(tmp_path, hf_weights):
    path = tfhub_models.write_encoder(tmp_path / "bert_uncased_L-2_H-8_A-2", hf_weights,
                                      layout="tf1")  # fmt: skip
    model = textzoo.load(
        "small-bert-L4-H128", num_classes=2, allow_architecture_mismatch=True, weights=str(path)
    )
    assert model.backbone.num_heads == 2  # from the _A-2 in the name: TF1 kernels are 2-D
    assert_matches_saved_model(model, path, hf_weights)


@pytest.mark.parametrize(
    "damage, match",
    [
        ("truncate_graph", "corrupt or incomplete"),
        ("drop_variables", "incomplete"),
        ("truncate_data", "corrupt or incomplete"),
        ("drop_vocab", "vocab"),
    ],
)
def test_corrupt_saved_model_is_a_clear_error(encoder_dir, tmp_path, damage, match):
    path = tmp_path / "encoder"
    shutil.copytree(encoder_dir, path)
    if damage == "truncate_graph":
        data = (path / "saved_model.pb").read_bytes()
        (path / "saved_model.pb").write_bytes(data[: len(data) // 3])
    elif damage == "drop_variables":
        shutil.rmtree(path / "variables")
    elif damage == "truncate_data":
        data_file = next((path / "variables").glob("variables.data-*"))
        data_file.write_bytes(data_file.read_bytes()[:50])
    else:
        (path / "assets" / "vocab.txt").unlink()
    with pytest.raises(WeightsNotFoundError, match=match) as info:
        textzoo.load("small-bert-L4-H128", num_classes=2, weights=str(path))
    assert str(path) in str(info.value)
    converted = textzoo.weights.cache_dir() / "converted"
    assert not converted.exists() or not any(converted.iterdir())  # nothing half-written


def test_preprocessing_model_is_not_an_encoder(tmp_path):
    path = tfhub_models.write_preprocessor(tmp_path / "preprocess", TFHUB_VOCAB)
    with pytest.raises(WeightsNotFoundError, match="preprocessing"):
        textzoo.load("small-bert-L4-H128", num_classes=2, weights=str(path))


PARITY_TEXTS = [
    "Hello, World!",
    "CAFÉ news",
    "naïve résumé of the world",
    "the news " * 100,  # longer than 128 tokens: truncated, [SEP] kept
    "中国 hello",
    "",
    "  tab\tand\nnewline ",
    "unaffable!!",
    "[CLS] is not special in text",
    "hello 🙂 world",
    "Ünïcödé? Tést.",
]


def test_preprocessor_matches_tfhub_preprocessing(encoder_dir, tmp_path):
    """Our preprocessor vs the TF-Hub BERT preprocessing ops (tensorflow_text BertTokenizer,
    RoundRobinTrimmer, combine_segments, pad_model_inputs) saved as a SavedModel, at the
    TF-Hub length 128, for single texts and pairs."""
    model = textzoo.load(
        "small-bert-L4-H128",
        num_classes=2,
        allow_architecture_mismatch=True,
        weights=str(encoder_dir),
    )
    hub = tf.saved_model.load(str(tfhub_models.write_preprocessor(tmp_path / "pre", TFHUB_VOCAB)))
    first, second = tf.constant(PARITY_TEXTS), tf.constant(PARITY_TEXTS[::-1])
    for ours, theirs in [
        (model.preprocessor(first), hub(first)),
        (model.preprocessor(x=(first, second)), hub.pair(first, second)),
    ]:
        for our_key, hub_key in [
            ("token_ids", "input_word_ids"),
            ("padding_mask", "input_mask"),
            ("segment_ids", "input_type_ids"),
        ]:
            got = np.asarray(ours[our_key]).astype(np.int64)
            want = theirs[hub_key].numpy().astype(np.int64)
            assert got.shape == want.shape == (len(PARITY_TEXTS), 128)
            np.testing.assert_array_equal(got, want, err_msg=our_key)
    assert np.asarray(model.preprocessor(first)["token_ids"])[1, 1] == TFHUB_VOCAB.index("cafe")


def test_tf1_hub_format_module(tmp_path, hf_weights):
    """TF1 Hub modules have two MetaGraphs and no callable; check against the numpy reference."""
    path = tfhub_models.write_tf1_hub_module(tmp_path / "bert_uncased_L-2_H-8_A-2", hf_weights)
    model = textzoo.load(
        "small-bert-L4-H128", num_classes=2, allow_architecture_mismatch=True, weights=str(path)
    )
    inputs = encoder_inputs(model, TEXTS)
    got = model.backbone(
        {
            "token_ids": inputs["input_word_ids"],
            "segment_ids": inputs["input_type_ids"],
            "padding_mask": inputs["input_mask"],
        },
        training=False,
    )
    mask = inputs["input_mask"].astype(bool)
    ref_seq, ref_pooled = reference_bert.bert_forward(
        hf_weights, NUM_HEADS, inputs["input_word_ids"], inputs["input_type_ids"],
        inputs["input_mask"], approximate_gelu=True,
    )  # fmt: skip
    np.testing.assert_allclose(np.asarray(got["sequence_output"])[mask], ref_seq[mask], atol=1e-5)
    np.testing.assert_allclose(np.asarray(got["pooled_output"]), ref_pooled, atol=1e-5)
