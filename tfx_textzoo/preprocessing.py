"""The fast input pipeline: tokenize once, batch by length buckets, pad each batch to its bucket.

keras-hub's ``fit`` on raw strings re-tokenizes every text every epoch and pads every
batch to the preprocessor's full ``sequence_length`` (512 by default). AG News texts
are ~52 WordPiece tokens long, so most of that compute is spent on padding. Here the
model's own preprocessor runs once per dataset; the token ids are kept as ragged
tensors; training batches are drawn from length buckets (reshuffled within and across
buckets every epoch) and padded only to their bucket's length, a handful of shapes
that compiled graphs are reused for. Evaluation and prediction batches are sorted by
length instead, and results are put back in input order.

The pipeline works for any zoo model whose ``preprocessor`` maps strings to either a
dense ``token_ids`` tensor (0 = padding) or a dict with a ``padding_mask``.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

#: Lengths the buckets pad to (those below the model's sequence length, then that length).
DEFAULT_BUCKETS = (16, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 448, 512)


@dataclasses.dataclass
class TokenizedTexts:
    """Texts tokenized once by a model's preprocessor, kept without padding.

    Attributes:
        features: Model input name -> ``tf.RaggedTensor`` of shape ``(n, None)``.
        lengths: Tokens per text (special tokens included), shape ``(n,)``.
        labels: Integer labels, shape ``(n,)``, or None.
        max_length: The preprocessor's sequence length (every length is <= it).
        single_input: The input's name when the model takes one tensor, not a dict.
    """

    features: dict[str, tf.RaggedTensor]
    lengths: np.ndarray
    labels: np.ndarray | None
    max_length: int
    single_input: str | None = None

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
) -> TokenizedTexts:
    """Run ``model.preprocessor`` over ``texts`` once and keep the tokens unpadded.

    Args:
        model: A zoo classifier (its ``preprocessor`` takes raw strings).
        texts: The texts.
        labels: Optional integer labels, aligned with ``texts``.
        batch_size: Texts per preprocessor call.

    Returns:
        A [`TokenizedTexts`][tfx_textzoo.preprocessing.TokenizedTexts].

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import tokenize
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> tok = tokenize(model, ["a short text", "a somewhat longer text than that"])
        >>> tok.lengths.tolist(), sorted(tok.features)
        ([5, 8], ['padding_mask', 'segment_ids', 'token_ids'])
    """
    preprocessor = model.preprocessor
    if preprocessor is None:
        raise ValueError("The model has no preprocessor, so it cannot take raw texts.")
    if hasattr(preprocessor, "check_adapted"):
        preprocessor.check_adapted()
    texts = np.asarray(texts, dtype=object)
    single = None if len(model.inputs) > 1 else model.inputs[0].name
    names = [t.name for t in model.inputs]

    values: dict[str, list[np.ndarray]] = {name: [] for name in names}
    lengths: list[np.ndarray] = []
    tokenize_batch = _tokenize_fn(model)
    for start in range(0, len(texts), batch_size):  # a tf.data pipeline costs ~0.3 s to start
        row_lengths, flat = tokenize_batch(tf.constant(texts[start : start + batch_size]))
        lengths.append(row_lengths.numpy())
        for name in names:
            values[name].append(flat[name].numpy())
    all_lengths = np.concatenate(lengths).astype("int64") if lengths else np.zeros((0,), "int64")
    features = {
        name: tf.RaggedTensor.from_row_lengths(
            np.concatenate(chunks) if chunks else np.zeros((0,), t.dtype), all_lengths
        )
        for (name, chunks), t in zip(values.items(), model.inputs, strict=True)
    }
    max_length = int(getattr(preprocessor, "sequence_length", 0) or all_lengths.max(initial=1))
    return TokenizedTexts(
        features=features,
        lengths=all_lengths.astype("int32"),
        labels=None if labels is None else np.asarray(labels, dtype="int32"),
        max_length=max_length,
        single_input=single,
    )


def run_sorted(fn, tok: TokenizedTexts, batch_size: int, verbose: int = 0) -> np.ndarray:
    """Run ``fn`` over length-sorted batches of ``tok``; return its outputs in input order.

    Each batch is padded to its length bucket (a handful of shapes, so XLA-compiled
    functions are reused). A plain loop: no tf.data pipeline to start per call.

    Args:
        fn: Token-id inputs (the model's input structure) -> a ``(batch, ...)`` tensor.
        tok: Tokenized texts.
        batch_size: Texts per batch.
        verbose: 1 for a progress bar.

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
        width = int(bounds[np.searchsorted(bounds, tok.lengths[rows].max())])
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


#: model -> ((preprocessor id, adapt count), traced tokenize function).
_TOKENIZE_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tokenize_fn(model: keras.Model):
    """The model's preprocessor as one traced function: texts -> (lengths, unpadded ids).

    Traced once per model (and again after the preprocessor is re-adapted), so that
    building a dataset for a new call does not trace the preprocessor again, which
    costs about half a second.
    """
    preprocessor = model.preprocessor
    key = (id(preprocessor), getattr(preprocessor, "adapt_count", 0))
    cached = _TOKENIZE_FNS.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    dtypes = {t.name: tf.as_dtype(t.dtype) for t in model.inputs}
    single = None if len(model.inputs) > 1 else model.inputs[0].name

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize_batch(texts):
        out = preprocessor(texts)
        if not isinstance(out, dict):
            out = {single: out}
        if "padding_mask" in out:
            row_lengths = tf.reduce_sum(tf.cast(out["padding_mask"], "int32"), axis=1)
        else:  # a single token-id tensor padded with 0
            row_lengths = tf.math.count_nonzero(out[single], axis=1, dtype="int32")
        flat = {
            name: tf.cast(
                tf.RaggedTensor.from_tensor(out[name], lengths=row_lengths).flat_values, dtype
            )
            for name, dtype in dtypes.items()
        }
        return row_lengths, flat

    _TOKENIZE_FNS[model] = (key, tokenize_batch)
    return tokenize_batch


def num_batches(tok: TokenizedTexts, batch_size: int) -> int:
    """Batches per epoch of `training_dataset` (fixed: bucket sizes do not change).

    Examples:
        >>> import numpy as np
        >>> from tfx_textzoo.preprocessing import TokenizedTexts, num_batches
        >>> tok = TokenizedTexts({}, np.array([10, 12, 40, 90]), None, max_length=128)
        >>> num_batches(tok, batch_size=2)  # buckets 16: 2 texts, 48: 1, 96: 1
        3
    """
    bounds = np.asarray(bucket_lengths(tok.max_length))
    bucket = np.searchsorted(bounds, tok.lengths, side="left")
    counts = np.bincount(bucket, minlength=len(bounds))
    return int(sum(math.ceil(c / batch_size) for c in counts))


def training_dataset(
    tok: TokenizedTexts,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: int | None = None,
    pad_to_bucket: bool = True,
) -> tf.data.Dataset:
    """Batches of ``(inputs, labels)`` drawn from length buckets, each padded to its bucket.

    Every epoch the texts are reshuffled (so each bucket's batches and the order of
    batches change); a batch only holds texts of one bucket. The dataset's cardinality
    is exact, so progress bars can show an ETA.

    Args:
        tok: Tokenized texts with labels.
        batch_size: Texts per batch.
        shuffle: Reshuffle every epoch.
        seed: Shuffle seed (for reproducible runs).
        pad_to_bucket: Pad to the bucket's length (few shapes: what XLA-compiled steps
            need) rather than to the longest text of the batch (least padding).

    Returns:
        A ``tf.data.Dataset`` for ``keras.Model.fit``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.preprocessing import tokenize, training_dataset
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> tok = tokenize(model, ["short", "a much longer text " * 5], [0, 1])
        >>> sorted(x["token_ids"].shape[1] for x, y in training_dataset(tok, 8))
        [16, 32]
    """
    if tok.labels is None:
        raise ValueError("training_dataset needs labels")
    bounds = bucket_lengths(tok.max_length)
    first = tok.single_input or next(iter(tok.features))
    dataset = tf.data.Dataset.from_tensor_slices((tok._structure(tok.features), tok.labels))
    dataset = dataset.map(_dense_elements, num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle:
        dataset = dataset.shuffle(len(tok), seed=seed, reshuffle_each_iteration=True)

    def length(x, y):
        return tf.shape(x if tok.single_input else x[first])[0]

    dataset = dataset.bucket_by_sequence_length(
        length,
        bucket_boundaries=[b + 1 for b in bounds],
        bucket_batch_sizes=[batch_size] * (len(bounds) + 1),
        pad_to_bucket_boundary=pad_to_bucket,
    )
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(num_batches(tok, batch_size)))
    return dataset.prefetch(tf.data.AUTOTUNE)


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

    def to_bucket(dense):
        current = tf.shape(dense)[1]
        target = tf.gather(bounds, tf.searchsorted(bounds, [current], side="left"))[0]
        return tf.pad(dense, [[0, 0], [0, target - current]])

    def pad(*element):
        x = element[0]
        if pad_to_bucket:
            x = tf.nest.map_structure(to_bucket, x)
        return (x, *element[1:]) if with_labels else x

    dataset = (
        tf.data.Dataset.from_tensor_slices(elements)
        .map(_dense_elements, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .padded_batch(batch_size)
        .map(pad, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    return dataset, order


def _dense_elements(*element):
    """A sliced ragged row is a ragged rank-0 tensor; make it a plain 1-D tensor."""
    element = tf.nest.map_structure(
        lambda t: t.flat_values if isinstance(t, tf.RaggedTensor) else t,
        element,
        expand_composites=False,
    )
    return element if len(element) > 1 else element[0]
