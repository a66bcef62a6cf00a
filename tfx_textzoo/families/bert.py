"""The ``bert`` family: keras-hub ``BertBackbone`` + WordPiece preprocessor + a new head.

Covers BERT-base/large, the 24 compact BERTs of Turc et al. (2019) and the
sentence-transformers MiniLM encoders (BERT architecture).
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

from tfx_textzoo import _checks
from tfx_textzoo.errors import ArchitectureMismatchError
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
    summed_embeddings,
    zoo_config,
)
from tfx_textzoo.families.common import (
    check_heads as _check_heads,
)
from tfx_textzoo.families.common import (
    mismatch_message as _mismatch_message,
)
from tfx_textzoo.registry import ModelSpec, WeightSource, register_family
from tfx_textzoo.tasks import Task
from tfx_textzoo.weights import LocalWeights, WeightsNotFoundError, resolve_and_load

ARCHITECTURE_KEYS = ("num_layers", "hidden_dim", "num_heads", "intermediate_dim", "vocabulary_size")
_ARCH_OVERRIDES = {
    "num_layers",
    "hidden_dim",
    "num_heads",
    "intermediate_dim",
    "max_sequence_length",
    "num_segments",
}
#: The Hugging Face files a BERT checkpoint needs besides config.json and the weights
#: (sentence-transformers encoders add modules.json and the pooling config).
HF_FILES = (
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "1_Pooling/config.json",
)
#: Overrides (with ``weights=None``) that make any BERT entry tiny, for the shared tests.
TINY_CONFIG = {
    "num_layers": 1,
    "hidden_dim": 8,
    "num_heads": 2,
    "intermediate_dim": 16,
    "max_sequence_length": 32,
}
#: A WordPiece vocabulary of 18 tokens, for the shared tests.
TINY_VOCABULARY = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] the team won stocks on friday new chip ##s final peace a of"
).split()
_PACKAGED_VOCABULARIES = {"bert-uncased": "bert-uncased-vocab.txt"}
# What each number must be, checked before keras-hub sees them (its messages name its own
# arguments: ``output_dim`` for hidden_dim, ``units`` for intermediate_dim).
_ARCHITECTURE_RULES = {
    "num_layers": ("int", 1),
    "hidden_dim": ("int", 1),
    "num_heads": ("int", 1),
    "intermediate_dim": ("int", 1),
    "max_sequence_length": ("int", 3),
    "num_segments": ("int", 1),
    "dropout": ("rate",),
}
#: BERT's pooling names -> the generic head's (`tfx_textzoo.families.base.POOLINGS`):
#: BERT's ``"cls"`` has always meant the pretrained pooler on ``[CLS]``; ``"first"`` is the
#: ``[CLS]`` vector itself, without the pooler (how BGE and mxbai embeddings are read).
_POOLING = {"cls": "pooler", "mean": "mean", "first": "cls"}
#: The load() argument that accepts weights whose architecture is not the name's.
ALLOW_MISMATCH = "allow_architecture_mismatch"


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class BertPreprocessor(keras_hub.models.BertTextClassifierPreprocessor):
    """keras-hub's BERT classifier preprocessor that rejects non-string input clearly."""

    def call(self, x, y=None, sample_weight=None):  # noqa: D102
        for segment in x if isinstance(x, tuple) else (x,):
            check_string_tensor(segment)
        return super().call(x, y, sample_weight)


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class BertClassifier(ZooClassifier, keras_hub.models.BertTextClassifier):
    """keras-hub's ``BertTextClassifier`` with a choice of pooling, class names and zoo name.

    Args:
        backbone: A ``keras_hub.models.BertBackbone``.
        num_classes: Number of classes.
        preprocessor: The (BERT) preprocessor that turns raw strings into inputs.
        activation: Activation of the output layer (zoo models use ``"softmax"``).
        dropout: Dropout rate before the output layer.
        pooling: ``"cls"``: the backbone's ``pooled_output`` (tanh dense on ``[CLS]``, as
            BERT was pretrained); ``"first"``: the ``[CLS]`` vector itself (as BGE and
            mxbai embeddings are read; the pooler stays frozen); ``"mean"``: the mean of
            the token vectors over the non-padding positions (as sentence-transformers
            encoders were trained).
        labels: Optional class names, ``labels[i]`` is the name of class ``i``.
        model_name: The zoo name the model was built from.
        architecture_overrides: The architecture numbers in which this model differs from
            ``model_name``'s catalog entry (``{"num_layers": 6, ...}``), or None. Set
            when it was built with smaller numbers (``weights=None``) or loaded from
            weights of another architecture with ``allow_architecture_mismatch=True``;
            kept by save/load, so the model never passes for the catalog's architecture.
        **kwargs: Passed to ``keras_hub.models.TextClassifier``.
    """

    preprocessor_cls = BertPreprocessor

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        task=None,
        dropout=0.1,
        pooling="cls",
        labels=None,
        model_name=None,
        architecture_overrides=None,
        **kwargs,
    ):
        if pooling not in _POOLING:
            raise _checks.InvalidArgumentError("pooling", pooling, "'cls', 'first' or 'mean'")
        # The graph of BertTextClassifier (same layers and names), with the pooling choice.
        self.backbone = backbone
        self.preprocessor = preprocessor
        inputs = backbone.input
        outputs = backbone(inputs)
        features = pool(outputs, inputs["padding_mask"], _POOLING[pooling], backbone.dtype_policy)
        logits, head = classification_head(
            features,
            num_classes,
            dropout=dropout,
            activation=activation,
            task=task,
            dtype=backbone.dtype_policy,
        )
        self.output_dropout, self.output_dense = head
        self.head_layers = tuple(head)
        keras_hub.models.TextClassifier.__init__(self, inputs=inputs, outputs=logits, **kwargs)
        self.num_classes = num_classes
        self.activation = keras.activations.get(activation)
        self.dropout = dropout
        self.pooling = pooling
        self.architecture_overrides = dict(architecture_overrides or {}) or None
        self.set_contract(labels=labels, model_name=model_name, features=features, task=task)
        self.freeze_unused()

    @property
    def architecture(self) -> dict[str, int]:
        """The architecture numbers of this model as built (read from its backbone).

        Examples:
            >>> import tfx_textzoo as textzoo
            >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
            >>> model.architecture["num_layers"], model.architecture_overrides
            (1, {'num_layers': 1})
        """
        return backbone_architecture(self.backbone)

    def pooled_features(self, inputs, training=None):
        """The ``[CLS]`` features, the last layer run at position 0 only (mean: None)."""
        if self.pooling == "mean":
            return None
        backbone = self.backbone
        x = summed_embeddings(backbone, inputs, training=training)
        first = encode_to_first_position(
            backbone.transformer_layers, x, inputs["padding_mask"], training
        )
        return backbone.pooled_dense(first) if self.pooling == "cls" else first

    def freeze_unused(self) -> None:
        """Keep the backbone's pooler out of training when the head does not read it."""
        if self.pooling != "cls":
            self.backbone.get_layer("pooled_dense").trainable = False

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "pooling": self.pooling,
            "architecture_overrides": self.architecture_overrides,
            **zoo_config(self.labels, self.model_name),
        }


def backbone_architecture(backbone: Any) -> dict[str, int]:
    """The architecture numbers (`ARCHITECTURE_KEYS`) of a keras-hub BERT backbone."""
    return {k: int(getattr(backbone, k)) for k in ARCHITECTURE_KEYS if hasattr(backbone, k)}


def architecture_differences(spec: ModelSpec, backbone: Any) -> dict[str, tuple[Any, int]]:
    """``{key: (catalog value, real value)}`` where ``backbone`` is not ``spec``'s architecture.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.bert import architecture_differences
        >>> spec = textzoo.registry.get_spec("bert-tiny")
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> architecture_differences(spec, model.backbone)
        {'num_layers': (2, 1)}
    """
    real = backbone_architecture(backbone)
    return {
        k: (spec.architecture[k], real[k])
        for k in ARCHITECTURE_KEYS
        if k in spec.architecture and k in real and spec.architecture[k] != real[k]
    }


def count_params(arch: Mapping[str, Any], num_classes: int) -> int:
    """Parameter count of a BERT backbone (with pooler) plus a ``num_classes`` head.

    Examples:
        >>> count_params({"num_layers": 2, "hidden_dim": 128, "intermediate_dim": 512,
        ...               "vocabulary_size": 30522}, 2)
        4386178
    """
    h, i, layers = arch["hidden_dim"], arch["intermediate_dim"], arch["num_layers"]
    positions = arch.get("max_sequence_length", 512)
    segments = arch.get("num_segments", 2)
    embeddings = (arch["vocabulary_size"] + positions + segments) * h + 2 * h
    per_layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    pooler = h * h + h
    return embeddings + layers * per_layer + pooler + h * num_classes + num_classes


@register_family(
    "bert",
    count_params=count_params,
    architecture_keys=ARCHITECTURE_KEYS,
    hf_files=HF_FILES,
    tiny_config=TINY_CONFIG,
    tiny_tokenizer={"vocabulary": TINY_VOCABULARY},
    hf_model_types=("bert",),
    hf_classifier=lambda directory, config, *, labels: load_hf_classifier(
        directory, config, labels=labels
    ),
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
) -> BertClassifier:
    """Build a compiled BERT classifier for ``spec`` (see [`tfx_textzoo.load`][tfx_textzoo.load]).

    Args:
        spec: The catalog entry.
        num_classes: Number of classes.
        labels: Optional class names.
        weights: ``"auto"``, None (random init) or a weights location.
        sequence_length: Tokens per text (default: the entry's ``tokenizer.sequence_length``).
        vocabulary: With ``weights=None``: a list of tokens or a ``vocab.txt`` path to use
            instead of the entry's vocabulary (the embedding table is sized to it).
        lowercase: Override the entry's lower-casing.
        task: The [`Task`][tfx_textzoo.tasks.Task] (None: single-label); the head's
            activation is its ``activation``.
        **overrides: With ``weights=None``: architecture numbers (``num_layers``,
            ``hidden_dim``, ``num_heads``, ``intermediate_dim``, ``max_sequence_length``);
            always allowed: ``dropout`` (of the classification head) and ``pooling``
            (``"cls"``, ``"first"`` or ``"mean"``, default from the entry).

    Returns:
        A compiled `BertClassifier` whose preprocessor takes raw strings.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("bert-tiny", num_classes=3, weights=None, num_layers=1)
        >>> model.predict(["hello world"], verbose=0).shape
        (1, 3)
    """
    allow_mismatch = _checks.check_bool(ALLOW_MISMATCH, overrides.pop(ALLOW_MISMATCH, False))
    head_given = {"dropout"} if "dropout" in overrides else set()
    head = check_architecture(
        {"dropout": overrides.pop("dropout", spec.architecture.get("dropout", 0.1))},
        head_given,
        spec.name,
        _ARCHITECTURE_RULES,
    )
    head_dropout = head["dropout"]
    pooling = overrides.pop("pooling", spec.architecture.get("pooling", "cls"))
    unknown = set(overrides) - _ARCH_OVERRIDES
    if unknown:
        raise TypeError(
            f"Unknown argument(s) for a {spec.family} model: {sorted(unknown)}. "
            f"Architecture overrides allowed with weights=None: {sorted(_ARCH_OVERRIDES)}."
        )
    if lowercase is None:
        lowercase = bool(spec.tokenizer.get("lowercase", True))
    if weights is None:
        tokenizer = keras_hub.models.BertTokenizer(
            vocabulary=_vocabulary(spec, vocabulary), lowercase=lowercase
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
        backbone = keras_hub.models.BertBackbone(**arch)
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
    preprocessor = BertPreprocessor(tokenizer, sequence_length=sequence_length)
    model = BertClassifier(
        backbone,
        num_classes,
        preprocessor=preprocessor,
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


def _vocabulary(spec: ModelSpec, vocabulary: Any) -> Any:
    """The vocabulary of a randomly initialised model: override, packaged, or fetched."""
    if vocabulary is not None:
        return [str(t) for t in vocabulary] if not isinstance(vocabulary, str) else vocabulary
    vocab_id = spec.tokenizer.get("vocabulary", "")
    if vocab_id in _PACKAGED_VOCABULARIES:
        return str(resources.files("tfx_textzoo") / "assets" / _PACKAGED_VOCABULARIES[vocab_id])

    # Not shipped with the package: take vocab.txt from the first source that has it.
    def vocab_only(local: LocalWeights) -> str:
        path = Path(local.location) / "vocab.txt"
        if not path.exists():
            path = Path(local.location) / "assets" / "tokenizer" / "vocabulary.txt"
        if not path.exists():
            raise FileNotFoundError(f"no vocab.txt in {local.location}")
        return str(path)

    try:
        return resolve_and_load(spec, "auto", vocab_only)
    except WeightsNotFoundError as err:
        raise WeightsNotFoundError(
            f"{spec.name} with weights=None still needs its tokenizer vocabulary "
            f"({vocab_id!r}), which is not shipped with tfx_textzoo.\n{err}\n"
            "Alternatively pass vocabulary=[...] or vocabulary='path/to/vocab.txt'."
        ) from None


def _load_backbone(local: LocalWeights, *, spec: ModelSpec, lowercase: bool, check_arch: bool):
    backbone = keras_hub.models.BertBackbone.from_preset(local.location)
    if local.format == "keras_hub":
        tokenizer = keras_hub.models.BertTokenizer.from_preset(local.location)
    else:
        directory = Path(local.location)
        tok_config = directory / "tokenizer_config.json"
        strip_accents = None
        if tok_config.exists():
            settings = json.loads(tok_config.read_text())
            lowercase = bool(settings.get("do_lower_case", lowercase))
            strip_accents = settings.get("strip_accents")
        vocab = directory / "vocab.txt"
        if not vocab.exists():
            raise FileNotFoundError(f"{directory} has no vocab.txt for the WordPiece tokenizer")
        # As Hugging Face's BertTokenizer (strip_accents=None follows do_lower_case) and
        # tensorflow_text's BertTokenizer (lower_case=True also strips accents), which the
        # TF-Hub preprocessing models use: "CAFÉ" -> "cafe" in uncased models.
        if not isinstance(strip_accents, bool):
            strip_accents = lowercase
        tokenizer = keras_hub.models.BertTokenizer(
            vocabulary=str(vocab), lowercase=lowercase, strip_accents=strip_accents
        )
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


#: The longest sequence a fine-tuned classifier reads by default (transformers' pipelines
#: truncate at the model's maximum; the zoo pads each batch to its longest text, so a
#: high cap costs only for long texts).
HF_CLASSIFIER_SEQUENCE_LENGTH = 512


def load_hf_classifier(directory: Any, config: Mapping[str, Any], *, labels: list[str]):
    """A transformers ``BertForSequenceClassification`` checkpoint as a `BertClassifier`.

    The backbone (pooler included) and the WordPiece tokenizer come from the directory
    as for ``weights=DIR``; the head is transformers' (pooler -> dropout -> classifier),
    which is this family's ``pooling="cls"`` head, with the trained ``classifier`` weights.

    Args:
        directory: The checkpoint's directory (config.json, model.safetensors, vocab.txt).
        config: Its parsed config.json.
        labels: The class names, in id order.

    Returns:
        The compiled classifier, ``model_name`` None.

    Examples:
        ``textzoo.load("hf://textattack/bert-base-uncased-SST-2")`` ends here; so does
        ``textzoo.load(dir)`` of such a checkpoint.

        >>> import tfx_textzoo as textzoo
        >>> family = textzoo.registry.get_family("bert")
        >>> family.hf_model_types, family.hf_classifier is not None
        (('bert',), True)
    """
    from tfx_textzoo.hf_classifiers import task_of

    directory = Path(directory)
    task = task_of(config)  # multi-label checkpoints: a sigmoid per label
    local = LocalWeights("hf", str(directory), WeightSource("local", str(directory)))
    backbone, tokenizer = _load_backbone(local, spec=None, lowercase=True, check_arch=False)
    dropout = config.get("classifier_dropout")
    if dropout is None:
        dropout = config.get("hidden_dropout_prob", 0.1)
    preprocessor = BertPreprocessor(
        tokenizer,
        sequence_length=min(HF_CLASSIFIER_SEQUENCE_LENGTH, backbone.max_sequence_length),
    )
    model = BertClassifier(
        backbone,
        len(labels),
        preprocessor=preprocessor,
        labels=labels,
        model_name=None,
        activation=task.activation,
        task=task,
        dropout=float(dropout),
        pooling="cls",
    )
    head = hf_tensors(directory, ["classifier.weight", "classifier.bias"])
    set_dense(model.output_dense, head["classifier.weight"], head["classifier.bias"])
    compile_classifier(model, {}, pretrained=True)
    return model
