"""The ``roberta`` family: keras-hub ``RobertaBackbone`` + byte-level BPE + RoBERTa's head.

Covers RoBERTa-base/large (Liu et al. 2019) and DistilRoBERTa. The head is transformers'
``RobertaClassificationHead``: first token (``<s>``) -> dropout -> dense (hidden size,
tanh) -> dropout -> output, so a fine-tuned ``RobertaForSequenceClassification`` loads
into it (`hf_classifier`). The pieces every RoBERTa-architecture family shares
(the Hugging Face converter, the builder, the classifier base) live here and take a
`Flavour`; `tfx_textzoo.families.xlm_roberta` is the other flavour.

Hugging Face checkpoints are converted here rather than by keras-hub's converter: the
converter reads both ``RobertaModel`` keys and the ``roberta.``-prefixed keys of a
``*ForSequenceClassification`` checkpoint, and folds the (single) token-type embedding
row into the position embeddings as transformers adds it to every token (keras-hub's
RoBERTa converter drops it: harmless for the released weights, where it is zero, wrong
for any checkpoint where it is not).
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
import keras_hub
import numpy as np

from tfx_textzoo import _checks
from tfx_textzoo.errors import ArchitectureMismatchError
from tfx_textzoo.families.base import ZooClassifier, classification_head, pool
from tfx_textzoo.families.common import (
    check_architecture,
    check_string_tensor,
    compile_classifier,
    encode_to_first_position,
    resolve_sequence_length,
    set_dense,
    zoo_config,
)
from tfx_textzoo.families.common import (
    check_heads as _check_heads,
)
from tfx_textzoo.families.common import (
    mismatch_message as _mismatch_message,
)
from tfx_textzoo.registry import ModelSpec, register_family
from tfx_textzoo.tasks import Task
from tfx_textzoo.weights import LocalWeights, WeightsNotFoundError, resolve_and_load

ARCHITECTURE_KEYS = ("num_layers", "hidden_dim", "num_heads", "intermediate_dim", "vocabulary_size")
_ARCH_OVERRIDES = {
    "num_layers",
    "hidden_dim",
    "num_heads",
    "intermediate_dim",
    "max_sequence_length",
}
#: The Hugging Face files of a RoBERTa checkpoint besides config.json and the weights.
HF_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json")
#: Overrides (with ``weights=None``) that make any RoBERTa-architecture entry tiny.
TINY_CONFIG = {
    "num_layers": 1,
    "hidden_dim": 8,
    "num_heads": 2,
    "intermediate_dim": 16,
    "max_sequence_length": 32,
}
#: The head's poolings: ``"cls"`` the first token, as transformers' head; ``"mean"`` the
#: mean over real tokens (how the E5 encoders were trained), then the same tanh head.
POOLINGS = ("cls", "mean")
#: The load() argument that accepts weights whose architecture is not the name's.
ALLOW_MISMATCH = "allow_architecture_mismatch"
_ARCHITECTURE_RULES = {
    "num_layers": ("int", 1),
    "hidden_dim": ("int", 1),
    "num_heads": ("int", 1),
    "intermediate_dim": ("int", 1),
    "max_sequence_length": ("int", 3),
    "dropout": ("rate",),
}
#: The LayerNorm epsilon keras-hub's RobertaBackbone uses everywhere (fixed; the
#: ``layer_norm_eps`` of the released RoBERTa, XLM-R, E5 and BGE-M3 configs).
LAYER_NORM_EPSILON = 1e-5
# The head's layer names: keras-hub's RobertaTextClassifier's.
_HEAD_NAMES = ("pooled_dropout", "pooled_dense", "output_dropout", "logits")


def _byte_symbols() -> list[str]:
    """GPT-2's printable stand-in for each of the 256 bytes (byte-level BPE's alphabet)."""
    kept = [*range(33, 127), *range(161, 173), *range(174, 256)]
    others = [b for b in range(256) if b not in kept]
    mapping = {b: chr(b) for b in kept} | {b: chr(256 + i) for i, b in enumerate(others)}
    return [mapping[b] for b in range(256)]


#: Byte-level BPE merges of the tiny tokenizer (" t"+"he" -> " the", ...; "Ġ" is a space).
TINY_MERGES = ("Ġ t", "h e", "Ġt he", "i n", "e r", "o n", "a n", "Ġ a", "n d", "Ġa nd", "e s")
#: The tiny byte-level BPE vocabulary: RoBERTa's five special tokens (its ids 0-4),
#: every byte's symbol (no text is out of vocabulary), and the merged tokens.
TINY_VOCABULARY = {
    token: index
    for index, token in enumerate(
        [
            "<s>",
            "<pad>",
            "</s>",
            "<unk>",
            "<mask>",
            *_byte_symbols(),
            *dict.fromkeys("".join(m.split()) for m in TINY_MERGES),
        ]
    )
}


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class RobertaPreprocessor(keras_hub.models.RobertaTextClassifierPreprocessor):
    """keras-hub's RoBERTa classifier preprocessor that rejects non-string input clearly.

    A pair ``(a, b)`` is packed ``<s> a </s></s> b </s>`` (no segment ids), as transformers.
    """

    def call(self, x, y=None, sample_weight=None):  # noqa: D102
        for segment in x if isinstance(x, tuple) else (x,):
            check_string_tensor(segment)
        return super().call(x, y, sample_weight)


class RobertaClassifierBase(ZooClassifier):
    """The graph, config and contract of every RoBERTa-architecture zoo classifier.

    ``backbone -> pool -> dropout -> dense(hidden_dim, tanh) -> dropout -> output``: the
    layers of keras-hub's ``RobertaTextClassifier`` (and their names), which is the head of
    transformers' ``RobertaForSequenceClassification``. A family's classifier derives
    from this class first and from its keras-hub text classifier second.

    Args:
        backbone: A ``keras_hub.models.RobertaBackbone`` (or a subclass).
        num_classes: Number of classes.
        preprocessor: The preprocessor that turns raw strings into inputs.
        activation: Activation of the output layer (zoo models use ``"softmax"``).
        hidden_dim: Width of the head's tanh layer (default: the backbone's hidden size).
        dropout: Dropout rate before each of the head's dense layers.
        pooling: ``"cls"`` (the first token ``<s>``, as transformers) or ``"mean"``.
        labels: Optional class names, ``labels[i]`` is the name of class ``i``.
        model_name: The zoo name the model was built from (None: no catalog entry).
        architecture_overrides: The architecture numbers in which the model differs from
            ``model_name``'s catalog entry, or None (kept by save/load).
        **kwargs: Passed to ``keras_hub.models.TextClassifier``.
    """

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        task=None,
        hidden_dim=None,
        dropout=0.1,
        pooling="cls",
        labels=None,
        model_name=None,
        architecture_overrides=None,
        **kwargs,
    ):
        if pooling not in POOLINGS:
            raise _checks.InvalidArgumentError("pooling", pooling, "'cls' or 'mean'")
        self.backbone = backbone
        self.preprocessor = preprocessor
        hidden_dim = hidden_dim or backbone.hidden_dim
        inputs = backbone.input
        sequence = backbone(inputs)
        features = pool(
            {"sequence_output": sequence}, inputs["padding_mask"], pooling, backbone.dtype_policy
        )
        logits, head = classification_head(
            features,
            num_classes,
            dropout=dropout,
            activation=activation,
            task=task,
            hidden_units=hidden_dim,
            hidden_activation="tanh",
            dtype=backbone.dtype_policy,
            names=_HEAD_NAMES,
        )
        self.pooled_dropout, self.pooled_dense, self.output_dropout, self.output_dense = head
        self.head_layers = tuple(head)
        keras_hub.models.TextClassifier.__init__(self, inputs=inputs, outputs=logits, **kwargs)
        self.num_classes = num_classes
        self.activation = keras.activations.get(activation)
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.pooling = pooling
        self.architecture_overrides = dict(architecture_overrides or {}) or None
        self.set_contract(labels=labels, model_name=model_name, features=features, task=task)

    @property
    def architecture(self) -> dict[str, int]:
        """The architecture numbers of this model as built (read from its backbone).

        Examples:
            >>> import tfx_textzoo as textzoo
            >>> from tfx_textzoo.families.roberta import TINY_CONFIG, TINY_MERGES, TINY_VOCABULARY
            >>> model = textzoo.load("roberta-base", num_classes=2, weights=None,
            ...                      vocabulary=TINY_VOCABULARY, merges=TINY_MERGES, **TINY_CONFIG)
            >>> model.architecture["hidden_dim"], model.architecture_overrides["num_layers"]
            (8, 1)
        """
        return backbone_architecture(self.backbone)

    def pooled_features(self, inputs, training=None):
        """The first token's (``<s>``) features, the last layer run at position 0 only.

        The backbone's own layers as keras-hub's ``RobertaBackbone`` wires them (XLM-R's
        backbone is the same); None for ``pooling="mean"`` (the graph runs).
        """
        if self.pooling != "cls":
            return None
        backbone = self.backbone
        x = backbone.embeddings(inputs["token_ids"])
        x = backbone.embeddings_dropout(backbone.embeddings_layer_norm(x), training=training)
        return encode_to_first_position(
            backbone.transformer_layers, x, inputs["padding_mask"], training
        )

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "pooling": self.pooling,
            "architecture_overrides": self.architecture_overrides,
            **zoo_config(self.labels, self.model_name),
        }


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class RobertaClassifier(RobertaClassifierBase, keras_hub.models.RobertaTextClassifier):
    """keras-hub's ``RobertaTextClassifier`` with a choice of pooling, class names and zoo name.

    Everything is in [`RobertaClassifierBase`][tfx_textzoo.families.roberta.RobertaClassifierBase]:
    its base holds the graph (transformers' ``RobertaClassificationHead``), config and contract.
    """

    preprocessor_cls = RobertaPreprocessor


@dataclasses.dataclass(frozen=True)
class Flavour:
    """What differs between the RoBERTa-architecture families (the rest is shared).

    Attributes:
        family: The family name.
        backbone_cls: The keras-hub backbone class.
        tokenizer_cls: The keras-hub tokenizer class.
        preprocessor_cls: The zoo preprocessor class.
        classifier_cls: The zoo classifier class.
        hf_model_types: The ``model_type`` values of the Hugging Face configs it reads.
        hf_tokenizer: ``hf_tokenizer(directory) -> tokenizer`` for a Hugging Face directory.
        random_tokenizer: ``random_tokenizer(spec, tokenizer_overrides) -> tokenizer`` for
            ``weights=None`` (None when no tokenizer override was given).
        tokenizer_arguments: The ``load`` arguments that give the tokenizer.
        default_entry: The catalog entry whose ``finetune`` settings a loaded Hugging Face
            classifier is compiled with.
        preset_tokenizer: ``preset_tokenizer(location) -> tokenizer`` for a keras-hub
            preset (default: ``tokenizer_cls.from_preset``).
    """

    family: str
    backbone_cls: type
    tokenizer_cls: type
    preprocessor_cls: type
    classifier_cls: type
    hf_model_types: tuple[str, ...]
    hf_tokenizer: Callable[[Path], Any]
    random_tokenizer: Callable[[Mapping[str, Any]], Any]
    tokenizer_arguments: tuple[str, ...]
    default_entry: str
    preset_tokenizer: Callable[[str], Any] | None = None


def backbone_architecture(backbone: Any) -> dict[str, int]:
    """The architecture numbers (`ARCHITECTURE_KEYS`) of a keras-hub RoBERTa backbone."""
    return {k: int(getattr(backbone, k)) for k in ARCHITECTURE_KEYS if hasattr(backbone, k)}


def architecture_differences(spec: ModelSpec, backbone: Any) -> dict[str, tuple[Any, int]]:
    """``{key: (catalog value, real value)}`` where ``backbone`` is not ``spec``'s architecture.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.roberta import architecture_differences, TINY_CONFIG
        >>> from tfx_textzoo.families.roberta import TINY_MERGES, TINY_VOCABULARY
        >>> model = textzoo.load("roberta-base", num_classes=2, weights=None,
        ...                      vocabulary=TINY_VOCABULARY, merges=TINY_MERGES, **TINY_CONFIG)
        >>> spec = textzoo.registry.get_spec("roberta-base")
        >>> architecture_differences(spec, model.backbone)["num_layers"]
        (12, 1)
    """
    real = backbone_architecture(backbone)
    return {
        k: (spec.architecture[k], real[k])
        for k in ARCHITECTURE_KEYS
        if k in spec.architecture and k in real and spec.architecture[k] != real[k]
    }


def count_params(arch: Mapping[str, Any], num_classes: int) -> int:
    """Parameter count of a keras-hub RoBERTa backbone plus the RoBERTa head.

    keras-hub's backbone has no pooler and no token-type embedding, and keeps
    ``max_sequence_length`` position rows (transformers keeps 2 more, unused).

    Examples:
        >>> count_params({"num_layers": 12, "hidden_dim": 768, "intermediate_dim": 3072,
        ...               "vocabulary_size": 50265}, 2)
        124644866
    """
    h, i, layers = arch["hidden_dim"], arch["intermediate_dim"], arch["num_layers"]
    positions = arch.get("max_sequence_length", 512)
    embeddings = (arch["vocabulary_size"] + positions) * h + 2 * h
    per_layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    head = (h * h + h) + (h * num_classes + num_classes)
    return embeddings + layers * per_layer + head


def build_classifier(
    flavour: Flavour,
    spec: ModelSpec,
    *,
    num_classes: int,
    labels: list[str] | None,
    weights: Any,
    sequence_length: int | None,
    task: Any = None,
    **overrides: Any,
) -> RobertaClassifierBase:
    """Build a compiled classifier of a RoBERTa-architecture ``flavour`` for ``spec``.

    The builders of `build` and the ``xlm-roberta`` family call it; the arguments
    are theirs.
    """
    allow_mismatch = _checks.check_bool(ALLOW_MISMATCH, overrides.pop(ALLOW_MISMATCH, False))
    tokenizer_overrides = {
        k: overrides.pop(k) for k in flavour.tokenizer_arguments if overrides.get(k) is not None
    }
    for k in flavour.tokenizer_arguments:
        overrides.pop(k, None)
    head_given = {"dropout"} if "dropout" in overrides else set()
    head_dropout = check_architecture(
        {"dropout": overrides.pop("dropout", spec.architecture.get("dropout", 0.1))},
        head_given,
        spec.name,
        _ARCHITECTURE_RULES,
    )["dropout"]
    pooling = overrides.pop("pooling", spec.architecture.get("pooling", "cls"))
    unknown = set(overrides) - _ARCH_OVERRIDES
    if unknown:
        raise TypeError(
            f"Unknown argument(s) for a {spec.family} model: {sorted(unknown)}. "
            f"Architecture overrides allowed with weights=None: {sorted(_ARCH_OVERRIDES)}; "
            f"tokenizer arguments: {list(flavour.tokenizer_arguments)}."
        )
    if weights is None:
        tokenizer = _random_init_tokenizer(flavour, spec, tokenizer_overrides)
        arch = {
            k: v
            for k, v in spec.architecture.items()
            if k in _ARCH_OVERRIDES | {"vocabulary_size", "dropout"}
        }
        arch.update(overrides)
        arch = check_architecture(arch, set(overrides), spec.name, _ARCHITECTURE_RULES)
        _check_heads(arch, set(overrides), spec.name)
        arch["vocabulary_size"] = tokenizer.vocabulary_size()
        backbone = flavour.backbone_cls(**arch)
    else:
        if overrides or tokenizer_overrides:
            raise ValueError(
                f"Architecture/tokenizer overrides ({sorted([*overrides, *tokenizer_overrides])})"
                " only apply to a randomly initialised model: pass weights=None, or drop them "
                "to use the pretrained architecture."
            )

        def load_fn(local: LocalWeights):
            return _load_backbone(local, flavour, spec=spec, check_arch=weights == "auto")

        backbone, tokenizer = resolve_and_load(spec, weights, load_fn)
        differences = architecture_differences(spec, backbone)
        if differences and not allow_mismatch:
            raise ArchitectureMismatchError(_mismatch_message(spec, weights, differences))
    sequence_length = _sequence_length(spec, sequence_length, backbone)
    model = flavour.classifier_cls(
        backbone,
        num_classes,
        preprocessor=flavour.preprocessor_cls(tokenizer, sequence_length=sequence_length),
        labels=labels,
        model_name=spec.name,
        activation=Task.from_config(task).activation,
        task=task,
        dropout=head_dropout,
        pooling=pooling,
        architecture_overrides={
            k: real for k, (_, real) in architecture_differences(spec, backbone).items()
        },
    )
    compile_classifier(model, spec.finetune, pretrained=weights is not None)
    return model


def load_hf_classifier(
    flavour: Flavour, directory: Path, config: Mapping[str, Any], *, labels: list[str]
) -> RobertaClassifierBase:
    """A transformers ``*ForSequenceClassification`` checkpoint of ``flavour``, head included.

    The trained head (``classifier.dense``, ``classifier.out_proj``) is read from the
    safetensors into the zoo head, which has its shape.
    """
    from tfx_textzoo import registry
    from tfx_textzoo.hf_classifiers import task_of

    directory = Path(directory)
    task = task_of(config)  # multi-label checkpoints: a sigmoid per label
    backbone = backbone_from_hf(directory, flavour, config)
    tokenizer = flavour.hf_tokenizer(directory)
    _check_vocabulary(tokenizer, backbone)
    tensors = _read_safetensors(directory)
    head_keys = [
        f"classifier.{name}.{part}" for name in ("dense", "out_proj") for part in ("weight", "bias")
    ]
    missing = [k for k in head_keys if k not in tensors]
    if missing:
        raise ValueError(
            f"{directory} has no RoBERTa classification head (missing {missing}); is it a "
            f"{config.get('architectures')} checkpoint rather than *ForSequenceClassification?"
        )
    hidden, num_classes = (
        tensors["classifier.dense.weight"].shape[0],
        tensors["classifier.out_proj.weight"].shape[0],
    )
    if len(labels) != num_classes:
        raise ValueError(
            f"{directory}: id2label names {len(labels)} classes but the head has "
            f"{num_classes} outputs"
        )
    dropout = config.get("classifier_dropout")
    if dropout is None:
        dropout = config.get("hidden_dropout_prob", 0.1)
    sequence_length = min(128, backbone.max_sequence_length)
    model = flavour.classifier_cls(
        backbone,
        num_classes,
        preprocessor=flavour.preprocessor_cls(tokenizer, sequence_length=sequence_length),
        activation=task.activation,
        task=task,
        hidden_dim=int(hidden),
        dropout=float(dropout),
        pooling="cls",
        labels=labels,
        model_name=None,
    )
    set_dense(
        model.pooled_dense, tensors["classifier.dense.weight"], tensors["classifier.dense.bias"]
    )
    set_dense(
        model.output_dense,
        tensors["classifier.out_proj.weight"],
        tensors["classifier.out_proj.bias"],
    )
    finetune = registry.get_spec(flavour.default_entry).finetune
    compile_classifier(model, finetune, pretrained=True)
    return model


def backbone_from_hf(directory: Path, flavour: Flavour, config: Mapping[str, Any] | None = None):
    """A keras-hub backbone of ``flavour`` with the weights of a Hugging Face directory.

    Reads ``config.json`` and ``model.safetensors`` (or a sharded index) of a
    transformers ``RobertaModel`` / ``XLMRobertaModel`` or of a
    ``*ForSequenceClassification`` (keys prefixed ``roberta.``).

    Raises:
        ValueError: The config is another model type, or uses what keras-hub's RoBERTa
            does not compute (another activation, relative position embeddings).
    """
    directory = Path(directory)
    if config is None:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    model_type = config.get("model_type")
    if model_type not in flavour.hf_model_types:
        raise ValueError(
            f"{directory} holds a {model_type!r} model, not {' or '.join(flavour.hf_model_types)}"
        )
    if config.get("hidden_act", "gelu") != "gelu":
        raise ValueError(
            f"{directory}: hidden_act {config.get('hidden_act')!r} is not supported (keras-hub's "
            "RoBERTa computes the exact 'gelu')"
        )
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(
            f"{directory}: position_embedding_type {config.get('position_embedding_type')!r} is "
            "not supported (keras-hub's RoBERTa has absolute positions)"
        )
    epsilon = float(config.get("layer_norm_eps", LAYER_NORM_EPSILON))
    if not math.isclose(epsilon, LAYER_NORM_EPSILON, rel_tol=1e-3):
        warnings.warn(
            f"{directory}: layer_norm_eps is {epsilon:g}, but keras-hub's RoBERTa normalises "
            f"with {LAYER_NORM_EPSILON:g} (the released models' value): outputs will differ "
            "slightly from transformers'",
            UserWarning,
            stacklevel=2,
        )
    # RoBERTa numbers positions from padding_idx + 1 (the rows before are never used by
    # real tokens); keras-hub's embedding starts at position 0, so those rows are dropped.
    offset = int(config.get("pad_token_id", 1)) + 1
    tensors = _read_safetensors(directory)
    prefix = "roberta." if "roberta.embeddings.word_embeddings.weight" in tensors else ""

    def get(key: str) -> np.ndarray:
        for name in (
            key,
            key.replace("LayerNorm.weight", "LayerNorm.gamma").replace(
                "LayerNorm.bias", "LayerNorm.beta"
            ),
        ):
            if prefix + name in tensors:
                return tensors[prefix + name]
        raise KeyError(f"{directory} has no weight {prefix + key!r}")

    backbone = flavour.backbone_cls(
        vocabulary_size=int(config["vocab_size"]),
        num_layers=int(config["num_hidden_layers"]),
        num_heads=int(config["num_attention_heads"]),
        hidden_dim=int(config["hidden_size"]),
        intermediate_dim=int(config["intermediate_size"]),
        dropout=float(config.get("hidden_dropout_prob", 0.1)),
        max_sequence_length=int(config["max_position_embeddings"]) - offset,
    )
    backbone.token_embedding.embeddings.assign(get("embeddings.word_embeddings.weight"))
    positions = get("embeddings.position_embeddings.weight")[offset:]
    if prefix + "embeddings.token_type_embeddings.weight" in tensors:
        # Every token has token type 0: its embedding is a constant added to each position.
        positions = positions + get("embeddings.token_type_embeddings.weight")[0]
    backbone.embeddings.position_embedding.position_embeddings.assign(positions)
    backbone.embeddings_layer_norm.gamma.assign(get("embeddings.LayerNorm.weight"))
    backbone.embeddings_layer_norm.beta.assign(get("embeddings.LayerNorm.bias"))
    for index, block in enumerate(backbone.transformer_layers):
        hf = f"encoder.layer.{index}"
        attention = block._self_attention_layer
        for name, dense in (
            ("attention.self.query", attention.query_dense),
            ("attention.self.key", attention.key_dense),
            ("attention.self.value", attention.value_dense),
            ("attention.output.dense", attention.output_dense),
        ):
            dense.kernel.assign(np.reshape(get(f"{hf}.{name}.weight").T, dense.kernel.shape))
            dense.bias.assign(np.reshape(get(f"{hf}.{name}.bias"), dense.bias.shape))
        for name, dense in (
            ("intermediate.dense", block._feedforward_intermediate_dense),
            ("output.dense", block._feedforward_output_dense),
        ):
            dense.kernel.assign(get(f"{hf}.{name}.weight").T)
            dense.bias.assign(get(f"{hf}.{name}.bias"))
        for name, norm in (
            ("attention.output.LayerNorm", block._self_attention_layer_norm),
            ("output.LayerNorm", block._feedforward_layer_norm),
        ):
            norm.gamma.assign(get(f"{hf}.{name}.weight"))
            norm.beta.assign(get(f"{hf}.{name}.bias"))
    return backbone


def _read_safetensors(directory: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    index = directory / "model.safetensors.index.json"
    if index.exists():
        files = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors: dict[str, np.ndarray] = {}
    for name in files:
        tensors.update(load_file(str(directory / name)))
    return tensors


def _load_backbone(local: LocalWeights, flavour: Flavour, *, spec: ModelSpec, check_arch: bool):
    if local.format == "keras_hub":
        backbone = flavour.backbone_cls.from_preset(local.location)
        tokenizer = _preset_tokenizer(flavour, local.location)
    else:
        directory = Path(local.location)
        backbone = backbone_from_hf(directory, flavour)
        tokenizer = flavour.hf_tokenizer(directory)
    if check_arch:  # a catalog source of another architecture: the next one is tried
        differences = architecture_differences(spec, backbone)
        if differences:
            raise ArchitectureMismatchError(_mismatch_message(spec, local.location, differences))
    _check_vocabulary(tokenizer, backbone)
    return backbone, tokenizer


def _preset_tokenizer(flavour: Flavour, location: str) -> Any:
    if flavour.preset_tokenizer is not None:
        return flavour.preset_tokenizer(location)
    return flavour.tokenizer_cls.from_preset(location)


def _check_vocabulary(tokenizer: Any, backbone: Any) -> None:
    if tokenizer.vocabulary_size() != backbone.vocabulary_size:
        raise ValueError(
            f"the tokenizer has {tokenizer.vocabulary_size()} tokens but the embedding table "
            f"has {backbone.vocabulary_size} rows"
        )


def _random_init_tokenizer(flavour: Flavour, spec: ModelSpec, overrides: Mapping[str, Any]):
    """The tokenizer of a randomly initialised model: the overrides', or a source's."""
    if overrides:
        return flavour.random_tokenizer(overrides)

    def tokenizer_only(local: LocalWeights):
        if local.format == "keras_hub":
            return _preset_tokenizer(flavour, local.location)
        return flavour.hf_tokenizer(Path(local.location))

    try:
        return resolve_and_load(spec, "auto", tokenizer_only)
    except WeightsNotFoundError as err:
        raise WeightsNotFoundError(
            f"{spec.name} with weights=None still needs its tokenizer files, which are not "
            f"shipped with tfx_textzoo.\n{err}\nAlternatively pass the tokenizer yourself: "
            f"{', '.join(f'{a}=...' for a in flavour.tokenizer_arguments)}."
        ) from None


def _sequence_length(spec: ModelSpec, sequence_length: Any, backbone: Any) -> int:
    sequence_length = resolve_sequence_length(spec, sequence_length, backbone.max_sequence_length)
    return sequence_length


def _hf_tokenizer(directory: Path) -> keras_hub.models.RobertaTokenizer:
    vocab, merges = directory / "vocab.json", directory / "merges.txt"
    for path in (vocab, merges):
        if not path.exists():
            raise FileNotFoundError(f"{directory} has no {path.name} for the byte-level BPE")
    settings = directory / "tokenizer_config.json"
    prefix_space = False
    if settings.exists():
        prefix_space = bool(
            json.loads(settings.read_text(encoding="utf-8")).get("add_prefix_space")
        )
    return keras_hub.models.RobertaTokenizer(
        vocabulary=str(vocab), merges=str(merges), add_prefix_space=prefix_space
    )


def _random_tokenizer(overrides: Mapping[str, Any]) -> keras_hub.models.RobertaTokenizer:
    if set(overrides) != {"vocabulary", "merges"}:
        raise ValueError(
            "a RoBERTa tokenizer needs both vocabulary= (a {token: id} dict or a vocab.json "
            "path) and merges= (a list of 'a b' merges or a merges.txt path)"
        )
    vocabulary, merges = overrides["vocabulary"], overrides["merges"]
    if not isinstance(vocabulary, str):
        vocabulary = {str(k): int(v) for k, v in dict(vocabulary).items()}
    if not isinstance(merges, str):
        merges = [str(m) for m in merges]
    return keras_hub.models.RobertaTokenizer(vocabulary=vocabulary, merges=merges)


FLAVOUR = Flavour(
    family="roberta",
    backbone_cls=keras_hub.models.RobertaBackbone,
    tokenizer_cls=keras_hub.models.RobertaTokenizer,
    preprocessor_cls=RobertaPreprocessor,
    classifier_cls=RobertaClassifier,
    hf_model_types=("roberta",),
    hf_tokenizer=_hf_tokenizer,
    random_tokenizer=_random_tokenizer,
    tokenizer_arguments=("vocabulary", "merges"),
    default_entry="roberta-base",
)


def hf_classifier(directory: Path, config: dict, *, labels: list[str]) -> RobertaClassifier:
    """A transformers ``RobertaForSequenceClassification`` checkpoint as a zoo classifier.

    Args:
        directory: The checkpoint's directory (config.json, model.safetensors, vocab.json,
            merges.txt).
        config: Its parsed config.json.
        labels: The class names, in id order.

    Returns:
        A compiled [`RobertaClassifier`][tfx_textzoo.families.roberta.RobertaClassifier]
        with the trained head, ``model_name`` None.

    Examples:
        >>> import json
        >>> from pathlib import Path
        >>> import tfx_textzoo as textzoo
        >>> fixture = Path(textzoo.__file__).parents[1] / "tests/fixtures/hf/roberta/classifier"
        >>> config = json.loads((fixture / "config.json").read_text())
        >>> model = hf_classifier(fixture, config, labels=["NEG", "NEU", "POS"])
        >>> model.labels, model.predict(["a"], verbose=0).shape
        (['NEG', 'NEU', 'POS'], (1, 3))
    """
    return load_hf_classifier(FLAVOUR, directory, config, labels=labels)


@register_family(
    "roberta",
    count_params=count_params,
    architecture_keys=ARCHITECTURE_KEYS,
    hf_files=HF_FILES,
    tiny_config=TINY_CONFIG,
    tiny_tokenizer={"vocabulary": TINY_VOCABULARY, "merges": list(TINY_MERGES)},
    hf_model_types=FLAVOUR.hf_model_types,
    hf_classifier=hf_classifier,
)
def build(
    spec: ModelSpec,
    *,
    num_classes: int,
    labels: list[str] | None,
    weights: Any,
    sequence_length: int | None,
    **overrides: Any,
) -> RobertaClassifier:
    """Build a compiled RoBERTa classifier for ``spec`` (see [`load`][tfx_textzoo.load]).

    Args:
        spec: The catalog entry.
        num_classes: Number of classes.
        labels: Optional class names.
        weights: ``"auto"``, None (random init) or a weights location (a keras-hub preset,
            a Hugging Face directory or ``hf://`` repository).
        sequence_length: Tokens per text (default: the entry's ``tokenizer.sequence_length``).
        **overrides: With ``weights=None``: ``vocabulary`` (``{token: id}`` or a vocab.json
            path) with ``merges`` (a list or a merges.txt path) instead of the entry's
            tokenizer, and architecture numbers (``num_layers``, ``hidden_dim``,
            ``num_heads``, ``intermediate_dim``, ``max_sequence_length``); always allowed:
            ``dropout`` (of the head), ``pooling`` (``"cls"`` or ``"mean"``) and
            ``allow_architecture_mismatch``.

    Returns:
        A compiled [`RobertaClassifier`][tfx_textzoo.families.roberta.RobertaClassifier]
        whose preprocessor takes raw strings (or pairs).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.roberta import TINY_CONFIG, TINY_MERGES, TINY_VOCABULARY
        >>> model = textzoo.load("roberta-base", num_classes=3, weights=None,
        ...                      vocabulary=TINY_VOCABULARY, merges=TINY_MERGES, **TINY_CONFIG)
        >>> model.predict(["hello world"], verbose=0).shape
        (1, 3)
    """
    return build_classifier(
        FLAVOUR,
        spec,
        num_classes=num_classes,
        labels=labels,
        weights=weights,
        sequence_length=sequence_length,
        **overrides,
    )
