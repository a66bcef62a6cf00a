"""The ``deberta-v3`` family: keras-hub ``DebertaV3Backbone`` + SentencePiece + a new head.

Covers DeBERTa-v3 xsmall/small/base/large and the multilingual mDeBERTa-v3-base
(He, Gao & Chen, 2021). Weights come from the keras-hub presets or from Hugging Face
checkpoints, which this family converts itself (keras-hub reads no Hugging Face DeBERTa
directory; see ``tfx_textzoo.families.deberta_v3_convert`` for the weight map and where
keras-hub's maths differs from transformers').

The head is transformers' ``DebertaV2ForSequenceClassification`` head: the first token's
vector (``ContextPooler``: its dropout is ``pooler_dropout`` = 0 in every v3 config, so
none here) -> dense ``pooler_hidden_size`` with exact GELU -> dropout -> dense
``num_classes``; a fine-tuned transformers classifier loads into it unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import keras_hub
import numpy as np

from tfx_textzoo import _checks
from tfx_textzoo.errors import ArchitectureMismatchError
from tfx_textzoo.families import deberta_v3_convert as convert
from tfx_textzoo.families.base import ZooClassifier, classification_head, pool
from tfx_textzoo.families.common import (
    SeedSafeSentencePiece,
    check_architecture,
    check_classes,
    check_string_tensor,
    compile_classifier,
    resolve_sequence_length,
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

FAMILY = "deberta-v3"
ARCHITECTURE_KEYS = (
    "num_layers",
    "hidden_dim",
    "num_heads",
    "intermediate_dim",
    "vocabulary_size",
    "bucket_size",
    "max_sequence_length",
)
_ARCH_OVERRIDES = {
    "num_layers",
    "hidden_dim",
    "num_heads",
    "intermediate_dim",
    "vocabulary_size",
    "bucket_size",
    "max_sequence_length",
}
#: The Hugging Face files a DeBERTa-v3 checkpoint needs besides config.json and the weights.
HF_FILES = ("spm.model", "added_tokens.json", "tokenizer_config.json", "special_tokens_map.json")
#: Overrides (with ``weights=None``) that make any entry tiny, for the shared tests.
TINY_CONFIG = {
    "num_layers": 1,
    "hidden_dim": 8,
    "num_heads": 2,
    "intermediate_dim": 16,
    "max_sequence_length": 32,
    "bucket_size": 4,
}
#: The words of the tiny SentencePiece model (plus every letter, digit and punctuation).
TINY_WORDS = (
    "the team won stocks on friday new chip final peace a of and more rallied as investors "
    "cheered earnings after extra time doubles battery life phones leaders met to discuss "
    "treaty"
).split()
_TINY_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-:;()"
_ARCHITECTURE_RULES = {
    "num_layers": ("int", 1),
    "hidden_dim": ("int", 1),
    "num_heads": ("int", 1),
    "intermediate_dim": ("int", 1),
    "vocabulary_size": ("int", 1),
    "bucket_size": ("int", 2),
    "max_sequence_length": ("int", 3),
    "dropout": ("rate",),
}
_POOLINGS = ("cls", "mean")
#: Fine-tuning settings for classifiers read from transformers checkpoints (no catalog
#: entry): those of deberta-v3-base's model card (MNLI: learning rate 2e-5).
HF_FINETUNE = {"learning_rate": 2e-5, "weight_decay": 0.01}
#: The load() argument that accepts weights whose architecture is not the name's.
ALLOW_MISMATCH = "allow_architecture_mismatch"
# The preprocessor length of a classifier read from a transformers directory, when its
# tokenizer_config.json names none that fits (the zoo's default; capped by the backbone).
_HF_SEQUENCE_LENGTH = 512


def tiny_proto() -> bytes:
    """The tiny SentencePiece model of the shared tests (about 120 pieces, built in code).

    Examples:
        >>> import keras_hub
        >>> tokenizer = keras_hub.models.DebertaV3Tokenizer(proto=tiny_proto())
        >>> tokenizer.id_to_token(tokenizer.token_to_id("▁team")), tokenizer.pad_token_id
        ('▁team', 0)
    """
    return convert.tiny_proto([*TINY_WORDS, *_TINY_CHARACTERS])


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class DebertaV3Tokenizer(SeedSafeSentencePiece, keras_hub.models.DebertaV3Tokenizer):
    """keras-hub's DeBERTa-v3 tokenizer whose SentencePiece model survives a seed reset.

    tensorflow_text keeps the SentencePiece model in a resource owned by a cached eager
    kernel; ``keras.utils.set_random_seed`` (``tf.random.set_seed``, which
    [`finetune`][tfx_textzoo.finetune] calls with ``seed=``) clears that cache and so
    deletes the model, and a function traced afterwards captures a dead handle
    ("Resource ... SentencepieceOp ... does not exist"), as does every function traced
    before it. In a traced function this tokenizer creates the resource inside the graph
    (owned by that function, and exported with it); eager calls use keras-hub's.

    Examples:
        >>> import keras, tensorflow as tf
        >>> from tfx_textzoo.families.deberta_v3 import DebertaV3Tokenizer, tiny_proto
        >>> tokenizer = DebertaV3Tokenizer(proto=tiny_proto())
        >>> traced = tf.function(lambda x: tokenizer(x).flat_values)
        >>> ids = traced(tf.constant(["the team"])).numpy().tolist()
        >>> keras.utils.set_random_seed(0)  # deletes keras-hub's eager resource
        >>> traced(tf.constant(["the team"])).numpy().tolist() == ids == [
        ...     tokenizer.token_to_id("▁the"), tokenizer.token_to_id("▁team")]
        True
    """


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class DebertaV3Preprocessor(keras_hub.models.DebertaV3TextClassifierPreprocessor):
    """keras-hub's DeBERTa-v3 classifier preprocessor that rejects non-string input clearly.

    A pair ``(a, b)`` is packed as ``[CLS] a [SEP] b [SEP]`` (transformers' encoding of a
    pair; DeBERTa-v3 has no token types, so no segment ids go to the backbone).
    """

    def call(self, x, y=None, sample_weight=None):  # noqa: D102
        for segment in x if isinstance(x, tuple) else (x,):
            check_string_tensor(segment)
        return super().call(x, y, sample_weight)


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class DebertaV3Classifier(ZooClassifier, keras_hub.models.DebertaV3TextClassifier):
    """A DeBERTa-v3 classifier with transformers' head, class names and zoo name.

    Args:
        backbone: A ``keras_hub.models.DebertaV3Backbone``.
        num_classes: Number of classes.
        preprocessor: The DeBERTa-v3 preprocessor that turns raw strings into inputs.
        activation: Activation of the output layer (zoo models use ``"softmax"``).
        hidden_dim: Width of the head's hidden dense layer (transformers'
            ``pooler_hidden_size``; default the backbone's ``hidden_dim``).
        dropout: Dropout rate between the hidden dense and the output layer.
        pooling: ``"cls"``: the first token's vector (as transformers); ``"mean"``: the
            mean of the token vectors over the non-padding positions.
        labels: Optional class names, ``labels[i]`` is the name of class ``i``.
        model_name: The zoo name the model was built from (None: none).
        architecture_overrides: The architecture numbers in which this model differs from
            ``model_name``'s catalog entry, or None (see ``BertClassifier``).
        **kwargs: Passed to ``keras_hub.models.TextClassifier``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.deberta_v3 import TINY_CONFIG, tiny_proto
        >>> model = textzoo.load("deberta-v3-base", num_classes=2, weights=None,
        ...                      proto=tiny_proto(), **TINY_CONFIG)
        >>> [layer.name for layer in model.layers[-4:]]
        ['first_token', 'pooled_dense', 'classifier_dropout', 'logits']
    """

    preprocessor_cls = DebertaV3Preprocessor

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
        if pooling not in _POOLINGS:
            raise _checks.InvalidArgumentError("pooling", pooling, "'cls' or 'mean'")
        self.backbone = backbone
        self.preprocessor = preprocessor
        hidden_dim = int(hidden_dim or backbone.hidden_dim)
        inputs = backbone.input
        sequence = backbone(inputs)
        features = pool(
            {"sequence_output": sequence},
            inputs["padding_mask"],
            pooling,
            backbone.dtype_policy,
        )
        logits, head = classification_head(
            features,
            num_classes,
            dropout=dropout,
            activation=activation,
            task=task,
            hidden_units=hidden_dim,
            hidden_activation="gelu",  # Keras' gelu is the exact erf form, as transformers'
            input_dropout=False,
            dtype=backbone.dtype_policy,
            names=("pooled_dense", "classifier_dropout", "logits"),
        )
        self.pooled_dense, self.output_dropout, self.output_dense = head
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
            >>> from tfx_textzoo.families.deberta_v3 import TINY_CONFIG, tiny_proto
            >>> model = textzoo.load("deberta-v3-xsmall", num_classes=2, weights=None,
            ...                      proto=tiny_proto(), **TINY_CONFIG)
            >>> model.architecture["num_layers"], model.architecture_overrides["hidden_dim"]
            (1, 8)
        """
        return backbone_architecture(self.backbone)

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "pooling": self.pooling,
            "architecture_overrides": self.architecture_overrides,
            **zoo_config(self.labels, self.model_name),
        }


def backbone_architecture(backbone: Any) -> dict[str, int]:
    """The architecture numbers (`ARCHITECTURE_KEYS`) of a ``DebertaV3Backbone``."""
    return {k: int(getattr(backbone, k)) for k in ARCHITECTURE_KEYS if hasattr(backbone, k)}


def architecture_differences(spec: ModelSpec, backbone: Any) -> dict[str, tuple[Any, int]]:
    """``{key: (catalog value, real value)}`` where ``backbone`` is not ``spec``'s architecture.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.deberta_v3 import TINY_CONFIG, tiny_proto
        >>> spec = textzoo.registry.get_spec("deberta-v3-small")
        >>> model = textzoo.load(spec.name, num_classes=2, weights=None, proto=tiny_proto(),
        ...                      **TINY_CONFIG)
        >>> architecture_differences(spec, model.backbone)["num_layers"]
        (6, 1)
    """
    real = backbone_architecture(backbone)
    return {
        k: (spec.architecture[k], real[k])
        for k in ARCHITECTURE_KEYS
        if k in spec.architecture and k in real and spec.architecture[k] != real[k]
    }


def count_params(arch: Mapping[str, Any], num_classes: int) -> int:
    """Parameter count of a DeBERTa-v3 backbone plus transformers' classification head.

    The backbone part equals keras-hub's preset metadata (deberta_v3_base_en: 183,831,552).

    Examples:
        >>> count_params({"num_layers": 12, "hidden_dim": 768, "intermediate_dim": 3072,
        ...               "vocabulary_size": 128100, "bucket_size": 256}, 0)
        184422144
        >>> count_params({"num_layers": 12, "hidden_dim": 768, "intermediate_dim": 3072,
        ...               "vocabulary_size": 128100, "bucket_size": 256}, 2) - 768 * 769 - 2 * 769
        183831552
    """
    h, i, layers = arch["hidden_dim"], arch["intermediate_dim"], arch["num_layers"]
    buckets = arch.get("bucket_size", 256)
    embeddings = arch["vocabulary_size"] * h + 2 * h + 2 * buckets * h + 2 * h
    per_layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    head = (h * h + h) + (h * num_classes + num_classes)
    return embeddings + layers * per_layer + head


def hf_classifier(directory: Path, config: Mapping[str, Any], *, labels: list[str]):
    """A compiled classifier from a transformers ``DebertaV2ForSequenceClassification`` dir.

    Args:
        directory: The checkpoint: config.json, model.safetensors (backbone keys under
            ``deberta.``, head keys ``pooler.dense.*`` and ``classifier.*``), spm.model.
        config: Its parsed config.json.
        labels: The class names, in id order (from ``id2label``).

    Returns:
        A compiled `DebertaV3Classifier` with the trained head, ``model_name`` None.

    Examples:
        >>> import json
        >>> from pathlib import Path
        >>> import tfx_textzoo as textzoo
        >>> fixture = Path("tests/fixtures/hf/deberta-v3/classifier")
        >>> if fixture.is_dir():  # in a checkout of the repository
        ...     family = textzoo.registry.get_family("deberta-v3")
        ...     config = json.loads((fixture / "config.json").read_text())
        ...     model = family.hf_classifier(fixture, config, labels=["NEG", "NEU", "POS"])
        ...     print(model.labels, model.model_name)
        ... else:
        ...     print(["NEG", "NEU", "POS"], None)
        ['NEG', 'NEU', 'POS'] None
    """
    from tfx_textzoo.hf_classifiers import task_of

    directory = Path(directory)
    task = task_of(config)  # multi-label checkpoints: a sigmoid per label
    num_classes, labels = check_classes(None, labels)
    backbone, tensors, _ = convert.load_backbone(directory, config)
    tokenizer = convert.load_tokenizer(directory, backbone.vocabulary_size, DebertaV3Tokenizer)
    if str(config.get("pooler_hidden_act", "gelu")) != "gelu":
        raise convert.UnsupportedCheckpointError(
            f"pooler_hidden_act={config['pooler_hidden_act']!r}: the head's hidden activation "
            "is gelu in DeBERTa-v3 classifiers, and the only one this family builds"
        )
    hidden = int(config.get("pooler_hidden_size", backbone.hidden_dim))
    dropout = config.get("cls_dropout")
    dropout = float(config.get("hidden_dropout_prob", 0.1) if dropout is None else dropout)
    model = DebertaV3Classifier(
        backbone,
        num_classes,
        preprocessor=DebertaV3Preprocessor(
            tokenizer, sequence_length=_hf_sequence_length(directory, backbone)
        ),
        activation=task.activation,
        task=task,
        hidden_dim=hidden,
        dropout=dropout,
        labels=labels,
        model_name=None,
    )
    head = (
        (model.pooled_dense, "pooler.dense"),
        (model.output_dense, "classifier"),
    )
    for layer, key in head:
        for name, variable, transpose in (
            ("weight", layer.kernel, True),
            ("bias", layer.bias, False),
        ):
            if f"{key}.{name}" not in tensors:
                raise KeyError(f"{directory} has no {key}.{name}: not a classifier checkpoint")
            value = np.asarray(tensors[f"{key}.{name}"], np.float32)
            value = value.T if transpose else value
            if tuple(variable.shape) != value.shape:
                raise ValueError(
                    f"{key}.{name} has shape {value.shape}; the head expects "
                    f"{tuple(variable.shape)} ({num_classes} labels)"
                )
            variable.assign(value)
    compile_classifier(model, HF_FINETUNE, pretrained=True)
    return model


@register_family(
    FAMILY,
    count_params=count_params,
    architecture_keys=ARCHITECTURE_KEYS,
    hf_files=HF_FILES,
    tiny_config=TINY_CONFIG,
    tiny_tokenizer={"proto": tiny_proto()},
    hf_model_types=convert.HF_MODEL_TYPES,
    hf_classifier=hf_classifier,
)
def build(
    spec: ModelSpec,
    *,
    num_classes: int,
    labels: list[str] | None,
    weights: Any,
    sequence_length: int | None,
    proto: Any = None,
    task: Any = None,
    **overrides: Any,
) -> DebertaV3Classifier:
    """Build a compiled DeBERTa-v3 classifier for ``spec`` (see [`load`][tfx_textzoo.load]).

    Args:
        spec: The catalog entry.
        num_classes: Number of classes.
        labels: Optional class names.
        weights: ``"auto"`` (the keras-hub preset, then the Hugging Face checkpoint,
            converted), None (random init) or a weights location (a keras-hub preset or a
            Hugging Face directory: config.json + model.safetensors + spm.model).
        sequence_length: Tokens per text (default: the entry's ``tokenizer.sequence_length``).
        proto: With ``weights=None``: a SentencePiece model (path or bytes) to use instead
            of the entry's (which is fetched from its first source).
        task: The [`Task`][tfx_textzoo.tasks.Task] (None: single-label); the head's
            activation is its ``activation``.
        **overrides: With ``weights=None``: architecture numbers (``num_layers``,
            ``hidden_dim``, ``num_heads``, ``intermediate_dim``, ``vocabulary_size``,
            ``bucket_size``, ``max_sequence_length``); always allowed: ``dropout`` (of
            the head) and ``pooling`` (``"cls"`` or ``"mean"``).

    Returns:
        A compiled `DebertaV3Classifier` whose preprocessor takes raw strings.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.deberta_v3 import TINY_CONFIG, tiny_proto
        >>> model = textzoo.load("deberta-v3-base", num_classes=3, weights=None,
        ...                      proto=tiny_proto(), **TINY_CONFIG)
        >>> model.predict(["the team won", "stocks rallied"], verbose=0).shape
        (2, 3)
    """
    allow_mismatch = _checks.check_bool(ALLOW_MISMATCH, overrides.pop(ALLOW_MISMATCH, False))
    head_given = {"dropout"} if "dropout" in overrides else set()
    head = check_architecture(
        {"dropout": overrides.pop("dropout", spec.architecture.get("dropout", 0.1))},
        head_given,
        spec.name,
        _ARCHITECTURE_RULES,
    )
    pooling = overrides.pop("pooling", spec.architecture.get("pooling", "cls"))
    unknown = set(overrides) - _ARCH_OVERRIDES
    if unknown:
        raise TypeError(
            f"Unknown argument(s) for a {spec.family} model: {sorted(unknown)}. "
            f"Architecture overrides allowed with weights=None: {sorted(_ARCH_OVERRIDES)}."
        )
    if weights is None:
        tokenizer = DebertaV3Tokenizer(proto=_proto(spec, proto))
        arch = {k: v for k, v in spec.architecture.items() if k in _ARCH_OVERRIDES}
        arch.update(overrides)
        arch = check_architecture(arch, set(overrides), spec.name, _ARCHITECTURE_RULES)
        _check_heads(arch, set(overrides), spec.name)
        if proto is not None and "vocabulary_size" not in overrides:
            # Another tokenizer: the embedding table is sized to it.
            arch["vocabulary_size"] = tokenizer.vocabulary_size()
        if tokenizer.vocabulary_size() > arch["vocabulary_size"]:
            raise _checks.InvalidArgumentError(
                "vocabulary_size",
                arch["vocabulary_size"],
                f"at least the tokenizer's {tokenizer.vocabulary_size()} ids",
            )
        backbone = keras_hub.models.DebertaV3Backbone(dropout=head["dropout"], **arch)
    else:
        if overrides or proto is not None:
            raise ValueError(
                f"Architecture/tokenizer overrides ({sorted(overrides) or ['proto']}) only "
                "apply to a randomly initialised model: pass weights=None, or drop them to use "
                "the pretrained architecture."
            )
        load_fn = functools.partial(_load_backbone, spec=spec, check_arch=weights == "auto")
        backbone, tokenizer = resolve_and_load(spec, weights, load_fn)
        differences = architecture_differences(spec, backbone)
        if differences and not allow_mismatch:
            raise ArchitectureMismatchError(_mismatch_message(spec, weights, differences))
    sequence_length = resolve_sequence_length(spec, sequence_length, backbone.max_sequence_length)
    model = DebertaV3Classifier(
        backbone,
        num_classes,
        preprocessor=DebertaV3Preprocessor(tokenizer, sequence_length=sequence_length),
        labels=labels,
        model_name=spec.name,
        activation=Task.from_config(task).activation,
        task=task,
        dropout=head["dropout"],
        pooling=pooling,
        architecture_overrides={
            k: real for k, (_, real) in architecture_differences(spec, backbone).items()
        },
    )
    compile_classifier(model, spec.finetune, pretrained=weights is not None)
    return model


def _proto(spec: ModelSpec, proto: Any) -> Any:
    """The SentencePiece model of a randomly initialised model: override, or fetched."""
    if proto is not None:
        return proto

    def proto_only(local: LocalWeights) -> str:
        for name in ("spm.model", "assets/tokenizer/vocabulary.spm"):
            path = Path(local.location) / name
            if path.is_file():
                return str(path)
        raise FileNotFoundError(f"no spm.model in {local.location}")

    try:
        return resolve_and_load(spec, "auto", proto_only)
    except WeightsNotFoundError as err:
        raise WeightsNotFoundError(
            f"{spec.name} with weights=None still needs its SentencePiece model, which is not "
            f"shipped with tfx_textzoo.\n{err}\nAlternatively pass proto='path/to/spm.model'."
        ) from None


def _hf_sequence_length(directory: Path, backbone: Any) -> int:
    """The preprocessor length for a transformers directory: its model_max_length, capped."""
    import json

    limit = min(_HF_SEQUENCE_LENGTH, backbone.max_sequence_length)
    path = directory / "tokenizer_config.json"
    if path.is_file():
        value = json.loads(path.read_text(encoding="utf-8")).get("model_max_length")
        if isinstance(value, int) and 2 < value < limit:
            return value
    return limit


def _load_backbone(local: LocalWeights, *, spec: ModelSpec, check_arch: bool):
    if local.format == "keras_hub":
        backbone = keras_hub.models.DebertaV3Backbone.from_preset(local.location)
        # keras-hub rebuilds the class its preset names: take the model into this one.
        preset_tokenizer = keras_hub.models.DebertaV3Tokenizer.from_preset(local.location)
        tokenizer = DebertaV3Tokenizer(proto=preset_tokenizer.proto)
    elif local.format == "hf":
        backbone, _, _ = convert.load_backbone(local.location)
        tokenizer = convert.load_tokenizer(
            local.location, backbone.vocabulary_size, DebertaV3Tokenizer
        )
    else:
        raise ValueError(f"the deberta-v3 family reads no {local.format!r} weights")
    if check_arch:  # a catalog source of another architecture: the next one is tried
        differences = architecture_differences(spec, backbone)
        if differences:
            raise ArchitectureMismatchError(_mismatch_message(spec, local.location, differences))
    if tokenizer.vocabulary_size() > backbone.vocabulary_size:
        raise ValueError(
            f"the tokenizer has {tokenizer.vocabulary_size()} ids but the embedding table has "
            f"{backbone.vocabulary_size} rows"
        )
    return backbone, tokenizer
