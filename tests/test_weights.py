"""Every weight format through the real `load(..., weights=...)` path, on tiny checkpoints
written here in the real on-disk formats. No network: TEXTZOO_OFFLINE=1 (conftest)."""

from __future__ import annotations

import ast
import dataclasses
import functools
import http.server
import json
import re
import shutil
import threading
import time
import types
import zipfile
from pathlib import Path

import huggingface_hub
import keras_hub
import numpy as np
import pytest
import reference_bert
from checkpoints import VOCAB, save_v2, tiny_weights, write_original_dir
from safetensors.numpy import save_file

import tfx_textzoo as textzoo
from tfx_textzoo import weights
from tfx_textzoo.registry import WeightSource
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


# --------------------------------------------------------------------------- converters


@pytest.fixture
def toy_format():
    """A converter registered for the test only: 'toy' = toy_weights.npz + vocab.txt."""
    calls = []

    def convert_toy(local, spec):
        calls.append(local)
        out = weights.conversion_dir(local, spec)
        if not out.exists():
            with np.load(Path(local.location) / "toy_weights.npz") as data:
                write_hf_dir(out, {k: data[k] for k in data.files}, prefix="")
        return out

    weights.register_converter(
        "toy",
        convert_toy,
        hf_patterns=["toy_weights.npz", "vocab.txt"],
        detect=lambda directory: (directory / "toy_weights.npz").is_file(),
        description="a toy directory (toy_weights.npz + vocab.txt)",
    )
    yield calls
    weights.unregister_converter("toy")


def write_toy_dir(directory: Path, hf_weights) -> Path:
    directory.mkdir(parents=True)
    np.savez(directory / "toy_weights.npz", **hf_weights)
    (directory / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    return directory


def test_registered_converter_reads_a_local_directory(tmp_path, toy_format):
    hf = tiny_weights(seed=13)
    directory = write_toy_dir(tmp_path / "toy", hf)
    model = textzoo.load(
        "bert-base-uncased", num_classes=2, allow_architecture_mismatch=True, weights=directory
    )
    assert_matches_reference(model, hf)
    [local] = toy_format
    assert (local.format, local.location) == ("toy", str(directory))
    assert local.source == WeightSource("local", str(directory))
    # Converted once into the cache; loading again reuses the conversion.
    textzoo.load(
        "bert-base-uncased", num_classes=2, allow_architecture_mismatch=True, weights=directory
    )
    converted = list((weights.cache_dir() / "converted").iterdir())
    assert [p.name.split("-")[0] for p in converted] == ["toy"]
    # A directory of no known format lists what it may hold, the toy format included.
    (tmp_path / "empty").mkdir()
    with pytest.raises(WeightsNotFoundError, match=re.escape("a toy directory (toy_weights.npz")):
        textzoo.load("bert-base-uncased", num_classes=2, weights=tmp_path / "empty")


def test_registered_converter_reads_a_hugging_face_repo(tmp_path, toy_format):
    hf = tiny_weights(seed=15)
    _populate_hf_cache("someone/toy-bert", write_toy_dir(tmp_path / "files", hf))
    spec = textzoo.registry.get_spec("bert-base-uncased")
    formats = [s.format for s in weights.sources_for(spec, "hf://someone/toy-bert")]
    assert formats[0] == "hf" and formats[-1] == "toy"
    model = textzoo.load(
        "bert-base-uncased",
        num_classes=2,
        allow_architecture_mismatch=True,
        weights="hf://someone/toy-bert",
    )
    assert_matches_reference(model, hf)
    [local] = toy_format
    assert local.format == "toy" and local.source == WeightSource("toy", "hf://someone/toy-bert")
    assert Path(local.location).is_relative_to(weights.cache_dir() / "hf")


def test_unknown_format_names_the_registered_ones():
    spec = dataclasses.replace(
        textzoo.registry.get_spec("bert-tiny"),
        sources=(WeightSource("no_such_format", "hf://someone/model"),),
    )
    with pytest.raises(ValueError, match="unknown weight source format 'no_such_format'") as info:
        weights.fetch(spec.sources[0], spec)
    for fmt in weights.registered_formats(spec):
        assert fmt in str(info.value)
    assert {"hf", "keras_hub", "local", "bert_tf_checkpoint", "tfhub"} <= set(
        weights.registered_formats(spec)
    )
    # Through the resolver: one attempt, the same message, in the error that lists attempts.
    with pytest.raises(WeightsNotFoundError) as info:
        weights.resolve_and_load(spec, "auto", lambda local: local)
    message = str(info.value)
    assert "[no_such_format] hf://someone/model" in message
    assert "unknown weight source format 'no_such_format'" in message
    assert "bert_tf_checkpoint, hf, keras_hub, local, tfhub" in message


def test_register_converter_refuses_builtin_and_duplicate_formats(toy_format):
    with pytest.raises(ValueError, match="read by the resolver itself"):
        weights.register_converter("hf", lambda local, spec: local.location)
    with pytest.raises(ValueError, match="already converted by .*convert_toy"):
        weights.register_converter("toy", lambda local, spec: local.location)


def test_family_converters_are_used(monkeypatch, tmp_path):
    """A family registration that carries converters (format -> callable) is consulted."""
    hf = tiny_weights(seed=17)
    directory = write_hf_dir(tmp_path / "hf", hf)
    seen = []

    def convert(local, spec):
        seen.append(local)
        return local.location

    bert = textzoo.registry.get_family("bert")
    family = types.SimpleNamespace(
        name="bert", builder=bert.builder, converters={"family_format": convert}
    )
    monkeypatch.setattr(textzoo.registry, "get_family", lambda name: family)
    spec = dataclasses.replace(
        textzoo.registry.get_spec("bert-tiny"),
        sources=(WeightSource("family_format", str(directory)),),
    )
    local = weights.resolve_and_load(spec, "auto", lambda local: local)
    assert (local.format, local.location) == ("hf", str(directory))
    assert [s.format for s in seen] == ["family_format"]


def test_hf_files_come_from_the_family(monkeypatch):
    spec = textzoo.registry.get_spec("bert-tiny")
    bert = textzoo.registry.get_family("bert")
    declared = types.SimpleNamespace(name="bert", builder=bert.builder, hf_files=None)
    monkeypatch.setattr(textzoo.registry, "get_family", lambda name: declared)
    generic = weights.hf_files_for(spec)
    assert generic == [*weights.HF_WEIGHT_FILES, *weights.GENERIC_HF_TOKENIZER_FILES]
    for name in ("vocab.txt", "vocab.json", "merges.txt", "*.model", "tokenizer.json"):
        assert name in generic
    declared.hf_files = ["vocab.json", "merges.txt"]
    assert weights.hf_files_for(spec) == [*weights.HF_WEIGHT_FILES, "vocab.json", "merges.txt"]


def test_hf_downloads_never_ask_for_pickles(tmp_path, monkeypatch):
    hf = tiny_weights(seed=19)
    snapshot = write_hf_dir(tmp_path / "snapshot", hf, tokenizer_config=True)
    requests = []

    def snapshot_download(repo_id, **kwargs):
        requests.append((repo_id, kwargs))
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    model = textzoo.load(
        "bert-base-uncased",
        num_classes=2,
        allow_architecture_mismatch=True,
        weights="hf://someone/tiny-bert",
    )
    assert_matches_reference(model, hf)
    [(repo_id, kwargs)] = requests
    assert repo_id == "someone/tiny-bert"
    assert kwargs["allow_patterns"] == weights.hf_files_for(
        textzoo.registry.get_spec("bert-base-uncased")
    )
    for pattern in ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl"):
        assert pattern in kwargs["ignore_patterns"]
    for pattern in kwargs["allow_patterns"]:
        assert not pattern.endswith((".bin", ".pt", ".pth", ".ckpt")), pattern


def _pickle_only_dir(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": 30}))
    (directory / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    # Not a real pickle: nothing may try to read it.
    (directory / "pytorch_model.bin").write_bytes(b"\x80\x04 never unpickled")
    return directory


def test_pickle_only_hugging_face_repo_is_refused(tmp_path):
    _populate_hf_cache("someone/pickled-bert", _pickle_only_dir(tmp_path / "files"))
    with pytest.raises(WeightsNotFoundError) as info:
        textzoo.load("bert-base-uncased", num_classes=2, weights="hf://someone/pickled-bert")
    message = str(info.value)
    assert "[hf] hf://someone/pickled-bert" in message
    assert "PickledWeightsError" in message and "pytorch_model.bin" in message
    assert "never loads a pickle" in message
    assert "safetensors/convert" in message and "safe_serialization=True" in message
    assert not (weights.cache_dir() / "converted").exists()


def test_pickle_only_local_directory_is_refused(tmp_path):
    directory = _pickle_only_dir(tmp_path / "pickled")
    with pytest.raises(WeightsNotFoundError) as info:
        textzoo.load("bert-base-uncased", num_classes=2, weights=directory)
    message = str(info.value)
    assert "pytorch_model.bin" in message and "never loads a pickle" in message


def test_tf_reading_knows_no_names(tmp_path):
    """The generic readers return whatever variables a checkpoint or SavedModel holds."""
    import tensorflow as tf

    from tfx_textzoo.weights import tf_reading

    kernel = np.arange(6, dtype=np.float32).reshape(2, 3)
    (tmp_path / "ckpt").mkdir()
    save_v2(tmp_path / "ckpt" / "model.ckpt-7", {"dense/kernel": kernel})
    prefix = tf_reading.find_tf_checkpoint(tmp_path / "ckpt")
    assert prefix == str(tmp_path / "ckpt" / "model.ckpt-7")
    checkpoint = tf_reading.TFCheckpoint(prefix)
    assert checkpoint.shapes == {"dense/kernel": [2, 3]}
    np.testing.assert_array_equal(checkpoint.read("dense/kernel"), kernel)
    data = next((tmp_path / "ckpt").glob("*.data-*"))
    data.write_bytes(data.read_bytes()[:8])
    with pytest.raises(ValueError, match="corrupt"):
        tf_reading.TFCheckpoint(prefix).read("dense/kernel")

    class Reusable(tf.Module):
        variables = None  # a reusable SavedModel saves its .variables

    module = Reusable()
    module.variables = [tf.Variable(kernel, name="layer/weight"), tf.Variable(3, name="step")]
    tf.saved_model.save(module, str(tmp_path / "sm" / "inner"))
    assert tf_reading.find_saved_model_dir(tmp_path / "sm") == tmp_path / "sm" / "inner"
    loaded = tf_reading.load_saved_model(tmp_path / "sm" / "inner")
    values = tf_reading.float_variables(loaded, tmp_path / "sm" / "inner")
    assert list(values) == ["layer/weight"]  # the int64 step is left out
    np.testing.assert_array_equal(values["layer/weight"], kernel)


def test_the_resolver_names_no_family():
    """The resolver's code (docstrings aside) names no family, format of one, or tokenizer."""
    package = Path(weights.__file__).parent
    for path in sorted(package.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
        code = ast.unparse(tree)  # comments and docstrings dropped
        found = re.findall(r"(?i)bert|electra|deberta|wordpiece", code)
        assert not found, f"{path.name} names {sorted(set(found))}"


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
