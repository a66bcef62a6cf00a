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
    - `prepare_tokenizer`: called by ``finetune`` with the training texts (a
      tokenizer that learns its vocabulary from them does it there);
    - `freeze_unused`: called after the backbone is made trainable again, to keep
      frozen what the head does not read (BERT's pooler under mean pooling);
    - `layer_groups`: the trainable variables in groups, embeddings first, then one
      group per transformer layer, the top (pooler and head) last: layer-wise
      learning-rate decay gives group ``i`` of ``n`` the factor ``decay ** (n - 1 - i)``.
      The default reads `transformer_layers`; override either;
    - ``architecture`` / ``architecture_overrides``: the architecture numbers as built and
      where they differ from the catalog entry (None where a family does not say).

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

    @property
    def architecture(self) -> dict[str, int] | None:
        """The architecture numbers as built (None where the family does not say)."""
        return None

    def freeze_unused(self) -> None:
        """Keep frozen what the head does not read (default: nothing)."""

    def prepare_tokenizer(self, texts: list[str]) -> None:
        """Learn what the tokenizer learns from training texts, if it has not yet.

        ``finetune`` calls it with the training texts before tokenizing them. The
        default does nothing (a pretrained tokenizer); the ``scratch`` family adapts
        its vocabulary.
        """

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
