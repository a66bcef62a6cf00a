"""The ``albert`` family: keras-hub ``AlbertBackbone`` + SentencePiece preprocessor + a head.

ALBERT (Lan et al. 2020) factorises the embeddings (a narrow ``embedding_dim`` table
projected to ``hidden_dim``) and shares one transformer layer across every depth
(``num_groups`` groups of ``num_inner_repetitions`` layers; the v2 models have one group
of one layer). The head is transformers' ``AlbertForSequenceClassification`` head: the
pretrained pooler (a tanh dense on ``[CLS]``), dropout, then the output layer, which is
also keras-hub's ``AlbertTextClassifier``.

Hugging Face directories are read by this module (config.json, the safetensors weights,
spiece.model, tokenizer_config.json): keras-hub's converter expects the ``albert.``
prefix of ``*ForSequenceClassification`` checkpoints and cannot read a bare
``AlbertModel`` checkpoint. The tokenizer applies the normalisation transformers'
``AlbertTokenizer`` applies before SentencePiece (lower-casing, accent stripping),
which keras-hub's does not.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import keras_hub
import numpy as np

from tfx_textzoo import _checks
from tfx_textzoo.errors import ArchitectureMismatchError
from tfx_textzoo.families.base import POOLINGS, ZooClassifier, classification_head, pool
from tfx_textzoo.families.common import (
    SeedSafeSentencePiece,
    check_architecture,
    check_string_tensor,
    compile_classifier,
    encode_to_first_position,
    refuse_pretrained_overrides,
    resolve_sequence_length,
    set_dense,
    summed_embeddings,
    zoo_config,
)
from tfx_textzoo.families.common import (
    mismatch_message as _mismatch_message,
)
from tfx_textzoo.registry import ModelSpec, register_family
from tfx_textzoo.tasks import Task
from tfx_textzoo.weights import LocalWeights, WeightsNotFoundError, resolve_and_load

ARCHITECTURE_KEYS = (
    "num_layers",
    "hidden_dim",
    "num_heads",
    "intermediate_dim",
    "embedding_dim",
    "num_groups",
    "num_inner_repetitions",
    "vocabulary_size",
)
_ARCH_OVERRIDES = {
    "num_layers",
    "hidden_dim",
    "num_heads",
    "intermediate_dim",
    "embedding_dim",
    "num_groups",
    "num_inner_repetitions",
    "max_sequence_length",
    "num_segments",
    "backbone_dropout",
}
#: The Hugging Face files an ALBERT checkpoint needs besides config.json and the weights.
HF_FILES = ("spiece.model", "tokenizer_config.json", "special_tokens_map.json")
#: Overrides (with ``weights=None``) that make any ALBERT entry tiny, for the shared tests.
TINY_CONFIG = {
    "num_layers": 1,
    "hidden_dim": 16,
    "num_heads": 2,
    "intermediate_dim": 32,
    "embedding_dim": 8,
    "num_groups": 1,
    "num_inner_repetitions": 1,
    "max_sequence_length": 32,
}
#: ALBERT's special pieces, at the ids the real models give them.
SPECIAL_PIECES = ("<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]")
#: A SentencePiece vocabulary of 48 pieces (specials, ``▁``, the letters, a few words),
#: made into a model in code by ``sentencepiece_model``, for the shared tests.
TINY_PIECES = (
    *SPECIAL_PIECES,
    "▁",
    *"abcdefghijklmnopqrstuvwxyz",
    *"▁the ▁team ▁won ▁stocks ▁on ▁friday ▁new ▁chip ▁final ▁peace ▁a ▁of".split(),
    *".,!?",
)
# What each number must be, checked before keras-hub sees them.
_ARCHITECTURE_RULES = {
    "num_layers": ("int", 1),
    "hidden_dim": ("int", 1),
    "num_heads": ("int", 1),
    "intermediate_dim": ("int", 1),
    "embedding_dim": ("int", 1),
    "num_groups": ("int", 1),
    "num_inner_repetitions": ("int", 1),
    "max_sequence_length": ("int", 3),
    "num_segments": ("int", 1),
    "backbone_dropout": ("rate",),
    "dropout": ("rate",),
}
#: ``hidden_act`` values of Hugging Face configs that keras-hub's backbone computes
#: (its feed-forward activation is the tanh approximation of GELU, transformers'
#: ``gelu_new``); ``"gelu"`` (the exact erf form, ALBERT v1) differs by ~1e-3.
HF_ACTIVATIONS = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu")
#: The longest sequence a fine-tuned classifier reads by default (as the bert family).
HF_CLASSIFIER_SEQUENCE_LENGTH = 512
#: The load() argument that accepts weights whose architecture is not the name's.
ALLOW_MISMATCH = "allow_architecture_mismatch"


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class NormalizingAlbertTokenizer(SeedSafeSentencePiece, keras_hub.models.AlbertTokenizer):
    """keras-hub's ALBERT SentencePiece tokenizer, normalising text as transformers does.

    transformers' ``AlbertTokenizer`` (and ALBERT's original ``tokenization.py``)
    rewrites ````` and ``''`` as ``"``, then with ``keep_accents=False`` decomposes the
    text (NFKD) and drops combining marks, and with ``do_lower_case=True`` lower-cases
    it, all before SentencePiece. keras-hub's tokenizer hands the raw text to
    SentencePiece, so ``"Café"`` becomes ``<unk>`` pieces. This subclass does the same
    normalisation first, with TensorFlow string ops (so it is traced and exported).

    Args:
        proto: The SentencePiece model (a path, or its serialized bytes).
        lowercase: Lower-case the text (transformers' ``do_lower_case``).
        strip_accents: Decompose and drop combining marks (``not keep_accents``).
        **kwargs: Passed to ``keras_hub.models.AlbertTokenizer``.

    Examples:
        >>> from tfx_textzoo.families.albert import (
        ...     NormalizingAlbertTokenizer, TINY_PIECES, sentencepiece_model)
        >>> tokenizer = NormalizingAlbertTokenizer(sentencepiece_model(TINY_PIECES))
        >>> [tokenizer.id_to_token(int(i)) for i in tokenizer("The Café")]
        ['▁the', '▁', 'c', 'a', 'f', 'e']
    """

    def __init__(self, proto=None, lowercase=True, strip_accents=True, **kwargs):
        self.lowercase = bool(lowercase)
        self.strip_accents = bool(strip_accents)
        self.resource_generation = 0
        super().__init__(proto=proto, **kwargs)

    def ensure_resource(self) -> int:
        """Re-create TensorFlow's SentencePiece resource if it was dropped; return its generation.

        ``tf.random.set_seed`` (so ``keras.utils.set_random_seed``, which ``finetune(seed=)``
        calls) clears TensorFlow's eager kernel cache, and with it every
        ``tensorflow_text`` SentencePiece model created before: tokenizing then fails with
        "Resource ..._SentencepieceOp... does not exist". This checks the resource (one
        small eager op) and makes a new one when it is gone; the generation counts the
        re-creations, so a function traced with the old one can be traced again.
        """
        if SeedSafeSentencePiece.ensure_resource(self):
            self.resource_generation += 1
        return self.resource_generation

    def tokenize(self, inputs):  # noqa: D102
        import tensorflow as tf
        import tensorflow_text as tf_text

        self.ensure_resource()
        text = tf.convert_to_tensor(inputs)
        if text.dtype == tf.string:
            text = tf.strings.regex_replace(text, "``|''", '"')
            if self.strip_accents:
                text = tf_text.normalize_utf8(text, "NFKD")
                text = tf.strings.regex_replace(text, r"\p{Mn}", "")
            if self.lowercase:
                text = tf.strings.lower(text, encoding="utf-8")
        return super().tokenize(text)

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
        }


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class AlbertPreprocessor(keras_hub.models.AlbertTextClassifierPreprocessor):
    """keras-hub's ALBERT classifier preprocessor that rejects non-string input clearly.

    A pair ``(a, b)`` is packed as two segments: ``[CLS] a [SEP] b [SEP]``, segment ids
    0 then 1, as transformers does.

    Args:
        tokenizer: The (normalising) ALBERT tokenizer.
        sequence_length: The padded length of the model's inputs.
        lowercase: The tokenizer's lower-casing (None: keep the tokenizer's).
        strip_accents: The tokenizer's accent stripping (None: keep the tokenizer's).
        **kwargs: Passed to ``keras_hub.models.AlbertTextClassifierPreprocessor``.

    The text normalisation is part of this preprocessor's config (not only of its
    tokenizer's) because plain keras-hub's ALBERT preprocessor has none: the zoo's save
    then does not pass it off as keras-hub's own (``tfx_textzoo.saving`` compares the
    preprocessor's config with keras-hub's, not the tokenizer's class).
    """

    def __init__(
        self, tokenizer, sequence_length=512, lowercase=None, strip_accents=None, **kwargs
    ):
        super().__init__(tokenizer, sequence_length=sequence_length, **kwargs)
        if lowercase is not None:
            tokenizer.lowercase = bool(lowercase)
        if strip_accents is not None:
            tokenizer.strip_accents = bool(strip_accents)

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "lowercase": getattr(self.tokenizer, "lowercase", False),
            "strip_accents": getattr(self.tokenizer, "strip_accents", False),
        }

    def call(self, x, y=None, sample_weight=None):  # noqa: D102
        for segment in x if isinstance(x, tuple) else (x,):
            check_string_tensor(segment)
        return super().call(x, y, sample_weight)

    @property
    def adapt_count(self) -> int:
        """Changes when the tokenizer's TensorFlow resource is re-created.

        The zoo's tokenizing function is traced once per preprocessor and traced again
        when this number changes (as after the ``scratch`` family re-adapts): a function
        traced before ``tf.random.set_seed`` dropped the SentencePiece resource (see
        [`ensure_resource`][tfx_textzoo.families.albert.NormalizingAlbertTokenizer.ensure_resource])
        is not reused.
        """
        ensure = getattr(self.tokenizer, "ensure_resource", None)
        return ensure() if ensure is not None else 0


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class AlbertClassifier(ZooClassifier, keras_hub.models.AlbertTextClassifier):
    """keras-hub's ``AlbertTextClassifier`` with a choice of pooling, class names and zoo name.

    With ``pooling="pooler"`` (the default) the graph is keras-hub's and transformers'
    ``AlbertForSequenceClassification``: ``pooled_output`` (tanh dense on ``[CLS]``) ->
    dropout -> output layer.

    Args:
        backbone: A ``keras_hub.models.AlbertBackbone``.
        num_classes: Number of classes.
        preprocessor: The ALBERT preprocessor that turns raw strings into inputs.
        activation: Activation of the output layer (zoo models use ``"softmax"``).
        dropout: Dropout rate before the output layer (``classifier_dropout_prob``).
        pooling: ``"pooler"``: the backbone's pretrained pooler on ``[CLS]``; ``"cls"``:
            the ``[CLS]`` vector itself; ``"mean"``: the mean over non-padding tokens
            (the pooler is then kept frozen: nothing reads it).
        labels: Optional class names, ``labels[i]`` is the name of class ``i``.
        model_name: The zoo name the model was built from (None for none).
        architecture_overrides: The architecture numbers in which this model differs
            from ``model_name``'s catalog entry, or None (kept by save/load).
        **kwargs: Passed to ``keras_hub.models.TextClassifier``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.albert import TINY_CONFIG, TINY_PIECES
        >>> model = textzoo.load("albert-base-v2", num_classes=2, weights=None,
        ...                      vocabulary=TINY_PIECES, **TINY_CONFIG)
        >>> type(model).__name__, model.pooling, model.predict(["the team won"], verbose=0).shape
        ('AlbertClassifier', 'pooler', (1, 2))
    """

    preprocessor_cls = AlbertPreprocessor

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        task=None,
        dropout=0.1,
        pooling="pooler",
        labels=None,
        model_name=None,
        architecture_overrides=None,
        **kwargs,
    ):
        if pooling not in POOLINGS:
            raise _checks.InvalidArgumentError("pooling", pooling, " or ".join(map(repr, POOLINGS)))
        self.backbone = backbone
        self.preprocessor = preprocessor
        inputs = backbone.input
        outputs = backbone(inputs)
        features = pool(outputs, inputs["padding_mask"], pooling, backbone.dtype_policy)
        probabilities, head = classification_head(
            features,
            num_classes,
            dropout=dropout,
            activation=activation,
            task=task,
            dtype=backbone.dtype_policy,
            names=("output_dropout", "logits"),
        )
        self.output_dropout, self.output_dense = head
        self.head_layers = tuple(head)
        keras_hub.models.TextClassifier.__init__(
            self, inputs=inputs, outputs=probabilities, **kwargs
        )
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
            >>> from tfx_textzoo.families.albert import TINY_CONFIG, TINY_PIECES
            >>> model = textzoo.load("albert-base-v2", num_classes=2, weights=None,
            ...                      vocabulary=TINY_PIECES, **TINY_CONFIG)
            >>> model.architecture["embedding_dim"], model.architecture_overrides["num_layers"]
            (8, 1)
        """
        return backbone_architecture(self.backbone)

    def transformer_layers(self) -> list[keras.layers.Layer]:
        """The shared layers in the order they run, one entry per depth they run at.

        keras-hub runs each group ``num_layers // num_groups`` times in turn, every
        inner layer of the group each time; so ALBERT-base v2 (one group of one layer,
        12 layers) lists its one layer 12 times. Layer-wise decay then gives the shared
        variables the multiplier of the deepest depth
        ([`layer_decay_multipliers`][tfx_textzoo.training.layer_decay_multipliers]).

        Examples:
            >>> import tfx_textzoo as textzoo
            >>> from tfx_textzoo.families.albert import TINY_CONFIG, TINY_PIECES
            >>> model = textzoo.load("albert-base-v2", num_classes=2, weights=None,
            ...                      vocabulary=TINY_PIECES, **{**TINY_CONFIG, "num_layers": 3})
            >>> [layer.name for layer in model.transformer_layers()]
            ['group_0_inner_layer_0', 'group_0_inner_layer_0', 'group_0_inner_layer_0']
        """
        backbone = self.backbone
        repeats = backbone.num_layers // backbone.num_groups
        return [
            layer
            for group in backbone.transformer_layers
            for _ in range(repeats)
            for layer in group
        ]

    def pooled_features(self, inputs, training=None):
        """The ``[CLS]`` features (pooled for ``"pooler"``), the last layer at position 0 only.

        The shared layers run in `transformer_layers`' order, as keras-hub's
        ``AlbertBackbone`` runs them; None for ``pooling="mean"`` (the graph runs).
        """
        if self.pooling == "mean":
            return None
        backbone = self.backbone
        x = summed_embeddings(backbone, inputs, training=training)
        x = backbone.embeddings_projection(x)
        first = encode_to_first_position(
            self.transformer_layers(), x, inputs["padding_mask"], training
        )
        return backbone.pooled_dense(first) if self.pooling == "pooler" else first

    def freeze_unused(self) -> None:
        """Keep the backbone's pooler out of training when the head does not read it."""
        if self.pooling != "pooler":
            self.backbone.get_layer("pooled_dense").trainable = False

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "pooling": self.pooling,
            "architecture_overrides": self.architecture_overrides,
            **zoo_config(self.labels, self.model_name),
        }


def backbone_architecture(backbone: Any) -> dict[str, int]:
    """The architecture numbers (``ARCHITECTURE_KEYS``) of a keras-hub ALBERT backbone."""
    return {k: int(getattr(backbone, k)) for k in ARCHITECTURE_KEYS if hasattr(backbone, k)}


def architecture_differences(spec: ModelSpec, backbone: Any) -> dict[str, tuple[Any, int]]:
    """``{key: (catalog value, real value)}`` where ``backbone`` is not ``spec``'s architecture.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.albert import (
        ...     TINY_CONFIG, TINY_PIECES, architecture_differences)
        >>> spec = textzoo.registry.get_spec("albert-base-v2")
        >>> model = textzoo.load("albert-base-v2", num_classes=2, weights=None,
        ...                      vocabulary=TINY_PIECES, **TINY_CONFIG)
        >>> architecture_differences(spec, model.backbone)["hidden_dim"]
        (768, 16)
    """
    real = backbone_architecture(backbone)
    return {
        k: (spec.architecture[k], real[k])
        for k in ARCHITECTURE_KEYS
        if k in spec.architecture and k in real and spec.architecture[k] != real[k]
    }


def count_params(arch: Mapping[str, Any], num_classes: int) -> int:
    """Parameter count of an ALBERT backbone (with pooler) plus a ``num_classes`` head.

    Shared layers count once: ``num_groups * num_inner_repetitions`` transformer
    layers hold weights, however many times they run (``num_layers``).

    Examples:
        ALBERT-base v2 with a 2-class head: keras-hub's preset metadata says 11,683,584
        for the backbone (``AlbertBackbone.presets["albert_base_en_uncased"]``).

        >>> count_params({"num_layers": 12, "hidden_dim": 768, "intermediate_dim": 3072,
        ...               "embedding_dim": 128, "vocabulary_size": 30000}, 2)
        11685122
    """
    h, i, e = arch["hidden_dim"], arch["intermediate_dim"], arch["embedding_dim"]
    positions = arch.get("max_sequence_length", 512)
    segments = arch.get("num_segments", 2)
    layers = arch.get("num_groups", 1) * arch.get("num_inner_repetitions", 1)
    embeddings = (arch["vocabulary_size"] + positions + segments) * e + 2 * e
    projection = e * h + h
    per_layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    pooler = h * h + h
    head = h * num_classes + num_classes
    return embeddings + projection + layers * per_layer + pooler + head


def sentencepiece_model(pieces: Sequence[str]) -> bytes:
    """A serialized SentencePiece unigram model whose vocabulary is ``pieces``, in order.

    For tests and random-init models: no training; every piece has the same score, so
    a text is split into as few pieces as the vocabulary allows. ALBERT's special
    pieces (``SPECIAL_PIECES``) come first, at their usual ids, added where ``pieces``
    lacks them; ``<unk>`` is the unknown piece. Words carry SentencePiece's ``▁``
    prefix (``"▁the"``).

    Examples:
        >>> from tfx_textzoo.families.albert import sentencepiece_model
        >>> import keras_hub
        >>> tokenizer = keras_hub.models.AlbertTokenizer(
        ...     sentencepiece_model(["▁the", "▁", "t", "e", "a", "m"]))
        >>> tokenizer.vocabulary_size(), [int(i) for i in tokenizer("the team")]
        (11, [5, 6, 7, 8, 9, 10])
    """
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    pieces = [str(p) for p in pieces]
    ordered = [*SPECIAL_PIECES, *(p for p in pieces if p not in SPECIAL_PIECES)]
    if len(set(ordered)) != len(ordered):
        raise ValueError("the SentencePiece vocabulary has duplicate pieces")
    kind = model_pb2.ModelProto.SentencePiece
    types = {"<unk>": kind.UNKNOWN, "[MASK]": kind.USER_DEFINED}
    model = model_pb2.ModelProto()
    for piece in ordered:
        entry = model.pieces.add()
        entry.piece = piece
        if piece in SPECIAL_PIECES:
            entry.score = 0.0
            entry.type = types.get(piece, kind.CONTROL)
        else:  # every piece scores the same: the segmentation with the fewest pieces wins
            entry.score = -1.0
            entry.type = kind.NORMAL
    spec = model.trainer_spec
    spec.model_type = model_pb2.TrainerSpec.UNIGRAM
    spec.vocab_size = len(ordered)
    spec.pad_id, spec.unk_id, spec.bos_id, spec.eos_id = 0, 1, 2, 3
    spec.pad_piece, spec.unk_piece, spec.bos_piece, spec.eos_piece = SPECIAL_PIECES[:4]
    normalizer = model.normalizer_spec
    normalizer.name = "identity"
    normalizer.add_dummy_prefix = True
    normalizer.remove_extra_whitespaces = True
    normalizer.escape_whitespaces = True
    return model.SerializeToString()


@register_family(
    "albert",
    count_params=count_params,
    architecture_keys=ARCHITECTURE_KEYS,
    hf_files=HF_FILES,
    tiny_config=TINY_CONFIG,
    tiny_tokenizer={"vocabulary": TINY_PIECES},
    hf_model_types=("albert",),
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
) -> AlbertClassifier:
    """Build a compiled ALBERT classifier for ``spec`` (see [`load`][tfx_textzoo.load]).

    Args:
        spec: The catalog entry.
        num_classes: Number of classes.
        labels: Optional class names.
        weights: ``"auto"``, None (random init) or a weights location (a keras-hub
            preset, a Hugging Face directory or ``hf://`` repository).
        sequence_length: Tokens per text (default: the entry's ``tokenizer.sequence_length``).
        vocabulary: With ``weights=None``: a SentencePiece model (``spiece.model`` path
            or its bytes) or a list of pieces (made into a model with
            [`sentencepiece_model`][tfx_textzoo.families.albert.sentencepiece_model])
            instead of the entry's; the embedding table is sized to it.
        lowercase: Override the entry's lower-casing.
        task: The [`Task`][tfx_textzoo.tasks.Task] (None: single-label); the head's
            activation is its ``activation``.
        **overrides: With ``weights=None``: architecture numbers (``num_layers``,
            ``hidden_dim``, ``num_heads``, ``intermediate_dim``, ``embedding_dim``,
            ``num_groups``, ``num_inner_repetitions``, ``max_sequence_length``,
            ``num_segments``, ``backbone_dropout``); always allowed: ``dropout`` (of the
            head), ``pooling`` (``"pooler"``, ``"cls"`` or ``"mean"``) and
            ``allow_architecture_mismatch``.

    Returns:
        A compiled [`AlbertClassifier`][tfx_textzoo.families.albert.AlbertClassifier]
        whose preprocessor takes raw strings.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.albert import TINY_CONFIG, TINY_PIECES
        >>> model = textzoo.load("albert-base-v2", num_classes=3, weights=None,
        ...                      vocabulary=TINY_PIECES, **TINY_CONFIG)
        >>> model.predict(["the team won"], verbose=0).shape
        (1, 3)

        A pair goes through the preprocessor as two segments:

        >>> import tensorflow as tf
        >>> pair = (tf.constant(["the team won"]), tf.constant(["a final"]))
        >>> features = model.preprocessor(x=pair)
        >>> features["segment_ids"].numpy()[0, :9].tolist()  # [CLS] the team won [SEP] a final
        [0, 0, 0, 0, 0, 1, 1, 1, 0]
        >>> tuple(model(features).shape)
        (1, 3)
    """
    allow_mismatch = _checks.check_bool(ALLOW_MISMATCH, overrides.pop(ALLOW_MISMATCH, False))
    head = check_architecture(
        {"dropout": overrides.pop("dropout", spec.architecture.get("dropout", 0.1))},
        {"dropout"} if "dropout" in overrides else set(),
        spec.name,
        _ARCHITECTURE_RULES,
    )
    pooling = overrides.pop("pooling", spec.architecture.get("pooling", "pooler"))
    unknown = set(overrides) - _ARCH_OVERRIDES
    if unknown:
        raise TypeError(
            f"Unknown argument(s) for a {spec.family} model: {sorted(unknown)}. "
            f"Architecture overrides allowed with weights=None: {sorted(_ARCH_OVERRIDES)}."
        )
    if lowercase is None:
        lowercase = bool(spec.tokenizer.get("lowercase", True))
    strip_accents = bool(spec.tokenizer.get("strip_accents", True))
    if weights is None:
        tokenizer = NormalizingAlbertTokenizer(
            _vocabulary(spec, vocabulary), lowercase=lowercase, strip_accents=strip_accents
        )
        arch = {k: v for k, v in spec.architecture.items() if k in _ARCH_OVERRIDES}
        arch.update(overrides)
        arch = check_architecture(arch, set(overrides), spec.name, _ARCHITECTURE_RULES)
        _check_shapes(arch, set(overrides), spec.name)
        arch["vocabulary_size"] = tokenizer.vocabulary_size()
        arch["dropout"] = arch.pop("backbone_dropout", 0.0)
        backbone = keras_hub.models.AlbertBackbone(**arch)
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
    model = AlbertClassifier(
        backbone,
        num_classes,
        preprocessor=AlbertPreprocessor(tokenizer, sequence_length=sequence_length),
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


def load_hf_classifier(directory: Any, config: Mapping[str, Any], *, labels: list[str]):
    """A transformers ``AlbertForSequenceClassification`` checkpoint as an ``AlbertClassifier``.

    The backbone (pooler included) and the SentencePiece tokenizer come from the
    directory as for ``weights=DIR``; the head is transformers' (pooler -> dropout
    ``classifier_dropout_prob`` -> ``classifier``), this family's ``pooling="pooler"``
    head, with the trained ``classifier`` weights.

    Args:
        directory: The checkpoint's directory (config.json, model.safetensors, spiece.model).
        config: Its parsed config.json.
        labels: The class names, in id order.

    Returns:
        The compiled classifier, ``model_name`` None.

    Examples:
        ``textzoo.load(dir)`` of such a checkpoint (or ``textzoo.load("hf://...")``)
        ends here.

        >>> import tfx_textzoo as textzoo
        >>> family = textzoo.registry.get_family("albert")
        >>> family.hf_model_types, family.hf_classifier is not None
        (('albert',), True)
    """
    from tfx_textzoo.hf_classifiers import task_of

    directory = Path(directory)
    task = task_of(config)  # multi-label checkpoints: a sigmoid per label
    tensors = hf_state(directory)
    backbone = backbone_from_hf(directory, tensors=tensors)
    tokenizer = tokenizer_from_hf(directory)
    dropout = config.get("classifier_dropout_prob")
    preprocessor = AlbertPreprocessor(
        tokenizer,
        sequence_length=min(HF_CLASSIFIER_SEQUENCE_LENGTH, backbone.max_sequence_length),
    )
    model = AlbertClassifier(
        backbone,
        len(labels),
        preprocessor=preprocessor,
        labels=labels,
        model_name=None,
        activation=task.activation,
        task=task,
        dropout=float(0.1 if dropout is None else dropout),
        pooling="pooler",
    )
    missing = [k for k in ("classifier.weight", "classifier.bias") if k not in tensors]
    if missing:
        raise KeyError(
            f"{directory} has no {' / '.join(missing)}: not an "
            "AlbertForSequenceClassification checkpoint"
        )
    set_dense(model.output_dense, tensors["classifier.weight"], tensors["classifier.bias"])
    compile_classifier(model, {}, pretrained=True)
    return model


def hf_state(directory: str | Path) -> dict[str, np.ndarray]:
    """Every tensor of a Hugging Face ALBERT checkpoint, the ``albert.`` prefix removed.

    ``AlbertModel`` checkpoints name their tensors ``embeddings.…``, ``encoder.…``,
    ``pooler.…``; the task models (``AlbertForSequenceClassification``) put
    ``albert.`` in front and add their head (``classifier.weight``). Reads
    ``model.safetensors`` or the shards of ``model.safetensors.index.json``; never a
    pickle.

    Examples:
        >>> from pathlib import Path
        >>> import tfx_textzoo
        >>> from tfx_textzoo.families.albert import hf_state
        >>> root = Path(tfx_textzoo.__file__).parents[1] / "tests/fixtures/hf/albert"
        >>> sorted(hf_state(root / "classifier"))[:2]
        ['classifier.bias', 'classifier.weight']
    """
    from safetensors.numpy import load_file

    directory = Path(directory)
    index = directory / "model.safetensors.index.json"
    if index.exists():
        shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        files = [directory / name for name in shards]
    else:
        files = [directory / "model.safetensors"]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"{directory}: no safetensors weights ({', '.join(missing)})")
    state: dict[str, np.ndarray] = {}
    for path in files:
        for name, tensor in load_file(str(path)).items():
            state[name.removeprefix("albert.")] = tensor
    return state


def backbone_from_hf(
    directory: str | Path, *, tensors: Mapping[str, np.ndarray] | None = None
) -> Any:
    """A keras-hub ``AlbertBackbone`` with the weights of a Hugging Face ALBERT checkpoint.

    Args:
        directory: Holds config.json and the safetensors weights (of an ``AlbertModel``
            or of a task model such as ``AlbertForSequenceClassification``).
        tensors: The checkpoint's tensors if already read
            ([`hf_state`][tfx_textzoo.families.albert.hf_state]).

    Raises:
        ValueError: A config keras-hub's backbone cannot compute (an activation other
            than GELU, relative position embeddings), or a tensor of the wrong shape.
        KeyError: A tensor the backbone needs is not in the checkpoint.

    Examples:
        >>> from pathlib import Path
        >>> import tfx_textzoo
        >>> from tfx_textzoo.families.albert import backbone_from_hf
        >>> root = Path(tfx_textzoo.__file__).parents[1] / "tests/fixtures/hf/albert"
        >>> backbone = backbone_from_hf(root / "base")
        >>> backbone.num_layers, backbone.embedding_dim, backbone.hidden_dim
        (2, 8, 16)
    """
    directory = Path(directory)
    config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    activation = config.get("hidden_act", "gelu_new")
    if activation not in HF_ACTIVATIONS:
        raise ValueError(
            f"{directory}: hidden_act {activation!r} is not computed by keras-hub's "
            f"AlbertBackbone (tanh-approximate GELU); readable: {', '.join(HF_ACTIVATIONS)}"
        )
    position_type = config.get("position_embedding_type", "absolute")
    if position_type != "absolute":
        raise ValueError(
            f"{directory}: position_embedding_type {position_type!r}; keras-hub's "
            "AlbertBackbone has absolute position embeddings only"
        )
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=config["vocab_size"],
        num_layers=config["num_hidden_layers"],
        num_heads=config["num_attention_heads"],
        embedding_dim=config["embedding_size"],
        hidden_dim=config["hidden_size"],
        intermediate_dim=config["intermediate_size"],
        num_groups=config.get("num_hidden_groups", 1),
        num_inner_repetitions=config.get("inner_group_num", 1),
        dropout=config.get("hidden_dropout_prob", 0.0),
        max_sequence_length=config.get("max_position_embeddings", 512),
        num_segments=config.get("type_vocab_size", 2),
    )
    state = hf_state(directory) if tensors is None else tensors
    for variable, name, layout in _weight_map(backbone):
        if name not in state:
            raise KeyError(f"{directory}: the checkpoint has no tensor {name!r}")
        value = state[name]
        if layout == "dense":  # torch Linear weight is (out, in): transpose, then shape
            value = np.reshape(value.T, variable.shape)
        elif layout == "bias":
            value = np.reshape(value, variable.shape)
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"{directory}: tensor {name!r} has shape {tuple(state[name].shape)}, the "
                f"backbone's {variable.path} {tuple(variable.shape)}"
            )
        variable.assign(value.astype(variable.dtype))
    return backbone


def tokenizer_from_hf(directory: str | Path, lowercase: bool = True) -> NormalizingAlbertTokenizer:
    """The tokenizer of a Hugging Face ALBERT directory: spiece.model + tokenizer_config.json.

    ``do_lower_case`` and ``keep_accents`` of tokenizer_config.json (transformers'
    defaults: lower-case, strip accents) set the normalisation; ``lowercase`` is used
    where the file does not say.

    Examples:
        >>> from pathlib import Path
        >>> import tfx_textzoo
        >>> from tfx_textzoo.families.albert import tokenizer_from_hf
        >>> root = Path(tfx_textzoo.__file__).parents[1] / "tests/fixtures/hf/albert"
        >>> tokenizer = tokenizer_from_hf(root / "base")
        >>> tokenizer.vocabulary_size(), tokenizer.lowercase, tokenizer.strip_accents
        (160, True, True)
    """
    directory = Path(directory)
    model = directory / "spiece.model"
    if not model.is_file():
        raise FileNotFoundError(f"{directory} has no spiece.model for the SentencePiece tokenizer")
    settings: dict[str, Any] = {}
    tok_config = directory / "tokenizer_config.json"
    if tok_config.is_file():
        settings = json.loads(tok_config.read_text(encoding="utf-8"))
    return NormalizingAlbertTokenizer(
        str(model),
        lowercase=bool(settings.get("do_lower_case", lowercase)),
        strip_accents=not bool(settings.get("keep_accents", False)),
    )


def _weight_map(backbone: Any) -> list[tuple[keras.Variable, str, str]]:
    """``(variable, Hugging Face tensor name, layout)`` for every backbone weight."""
    projection = "encoder.embedding_hidden_mapping_in"
    out = [
        (backbone.token_embedding.embeddings, "embeddings.word_embeddings.weight", "same"),
        (
            backbone.position_embedding.position_embeddings,
            "embeddings.position_embeddings.weight",
            "same",
        ),
        (backbone.segment_embedding.embeddings, "embeddings.token_type_embeddings.weight", "same"),
        (backbone.embeddings_layer_norm.gamma, "embeddings.LayerNorm.weight", "same"),
        (backbone.embeddings_layer_norm.beta, "embeddings.LayerNorm.bias", "same"),
        (backbone.embeddings_projection.kernel, f"{projection}.weight", "dense"),
        (backbone.embeddings_projection.bias, f"{projection}.bias", "same"),
        (backbone.pooled_dense.kernel, "pooler.weight", "dense"),
        (backbone.pooled_dense.bias, "pooler.bias", "same"),
    ]
    for g, group in enumerate(backbone.transformer_layers):
        for j, layer in enumerate(group):
            prefix = f"encoder.albert_layer_groups.{g}.albert_layers.{j}."
            attention = layer._self_attention_layer
            for keras_name, hf_name in (
                ("query_dense", "query"),
                ("key_dense", "key"),
                ("value_dense", "value"),
                ("output_dense", "dense"),
            ):
                dense = getattr(attention, keras_name)
                out.append((dense.kernel, f"{prefix}attention.{hf_name}.weight", "dense"))
                out.append((dense.bias, f"{prefix}attention.{hf_name}.bias", "bias"))
            for norm, hf_name in (
                (layer._self_attention_layer_norm, "attention.LayerNorm"),
                (layer._feedforward_layer_norm, "full_layer_layer_norm"),
            ):
                out.append((norm.gamma, f"{prefix}{hf_name}.weight", "same"))
                out.append((norm.beta, f"{prefix}{hf_name}.bias", "same"))
            for dense, hf_name in (
                (layer._feedforward_intermediate_dense, "ffn"),
                (layer._feedforward_output_dense, "ffn_output"),
            ):
                out.append((dense.kernel, f"{prefix}{hf_name}.weight", "dense"))
                out.append((dense.bias, f"{prefix}{hf_name}.bias", "same"))
    return out


def _vocabulary(spec: ModelSpec, vocabulary: Any) -> Any:
    """The SentencePiece model of a randomly initialised model: override or fetched."""
    if isinstance(vocabulary, bytes | str | Path):
        return vocabulary if isinstance(vocabulary, bytes) else str(vocabulary)
    if vocabulary is not None:
        return sentencepiece_model(list(vocabulary))

    # Not shipped with the package: take the SentencePiece model of the first source.
    def model_only(local: LocalWeights) -> bytes:
        if local.format == "keras_hub":
            return keras_hub.models.AlbertTokenizer.from_preset(local.location).proto
        path = Path(local.location) / "spiece.model"
        if not path.exists():
            raise FileNotFoundError(f"no spiece.model in {local.location}")
        return path.read_bytes()

    try:
        return resolve_and_load(spec, "auto", model_only)
    except WeightsNotFoundError as err:
        raise WeightsNotFoundError(
            f"{spec.name} with weights=None still needs its SentencePiece model "
            f"(spiece.model), which is not shipped with tfx_textzoo.\n{err}\n"
            "Alternatively pass vocabulary=[...pieces] or vocabulary='path/to/spiece.model'."
        ) from None


def _check_shapes(arch: Mapping[str, Any], given: set[str], spec_name: str) -> None:
    """Heads must divide hidden_dim; groups must divide num_layers (keras-hub's rules)."""
    for whole, part, why in (
        ("hidden_dim", "num_heads", "each attention head gets hidden_dim // num_heads dims"),
        ("num_layers", "num_groups", "each group runs num_layers // num_groups times"),
    ):
        total, parts = arch[whole], arch.get(part, 1)
        if total % parts == 0:
            continue
        if part in given or whole not in given:
            argument, value, expected = part, parts, f"a divisor of {whole} ({total})"
        else:
            argument, value, expected = whole, total, f"a multiple of {part} ({parts})"
        catalog = [k for k in (whole, part) if k not in given]
        detail = why
        if catalog:
            detail += f"; {' and '.join(catalog)} came from the catalog entry of {spec_name!r}"
        raise _checks.InvalidArgumentError(argument, value, expected, detail)


def _load_backbone(local: LocalWeights, *, spec: ModelSpec, lowercase: bool, check_arch: bool):
    strip_accents = bool(spec.tokenizer.get("strip_accents", True))
    if local.format == "keras_hub":
        backbone = keras_hub.models.AlbertBackbone.from_preset(local.location)
        proto = keras_hub.models.AlbertTokenizer.from_preset(local.location).proto
        tokenizer = NormalizingAlbertTokenizer(
            proto, lowercase=lowercase, strip_accents=strip_accents
        )
    else:
        backbone = backbone_from_hf(local.location)
        tokenizer = tokenizer_from_hf(local.location, lowercase=lowercase)
    if check_arch:  # a catalog source of another architecture: the next one is tried
        differences = architecture_differences(spec, backbone)
        if differences:
            raise ArchitectureMismatchError(_mismatch_message(spec, local.location, differences))
    if tokenizer.vocabulary_size() != backbone.vocabulary_size:
        raise ValueError(
            f"the SentencePiece model has {tokenizer.vocabulary_size()} pieces but the "
            f"embedding table has {backbone.vocabulary_size} rows"
        )
    return backbone, tokenizer
