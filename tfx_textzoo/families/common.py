"""Pieces every family shares: argument checks, the zoo config fields, compiling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import tensorflow as tf

from tfx_textzoo import _checks


def check_classes(num_classes: Any, labels: Any) -> tuple[int, list[str] | None]:
    """Validate ``num_classes`` / ``labels`` and return ``(num_classes, labels)``.

    The one check lives in `tfx_textzoo._checks.check_classes`; this name stays for
    the modules that import it from here.

    Args:
        num_classes: An int >= 2 (numpy ints too), or None to infer it from ``labels``.
        labels: Optional sequence of distinct, non-empty class names.

    Returns:
        The number of classes and the labels as a list (or None).

    Raises:
        ValueError: For a missing, too small or inconsistent number of classes.
        TypeError: For a non-integer ``num_classes`` or non-string labels.

    Examples:
        >>> from tfx_textzoo.families.common import check_classes
        >>> check_classes(None, ["neg", "pos"])
        (2, ['neg', 'pos'])
    """
    return _checks.check_classes(num_classes, labels)


def check_architecture(
    arch: Mapping[str, Any], given: Any, spec_name: str, rules: Mapping[str, tuple]
) -> dict[str, Any]:
    """Check a family's architecture numbers, naming each as the user passed it.

    Args:
        arch: The numbers the model will be built with (catalog entry + overrides).
        given: The names the user passed (the others came from the catalog entry).
        spec_name: The catalog name, for the message about catalog values.
        rules: Name -> ``("int", minimum)`` or ``("rate",)`` (a dropout rate in [0, 1)).

    Returns:
        ``arch`` with ints as ``int`` and rates as ``float``.

    Raises:
        tfx_textzoo.errors.InvalidArgumentError: A number of the wrong type or range.

    Examples:
        >>> from tfx_textzoo.families.common import check_architecture
        >>> check_architecture({"num_layers": 0}, {"num_layers"}, "bert-tiny",
        ...                    {"num_layers": ("int", 1)})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentError: num_layers must be an int >= 1, got 0
    """
    out = dict(arch)
    for key, rule in rules.items():
        if key not in arch:
            continue
        source = "" if key in given else f"the catalog entry of {spec_name!r}"
        if rule[0] == "int":
            out[key] = _checks.check_int(key, arch[key], minimum=rule[1], source=source)
        else:
            out[key] = _checks.check_number(
                key, arch[key], minimum=0, maximum=1, open_max=True, source=source
            )
    return out


def check_string_tensor(x: Any) -> None:
    """Raise a clear TypeError unless ``x`` is a string tensor (raw texts).

    Examples:
        >>> import tensorflow as tf
        >>> from tfx_textzoo.families.common import check_string_tensor
        >>> check_string_tensor(tf.constant(["a text"]))
    """
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype != tf.string:
        raise TypeError(
            f"tfx_textzoo models take raw strings (texts), but got a tensor of dtype "
            f"{dtype!r}. Pass a list/array of str, e.g. model.predict(['some text'])."
        )


def zoo_config(labels: list[str] | None, model_name: str | None) -> dict[str, Any]:
    """The extra config every zoo classifier stores (so save/load keeps it)."""
    return {"labels": list(labels) if labels else None, "model_name": model_name}


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class MaskedAveragePooling(keras.layers.Layer):
    """Mean of the token vectors over the non-padding positions."""

    def call(self, x, padding_mask):  # noqa: D102
        mask = keras.ops.expand_dims(keras.ops.cast(padding_mask, x.dtype), -1)
        total = keras.ops.sum(x * mask, axis=1)
        return total / keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)

    def compute_output_shape(self, input_shape):  # noqa: D102
        return (input_shape[0], input_shape[-1])


class CompileFromConfigMixin:
    """Recompile a reloaded zoo classifier with its saved optimizer (schedule included).

    keras-hub tasks override ``compile``, so Keras skips recompiling them on load; zoo
    classifiers do it, so a saved fine-tuned model comes back with its optimizer.
    """

    def compile_from_config(self, config):  # noqa: D102
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)


def compile_classifier(model: keras.Model, finetune: Mapping[str, Any], pretrained: bool) -> None:
    """Compile with the catalog's recommended optimizer settings.

    Pretrained backbones get AdamW (no decay on biases and LayerNorm) at the catalog
    ``learning_rate``; from-scratch models get Adam.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("scratch-tiny", num_classes=2)
        >>> type(model.optimizer).__name__
        'Adam'
    """
    source = "the catalog entry (finetune)"
    lr = _checks.check_number(
        "learning_rate",
        finetune.get("learning_rate", 1e-3),
        minimum=0,
        open_min=True,
        source=source,
    )
    if pretrained:
        decay = _checks.check_number(
            "weight_decay", finetune.get("weight_decay", 0.01), minimum=0, source=source
        )
        optimizer = keras.optimizers.AdamW(learning_rate=lr, weight_decay=decay)
        optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    else:
        optimizer = keras.optimizers.Adam(learning_rate=lr)
    model.compile(optimizer=optimizer, **loss_and_metrics(getattr(model, "task", None)))


def loss_and_metrics(task: Any = None) -> dict[str, Any]:
    """The loss and metrics a zoo classifier is compiled with (probability outputs).

    They come from its [`Task`][tfx_textzoo.tasks.Task]: categorical cross-entropy and
    accuracy (single-label, the default), or binary cross-entropy and micro F1
    (multi-label).

    Examples:
        >>> from tfx_textzoo.families.common import loss_and_metrics
        >>> from tfx_textzoo.tasks import Task
        >>> [m.name for m in loss_and_metrics()["metrics"]]
        ['accuracy']
        >>> [m.name for m in loss_and_metrics(Task(multi_label=True))["metrics"]]
        ['micro_f1']
    """
    from tfx_textzoo.tasks import Task

    task = Task.from_config(task)
    return {"loss": task.loss(), "metrics": task.metrics()}


def hf_tensors(directory: Any, names: Any) -> dict[str, Any]:
    """Read the named tensors of a Hugging Face checkpoint's safetensors, as numpy arrays.

    Reads ``model.safetensors``, or the shards a ``model.safetensors.index.json`` lists.
    Families use it for what keras-hub's converters leave out (the heads of fine-tuned
    ``*ForSequenceClassification`` checkpoints).

    Args:
        directory: The checkpoint's directory.
        names: The tensor names (``"classifier.weight"``).

    Returns:
        ``{name: array}`` for every name.

    Raises:
        KeyError: A name that is in no file (the message lists the file's head tensors).

    Examples:
        >>> import pathlib, tempfile
        >>> import numpy as np
        >>> from safetensors.numpy import save_file
        >>> from tfx_textzoo.families.common import hf_tensors
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> save_file({"classifier.bias": np.zeros(3, np.float32)}, str(d / "model.safetensors"))
        >>> hf_tensors(d, ["classifier.bias"])["classifier.bias"].shape
        (3,)
    """
    import json
    from pathlib import Path

    from safetensors import safe_open

    directory = Path(directory)
    index = directory / "model.safetensors.index.json"
    if index.exists():
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        files = {name: directory / weight_map[name] for name in names if name in weight_map}
    else:
        files = {name: directory / "model.safetensors" for name in names}
    out: dict[str, Any] = {}
    for name in names:
        path = files.get(name)
        if path is not None:
            with safe_open(str(path), framework="numpy") as reader:
                if name in reader.keys():
                    out[name] = reader.get_tensor(name)
                    continue
                available = [k for k in reader.keys() if not k.count(".layer.")]
        else:
            available = []
        raise KeyError(
            f"{directory} has no tensor {name!r} (a *ForSequenceClassification checkpoint "
            f"of another family or layout?); tensors outside the layers: {sorted(available)}"
        )
    return out


def set_dense(layer: Any, kernel: Any, bias: Any) -> None:
    """Give a Keras ``Dense`` layer the weights of a torch ``Linear`` (``weight`` is out x in).

    Raises:
        ValueError: The shapes do not fit the layer (the message gives both).

    Examples:
        >>> import keras, numpy as np
        >>> from tfx_textzoo.families.common import set_dense
        >>> layer = keras.layers.Dense(2)
        >>> layer.build((None, 3))
        >>> set_dense(layer, np.ones((2, 3), np.float32), np.zeros(2, np.float32))
        >>> tuple(layer.kernel.shape)
        (3, 2)
    """
    want = tuple(layer.kernel.shape)
    if tuple(kernel.shape[::-1]) != want or tuple(bias.shape) != (want[1],):
        raise ValueError(
            f"{layer.name}: the checkpoint's weight {tuple(kernel.shape)} / bias "
            f"{tuple(bias.shape)} do not fit a dense layer with kernel {want}"
        )
    layer.set_weights([kernel.T, bias])


class SeedSafeSentencePiece:
    """Mixin for keras-hub SentencePiece tokenizers: the model survives a seed reset.

    tensorflow_text keeps a SentencePiece model in a resource owned by a cached eager
    kernel. ``tf.random.set_seed`` (so ``keras.utils.set_random_seed``, which
    [`finetune`][tfx_textzoo.finetune] calls with ``seed=``) clears that cache and deletes
    the model: tokenizing then fails with "Resource ... SentencepieceOp ... does not
    exist", in eager calls and in every function traced with the old handle. With this
    mixin first in the bases, a traced function (``tf.data``, the zoo's tokenizing
    function, an export) creates its own resource inside the graph, and an eager call
    re-creates keras-hub's when a seed reset has deleted it. The ALBERT, XLM-R and
    DeBERTa-v3 families use it.

    Examples:
        >>> import keras, tensorflow as tf
        >>> from tfx_textzoo.families.xlm_roberta import (
        ...     TINY_VOCABULARY, XLMRobertaTokenizer, sentencepiece_proto)
        >>> tokenizer = XLMRobertaTokenizer(proto=sentencepiece_proto(TINY_VOCABULARY))
        >>> traced = tf.function(lambda x: tokenizer(x).flat_values)
        >>> ids = traced(tf.constant(["the team"])).numpy().tolist()
        >>> keras.utils.set_random_seed(0)  # deletes the eager SentencePiece resource
        >>> traced(tf.constant(["the team"])).numpy().tolist() == ids
        True
        >>> [int(i) for i in tokenizer("the team")] == ids  # eagerly too
        True
    """

    def ensure_resource(self) -> bool:
        """Re-create the eager SentencePiece resource if a seed reset deleted it.

        Returns:
            Whether it had to be re-created.
        """
        model = getattr(self, "_sentence_piece", None)
        if model is None or self.proto is None:
            return False
        with tf.init_scope():
            if not tf.executing_eagerly():
                return False
            try:
                model.vocab_size()
            except tf.errors.NotFoundError:  # deleted by a seed reset: make it again
                self._set_proto_tf(self.proto)
                return True
        return False

    def _tokenize_tf(self, inputs):
        import tensorflow_text as tf_text

        if self.proto is None:
            return super()._tokenize_tf(inputs)
        if tf.executing_eagerly():
            self.ensure_resource()
            return super()._tokenize_tf(inputs)
        # Traced: a resource created inside the graph, owned by the traced function.
        eager = getattr(self, "_sentence_piece", None)
        self._sentence_piece = tf_text.SentencepieceTokenizer(
            model=self.proto,
            out_type=self.compute_dtype,
            add_bos=self.add_bos,
            add_eos=self.add_eos,
        )
        try:
            return super()._tokenize_tf(inputs)
        finally:
            self._sentence_piece = eager


def resolve_sequence_length(spec: Any, sequence_length: Any, maximum: int) -> int:
    """The preprocessor's length: as given, or the entry's default capped by the backbone.

    Args:
        spec: The catalog entry (its ``tokenizer.sequence_length`` is the default).
        sequence_length: What the user passed to ``load`` (None for the default).
        maximum: The backbone's ``max_sequence_length``.

    Raises:
        tfx_textzoo.errors.InvalidArgumentError: A length outside ``3..maximum``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.common import resolve_sequence_length
        >>> spec = textzoo.registry.get_spec("bert-tiny")
        >>> resolve_sequence_length(spec, None, 64), resolve_sequence_length(spec, 32, 512)
        (64, 32)
    """
    if sequence_length is None:  # the default, capped by what the backbone can take
        sequence_length = min(
            _checks.check_int(
                "sequence_length",
                spec.tokenizer.get("sequence_length", 128),
                minimum=3,
                source=f"the catalog entry of {spec.name!r}",
            ),
            maximum,
        )
    sequence_length = _checks.check_int("sequence_length", sequence_length, minimum=1)
    if not 2 < sequence_length <= maximum:
        raise _checks.InvalidArgumentError(
            "sequence_length",
            sequence_length,
            f"between 3 and the backbone's max_sequence_length ({maximum})",
            f"it is out of range for {spec.name}",
        )
    return sequence_length


#: The ``load()`` argument that accepts weights whose architecture is not the name's.
ALLOW_MISMATCH = "allow_architecture_mismatch"


def check_heads(arch: Mapping[str, Any], given: set[str], spec_name: str) -> None:
    """keras-hub gives each head ``hidden_dim // num_heads`` dims: it must divide evenly.

    The error names the argument the user passed (or says which came from the catalog).

    Examples:
        >>> from tfx_textzoo.families.common import check_heads
        >>> check_heads({"hidden_dim": 8, "num_heads": 3}, {"num_heads"}, "bert-tiny")
        ...  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentError: num_heads must be a divisor of hidden_dim (8)...
    """
    hidden, heads = arch["hidden_dim"], arch["num_heads"]
    if hidden % heads == 0:
        return
    if "num_heads" in given or "hidden_dim" not in given:
        argument, value, expected = "num_heads", heads, f"a divisor of hidden_dim ({hidden})"
    else:
        argument, value, expected = "hidden_dim", hidden, f"a multiple of num_heads ({heads})"
    catalog = [k for k in ("hidden_dim", "num_heads") if k not in given]
    detail = "each attention head gets hidden_dim // num_heads dimensions"
    if catalog:
        detail += f"; {' and '.join(catalog)} came from the catalog entry of {spec_name!r}"
    raise _checks.InvalidArgumentError(argument, value, expected, detail)


def mismatch_message(spec: Any, weights: Any, differences: Mapping[str, tuple]) -> str:
    """The message of an ``ArchitectureMismatchError``: each differing number, both values.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.families.common import mismatch_message
        >>> spec = textzoo.registry.get_spec("bert-tiny")
        >>> mismatch_message(spec, "dir", {"num_layers": (2, 6)})[:61]
        "weights='dir' do not have small-bert-L2-H128's architecture: "
    """
    listed = "; ".join(
        f"{key} is {real} in the weights but {expected} for {spec.name}"
        for key, (expected, real) in differences.items()
    )
    return (
        f"weights={weights!r} do not have {spec.name}'s architecture: {listed}. Load them "
        f"under the name of their architecture, or pass {ALLOW_MISMATCH}=True to use them "
        f"anyway: the model then records its real architecture (model.architecture, "
        f"model.architecture_overrides) instead of passing for {spec.name}'s."
    )


def refuse_pretrained_overrides(overrides: Mapping[str, Any], vocabulary: Any = None) -> None:
    """Architecture numbers and a vocabulary apply only with ``weights=None``: refuse them.

    Examples:
        >>> from tfx_textzoo.families.common import refuse_pretrained_overrides
        >>> refuse_pretrained_overrides({})
        >>> refuse_pretrained_overrides({"num_layers": 1})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Architecture/vocabulary overrides (['num_layers']) only apply to a ...
    """
    if overrides or vocabulary is not None:
        raise ValueError(
            f"Architecture/vocabulary overrides ({sorted(overrides) or ['vocabulary']}) "
            "only apply to a randomly initialised model: pass weights=None, or drop them "
            "to use the pretrained architecture."
        )


def first_position_encoder_output(layer: Any, x: Any, padding_mask: Any, training: Any = None):
    """A keras-hub ``TransformerEncoder``'s output at the first position only.

    The last encoder layer of a classifier that reads ``[CLS]`` needs every position's
    keys and values, but its query, attention output and feed-forward block only at
    position 0: this computes exactly that (``(batch, hidden)``), the same numbers as
    ``layer(x, padding_mask=padding_mask)[:, 0]`` for about a sixth of the layer's
    matrix products. Families whose layers are keras-hub ``TransformerEncoder``
    (post- or pre-norm) use it in their ``pooled_features``.

    Args:
        layer: A built ``keras_hub.layers.TransformerEncoder``.
        x: Its input, ``(batch, length, hidden)``.
        padding_mask: ``(batch, length)``, true (or 1) on real tokens.
        training: Whether dropout is on.

    Examples:
        >>> import keras, keras_hub, numpy as np
        >>> from tfx_textzoo.families.common import first_position_encoder_output
        >>> layer = keras_hub.layers.TransformerEncoder(intermediate_dim=8, num_heads=2)
        >>> x = np.random.rand(2, 5, 4).astype("float32")
        >>> mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]])
        >>> full = keras.ops.convert_to_numpy(layer(x, padding_mask=mask))[:, 0]
        >>> first = keras.ops.convert_to_numpy(first_position_encoder_output(layer, x, mask))
        >>> bool(np.allclose(full, first, atol=1e-6))
        True
    """
    attention_mask = keras.ops.cast(keras.ops.expand_dims(padding_mask, axis=1), "int32")
    keys = x
    query = residual = x[:, :1, :]
    if layer.normalize_first:
        keys = layer._self_attention_layer_norm(x)
        query = keys[:, :1, :]
    h = layer._self_attention_layer(
        query=query, value=keys, key=keys, attention_mask=attention_mask, training=training
    )
    h = layer._self_attention_dropout(h, training=training) + residual
    if not layer.normalize_first:
        h = layer._self_attention_layer_norm(h)
    residual = h
    if layer.normalize_first:
        h = layer._feedforward_layer_norm(h)
    h = layer._feedforward_output_dense(layer._feedforward_intermediate_dense(h))
    h = layer._feedforward_dropout(h, training=training) + residual
    if not layer.normalize_first:
        h = layer._feedforward_layer_norm(h)
    return h[:, 0, :]


def encode_to_first_position(layers: Any, x: Any, padding_mask: Any, training: Any = None):
    """Run encoder ``layers`` in order, the last one at the first position only.

    Args:
        layers: keras-hub ``TransformerEncoder`` layers in call order (ALBERT repeats
            its shared layers).
        x: The embeddings, ``(batch, length, hidden)``.
        padding_mask: ``(batch, length)``, true (or 1) on real tokens.
        training: Whether dropout is on.

    Returns:
        The last layer's output at position 0, ``(batch, hidden)`` (see
        `first_position_encoder_output`).
    """
    *layers, last = layers
    for layer in layers:
        x = layer(x, padding_mask=padding_mask, training=training)
    return first_position_encoder_output(last, x, padding_mask, training=training)


def summed_embeddings(backbone: Any, inputs: Any, training: Any = None):
    """Token + position + segment embeddings, then layer norm and dropout.

    As keras-hub's BERT, ALBERT and ELECTRA backbones compute them (before any
    projection), with the backbone's own layers.
    """
    tokens = backbone.token_embedding(inputs["token_ids"])
    x = backbone.embeddings_add(
        (
            tokens,
            backbone.position_embedding(tokens),
            backbone.segment_embedding(inputs["segment_ids"]),
        )
    )
    return backbone.embeddings_dropout(backbone.embeddings_layer_norm(x), training=training)
