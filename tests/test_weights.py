"""Every weight format through the real `load(..., weights=...)` path, on tiny checkpoints
written here in the real on-disk formats. No network: TEXTZOO_OFFLINE=1 (conftest)."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import time
import zipfile
from pathlib import Path

import keras_hub
import numpy as np
import pytest
import reference_bert
from checkpoints import VOCAB, tiny_weights, write_original_dir
from safetensors.numpy import save_file

import tfx_textzoo as textzoo
from tfx_textzoo.weights import WeightsNotFoundError

TEXTS = ["the news of the world", "hello world", "a"]


def backbone_outputs(backbone, token_ids, segment_ids, padding_mask):
    out = backbone(
        {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask},
        training=False,
    )
    return np.asarray(out["sequence_output"]), np.asarray(out["pooled_output"])


def model_inputs(model, texts):
    x = model.preprocessor(texts)
    return (np.asarray(x["token_ids"]), np.asarray(x["segment_ids"]), np.asarray(x["padding_mask"]))


def assert_matches_reference(model, hf_weights, num_heads=2):
    token_ids, segment_ids, mask = model_inputs(model, TEXTS)
    seq, pooled = backbone_outputs(model.backbone, token_ids, segment_ids, mask)
    ref_seq, ref_pooled = reference_bert.bert_forward(
        hf_weights, num_heads, token_ids, segment_ids, mask, approximate_gelu=True
    )
    np.testing.assert_allclose(seq[mask], ref_seq[mask], atol=1e-5)
    np.testing.assert_allclose(pooled, ref_pooled, atol=1e-5)


def write_hf_dir(directory: Path, hf_weights, prefix="bert.", tokenizer_config=False) -> Path:
    directory.mkdir(parents=True)
    config = {
        "model_type": "bert",
        "architectures": ["BertModel"],
        "vocab_size": len(VOCAB),
        "hidden_size": 8,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 16,
        "max_position_embeddings": 32,
        "type_vocab_size": 2,
        "hidden_act": "gelu",
        "layer_norm_eps": 1e-12,
    }
    (directory / "config.json").write_text(json.dumps(config))
    save_file(
        {prefix + k: np.ascontiguousarray(v) for k, v in hf_weights.items()},
        str(directory / "model.safetensors"),
    )
    (directory / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    if tokenizer_config:
        (directory / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    return directory


def test_keras_hub_preset_directory(tmp_path):
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(VOCAB),
        num_layers=2,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=32,
    )
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=VOCAB, lowercase=True)
    preset = tmp_path / "preset"
    backbone.save_to_preset(str(preset))
    tokenizer.save_to_preset(str(preset))

    model = textzoo.load(
        "small-bert-L2-H128", num_classes=3, allow_architecture_mismatch=True, weights=str(preset)
    )
    token_ids, segment_ids, mask = model_inputs(model, TEXTS)
    got = backbone_outputs(model.backbone, token_ids, segment_ids, mask)
    want = backbone_outputs(backbone, token_ids, segment_ids, mask)
    np.testing.assert_allclose(got[0], want[0], atol=1e-6)
    np.testing.assert_allclose(got[1], want[1], atol=1e-6)
    assert model.preprocessor.tokenizer.get_vocabulary() == VOCAB
    assert model.predict(TEXTS, verbose=0).shape == (3, 3)


@pytest.mark.parametrize("prefix", ["bert.", ""])
def test_hugging_face_directory(tmp_path, prefix):
    hf = tiny_weights(seed=3)
    directory = write_hf_dir(tmp_path / "hf", hf, prefix=prefix)
    model = textzoo.load(
        "bert-base-uncased", num_classes=2, allow_architecture_mismatch=True, weights=directory
    )
    assert_matches_reference(model, hf)
    assert model.predict(TEXTS, verbose=0).shape == (3, 2)


def test_original_bert_tf_checkpoint_directory(tmp_path):
    hf = tiny_weights(seed=5)
    directory = write_original_dir(tmp_path / "uncased_L-2_H-8_A-2", hf)
    model = textzoo.load(
        "small-bert-L4", num_classes=4, allow_architecture_mismatch=True, weights=str(directory)
    )
    assert_matches_reference(model, hf)
    # The conversion is cached under TEXTZOO_HOME and reused.
    converted = list((textzoo.weights.cache_dir() / "converted").iterdir())
    assert len(converted) == 1 and (converted[0] / "model.safetensors").exists()


def _populate_hf_cache(repo_id: str, files: Path) -> None:
    """Lay files out exactly as huggingface_hub's cache does (what `hf download` leaves)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    root = textzoo.weights.cache_dir() / "hf" / ("models--" + repo_id.replace("/", "--"))
    snapshot = root / "snapshots" / commit
    shutil.copytree(files, snapshot)
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text(commit)


def test_hf_uri_from_prepopulated_cache_offline(tmp_path):
    hf = tiny_weights(seed=7)
    _populate_hf_cache(
        "someone/tiny-bert", write_hf_dir(tmp_path / "files", hf, tokenizer_config=True)
    )
    model = textzoo.load(
        "bert-base-uncased",
        num_classes=2,
        allow_architecture_mismatch=True,
        weights="hf://someone/tiny-bert",
    )
    assert_matches_reference(model, hf)


def test_hf_uri_with_original_tf_checkpoint_in_cache(tmp_path):
    # The google/bert_uncased_L-* repos hold the original TF checkpoint, not safetensors.
    hf = tiny_weights(seed=9)
    _populate_hf_cache(
        "google/bert_uncased_L-2_H-8_A-2", write_original_dir(tmp_path / "files", hf)
    )
    model = textzoo.load(
        "small-bert-L2-H128",
        num_classes=2,
        allow_architecture_mismatch=True,
        weights="hf://google/bert_uncased_L-2_H-8_A-2",
    )
    assert_matches_reference(model, hf)


def test_zip_archive_over_http_on_loopback(tmp_path, monkeypatch):
    """The Google release-zip source: downloaded (from a loopback server), unpacked, converted."""
    hf = tiny_weights(seed=11)
    src = write_original_dir(tmp_path / "uncased_L-2_H-8_A-2", hf)
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "uncased_L-2_H-8_A-2.zip", "w") as zf:
        for f in src.iterdir():
            zf.write(f, f"uncased_L-2_H-8_A-2/{f.name}")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.delenv("TEXTZOO_OFFLINE")
        monkeypatch.delenv("HF_HUB_OFFLINE")
        url = f"http://127.0.0.1:{server.server_port}/uncased_L-2_H-8_A-2.zip"
        model = textzoo.load(
            "small-bert-L2-H128", num_classes=2, allow_architecture_mismatch=True, weights=url
        )
    finally:
        server.shutdown()
    assert_matches_reference(model, hf)
    downloads = textzoo.weights.cache_dir() / "downloads"
    assert [p.name for p in downloads.iterdir()] == ["uncased_L-2_H-8_A-2"]  # no temp left


def test_offline_with_empty_cache_lists_every_source_quickly():
    spec = textzoo.registry.get_spec("small-bert-L2-H128")
    start = time.monotonic()
    with pytest.raises(WeightsNotFoundError) as info:
        textzoo.load("bert-tiny", num_classes=2)
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert len(spec.sources) == 3
    for source in spec.sources:
        assert source.uri in message
    assert "offline" in message
    assert str(textzoo.weights.cache_dir()) in message
    assert "TEXTZOO_HOME" in message and "weights=None" in message


def test_missing_directory_is_reported():
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        textzoo.load("bert-tiny", num_classes=2, weights="/no/such/weights/dir")


def test_unrecognised_directory_says_what_is_expected(tmp_path):
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(WeightsNotFoundError, match="model.safetensors"):
        textzoo.load("bert-tiny", num_classes=2, weights=tmp_path)


def test_corrupt_safetensors_is_a_clear_error(tmp_path):
    directory = write_hf_dir(tmp_path / "hf", tiny_weights())
    data = (directory / "model.safetensors").read_bytes()
    (directory / "model.safetensors").write_bytes(data[: len(data) // 3])
    with pytest.raises(WeightsNotFoundError) as info:
        textzoo.load("bert-base-uncased", num_classes=2, weights=directory)
    assert "could not be loaded" in str(info.value) and "corrupt" in str(info.value)
    assert str(directory) in str(info.value)


def test_corrupt_config_json_is_a_clear_error(tmp_path):
    directory = write_hf_dir(tmp_path / "hf", tiny_weights())
    (directory / "config.json").write_text("{not json")
    with pytest.raises(WeightsNotFoundError, match="not valid JSON"):
        textzoo.load("bert-base-uncased", num_classes=2, weights=directory)


def test_corrupt_tf_checkpoint_is_a_clear_error(tmp_path):
    directory = write_original_dir(tmp_path / "ckpt", tiny_weights())
    data_file = next(directory.glob("bert_model.ckpt.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:100])
    with pytest.raises(WeightsNotFoundError, match="corrupt"):
        textzoo.load("small-bert-L2-H128", num_classes=2, weights=directory)
    assert not (textzoo.weights.cache_dir() / "converted").exists() or not any(
        (textzoo.weights.cache_dir() / "converted").iterdir()
    )


def test_catalog_source_with_wrong_architecture_is_rejected(tmp_path):
    # A checkpoint under the catalog's own source must have the catalog's architecture.
    hf = tiny_weights(seed=1)
    _populate_hf_cache(
        "sentence-transformers/all-MiniLM-L6-v2", write_hf_dir(tmp_path / "files", hf)
    )
    with pytest.raises(WeightsNotFoundError, match="architecture"):
        textzoo.load("all-minilm-l6-v2", num_classes=2)


@pytest.mark.integration
def test_real_all_minilm_l6_v2(shared_dir):
    """Real pretrained weights: backbone vs an independent numpy forward pass, tokenizer vs
    the Hugging Face `tokenizers` library reading the model's own tokenizer.json."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    path = shared_dir / "models" / "all-minilm-l6-v2"
    model = textzoo.load(
        "all-minilm-l6-v2", labels=["neg", "pos"], weights=path, sequence_length=32
    )
    assert model.backbone.num_layers == 6 and model.backbone.hidden_dim == 384
    texts = [
        "A man is playing a guitar.",
        "Stocks rallied on Friday, lifting the Dow!",
        "A person plays an instrument.",
    ]
    token_ids, segment_ids, mask = model_inputs(model, texts)
    reference_tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    reference_tok.no_padding()
    for row, text in enumerate(texts):
        assert token_ids[row][mask[row]].tolist() == reference_tok.encode(text).ids

    weights = load_file(str(path / "model.safetensors"))
    seq, _ = backbone_outputs(model.backbone, token_ids, segment_ids, mask)
    ref_seq, _ = reference_bert.bert_forward(
        weights, 12, token_ids, segment_ids, mask, approximate_gelu=True
    )
    np.testing.assert_allclose(seq[mask], ref_seq[mask], atol=1e-4)
    # keras-hub's BERT uses tanh-GELU; HF's MiniLM was trained with exact GELU.
    exact_seq, _ = reference_bert.bert_forward(weights, 12, token_ids, segment_ids, mask)
    np.testing.assert_allclose(seq[mask], exact_seq[mask], atol=2e-2)

    # Sentence-embedding sanity: mean pooling puts the paraphrase closest.
    pooled = (seq * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
    assert pooled[0] @ pooled[2] > 0.5 > pooled[0] @ pooled[1]
    assert model.predict(texts, verbose=0).shape == (3, 2)
