"""The fast input pipeline: tokenize once, batch by length buckets, pad each batch to its bucket.

keras-hub's ``fit`` on raw strings re-tokenizes every text every epoch and pads every
batch to the preprocessor's full ``sequence_length`` (512 by default). AG News texts
are ~52 WordPiece tokens long, so most of that compute is spent on padding. Here the
model's own preprocessor runs once per dataset; the token ids are kept as ragged
tensors; training batches are drawn from length buckets (reshuffled within and across
buckets every epoch) and padded only to their bucket's length, a handful of shapes
that compiled graphs are reused for. Evaluation and prediction batches are sorted by
length instead, and results are put back in input order.

Every text is tokenized by the model's own tokenizer, cut, then packed with its
special tokens (the two halves of the
[`ZooClassifier`][tfx_textzoo.families.base.ZooClassifier] contract,
``text_token_ids`` and ``pack_token_ids``), so the same pipeline serves sentence pairs
(two segments, trimmed round robin), long texts cut ``"head"``, ``"tail"`` or
``"head+tail"``, and overlapping windows (`tokenize_windows`) for every family.
Labels are class ids ``(n,)`` or, for multi-label models, a 0/1 matrix ``(n, labels)``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from tfx_textzoo import _checks, tasks
from tfx_textzoo.errors import InvalidArgumentError, InvalidArgumentTypeError

#: Lengths the buckets pad to (those below the model's sequence length, then that length).
DEFAULT_BUCKETS = (16, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 448, 512)


@dataclasses.dataclass
class TokenizedTexts:
    """Texts tokenized once by a model's preprocessor, kept without padding.

    Attributes:
        features: Model input name -> ``tf.RaggedTensor`` of shape ``(n, None)``.
        lengths: Tokens per row (special tokens included), shape ``(n,)``.
        labels: Integer labels ``(n,)``, a float 0/1 matrix ``(n, labels)``
            (multi-label), or None.
        max_length: The preprocessor's sequence length (every length is <= it).
        single_input: The input's name when the model takes one tensor, not a dict.
        num_truncated: How many texts (or pairs) had more tokens than fit in
            ``max_length`` with the special tokens: those that lost tokens to
            truncation, or that were cut into more than one window.
        documents: For windows ([`tokenize_windows`][tfx_textzoo.preprocessing.tokenize_windows]):
            the index of the text each row comes from, shape ``(n,)``; None when every
            row is one text.
    """

    features: dict[str, tf.RaggedTensor]
    lengths: np.ndarray
    labels: np.ndarray | None
    max_length: int
    single_input: str | None = None
    num_truncated: int = 0
    documents: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.lengths.shape[0])

    def _structure(self, features: dict[str, tf.RaggedTensor]):
        return features[self.single_input] if self.single_input else dict(features)


def bucket_lengths(max_length: int, buckets: Sequence[int] = DEFAULT_BUCKETS) -> list[int]:
    """The padded lengths used for a model whose sequences are at most ``max_length``.

    Examples:
        >>> from tfx_textzoo.preprocessing import bucket_lengths
        >>> bucket_lengths(128)
        [16, 32, 48, 64, 80, 96, 128]
        >>> bucket_lengths(40)
        [16, 32, 40]
    """
    return [b for b in buckets if b < max_length] + [int(max_length)]


def tokenize(
    model: keras.Model,
    texts: Sequence[str] | np.ndarray,
    labels: Sequence[int] | np.ndarray | None = None,
    batch_size: int = 1024,
    *,
    text_pairs: Sequence[str] | np.ndarray | None = None,
    truncation: str | None = None,
) -> TokenizedTexts:
    """Run ``model``'s tokenizer over ``texts`` once and keep the packed tokens unpadded.

    Each text is tokenized, cut to the token budget (the sequence length less the
    special tokens, see [`token_budget`][tfx_textzoo.preprocessing.token_budget]) as
    ``truncation`` says, and packed with its special tokens as the preprocessor packs
    it. A pair ``(texts[i], text_pairs[i])`` is packed as two segments
    (``[CLS] a [SEP] b [SEP]`` with segment ids 0 then 1 for BERT); a pair that does
    not fit is trimmed round robin (a token from each text in turn is kept), as
    keras-hub's preprocessors trim it.

    Args:
        model: A zoo classifier (see
            [`ZooClassifier`][tfx_textzoo.families.base.ZooClassifier]).
        texts: The texts (the first texts of pairs).
        labels: Optional labels aligned with ``texts``: integer class ids ``(n,)``, or a
            0/1 matrix ``(n, labels)`` for a multi-label model (kept as float32).
        batch_size: Texts per tokenizer call.
        text_pairs: The second texts of pairs, aligned with ``texts``.
        truncation: Which tokens a text longer than the budget keeps: ``"head"`` (the
            first ones), ``"tail"`` (the last ones) or ``"head+tail"`` (the first and the
            last, split by ``tfx_textzoo.tasks.head_tail_split``: 128 +
            382 of BERT's 510, Sun et al. 2019). None: the model's
            ``task.truncation``. Pairs are only trimmed round robin (``"head"``).

    Returns:
        A [`TokenizedTexts`][tfx_textzoo.preprocessing.TokenizedTexts] whose
        ``num_truncated`` says how many texts were cut.

    Raises:
        InvalidArgumentError: For an unknown ``truncation``, or one other than
            ``"head"`` for pairs; ``text_pairs`` or ``labels`` not aligned with ``texts``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import tokenize
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> tok = tokenize(model, ["a short text", "a somewhat longer text than that"])
        >>> tok.lengths.tolist(), sorted(tok.features), tok.num_truncated
        ([5, 8], ['padding_mask', 'segment_ids', 'token_ids'], 0)
        >>> pair = tokenize(model, ["a short text"], text_pairs=["and another"])
        >>> pair.features["segment_ids"].to_list()
        [[0, 0, 0, 0, 0, 1, 1, 1]]
    """
    _check_preprocessor(model)
    texts = _text_array(texts, "texts")
    pairs = None if text_pairs is None else _text_array(text_pairs, "text_pairs")
    if pairs is not None and len(pairs) != len(texts):
        raise InvalidArgumentError(
            "text_pairs",
            f"{len(pairs)} second texts",
            f"one second text per text ({len(texts)})",
        )
    truncation = _truncation(model, truncation, pair=pairs is not None)
    labels = _labels(labels, len(texts))
    function = _tokenize_fn(model, "pair" if pairs is not None else truncation)
    batches = []
    for start in range(0, len(texts), batch_size):  # a tf.data pipeline costs ~0.3 s to start
        stop = start + batch_size
        inputs = [tf.constant(texts[start:stop], tf.string)]
        if pairs is not None:
            inputs.append(tf.constant(pairs[start:stop], tf.string))
        batches.append(function(*inputs))
    features, lengths = _collect(model, [(b[0], b[1]) for b in batches])
    raw = np.concatenate([b[2].numpy() for b in batches]) if batches else np.zeros((0,))
    budget = token_budget(model, num_segments=2 if pairs is not None else 1)
    return TokenizedTexts(
        features=features,
        lengths=lengths,
        labels=labels,
        max_length=_sequence_length(model),
        single_input=_single_input(model),
        num_truncated=int((raw > budget).sum()),
    )


def tokenize_windows(
    model: keras.Model,
    texts: Sequence[str] | np.ndarray,
    labels: Sequence[int] | np.ndarray | None = None,
    *,
    stride: int | None = None,
    batch_size: int = 1024,
) -> TokenizedTexts:
    """Cut every text into overlapping windows that each fit the model: one row per window.

    A text of ``L`` tokens and the budget ``B`` (see
    [`token_budget`][tfx_textzoo.preprocessing.token_budget]) gives one window when
    ``L <= B`` (the whole text), else ``ceil((L - B) / stride) + 1`` windows of ``B``
    tokens: window ``k`` starts at token ``k * stride``, except the last, which starts
    at ``L - B`` so that it ends at the text's end. Consecutive windows overlap by at
    least ``B - stride`` tokens, so every token is in a window, and near the end the
    overlap can be larger. Each window gets the special tokens as a whole text does.
    ``documents`` holds the text index of every row; put predictions back together
    with ``tfx_textzoo.inference.aggregate``.

    Args:
        model: A zoo classifier.
        texts: The texts.
        labels: Optional labels aligned with ``texts`` (as for
            [`tokenize`][tfx_textzoo.preprocessing.tokenize]); every window gets its
            text's label.
        stride: Tokens between the starts of consecutive windows, 1 to the budget
            (default: half the budget).
        batch_size: Texts per tokenizer call.

    Returns:
        A [`TokenizedTexts`][tfx_textzoo.preprocessing.TokenizedTexts] with one row per
        window, ``documents`` set, and ``num_truncated`` the number of texts cut into
        more than one window.

    Raises:
        InvalidArgumentError: For a ``stride`` that is not an integer from 1 to the
            budget, or ``labels`` not aligned with ``texts``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import tokenize_windows
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1,
        ...     sequence_length=8)  # a budget of 6 tokens
        >>> tok = tokenize_windows(model, ["one two three four five six seven eight", "hi"])
        >>> tok.documents.tolist(), tok.lengths.tolist(), tok.num_truncated
        ([0, 0, 1], [8, 8, 3], 1)
    """
    _check_preprocessor(model)
    texts = _text_array(texts, "texts")
    labels = _labels(labels, len(texts))
    budget = token_budget(model)
    stride = check_stride(stride, budget)
    function = _windows_fn(model)
    batches, documents, raw = [], [], []
    stride_tensor = tf.constant(stride, tf.int64)
    for start in range(0, len(texts), batch_size):
        row_lengths, flat, docs, raw_lengths = function(
            tf.constant(texts[start : start + batch_size], tf.string), stride_tensor
        )
        batches.append((row_lengths, flat))
        documents.append(docs.numpy() + start)
        raw.append(raw_lengths.numpy())
    features, lengths = _collect(model, batches)
    documents = np.concatenate(documents).astype("int64") if documents else np.zeros((0,), "int64")
    raw = np.concatenate(raw) if raw else np.zeros((0,))
    return TokenizedTexts(
        features=features,
        lengths=lengths,
        labels=None if labels is None else labels[documents],
        max_length=_sequence_length(model),
        single_input=_single_input(model),
        num_truncated=int((raw > budget).sum()),
        documents=documents,
    )


def token_budget(model: keras.Model, num_segments: int = 1) -> int:
    """How many of a text's own tokens fit in the model's sequence length.

    The sequence length less the special tokens a packed example of ``num_segments``
    texts gets; these are counted by packing empty texts, so any family's specials
    are right (2 for BERT's ``[CLS] a [SEP]`` and RoBERTa's ``<s> a </s>``, 0 for
    ``scratch``; for pairs 3 for BERT and 4 for RoBERTa's ``<s> a </s></s> b </s>``).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import token_budget
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> token_budget(model), token_budget(model, num_segments=2)
        (126, 125)
    """
    key = (_preprocessor_key(model), num_segments)
    cache = _BUDGETS.setdefault(model, {})
    if key not in cache:
        with tf.init_scope():  # eagerly, also when called while tracing (an export)
            empty = tf.RaggedTensor.from_row_lengths(tf.zeros([0], tf.int32), [0])
            packed = tf.function(model.pack_token_ids)((empty,) * num_segments)
            specials = int(_packed_lengths(model, packed).numpy()[0])
        cache[key] = _sequence_length(model) - specials
    return cache[key]


def check_stride(stride: int | None, budget: int) -> int:
    """``stride`` checked against the token ``budget`` (None: half the budget, at least 1).

    Examples:
        >>> from tfx_textzoo.preprocessing import check_stride
        >>> check_stride(None, 510), check_stride(128, 510)
        (255, 128)
    """
    if stride is None:
        return max(budget // 2, 1)
    return _checks.check_int(
        "stride",
        stride,
        minimum=1,
        maximum=budget,
    )


def truncated_features(
    model: keras.Model, texts: tf.Tensor, truncation: str | None = None
) -> dict[str, tf.Tensor]:
    """The model's input features for a batch of texts, cut as ``truncation`` says.

    The same tokens as [`tokenize`][tfx_textzoo.preprocessing.tokenize] keeps, as
    dense tensors padded to the sequence length, made of TensorFlow ops only: an
    exported SavedModel can call it inside its serving function.

    Args:
        model: A zoo classifier.
        texts: A string tensor of shape ``(batch,)``.
        truncation: ``"head"``, ``"tail"`` or ``"head+tail"`` (None: the model's task's).

    Returns:
        Model input name -> ``(batch, sequence_length)`` tensor.

    Examples:
        >>> import tensorflow as tf
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import truncated_features
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1,
        ...     sequence_length=5)
        >>> ids = truncated_features(model, tf.constant(["one two three four"]), "tail")
        >>> tail = [int(i) for i in model.preprocessor.tokenizer("two three four")]
        >>> ids["token_ids"].numpy().tolist() == [[101, *tail, 102]]
        True
    """
    truncation = _truncation(model, truncation, pair=False)
    if tf.executing_eagerly():
        return tf.function(lambda t: truncated_features(model, t, truncation))(texts)
    ids = model.text_token_ids(texts)
    return model.pack_token_ids((_cut(ids, truncation, token_budget(model)),))


def window_features(
    model: keras.Model, texts: tf.Tensor, stride: int | None = None
) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
    """Windows of a batch of texts as dense model inputs, and the text of each window.

    The windows of [`tokenize_windows`][tfx_textzoo.preprocessing.tokenize_windows]
    (same rule), made of TensorFlow ops only, so that an exported SavedModel can cut
    long texts inside its serving function: run the model on the features, then
    average the rows of each text (``tf.math.unsorted_segment_mean(probs, documents,
    batch)``).

    Args:
        model: A zoo classifier.
        texts: A string tensor of shape ``(batch,)``.
        stride: Tokens between window starts (default: half the budget).

    Returns:
        ``(features, documents)``: model input name -> ``(windows, sequence_length)``
        tensor, and the ``(windows,)`` int64 index of each window's text.

    Examples:
        >>> import tensorflow as tf
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import window_features
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1,
        ...     sequence_length=8)
        >>> features, documents = window_features(model, tf.constant(
        ...     ["one two three four five six seven eight", "hi"]))
        >>> documents.numpy().tolist(), features["token_ids"].shape
        ([0, 0, 1], TensorShape([3, 8]))
    """
    budget = token_budget(model)
    stride = check_stride(stride, budget)
    if tf.executing_eagerly():
        return tf.function(lambda t: window_features(model, t, stride))(texts)
    windows, documents = _windows(model.text_token_ids(texts), budget, stride)
    return model.pack_token_ids((windows,)), documents


def run_sorted(
    fn, tok: TokenizedTexts, batch_size: int, verbose: int = 0, *, pad_to_bucket: bool = True
) -> np.ndarray:
    """Run ``fn`` over length-sorted batches of ``tok``; return its outputs in input order.

    Each batch is padded to its length bucket (a handful of shapes, so XLA-compiled
    functions are reused) or, with ``pad_to_bucket=False``, to its longest text (least
    padding: for functions traced once for any shape). A plain loop: no tf.data
    pipeline to start per call.

    Args:
        fn: Token-id inputs (the model's input structure) -> a ``(batch, ...)`` tensor.
        tok: Tokenized texts.
        batch_size: Texts per batch.
        verbose: 1 for a progress bar.
        pad_to_bucket: Pad to the bucket length rather than to the longest text.

    Returns:
        ``fn``'s outputs for every text, row ``i`` for text ``i``.

    Examples:
        >>> import tensorflow as tf
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import run_sorted, tokenize
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> tok = tokenize(model, ["a much longer text than the next", "short"])
        >>> count = lambda x: tf.reduce_sum(tf.cast(x["padding_mask"], "int32"), axis=1)
        >>> bool((run_sorted(count, tok, 1) == tok.lengths).all())  # in input order
        True
    """
    order = np.argsort(tok.lengths, kind="stable")
    bounds = np.asarray(bucket_lengths(tok.max_length))
    progress = keras.utils.Progbar(math.ceil(len(order) / batch_size)) if verbose else None
    outputs = []
    for step, start in enumerate(range(0, len(order), batch_size), 1):
        rows = order[start : start + batch_size]
        width = int(tok.lengths[rows].max())
        if pad_to_bucket:
            width = int(bounds[np.searchsorted(bounds, width)])
        batch = {
            name: tf.gather(ragged, rows).to_tensor(shape=[len(rows), width])
            for name, ragged in tok.features.items()
        }
        outputs.append(np.asarray(fn(tok._structure(batch))))
        if progress is not None:
            progress.update(step)
    result = np.concatenate(outputs)
    in_order = np.empty_like(result)
    in_order[order] = result
    return in_order


#: model -> {(preprocessor key, kind): traced tokenize function}.
_TOKENIZE_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
#: model -> {(preprocessor key, segments): token budget}.
_BUDGETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _preprocessor_key(model: keras.Model) -> tuple[int, int]:
    preprocessor = model.preprocessor
    return (id(preprocessor), getattr(preprocessor, "adapt_count", 0))


def _tokenize_fn(model: keras.Model, kind: str = "head"):
    """Tokenize, cut and pack as one traced function: texts -> (lengths, unpadded ids, raw).

    ``kind`` is a truncation (one text per example) or ``"pair"`` (two string inputs).
    ``raw`` is each example's token count before cutting (special tokens excluded).
    Traced once per model and kind (and again after the preprocessor is re-adapted),
    so that building a dataset for a new call does not trace the preprocessor again,
    which costs about half a second.
    """
    key = (_preprocessor_key(model), kind)
    cache = _TOKENIZE_FNS.setdefault(model, {})
    if key in cache:
        return cache[key]
    sequence_length = _sequence_length(model)
    specials = sequence_length - token_budget(model)
    string = tf.TensorSpec([None], tf.string)

    if kind == "pair":

        @tf.function(input_signature=[string, string])
        def tokenize_batch(texts, pairs):
            first, second = model.text_token_ids(texts), model.text_token_ids(pairs)
            packed = model.pack_token_ids((first, second))
            raw = first.row_lengths() + second.row_lengths()
            return (*_flatten(model, packed), raw)

    else:
        budget = sequence_length - specials

        @tf.function(input_signature=[string])
        def tokenize_batch(texts):
            ids = model.text_token_ids(texts)
            packed = model.pack_token_ids((_cut(ids, kind, budget),))
            return (*_flatten(model, packed), ids.row_lengths())

    cache[key] = tokenize_batch
    return tokenize_batch


def _windows_fn(model: keras.Model):
    """Tokenize, cut into windows and pack: (texts, stride) -> (lengths, ids, documents, raw)."""
    key = (_preprocessor_key(model), "windows")
    cache = _TOKENIZE_FNS.setdefault(model, {})
    if key in cache:
        return cache[key]
    budget = token_budget(model)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([], tf.int64)])
    def windows_batch(texts, stride):
        ids = model.text_token_ids(texts)
        windows, documents = _windows(ids, budget, stride)
        packed = model.pack_token_ids((windows,))
        return (*_flatten(model, packed), documents, ids.row_lengths())

    cache[key] = windows_batch
    return windows_batch


def _cut(ids: tf.RaggedTensor, truncation: str, budget: int) -> tf.RaggedTensor:
    """Keep at most ``budget`` tokens of each row: the first, the last, or both ends."""
    lengths = ids.row_lengths()
    rows = ids.value_rowids()
    position = tf.range(tf.size(rows, out_type=tf.int64)) - tf.gather(ids.row_starts(), rows)
    length = tf.gather(lengths, rows)
    if truncation == "head":
        keep = position < budget
    elif truncation == "tail":
        keep = position >= length - budget
    elif truncation == "head+tail":
        head, tail = tasks.head_tail_split(budget)
        keep = (length <= budget) | (position < head) | (position >= length - tail)
    else:
        raise ValueError(f"unknown truncation {truncation!r}")
    kept = tf.math.unsorted_segment_sum(tf.cast(keep, tf.int64), rows, ids.nrows())
    return tf.RaggedTensor.from_row_lengths(
        tf.boolean_mask(ids.flat_values, keep), kept, validate=False
    )


def _windows(ids: tf.RaggedTensor, budget: int, stride) -> tuple[tf.RaggedTensor, tf.Tensor]:
    """The windows of each row (see `tokenize_windows` for the rule) and their row index."""
    lengths = ids.row_lengths()
    budget = tf.constant(budget, tf.int64)
    stride = tf.cast(stride, tf.int64)
    count = tf.where(
        lengths <= budget, tf.ones_like(lengths), (lengths - budget + stride - 1) // stride + 1
    )
    documents = tf.repeat(tf.range(ids.nrows()), count)
    k = tf.ragged.range(count).flat_values
    length = tf.gather(lengths, documents)
    start = tf.minimum(k * stride, tf.maximum(length - budget, 0))
    offsets = tf.gather(ids.row_starts(), documents) + start
    positions = tf.ragged.range(offsets, offsets + tf.minimum(length, budget))
    return tf.gather(ids.flat_values, positions), documents


def _packed_lengths(model: keras.Model, packed: dict[str, tf.Tensor]) -> tf.Tensor:
    """Tokens per packed row: the padding mask's count, else non-zero token ids."""
    if "padding_mask" in packed:
        return tf.reduce_sum(tf.cast(packed["padding_mask"], "int32"), axis=1)
    return tf.math.count_nonzero(packed[_single_input(model) or "token_ids"], axis=1, dtype="int32")


def _flatten(model: keras.Model, packed: dict[str, tf.Tensor]):
    """Packed dense features -> (row lengths, input name -> flat unpadded values)."""
    row_lengths = _packed_lengths(model, packed)
    flat = {
        t.name: tf.cast(
            tf.RaggedTensor.from_tensor(packed[t.name], lengths=row_lengths).flat_values,
            tf.as_dtype(t.dtype),
        )
        for t in model.inputs
    }
    return row_lengths, flat


def _collect(model: keras.Model, batches) -> tuple[dict[str, tf.RaggedTensor], np.ndarray]:
    """Concatenate per-batch (row lengths, flat values) into ragged features."""
    lengths = [b[0].numpy() for b in batches]
    all_lengths = np.concatenate(lengths).astype("int64") if lengths else np.zeros((0,), "int64")
    features = {}
    for t in model.inputs:
        chunks = [b[1][t.name].numpy() for b in batches]
        values = np.concatenate(chunks) if chunks else np.zeros((0,), t.dtype)
        features[t.name] = tf.RaggedTensor.from_row_lengths(values, all_lengths)
    return features, all_lengths.astype("int32")


def _check_preprocessor(model: keras.Model) -> None:
    preprocessor = getattr(model, "preprocessor", None)
    if preprocessor is None:
        raise ValueError("The model has no preprocessor, so it cannot take raw texts.")
    if not hasattr(model, "text_token_ids") or not hasattr(model, "pack_token_ids"):
        raise InvalidArgumentTypeError(
            "model", model, "a tfx_textzoo classifier (from tfx_textzoo.load)"
        )
    if hasattr(preprocessor, "check_adapted"):
        preprocessor.check_adapted()


def _sequence_length(model: keras.Model) -> int:
    return int(model.preprocessor.sequence_length)


def _single_input(model: keras.Model) -> str | None:
    return None if len(model.inputs) > 1 else model.inputs[0].name


def _text_array(texts, what: str) -> np.ndarray:
    array = np.asarray(texts, dtype=object)
    if array.ndim != 1:
        raise InvalidArgumentError(what, f"an array of shape {array.shape}", "a list of texts")
    return array


def _truncation(model: keras.Model, truncation: str | None, *, pair: bool) -> str:
    if truncation is None:
        truncation = tasks.of(model).truncation
        argument = "model.task.truncation"
    else:
        argument = "truncation"
    tasks.check_truncation(truncation, argument)
    if pair and truncation != "head":
        raise InvalidArgumentError(
            argument,
            truncation,
            "'head' for text pairs",
            "a pair that does not fit is trimmed round robin (a token of each text in turn "
            "is kept); 'tail' and 'head+tail' are for single texts",
        )
    return truncation


def _labels(labels, n: int) -> np.ndarray | None:
    """Integer class ids ``(n,)`` as int32, or a multi-label 0/1 matrix ``(n, k)`` as float32."""
    if labels is None:
        return None
    array = np.asarray(labels)
    if array.ndim not in (1, 2) or len(array) != n:
        raise InvalidArgumentError(
            "labels",
            f"an array of shape {array.shape}",
            f"one label per text ({n},) or a multi-label 0/1 matrix ({n}, labels)",
        )
    return array.astype("float32" if array.ndim == 2 else "int32")


#: Texts are sorted by length within groups of this many batches (as the Hugging Face
#: Trainer's ``group_by_length`` does): batches of texts of about the same length, in
#: an order that still changes every epoch.
GROUP_BATCHES = 50


def num_batches(tok: TokenizedTexts, batch_size: int) -> int:
    """Batches per epoch of `training_dataset`: ``ceil(texts / batch_size)``.

    Examples:
        >>> import numpy as np
        >>> from tfx_textzoo.preprocessing import TokenizedTexts, num_batches
        >>> tok = TokenizedTexts({}, np.array([10, 12, 40, 90, 7]), None, max_length=128)
        >>> num_batches(tok, batch_size=2)  # every batch full but the last
        3
    """
    return math.ceil(len(tok) / batch_size)


#: Batches a training or evaluation pipeline prepares ahead of the step.
PREFETCH = 2
#: Parallel calls of a pipeline's map (a small per-batch function; 2 keeps a core free).
PARALLEL_CALLS = 2


def without_autotune(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """``dataset`` with tf.data's autotuning off (fixed prefetch and parallelism).

    With autotuning on, destroying an iterator (the end of every ``fit``, of every
    validation pass) waited for tf.data's tuning thread: in about half of the calls
    ``finetune`` spent ~4.5 s after its last step (BERT L4-H128, 2,048 AG News texts,
    10 calls in one process: 10.4 s instead of 5.6 s four times; with autotuning off,
    none). These pipelines are a few cheap ops per batch, so fixed small buffers
    (`PREFETCH`, `PARALLEL_CALLS`) feed the step as well.

    Examples:
        >>> import tensorflow as tf
        >>> from tfx_textzoo.preprocessing import without_autotune
        >>> without_autotune(tf.data.Dataset.range(3)).options().autotune.enabled
        False
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def training_dataset(
    tok: TokenizedTexts,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int | None = None,
    pad_to_bucket: bool = True,
    group_batches: int = GROUP_BATCHES,
) -> tf.data.Dataset:
    """Batches of ``(inputs, labels)`` of texts of about the same length, padded tightly.

    Every epoch the texts are reshuffled and cut into groups of ``group_batches *
    batch_size``; each group is sorted by length and cut into batches, and the batches
    are shuffled again (so a batch's texts and the order of batches change every
    epoch). Every batch is full but the last one of the epoch, and a batch is padded to
    its longest text, or up to the next bucket length (`bucket_lengths`). The dataset's
    cardinality is exact, so progress bars can show an ETA.

    Args:
        tok: Tokenized texts with labels.
        batch_size: Texts per batch.
        shuffle: Reshuffle every epoch (without it the groups are the texts in order).
        seed: Shuffle seed (for reproducible runs).
        pad_to_bucket: Pad to the bucket length (few shapes: what XLA-compiled steps
            need) rather than to the longest text of the batch (least padding).
        group_batches: Batches per sorted group (1: no sorting, a text's batch is
            random; larger: less padding, batches less random).

    Returns:
        A ``tf.data.Dataset`` for ``keras.Model.fit``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import tokenize, training_dataset
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> texts = ["short", "a much longer text " * 5, "tiny", "also a longer text " * 5]
        >>> tok = tokenize(model, texts, [0, 1, 0, 1])
        >>> sorted(x["token_ids"].shape[1] for x, y in training_dataset(tok, 2))
        [16, 32]
    """
    if tok.labels is None:
        raise ValueError("training_dataset needs labels")
    group_batches = _checks.check_int("group_batches", group_batches, minimum=1)
    n = len(tok)
    group = min(group_batches * batch_size, n)
    first = tok.single_input or next(iter(tok.features))
    bounds = tf.constant(bucket_lengths(tok.max_length), dtype="int32")
    dataset = tf.data.Dataset.from_tensor_slices((tok._structure(tok.features), tok.labels))
    if shuffle:
        dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=True)

    def sorted_batches(x, y):
        ragged = x if tok.single_input else x[first]
        order = tf.argsort(ragged.row_lengths(), stable=True)
        x = tf.nest.map_structure(lambda t: tf.gather(t, order), x)
        return (
            tf.data.Dataset.from_tensor_slices((x, tf.gather(y, order)))
            .map(_dense_elements)
            .padded_batch(batch_size)
        )

    to_bucket = functools.partial(_pad_to_bucket, bounds=bounds)

    dataset = dataset.batch(group).flat_map(sorted_batches)
    if pad_to_bucket:
        dataset = dataset.map(
            lambda x, y: (tf.nest.map_structure(to_bucket, x), y),
            num_parallel_calls=PARALLEL_CALLS,
            deterministic=True,
        )
    if shuffle:
        per_group = math.ceil(group / batch_size)
        dataset = dataset.shuffle(2 * per_group, seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(num_batches(tok, batch_size)))
    return without_autotune(dataset.prefetch(PREFETCH))


def shard_batches(
    dataset: tf.data.Dataset, num_shards: int, shards: Sequence[int]
) -> tf.data.Dataset:
    """Cut every batch of ``dataset`` into ``num_shards`` row ranges and keep ``shards``.

    Shard ``k`` of a batch of ``n`` rows holds rows ``k * n // num_shards`` up to
    ``(k + 1) * n // num_shards``: the shards of one batch cover it exactly once and
    differ in size by at most one row. A batch with fewer rows than shards (a length
    bucket's last, partial batch) leaves some shards empty, so every shard still gets
    one element per batch: under a multi-worker strategy every replica runs the same
    number of steps, which its collectives need. For ``shards=[i, j]`` each batch
    yields shard ``i``, then shard ``j`` (one element per local replica).

    Args:
        dataset: Batched elements (a tensor, or a tuple/dict of tensors with the batch
            dimension first).
        num_shards: Into how many row ranges each batch is cut (the number of replicas).
        shards: The indices of the shards to keep, in order.

    Returns:
        The kept shards, ``len(shards)`` elements per batch of ``dataset``.

    Examples:
        >>> import tensorflow as tf
        >>> from tfx_textzoo.preprocessing import shard_batches
        >>> batches = tf.data.Dataset.range(5).batch(4)  # [0 1 2 3], [4]
        >>> [b.numpy().tolist() for b in shard_batches(batches, 2, [0])]
        [[0, 1], []]
        >>> [b.numpy().tolist() for b in shard_batches(batches, 2, [1])]
        [[2, 3], [4]]
    """
    if not shards or any(not 0 <= k < num_shards for k in shards):
        raise ValueError(f"shards must be indices in 0..{num_shards - 1}, got {list(shards)}")
    kept = tf.constant(list(shards), tf.int64)

    def pieces(*batch):
        batch = batch[0] if len(batch) == 1 else batch
        rows = tf.cast(tf.shape(tf.nest.flatten(batch)[0])[0], tf.int64)

        def piece(k):
            start, stop = k * rows // num_shards, (k + 1) * rows // num_shards
            return tf.nest.map_structure(lambda t: t[start:stop], batch)

        return tf.data.Dataset.from_tensor_slices(kept).map(piece)

    return dataset.flat_map(pieces)


def sorted_dataset(
    tok: TokenizedTexts,
    batch_size: int,
    *,
    with_labels: bool | None = None,
    pad_to_bucket: bool = True,
) -> tuple[tf.data.Dataset, np.ndarray]:
    """Batches in order of length (each padded to its bucket) and the order used.

    Output row ``i`` of a model run over the dataset belongs to text ``order[i]``;
    ``result[order] = outputs`` puts results back in input order.

    Args:
        tok: Tokenized texts.
        batch_size: Texts per batch.
        with_labels: Yield ``(inputs, labels)`` (default: when ``tok`` has labels).
        pad_to_bucket: Pad each batch up to its bucket's length (else to its longest text).

    Returns:
        ``(dataset, order)``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import tokenize, sorted_dataset
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> tok = tokenize(model, ["a longer text here", "short"])
        >>> dataset, order = sorted_dataset(tok, 8)
        >>> order.tolist()
        [1, 0]
    """
    if with_labels is None:
        with_labels = tok.labels is not None
    order = np.argsort(tok.lengths, kind="stable")
    features = {name: tf.gather(ragged, order) for name, ragged in tok.features.items()}
    elements = tok._structure(features)
    if with_labels:
        elements = (elements, tok.labels[order])
    bounds = tf.constant(bucket_lengths(tok.max_length), dtype="int32")

    to_bucket = functools.partial(_pad_to_bucket, bounds=bounds)

    def pad(*element):
        x = element[0]
        if pad_to_bucket:
            x = tf.nest.map_structure(to_bucket, x)
        return (x, *element[1:]) if with_labels else x

    dataset = (
        tf.data.Dataset.from_tensor_slices(elements)
        .map(_dense_elements, num_parallel_calls=PARALLEL_CALLS, deterministic=True)
        .padded_batch(batch_size)
        .map(pad, num_parallel_calls=PARALLEL_CALLS, deterministic=True)
        .prefetch(PREFETCH)
    )
    return without_autotune(dataset), order


def _pad_to_bucket(dense: tf.Tensor, bounds: tf.Tensor) -> tf.Tensor:
    """Pad a ``(batch, length)`` batch with zeros up to the smallest of ``bounds`` >= length."""
    current = tf.shape(dense)[1]
    target = tf.gather(bounds, tf.searchsorted(bounds, [current], side="left"))[0]
    return tf.pad(dense, [[0, 0], [0, target - current]])


def _dense_elements(*element):
    """A sliced ragged row is a ragged rank-0 tensor; make it a plain 1-D tensor."""
    element = tf.nest.map_structure(
        lambda t: t.flat_values if isinstance(t, tf.RaggedTensor) else t,
        element,
        expand_composites=False,
    )
    return element if len(element) > 1 else element[0]
