"""Hugging Face DeBERTa-v3 checkpoints -> a keras-hub ``DebertaV3Backbone`` and tokenizer.

keras-hub 0.32 reads no Hugging Face DeBERTa directory, so the ``deberta-v3`` family
converts it here: ``config.json`` (``model_type`` ``"deberta-v2"``, the class transformers
uses for v3) + ``model.safetensors`` (read with ``safetensors.numpy``, never a pickle) +
``spm.model``. Keys may carry the ``deberta.`` prefix (``DebertaV2ForSequenceClassification``,
and the pre-training checkpoints on the Hub) or not (``DebertaV2Model``).

What keras-hub's DeBERTa-v3 computes, checked against transformers' ``modeling_deberta_v2``
for the v3 settings (``relative_attention``, ``position_buckets`` 256, log-bucketed relative
positions with ``max_relative_positions`` -1 = ``max_position_embeddings``, ``share_att_key``,
``pos_att_type`` ``p2c|c2p`` with the attention scaled by ``sqrt(3 * head_size)``,
``norm_rel_ebd`` ``layer_norm`` with the encoder's LayerNorm, no absolute positions, no
token types, exact erf GELU, LayerNorm epsilon 1e-7):

- at every real (non-padding) position the same, to float32 round-off (on the fixtures
  9.5e-7 on ``last_hidden_state``); the relative-position buckets of keras-hub equal
  transformers' for every offset of a 512-token input (it orders the log-bucket
  arithmetic differently; checked in the tests);
- at padding positions different: transformers multiplies the embeddings by the attention
  mask and (in older versions) zeroes the softmax rows of padding queries; keras-hub does
  neither. No head reads those positions (``[CLS]`` pooling, or the mean over real tokens),
  so classifiers agree; a user of the raw sequence output must mask it;
- dropout in training: keras-hub has one rate (``hidden_dropout_prob`` is used) where
  transformers also has ``attention_probs_dropout_prob`` (0.1 in every v3 config too).

Configurations keras-hub cannot compute (DeBERTa-v2 checkpoints: a convolution layer,
absolute positions, token types, unshared position projections, ...) are refused with a
message naming each setting, never loaded with silently different maths.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

#: The transformers ``model_type`` of DeBERTa-v2/v3 checkpoints.
HF_MODEL_TYPES = ("deberta-v2",)
#: The key prefix of the backbone in transformers' task checkpoints.
BASE_PREFIX = "deberta."
# Keys of a checkpoint that are not the backbone's: pre-training heads (ELECTRA-style
# replaced-token detection, masked LM) and the classification head (read by the hook).
_NOT_BACKBONE = ("lm_predictions.", "mask_predictions.", "cls.", "pooler.", "classifier.")


class UnsupportedCheckpointError(ValueError):
    """A DeBERTa checkpoint whose architecture keras-hub's DebertaV3Backbone cannot compute."""


def read_config(directory: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a Hugging Face directory.

    Examples:
        >>> import json, tempfile
        >>> from pathlib import Path
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "config.json").write_text(json.dumps({"model_type": "deberta-v2"}))
        >>> read_config(folder)["model_type"]
        'deberta-v2'
    """
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{directory} has no config.json")
    return json.loads(path.read_text(encoding="utf-8"))


def check_v3_config(config: Mapping[str, Any]) -> None:
    """Refuse a configuration keras-hub's ``DebertaV3Backbone`` would compute differently.

    Raises:
        UnsupportedCheckpointError: Naming every unsupported setting and its value.

    Examples:
        >>> check_v3_config({"model_type": "deberta-v2", "hidden_size": 8,
        ...     "num_attention_heads": 2, "relative_attention": True, "position_buckets": 4,
        ...     "pos_att_type": ["p2c", "c2p"], "share_att_key": True,
        ...     "norm_rel_ebd": "layer_norm", "position_biased_input": False,
        ...     "type_vocab_size": 0})
        >>> check_v3_config({"model_type": "deberta-v2", "relative_attention": True,
        ...     "position_buckets": 256, "pos_att_type": ["p2c", "c2p"],
        ...     "share_att_key": True, "norm_rel_ebd": "layer_norm",
        ...     "position_biased_input": True, "type_vocab_size": 0, "conv_kernel_size": 3,
        ...     })  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.families.deberta_v3_convert.UnsupportedCheckpointError: ...conv_kernel_size=3...
    """
    problems = []
    model_type = config.get("model_type")
    if model_type not in HF_MODEL_TYPES:
        problems.append(f"model_type={model_type!r} (expected 'deberta-v2')")
    if not config.get("relative_attention", False):
        problems.append("relative_attention=false (v3 attends by relative position)")
    if int(config.get("position_buckets", -1)) <= 0:
        problems.append(f"position_buckets={config.get('position_buckets', -1)} (v3: 256)")
    pos_att = config.get("pos_att_type") or []
    if isinstance(pos_att, str):
        pos_att = [p.strip() for p in pos_att.lower().split("|")]
    if sorted(pos_att) != ["c2p", "p2c"]:
        problems.append(f"pos_att_type={pos_att!r} (v3: ['p2c', 'c2p'])")
    if not config.get("share_att_key", False):
        problems.append("share_att_key=false (separate position projections)")
    norm = [p.strip() for p in str(config.get("norm_rel_ebd", "none")).lower().split("|")]
    if "layer_norm" not in norm:
        problems.append(f"norm_rel_ebd={config.get('norm_rel_ebd', 'none')!r} (v3: 'layer_norm')")
    if config.get("position_biased_input", True):
        problems.append("position_biased_input=True (absolute position embeddings)")
    if int(config.get("type_vocab_size", 0)) > 0:
        problems.append(f"type_vocab_size={config['type_vocab_size']} (token-type embeddings)")
    if int(config.get("conv_kernel_size", 0)) > 0:
        problems.append(f"conv_kernel_size={config['conv_kernel_size']} (a convolution layer)")
    hidden = config.get("hidden_size")
    embedding = config.get("embedding_size", hidden)
    if embedding != hidden:
        problems.append(f"embedding_size={embedding} != hidden_size={hidden} (a projection)")
    heads = config.get("num_attention_heads")
    if hidden and heads and "attention_head_size" in config:
        if int(config["attention_head_size"]) * int(heads) != int(hidden):
            problems.append(f"attention_head_size={config['attention_head_size']}")
    max_relative = int(config.get("max_relative_positions", -1))
    if max_relative >= 1 and max_relative != config.get("max_position_embeddings"):
        problems.append(
            f"max_relative_positions={max_relative} (keras-hub buckets up to "
            f"max_position_embeddings={config.get('max_position_embeddings')})"
        )
    if str(config.get("hidden_act", "gelu")) != "gelu":
        problems.append(f"hidden_act={config['hidden_act']!r} (keras-hub: exact gelu)")
    eps = float(config.get("layer_norm_eps", 1e-7))
    if not np.isclose(eps, 1e-7, rtol=1e-3, atol=0):
        problems.append(f"layer_norm_eps={eps} (keras-hub: 1e-7)")
    if problems:
        raise UnsupportedCheckpointError(
            "this DeBERTa checkpoint is not a DeBERTa-v3 architecture keras-hub's "
            "DebertaV3Backbone computes: " + "; ".join(problems) + ". DeBERTa-v3 "
            "checkpoints (microsoft/deberta-v3-*, microsoft/mdeberta-v3-base and models "
            "fine-tuned from them) are supported; DeBERTa-v1/v2 are not."
        )


def backbone_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The ``DebertaV3Backbone`` arguments of a (checked) transformers config.

    Examples:
        >>> backbone_config({"vocab_size": 161, "num_hidden_layers": 2, "hidden_size": 16,
        ...     "num_attention_heads": 2, "intermediate_size": 32, "hidden_dropout_prob": 0.1,
        ...     "max_position_embeddings": 64, "position_buckets": 8})["bucket_size"]
        8
    """
    return {
        "vocabulary_size": int(config["vocab_size"]),
        "num_layers": int(config["num_hidden_layers"]),
        "num_heads": int(config["num_attention_heads"]),
        "hidden_dim": int(config["hidden_size"]),
        "intermediate_dim": int(config["intermediate_size"]),
        "dropout": float(config.get("hidden_dropout_prob", 0.1)),
        "max_sequence_length": int(config.get("max_position_embeddings", 512)),
        "bucket_size": int(config["position_buckets"]),
    }


def read_safetensors(directory: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of ``model.safetensors`` (or of the shards its index lists).

    Raises:
        FileNotFoundError: No safetensors file (pickled weights are never read).
    """
    from safetensors.numpy import load_file

    directory = Path(directory)
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        files = [directory / shard for shard in shards]
    else:
        files = [directory / "model.safetensors"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{directory} has no {', '.join(missing)} (only safetensors weights are read)"
        )
    tensors: dict[str, np.ndarray] = {}
    for file in files:
        tensors.update(load_file(str(file)))
    return tensors


def backbone_prefix(tensors: Mapping[str, Any]) -> str:
    """``"deberta."`` when the backbone keys carry the task-model prefix, else ``""``.

    Examples:
        >>> backbone_prefix({"deberta.embeddings.word_embeddings.weight": 0})
        'deberta.'
        >>> backbone_prefix({"embeddings.word_embeddings.weight": 0})
        ''
    """
    if f"{BASE_PREFIX}embeddings.word_embeddings.weight" in tensors:
        return BASE_PREFIX
    if "embeddings.word_embeddings.weight" in tensors:
        return ""
    raise KeyError("no embeddings.word_embeddings.weight: not a DeBERTa checkpoint")


def load_backbone_weights(backbone: Any, tensors: Mapping[str, np.ndarray], prefix: str) -> None:
    """Copy a transformers DeBERTa-v3 state into a keras-hub ``DebertaV3Backbone``.

    Every backbone variable is assigned; a missing key, a wrong shape or a backbone key
    left over (a weight keras-hub has no place for) raises.
    """
    used: set[str] = set()

    def take(key: str) -> np.ndarray:
        name = prefix + key
        if name not in tensors:
            raise KeyError(f"the checkpoint has no {name!r}")
        used.add(name)
        return np.asarray(tensors[name], dtype=np.float32)

    def assign(variable: Any, value: np.ndarray, key: str) -> None:
        if tuple(variable.shape) != value.shape:
            raise ValueError(
                f"{prefix + key} has shape {value.shape}, the backbone expects "
                f"{tuple(variable.shape)}"
            )
        variable.assign(value)

    hidden, heads = backbone.hidden_dim, backbone.num_heads
    head_size = hidden // heads
    embedding = backbone.get_layer("token_embedding")
    assign(embedding.embeddings, take("embeddings.word_embeddings.weight"), "word_embeddings")
    norm = backbone.get_layer("embeddings_layer_norm")
    assign(norm.gamma, take("embeddings.LayerNorm.weight"), "embeddings.LayerNorm.weight")
    assign(norm.beta, take("embeddings.LayerNorm.bias"), "embeddings.LayerNorm.bias")
    relative = backbone.get_layer("rel_embedding")
    assign(relative.rel_embeddings, take("encoder.rel_embeddings.weight"), "rel_embeddings")
    assign(relative.layer_norm.gamma, take("encoder.LayerNorm.weight"), "encoder.LayerNorm")
    assign(relative.layer_norm.beta, take("encoder.LayerNorm.bias"), "encoder.LayerNorm")
    for i, layer in enumerate(backbone.transformer_layers):
        p = f"encoder.layer.{i}."
        attention = layer._self_attention_layer
        for name, dense in (
            ("query", attention._query_dense),
            ("key", attention._key_dense),
            ("value", attention._value_dense),
        ):
            key = f"{p}attention.self.{name}_proj"
            # torch Linear (out, in) -> EinsumDense (in, heads, head_size); transformers
            # splits the output features head by head, as the reshape does.
            kernel = take(key + ".weight").T.reshape(hidden, heads, head_size)
            assign(dense.kernel, kernel, key + ".weight")
            assign(dense.bias, take(key + ".bias").reshape(heads, head_size), key + ".bias")
        pairs = (
            (attention._output_dense, "attention.output.dense"),
            (layer._feedforward_intermediate_dense, "intermediate.dense"),
            (layer._feedforward_output_dense, "output.dense"),
        )
        for dense, key in pairs:
            assign(dense.kernel, take(p + key + ".weight").T, p + key + ".weight")
            assign(dense.bias, take(p + key + ".bias"), p + key + ".bias")
        norms = (
            (layer._self_attention_layer_norm, "attention.output.LayerNorm"),
            (layer._feedforward_layer_norm, "output.LayerNorm"),
        )
        for norm_layer, key in norms:
            assign(norm_layer.gamma, take(p + key + ".weight"), p + key + ".weight")
            assign(norm_layer.beta, take(p + key + ".bias"), p + key + ".bias")
    left = sorted(
        k
        for k in tensors
        if k.startswith(prefix)
        and k not in used
        and not k[len(prefix) :].startswith(_NOT_BACKBONE)
        and not k.endswith("position_ids")  # a buffer older transformers saved
    )
    if left:
        raise ValueError(
            f"the checkpoint has backbone weights keras-hub's DebertaV3Backbone has no place "
            f"for: {', '.join(left[:5])}{' ...' if len(left) > 5 else ''}"
        )


def load_backbone(directory: str | Path, config: Mapping[str, Any] | None = None):
    """Build a ``DebertaV3Backbone`` with the weights of a Hugging Face directory.

    Returns:
        ``(backbone, tensors, prefix)``: the tensors and backbone prefix are returned so a
        caller can read the head's weights without reading the file again.
    """
    import keras_hub

    config = dict(config or read_config(directory))
    check_v3_config(config)
    tensors = read_safetensors(directory)
    prefix = backbone_prefix(tensors)
    backbone = keras_hub.models.DebertaV3Backbone(**backbone_config(config))
    load_backbone_weights(backbone, tensors, prefix)
    return backbone, tensors, prefix


def load_tokenizer(
    directory: str | Path, vocabulary_size: int | None = None, tokenizer_cls: Any = None
):
    """keras-hub's ``DebertaV3Tokenizer`` from ``spm.model`` (checked against the HF files).

    ``[MASK]`` is not a SentencePiece piece in DeBERTa-v3: transformers adds it after the
    pieces (``added_tokens.json``), as keras-hub's tokenizer does; the two ids are
    checked equal. The embedding table may have more rows than the tokenizer has ids
    (128100 for 128001 tokens in deberta-v3-base), never fewer. ``tokenizer_cls``: a
    subclass of keras-hub's ``DebertaV3Tokenizer`` to build instead.
    """
    import keras_hub

    directory = Path(directory)
    spm = directory / "spm.model"
    if not spm.is_file():
        raise FileNotFoundError(f"{directory} has no spm.model for the SentencePiece tokenizer")
    settings_path = directory / "tokenizer_config.json"
    settings = (
        json.loads(settings_path.read_text(encoding="utf-8")) if settings_path.is_file() else {}
    )
    unsupported = [k for k in ("do_lower_case", "split_by_punct") if settings.get(k)]
    if unsupported:
        raise UnsupportedCheckpointError(
            f"tokenizer_config.json sets {', '.join(f'{k}=true' for k in unsupported)}, which "
            "keras-hub's DebertaV3Tokenizer does not do (DeBERTa-v3 tokenizers set neither)"
        )
    tokenizer = (tokenizer_cls or keras_hub.models.DebertaV3Tokenizer)(proto=str(spm))
    added_path = directory / "added_tokens.json"
    if added_path.is_file():
        added = json.loads(added_path.read_text(encoding="utf-8"))
        if "[MASK]" in added and int(added["[MASK]"]) != tokenizer.mask_token_id:
            raise ValueError(
                f"[MASK] is id {added['[MASK]']} in added_tokens.json but "
                f"{tokenizer.mask_token_id} in keras-hub's DebertaV3Tokenizer"
            )
    if vocabulary_size is not None and tokenizer.vocabulary_size() > vocabulary_size:
        raise ValueError(
            f"the tokenizer has {tokenizer.vocabulary_size()} ids but the embedding table only "
            f"{vocabulary_size} rows"
        )
    return tokenizer


def tiny_proto(words: list[str]) -> bytes:
    """A serialized SentencePiece unigram model over ``words`` and single characters.

    For tests and tiny models: DeBERTa-v3's special pieces (``[PAD]`` 0, ``[CLS]`` 1,
    ``[SEP]`` 2, ``[UNK]`` 3), then ``"▁" + word`` for each word, then every character of
    the words and ``"▁"``; no normalisation rules (identity), a dummy prefix and extra
    whitespace removal as in the real models. Written with the protobuf wire format
    directly, so it needs no ``sentencepiece`` package.

    Examples:
        >>> import keras_hub, numpy as np
        >>> proto = tiny_proto(["the", "team", "won"])
        >>> tokenizer = keras_hub.models.DebertaV3Tokenizer(proto=proto)
        >>> [tokenizer.id_to_token(i) for i in np.asarray(tokenizer("the team won"))]
        ['▁the', '▁team', '▁won']
        >>> tokenizer.vocabulary_size(), tokenizer.mask_token_id
        (17, 16)
    """
    control, unknown, normal = 3, 2, 1
    pieces: list[tuple[str, float, int]] = [
        ("[PAD]", 0.0, control),
        ("[CLS]", 0.0, control),
        ("[SEP]", 0.0, control),
        ("[UNK]", 0.0, unknown),
    ]
    seen = {p[0] for p in pieces}
    for word in words:
        if "▁" + word not in seen:
            seen.add("▁" + word)
            pieces.append(("▁" + word, -1.0 - 0.01 * len(pieces), normal))
    for char in sorted({"▁", *"".join(words)}):
        if char not in seen:
            seen.add(char)
            pieces.append((char, -10.0, normal))
    out = b""
    for piece, score, kind in pieces:
        body = _field_bytes(1, piece.encode()) + _field_float(2, score) + _field_varint(3, kind)
        out += _field_bytes(1, body)
    trainer = (
        _field_varint(3, 1)  # model_type UNIGRAM
        + _field_varint(4, len(pieces))  # vocab_size
        + _field_varint(40, 3)  # unk_id
        + _field_varint(41, 1)  # bos_id
        + _field_varint(42, 2)  # eos_id
        + _field_varint(43, 0)  # pad_id
        + _field_bytes(45, b"[UNK]")
        + _field_bytes(46, b"[CLS]")
        + _field_bytes(47, b"[SEP]")
        + _field_bytes(48, b"[PAD]")
    )
    normalizer = (
        _field_bytes(1, b"identity")
        + _field_varint(3, 1)  # add_dummy_prefix
        + _field_varint(4, 1)  # remove_extra_whitespaces
        + _field_varint(5, 1)  # escape_whitespaces
    )
    return out + _field_bytes(2, trainer) + _field_bytes(3, normalizer)


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(value)) + value


def _field_float(number: int, value: float) -> bytes:
    return _varint((number << 3) | 5) + struct.pack("<f", value)
