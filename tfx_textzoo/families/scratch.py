"""The ``scratch`` family: the lesson's small transformer, trained from scratch.

``TextVectorization -> token + position embedding -> transformer block(s) ->
global average pooling -> dropout -> dense relu -> dropout -> softmax``, as in the
Keras example the lesson uses, with one change that makes it learn on small data:
padding is masked in attention and in the pooling (the lesson averages over up to
hundreds of padding positions, drowning the signal).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from tfx_textzoo.families.base import ZooClassifier, classification_head, pool
from tfx_textzoo.families.common import (
    MaskedAveragePooling,
    check_architecture,
    check_string_tensor,
    compile_classifier,
    zoo_config,
)
from tfx_textzoo.registry import ModelSpec, register_family

#: Overrides that make any scratch entry tiny, for the shared tests (the tokenizer is
#: adapted on the test texts, so there is no tiny tokenizer).
TINY_CONFIG = {
    "vocabulary_size": 64,
    "embedding_dim": 8,
    "num_heads": 2,
    "intermediate_dim": 8,
    "hidden_units": 4,
}
ARCHITECTURE_KEYS = (
    "vocabulary_size",
    "sequence_length",
    "embedding_dim",
    "num_heads",
    "intermediate_dim",
    "num_layers",
    "hidden_units",
    "dropout",
)
# What each number must be (checked before Keras sees them: its messages name its own
# arguments, e.g. ``output_dim`` for embedding_dim). 2 of the vocabulary are padding + OOV.
_ARCHITECTURE_RULES = {
    "vocabulary_size": ("int", 3),
    "sequence_length": ("int", 1),
    "embedding_dim": ("int", 1),
    "num_heads": ("int", 1),
    "intermediate_dim": ("int", 1),
    "num_layers": ("int", 1),
    "hidden_units": ("int", 1),
    "dropout": ("rate",),
}


#: The token between the two texts of a pair. Letters only: "lower_and_strip_punctuation"
#: (the default standardization) lower-cases and deletes ``[]`` and every other ASCII
#: punctuation mark, so ``"[SEP]"`` would become the ordinary word ``"sep"``; ``"xxsep"``
#: stays one token under every standardization and is not an English word.
SEPARATOR = "xxsep"


class NotAdaptedError(RuntimeError):
    """The vectorizer of a from-scratch model has not learned a vocabulary yet."""


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class TransformerBlock(keras.layers.Layer):
    """Post-norm transformer encoder block of the Keras example, with a padding mask.

    Attention uses ``key_dim = embedding_dim`` per head, as the lesson's block does.

    Args:
        embedding_dim: Width of the token vectors.
        num_heads: Attention heads.
        intermediate_dim: Width of the feed-forward layer.
        dropout: Dropout rate after attention and feed-forward.
    """

    def __init__(self, embedding_dim, num_heads, intermediate_dim, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        self.embedding_dim = embedding_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.attention = keras.layers.MultiHeadAttention(
            num_heads, key_dim=embedding_dim, name="attention"
        )
        self.ffn_inner = keras.layers.Dense(intermediate_dim, activation="relu", name="ffn_inner")
        self.ffn_outer = keras.layers.Dense(embedding_dim, name="ffn_outer")
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm1")
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-6, name="norm2")
        self.dropout1 = keras.layers.Dropout(dropout)
        self.dropout2 = keras.layers.Dropout(dropout)

    def build(self, input_shape):  # noqa: D102
        self.attention.build(input_shape, input_shape)
        self.norm1.build(input_shape)
        self.ffn_inner.build(input_shape)
        self.ffn_outer.build((*input_shape[:-1], self.intermediate_dim))
        self.norm2.build(input_shape)
        self.built = True

    def call(self, x, padding_mask=None, training=None):  # noqa: D102
        attention_mask = None
        if padding_mask is not None:
            attention_mask = padding_mask[:, None, :]
        attended = self.attention(x, x, attention_mask=attention_mask, training=training)
        x = self.norm1(x + self.dropout1(attended, training=training))
        ffn = self.ffn_outer(self.ffn_inner(x))
        return self.norm2(x + self.dropout2(ffn, training=training))

    def compute_output_shape(self, input_shape):  # noqa: D102
        return input_shape

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "embedding_dim": self.embedding_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class ScratchBackbone(keras_hub.models.Backbone):
    """Token + position embedding and transformer blocks over ``token_ids`` (0 = padding).

    Outputs a dict with ``sequence_output`` and the masked-mean ``pooled_output``.

    Examples:
        >>> import numpy as np
        >>> backbone = ScratchBackbone(100, 16, 8, 2, 8)
        >>> out = backbone(np.array([[5, 6, 0, 0]]))
        >>> tuple(out["pooled_output"].shape)
        (1, 8)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        num_heads,
        intermediate_dim,
        num_layers=1,
        dropout=0.1,
        dtype=None,
        **kwargs,
    ):
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        embedding = keras_hub.layers.TokenAndPositionEmbedding(
            vocabulary_size, sequence_length, embedding_dim, dtype=dtype, name="embedding"
        )
        padding_mask = keras.ops.not_equal(token_ids, 0)
        x = embedding(token_ids)
        for i in range(num_layers):
            x = TransformerBlock(
                embedding_dim,
                num_heads,
                intermediate_dim,
                dropout,
                dtype=dtype,
                name=f"transformer_block_{i}",
            )(x, padding_mask)
        pooled = MaskedAveragePooling(dtype=dtype, name="pooling")(x, padding_mask)
        super().__init__(
            inputs=token_ids,
            outputs={"sequence_output": x, "pooled_output": pooled},
            dtype=dtype,
            **kwargs,
        )
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.num_layers = num_layers
        self.dropout = dropout

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "sequence_length": self.sequence_length,
            "embedding_dim": self.embedding_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class ScratchPreprocessor(keras_hub.models.Preprocessor):
    """Raw strings -> ``token_ids`` with a ``TextVectorization`` layer (0 = padding).

    The vocabulary is learned from training texts with `adapt`; using the
    preprocessor before that raises `NotAdaptedError`.

    A pair of texts ``(a, b)`` becomes ``a SEPARATOR b`` in one sequence: the tokens of
    ``a``, the id of [`SEPARATOR`][tfx_textzoo.families.scratch.SEPARATOR] (``"xxsep"``),
    the tokens of ``b``; a pair longer than ``sequence_length`` is trimmed round robin
    (as keras-hub's packers trim pairs), so both texts keep tokens. ``adapt`` on pairs
    (``text_pairs=``) learns the separator with the vocabulary.

    Args:
        vocabulary_size: Most tokens kept (including padding and OOV).
        sequence_length: Texts are truncated/padded to this many tokens.
        standardize: ``TextVectorization`` standardization.
        vocabulary: Optional fixed vocabulary (then no adaptation is needed).

    Examples:
        >>> pre = ScratchPreprocessor(vocabulary_size=50, sequence_length=4)
        >>> pre.adapt(["the cat sat", "the dog ran"])
        >>> [str(t) for t in pre.vectorizer.get_vocabulary()[:3]]
        ['', '[UNK]', 'the']
        >>> pre(["the cat"]).numpy().shape
        (1, 4)
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        standardize="lower_and_strip_punctuation",
        vocabulary=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.standardize = standardize
        self.vectorizer = keras.layers.TextVectorization(
            max_tokens=vocabulary_size,
            standardize=standardize,
            output_sequence_length=sequence_length,
            vocabulary=vocabulary,
            name="vectorizer",
        )

    def build(self, input_shape=None):  # noqa: D102
        if not self.vectorizer.built:
            self.vectorizer.build(None)
        self.built = True

    @property
    def is_adapted(self) -> bool:
        """Whether the vectorizer has a vocabulary beyond padding and OOV."""
        with tf.init_scope():  # read the table eagerly, also while tracing a tf.data map
            return int(self.vectorizer.vocabulary_size()) > 2

    def check_adapted(self) -> None:
        """Raise `NotAdaptedError` unless the vocabulary has been learned."""
        if not self.is_adapted:
            raise NotAdaptedError(
                "This from-scratch model's vocabulary is empty: call "
                "model.preprocessor.adapt(train_texts) before fit/predict/evaluate "
                "(tfx_textzoo.finetune does it for you)."
            )

    def adapt(
        self,
        texts: Iterable[str] | tf.data.Dataset,
        batch_size: int = 1024,
        *,
        text_pairs: Iterable[str] | None = None,
    ) -> None:
        """Learn the vocabulary from training texts (and pairs' second texts).

        With ``text_pairs`` each example is the pair ``(texts[i], text_pairs[i])``: the
        vocabulary is learned from both texts and always holds
        [`SEPARATOR`][tfx_textzoo.families.scratch.SEPARATOR] (it replaces the rarest
        token if the vocabulary is full).

        Args:
            texts: Strings (list/array) or a ``tf.data.Dataset`` of strings.
            batch_size: Batch size used to stream a list of texts.
            text_pairs: The second texts of pairs, aligned with ``texts`` (lists only).

        Raises:
            TypeError: If the texts are not strings.
            ValueError: If there are no texts, or ``text_pairs`` is not aligned.

        Examples:
            >>> pre = ScratchPreprocessor(vocabulary_size=50, sequence_length=8)
            >>> pre.adapt(["the cat sat"], text_pairs=["a dog ran"])
            >>> pre.has_separator
            True
        """
        if text_pairs is not None:
            if isinstance(texts, tf.data.Dataset):
                raise TypeError("adapt(text_pairs=...) takes lists of strings, not a dataset.")
            texts, text_pairs = list(texts), list(text_pairs)
            if len(texts) != len(text_pairs):
                raise ValueError(
                    f"adapt() got {len(texts)} texts but {len(text_pairs)} text_pairs; "
                    "each text needs its second text."
                )
            _check_strings(text_pairs, "text_pairs")
            _check_strings(texts, "texts")
            texts = [
                f"{_text(a)} {SEPARATOR} {_text(b)}" for a, b in zip(texts, text_pairs, strict=True)
            ]
        if not isinstance(texts, tf.data.Dataset):
            texts = list(texts)
            if not texts:
                raise ValueError("adapt() needs at least one training text.")
            _check_strings(texts, "texts")
            texts = tf.data.Dataset.from_tensor_slices(np.array(texts, dtype=object)).batch(
                batch_size
            )
        self.vectorizer.adapt(texts)
        if text_pairs is not None and not self.has_separator:
            vocabulary = self.vectorizer.get_vocabulary()
            keep = self.vocabulary_size - 1 if len(vocabulary) >= self.vocabulary_size else None
            self.vectorizer.set_vocabulary([*vocabulary[2:keep], SEPARATOR])
        # Functions traced over this preprocessor (tfx_textzoo.preprocessing) hold the
        # old vocabulary table; they check this count and trace again.
        self.adapt_count = getattr(self, "adapt_count", 0) + 1

    @property
    def has_separator(self) -> bool:
        """Whether the vocabulary holds [`SEPARATOR`][tfx_textzoo.families.scratch.SEPARATOR]."""
        with tf.init_scope():
            return SEPARATOR in self.vectorizer.get_vocabulary()

    def check_separator(self) -> None:
        """Raise a clear error unless the vocabulary can separate the texts of a pair."""
        if not self.has_separator:
            raise ValueError(
                f"This from-scratch model's vocabulary has no pair separator ({SEPARATOR!r}): "
                "it was learned from single texts. Learn it from the pairs: "
                "model.prepare_tokenizer(texts, text_pairs) or "
                "model.preprocessor.adapt(texts, text_pairs=second_texts)."
            )

    def token_ids(self, texts: Any) -> tf.RaggedTensor:
        """The texts' token ids, untruncated and unpadded (``(batch, None)``, ragged).

        Examples:
            >>> pre = ScratchPreprocessor(vocabulary_size=50, sequence_length=2)
            >>> pre.adapt(["the cat sat the cat"])  # the: 2, cat: 3, sat: 4
            >>> pre.token_ids(["The cat sat, the end."]).to_list()
            [[2, 3, 4, 2, 1]]
        """
        self.check_adapted()
        vectorizer = self.vectorizer
        # TextVectorization's own two steps (standardize + split, then the lookup),
        # without its truncation and padding to output_sequence_length.
        ids = vectorizer._lookup_layer.call(vectorizer._preprocess(texts))
        return ids if isinstance(ids, tf.RaggedTensor) else tf.RaggedTensor.from_tensor(ids)

    def pack(self, segments: Any, sequence_length: int | None = None) -> tf.Tensor:
        """Token ids of one text, or of a pair joined by the separator, padded with 0.

        Args:
            segments: A ragged ``(batch, None)`` tensor of token ids, or a tuple of one
                or two of them.
            sequence_length: Padded length (default: ``self.sequence_length``).

        Returns:
            ``(batch, sequence_length)`` token ids; a longer text keeps its first tokens,
            a longer pair is trimmed round robin.
        """
        import tensorflow_text as tf_text

        length = int(sequence_length or self.sequence_length)
        segments = tuple(segments) if isinstance(segments, tuple | list) else (segments,)
        if len(segments) == 1:
            joined = segments[0][:, :length]
        elif len(segments) == 2:
            self.check_separator()
            a, b = tf_text.RoundRobinTrimmer(length - 1).trim(list(segments))
            sep = self.token_ids(tf.constant([SEPARATOR])).flat_values[:1]
            sep = tf.cast(tf.repeat(sep[None, :], a.nrows(), axis=0), a.dtype)
            joined = tf.concat([a, sep, b], axis=1)
        else:
            raise ValueError(f"one text or a pair of texts, not {len(segments)} segments")
        return joined.to_tensor(default_value=0, shape=[None, length])

    def call(self, x, y=None, sample_weight=None):  # noqa: D102
        segments = x if isinstance(x, tuple) else (x,)
        for segment in segments:
            check_string_tensor(segment)
        self.check_adapted()
        if len(segments) == 1:
            token_ids = self.vectorizer(x)
        else:
            token_ids = self.pack(tuple(self.token_ids(segment) for segment in segments))
        return keras.utils.pack_x_y_sample_weight(token_ids, y, sample_weight)

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "sequence_length": self.sequence_length,
            "standardize": self.standardize,
        }


def _text(value: str | bytes) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _check_strings(texts: list, what: str) -> None:
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str | bytes)]
    if bad:
        raise TypeError(
            f"adapt() takes strings; {what} at positions {bad[:10]} are "
            f"{type(texts[bad[0]]).__name__}."
        )


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class ScratchClassifier(ZooClassifier, keras_hub.models.TextClassifier):
    """Backbone -> dropout -> dense relu -> dropout -> softmax, with raw-string preprocessing.

    Args:
        backbone: A `ScratchBackbone`.
        num_classes: Number of classes.
        preprocessor: A `ScratchPreprocessor`.
        hidden_units: Width of the dense relu layer (20 in the lesson).
        dropout: Dropout rate of the head.
        labels: Optional class names.
        model_name: The zoo name the model was built from.
    """

    backbone_cls = ScratchBackbone
    preprocessor_cls = ScratchPreprocessor
    #: ``finetune`` skips the frozen-backbone phase: there is nothing pretrained to keep.
    has_pretrained_backbone = False

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        hidden_units=20,
        dropout=0.1,
        labels=None,
        model_name=None,
        task=None,
        **kwargs,
    ):
        self.backbone = backbone
        self.preprocessor = preprocessor
        inputs = backbone.input
        features = pool(backbone(inputs), None, "pooler")
        outputs, _ = classification_head(
            features,
            num_classes,
            dropout=dropout,
            task=task,
            hidden_units=hidden_units,
            names=("head_dropout_1", "head_hidden", "head_dropout_2", "probabilities"),
            kernel_initializer="glorot_uniform",
        )
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.num_classes = num_classes
        self.hidden_units = hidden_units
        self.dropout = dropout
        self.set_contract(labels=labels, model_name=model_name, features=features, task=task)

    def prepare_tokenizer(self, texts: list[str], text_pairs: list[str] | None = None) -> None:
        """Learn the vocabulary from ``texts`` (and pairs) unless it has been learned already.

        With ``text_pairs`` the separator is learned too (see
        [`ScratchPreprocessor.adapt`][tfx_textzoo.families.scratch.ScratchPreprocessor.adapt]).
        """
        if self.preprocessor is not None and not self.preprocessor.is_adapted:
            self.preprocessor.adapt(texts, text_pairs=text_pairs)

    def text_token_ids(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """The texts' token ids, untruncated (the contract: see `ZooClassifier`)."""
        return self.preprocessor.token_ids(texts)

    def pack_token_ids(self, segments, sequence_length=None) -> dict[str, tf.Tensor]:
        """``token_ids`` of one or two cut sequences (the contract: see `ZooClassifier`).

        No special tokens; a pair is joined by
        [`SEPARATOR`][tfx_textzoo.families.scratch.SEPARATOR].
        """
        return {"token_ids": self.preprocessor.pack(tuple(segments), sequence_length)}

    def transformer_layers(self) -> list[keras.layers.Layer]:
        """The backbone's `TransformerBlock` layers, bottom first."""
        return [layer for layer in self.backbone.layers if isinstance(layer, TransformerBlock)]

    # Checked before Keras traces the input pipeline, so the error reaches the caller as is.
    def fit(self, *args, **kwargs):  # noqa: D102
        if self.preprocessor is not None:
            self.preprocessor.check_adapted()
        return super().fit(*args, **kwargs)

    def evaluate(self, *args, **kwargs):  # noqa: D102
        if self.preprocessor is not None:
            self.preprocessor.check_adapted()
        return super().evaluate(*args, **kwargs)

    def predict(self, *args, **kwargs):  # noqa: D102
        if self.preprocessor is not None:
            self.preprocessor.check_adapted()
        return super().predict(*args, **kwargs)

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "hidden_units": self.hidden_units,
            "dropout": self.dropout,
            **zoo_config(self.labels, self.model_name),
        }


def count_params(arch: Mapping[str, Any], num_classes: int) -> int:
    """Parameter count of a from-scratch model with a ``num_classes`` head.

    Examples:
        >>> count_params({"vocabulary_size": 20000, "sequence_length": 128,
        ...   "embedding_dim": 32, "num_heads": 2, "intermediate_dim": 32,
        ...   "num_layers": 1, "hidden_units": 20}, 4)
        655496
    """
    e, heads, f = arch["embedding_dim"], arch["num_heads"], arch["intermediate_dim"]
    embeddings = (arch["vocabulary_size"] + arch["sequence_length"]) * e
    attention = 3 * (e * heads * e + heads * e) + heads * e * e + e
    block = attention + (e * f + f) + (f * e + e) + 4 * e
    u = arch["hidden_units"]
    head = e * u + u + u * num_classes + num_classes
    return embeddings + arch.get("num_layers", 1) * block + head


@register_family(
    "scratch",
    count_params=count_params,
    architecture_keys=ARCHITECTURE_KEYS,
    tiny_config=TINY_CONFIG,
)
def build(
    spec: ModelSpec,
    *,
    num_classes: int,
    labels: list[str] | None,
    weights: Any,
    sequence_length: int | None,
    vocabulary: Any = None,
    task: Any = None,
    **overrides: Any,
) -> ScratchClassifier:
    """Build a compiled from-scratch classifier for ``spec`` (see `tfx_textzoo.load`).

    Args:
        spec: The catalog entry.
        num_classes: Number of classes.
        labels: Optional class names.
        weights: ``"auto"`` or None: a from-scratch model has no pretrained weights.
        sequence_length: Tokens per text (default: the entry's).
        vocabulary: Optional fixed vocabulary (list of tokens); otherwise call
            ``model.preprocessor.adapt(texts)`` before training.
        task: The [`Task`][tfx_textzoo.tasks.Task] (None: single-label).
        **overrides: Architecture numbers (``embedding_dim``, ``num_heads``,
            ``intermediate_dim``, ``num_layers``, ``hidden_units``, ``dropout``,
            ``vocabulary_size``).

    Returns:
        A compiled `ScratchClassifier`.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("scratch-tiny", num_classes=2)
        >>> model.preprocessor.adapt(["good film", "bad film"])
        >>> model.predict(["good"], verbose=0).shape
        (1, 2)
    """
    if weights not in ("auto", None):
        raise ValueError(
            f"{spec.name} is trained from scratch and has no pretrained weights "
            f"(got weights={weights!r}); use the default or weights=None."
        )
    unknown = set(overrides) - set(ARCHITECTURE_KEYS)
    if unknown:
        raise TypeError(
            f"Unknown argument(s) for a {spec.family} model: {sorted(unknown)}. "
            f"Allowed overrides: {sorted(ARCHITECTURE_KEYS)}."
        )
    arch = {**spec.architecture, **overrides}
    given = set(overrides)
    if sequence_length is not None:
        arch["sequence_length"] = sequence_length
        given.add("sequence_length")
    arch = check_architecture(arch, given, spec.name, _ARCHITECTURE_RULES)
    preprocessor = ScratchPreprocessor(
        arch["vocabulary_size"],
        arch["sequence_length"],
        standardize=spec.tokenizer.get("standardize", "lower_and_strip_punctuation"),
        vocabulary=vocabulary,
    )
    backbone = ScratchBackbone(
        arch["vocabulary_size"],
        arch["sequence_length"],
        arch["embedding_dim"],
        arch["num_heads"],
        arch["intermediate_dim"],
        arch["num_layers"],
        arch["dropout"],
    )
    model = ScratchClassifier(
        backbone,
        num_classes,
        preprocessor=preprocessor,
        hidden_units=arch["hidden_units"],
        dropout=arch["dropout"],
        labels=labels,
        model_name=spec.name,
        task=task,
    )
    compile_classifier(model, spec.finetune, pretrained=False)
    return model
