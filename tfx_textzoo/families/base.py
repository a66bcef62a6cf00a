"""The family contract: what the core (training, inference, evaluation, saving) reads.

Every family's classifier derives from `ZooClassifier` and builds its head with
`classification_head`; every family module registers itself with
[`tfx_textzoo.registry.register_family`][tfx_textzoo.registry.register_family] (builder, parameter
count, architecture
keys, Hugging Face files, converters, tiny test configuration and tokenizer). Nothing
in the core names a family: it reads the attributes and methods documented here, and
nothing else.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import tree

from tfx_textzoo import _checks
from tfx_textzoo.errors import InvalidArgumentTypeError
from tfx_textzoo.families.common import CompileFromConfigMixin, MaskedAveragePooling
from tfx_textzoo.tasks import Task

#: The head's pooling choices: ``"cls"`` the first token's vector of the sequence output,
#: ``"pooler"`` the backbone's own ``pooled_output`` (for BERT the tanh dense on
#: ``[CLS]`` it was pretrained with), ``"mean"`` the mean over the non-padding tokens.
POOLINGS = ("cls", "pooler", "mean")


class ZooClassifier(CompileFromConfigMixin):
    """The base of every zoo classifier: the one place the family contract lives.

    A family's classifier is ``preprocessor (raw strings) -> backbone -> pooling -> head``,
    a keras-hub ``TextClassifier`` with probability outputs. It derives from this mixin
    first, then from its keras-hub class (``class MyClassifier(ZooClassifier,
    keras_hub.models.TextClassifier)``: Keras rewrites a functional model's bases, so
    this is a mixin, not a subclass of ``TextClassifier``), builds its graph, then calls
    `set_contract`.

    What the core reads, and nothing else:

    - ``labels``: class names (``labels[i]`` names class ``i``) or None;
    - ``task``: the [`Task`][tfx_textzoo.tasks.Task] (single- or multi-label, one text or a
      pair, thresholds, truncation); the head is built with ``task.activation``, and the
      task is saved in the model's config;
    - ``model_name``: the catalog name the model was built from (None for none);
    - ``features_output``: the tensor the head reads (the pooled features); ``finetune``
      computes it once for the frozen phase and trains the head on it;
    - ``has_pretrained_backbone`` (class attribute): False for families trained from
      scratch; ``finetune`` then skips the frozen phase;
    - `prepare_tokenizer`: called by ``finetune`` with the training texts (and their
      second texts for pairs; a tokenizer that learns its vocabulary from them does it
      there);
    - `text_token_ids` and `pack_token_ids`: the two halves of the preprocessor that
      long texts need ([`tfx_textzoo.preprocessing`][tfx_textzoo.preprocessing] cuts
      between them: ``"tail"`` and ``"head+tail"`` truncation, overlapping windows).
      `text_token_ids` gives a batch of texts' token ids without special tokens and
      without truncation; `pack_token_ids` adds the special tokens to one or two
      (already cut) token sequences per example and pads them to the model's input
      features. ``pack_token_ids(text_token_ids(texts))`` is what the preprocessor
      gives for texts that fit. The defaults serve keras-hub
      ``TextClassifierPreprocessor`` subclasses (a tokenizer and a
      ``MultiSegmentPacker``); a family whose preprocessor is something else overrides
      both (``scratch`` does). How many special tokens a text gets is read by packing an
      empty sequence, so nothing here names a family's specials;
    - `freeze_unused`: called after the backbone is made trainable again, to keep
      frozen what the head does not read (BERT's pooler under mean pooling);
    - `layer_groups`: the trainable variables in groups, embeddings first, then one
      group per transformer layer, the top (pooler and head) last: layer-wise
      learning-rate decay gives group ``i`` of ``n`` the factor ``decay ** (n - 1 - i)``.
      The default reads `transformer_layers`; override either;
    - ``architecture`` / ``architecture_overrides``: the architecture numbers as built and
      where they differ from the catalog entry (None where a family does not say);
    - `pooled_features` (optional): the head's features computed without work the head
      never reads (a classifier that reads ``[CLS]`` needs the last layer only at
      position 0). When it returns a tensor, the model's ``call`` (Keras ``fit`` and
      ``predict``, export) runs it and then ``head_layers``, and `shortcut_outputs` wires
      it into the graphs ``finetune`` trains and ``textzoo.predict`` runs; the functional
      graph stays the model's structure (saving, ``features_output``). The default
      returns None: the graph runs.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.base import ZooClassifier
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> isinstance(model, ZooClassifier), model.model_name, model.has_pretrained_backbone
        (True, 'small-bert-L2-H128', True)
        >>> [len(group) for group in model.layer_groups()]
        [5, 16, 4]
    """

    #: Whether the backbone can carry pretrained weights (then finetune's phase 1 runs).
    has_pretrained_backbone: bool = True
    #: Architecture numbers in which the model differs from its catalog entry, or None.
    architecture_overrides: dict[str, Any] | None = None

    def set_contract(
        self, *, labels: Any, model_name: str | None, features: Any, task: Any = None
    ) -> None:
        """Record the contract attributes (call at the end of ``__init__``).

        ``task`` is a [`Task`][tfx_textzoo.tasks.Task] or its config (None: single-label);
        the head must have been built with its ``activation``.
        """
        self.features_output = features
        self.labels = list(labels) if labels else None
        self.model_name = model_name
        self.task = Task.from_config(task)
        self.activation = keras.activations.get(self.task.activation)

    def get_config(self):  # noqa: D102
        return {**super().get_config(), "task": self.task.to_config()}

    #: The head's layers in order (features in, outputs out), for `pooled_features`.
    head_layers: tuple[keras.layers.Layer, ...] = ()

    def pooled_features(self, inputs: dict[str, Any], training: Any = None) -> Any:
        """The head's features computed the cheapest exact way, or None for the graph.

        Args:
            inputs: The model's inputs by name (``token_ids``, ``padding_mask``, ...).
            training: Whether dropout is on.
        """
        return None

    def shortcut_outputs(self, features_only: bool = False) -> Any:
        """The model's output (or the head's features) wired through `pooled_features`.

        A symbolic tensor on the model's inputs, for a plain Keras model of the same
        layers that runs the shortcut (``keras.Model(model.inputs, [outputs])``); None when
        the family has no shortcut for this model (the graph's own outputs then).

        Examples:
            >>> import keras
            >>> import tfx_textzoo as textzoo
            >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=2)
            >>> core = keras.Model(model.inputs, [model.shortcut_outputs()])
            >>> len(core.weights) == len(model.weights)
            True
        """
        if not self.head_layers:
            return None
        features = self.pooled_features(dict(self.input))
        if features is None or features_only:
            return features
        for layer in self.head_layers:
            features = layer(features)
        return features

    def call(self, inputs, training=None, mask=None, **kwargs):  # noqa: D102
        no_mask = mask is None or all(leaf is None for leaf in tree.flatten(mask))
        if no_mask and not kwargs and self.head_layers and isinstance(inputs, dict):
            named = tree.pack_sequence_as(self._inputs_struct, self._standardize_inputs(inputs))
            features = self.pooled_features(named, training=training)
            if features is not None:
                for layer in self.head_layers:
                    features = layer(features, training=training)
                return features
        return super().call(inputs, training=training, mask=mask, **kwargs)

    @property
    def architecture(self) -> dict[str, int] | None:
        """The architecture numbers as built (None where the family does not say)."""
        return None

    def freeze_unused(self) -> None:
        """Keep frozen what the head does not read (default: nothing)."""

    def prepare_tokenizer(self, texts: list[str], text_pairs: list[str] | None = None) -> None:
        """Learn what the tokenizer learns from training texts, if it has not yet.

        ``finetune`` calls it with the training texts (and, for a pair task, the second
        texts, aligned with them) before tokenizing them. The default does nothing (a
        pretrained tokenizer); the ``scratch`` family adapts its vocabulary.
        """

    def text_token_ids(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """Token ids of a batch of texts: no special tokens, no truncation, no padding.

        The default runs the preprocessor's own ``call`` with its ``packer`` swapped for
        one that only records what it is given, so whatever the preprocessor does to a
        text before packing (DistilBERT's text cleaning, string checks) is kept. Call it
        inside a ``tf.function`` (keras-hub's preprocessors take their TensorFlow path
        there). A family whose preprocessor has no ``packer`` overrides it.

        Args:
            texts: A string tensor of shape ``(batch,)``.

        Returns:
            An int ``tf.RaggedTensor`` of shape ``(batch, None)``.

        Examples:
            >>> import tensorflow as tf
            >>> import tfx_textzoo as textzoo
            >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
            >>> ids = tf.function(model.text_token_ids)(tf.constant(["the team won"]))
            >>> ids.to_list() == [[int(i) for i in model.preprocessor.tokenizer("the team won")]]
            True
        """
        preprocessor = _packing_preprocessor(self)
        packer = preprocessor.packer
        capture = _RecordingPacker()
        object.__setattr__(preprocessor, "packer", capture)  # no Keras layer tracking
        try:
            preprocessor.call(texts)
        finally:
            object.__setattr__(preprocessor, "packer", packer)
        (ids,) = capture.segments
        return tf.RaggedTensor.from_tensor(ids) if isinstance(ids, tf.Tensor) else ids

    def pack_token_ids(
        self, segments: tuple[tf.RaggedTensor, ...], sequence_length: int | None = None
    ) -> dict[str, tf.Tensor]:
        """The model's input features for one or two token sequences per example.

        Special tokens are added as the preprocessor adds them (``[CLS] a [SEP]``,
        ``[CLS] a [SEP] b [SEP]``, ``<s> a </s></s> b </s>``, ...) and every row is padded
        to ``sequence_length``. Sequences that do not fit are trimmed as the preprocessor
        trims them (round robin over the segments): cut them first to keep other
        tokens. The default uses the preprocessor's ``MultiSegmentPacker``;
        ``padding_mask`` is ``token_ids != tokenizer.pad_token_id`` and ``segment_ids``
        the packer's, and only the features the model takes are returned (RoBERTa,
        XLM-R and DeBERTa-v3 take no segment ids). Call it inside a ``tf.function``.

        Args:
            segments: One or two int ``tf.RaggedTensor`` of shape ``(batch, None)``
                (token ids from `text_token_ids`, possibly cut).
            sequence_length: Padded length (default: the preprocessor's).

        Returns:
            Model input name -> dense tensor of shape ``(batch, sequence_length)``.

        Examples:
            >>> import tensorflow as tf
            >>> import tfx_textzoo as textzoo
            >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
            >>> pack = tf.function(model.pack_token_ids)
            >>> out = pack((tf.ragged.constant([[7, 8]]), tf.ragged.constant([[9]])), 8)
            >>> out["token_ids"].numpy().tolist(), out["segment_ids"].numpy().tolist()
            ([[101, 7, 8, 102, 9, 102, 0, 0]], [[0, 0, 0, 0, 1, 1, 0, 0]])
        """
        preprocessor = _packing_preprocessor(self)
        token_ids, segment_ids = preprocessor.packer(
            tuple(segments), sequence_length=sequence_length or preprocessor.sequence_length
        )
        pad = tf.cast(preprocessor.tokenizer.pad_token_id, token_ids.dtype)
        features = {
            "token_ids": token_ids,
            "padding_mask": tf.not_equal(token_ids, pad),
            "segment_ids": segment_ids,
        }
        names = [t.name for t in self.inputs]
        missing = [name for name in names if name not in features]
        if missing:
            raise ValueError(
                f"The model takes inputs {missing} that the default pack_token_ids does not "
                "make (it makes token_ids, padding_mask and segment_ids): its family must "
                "override pack_token_ids."
            )
        return {name: features[name] for name in names}

    def transformer_layers(self) -> list[keras.layers.Layer]:
        """The backbone's repeated layers, bottom first (one entry per depth).

        The default is keras-hub's ``backbone.transformer_layers``. A layer shared across
        depths (ALBERT) is listed once per depth it is used at.
        """
        return list(getattr(self.backbone, "transformer_layers", None) or [])

    def layer_groups(self) -> list[list[keras.Variable]]:
        """Trainable variables grouped bottom-up: embeddings, each transformer layer, top.

        Backbone variables of layers before the first transformer layer are the
        embeddings; those of layers after it (the pooler) and the head's are the top.
        A shared layer's variables are in every group it is used at (see
        [`layer_decay_multipliers`][tfx_textzoo.training.layer_decay_multipliers] for what decay
        does then).
        """
        blocks = self.transformer_layers()
        block_ids = {id(layer) for layer in blocks}
        in_blocks = {id(v) for layer in blocks for v in layer.trainable_variables}
        embeddings: list[keras.Variable] = []
        seen_block = False
        for layer in self.backbone.layers:
            if id(layer) in block_ids:
                seen_block = True
                continue
            if not seen_block:
                embeddings += [v for v in layer.trainable_variables if id(v) not in in_blocks]
        taken = in_blocks | {id(v) for v in embeddings}
        top = [v for v in self.trainable_variables if id(v) not in taken]
        groups = [embeddings, *[list(layer.trainable_variables) for layer in blocks], top]
        return [_unique(group) for group in groups]


class _RecordingPacker:
    """Stands in for a preprocessor's packer: records the segments, returns placeholders."""

    def __init__(self):
        self.segments: tuple | None = None

    def __call__(self, inputs, *args, **kwargs):
        self.segments = inputs if isinstance(inputs, tuple) else (inputs,)
        first = self.segments[0]
        rows = first.nrows() if isinstance(first, tf.RaggedTensor) else tf.shape(first)[0]
        placeholder = tf.zeros(tf.stack([tf.cast(rows, "int32"), 1]), "int32")
        return placeholder, placeholder


def _packing_preprocessor(model: Any) -> Any:
    """The model's preprocessor, built (keras-hub makes its packer in ``build``)."""
    preprocessor = getattr(model, "preprocessor", None)
    if preprocessor is None:
        raise ValueError("The model has no preprocessor, so it cannot take raw texts.")
    if not hasattr(preprocessor, "packer") or not hasattr(preprocessor, "tokenizer"):
        raise TypeError(
            f"{type(preprocessor).__name__} has no tokenizer and packer, so the default "
            "text_token_ids / pack_token_ids cannot split it: its family must override them."
        )
    if preprocessor.packer is None:
        preprocessor.build(None)
    return preprocessor


def check_zoo_classifier(model: Any, what: str) -> None:
    """Raise a clear error unless ``model`` follows the contract (a `ZooClassifier`).

    Examples:
        >>> from tfx_textzoo.families.base import check_zoo_classifier
        >>> check_zoo_classifier("bert-tiny", "finetune")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentTypeError: model must be a tfx_textzoo classifier...
    """
    if not isinstance(model, ZooClassifier):
        raise InvalidArgumentTypeError(
            "model",
            model,
            f"a tfx_textzoo classifier (from tfx_textzoo.load) for {what}",
        )


def classification_head(
    features: Any,
    num_classes: int,
    *,
    dropout: float,
    activation: Any = "softmax",
    task: Any = None,
    hidden_units: int | None = None,
    hidden_activation: Any = "relu",
    input_dropout: bool = True,
    dtype: Any = None,
    names: tuple[str, ...] = ("classifier_dropout", "logits"),
    kernel_initializer: Any = None,
) -> tuple[Any, list[keras.layers.Layer]]:
    """The zoo's one head: [dropout] -> [dense -> dropout] -> dense ``num_classes``.

    It covers the heads of transformers' ``*ForSequenceClassification`` models: BERT
    and ALBERT (pooler, then dropout -> output), DistilBERT (``hidden_units`` with relu,
    ``input_dropout=False``), RoBERTa/XLM-R (tanh), ELECTRA and DeBERTa (gelu).

    Args:
        features: The pooled features (see `pool`).
        num_classes: Width of the output layer.
        dropout: Dropout rate before each dense layer.
        activation: Activation of the output layer (ignored when ``task`` is given).
        task: The model's [`Task`][tfx_textzoo.tasks.Task] (or its config): the output
            activation is its ``activation`` (softmax, or sigmoid for multi-label).
        hidden_units: Width of an optional hidden dense layer (None: no hidden layer).
        hidden_activation: Activation of the hidden layer (``"relu"``, ``"tanh"``,
            ``"gelu"``: Keras' ``"gelu"`` is the exact erf form transformers uses).
        input_dropout: Whether a dropout comes first (DistilBERT's head has none: its
            first layer is the hidden dense).
        dtype: The backbone's dtype policy.
        names: Layer names: ``(dropout, output)``, or with ``hidden_units``
            ``(dropout, hidden, dropout, output)`` (without the first dropout when
            ``input_dropout=False``). Families keep their historical names, so weights
            saved before stay loadable.
        kernel_initializer: Of the output layer (default: truncated normal, stddev 0.02,
            as BERT's heads).

    Returns:
        ``(outputs, layers)``: the output tensor and the head's layers in order.

    Examples:
        >>> import keras
        >>> from tfx_textzoo.families.base import classification_head
        >>> out, layers = classification_head(keras.Input((8,)), 3, dropout=0.1)
        >>> tuple(out.shape), [layer.name for layer in layers]
        ((None, 3), ['classifier_dropout', 'logits'])
    """
    if task is not None:
        activation = Task.from_config(task).activation
    names = list(names)
    layers: list[keras.layers.Layer] = []
    if input_dropout:
        layers.append(keras.layers.Dropout(dropout, dtype=dtype, name=names.pop(0)))
    if hidden_units is not None:
        layers += [
            keras.layers.Dense(
                hidden_units, activation=hidden_activation, dtype=dtype, name=names.pop(0)
            ),
            keras.layers.Dropout(dropout, dtype=dtype, name=names.pop(0)),
        ]
    layers.append(
        keras.layers.Dense(
            num_classes,
            kernel_initializer=kernel_initializer
            or keras.initializers.TruncatedNormal(stddev=0.02),
            activation=activation,
            dtype=dtype,
            name=names[-1],
        )
    )
    x = features
    for layer in layers:
        x = layer(x)
    return x, layers


def pool(outputs: Any, padding_mask: Any, pooling: str, dtype: Any = None) -> Any:
    """The features the head reads, from the backbone's outputs (see `POOLINGS`).

    Args:
        outputs: The backbone's output dict (``sequence_output``, ``pooled_output``).
        padding_mask: The backbone's padding mask input (True on real tokens).
        pooling: One of `POOLINGS`.
        dtype: The backbone's dtype policy.

    Examples:
        >>> import keras
        >>> from tfx_textzoo.families.base import pool
        >>> seq = keras.Input((None, 4))
        >>> tuple(pool({"sequence_output": seq}, None, "cls").shape)
        (None, 4)
    """
    if pooling not in POOLINGS:
        raise _checks.InvalidArgumentError("pooling", pooling, " or ".join(map(repr, POOLINGS)))
    if pooling == "pooler":
        return outputs["pooled_output"]
    if pooling == "cls":
        return FirstTokenPooling(dtype=dtype, name="first_token")(outputs["sequence_output"])
    return MaskedAveragePooling(dtype=dtype, name="mean_pooling")(
        outputs["sequence_output"], padding_mask
    )


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class FirstTokenPooling(keras.layers.Layer):
    """The vector of the first token (``[CLS]``) of each sequence."""

    def call(self, x):  # noqa: D102
        return x[:, 0, :]

    def compute_output_shape(self, input_shape):  # noqa: D102
        return (input_shape[0], input_shape[-1])


def _unique(variables: list[keras.Variable]) -> list[keras.Variable]:
    seen: set[int] = set()
    out = []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out
