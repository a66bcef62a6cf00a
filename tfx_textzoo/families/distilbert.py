"""The ``distilbert`` family: keras-hub ``DistilBertBackbone`` + WordPiece + the DistilBERT head.

DistilBERT (Sanh et al. 2019) is a 6-layer BERT distilled from BERT-base: no token-type
embeddings, no pooler. The classifier has the head of transformers'
``DistilBertForSequenceClassification`` (and keras-hub's ``DistilBertTextClassifier``):
first token -> dense ``dim -> dim`` -> ReLU -> dropout -> dense ``num_classes``, so a
fine-tuned Hugging Face DistilBERT classifier loads into it with its head.

Hugging Face directories (``config.json`` + ``model.safetensors`` + ``vocab.txt``) are read
by this module's own converter (`load_hf_backbone`), not keras-hub's: keras-hub asks
for keys with the ``distilbert.`` prefix, which a ``DistilBertModel`` checkpoint (saved
without it) lacks. Both layouts are read here.

keras-hub's DistilBERT uses the exact (erf) GELU, as transformers' ``"activation":
"gelu"`` does (unlike keras-hub's BERT, which uses the tanh approximation), so features
agree with transformers' to float32 round-off (see ``tests/test_family_distilbert.py``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from tfx_textzoo import _checks
from tfx_textzoo.errors import ArchitectureMismatchError, UnknownModelError
from tfx_textzoo.families.base import ZooClassifier, classification_head, pool
from tfx_textzoo.families.common import (
    check_architecture,
    check_string_tensor,
    compile_classifier,
    encode_to_first_position,
    hf_tensors,
    refuse_pretrained_overrides,
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
from tfx_textzoo.registry import ModelSpec, get_spec, register_family
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
#: The Hugging Face files a DistilBERT checkpoint needs besides config.json and the weights.
HF_FILES = ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json")
#: The ``model_type`` of DistilBERT's Hugging Face ``config.json``.
HF_MODEL_TYPES = ("distilbert",)
#: Overrides (with ``weights=None``) that make any DistilBERT entry tiny, for the shared tests.
TINY_CONFIG = {
    "num_layers": 1,
    "hidden_dim": 8,
    "num_heads": 2,
    "intermediate_dim": 16,
    "max_sequence_length": 32,
}
#: A cased WordPiece vocabulary of 20 tokens, for the shared tests.
TINY_VOCABULARY = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] The the team won Stocks on Friday New chip ##s final "
    "peace a of and"
).split()
_PACKAGED_VOCABULARIES = {"bert-uncased": "bert-uncased-vocab.txt"}
_ARCHITECTURE_RULES = {
    "num_layers": ("int", 1),
    "hidden_dim": ("int", 1),
    "num_heads": ("int", 1),
    "intermediate_dim": ("int", 1),
    "max_sequence_length": ("int", 3),
    "dropout": ("rate",),
    "seq_classif_dropout": ("rate",),
}
#: The head's pooling choices: ``"cls"`` the first token (DistilBERT's own head), ``"mean"``
#: the mean over the non-padding tokens (as sentence-transformers DistilBERTs were trained).
POOLINGS = ("cls", "mean")
#: transformers' default ``seq_classif_dropout`` (DistilBertConfig), the head's dropout.
HF_HEAD_DROPOUT = 0.2
#: The catalog entry whose fine-tuning settings compile a loaded Hugging Face classifier.
HF_CLASSIFIER_SETTINGS = "distilbert-base-uncased"
#: Tokens per text of a loaded Hugging Face classifier, capped by its position table (as
#: the bert family: the zoo pads each batch to its longest text, so a high cap is cheap).
HF_CLASSIFIER_SEQUENCE_LENGTH = 512
#: The load() argument that accepts weights whose architecture is not the name's.
ALLOW_MISMATCH = "allow_architecture_mismatch"
# What transformers' BertNormalizer (tokenizers' Rust one, which AutoTokenizer gives) maps
# to a space, and what it removes (RE2 has no Cn, unassigned code points, which it removes).
_HF_WHITESPACE = r"[\t\n\r\p{Zs}\x{2028}\x{2029}]"
_HF_REMOVED = r"[\x{0}\x{FFFD}\p{Cc}\p{Cf}\p{Co}]"
#: The prefix transformers' task models (``DistilBertFor*``) put before the backbone's keys.
HF_PREFIX = "distilbert."


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class DistilBertPreprocessor(keras_hub.models.DistilBertTextClassifierPreprocessor):
    """keras-hub's DistilBERT classifier preprocessor that rejects non-string input clearly.

    A pair ``(a, b)`` is packed as ``[CLS] a [SEP] b [SEP]`` (DistilBERT has no segment
    ids); a long pair is trimmed round-robin.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.distilbert import TINY_VOCABULARY
        >>> model = textzoo.load("distilbert-base-cased", num_classes=2, weights=None,
        ...     num_layers=1, vocabulary=TINY_VOCABULARY, sequence_length=8)
        >>> model.preprocessor(["The team won"])["token_ids"].numpy().tolist()
        [[2, 5, 7, 8, 3, 0, 0, 0]]
    """

    def call(self, x, y=None, sample_weight=None):  # noqa: D102
        segments = []
        for segment in x if isinstance(x, tuple) else (x,):
            check_string_tensor(segment)
            segments.append(clean_text(segment))
        return super().call(
            tuple(segments) if isinstance(x, tuple) else segments[0], y, sample_weight
        )


def clean_text(texts: Any) -> Any:
    r"""Hugging Face's ``BertNormalizer(clean_text=True)``, which keras-hub's WordPiece lacks.

    Whitespace (``\t \n \r``, every space separator such as U+00A0 and U+3000, and
    U+2028/U+2029) becomes a space, and NUL, U+FFFD and control / format / private-use
    characters (``Cc Cf Co``, e.g. U+200B) are removed, as transformers' tokenizers do.
    Without it keras-hub keeps ``"2024\u00a0ok"`` as one word (one ``[UNK]``).

    Examples:
        >>> from tfx_textzoo.families.distilbert import clean_text
        >>> [t.decode() for t in clean_text(["2024\u00a0ok", "a\u200bb\tc"]).numpy()]
        ['2024 ok', 'ab c']
    """
    texts = tf.convert_to_tensor(texts)
    check_string_tensor(texts)
    texts = tf.strings.regex_replace(texts, _HF_WHITESPACE, " ")
    return tf.strings.regex_replace(texts, _HF_REMOVED, "")


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class DistilBertClassifier(ZooClassifier, keras_hub.models.DistilBertTextClassifier):
    """keras-hub's ``DistilBertTextClassifier`` with a pooling choice, class names and zoo name.

    The head is transformers' ``DistilBertForSequenceClassification`` head: pooled
    features -> ``pooled_dense`` (``hidden_dim`` units, ReLU; transformers'
    ``pre_classifier``) -> ``output_dropout`` -> ``logits`` (transformers' ``classifier``).

    Args:
        backbone: A ``keras_hub.models.DistilBertBackbone``.
        num_classes: Number of classes.
        preprocessor: The DistilBERT preprocessor that turns raw strings into inputs.
        activation: Activation of the output layer (zoo models use ``"softmax"``).
        hidden_dim: Width of the hidden dense layer (default: the backbone's).
        dropout: Dropout rate after the hidden dense layer (transformers'
            ``seq_classif_dropout``).
        pooling: ``"cls"``: the first token's vector (DistilBERT's own head); ``"mean"``:
            the mean of the token vectors over the non-padding positions.
        labels: Optional class names, ``labels[i]`` is the name of class ``i``.
        model_name: The zoo name the model was built from (None: no catalog entry).
        architecture_overrides: The architecture numbers in which this model differs
            from ``model_name``'s catalog entry, or None (as for the bert family): set when
            built with other numbers (``weights=None``) or loaded from weights of another
            architecture with ``allow_architecture_mismatch=True``; kept by save/load.
        **kwargs: Passed to ``keras_hub.models.TextClassifier``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.distilbert import TINY_VOCABULARY
        >>> model = textzoo.load("distilbert-base-cased", labels=["neg", "pos"], weights=None,
        ...     num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16,
        ...     vocabulary=TINY_VOCABULARY)
        >>> [layer.name for layer in model.layers[-3:]]
        ['pooled_dense', 'output_dropout', 'logits']
        >>> model.predict(["The team won"], verbose=0).shape
        (1, 2)
    """

    preprocessor_cls = DistilBertPreprocessor

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        task=None,
        hidden_dim=None,
        dropout=HF_HEAD_DROPOUT,
        pooling="cls",
        labels=None,
        model_name=None,
        architecture_overrides=None,
        **kwargs,
    ):
        if pooling not in POOLINGS:
            raise _checks.InvalidArgumentError("pooling", pooling, "'cls' or 'mean'")
        hidden_dim = hidden_dim or backbone.hidden_dim
        # The graph of DistilBertTextClassifier (same layer names), with the pooling choice.
        self.backbone = backbone
        self.preprocessor = preprocessor
        inputs = backbone.input
        outputs = {"sequence_output": backbone(inputs)}
        features = pool(outputs, inputs["padding_mask"], pooling, backbone.dtype_policy)
        logits, head = classification_head(
            features,
            num_classes,
            dropout=dropout,
            activation=activation,
            task=task,
            hidden_units=hidden_dim,
            hidden_activation="relu",
            input_dropout=False,
            dtype=backbone.dtype_policy,
            names=("pooled_dense", "output_dropout", "logits"),
        )
        self.pooled_dense, self.output_dropout, self.output_dense = head
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
            >>> from tfx_textzoo.families.distilbert import TINY_VOCABULARY
            >>> model = textzoo.load("distilbert-base-cased", num_classes=2, weights=None,
            ...     num_layers=1, vocabulary=TINY_VOCABULARY)
            >>> model.architecture["num_layers"], model.architecture_overrides
            (1, {'num_layers': 1, 'vocabulary_size': 20})
        """
        return backbone_architecture(self.backbone)

    def pooled_features(self, inputs, training=None):
        """The ``[CLS]`` features, the last layer run at position 0 only (mean: None)."""
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


def backbone_architecture(backbone: Any) -> dict[str, int]:
    """The architecture numbers (`ARCHITECTURE_KEYS`) of a keras-hub DistilBERT backbone.

    Examples:
        >>> import keras_hub
        >>> from tfx_textzoo.families.distilbert import backbone_architecture
        >>> arch = backbone_architecture(keras_hub.models.DistilBertBackbone(
        ...     vocabulary_size=20, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16))
        >>> arch["num_layers"], arch["hidden_dim"], arch["vocabulary_size"]
        (1, 8, 20)
    """
    return {k: int(getattr(backbone, k)) for k in ARCHITECTURE_KEYS if hasattr(backbone, k)}


def architecture_differences(spec: ModelSpec, backbone: Any) -> dict[str, tuple[Any, int]]:
    """``{key: (catalog value, real value)}`` where ``backbone`` is not ``spec``'s architecture."""
    real = backbone_architecture(backbone)
    return {
        k: (spec.architecture[k], real[k])
        for k in ARCHITECTURE_KEYS
        if k in spec.architecture and k in real and spec.architecture[k] != real[k]
    }


def count_params(arch: Mapping[str, Any], num_classes: int) -> int:
    """Parameter count of a DistilBERT backbone plus its ``num_classes`` classification head.

    The backbone: token and position embeddings, the embedding LayerNorm, and per layer
    attention (4 dense layers), two LayerNorms and the feed-forward pair; no token types,
    no pooler. The head: ``pre_classifier`` (``dim x dim``) and the output layer.

    Examples:
        >>> from tfx_textzoo.families.distilbert import count_params
        >>> arch = {"num_layers": 6, "hidden_dim": 768, "intermediate_dim": 3072,
        ...         "vocabulary_size": 30522}
        >>> count_params(arch, 2)
        66955010
        >>> count_params(arch, 2) - (768 * 768 + 768) - (768 * 2 + 2)  # keras-hub's preset
        66362880
    """
    h, i, layers = arch["hidden_dim"], arch["intermediate_dim"], arch["num_layers"]
    positions = arch.get("max_sequence_length", 512)
    embeddings = (arch["vocabulary_size"] + positions) * h + 2 * h
    per_layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    head = (h * h + h) + (h * num_classes + num_classes)
    return embeddings + layers * per_layer + head


def hf_classifier(directory: Path, config: dict, *, labels: list[str]) -> DistilBertClassifier:
    """The compiled classifier of a transformers ``DistilBertForSequenceClassification``.

    Backbone and tokenizer come from ``directory`` (see `load_hf_backbone`); the head
    is the checkpoint's ``pre_classifier`` and ``classifier``, its dropout the config's
    ``seq_classif_dropout``. The model is no catalog entry (``model_name`` None); it is
    compiled with the fine-tuning settings of ``distilbert-base-uncased``.

    Args:
        directory: The checkpoint: config.json, model.safetensors (backbone keys under
            ``distilbert.``, head keys ``pre_classifier.*`` and ``classifier.*``), vocab.txt
            and tokenizer_config.json.
        config: The parsed config.json.
        labels: The class names in id order (from ``id2label``).

    Returns:
        The compiled [`DistilBertClassifier`][tfx_textzoo.families.distilbert.DistilBertClassifier].

    Raises:
        ValueError: Not a DistilBERT checkpoint, or a head of another width than ``labels``.
        KeyError: No ``pre_classifier`` / ``classifier`` tensors (not a classifier).

    Examples:
        >>> import json
        >>> from pathlib import Path
        >>> import tfx_textzoo
        >>> from tfx_textzoo.families.distilbert import hf_classifier
        >>> fixtures = Path(tfx_textzoo.__file__).parents[1] / "tests" / "fixtures" / "hf"
        >>> fixture = fixtures / "distilbert" / "classifier"  # in the source tree
        >>> config = json.loads((fixture / "config.json").read_text())
        >>> model = hf_classifier(fixture, config, labels=["NEG", "NEU", "POS"])
        >>> model.labels, model.model_name, model.predict(["a"], verbose=0).shape
        (['NEG', 'NEU', 'POS'], None, (1, 3))
    """
    from tfx_textzoo.hf_classifiers import task_of

    directory = Path(directory)
    task = task_of(config)  # multi-label checkpoints: a sigmoid per label
    backbone, tokenizer = load_hf_backbone(directory, config)
    dropout = float(config.get("seq_classif_dropout", HF_HEAD_DROPOUT))
    sequence_length = min(HF_CLASSIFIER_SEQUENCE_LENGTH, backbone.max_sequence_length)
    model = DistilBertClassifier(
        backbone,
        len(labels),
        preprocessor=DistilBertPreprocessor(tokenizer, sequence_length=sequence_length),
        activation=task.activation,
        task=task,
        hidden_dim=backbone.hidden_dim,
        dropout=dropout,
        labels=labels,
        model_name=None,
    )
    names = [
        f"{key}.{part}" for key in ("pre_classifier", "classifier") for part in ("weight", "bias")
    ]
    head = hf_tensors(directory, names)
    set_dense(model.pooled_dense, head["pre_classifier.weight"], head["pre_classifier.bias"])
    set_dense(model.output_dense, head["classifier.weight"], head["classifier.bias"])
    compile_classifier(model, _hf_finetune_settings(), pretrained=True)
    return model


@register_family(
    "distilbert",
    count_params=count_params,
    architecture_keys=ARCHITECTURE_KEYS,
    hf_files=HF_FILES,
    tiny_config=TINY_CONFIG,
    tiny_tokenizer={"vocabulary": TINY_VOCABULARY},
    hf_model_types=HF_MODEL_TYPES,
    hf_classifier=hf_classifier,
)
def build(
    spec: ModelSpec,
    *,
    num_classes: int,
    labels: list[str] | None,
    weights: Any,
    sequence_length: int | None,
    vocabulary: Any = None,
    lowercase: bool | None = None,
    task: Any = None,
    **overrides: Any,
) -> DistilBertClassifier:
    """Build a compiled DistilBERT classifier for ``spec`` (see [`load`][tfx_textzoo.load]).

    Args:
        spec: The catalog entry.
        num_classes: Number of classes.
        labels: Optional class names.
        weights: ``"auto"``, None (random init) or a weights location (a keras-hub preset,
            a Hugging Face directory or ``hf://`` repository).
        sequence_length: Tokens per text (default: the entry's ``tokenizer.sequence_length``).
        vocabulary: With ``weights=None``: a list of tokens or a ``vocab.txt`` path to use
            instead of the entry's vocabulary (the embedding table is sized to it).
        lowercase: Override the entry's lower-casing.
        task: The [`Task`][tfx_textzoo.tasks.Task] (None: single-label); the head's
            activation is its ``activation``.
        **overrides: With ``weights=None``: architecture numbers (``num_layers``,
            ``hidden_dim``, ``num_heads``, ``intermediate_dim``, ``max_sequence_length``);
            always allowed: ``dropout`` (of the classification head, default the entry's
            ``seq_classif_dropout``), ``pooling`` (``"cls"`` or ``"mean"``) and
            ``allow_architecture_mismatch``.

    Returns:
        A compiled [`DistilBertClassifier`][tfx_textzoo.families.distilbert.DistilBertClassifier]
        whose preprocessor takes raw strings.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("distilbert-base-uncased", num_classes=3, weights=None,
        ...                      num_layers=1)
        >>> model.predict(["hello world"], verbose=0).shape
        (1, 3)
    """
    allow_mismatch = _checks.check_bool(ALLOW_MISMATCH, overrides.pop(ALLOW_MISMATCH, False))
    if "dropout" in overrides:  # the zoo's name for the head's dropout, as in every family
        given = {"dropout": overrides.pop("dropout")}
        head_dropout = check_architecture(given, given, spec.name, _ARCHITECTURE_RULES)["dropout"]
    else:
        catalog = {
            "seq_classif_dropout": spec.architecture.get("seq_classif_dropout", HF_HEAD_DROPOUT)
        }
        head_dropout = check_architecture(catalog, (), spec.name, _ARCHITECTURE_RULES)[
            "seq_classif_dropout"
        ]
    pooling = overrides.pop("pooling", spec.architecture.get("pooling", "cls"))
    unknown = set(overrides) - _ARCH_OVERRIDES
    if unknown:
        raise TypeError(
            f"Unknown argument(s) for a {spec.family} model: {sorted(unknown)}. "
            f"Architecture overrides allowed with weights=None: {sorted(_ARCH_OVERRIDES)}."
        )
    if lowercase is None:
        lowercase = bool(spec.tokenizer.get("lowercase", False))
    if weights is None:
        tokenizer = keras_hub.models.DistilBertTokenizer(
            vocabulary=_vocabulary(spec, vocabulary), lowercase=lowercase, strip_accents=lowercase
        )
        arch = {
            k: v
            for k, v in spec.architecture.items()
            if k in _ARCH_OVERRIDES | {"vocabulary_size", "dropout"}
        }
        arch.update(overrides)
        arch = check_architecture(arch, set(overrides), spec.name, _ARCHITECTURE_RULES)
        _check_heads(arch, set(overrides), spec.name)
        arch["vocabulary_size"] = tokenizer.vocabulary_size()
        backbone = keras_hub.models.DistilBertBackbone(**arch)
    else:
        refuse_pretrained_overrides(overrides, vocabulary)
        load_fn = functools.partial(
            _load_backbone, spec=spec, lowercase=lowercase, check_arch=weights == "auto"
        )
        backbone, tokenizer = resolve_and_load(spec, weights, load_fn)
        differences = architecture_differences(spec, backbone)
        if differences and not allow_mismatch:
            raise ArchitectureMismatchError(_mismatch_message(spec, weights, differences))
    sequence_length = resolve_sequence_length(spec, sequence_length, backbone.max_sequence_length)
    model = DistilBertClassifier(
        backbone,
        num_classes,
        preprocessor=DistilBertPreprocessor(tokenizer, sequence_length=sequence_length),
        activation=Task.from_config(task).activation,
        task=task,
        dropout=head_dropout,
        pooling=pooling,
        labels=labels,
        model_name=spec.name,
        architecture_overrides={
            k: real for k, (_, real) in architecture_differences(spec, backbone).items()
        },
    )
    compile_classifier(model, spec.finetune, pretrained=weights is not None)
    return model


def load_hf_backbone(
    directory: Path, config: Mapping[str, Any] | None = None, *, lowercase: bool | None = None
):
    """A keras-hub DistilBERT backbone and tokenizer from a Hugging Face directory.

    Reads ``config.json`` (``model_type`` ``"distilbert"``), the safetensors weights of a
    ``DistilBertModel`` (keys ``embeddings.*``, ``transformer.*``) or of any
    ``DistilBertFor*`` task model (the same under ``distilbert.``; the task's own keys are
    ignored), and ``vocab.txt`` with ``tokenizer_config.json``.

    Args:
        directory: The Hugging Face checkpoint directory.
        config: Its parsed ``config.json`` (read from ``directory`` when None).
        lowercase: Lower-casing where the tokenizer files do not say (see
            `hf_tokenizer`).

    Returns:
        ``(backbone, tokenizer)``: a ``keras_hub.models.DistilBertBackbone`` and a
        ``keras_hub.models.DistilBertTokenizer``.

    Raises:
        ValueError: Not a DistilBERT config, an activation keras-hub's backbone does not
            have, missing or misshapen weights, or a vocabulary of another size.
        FileNotFoundError: No safetensors weights or no vocab.txt.

    Examples:
        >>> from pathlib import Path
        >>> import tfx_textzoo
        >>> from tfx_textzoo.families.distilbert import load_hf_backbone
        >>> fixtures = Path(tfx_textzoo.__file__).parents[1] / "tests" / "fixtures" / "hf"
        >>> backbone, tokenizer = load_hf_backbone(fixtures / "distilbert" / "base")
        >>> backbone.num_layers, backbone.hidden_dim, tokenizer.vocabulary_size()
        (2, 16, 181)
    """
    directory = Path(directory)
    if config is None:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") not in HF_MODEL_TYPES:
        raise ValueError(
            f"{directory} holds a {config.get('model_type')!r} model, not DistilBERT "
            f"(config.json model_type {HF_MODEL_TYPES[0]!r})"
        )
    activation = config.get("activation", "gelu")
    if activation != "gelu":  # keras-hub's DistilBertBackbone has the exact GELU built in
        raise ValueError(
            f"{directory}: activation {activation!r} is not supported (keras-hub's "
            "DistilBertBackbone uses 'gelu')"
        )
    backbone = keras_hub.models.DistilBertBackbone(
        vocabulary_size=int(config["vocab_size"]),
        num_layers=int(config["n_layers"]),
        num_heads=int(config["n_heads"]),
        hidden_dim=int(config["dim"]),
        intermediate_dim=int(config["hidden_dim"]),
        dropout=float(config.get("dropout", 0.1)),
        max_sequence_length=int(config.get("max_position_embeddings", 512)),
    )
    with _Safetensors(directory) as tensors:
        for variable, key, transpose in _weight_map(backbone):
            value = tensors.get(key)
            value = value.T if transpose else value
            if value.size != int(np.prod(variable.shape)):
                raise ValueError(
                    f"{directory}: {key} has shape {value.shape}, which does not fit "
                    f"{variable.path} {tuple(variable.shape)} (config.json disagrees with "
                    "the weights)"
                )
            variable.assign(np.reshape(value, variable.shape))
    tokenizer = hf_tokenizer(directory, lowercase)
    if tokenizer.vocabulary_size() != backbone.vocabulary_size:
        raise ValueError(
            f"{directory}: vocab.txt has {tokenizer.vocabulary_size()} tokens but the "
            f"embedding table has {backbone.vocabulary_size} rows"
        )
    return backbone, tokenizer


def hf_tokenizer(directory: Path, lowercase: bool | None = None):
    """A keras-hub DistilBERT tokenizer with the settings of a Hugging Face tokenizer.

    ``do_lower_case`` and ``strip_accents`` come from ``tokenizer_config.json`` (else from
    the ``BertNormalizer`` of ``tokenizer.json``, else ``lowercase``, else transformers'
    default, lower-casing); ``strip_accents`` unset follows lower-casing, as in
    transformers (``"Café"`` -> ``"cafe"`` in uncased models).

    Examples:
        >>> from pathlib import Path
        >>> import tfx_textzoo
        >>> from tfx_textzoo.families.distilbert import hf_tokenizer
        >>> fixtures = Path(tfx_textzoo.__file__).parents[1] / "tests" / "fixtures" / "hf"
        >>> tokenizer = hf_tokenizer(fixtures / "distilbert" / "base")  # a cased vocab.txt
        >>> tokenizer.lowercase, tokenizer.strip_accents
        (False, False)
    """
    directory = Path(directory)
    settings: dict[str, Any] = {}
    normalizer: dict[str, Any] = {}
    if (directory / "tokenizer_config.json").exists():
        settings = json.loads((directory / "tokenizer_config.json").read_text(encoding="utf-8"))
    if (directory / "tokenizer.json").exists():
        fast = json.loads((directory / "tokenizer.json").read_text(encoding="utf-8"))
        normalizer = fast.get("normalizer") or {}
    do_lower_case = settings.get("do_lower_case", normalizer.get("lowercase", lowercase))
    do_lower_case = True if do_lower_case is None else bool(do_lower_case)
    strip_accents = settings.get("strip_accents", normalizer.get("strip_accents"))
    if not isinstance(strip_accents, bool):
        strip_accents = do_lower_case
    if settings.get("tokenize_chinese_chars", True) is not True:
        raise ValueError(
            f"{directory}: tokenize_chinese_chars=False is not supported (keras-hub's "
            "WordPiece tokenizer always splits CJK characters)"
        )
    vocab = directory / "vocab.txt"
    if not vocab.exists():
        raise FileNotFoundError(f"{directory} has no vocab.txt for the WordPiece tokenizer")
    return keras_hub.models.DistilBertTokenizer(
        vocabulary=str(vocab), lowercase=do_lower_case, strip_accents=strip_accents
    )


def _weight_map(backbone: Any) -> list[tuple[Any, str, bool]]:
    """``(keras variable, transformers key, transpose)`` for every backbone variable.

    transformers' ``nn.Linear`` stores ``(out, in)``: transposed, then reshaped to the
    Keras attention kernels' ``(in, heads, head_dim)`` / ``(heads, head_dim, out)``.
    """
    embedding = backbone.get_layer("token_and_position_embedding")
    pairs = [
        (embedding.token_embedding.embeddings, "embeddings.word_embeddings.weight", False),
        (embedding.position_embedding.position_embeddings,
         "embeddings.position_embeddings.weight", False),
        (backbone.embeddings_layer_norm.gamma, "embeddings.LayerNorm.weight", False),
        (backbone.embeddings_layer_norm.beta, "embeddings.LayerNorm.bias", False),
    ]  # fmt: skip
    for index, layer in enumerate(backbone.transformer_layers):
        prefix = f"transformer.layer.{index}."
        attention = layer._self_attention_layer
        parts = {
            "attention.q_lin": attention.query_dense,
            "attention.k_lin": attention.key_dense,
            "attention.v_lin": attention.value_dense,
            "attention.out_lin": attention.output_dense,
            "ffn.lin1": layer._feedforward_intermediate_dense,
            "ffn.lin2": layer._feedforward_output_dense,
        }
        for name, dense in parts.items():
            pairs += [
                (dense.kernel, f"{prefix}{name}.weight", True),
                (dense.bias, f"{prefix}{name}.bias", False),
            ]
        for name, norm in (
            ("sa_layer_norm", layer._self_attention_layer_norm),
            ("output_layer_norm", layer._feedforward_layer_norm),
        ):
            pairs += [
                (norm.gamma, f"{prefix}{name}.weight", False),
                (norm.beta, f"{prefix}{name}.bias", False),
            ]
    return pairs


class _Safetensors:
    """The tensors of a Hugging Face directory (one file or an index of shards), by key.

    A backbone key is found as it is or under `HF_PREFIX`; ``get`` raises a
    ``ValueError`` naming the key when neither is there.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        index = self.directory / "model.safetensors.index.json"
        if index.exists():
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            self.names = sorted(set(weight_map.values()))
        else:
            self.names = ["model.safetensors"]
        missing = [n for n in self.names if not (self.directory / n).exists()]
        if missing:
            raise FileNotFoundError(f"{self.directory} has no {', '.join(missing)}")
        self._files: list[Any] = []
        self._where: dict[str, Any] = {}

    def __enter__(self) -> _Safetensors:
        from safetensors import safe_open

        for name in self.names:
            handle = safe_open(str(self.directory / name), framework="np")
            self._files.append(handle.__enter__())
            self._where.update({key: self._files[-1] for key in self._files[-1].keys()})
        return self

    def __exit__(self, *exc: Any) -> None:
        for handle in self._files:
            handle.__exit__(None, None, None)
        self._files.clear()

    def get(self, key: str) -> np.ndarray:
        for candidate in (key, HF_PREFIX + key):
            if candidate in self._where:
                return np.asarray(self._where[candidate].get_tensor(candidate))
        raise ValueError(f"{self.directory}: the weights have no {key!r} (nor {HF_PREFIX}{key})")


def _hf_finetune_settings() -> Mapping[str, Any]:
    try:
        return get_spec(HF_CLASSIFIER_SETTINGS).finetune
    except UnknownModelError:  # the entry is gone from the catalog: compile's defaults
        return {}


def _vocabulary(spec: ModelSpec, vocabulary: Any) -> Any:
    """The vocabulary of a randomly initialised model: override, packaged, or fetched.

    distilbert-base-uncased's vocab.txt is bert-base-uncased's (transformers'
    tokenization_distilbert mapped it to ``bert-base-uncased-vocab.txt``): the package
    ships it. The cased vocabularies come from the entry's first source that has one.
    """
    if vocabulary is not None:
        return [str(t) for t in vocabulary] if not isinstance(vocabulary, str) else vocabulary
    vocab_id = spec.tokenizer.get("vocabulary", "")
    if vocab_id in _PACKAGED_VOCABULARIES:
        return str(resources.files("tfx_textzoo") / "assets" / _PACKAGED_VOCABULARIES[vocab_id])

    def vocab_only(local: LocalWeights) -> str:
        directory = Path(local.location)
        for path in (
            directory / "vocab.txt",
            directory / "assets" / "tokenizer" / "vocabulary.txt",
        ):
            if path.exists():
                return str(path)
        raise FileNotFoundError(f"no vocab.txt in {local.location}")

    try:
        return resolve_and_load(spec, "auto", vocab_only)
    except WeightsNotFoundError as err:
        raise WeightsNotFoundError(
            f"{spec.name} with weights=None still needs its tokenizer vocabulary "
            f"({vocab_id!r}), which is not shipped with tfx_textzoo.\n{err}\n"
            "Alternatively pass vocabulary=[...] or vocabulary='path/to/vocab.txt'."
        ) from None


def _load_backbone(local: LocalWeights, *, spec: ModelSpec, lowercase: bool, check_arch: bool):
    if local.format == "keras_hub":
        backbone = keras_hub.models.DistilBertBackbone.from_preset(local.location)
        tokenizer = keras_hub.models.DistilBertTokenizer.from_preset(local.location)
    elif local.format == "hf":
        backbone, tokenizer = load_hf_backbone(Path(local.location), lowercase=lowercase)
    else:
        raise ValueError(f"the distilbert family reads no {local.format!r} weights")
    if check_arch:  # a catalog source of another architecture: the next one is tried
        differences = architecture_differences(spec, backbone)
        if differences:
            raise ArchitectureMismatchError(_mismatch_message(spec, local.location, differences))
    if tokenizer.vocabulary_size() != backbone.vocabulary_size:
        raise ValueError(
            f"vocabulary has {tokenizer.vocabulary_size()} tokens but the embedding table has "
            f"{backbone.vocabulary_size} rows"
        )
    return backbone, tokenizer
