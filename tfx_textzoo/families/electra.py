"""The ``electra`` family: keras-hub ``ElectraBackbone`` + WordPiece + transformers' head.

Covers the ELECTRA discriminators of Clark et al. (2020), small, base and large.
keras-hub has the backbone, the tokenizer and presets, but no text classifier, no
classifier preprocessor and no Hugging Face converter: they are here.

- [`ElectraClassifier`][tfx_textzoo.families.electra.ElectraClassifier]: first token ->
  dropout -> dense (hidden size) -> exact GELU -> dropout -> output, the shape of
  transformers' ``ElectraClassificationHead``, so a fine-tuned
  ``ElectraForSequenceClassification`` loads into it
  ([`hf_classifier`][tfx_textzoo.families.electra.hf_classifier]). The backbone's
  ``pooled_output`` (a tanh dense keras-hub adds; transformers' ELECTRA has no pooler) is
  not read, and its layer is kept frozen.
- [`ElectraPreprocessor`][tfx_textzoo.families.electra.ElectraPreprocessor]:
  ``[CLS] a [SEP] (b [SEP])`` with segment ids, keras-hub's ``MultiSegmentPacker``;
  rejects non-string input.
- [`ElectraWordPieceTokenizer`][tfx_textzoo.families.electra.ElectraWordPieceTokenizer]:
  keras-hub's ``ElectraTokenizer`` that normalises as transformers' ``BertNormalizer``
  (Unicode spaces, control characters, ``str.lower``) instead of keras-hub's NFKC case
  folding, which would turn full-width ``"ＦＵＬＬ"`` into ``"full"`` and ``"ß"`` into
  ``"ss"``.
- [`convert_hf_checkpoint`][tfx_textzoo.families.electra.convert_hf_checkpoint]: a
  transformers ELECTRA checkpoint (``config.json`` + ``model.safetensors``, keys with or
  without the ``electra.`` prefix) into a keras-hub ``ElectraBackbone``.

keras-hub's ``ElectraBackbone`` computes its feed-forward GELU with the tanh
approximation (as the original TF ELECTRA code did); transformers uses the exact erf form
(``"hidden_act": "gelu"``). Every other part of the math agrees with transformers to
float32 round-off; the tests measure both (see ``tests/test_family_electra.py``).
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
from tfx_textzoo.registry import ModelSpec, get_spec, register_family
from tfx_textzoo.tasks import Task
from tfx_textzoo.weights import LocalWeights, resolve_and_load

ARCHITECTURE_KEYS = (
    "num_layers",
    "hidden_dim",
    "embedding_dim",
    "num_heads",
    "intermediate_dim",
    "vocabulary_size",
)
_ARCH_OVERRIDES = {
    "num_layers",
    "hidden_dim",
    "embedding_dim",
    "num_heads",
    "intermediate_dim",
    "max_sequence_length",
    "num_segments",
}
#: The Hugging Face files an ELECTRA checkpoint needs besides config.json and the weights.
HF_FILES = ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json")
#: Overrides (with ``weights=None``) that make any ELECTRA entry tiny, for the shared
#: tests; ``embedding_dim`` < ``hidden_dim`` exercises the embedding projection.
TINY_CONFIG = {
    "num_layers": 1,
    "hidden_dim": 16,
    "embedding_dim": 8,
    "num_heads": 2,
    "intermediate_dim": 32,
    "max_sequence_length": 32,
}
#: A WordPiece vocabulary of 18 tokens, for the shared tests.
TINY_VOCABULARY = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] the team won stocks on friday new chip ##s final peace a of"
).split()
#: ELECTRA's vocab.txt is BERT's uncased WordPiece vocabulary (30522 tokens), which ships
#: with the package.
_PACKAGED_VOCABULARIES = {"bert-uncased": "bert-uncased-vocab.txt"}
_ARCHITECTURE_RULES = {
    "num_layers": ("int", 1),
    "hidden_dim": ("int", 1),
    "embedding_dim": ("int", 1),
    "num_heads": ("int", 1),
    "intermediate_dim": ("int", 1),
    "max_sequence_length": ("int", 3),
    "num_segments": ("int", 1),
    "dropout": ("rate",),
}
#: The head's pooling choices ([`POOLINGS`][tfx_textzoo.families.base.POOLINGS] without the
#: backbone's pooler, which ELECTRA was not trained with).
POOLINGS = ("cls", "mean")
#: The load() argument that accepts weights whose architecture is not the name's.
ALLOW_MISMATCH = "allow_architecture_mismatch"
#: transformers' ``ElectraConfig`` defaults, for keys a ``config.json`` leaves out.
_HF_DEFAULTS = {
    "vocab_size": 30522,
    "embedding_size": 128,
    "hidden_size": 256,
    "num_hidden_layers": 12,
    "num_attention_heads": 4,
    "intermediate_size": 1024,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "position_embedding_type": "absolute",
}
#: The GELU forms keras-hub's backbone stands in for (it computes the tanh approximation).
_GELUS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_python")
#: Names of the head's layers: (dropout, dense, dropout, output).
HEAD_NAMES = ("classifier_dropout", "classifier_dense", "classifier_dense_dropout", "logits")
#: The catalog entry whose fine-tuning settings a loaded Hugging Face classifier gets.
_HF_CLASSIFIER_SETTINGS_FROM = "electra-base"
#: The longest sequence a fine-tuned classifier reads by default, capped by the model's
#: max_position_embeddings (as the bert family: batches are padded to their longest text).
HF_CLASSIFIER_SEQUENCE_LENGTH = 512


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class ElectraWordPieceTokenizer(keras_hub.models.ElectraTokenizer):
    """keras-hub's ELECTRA WordPiece tokenizer, normalising text as transformers does.

    Before keras-hub's WordPiece, texts go through
    [`normalize`][tfx_textzoo.families.electra.normalize] (transformers'
    ``BertNormalizer``): Unicode spaces become spaces, control characters are dropped
    and, with ``do_lower_case``, texts are lower-cased.

    Args:
        vocabulary: A list of tokens or a ``vocab.txt`` path.
        do_lower_case: Lower-case with Unicode ``str.lower`` semantics (transformers'
            ``BertNormalizer``, the original ELECTRA/BERT ``tokenization.py``), not with
            keras-hub's NFKC case folding (``lowercase``, left False).
        **kwargs: Passed to ``keras_hub.models.ElectraTokenizer`` (``strip_accents``, ...).

    Examples:
        >>> from tfx_textzoo.families.electra import ElectraWordPieceTokenizer
        >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "full", "cafe"]
        >>> tok = ElectraWordPieceTokenizer(vocab, do_lower_case=True, strip_accents=True)
        >>> [int(i) for i in tok("Café FULL ＦＵＬＬ")]
        [6, 5, 1]
    """

    def __init__(self, vocabulary=None, do_lower_case=False, **kwargs):
        self.do_lower_case = bool(do_lower_case)
        super().__init__(vocabulary=vocabulary, **kwargs)

    def tokenize(self, inputs):  # noqa: D102
        return super().tokenize(normalize(inputs, lowercase=self.do_lower_case))

    def get_config(self):  # noqa: D102
        return {**super().get_config(), "do_lower_case": self.do_lower_case}


#: transformers' ``BertNormalizer`` (``clean_text``): Unicode spaces become " " and
#: control and format characters (but tab, newline, return) and U+FFFD are removed.
_SPACES = r"\p{Zs}"
_DROPPED = r"[\x{FFFD}\p{Cf}]|[^\P{Cc}\t\n\r]"


def normalize(inputs: Any, lowercase: bool) -> Any:
    """Clean and (optionally) lower-case texts as transformers' ``BertNormalizer`` does.

    Unicode spaces (``U+00A0``, ``U+3000``, ...) become ``" "``, control and format
    characters are removed, and with ``lowercase`` the texts are lower-cased with
    Unicode ``str.lower`` semantics. Accents are stripped by the tokenizer itself
    (``strip_accents``).

    Args:
        inputs: A string tensor (dense or ragged), a ``str`` or a (nested) list of them.
        lowercase: Whether to lower-case.

    Examples:
        >>> from tfx_textzoo.families.electra import normalize
        >>> normalize("ＦＵＬＬ\u00a0Ok\u200b!", lowercase=True)
        'ｆｕｌｌ ok!'
    """
    if isinstance(inputs, str):
        return normalize(tf.constant(inputs), lowercase).numpy().decode("utf-8")
    if isinstance(inputs, list | tuple):
        return type(inputs)(normalize(x, lowercase) for x in inputs)
    if isinstance(inputs, tf.RaggedTensor):
        return tf.ragged.map_flat_values(normalize, inputs, lowercase)
    if not isinstance(inputs, tf.Tensor):
        if not (isinstance(inputs, np.ndarray) and inputs.dtype.kind in "OSU"):
            return inputs  # not text: the tokenizer says what is wrong
        inputs = tf.constant(inputs)
    if inputs.dtype != tf.string:
        return inputs
    inputs = tf.strings.regex_replace(inputs, _SPACES, " ")
    inputs = tf.strings.regex_replace(inputs, _DROPPED, "")
    return tf.strings.lower(inputs, encoding="utf-8") if lowercase else inputs


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class ElectraPreprocessor(keras_hub.models.TextClassifierPreprocessor):
    """``[CLS] a [SEP]`` (``[CLS] a [SEP] b [SEP]`` for pairs) with segment ids.

    keras-hub's classifier preprocessor (``MultiSegmentPacker``, as BERT's) for an
    ELECTRA tokenizer; non-string input is refused with a clear error.

    Examples:
        >>> from tfx_textzoo.families.electra import (
        ...     TINY_VOCABULARY, ElectraPreprocessor, ElectraWordPieceTokenizer)
        >>> tok = ElectraWordPieceTokenizer(TINY_VOCABULARY, do_lower_case=True)
        >>> pre = ElectraPreprocessor(tok, sequence_length=8)
        >>> out = pre(x=(["The team won"], ["a final"]))
        >>> out["token_ids"].numpy().tolist(), out["segment_ids"].numpy().tolist()
        ([[2, 5, 6, 7, 3, 16, 14, 3]], [[0, 0, 0, 0, 0, 1, 1, 1]])
    """

    backbone_cls = keras_hub.models.ElectraBackbone
    tokenizer_cls = ElectraWordPieceTokenizer

    def call(self, x, y=None, sample_weight=None):  # noqa: D102
        for segment in x if isinstance(x, tuple) else (x,):
            check_string_tensor(segment)
        return super().call(x, y, sample_weight)


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class ElectraClassifier(ZooClassifier, keras_hub.models.TextClassifier):
    """An ELECTRA text classifier with transformers' ``ElectraClassificationHead``.

    Args:
        backbone: A ``keras_hub.models.ElectraBackbone``.
        num_classes: Number of classes.
        preprocessor: The preprocessor that turns raw strings into inputs (an
            [`ElectraPreprocessor`][tfx_textzoo.families.electra.ElectraPreprocessor]).
        activation: Activation of the output layer (zoo models use ``"softmax"``).
        dropout: Dropout rate before the hidden dense and before the output layer
            (transformers: ``classifier_dropout``, else ``hidden_dropout_prob``).
        pooling: ``"cls"``: the first token's vector (as ELECTRA is fine-tuned);
            ``"mean"``: the mean over the non-padding tokens.
        labels: Optional class names, ``labels[i]`` is the name of class ``i``.
        model_name: The zoo name the model was built from (None for none).
        architecture_overrides: The architecture numbers in which this model differs from
            ``model_name``'s catalog entry, or None (see ``BertClassifier``).
        **kwargs: Passed to ``keras_hub.models.TextClassifier``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.electra import TINY_CONFIG, TINY_VOCABULARY
        >>> model = textzoo.load("electra-small", num_classes=2, weights=None,
        ...                      vocabulary=TINY_VOCABULARY, **TINY_CONFIG)
        >>> [layer.name for layer in model.layers[-4:]]
        ['classifier_dropout', 'classifier_dense', 'classifier_dense_dropout', 'logits']
    """

    backbone_cls = keras_hub.models.ElectraBackbone
    preprocessor_cls = ElectraPreprocessor

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
        if pooling not in POOLINGS:
            raise _checks.InvalidArgumentError("pooling", pooling, "'cls' or 'mean'")
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
            hidden_units=backbone.hidden_dim,
            hidden_activation="gelu",  # Keras' "gelu" is the exact erf form, as transformers'
            dtype=backbone.dtype_policy,
            names=HEAD_NAMES,
        )
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
            >>> from tfx_textzoo.families.electra import TINY_VOCABULARY
            >>> model = textzoo.load("electra-small", num_classes=2, weights=None,
            ...                      vocabulary=TINY_VOCABULARY, num_layers=1)
            >>> model.architecture["num_layers"], model.architecture_overrides
            (1, {'num_layers': 1, 'vocabulary_size': 18})
        """
        return backbone_architecture(self.backbone)

    def pooled_features(self, inputs, training=None):
        """The ``[CLS]`` features, the last layer run at position 0 only (mean: None)."""
        if self.pooling != "cls":
            return None
        backbone = self.backbone
        x = summed_embeddings(backbone, inputs, training=training)
        if backbone.hidden_dim != backbone.embedding_dim:
            x = backbone.embeddings_projection(x)
        return encode_to_first_position(
            backbone.transformer_layers, x, inputs["padding_mask"], training
        )

    def freeze_unused(self) -> None:
        """Keep the backbone's tanh pooler (which the head never reads) out of training."""
        self.backbone.get_layer("pooled_dense").trainable = False

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "activation": keras.activations.serialize(self.activation),
            "dropout": self.dropout,
            "pooling": self.pooling,
            "architecture_overrides": self.architecture_overrides,
            **zoo_config(self.labels, self.model_name),
        }


def backbone_architecture(backbone: Any) -> dict[str, int]:
    """The architecture numbers of a keras-hub ELECTRA backbone.

    The keys are [`ARCHITECTURE_KEYS`][tfx_textzoo.families.electra.ARCHITECTURE_KEYS].

    Examples:
        >>> import keras_hub
        >>> from tfx_textzoo.families.electra import backbone_architecture
        >>> backbone = keras_hub.models.ElectraBackbone(vocab_size=20, num_layers=1,
        ...     num_heads=2, hidden_dim=8, embedding_dim=4, intermediate_dim=16)
        >>> backbone_architecture(backbone)["vocabulary_size"]
        20
    """
    arch = {k: int(getattr(backbone, k)) for k in ARCHITECTURE_KEYS[:-1] if hasattr(backbone, k)}
    arch["vocabulary_size"] = int(backbone.vocab_size)
    return arch


def architecture_differences(spec: ModelSpec, backbone: Any) -> dict[str, tuple[Any, int]]:
    """``{key: (catalog value, real value)}`` where ``backbone`` is not ``spec``'s architecture."""
    real = backbone_architecture(backbone)
    return {
        k: (spec.architecture[k], real[k])
        for k in ARCHITECTURE_KEYS
        if k in spec.architecture and k in real and spec.architecture[k] != real[k]
    }


def count_params(arch: Mapping[str, Any], num_classes: int) -> int:
    """Parameter count of an ELECTRA classifier: keras-hub's backbone plus the head.

    The backbone count includes keras-hub's (unused, frozen) tanh pooler, as keras-hub's
    preset metadata does: 13,548,800 (small), 109,482,240 (base) and 335,141,888 (large)
    for ``electra_*_discriminator_uncased_en``. The head is a hidden dense
    (``hidden_dim`` units) and the output layer.

    Examples:
        >>> from tfx_textzoo.families.electra import count_params
        >>> count_params({"num_layers": 12, "hidden_dim": 256, "embedding_dim": 128,
        ...               "intermediate_dim": 1024, "vocabulary_size": 30522}, 2)
        13615106
    """
    h, i, layers = arch["hidden_dim"], arch["intermediate_dim"], arch["num_layers"]
    e = arch.get("embedding_dim", h)
    positions = arch.get("max_sequence_length", 512)
    segments = arch.get("num_segments", 2)
    embeddings = (arch["vocabulary_size"] + positions + segments) * e + 2 * e
    projection = e * h + h if e != h else 0
    per_layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h
    pooler = h * h + h
    head = (h * h + h) + (h * num_classes + num_classes)
    return embeddings + projection + layers * per_layer + pooler + head


def hf_classifier(directory: Path, config: dict, *, labels: list[str]) -> ElectraClassifier:
    """The compiled classifier of a transformers ``ElectraForSequenceClassification`` checkpoint.

    Args:
        directory: Holds ``config.json``, ``model.safetensors`` (backbone keys under
            ``electra.``, the head under ``classifier.dense`` and ``classifier.out_proj``)
            and ``vocab.txt`` + ``tokenizer_config.json``.
        config: The parsed ``config.json``.
        labels: The class names, in id order.

    Returns:
        An [`ElectraClassifier`][tfx_textzoo.families.electra.ElectraClassifier]
        (``model_name=None``) with the checkpoint's backbone, head and tokenizer,
        compiled with ``electra-base``'s fine-tuning settings.

    Examples:
        >>> import json, pathlib
        >>> from tfx_textzoo.families.electra import hf_classifier
        >>> d = pathlib.Path("tests/fixtures/hf/electra/classifier")
        >>> model = hf_classifier(d, json.loads((d / "config.json").read_text()),
        ...                       labels=["NEG", "NEU", "POS"])
        >>> model.labels, model.predict(["a"], verbose=0).shape
        (['NEG', 'NEU', 'POS'], (1, 3))
    """
    from tfx_textzoo.hf_classifiers import task_of

    directory = Path(directory)
    task = task_of(config)  # multi-label checkpoints: a sigmoid per label
    backbone = convert_hf_checkpoint(directory, config)
    tokenizer = hf_tokenizer(directory)
    dropout = config.get("classifier_dropout")
    if dropout is None:
        dropout = config.get("hidden_dropout_prob", _HF_DEFAULTS["hidden_dropout_prob"])
    sequence_length = min(HF_CLASSIFIER_SEQUENCE_LENGTH, backbone.max_sequence_length)
    model = ElectraClassifier(
        backbone,
        len(labels),
        preprocessor=ElectraPreprocessor(tokenizer, sequence_length=sequence_length),
        activation=task.activation,
        task=task,
        dropout=float(dropout),
        labels=labels,
        model_name=None,
    )
    keys = [
        f"classifier.{part}.{kind}" for part in ("dense", "out_proj") for kind in ("weight", "bias")
    ]
    head = hf_tensors(directory, keys)
    for layer, part in ((HEAD_NAMES[1], "dense"), (HEAD_NAMES[3], "out_proj")):
        weight, bias = (head[f"classifier.{part}.{kind}"] for kind in ("weight", "bias"))
        set_dense(model.get_layer(layer), weight.astype("float32"), bias.astype("float32"))
    compile_classifier(model, get_spec(_HF_CLASSIFIER_SETTINGS_FROM).finetune, pretrained=True)
    return model


@register_family(
    "electra",
    count_params=count_params,
    architecture_keys=ARCHITECTURE_KEYS,
    hf_files=HF_FILES,
    tiny_config=TINY_CONFIG,
    tiny_tokenizer={"vocabulary": TINY_VOCABULARY},
    hf_model_types=("electra",),
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
) -> ElectraClassifier:
    """Build a compiled ELECTRA classifier for ``spec`` (see [`load`][tfx_textzoo.load]).

    Args:
        spec: The catalog entry.
        num_classes: Number of classes.
        labels: Optional class names.
        weights: ``"auto"`` (the keras-hub preset, then the Hugging Face checkpoint), None
            (random init), a local Hugging Face directory or keras-hub preset, an
            ``hf://`` URI.
        sequence_length: Tokens per text (default: the entry's ``tokenizer.sequence_length``).
        vocabulary: With ``weights=None``: a list of tokens or a ``vocab.txt`` path instead
            of the entry's vocabulary (the embedding table is sized to it).
        lowercase: Override the entry's lower-casing (a Hugging Face directory's
            ``tokenizer_config.json`` ``do_lower_case`` wins).
        task: The [`Task`][tfx_textzoo.tasks.Task] (None: single-label); the head's
            activation is its ``activation``.
        **overrides: With ``weights=None``: architecture numbers (``num_layers``,
            ``hidden_dim``, ``embedding_dim``, ``num_heads``, ``intermediate_dim``,
            ``max_sequence_length``, ``num_segments``); always allowed: ``dropout`` (of
            the head), ``pooling`` (``"cls"`` or ``"mean"``) and
            ``allow_architecture_mismatch``.

    Returns:
        A compiled [`ElectraClassifier`][tfx_textzoo.families.electra.ElectraClassifier] whose
        preprocessor takes raw strings.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.electra import TINY_CONFIG, TINY_VOCABULARY
        >>> model = textzoo.load("electra-base", num_classes=3, weights=None,
        ...                      vocabulary=TINY_VOCABULARY, **TINY_CONFIG)
        >>> model.predict(["the team won", "a final of peace"], verbose=0).shape
        (2, 3)
    """
    allow_mismatch = _checks.check_bool(ALLOW_MISMATCH, overrides.pop(ALLOW_MISMATCH, False))
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
            f"Architecture overrides allowed with weights=None: {sorted(_ARCH_OVERRIDES)}."
        )
    if lowercase is None:
        lowercase = bool(spec.tokenizer.get("lowercase", True))
    if weights is None:
        tokenizer = ElectraWordPieceTokenizer(
            vocabulary=_vocabulary(spec, vocabulary),
            do_lower_case=lowercase,
            strip_accents=lowercase,
        )
        arch = {k: v for k, v in spec.architecture.items() if k in _ARCH_OVERRIDES | {"dropout"}}
        arch.update(overrides)
        arch = check_architecture(arch, set(overrides), spec.name, _ARCHITECTURE_RULES)
        _check_heads(arch, set(overrides), spec.name)
        arch.pop("dropout", None)  # the head's; the backbone keeps keras-hub's 0.1
        arch.setdefault("embedding_dim", arch["hidden_dim"])
        backbone = keras_hub.models.ElectraBackbone(vocab_size=tokenizer.vocabulary_size(), **arch)
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
    model = ElectraClassifier(
        backbone,
        num_classes,
        preprocessor=ElectraPreprocessor(tokenizer, sequence_length=sequence_length),
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


def convert_hf_checkpoint(directory: str | Path, config: Mapping[str, Any] | None = None):
    """A keras-hub ``ElectraBackbone`` from a transformers ELECTRA checkpoint directory.

    Reads ``config.json`` and ``model.safetensors`` (or a sharded index) with
    ``safetensors.numpy``: the keys of ``ElectraModel`` (``embeddings.*``,
    ``embeddings_project.*`` when ``embedding_size != hidden_size``,
    ``encoder.layer.N.*``), bare or under a prefix (``electra.`` in
    ``ElectraForSequenceClassification`` and ``ElectraForPreTraining`` checkpoints).
    Every backbone tensor of the file must be used and every backbone weight set
    (keras-hub's tanh pooler, which transformers' ELECTRA does not have, keeps its
    random init).

    Raises:
        ValueError: Not an ELECTRA config, a setting keras-hub's backbone cannot express
            (relative positions, a non-GELU activation, another LayerNorm epsilon), or a
            missing, unused or misshapen tensor.

    Examples:
        >>> from tfx_textzoo.families.electra import convert_hf_checkpoint
        >>> backbone = convert_hf_checkpoint("tests/fixtures/hf/electra/base")
        >>> backbone.hidden_dim, backbone.embedding_dim, backbone.num_layers
        (16, 8, 2)
    """
    directory = Path(directory)
    if config is None:
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
    c = {**_HF_DEFAULTS, **config}
    if c.get("model_type") != "electra":
        raise ValueError(
            f"{directory}/config.json has model_type {c.get('model_type')!r}, not 'electra'"
        )
    unsupported = []
    if c["position_embedding_type"] != "absolute":
        unsupported.append(f"position_embedding_type {c['position_embedding_type']!r}")
    if c["hidden_act"] not in _GELUS:
        unsupported.append(f"hidden_act {c['hidden_act']!r}")
    if not np.isclose(float(c["layer_norm_eps"]), 1e-12, rtol=1e-3, atol=0):
        unsupported.append(f"layer_norm_eps {c['layer_norm_eps']}")
    if unsupported:
        raise ValueError(
            f"{directory} cannot be read into keras-hub's ElectraBackbone (absolute "
            f"positions, GELU, LayerNorm epsilon 1e-12): it has {', '.join(unsupported)}"
        )
    backbone = keras_hub.models.ElectraBackbone(
        vocab_size=int(c["vocab_size"]),
        num_layers=int(c["num_hidden_layers"]),
        num_heads=int(c["num_attention_heads"]),
        hidden_dim=int(c["hidden_size"]),
        embedding_dim=int(c["embedding_size"]),
        intermediate_dim=int(c["intermediate_size"]),
        dropout=float(c["hidden_dropout_prob"]),
        max_sequence_length=int(c["max_position_embeddings"]),
        num_segments=int(c["type_vocab_size"]),
    )
    with _SafetensorReader(directory) as reader:
        prefix = reader.prefix_of("embeddings.word_embeddings.weight")
        for variable, key, transform in _weight_map(backbone):
            _assign(variable, transform(reader.get(prefix + key)), prefix + key)
        unused = [
            k
            for k in reader.keys()
            if k.startswith(prefix)
            and k not in reader.used
            and k[len(prefix) :].startswith(("embeddings", "encoder."))
            and not k.endswith(("position_ids", "token_type_ids"))  # buffers
        ]
    if unused:
        raise ValueError(f"{directory}: tensors the backbone has no place for: {unused[:5]}")
    return backbone


def hf_tokenizer(directory: str | Path, lowercase: bool = True) -> ElectraWordPieceTokenizer:
    """The WordPiece tokenizer of a Hugging Face ELECTRA directory (vocab.txt).

    ``do_lower_case`` comes from ``tokenizer_config.json`` (default ``lowercase``);
    ``strip_accents`` too, None following ``do_lower_case`` as in transformers.

    Examples:
        >>> from tfx_textzoo.families.electra import hf_tokenizer
        >>> tok = hf_tokenizer("tests/fixtures/hf/electra/base")
        >>> tok.vocabulary_size(), tok.do_lower_case, tok.strip_accents
        (144, True, True)
    """
    directory = Path(directory)
    strip_accents = None
    tok_config = directory / "tokenizer_config.json"
    if tok_config.exists():
        settings = json.loads(tok_config.read_text(encoding="utf-8"))
        lowercase = bool(settings.get("do_lower_case", lowercase))
        strip_accents = settings.get("strip_accents")
    vocab = directory / "vocab.txt"
    if not vocab.exists():
        raise FileNotFoundError(f"{directory} has no vocab.txt for the WordPiece tokenizer")
    if not isinstance(strip_accents, bool):
        strip_accents = lowercase
    return ElectraWordPieceTokenizer(
        vocabulary=str(vocab), do_lower_case=lowercase, strip_accents=strip_accents
    )


class _SafetensorReader:
    """Tensors of ``model.safetensors`` (or its shards) by key, as float32 numpy arrays."""

    def __init__(self, directory: Path):
        from safetensors import safe_open

        index = directory / "model.safetensors.index.json"
        if index.exists():
            weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
            names = sorted(set(weight_map.values()))
        elif (directory / "model.safetensors").exists():
            names = ["model.safetensors"]
        else:
            raise FileNotFoundError(f"{directory} has no model.safetensors")
        self._files = [safe_open(str(directory / n), framework="np") for n in names]
        self._where = {k: f for f in self._files for k in f.keys()}
        self.used: set[str] = set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._files, self._where = [], {}

    def keys(self) -> list[str]:
        return list(self._where)

    def prefix_of(self, key: str) -> str:
        """The prefix the checkpoint puts before ``key`` (``""`` or ``"electra."``)."""
        if key in self._where:
            return ""
        for full in self._where:
            if full.endswith("." + key):
                return full[: -len(key)]
        raise ValueError(f"no {key!r} tensor: not an ELECTRA checkpoint")

    def get(self, key: str) -> np.ndarray:
        if key not in self._where:
            raise ValueError(f"the checkpoint has no {key!r} tensor")
        self.used.add(key)
        return np.asarray(self._where[key].get_tensor(key), dtype=np.float32)


def _assign(variable: Any, value: np.ndarray, key: str) -> None:
    if tuple(variable.shape) != tuple(value.shape):
        raise ValueError(
            f"{key} has shape {tuple(value.shape)} but {variable.path} needs "
            f"{tuple(variable.shape)}"
        )
    variable.assign(value)


def _weight_map(backbone: Any):
    """``(keras variable, transformers key, transform)`` for every backbone weight."""

    def same(x):
        return x

    def dense(x):  # torch Linear (out, in) -> Keras Dense (in, out)
        return x.T

    def reshaped(variable):  # -> the EinsumDense kernel/bias shapes of keras-hub attention
        return lambda x: np.reshape(x.T if x.ndim == 2 else x, tuple(variable.shape))

    out = [
        (backbone.get_layer("token_embedding").embeddings, "embeddings.word_embeddings.weight"),
        (
            backbone.get_layer("position_embedding").position_embeddings,
            "embeddings.position_embeddings.weight",
        ),
        (
            backbone.get_layer("segment_embedding").embeddings,
            "embeddings.token_type_embeddings.weight",
        ),
    ]
    out = [(v, k, same) for v, k in out]
    norm = backbone.get_layer("embeddings_layer_norm")
    out += [(norm.gamma, "embeddings.LayerNorm.weight", same)]
    out += [(norm.beta, "embeddings.LayerNorm.bias", same)]
    if backbone.hidden_dim != backbone.embedding_dim:
        projection = backbone.get_layer("embeddings_projection")
        out += [(projection.kernel, "embeddings_project.weight", dense)]
        out += [(projection.bias, "embeddings_project.bias", same)]
    for i, block in enumerate(backbone.transformer_layers):
        p = f"encoder.layer.{i}."
        attention = block._self_attention_layer
        for name, part in (
            ("query_dense", "attention.self.query"),
            ("key_dense", "attention.self.key"),
            ("value_dense", "attention.self.value"),
            ("output_dense", "attention.output.dense"),
        ):
            layer = getattr(attention, name)
            out += [(layer.kernel, f"{p}{part}.weight", reshaped(layer.kernel))]
            out += [(layer.bias, f"{p}{part}.bias", reshaped(layer.bias))]
        for layer, part in (
            (block._self_attention_layer_norm, "attention.output.LayerNorm"),
            (block._feedforward_layer_norm, "output.LayerNorm"),
        ):
            out += [(layer.gamma, f"{p}{part}.weight", same), (layer.beta, f"{p}{part}.bias", same)]
        for layer, part in (
            (block._feedforward_intermediate_dense, "intermediate.dense"),
            (block._feedforward_output_dense, "output.dense"),
        ):
            out += [
                (layer.kernel, f"{p}{part}.weight", dense),
                (layer.bias, f"{p}{part}.bias", same),
            ]
    return out


def _vocabulary(spec: ModelSpec, vocabulary: Any) -> Any:
    """The vocabulary of a randomly initialised model: the override or the packaged one."""
    if vocabulary is not None:
        return [str(t) for t in vocabulary] if not isinstance(vocabulary, str) else vocabulary
    vocab_id = spec.tokenizer.get("vocabulary", "")
    if vocab_id not in _PACKAGED_VOCABULARIES:
        raise ValueError(
            f"{spec.name} names the vocabulary {vocab_id!r}, which is not shipped with "
            "tfx_textzoo: pass vocabulary=[...] or vocabulary='path/to/vocab.txt'."
        )
    return str(resources.files("tfx_textzoo") / "assets" / _PACKAGED_VOCABULARIES[vocab_id])


def _load_backbone(local: LocalWeights, *, spec: ModelSpec, lowercase: bool, check_arch: bool):
    if local.format == "keras_hub":
        backbone = keras_hub.models.ElectraBackbone.from_preset(local.location)
        preset = keras_hub.models.ElectraTokenizer.from_preset(local.location)
        # Lower-case as transformers does (and strip accents with it), not with NFKC folding.
        lowercase = bool(preset.lowercase or getattr(preset, "do_lower_case", False))
        tokenizer = ElectraWordPieceTokenizer(
            vocabulary=preset.get_vocabulary(), do_lower_case=lowercase, strip_accents=lowercase
        )
    else:
        backbone = convert_hf_checkpoint(local.location)
        tokenizer = hf_tokenizer(local.location, lowercase)
    if check_arch:  # a catalog source of another architecture: the next one is tried
        differences = architecture_differences(spec, backbone)
        if differences:
            raise ArchitectureMismatchError(_mismatch_message(spec, local.location, differences))
    if tokenizer.vocabulary_size() != backbone.vocab_size:
        raise ValueError(
            f"vocabulary has {tokenizer.vocabulary_size()} tokens but the embedding table has "
            f"{backbone.vocab_size} rows"
        )
    return backbone, tokenizer
