"""Length-sorted batched forward passes, and the traced (optionally XLA) step cache.

`traced_forward` traces a zoo classifier's forward pass once (token ids ->
probabilities, or -> the features its head reads); `probabilities` and
`features` run it over texts tokenized once and batched by length
([`tfx_textzoo.preprocessing.run_sorted`][tfx_textzoo.preprocessing.run_sorted]), rows back in input
order. Both
[`tfx_textzoo.evaluation`][tfx_textzoo.evaluation] and
[`tfx_textzoo.training`][tfx_textzoo.training] use this module; it imports
neither.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
import tensorflow as tf

from tfx_textzoo import preprocessing
from tfx_textzoo.errors import InvalidArgumentError
from tfx_textzoo.precision import computing_in

# Per zoo model: the trainers finetune compiled (kind -> (settings key, trainer, optimizer)),
# and the uncompiled encoder/predict models and traced forward functions (name -> object),
# so later calls with the same settings reuse their traced (and XLA-compiled) steps.
_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def probabilities(
    model: keras.Model,
    tok: preprocessing.TokenizedTexts,
    batch_size: int,
    *,
    xla: bool = False,
    verbose: int = 0,
    precision: str = "float32",
) -> np.ndarray:
    """Class probabilities of tokenized texts, in input order (length-sorted batches).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo import inference, preprocessing
        >>> model = textzoo.load("bert-tiny", num_classes=3, weights=None, num_layers=1)
        >>> tok = preprocessing.tokenize(model, ["a text", "a longer text than that"])
        >>> inference.probabilities(model, tok, 8).shape
        (2, 3)
    """
    forward = traced_forward(model, "probabilities", xla=xla, precision=precision)
    # Traced for any shape: without XLA, padding to the longest text of each batch
    # costs nothing more to trace and reads 1.13x faster than padding to buckets (BERT
    # L4-H128 on AG News, benchmarks/inference_throughput.py).
    return preprocessing.run_sorted(forward, tok, batch_size, verbose=verbose, pad_to_bucket=xla)


#: How window probabilities become a document's (see `aggregate`).
AGGREGATIONS = ("mean", "max")


def aggregate(
    probs: np.ndarray,
    documents: np.ndarray,
    num_documents: int,
    how: str = "mean",
    *,
    multi_label: bool | None = None,
) -> np.ndarray:
    """Per-document probabilities from the probabilities of their windows.

    ``"mean"`` averages a document's window rows (for softmax outputs the mean still
    sums to 1). ``"max"`` takes each class's highest probability over the windows:
    for a multi-label (sigmoid) model that is the answer, a label is as likely as in
    its most confident window; for a single-label (softmax) model the maxima are then
    divided by their sum, so that the row is a distribution again (the class seen
    most strongly in some window wins). ``"max"`` therefore needs ``multi_label``
    (pass ``model.task.multi_label``); ``"mean"`` is the same either way.

    Args:
        probs: ``(windows, k)`` probabilities, one row per window.
        documents: ``(windows,)`` the document index of each row
            ([`TokenizedTexts.documents`][tfx_textzoo.preprocessing.TokenizedTexts]).
        num_documents: How many documents there are (each has at least one window).
        how: ``"mean"`` or ``"max"``.
        multi_label: Whether the rows are per-label sigmoid probabilities (required
            for ``"max"``).

    Returns:
        ``(num_documents, k)`` probabilities, row ``d`` for document ``d``.

    Raises:
        InvalidArgumentError: For an unknown ``how``, ``"max"`` without ``multi_label``,
            or documents that do not match the rows (out of range, or a document
            without any window).

    Examples:
        >>> import numpy as np
        >>> from tfx_textzoo.inference import aggregate
        >>> probs = np.array([[0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
        >>> aggregate(probs, np.array([0, 0, 1]), 2).tolist()
        [[0.6000000000000001, 0.4], [0.3, 0.7]]
        >>> aggregate(probs, np.array([0, 0, 1]), 2, "max", multi_label=False).round(4).tolist()
        [[0.5714, 0.4286], [0.3, 0.7]]
    """
    if how not in AGGREGATIONS:
        raise InvalidArgumentError("aggregate", how, " or ".join(map(repr, AGGREGATIONS)))
    if how == "max" and multi_label is None:
        raise InvalidArgumentError(
            "multi_label",
            None,
            "True or False with aggregate='max'",
            "the maxima of softmax rows are renormalised to sum to 1, those of sigmoid "
            "rows are not; pass multi_label=model.task.multi_label",
        )
    probs = np.asarray(probs, dtype="float64")
    documents = np.asarray(documents)
    if probs.ndim != 2 or documents.shape != (probs.shape[0],):
        raise InvalidArgumentError(
            "documents",
            f"shape {documents.shape} for probabilities of shape {probs.shape}",
            "one document index per row of probabilities",
        )
    num_documents = int(num_documents)
    counts = (
        np.bincount(documents.astype("int64"), minlength=num_documents)
        if len(documents)
        else np.zeros((num_documents,), "int64")
    )
    if len(documents) and (documents.min() < 0 or documents.max() >= num_documents):
        raise InvalidArgumentError(
            "documents",
            f"indices {documents.min()}..{documents.max()}",
            f"indices from 0 to num_documents - 1 ({num_documents - 1})",
        )
    if (counts == 0).any():
        raise InvalidArgumentError(
            "documents",
            f"no window for documents {np.flatnonzero(counts == 0)[:10].tolist()}",
            "at least one window for every document",
        )
    if how == "mean":
        out = np.zeros((num_documents, probs.shape[1]))
        np.add.at(out, documents, probs)
        return out / counts[:, None]
    out = np.full((num_documents, probs.shape[1]), -np.inf)
    np.maximum.at(out, documents, probs)
    if not multi_label:
        out = out / out.sum(axis=1, keepdims=True)
    return out


def features(
    model: keras.Model,
    tok: preprocessing.TokenizedTexts,
    batch_size: int,
    precision: str = "float32",
) -> np.ndarray:
    """What the model's head reads (``model.features_output``) for tokenized texts."""
    return preprocessing.run_sorted(
        traced_forward(model, "features", precision=precision),
        tok,
        batch_size,
        pad_to_bucket=False,
    )


def is_traced(
    model: keras.Model,
    output: str = "probabilities",
    xla: bool = False,
    precision: str = "float32",
) -> bool:
    """Whether `traced_forward` already holds this function for ``model``."""
    return forward_key(output, xla, precision) in _COMPILED.get(model, {})


def core_model(model: keras.Model, cached_as: str | None = None) -> keras.Model:
    """The classifier's graph without its preprocessor: token-id inputs -> probabilities.

    It shares the classifier's layers (and weights). With ``cached_as``, one model per
    zoo model and name is kept, so its traced predict step is reused across calls.
    """
    if cached_as is None:
        # A family's shortcut (the last layer only where the head reads) when it has one.
        shortcut = getattr(model, "shortcut_outputs", lambda: None)()
        outputs = model.outputs if shortcut is None else [shortcut]
        return keras.Model(model.inputs, outputs, name=f"{model.name}_core")
    cache = _COMPILED.setdefault(model, {})
    if cached_as not in cache:
        cache[cached_as] = core_model(model)
    return cache[cached_as]


def traced_forward(
    model: keras.Model,
    output: str = "probabilities",
    xla: bool = False,
    precision: str = "float32",
):
    """The classifier's forward pass on token ids, traced once (compiled per shape by XLA).

    ``output`` is ``"probabilities"`` (the whole classifier) or ``"features"`` (what its
    head reads: ``model.features_output``). The function runs in inference mode; its
    signature has unknown batch and length, so its graph is traced once, not once per
    length bucket. ``precision`` is a policy from
    [`tfx_textzoo.precision.resolve`][tfx_textzoo.precision.resolve]: the backbone is
    traced in it (each policy its own function). It is kept with the model for later
    calls. Run it over
    length-sorted batches with
    [`tfx_textzoo.preprocessing.run_sorted`][tfx_textzoo.preprocessing.run_sorted]: no tf.data
    pipeline or ``Model.predict`` machinery to start per call (about 0.3 s each).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo import preprocessing
        >>> from tfx_textzoo.inference import traced_forward
        >>> model = textzoo.load("bert-tiny", num_classes=3, weights=None, num_layers=1)
        >>> tok = preprocessing.tokenize(model, ["a text", "a longer text than that"])
        >>> preprocessing.run_sorted(traced_forward(model), tok, 8).shape
        (2, 3)
    """
    cache = _COMPILED.setdefault(model, {})
    key = forward_key(output, xla, precision)
    if key not in cache:
        if output == "probabilities":
            graph = core_model(model, cached_as="predict")
        elif output == "features":
            shortcut = getattr(model, "shortcut_outputs", lambda **_: None)(features_only=True)
            features = model.features_output if shortcut is None else shortcut
            graph = keras.Model(model.input, features)
        else:
            raise ValueError(f"output must be 'probabilities' or 'features', got {output!r}")
        spec = {t.name: tf.TensorSpec([None, None], t.dtype, name=t.name) for t in model.inputs}
        signature = [spec[model.inputs[0].name]] if len(spec) == 1 else [spec]

        def forward(x):
            # The policy is read when the layers run, that is when tracing: every trace
            # of this function (one per XLA shape) happens inside it.
            with computing_in(model, precision):
                out = graph(x, training=False)
            # Features read straight from a bfloat16 backbone (a [CLS] pooler) come out
            # in float32 like the head's probabilities: numpy has no bfloat16.
            return tf.cast(out, "float32") if out.dtype != tf.float32 else out

        cache[key] = tf.function(forward, input_signature=signature, jit_compile=xla)
    return cache[key]


def forward_key(output: str, xla: bool, precision: str = "float32") -> str:
    """The cache key of `traced_forward`'s function for ``output`` (XLA, precision)."""
    suffix = "" if precision == "float32" else f"-{precision}"
    return f"forward-{output}{'-xla' if xla else ''}{suffix}"
