"""Convert TF-Hub BERT encoder SavedModels to the Hugging Face BERT format.

The TensorFlow lesson loads BERT with ``hub.KerasLayer(handle)``, where the handle
points to a TF-Hub SavedModel (now served from Kaggle Models). ``hub.KerasLayer``
is a Keras 2 (``tf_keras``) layer and cannot live in a Keras 3 model, and a model
wrapping an opaque SavedModel cannot be saved, fine-tuned or pushed like the rest
of the zoo. Instead, this module reads the encoder's *variables* from the
SavedModel (``tf.saved_model.load``; no ``tensorflow_hub`` import) and writes them
in the Hugging Face ``BertModel`` layout (``config.json`` + ``model.safetensors`` +
``vocab.txt`` + ``tokenizer_config.json``), which keras-hub's own converter turns
into a ``keras_hub.models.BertBackbone`` -- the same route as
`tfx_textzoo.families.bert_checkpoint` takes for original TF1 checkpoints.

Two variable layouts are understood:

* **TF2** (the ``tensorflow/bert_en_*`` and ``tensorflow/small_bert/*`` TF-Hub models,
  exported from tf-models-official's ``BertEncoder``; an optional scope prefix
  such as ``bert_encoder/`` is allowed)::

      word_embeddings/embeddings                    [vocab, hidden]
      position_embedding/embeddings                 [max_positions, hidden]
      type_embeddings/embeddings                    [type_vocab, hidden]
      embeddings/layer_norm/{gamma,beta}            [hidden]
      transformer/layer_<i>/self_attention/{query,key,value}/kernel  [hidden, heads, head_dim]
      transformer/layer_<i>/self_attention/{query,key,value}/bias    [heads, head_dim]
      transformer/layer_<i>/self_attention/attention_output/kernel   [heads, head_dim, hidden]
      transformer/layer_<i>/self_attention/attention_output/bias     [hidden]
      transformer/layer_<i>/self_attention_layer_norm/{gamma,beta}
      transformer/layer_<i>/intermediate/{kernel,bias}   kernel [hidden, intermediate]
      transformer/layer_<i>/output/{kernel,bias}         kernel [intermediate, hidden]
      transformer/layer_<i>/output_layer_norm/{gamma,beta}
      pooler_transform/{kernel,bias}                     kernel [hidden, hidden]

  The 3-D attention kernels are ``EinsumDense`` weights; flattened to
  ``[hidden, hidden]`` they are exactly what keras-hub's ``convert_bert.py``
  rebuilds from a Hugging Face ``[out, in]`` matrix
  (``np.reshape(np.transpose(w), kernel.shape)``), so the conversion is a reshape
  and a transpose. Variables of other heads (e.g. the ``mlm`` sub-model of the
  ``/4`` encoders) are ignored with a warning.

* **TF1 Hub format** (``google/bert_*`` hub modules): the original BERT names
  ``bert/embeddings/...``, ``bert/encoder/layer_<i>/attention/self/query/kernel``,
  ... mapped exactly as `bert_checkpoint` maps them.

The vocabulary is the SavedModel's ``vocab_file`` asset (``assets/vocab.txt``);
lower-casing is its ``do_lower_case`` variable (or a ``do_lower_case`` asset file,
or the TF1 ``tokenization_info`` signature). Encoders that keras-hub's
``BertBackbone`` cannot represent (an ``embedding_projection``, as in ALBERT-style
or "expert" encoders with a smaller embedding width) raise a clear error.

Importing this module registers the ``tfhub`` weight format with the resolver
([`tfx_textzoo.weights.register_converter`][tfx_textzoo.weights.register_converter]): the resolver
fetches a handle into
the TF-Hub cache (or takes a local SavedModel folder) and this module converts it once
into the cache. Loading a SavedModel and listing its variables is generic
(`tfx_textzoo.weights.tf_reading`); the BERT name maps are here.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tfx_textzoo.families.bert_checkpoint import (
    _is_complete,
    _name_map,
    _read_vocab,
    _validate_shapes,
    write_hf_dir,
)
from tfx_textzoo.weights import LocalWeights, conversion_dir, register_converter
from tfx_textzoo.weights.tf_reading import (
    find_saved_model_dir,
    float_variables,
    is_saved_model_dir,
    load_saved_model,
)

if TYPE_CHECKING:
    from tfx_textzoo.registry import ModelSpec

logger = logging.getLogger(__name__)

__all__ = [
    "TFHubEncoder",
    "convert_fetched_saved_model",
    "convert_saved_model_to_hf",
    "find_saved_model_dir",
    "is_saved_model_dir",
    "read_saved_model",
]

# TF2 names (after an optional scope prefix) -> (HF name, how to reshape).
_TF2_GLOBAL = {
    "word_embeddings/embeddings": ("embeddings.word_embeddings.weight", None),
    "position_embedding/embeddings": ("embeddings.position_embeddings.weight", None),
    "type_embeddings/embeddings": ("embeddings.token_type_embeddings.weight", None),
    "embeddings/layer_norm/gamma": ("embeddings.LayerNorm.weight", None),
    "embeddings/layer_norm/beta": ("embeddings.LayerNorm.bias", None),
    "pooler_transform/kernel": ("pooler.dense.weight", "dense"),
    "pooler_transform/bias": ("pooler.dense.bias", None),
}
_TF2_LAYER = {
    "self_attention/query/kernel": ("attention.self.query.weight", "qkv"),
    "self_attention/query/bias": ("attention.self.query.bias", "flat"),
    "self_attention/key/kernel": ("attention.self.key.weight", "qkv"),
    "self_attention/key/bias": ("attention.self.key.bias", "flat"),
    "self_attention/value/kernel": ("attention.self.value.weight", "qkv"),
    "self_attention/value/bias": ("attention.self.value.bias", "flat"),
    "self_attention/attention_output/kernel": ("attention.output.dense.weight", "attn_out"),
    "self_attention/attention_output/bias": ("attention.output.dense.bias", None),
    "self_attention_layer_norm/gamma": ("attention.output.LayerNorm.weight", None),
    "self_attention_layer_norm/beta": ("attention.output.LayerNorm.bias", None),
    "intermediate/kernel": ("intermediate.dense.weight", "dense"),
    "intermediate/bias": ("intermediate.dense.bias", None),
    "output/kernel": ("output.dense.weight", "dense"),
    "output/bias": ("output.dense.bias", None),
    "output_layer_norm/gamma": ("output.LayerNorm.weight", None),
    "output_layer_norm/beta": ("output.LayerNorm.bias", None),
}
_TF2_LAYER_RE = re.compile(r"(?:^|/)transformer/layer_(\d+)/(.+)$")
_TF1_RE = re.compile(r"(?:^|/)(bert/(?:embeddings|encoder|pooler)/.+)$")
_HEADS_IN_NAME_RE = re.compile(r"_A-(\d+)(?:[/_]|$)")


@dataclasses.dataclass
class TFHubEncoder:
    """A BERT encoder read from a TF-Hub SavedModel.

    Attributes:
        tensors: Hugging Face ``BertModel`` tensors (no ``bert.`` prefix, ``[out, in]``
            dense weights, float32).
        num_heads: Number of attention heads.
        vocab_path: Path of the vocabulary file inside the SavedModel's assets.
        do_lower_case: The SavedModel's own lower-casing flag, or None if it has none.
        layout: ``"tf2"`` or ``"tf1"`` (see the module docstring).
    """

    tensors: dict[str, np.ndarray]
    num_heads: int
    vocab_path: str
    do_lower_case: bool | None
    layout: str


def read_saved_model(path: str | os.PathLike) -> TFHubEncoder:
    """Load a TF-Hub BERT encoder SavedModel and return its weights in HF layout.

    Args:
        path: The SavedModel directory (``saved_model.pb`` + ``variables/`` + ``assets/``).

    Returns:
        The encoder's tensors, head count, vocabulary path and lower-casing flag.

    Raises:
        FileNotFoundError: ``path`` is not a SavedModel directory, or it has no vocabulary.
        ValueError: The SavedModel is incomplete or corrupt, or it is not a BERT encoder
            that keras-hub's ``BertBackbone`` can represent (the message says why).

    Examples:
        >>> read_saved_model("/no/such/dir")
        Traceback (most recent call last):
        ...
        FileNotFoundError: /no/such/dir is not a SavedModel directory (no saved_model.pb)
    """
    path = Path(path)
    obj = load_saved_model(path)
    values = float_variables(obj, path)
    if any(_TF2_LAYER_RE.search(name) for name in values):
        tensors, num_heads = _from_tf2(values, path)
        layout = "tf2"
    elif any(_TF1_RE.search(name) for name in values):
        tensors = _from_tf1(values, path)
        num_heads = _heads_from_name(path, tensors)
        layout = "tf1"
    else:
        shown = ", ".join(sorted(values)[:6]) or "(no float variables)"
        raise ValueError(
            f"The SavedModel at {path} is not a BERT encoder tfx_textzoo can convert: it has "
            "no 'transformer/layer_<i>/...' (TF2 BertEncoder) or 'bert/encoder/layer_<i>/...' "
            f"(TF1 Hub) variables; first variables: {shown}. (A TF-Hub *preprocessing* model "
            "holds no weights: pass the encoder's handle; tfx_textzoo builds the matching "
            "preprocessor itself.)"
        )
    return TFHubEncoder(
        tensors=tensors,
        num_heads=num_heads,
        vocab_path=_vocab_path(obj, path),
        do_lower_case=_do_lower_case(obj, path),
        layout=layout,
    )


def convert_saved_model_to_hf(
    src_dir: str | os.PathLike,
    dst_dir: str | os.PathLike,
    lowercase: bool | None = None,
    name_or_path: str | None = None,
) -> str:
    """Convert a TF-Hub BERT encoder SavedModel to a Hugging Face BERT directory.

    The result loads with ``keras_hub.models.BertBackbone.from_preset(dst_dir)``. The
    write is atomic (a temporary sibling renamed at the end); an existing complete
    ``dst_dir`` is returned as is.

    Args:
        src_dir: The SavedModel directory.
        dst_dir: Directory to create.
        lowercase: Lower-casing to record when the SavedModel carries no
            ``do_lower_case`` of its own (default then: True unless the name says
            ``cased``).
        name_or_path: Where the SavedModel came from (a TF-Hub handle), recorded as
            ``_name_or_path`` in ``config.json``.

    Returns:
        ``dst_dir`` as a string.

    Raises:
        FileNotFoundError: As `read_saved_model`.
        ValueError: As `read_saved_model`, or when the vocabulary is larger than
            the embedding table.

    Examples:
        >>> convert_saved_model_to_hf("/no/such/dir", "/tmp/out")
        Traceback (most recent call last):
        ...
        FileNotFoundError: /no/such/dir is not a SavedModel directory (no saved_model.pb)
    """
    result = os.fspath(dst_dir)
    dst_dir = os.path.abspath(result)
    if os.path.isdir(dst_dir) and _is_complete(dst_dir):
        return result
    encoder = read_saved_model(src_dir)
    config = _hf_config(encoder, name_or_path or os.fspath(src_dir))
    _validate_shapes(encoder.tensors, config, f"SavedModel {os.fspath(src_dir)!r}")
    vocab = _read_vocab(encoder.vocab_path)
    if len(vocab) > config["vocab_size"]:
        raise ValueError(
            f"{encoder.vocab_path} has {len(vocab)} entries but the SavedModel's word "
            f"embeddings have {config['vocab_size']} rows; they do not belong together."
        )
    do_lower_case = encoder.do_lower_case
    if do_lower_case is None:
        do_lower_case = lowercase
    if do_lower_case is None:
        name = (name_or_path or os.fspath(src_dir)).lower()
        do_lower_case = re.search(r"(^|[^a-z])cased", name) is None

    write_hf_dir(dst_dir, encoder.tensors, config, encoder.vocab_path, do_lower_case)
    logger.info("Converted the TF-Hub SavedModel %s to %s", src_dir, dst_dir)
    return result


def _from_tf2(values: dict[str, np.ndarray], path: Path) -> tuple[dict[str, np.ndarray], int]:
    if any(name.endswith("embedding_projection/kernel") for name in values):
        raise ValueError(
            f"The SavedModel at {path} has an embedding_projection (embedding width smaller "
            "than the hidden size, as in ALBERT-style encoders); keras-hub's BertBackbone "
            "cannot represent it, so it cannot be converted."
        )
    found: dict[str, tuple[np.ndarray, str | None, str]] = {}
    unused = []
    for name, value in values.items():
        key = None
        match = _TF2_LAYER_RE.search(name)
        if match and match.group(2) in _TF2_LAYER:
            hf_name, how = _TF2_LAYER[match.group(2)]
            key = f"encoder.layer.{int(match.group(1))}.{hf_name}"
        else:
            for suffix, target in _TF2_GLOBAL.items():
                if name == suffix or name.endswith("/" + suffix):
                    key, how = target
                    break
        if key is None:
            unused.append(name)
        elif key in found:
            raise ValueError(
                f"The SavedModel at {path} has more than one variable for {key}: "
                f"{found[key][2]} and {name}; it holds more than one BERT encoder."
            )
        else:
            found[key] = (value, how, name)
    if unused:
        logger.warning(
            "Ignoring %d variable(s) that are not part of the BERT encoder in %s: %s",
            len(unused),
            path,
            ", ".join(sorted(unused)[:10]),
        )
    query = found.get("encoder.layer.0.attention.self.query.weight")
    if query is None or query[0].ndim != 3:
        raise ValueError(
            f"The SavedModel at {path}: transformer/layer_0/self_attention/query/kernel is "
            f"missing or not [hidden, heads, head_dim] (got "
            f"{list(query[0].shape) if query else None}); cannot tell the number of heads."
        )
    hidden, num_heads, head_dim = (int(n) for n in query[0].shape)
    if num_heads * head_dim != hidden:
        raise ValueError(
            f"The SavedModel at {path}: query kernel shape {[hidden, num_heads, head_dim]} "
            "has heads * head_dim != hidden; keras-hub's BertBackbone cannot represent it."
        )
    num_layers = len({k.split(".")[2] for k in found if k.startswith("encoder.layer.")})
    expected = [hf for hf, _ in _TF2_GLOBAL.values()] + [
        f"encoder.layer.{i}.{hf}" for i in range(num_layers) for hf, _ in _TF2_LAYER.values()
    ]
    missing = [key for key in expected if key not in found]
    if missing:
        raise ValueError(
            f"The SavedModel at {path} lacks {len(missing)} BERT encoder variable(s) (in HF "
            f"terms: {', '.join(missing[:6])}); it is not a complete TF-Hub BERT encoder."
        )
    tensors = {}
    for key, (value, how, _) in found.items():
        if how in ("qkv", "dense"):  # [hidden, heads, head_dim] or [in, out] -> [out, in]
            value = value.reshape(value.shape[0], -1).T
        elif how == "attn_out":  # [heads, head_dim, hidden] -> [hidden, heads * head_dim]
            value = value.reshape(-1, value.shape[-1]).T
        elif how == "flat":
            value = value.reshape(-1)
        tensors[key] = np.ascontiguousarray(value, dtype=np.float32)
    return tensors, num_heads


def _from_tf1(values: dict[str, np.ndarray], path: Path) -> dict[str, np.ndarray]:
    canonical = {}
    for name, value in values.items():
        match = _TF1_RE.search(name)
        if match:
            canonical[match.group(1)] = value
    layer_re = re.compile(r"bert/encoder/layer_(\d+)/")
    layer_ids = {int(m.group(1)) for n in canonical if (m := layer_re.match(n))}
    tensors = {}
    for tf_name, hf_name, transpose in _name_map(len(layer_ids)):
        if tf_name not in canonical:
            raise ValueError(
                f"The SavedModel at {path} lacks the BERT variable {tf_name}; it is not a "
                "complete TF1 Hub BERT module."
            )
        value = canonical[tf_name]
        tensors[hf_name] = np.ascontiguousarray(value.T if transpose else value, np.float32)
    return tensors


def _heads_from_name(path: Path, tensors: dict[str, np.ndarray]) -> int:
    """TF1 kernels are 2-D: take the head count from an ``_A-<heads>`` name, else hidden/64."""
    match = _HEADS_IN_NAME_RE.search(str(path))
    if match:
        return int(match.group(1))
    hidden = tensors["embeddings.word_embeddings.weight"].shape[1]
    logger.warning("%s: assuming %d attention heads of size 64 (BERT's)", path, hidden // 64)
    return max(1, hidden // 64)


def _vocab_path(obj, path: Path) -> str:
    asset = getattr(obj, "vocab_file", None)
    if asset is not None and hasattr(asset, "asset_path"):
        candidate = asset.asset_path.numpy().decode()
        if os.path.isfile(candidate):
            return candidate
    candidates = [path / "assets" / "vocab.txt"] + sorted((path / "assets").glob("*vocab*.txt"))
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(
        f"The SavedModel at {path} has no vocabulary (assets/vocab.txt); it cannot be used "
        "with a WordPiece tokenizer."
    )


def _do_lower_case(obj, path: Path) -> bool | None:
    flag = getattr(obj, "do_lower_case", None)
    if flag is not None and hasattr(flag, "numpy"):
        return bool(flag.numpy())
    for name in ("do_lower_case", "do_lower_case.txt"):
        asset = path / "assets" / name
        if asset.is_file():
            return asset.read_text(encoding="utf-8").strip().lower() in ("1", "true", "yes")
    signatures = getattr(obj, "signatures", {})
    if "tokenization_info" in signatures:  # TF1 Hub BERT modules
        with_flag = signatures["tokenization_info"]()
        if "do_lower_case" in with_flag:
            return bool(with_flag["do_lower_case"].numpy())
    return None


def _hf_config(encoder: TFHubEncoder, name_or_path: str) -> dict:
    t = encoder.tensors
    num_layers = len({k.split(".")[2] for k in t if k.startswith("encoder.layer.")})
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "_name_or_path": name_or_path,
        "vocab_size": int(t["embeddings.word_embeddings.weight"].shape[0]),
        "hidden_size": int(t["embeddings.word_embeddings.weight"].shape[1]),
        "num_hidden_layers": num_layers,
        "num_attention_heads": encoder.num_heads,
        "intermediate_size": int(t["encoder.layer.0.intermediate.dense.weight"].shape[0]),
        "hidden_act": "gelu",
        "max_position_embeddings": int(t["embeddings.position_embeddings.weight"].shape[0]),
        "type_vocab_size": int(t["embeddings.token_type_embeddings.weight"].shape[0]),
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def convert_fetched_saved_model(local: LocalWeights, spec: ModelSpec | None) -> str:
    """The resolver's converter of ``tfhub``: a fetched SavedModel -> cached HF directory.

    Raises:
        ValueError: What was fetched holds no SavedModel, or as
            `convert_saved_model_to_hf`.
    """
    root = find_saved_model_dir(local.location)
    if root is None:
        raise ValueError(
            f"{local.location} holds no SavedModel (saved_model.pb); the folder is incomplete "
            "or not a TF-Hub model: delete it and download it again"
        )
    lowercase = spec.tokenizer.get("lowercase") if spec else None
    destination = conversion_dir(dataclasses.replace(local, location=str(root)), spec)
    return convert_saved_model_to_hf(
        root, destination, lowercase=lowercase, name_or_path=local.source.uri
    )


register_converter(
    "tfhub",
    convert_fetched_saved_model,
    detect=lambda directory: find_saved_model_dir(directory) is not None,
    description="a TF-Hub BERT encoder SavedModel (saved_model.pb + variables/ + assets/vocab.txt)",
)
