"""The ``xlm-roberta`` family: keras-hub ``XLMRobertaBackbone`` + SentencePiece + RoBERTa's head.

Covers XLM-RoBERTa base/large (Conneau et al. 2020) and the encoders of its architecture
that keras-hub ships as presets: multilingual E5 base/large and BGE-M3. Everything but the
tokenizer is the ``roberta`` family's (`tfx_textzoo.families.roberta`): the same
backbone, converter and head (transformers' ``XLMRobertaForSequenceClassification`` head is
``RobertaClassificationHead``). The tokenizer is SentencePiece BPE with fairseq's id
offset (``<s>=0 <pad>=1 </s>=2 <unk>=3``, every SentencePiece id + 1, ``<mask>`` last),
as keras-hub's ``XLMRobertaTokenizer`` implements it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import keras_hub

from tfx_textzoo.families.common import SeedSafeSentencePiece, check_string_tensor
from tfx_textzoo.families.roberta import (
    ARCHITECTURE_KEYS,
    TINY_CONFIG,
    Flavour,
    RobertaClassifierBase,
    build_classifier,
    count_params,
    load_hf_classifier,
)
from tfx_textzoo.registry import ModelSpec, register_family

#: The Hugging Face files of an XLM-R checkpoint besides config.json and the weights.
HF_FILES = ("sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json")
#: The pieces of the tiny SentencePiece BPE model (for the shared tests), in merge
#: priority order after SentencePiece's own ``<unk> <s> </s>``: a few merged pieces, the
#: word boundary ``▁`` and every printable ASCII character.
TINY_VOCABULARY = (
    "▁t",
    "he",
    "▁the",
    "▁a",
    "an",
    "in",
    "er",
    "on",
    "es",
    "▁",
    *string.ascii_letters,
    *string.digits,
    *string.punctuation,
)


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class XLMRobertaTokenizer(SeedSafeSentencePiece, keras_hub.models.XLMRobertaTokenizer):
    """keras-hub's XLM-R tokenizer whose SentencePiece model survives a seed reset.

    See [`SeedSafeSentencePiece`][tfx_textzoo.families.common.SeedSafeSentencePiece].

    Examples:
        >>> import keras, tensorflow as tf
        >>> from tfx_textzoo.families.xlm_roberta import (
        ...     TINY_VOCABULARY, XLMRobertaTokenizer, sentencepiece_proto)
        >>> tokenizer = XLMRobertaTokenizer(proto=sentencepiece_proto(TINY_VOCABULARY))
        >>> before = [int(i) for i in tokenizer("the team")]
        >>> keras.utils.set_random_seed(0)  # deletes the eager SentencePiece resource
        >>> [int(i) for i in tokenizer("the team")] == before
        True
    """


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class XLMRobertaPreprocessor(keras_hub.models.XLMRobertaTextClassifierPreprocessor):
    """keras-hub's XLM-R classifier preprocessor that rejects non-string input clearly.

    A pair ``(a, b)`` is packed ``<s> a </s></s> b </s>`` (no segment ids), as transformers.
    """

    def call(self, x, y=None, sample_weight=None):  # noqa: D102
        for segment in x if isinstance(x, tuple) else (x,):
            check_string_tensor(segment)
        return super().call(x, y, sample_weight)


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class XLMRobertaClassifier(RobertaClassifierBase, keras_hub.models.XLMRobertaTextClassifier):
    """keras-hub's ``XLMRobertaTextClassifier`` with a choice of pooling, class names, zoo name.

    Everything is in [`RobertaClassifierBase`][tfx_textzoo.families.roberta.RobertaClassifierBase]:
    its base holds the graph (transformers' ``RobertaClassificationHead``), config and contract.
    """

    preprocessor_cls = XLMRobertaPreprocessor


def sentencepiece_proto(pieces: Any) -> bytes:
    """A SentencePiece BPE model (serialised) of ``pieces``, earlier pieces merged first.

    SentencePiece's ``<unk> <s> </s>`` (ids 0-2, as in XLM-R's model) come first; the
    normaliser is the identity (no NFKC), with the word-boundary prefix ``▁``.

    Examples:
        >>> import sentencepiece
        >>> model = sentencepiece.SentencePieceProcessor(
        ...     model_proto=sentencepiece_proto(["▁", "a", "b", "ab"]))
        >>> model.encode("ab ba", out_type=str)
        ['▁', 'ab', '▁', 'b', 'a']
    """
    from sentencepiece import sentencepiece_model_pb2 as model_pb2

    model = model_pb2.ModelProto()
    model.trainer_spec.model_type = model_pb2.TrainerSpec.BPE
    model.trainer_spec.unk_id, model.trainer_spec.bos_id = 0, 1
    model.trainer_spec.eos_id, model.trainer_spec.pad_id = 2, -1
    model.normalizer_spec.name = "identity"
    model.normalizer_spec.add_dummy_prefix = True
    model.normalizer_spec.remove_extra_whitespaces = True
    model.normalizer_spec.escape_whitespaces = True
    unknown, control = (
        model_pb2.ModelProto.SentencePiece.UNKNOWN,
        model_pb2.ModelProto.SentencePiece.CONTROL,
    )
    for piece, kind in (("<unk>", unknown), ("<s>", control), ("</s>", control)):
        entry = model.pieces.add()
        entry.piece, entry.type, entry.score = piece, kind, 0.0
    for index, piece in enumerate(dict.fromkeys(str(p) for p in pieces)):
        entry = model.pieces.add()
        entry.piece, entry.score = piece, -float(index)
    return model.SerializeToString()


def _hf_tokenizer(directory: Path) -> XLMRobertaTokenizer:
    proto = directory / "sentencepiece.bpe.model"
    if not proto.exists():
        raise FileNotFoundError(f"{directory} has no sentencepiece.bpe.model")
    return XLMRobertaTokenizer(proto=str(proto))


def _random_tokenizer(overrides: Mapping[str, Any]) -> XLMRobertaTokenizer:
    if len(overrides) != 1:
        raise ValueError(
            "pass one of proto= (a SentencePiece model: path or bytes) or vocabulary= "
            f"(a list of SentencePiece pieces), not {sorted(overrides)}"
        )
    if "vocabulary" in overrides:
        return XLMRobertaTokenizer(proto=sentencepiece_proto(overrides["vocabulary"]))
    proto = overrides["proto"]
    return XLMRobertaTokenizer(proto=proto if isinstance(proto, bytes) else str(proto))


def _preset_tokenizer(location: str) -> XLMRobertaTokenizer:
    """A keras-hub preset's tokenizer (saved as keras-hub's class) as this family's."""
    return XLMRobertaTokenizer(
        proto=keras_hub.models.XLMRobertaTokenizer.from_preset(location).proto
    )


FLAVOUR = Flavour(
    family="xlm-roberta",
    backbone_cls=keras_hub.models.XLMRobertaBackbone,
    tokenizer_cls=XLMRobertaTokenizer,
    preset_tokenizer=_preset_tokenizer,
    preprocessor_cls=XLMRobertaPreprocessor,
    classifier_cls=XLMRobertaClassifier,
    hf_model_types=("xlm-roberta",),
    hf_tokenizer=_hf_tokenizer,
    random_tokenizer=_random_tokenizer,
    tokenizer_arguments=("proto", "vocabulary"),
    default_entry="xlm-roberta-base",
)


def hf_classifier(directory: Path, config: dict, *, labels: list[str]) -> XLMRobertaClassifier:
    """A transformers ``XLMRobertaForSequenceClassification`` checkpoint as a zoo classifier.

    Args:
        directory: The checkpoint's directory (config.json, model.safetensors,
            sentencepiece.bpe.model).
        config: Its parsed config.json.
        labels: The class names, in id order.

    Returns:
        A compiled [`XLMRobertaClassifier`][tfx_textzoo.families.xlm_roberta.XLMRobertaClassifier]
        with the trained head, ``model_name`` None.

    Examples:
        >>> import json
        >>> from pathlib import Path
        >>> import tfx_textzoo as textzoo
        >>> fixture = Path(textzoo.__file__).parents[1] / "tests/fixtures/hf/xlm-roberta/classifier"
        >>> config = json.loads((fixture / "config.json").read_text())
        >>> model = hf_classifier(fixture, config, labels=["NEG", "NEU", "POS"])
        >>> model.labels, model.predict(["a"], verbose=0).shape
        (['NEG', 'NEU', 'POS'], (1, 3))
    """
    return load_hf_classifier(FLAVOUR, directory, config, labels=labels)


@register_family(
    "xlm-roberta",
    count_params=count_params,
    architecture_keys=ARCHITECTURE_KEYS,
    hf_files=HF_FILES,
    tiny_config=TINY_CONFIG,
    tiny_tokenizer={"vocabulary": list(TINY_VOCABULARY)},
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
) -> XLMRobertaClassifier:
    """Build a compiled XLM-R classifier for ``spec`` (see [`load`][tfx_textzoo.load]).

    Args:
        spec: The catalog entry.
        num_classes: Number of classes.
        labels: Optional class names.
        weights: ``"auto"``, None (random init) or a weights location (a keras-hub preset,
            a Hugging Face directory or ``hf://`` repository).
        sequence_length: Tokens per text (default: the entry's ``tokenizer.sequence_length``).
        **overrides: With ``weights=None``: ``proto`` (a SentencePiece model, path or
            bytes) or ``vocabulary`` (SentencePiece pieces, see [`sentencepiece_proto`]
            [tfx_textzoo.families.xlm_roberta.sentencepiece_proto]) instead of the entry's
            tokenizer, and architecture numbers (``num_layers``, ``hidden_dim``,
            ``num_heads``, ``intermediate_dim``, ``max_sequence_length``); always allowed:
            ``dropout`` (of the head), ``pooling`` (``"cls"`` or ``"mean"``) and
            ``allow_architecture_mismatch``.

    Returns:
        A compiled XLM-R classifier whose preprocessor takes raw strings (or pairs).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.xlm_roberta import TINY_CONFIG, TINY_VOCABULARY
        >>> model = textzoo.load("xlm-roberta-base", num_classes=3, weights=None,
        ...                      vocabulary=TINY_VOCABULARY, **TINY_CONFIG)
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
