"""Tests for converting original Google BERT TF checkpoints to the Hugging Face format.

The checkpoints are written here in the ORIGINAL format (``tf.raw_ops.SaveV2``, TF1 variable
names such as ``bert/encoder/layer_0/attention/self/query/kernel`` with ``[in, out]``
kernels), independently of the name mapping in the module under test.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import keras_hub
import numpy as np
import pytest
import reference_bert
from checkpoints import (
    CONFIG,
    VOCAB,
    original_bert_variables,
    save_v2,
    tiny_weights,
    with_training_leftovers,
    write_original_dir,
)

from tfx_textzoo.families import bert_checkpoint as bc

SHARED_MINILM = Path(__file__).resolve().parents[2] / "shared" / "models" / "all-minilm-l6-v2"


def padded_batch(vocab_size: int, seq_len: int = 12, lengths=(12, 7, 3), seed: int = 1):
    rng = np.random.default_rng(seed)
    batch = len(lengths)
    token_ids = np.zeros((batch, seq_len), np.int32)
    segment_ids = np.zeros((batch, seq_len), np.int32)
    padding_mask = np.zeros((batch, seq_len), bool)
    for row, n in enumerate(lengths):
        token_ids[row, :n] = rng.integers(5, vocab_size, size=n)
        token_ids[row, 0] = 2  # [CLS]
        token_ids[row, n - 1] = 3  # [SEP]
        segment_ids[row, n // 2 : n] = 1
        padding_mask[row, :n] = True
    return token_ids, segment_ids, padding_mask


def keras_outputs(backbone, token_ids, segment_ids, padding_mask):
    out = backbone(
        {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask},
        training=False,
    )
    to_np = keras_hub.src.utils.keras_utils.keras.ops.convert_to_numpy
    return to_np(out["sequence_output"]), to_np(out["pooled_output"])


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """One tiny original-format checkpoint and its conversion, shared by several tests."""
    root = tmp_path_factory.mktemp("bert")
    hf = tiny_weights()
    src = write_original_dir(root / "uncased_L-2_H-8_A-2", hf)
    dst = root / "hf" / "uncased_L-2_H-8_A-2"
    returned = bc.convert_tf_checkpoint_to_hf(src, dst)
    return hf, src, dst, returned


# --------------------------------------------------------------------------- end to end


def test_converted_backbone_matches_reference(converted):
    hf, _, dst, returned = converted
    assert returned == str(dst)
    assert listing(dst) == sorted(bc.HF_FILES)
    backbone = keras_hub.models.BertBackbone.from_preset(str(dst))
    assert backbone.num_layers == 2 and backbone.hidden_dim == 8 and backbone.num_heads == 2

    token_ids, segment_ids, padding_mask = padded_batch(CONFIG["vocab_size"])
    seq, pooled = keras_outputs(backbone, token_ids, segment_ids, padding_mask)
    ref_seq, ref_pooled = reference_bert.bert_forward(hf, 2, token_ids, segment_ids, padding_mask)

    assert seq.shape == (3, 12, 8) and pooled.shape == (3, 8)
    real = padding_mask  # outputs at padded positions are unspecified
    np.testing.assert_allclose(seq[real], ref_seq[real], atol=1e-5, rtol=0)
    np.testing.assert_allclose(pooled, ref_pooled, atol=1e-5, rtol=0)

    # The comparison has teeth: ignoring the padding mask, or swapping the two segments,
    # changes the reference far beyond the tolerance.
    unmasked, _ = reference_bert.bert_forward(
        hf, 2, token_ids, segment_ids, np.ones_like(padding_mask)
    )
    assert np.abs(unmasked[1:][real[1:]] - seq[1:][real[1:]]).max() > 1e-3
    swapped, _ = reference_bert.bert_forward(hf, 2, token_ids, 1 - segment_ids, padding_mask)
    assert np.abs(swapped[real] - seq[real]).max() > 1e-2


def test_converted_files(converted):
    hf, src, dst, _ = converted
    from safetensors.numpy import load_file

    tensors = load_file(str(dst / "model.safetensors"))
    # Exactly the BertModel tensors: no bert. prefix, no adam slots, no cls/ heads, no step.
    assert set(tensors) == set(hf)
    for name, value in hf.items():
        assert tensors[name].dtype == np.float32
        np.testing.assert_array_equal(tensors[name], value, err_msg=name)

    config = json.loads((dst / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert config["architectures"] == ["BertModel"]
    for key in (
        "vocab_size",
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "max_position_embeddings",
        "type_vocab_size",
        "hidden_act",
    ):
        assert config[key] == CONFIG[key], key
    assert (dst / "vocab.txt").read_bytes() == (src / "vocab.txt").read_bytes()
    assert json.loads((dst / "tokenizer_config.json").read_text())["do_lower_case"] is True

    tokenizer = keras_hub.models.BertTokenizer.from_preset(str(dst))
    ids = np.asarray(tokenizer("Hello WORLD News"))
    assert ids.tolist() == [VOCAB.index("hello"), VOCAB.index("world"), VOCAB.index("news")]


def test_read_tf_checkpoint_names_and_transposes(converted):
    hf, src, _, _ = converted
    tensors = bc.read_tf_checkpoint(bc.find_tf_checkpoint(src))
    assert set(tensors) == set(hf)
    q = tensors["encoder.layer.1.attention.self.query.weight"]
    assert q.flags.c_contiguous and q.dtype == np.float32
    np.testing.assert_array_equal(q, hf["encoder.layer.1.attention.self.query.weight"])
    # Non-square kernels show the [in, out] -> [out, in] transpose unambiguously.
    assert tensors["encoder.layer.0.intermediate.dense.weight"].shape == (16, 8)
    assert tensors["encoder.layer.0.output.dense.weight"].shape == (8, 16)


def test_reference_accepts_bert_prefix(converted):
    hf = converted[0]
    token_ids, segment_ids, padding_mask = padded_batch(CONFIG["vocab_size"], lengths=(5, 2))
    a = reference_bert.bert_forward(hf, 2, token_ids, segment_ids, padding_mask)
    b = reference_bert.bert_forward(
        {"bert." + k: v for k, v in hf.items()}, 2, token_ids, segment_ids, padding_mask
    )
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_reference_gelu_is_exact():
    import math

    x = np.array([-3.0, -1.0, -0.1, 0.0, 0.5, 2.0])
    expected = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]
    np.testing.assert_allclose(reference_bert.gelu(x), expected, rtol=0, atol=1e-12)
    assert abs(reference_bert.gelu(np.array(1.0)) - 0.8413447460685429) < 1e-12


# --------------------------------------------------------------------------- idempotence


def test_second_call_does_not_rewrite(converted, tmp_path):
    hf, _, _, _ = converted
    src = write_original_dir(tmp_path / "src", hf)
    dst = tmp_path / "out"
    assert bc.convert_tf_checkpoint_to_hf(src, dst) == str(dst)
    before = {name: os.stat(dst / name).st_mtime_ns for name in bc.HF_FILES}
    inode = os.stat(dst).st_ino
    # Without the checkpoint data the second call can only succeed by not reading it.
    (src / "bert_model.ckpt.data-00000-of-00001").unlink()
    assert bc.convert_tf_checkpoint_to_hf(src, dst) == str(dst)
    assert {name: os.stat(dst / name).st_mtime_ns for name in bc.HF_FILES} == before
    assert os.stat(dst).st_ino == inode
    assert listing(tmp_path) == ["out", "src"]
    with pytest.raises(ValueError, match="do_lower_case=True"):
        bc.convert_tf_checkpoint_to_hf(src, dst, lowercase=False)


def test_converted_directory_has_normal_permissions_and_no_leftovers(converted):
    """It was renamed from a tempfile.mkdtemp directory and kept its private mode 0700."""
    _, _, dst, _ = converted
    umask = os.umask(0)
    os.umask(umask)
    assert dst.stat().st_mode & 0o777 == 0o777 & ~umask
    assert listing(dst.parent) == [dst.name]


def test_empty_dst_is_filled_and_foreign_dst_is_refused(converted, tmp_path):
    hf, _, _, _ = converted
    src = write_original_dir(tmp_path / "src", hf)
    empty = tmp_path / "empty"
    empty.mkdir()
    bc.convert_tf_checkpoint_to_hf(src, empty)
    assert listing(empty) == sorted(bc.HF_FILES)

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not a complete conversion"):
        bc.convert_tf_checkpoint_to_hf(src, foreign)
    assert listing(foreign) == ["notes.txt"]


# --------------------------------------------------------------------------- failures


def test_missing_variable_is_named_and_nothing_is_left_behind(converted, tmp_path):
    hf, _, _, _ = converted
    missing = "bert/encoder/layer_1/attention/output/LayerNorm/beta"
    src = write_original_dir(tmp_path / "src", hf, drop=(missing,))
    out_parent = tmp_path / "converted"
    out_parent.mkdir()
    dst = out_parent / "model"
    with pytest.raises(ValueError) as info:
        bc.convert_tf_checkpoint_to_hf(src, dst)
    message = str(info.value)
    assert missing in message
    assert str(src / "bert_model.ckpt") in message
    assert "not an original Google BERT checkpoint or is corrupt" in message
    assert listing(out_parent) == []  # no dst, no temporary sibling
    with pytest.raises(ValueError, match="layer_1/attention/output/LayerNorm/beta"):
        bc.read_tf_checkpoint(src / "bert_model.ckpt")


def test_not_a_bert_checkpoint(tmp_path):
    save_v2(tmp_path / "model.ckpt", {"dense/kernel": np.ones((2, 2), np.float32)})
    with pytest.raises(ValueError) as info:
        bc.read_tf_checkpoint(tmp_path / "model.ckpt")
    assert "bert/embeddings/word_embeddings" in str(info.value)
    assert "no 'bert/...' variables" in str(info.value)


@pytest.mark.parametrize(
    "config_change, checkpoint_layers, match",
    [
        ({"num_hidden_layers": 3}, 2, "2 encoder layers but the config says num_hidden_layers=3"),
        ({"num_hidden_layers": 1}, 2, "2 encoder layers but the config says num_hidden_layers=1"),
        (
            {"vocab_size": 40},
            None,
            r"embeddings.word_embeddings.weight is \[30, 8\] \(expected \[40, 8\]\)",
        ),
        ({"intermediate_size": 12}, None, r"intermediate.dense.weight is \[16, 8\]"),
    ],
)
def test_config_mismatch_is_refused_atomically(
    converted, tmp_path, config_change, checkpoint_layers, match
):
    hf, _, _, _ = converted
    assert len(VOCAB) == 30
    config = {**CONFIG, **config_change}
    src = write_original_dir(
        tmp_path / "src", hf, config=config, checkpoint_layers=checkpoint_layers
    )
    out_parent = tmp_path / "converted"
    with pytest.raises(ValueError, match=match):
        bc.convert_tf_checkpoint_to_hf(src, out_parent / "model")
    assert listing(out_parent) == []


def test_vocab_larger_than_config_is_refused(converted, tmp_path):
    hf, _, _, _ = converted
    src = write_original_dir(tmp_path / "src", hf)
    (src / "vocab.txt").write_text("\n".join(VOCAB + ["extra1", "extra2"]) + "\n")
    with pytest.raises(ValueError, match="32 entries but .* vocab_size=30"):
        bc.convert_tf_checkpoint_to_hf(src, tmp_path / "out" / "model")
    assert listing(tmp_path / "out") == []


def _garble(path: Path, truncate: bool) -> None:
    data = bytearray(path.read_bytes())
    if truncate:
        data = data[: len(data) // 2]
    else:
        for i in range(0, len(data), 7):
            data[i] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "suffix, truncate",
    [
        (".data-00000-of-00001", True),
        (".data-00000-of-00001", False),
        (".index", True),
        (".index", False),
    ],
)
def test_corrupt_checkpoint_gives_clear_error(converted, tmp_path, suffix, truncate):
    hf, _, _, _ = converted
    src = write_original_dir(tmp_path / "src", hf)
    _garble(src / ("bert_model.ckpt" + suffix), truncate)
    out_parent = tmp_path / "converted"
    with pytest.raises(ValueError) as info:
        bc.convert_tf_checkpoint_to_hf(src, out_parent / "model")
    message = str(info.value)
    assert str(src / "bert_model.ckpt") in message
    assert "corrupt" in message
    assert "download it again" in message
    assert listing(out_parent) == []


def test_missing_inputs(tmp_path, converted):
    hf, _, _, _ = converted
    src = write_original_dir(tmp_path / "src", hf)
    (src / "vocab.txt").unlink()
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        bc.convert_tf_checkpoint_to_hf(src, tmp_path / "a")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        bc.convert_tf_checkpoint_to_hf(tmp_path / "nothing", tmp_path / "b")
    (src / "vocab.txt").write_text("\n".join(VOCAB))
    (src / "bert_config.json").unlink()
    with pytest.raises(FileNotFoundError, match="bert_config.json"):
        bc.convert_tf_checkpoint_to_hf(src, tmp_path / "b")
    (src / "bert_config.json").write_text(json.dumps(CONFIG))
    (src / "bert_model.ckpt.index").unlink()
    with pytest.raises(FileNotFoundError, match="No TensorFlow checkpoint"):
        bc.convert_tf_checkpoint_to_hf(src, tmp_path / "b")
    with pytest.raises(FileNotFoundError):
        bc.read_tf_checkpoint(tmp_path / "nope.ckpt")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# --------------------------------------------------------------------------- discovery


def test_find_tf_checkpoint(tmp_path):
    assert bc.find_tf_checkpoint(tmp_path / "missing") is None
    assert bc.find_tf_checkpoint(tmp_path) is None
    one = {"x": np.zeros(2, np.float32)}
    save_v2(tmp_path / "model.ckpt-900000", one)
    save_v2(tmp_path / "model.ckpt-1000000", one)
    assert bc.find_tf_checkpoint(tmp_path) == str(tmp_path / "model.ckpt-1000000")
    save_v2(tmp_path / "bert_model.ckpt", one)
    assert bc.find_tf_checkpoint(tmp_path) == str(tmp_path / "bert_model.ckpt")
    # A `checkpoint` state file wins when it points at an existing checkpoint ...
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-900000"\n')
    assert bc.find_tf_checkpoint(tmp_path) == str(tmp_path / "model.ckpt-900000")
    # ... and is ignored when it points elsewhere (absolute path from another machine).
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "/gone/bert_model.ckpt"\n')
    assert bc.find_tf_checkpoint(tmp_path) == str(tmp_path / "bert_model.ckpt")


@pytest.mark.parametrize(
    "dirname, argument, expected",
    [
        ("uncased_L-2_H-8_A-2", None, True),
        ("cased_L-2_H-8_A-2", None, False),
        ("multi_cased_L-2_H-8_A-2", None, False),
        ("bert-base-cased", None, False),
        ("cased_L-2_H-8_A-2", True, True),
        ("uncased_L-2_H-8_A-2", False, False),
    ],
)
def test_lowercase(converted, tmp_path, dirname, argument, expected):
    hf, _, _, _ = converted
    src = write_original_dir(tmp_path / dirname, hf)
    dst = bc.convert_tf_checkpoint_to_hf(src, tmp_path / "out", lowercase=argument)
    assert json.loads(Path(dst, "tokenizer_config.json").read_text())["do_lower_case"] is expected


# --------------------------------------------------------------------------- real weights


@pytest.mark.integration
@pytest.mark.skipif(not SHARED_MINILM.is_dir(), reason="needs ../shared/models/all-minilm-l6-v2")
def test_real_weights_round_trip(tmp_path):
    """Real BERT weights -> original TF checkpoint -> converter: bit-exact, and keras-hub's
    forward pass on the result agrees with the reference on real text-like ids."""
    from safetensors.numpy import load_file

    hf = {
        k: v
        for k, v in load_file(str(SHARED_MINILM / "model.safetensors")).items()
        if k != "embeddings.position_ids"
    }
    real_config = json.loads((SHARED_MINILM / "config.json").read_text())
    config = {k: real_config[k] for k in CONFIG}
    src = tmp_path / "uncased_L-6_H-384_A-12"
    src.mkdir()
    save_v2(
        src / "bert_model.ckpt",
        with_training_leftovers(
            original_bert_variables(hf, config["num_hidden_layers"]), config["vocab_size"], 384
        ),
    )
    (src / "bert_config.json").write_text(json.dumps(config))
    shutil.copyfile(SHARED_MINILM / "vocab.txt", src / "vocab.txt")

    dst = bc.convert_tf_checkpoint_to_hf(src, tmp_path / "hf")
    tensors = load_file(str(Path(dst, "model.safetensors")))
    assert set(tensors) == set(hf)
    for name, value in hf.items():
        np.testing.assert_array_equal(tensors[name], value, err_msg=name)

    backbone = keras_hub.models.BertBackbone.from_preset(dst)
    tokenizer = keras_hub.models.BertTokenizer.from_preset(dst)
    texts = ["The stock market rallied today.", "A goal in the last minute won the match!"]
    packer = keras_hub.layers.StartEndPacker(
        start_value=tokenizer.cls_token_id, end_value=tokenizer.sep_token_id, sequence_length=16
    )
    token_ids = np.asarray(packer(tokenizer(texts)))
    padding_mask = token_ids != 0
    segment_ids = np.zeros_like(token_ids)
    seq, pooled = keras_outputs(backbone, token_ids, segment_ids, padding_mask)
    # keras-hub (like Google's original BERT code) uses the tanh GELU approximation ...
    ref_seq, ref_pooled = reference_bert.bert_forward(
        hf, 12, token_ids, segment_ids, padding_mask, approximate_gelu=True
    )
    np.testing.assert_allclose(seq[padding_mask], ref_seq[padding_mask], atol=2e-5, rtol=0)
    np.testing.assert_allclose(pooled, ref_pooled, atol=2e-5, rtol=0)
    # ... which on real weights is visibly different from the exact (erf) GELU.
    exact_seq, _ = reference_bert.bert_forward(hf, 12, token_ids, segment_ids, padding_mask)
    assert np.abs(exact_seq[padding_mask] - seq[padding_mask]).max() > 1e-3
