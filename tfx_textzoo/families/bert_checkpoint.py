"""Convert original Google BERT TensorFlow checkpoints to the Hugging Face format.

Google's BERT releases (the ``*_L-*_H-*_A-*.zip`` files and the
``google/bert_uncased_L-*_H-*_A-*`` repositories on the Hugging Face Hub) ship
a TF1 name-based checkpoint::

    bert_config.json
    bert_model.ckpt.index
    bert_model.ckpt.data-00000-of-00001
    vocab.txt

keras-hub cannot read that format directly, but it can read the Hugging Face
``BertModel`` format (``config.json`` + ``model.safetensors`` + ``vocab.txt`` +
``tokenizer_config.json``). This module converts the former into the latter so
that ``keras_hub.models.BertBackbone.from_preset(dst_dir)`` and
``keras_hub.models.BertTokenizer.from_preset(dst_dir)`` work on the result.

Only the encoder and the pooler are converted; the pre-training heads
(``cls/...``) and optimizer state (``*/adam_m``, ``*/adam_v``, ``global_step``)
are dropped.

Importing this module registers the ``bert_tf_checkpoint`` weight format with the
resolver ([`tfx_textzoo.weights.register_converter`][tfx_textzoo.weights.register_converter]):
catalog sources of that
format, ``hf://`` repositories holding such a checkpoint, and local directories (or
``.zip`` archives) with one are converted once into the cache. Reading the checkpoint
file itself is generic (`tfx_textzoo.weights.tf_reading.TFCheckpoint`); the BERT
name map is here.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
from typing import TYPE_CHECKING

import numpy as np

from tfx_textzoo.weights import (
    LocalWeights,
    conversion_dir,
    find_folder,
    register_converter,
    tf_reading,
)

if TYPE_CHECKING:
    from tfx_textzoo.registry import ModelSpec

logger = logging.getLogger(__name__)

__all__ = [
    "convert_tf_checkpoint_to_hf",
    "convert_fetched_checkpoint",
    "find_tf_checkpoint",
    "read_tf_checkpoint",
]

#: Files that make a converted directory complete (all written before the rename).
HF_FILES = ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json")
#: What to fetch from a Hugging Face repository that holds an original checkpoint
#: (``google/bert_uncased_L-*``); pickles are never fetched (the resolver ignores them).
HF_CHECKPOINT_FILES = (
    "bert_model.ckpt*",
    "*.ckpt.*",
    "checkpoint",
    "bert_config.json",
    "config.json",
    "vocab.txt",
    "tokenizer_config.json",
)

#: Config keys every BERT config must define.
REQUIRED_CONFIG_KEYS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "max_position_embeddings",
)

_PREFERRED_PREFIX = "bert_model.ckpt"
_IGNORED_SUFFIXES = ("/adam_m", "/adam_v", "/Adam", "/Adam_1", "/Momentum")
_IGNORED_NAMES = ("global_step", "_CHECKPOINTABLE_OBJECT_GRAPH")
_LAYER_RE = re.compile(r"^bert/encoder/layer_(\d+)/")

# (original TF suffix, HF suffix, transpose) for each encoder layer.
_LAYER_VARIABLES = (
    ("attention/self/query/kernel", "attention.self.query.weight", True),
    ("attention/self/query/bias", "attention.self.query.bias", False),
    ("attention/self/key/kernel", "attention.self.key.weight", True),
    ("attention/self/key/bias", "attention.self.key.bias", False),
    ("attention/self/value/kernel", "attention.self.value.weight", True),
    ("attention/self/value/bias", "attention.self.value.bias", False),
    ("attention/output/dense/kernel", "attention.output.dense.weight", True),
    ("attention/output/dense/bias", "attention.output.dense.bias", False),
    ("attention/output/LayerNorm/gamma", "attention.output.LayerNorm.weight", False),
    ("attention/output/LayerNorm/beta", "attention.output.LayerNorm.bias", False),
    ("intermediate/dense/kernel", "intermediate.dense.weight", True),
    ("intermediate/dense/bias", "intermediate.dense.bias", False),
    ("output/dense/kernel", "output.dense.weight", True),
    ("output/dense/bias", "output.dense.bias", False),
    ("output/LayerNorm/gamma", "output.LayerNorm.weight", False),
    ("output/LayerNorm/beta", "output.LayerNorm.bias", False),
)

# (original TF name, HF name, transpose) outside the encoder layers.
_GLOBAL_VARIABLES = (
    ("bert/embeddings/word_embeddings", "embeddings.word_embeddings.weight", False),
    ("bert/embeddings/position_embeddings", "embeddings.position_embeddings.weight", False),
    ("bert/embeddings/token_type_embeddings", "embeddings.token_type_embeddings.weight", False),
    ("bert/embeddings/LayerNorm/gamma", "embeddings.LayerNorm.weight", False),
    ("bert/embeddings/LayerNorm/beta", "embeddings.LayerNorm.bias", False),
    ("bert/pooler/dense/kernel", "pooler.dense.weight", True),
    ("bert/pooler/dense/bias", "pooler.dense.bias", False),
)


def _is_ignored(name: str) -> bool:
    """Whether a checkpoint variable is optimizer state or a pre-training head."""
    return (
        name in _IGNORED_NAMES
        or name.startswith("cls/")
        or name.endswith(_IGNORED_SUFFIXES)
        or name.startswith("_CHECKPOINTABLE_OBJECT_GRAPH")
    )


def _name_map(num_layers: int) -> list[tuple[str, str, bool]]:
    """Return the (TF name, HF name, transpose) triples for ``num_layers`` layers."""
    names = list(_GLOBAL_VARIABLES)
    for i in range(num_layers):
        for tf_suffix, hf_suffix, transpose in _LAYER_VARIABLES:
            names.append(
                (f"bert/encoder/layer_{i}/{tf_suffix}", f"encoder.layer.{i}.{hf_suffix}", transpose)
            )
    return names


def find_tf_checkpoint(directory: str | os.PathLike) -> str | None:
    """Find the TensorFlow checkpoint prefix in a directory, preferring ``bert_model.ckpt``.

    `tfx_textzoo.weights.tf_reading.find_tf_checkpoint` with the release's own
    prefix name preferred: a ``checkpoint`` state file is asked first (when its index
    file exists), then ``bert_model.ckpt``, then the index file with the highest step
    number. Only the directory itself is searched, not its subdirectories.

    Args:
        directory: Directory that may contain a checkpoint.

    Returns:
        The checkpoint prefix (e.g. ``"/data/uncased_L-2_H-128_A-2/bert_model.ckpt"``),
        or None when the directory does not exist or holds no checkpoint.

    Examples:
        >>> prefix = find_tf_checkpoint("/data/uncased_L-2_H-128_A-2")  # doctest: +SKIP
        >>> prefix.endswith("bert_model.ckpt")  # doctest: +SKIP
        True

    """
    return tf_reading.find_tf_checkpoint(directory, preferred=_PREFERRED_PREFIX)


def read_tf_checkpoint(prefix: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read an original BERT checkpoint into Hugging Face ``BertModel`` tensors.

    Dense kernels are transposed from TensorFlow's ``[in, out]`` to the
    ``[out, in]`` layout of PyTorch ``nn.Linear.weight``; LayerNorm
    ``gamma``/``beta`` become ``weight``/``bias``. The keys carry no ``bert.``
    prefix (``embeddings.word_embeddings.weight``, ``encoder.layer.0.attention.
    self.query.weight``, ..., ``pooler.dense.bias``). Optimizer slots
    (``*/adam_m``, ``*/adam_v``), ``global_step`` and the pre-training heads
    (``cls/...``) are ignored. All arrays are contiguous float32.

    Args:
        prefix: Checkpoint prefix, i.e. the path without ``.index`` (as returned
            by `find_tf_checkpoint`).

    Returns:
        Mapping from Hugging Face tensor name to array. The number of encoder
        layers is the number of ``bert/encoder/layer_{i}`` scopes found.

    Raises:
        FileNotFoundError: If ``<prefix>.index`` does not exist.
        ValueError: If the checkpoint cannot be read (corrupt or truncated
            files), if expected BERT variables are missing (not an original BERT
            checkpoint), or if the encoder layer numbers have gaps.

    Examples:
        >>> prefix = "/data/uncased_L-2_H-128_A-2/bert_model.ckpt"
        >>> tensors = read_tf_checkpoint(prefix)  # doctest: +SKIP
        >>> tensors["encoder.layer.0.attention.self.query.weight"].shape  # doctest: +SKIP
        (128, 128)

    """
    checkpoint = tf_reading.TFCheckpoint(prefix)
    prefix = checkpoint.prefix
    available = set(checkpoint.shapes)

    model_vars = sorted(name for name in available if not _is_ignored(name))
    layer_ids = sorted({int(m.group(1)) for n in model_vars if (m := _LAYER_RE.match(n))})
    num_layers = len(layer_ids)
    if layer_ids != list(range(num_layers)):
        raise ValueError(
            f"Checkpoint {prefix!r} has non-contiguous encoder layers {layer_ids}; "
            "expected bert/encoder/layer_0 ... layer_N-1. The file is not an original "
            "BERT checkpoint or is corrupt."
        )

    name_map = _name_map(num_layers)
    missing = [tf_name for tf_name, _, _ in name_map if tf_name not in available]
    if num_layers == 0:
        missing.append("bert/encoder/layer_0/...")
    if missing:
        shown = ", ".join(missing[:10])
        more = f" (and {len(missing) - 10} more)" if len(missing) > 10 else ""
        hint = ""
        if not any(name.startswith("bert/") for name in model_vars):
            hint = (
                " It has no 'bert/...' variables at all"
                + (
                    " and looks like an object-based TF2 checkpoint (e.g. TF Model Garden /"
                    " TF Hub), which this converter does not handle"
                    if any(name.startswith("_CHECKPOINTABLE_OBJECT_GRAPH") for name in available)
                    else ""
                )
                + f"; first variables: {', '.join(model_vars[:5]) or '(none)'}."
            )
        raise ValueError(
            f"Checkpoint {prefix!r} is missing {len(missing)} variable(s) of an original "
            f"BERT checkpoint: {shown}{more}. The file is not an original Google BERT "
            f"checkpoint or is corrupt.{hint}"
        )

    expected = {tf_name for tf_name, _, _ in name_map}
    unused = [name for name in model_vars if name not in expected]
    if unused:
        logger.warning(
            "Ignoring %d unexpected variable(s) in %s: %s",
            len(unused),
            prefix,
            ", ".join(unused[:10]),
        )

    tensors: dict[str, np.ndarray] = {}
    for tf_name, hf_name, transpose in name_map:
        value = checkpoint.read(tf_name)
        if transpose:
            if value.ndim != 2:
                raise ValueError(
                    f"Checkpoint {prefix!r}: dense kernel {tf_name} has shape "
                    f"{list(value.shape)}, expected a 2-D [in, out] matrix. The file is not "
                    "an original BERT checkpoint or is corrupt."
                )
            value = value.T
        tensors[hf_name] = np.ascontiguousarray(value, dtype=np.float32)
    return tensors


def _load_bert_config(src_dir: str) -> tuple[dict, str]:
    for name in ("bert_config.json", "config.json"):
        path = os.path.join(src_dir, name)
        if os.path.isfile(path):
            break
    else:
        raise FileNotFoundError(
            f"No bert_config.json (or config.json) in {src_dir!r}; an original BERT "
            "checkpoint directory must contain one."
        )
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(
            f"Cannot parse {path}: {err}. Delete the directory and download it again."
        ) from err
    if not isinstance(config, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(config).__name__}.")
    missing = [key for key in REQUIRED_CONFIG_KEYS if key not in config]
    if missing:
        raise ValueError(f"{path} is missing required BERT config key(s): {', '.join(missing)}.")
    for key in REQUIRED_CONFIG_KEYS + ("type_vocab_size",):
        value = config.get(key, 2)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{path}: {key} must be a positive integer, got {value!r}.")
    if config["hidden_size"] % config["num_attention_heads"]:
        raise ValueError(
            f"{path}: hidden_size {config['hidden_size']} is not divisible by "
            f"num_attention_heads {config['num_attention_heads']}."
        )
    return config, path


def _expected_shapes(config: dict) -> dict[str, tuple[int, ...]]:
    """HF tensor name -> expected shape, from a BERT config."""
    h = config["hidden_size"]
    ff = config["intermediate_size"]
    shapes = {
        "embeddings.word_embeddings.weight": (config["vocab_size"], h),
        "embeddings.position_embeddings.weight": (config["max_position_embeddings"], h),
        "embeddings.token_type_embeddings.weight": (config.get("type_vocab_size", 2), h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
        "pooler.dense.weight": (h, h),
        "pooler.dense.bias": (h,),
    }
    layer_shapes = {
        "attention.self.query.weight": (h, h),
        "attention.self.query.bias": (h,),
        "attention.self.key.weight": (h, h),
        "attention.self.key.bias": (h,),
        "attention.self.value.weight": (h, h),
        "attention.self.value.bias": (h,),
        "attention.output.dense.weight": (h, h),
        "attention.output.dense.bias": (h,),
        "attention.output.LayerNorm.weight": (h,),
        "attention.output.LayerNorm.bias": (h,),
        "intermediate.dense.weight": (ff, h),
        "intermediate.dense.bias": (ff,),
        "output.dense.weight": (h, ff),
        "output.dense.bias": (h,),
        "output.LayerNorm.weight": (h,),
        "output.LayerNorm.bias": (h,),
    }
    for i in range(config["num_hidden_layers"]):
        for suffix, shape in layer_shapes.items():
            shapes[f"encoder.layer.{i}.{suffix}"] = shape
    return shapes


def _validate_shapes(tensors: dict[str, np.ndarray], config: dict, where: str) -> None:
    num_layers = len({k.split(".")[2] for k in tensors if k.startswith("encoder.layer.")})
    if num_layers != config["num_hidden_layers"]:
        raise ValueError(
            f"{where}: the checkpoint has {num_layers} encoder layers but the config says "
            f"num_hidden_layers={config['num_hidden_layers']}. The config and checkpoint "
            "do not belong together."
        )
    wrong = [
        f"{name} is {list(tensors[name].shape)} (expected {list(shape)})"
        for name, shape in _expected_shapes(config).items()
        if tuple(tensors[name].shape) != shape
    ]
    if wrong:
        shown = "; ".join(wrong[:5]) + (f"; and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        raise ValueError(
            f"{where}: checkpoint tensor shapes do not match the config "
            f"(vocab_size={config['vocab_size']}, hidden_size={config['hidden_size']}, "
            f"intermediate_size={config['intermediate_size']}, "
            f"max_position_embeddings={config['max_position_embeddings']}, "
            f"type_vocab_size={config.get('type_vocab_size', 2)}): {shown}. "
            "The config and checkpoint do not belong together."
        )
    bad = [name for name, value in tensors.items() if not np.all(np.isfinite(value))]
    if bad:
        raise ValueError(
            f"{where}: tensor(s) with NaN or inf values: {', '.join(bad[:5])}. The checkpoint "
            "is corrupt; delete it and download it again."
        )


def _read_vocab(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\r\n") for line in f]


def _says_cased(name: str) -> bool:
    """Whether a directory/repo name marks a cased model (``cased``, not ``uncased``)."""
    return re.search(r"(^|[^a-z])cased", name.lower()) is not None


def _infer_lowercase(src_dir: str, config: dict) -> bool:
    for key in ("do_lower_case", "lowercase"):
        if isinstance(config.get(key), bool):
            return config[key]
    tok_config_path = os.path.join(src_dir, "tokenizer_config.json")
    if os.path.isfile(tok_config_path):
        with contextlib.suppress(OSError, json.JSONDecodeError):
            with open(tok_config_path, encoding="utf-8") as f:
                value = json.load(f).get("do_lower_case")
            if isinstance(value, bool):
                return value
    path = os.path.abspath(src_dir)
    names = [os.path.basename(path)]
    parent = os.path.dirname(path)
    if os.path.basename(parent) == "snapshots":  # Hugging Face cache: models--org--name/...
        names.append(os.path.basename(os.path.dirname(parent)))
    names.append(str(config.get("_name_or_path", "")))
    return not any(_says_cased(name) for name in names)


def _is_complete(dst_dir: str) -> bool:
    return all(os.path.isfile(os.path.join(dst_dir, name)) for name in HF_FILES)


def _check_existing(dst_dir: str, lowercase: bool | None) -> None:
    if lowercase is not None:
        with open(os.path.join(dst_dir, "tokenizer_config.json"), encoding="utf-8") as f:
            existing = json.load(f).get("do_lower_case")
        if existing is not None and existing != lowercase:
            raise ValueError(
                f"{dst_dir!r} was already converted with do_lower_case={existing}, but "
                f"lowercase={lowercase} was requested. Delete it to convert again."
            )


def write_hf_dir(
    dst_dir: str,
    tensors: dict[str, np.ndarray],
    hf_config: dict,
    vocab_path: str,
    do_lower_case: bool,
) -> bool:
    r"""Write a Hugging Face BERT directory atomically (what keras-hub's converter reads).

    ``model.safetensors`` (``tensors`` under their HF names), ``vocab.txt`` (a copy of
    ``vocab_path``), ``config.json`` and ``tokenizer_config.json`` go to a temporary
    directory beside ``dst_dir``, which is then renamed into place without replacing
    anything (see `tfx_textzoo._files.atomic_directory`; an empty ``dst_dir`` counts
    as absent).

    Returns:
        True when written; False when another process completed ``dst_dir`` first.

    Raises:
        FileExistsError: ``dst_dir`` exists and is not a complete conversion.

    Examples:
        >>> import os, tempfile, numpy as np
        >>> from tfx_textzoo.families.bert_checkpoint import write_hf_dir
        >>> root = tempfile.mkdtemp()
        >>> vocab = os.path.join(root, "v.txt")
        >>> _ = open(vocab, "w").write("[PAD]\n[UNK]\n")
        >>> dst = os.path.join(root, "hf")
        >>> write_hf_dir(dst, {"x": np.zeros(2, "float32")}, {"vocab_size": 2,
        ...              "max_position_embeddings": 8}, vocab, True)
        True
        >>> sorted(os.listdir(dst))
        ['config.json', 'model.safetensors', 'tokenizer_config.json', 'vocab.txt']
    """
    from safetensors.numpy import save_file

    from tfx_textzoo._files import atomic_directory

    tokenizer_config = {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": bool(do_lower_case),
        "model_max_length": hf_config["max_position_embeddings"],
        "unk_token": "[UNK]",
        "sep_token": "[SEP]",
        "pad_token": "[PAD]",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
    }
    try:
        with atomic_directory(dst_dir, replace_empty=True) as tmp_dir:
            save_file(
                tensors, os.path.join(tmp_dir, "model.safetensors"), metadata={"format": "pt"}
            )
            shutil.copyfile(vocab_path, os.path.join(tmp_dir, "vocab.txt"))
            for name, content in (
                ("config.json", hf_config),
                ("tokenizer_config.json", tokenizer_config),
            ):
                with open(os.path.join(tmp_dir, name), "w", encoding="utf-8") as f:
                    json.dump(content, f, indent=2)
                    f.write("\n")
    except FileExistsError:
        if _is_complete(dst_dir):  # another process finished the same conversion first
            return False
        raise
    return True


def convert_tf_checkpoint_to_hf(
    src_dir: str | os.PathLike,
    dst_dir: str | os.PathLike,
    lowercase: bool | None = None,
) -> str:
    """Convert an original Google BERT checkpoint directory to the Hugging Face format.

    Reads ``bert_config.json`` (or ``config.json``), the TensorFlow checkpoint
    (see `find_tf_checkpoint`) and ``vocab.txt`` from ``src_dir`` and
    writes to ``dst_dir``:

    - ``config.json``: a ``BertModel`` config (``model_type`` ``"bert"``);
    - ``model.safetensors``: the encoder and pooler weights under Hugging Face
      names without a ``bert.`` prefix (see `read_tf_checkpoint`);
    - ``vocab.txt``: a copy of the vocabulary;
    - ``tokenizer_config.json``: ``BertTokenizer`` with ``do_lower_case``.

    The result loads with ``keras_hub.models.BertBackbone.from_preset(dst_dir)``
    and ``keras_hub.models.BertTokenizer.from_preset(dst_dir)`` (and with
    ``transformers.BertModel.from_pretrained``). Note that keras-hub always
    builds two segment embeddings and a tanh-approximated GELU, as the original
    BERT code does; ``hidden_act`` is recorded but not used by keras-hub.

    The write is atomic: everything is written into a temporary sibling
    directory that is renamed to ``dst_dir`` only at the end, so ``dst_dir``
    either does not exist or is complete. On failure the temporary directory is
    removed. If ``dst_dir`` already holds a complete conversion, it is returned
    without reading the checkpoint again (an empty ``dst_dir`` is replaced).

    Args:
        src_dir: Directory holding the original checkpoint, config and vocabulary.
        dst_dir: Directory to create.
        lowercase: ``do_lower_case`` for the tokenizer. If None, it is taken from
            ``do_lower_case`` in the source config or ``tokenizer_config.json``
            when present, else True unless the source directory name (or Hugging
            Face cache repo name) says ``cased`` (e.g. ``cased_L-12_H-768_A-12``,
            ``multi_cased_L-12_H-768_A-12``; ``uncased`` does not count).

    Returns:
        ``dst_dir`` as a string.

    Raises:
        FileNotFoundError: If ``src_dir`` lacks the config, checkpoint or vocabulary.
        ValueError: If the checkpoint is corrupt or not an original BERT checkpoint,
            if tensor shapes or the layer count disagree with the config, if the
            vocabulary is larger than ``vocab_size``, or if ``dst_dir`` exists with
            other contents (or was converted with a different ``lowercase``).

    Examples:
        >>> dst = convert_tf_checkpoint_to_hf(  # doctest: +SKIP
        ...     "/data/uncased_L-2_H-128_A-2", "/data/hf/uncased_L-2_H-128_A-2"
        ... )
        >>> backbone = keras_hub.models.BertBackbone.from_preset(dst)  # doctest: +SKIP

    """
    src_dir = os.fspath(src_dir)
    result = os.fspath(dst_dir)
    dst_dir = os.path.abspath(result)

    if os.path.isdir(dst_dir):
        if _is_complete(dst_dir):
            _check_existing(dst_dir, lowercase)
            return result
        if os.listdir(dst_dir):
            raise ValueError(
                f"{dst_dir!r} exists but is not a complete conversion (it needs "
                f"{', '.join(HF_FILES)}). Delete it or choose another destination."
            )
    elif os.path.exists(dst_dir):
        raise ValueError(f"{dst_dir!r} exists and is not a directory.")

    if not os.path.isdir(src_dir):
        raise FileNotFoundError(f"Source directory {src_dir!r} does not exist.")
    config, config_path = _load_bert_config(src_dir)
    prefix = find_tf_checkpoint(src_dir)
    if prefix is None:
        raise FileNotFoundError(
            f"No TensorFlow checkpoint (*.index, e.g. bert_model.ckpt.index) in {src_dir!r}."
        )
    vocab_path = os.path.join(src_dir, "vocab.txt")
    if not os.path.isfile(vocab_path):
        raise FileNotFoundError(f"No vocab.txt in {src_dir!r}.")
    if lowercase is None:
        lowercase = _infer_lowercase(src_dir, config)
    os.makedirs(os.path.dirname(dst_dir), exist_ok=True)

    vocab = _read_vocab(vocab_path)
    if len(vocab) > config["vocab_size"]:
        raise ValueError(
            f"{vocab_path} has {len(vocab)} entries but {config_path} says "
            f"vocab_size={config['vocab_size']}; token ids would overflow the embeddings."
        )
    if len(vocab) < config["vocab_size"]:
        logger.warning(
            "%s has %d entries, fewer than vocab_size=%d.",
            vocab_path,
            len(vocab),
            config["vocab_size"],
        )
    if lowercase and sum(
        any(c.isupper() for c in token) for token in vocab if not token.startswith("[")
    ) > max(10, len(vocab) // 100):
        logger.warning(
            "Converting %s with do_lower_case=True, but its vocabulary has many "
            "upper-case tokens; pass lowercase=False if the model is cased.",
            src_dir,
        )

    tensors = read_tf_checkpoint(prefix)
    _validate_shapes(tensors, config, f"Checkpoint {prefix!r} with config {config_path}")

    hf_config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": config["vocab_size"],
        "hidden_size": config["hidden_size"],
        "num_hidden_layers": config["num_hidden_layers"],
        "num_attention_heads": config["num_attention_heads"],
        "intermediate_size": config["intermediate_size"],
        "hidden_act": config.get("hidden_act", "gelu"),
        "hidden_dropout_prob": config.get("hidden_dropout_prob", 0.1),
        "attention_probs_dropout_prob": config.get("attention_probs_dropout_prob", 0.1),
        "max_position_embeddings": config["max_position_embeddings"],
        "type_vocab_size": config.get("type_vocab_size", 2),
        "initializer_range": config.get("initializer_range", 0.02),
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }
    if not write_hf_dir(dst_dir, tensors, hf_config, vocab_path, lowercase):
        _check_existing(dst_dir, lowercase)  # another process finished it first
    logger.info("Converted %s to %s", prefix, dst_dir)
    return result


def convert_fetched_checkpoint(local: LocalWeights, spec: ModelSpec | None) -> str:
    """The resolver's converter of ``bert_tf_checkpoint``: fetched files -> cached HF directory.

    The checkpoint may sit in a sub-folder of what was fetched (a release ``.zip`` unpacks
    into ``uncased_L-2_H-128_A-2/``). Lower-casing follows the catalog entry for catalog and
    ``hf://`` sources, and the checkpoint's own config or name for a directory the user
    names (see `convert_tf_checkpoint_to_hf`).

    Raises:
        FileNotFoundError: No checkpoint in what was fetched.
        ValueError: As `convert_tf_checkpoint_to_hf`.
    """
    src = find_folder(local.location, lambda folder: find_tf_checkpoint(folder) is not None)
    if src is None:
        raise FileNotFoundError(
            f"no original BERT checkpoint (*.ckpt.index) found in {local.source.uri}"
        )
    lowercase = None
    if spec is not None and local.source.format != "local":
        lowercase = spec.tokenizer.get("lowercase")
    return convert_tf_checkpoint_to_hf(src, conversion_dir(local, spec), lowercase=lowercase)


register_converter(
    "bert_tf_checkpoint",
    convert_fetched_checkpoint,
    hf_patterns=HF_CHECKPOINT_FILES,
    detect=lambda directory: find_tf_checkpoint(directory) is not None,
    description="an original BERT TensorFlow checkpoint (bert_model.ckpt.index/.data-* + "
    "bert_config.json + vocab.txt)",
)
