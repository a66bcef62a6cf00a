"""``finetune()``: a frozen-backbone phase, then everything trainable with AdamW + warmup/decay.

Phase 1 (``freeze_epochs``) trains only the classification head at
``head_learning_rate``. While the backbone is frozen it is also deterministic (run in
inference mode), so by default its pooled features are computed once and the head is
trained on them for all frozen epochs. Phase 2 trains everything with a fresh AdamW
(no weight decay on biases and LayerNorm), global gradient clipping and a linear
warmup then linear decay to zero ([`WarmupLinearDecay`][tfx_textzoo.training.WarmupLinearDecay]),
optionally with
layer-wise learning-rate decay ([`AdamWLayerDecay`][tfx_textzoo.training.AdamWLayerDecay]). Both
phases read the fast
bucketed pipeline of [`tfx_textzoo.preprocessing`][tfx_textzoo.preprocessing].
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import math
import os
import shutil
import tempfile
import time
import types
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfx_textzoo import _checks, inference, preprocessing, tasks
from tfx_textzoo._files import atomic_path, atomic_write_text, check_writable_dir
from tfx_textzoo.datasets import as_examples, check_two_classes
from tfx_textzoo.errors import (
    InvalidArgumentTypeError,
    SingleClassError,
    TrainingDivergedError,
)
from tfx_textzoo.families.base import check_zoo_classifier
from tfx_textzoo.families.common import loss_and_metrics
from tfx_textzoo.inference import _COMPILED, core_model, forward_key, traced_forward  # noqa: F401
from tfx_textzoo.precision import computing_in
from tfx_textzoo.precision import resolve as resolve_precision

#: Used when a model has no catalog entry (e.g. a plugin model saved and reloaded).
DEFAULTS = {
    "learning_rate": 3e-5,
    "head_learning_rate": 1e-3,
    "freeze_epochs": 1,
    "epochs": 3,
    "batch_size": 32,
    "warmup_ratio": 0.1,
    "weight_decay": 0.01,
    "layer_decay": None,
}
_NO_DECAY = ("bias", "gamma", "beta")


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup from 0 to ``peak_learning_rate``, then linear decay to ``end_learning_rate``.

    ``lr(step) = peak * step / warmup_steps`` for ``step < warmup_steps``, then
    ``end + (peak - end) * (total_steps - step) / (total_steps - warmup_steps)``, and
    ``end`` from ``total_steps`` on (the schedule BERT was fine-tuned with).

    Args:
        peak_learning_rate: The learning rate reached at the end of the warmup.
        warmup_steps: Optimizer steps of the warmup (0 for none).
        total_steps: Optimizer steps until the end of the decay.
        end_learning_rate: The final learning rate.

    Examples:
        >>> from tfx_textzoo.training import WarmupLinearDecay
        >>> schedule = WarmupLinearDecay(1e-3, warmup_steps=10, total_steps=110)
        >>> [round(float(schedule(s)), 6) for s in (0, 5, 10, 60, 110, 200)]
        [0.0, 0.0005, 0.001, 0.0005, 0.0, 0.0]
    """

    def __init__(self, peak_learning_rate, warmup_steps, total_steps, end_learning_rate=0.0):
        if total_steps < 1 or not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"need 0 <= warmup_steps <= total_steps and total_steps >= 1, got "
                f"warmup_steps={warmup_steps}, total_steps={total_steps}"
            )
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.end_learning_rate = float(end_learning_rate)

    def __call__(self, step):  # noqa: D102
        step = keras.ops.cast(step, "float32")
        peak, end = self.peak_learning_rate, self.end_learning_rate
        warmup = peak * step / max(self.warmup_steps, 1)
        decay_steps = max(self.total_steps - self.warmup_steps, 1)
        remaining = keras.ops.clip((self.total_steps - step) / decay_steps, 0.0, 1.0)
        decay = end + (peak - end) * remaining
        return keras.ops.where(step < self.warmup_steps, warmup, decay)

    def get_config(self):  # noqa: D102
        return {
            "peak_learning_rate": self.peak_learning_rate,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "end_learning_rate": self.end_learning_rate,
        }


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class FusedAdamW(keras.optimizers.AdamW):
    """``keras.optimizers.AdamW`` with TensorFlow's fused Adam kernel and sparse-aware clipping.

    The same update as Keras' AdamW (the same formula, bias correction and decoupled
    weight decay; results agree to float32 round-off), computed with fewer passes
    over memory, which is what an update on a CPU costs:

    - each variable's moments and value are updated by one fused kernel
      (``ResourceApplyAdam``) instead of about ten elementwise ops, each of which
      writes a temporary the size of the variable;
    - a gradient of an embedding lookup (``tf.IndexedSlices``) has its repeated rows
      summed first, so that ``global_clipnorm`` reads the rows a batch touched, not
      the whole (vocabulary x hidden) table, and it is made dense only once.

    In BERT L4-H128 fine-tuning on AG News the 30,522 x 128 token embedding is 88% of
    the weights; Keras' update took 40% of a training step on a CPU (measured with
    TensorFlow's profiler by ``benchmarks/profile_step.py``). On other backends, with
    ``amsgrad`` or for variables of other dtypes, it falls back to Keras' update.

    Keras' own AdamW, given an ``IndexedSlices`` gradient whose rows repeat (a token
    that occurs twice in a batch), adds the squares of the repeated rows to the second
    moment instead of the square of their sum; this optimizer (with ``fused`` or not)
    sums the rows first, so its update is that of the dense gradient (what Adam, and
    PyTorch, compute).

    Args:
        fused: Use the fused kernel. Turn it off in XLA-compiled steps (``finetune``
            does): XLA fuses the elementwise update itself, and on a CPU an XLA step
            with the fused kernel and row-summing ran 7x slower than without.
        **kwargs: Those of ``keras.optimizers.AdamW``.

    Examples:
        >>> import keras, numpy as np
        >>> from tfx_textzoo.training import FusedAdamW
        >>> fused, plain = keras.Variable(np.ones(3)), keras.Variable(np.ones(3))
        >>> grads = [keras.ops.convert_to_tensor(np.array([0.1, -0.2, 0.3]))]
        >>> FusedAdamW(learning_rate=0.1).apply(grads, [fused])
        >>> keras.optimizers.AdamW(learning_rate=0.1).apply(grads, [plain])
        >>> bool(np.allclose(fused.numpy(), plain.numpy()))
        True
    """

    def __init__(self, *args, fused: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fused = bool(fused)

    def get_config(self):  # noqa: D102
        return {**super().get_config(), "fused": self.fused}

    def _fused(self, variable) -> bool:
        return (
            self.fused
            and keras.backend.backend() == "tensorflow"
            and not self.amsgrad
            and variable.dtype in ("float32", "float64", "float16", "bfloat16")
        )

    def _clip_gradients(self, grads):  # noqa: D102
        if keras.backend.backend() == "tensorflow" and not self.fused:
            grads = [None if g is None else tf.convert_to_tensor(g) for g in grads]
        elif keras.backend.backend() == "tensorflow":
            grads = [_summed_rows(g) for g in grads]
            if self.global_clipnorm and self.global_clipnorm > 0:
                return _clip_by_global_norm(grads, self.global_clipnorm)
        return super()._clip_gradients(grads)

    def update_step(self, gradient, variable, learning_rate):  # noqa: D102
        if not self._fused(variable):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable),
            m=_handle(m),
            v=_handle(v),
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(tf.convert_to_tensor(gradient), dtype),
        )


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (in an update context)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value  # the tf.Variable
    return variable.handle


def _summed_rows(gradient):
    """An ``IndexedSlices`` gradient with each row once (repeated lookups summed)."""
    if not isinstance(gradient, tf.IndexedSlices):
        return gradient
    rows, position = tf.unique(gradient.indices)
    values = tf.math.unsorted_segment_sum(gradient.values, position, tf.shape(rows)[0])
    return tf.IndexedSlices(values, rows, gradient.dense_shape)


def _clip_by_global_norm(grads, clip_norm):
    """Keras' ``clip_by_global_norm``, reading only the stored rows of ``IndexedSlices``."""
    squares = [
        tf.reduce_sum(tf.square(g.values if isinstance(g, tf.IndexedSlices) else g))
        for g in grads
        if g is not None
    ]
    norm = tf.sqrt(tf.add_n(squares))
    # As Keras: a no-op for a finite norm below clip_norm, NaN for inf/NaN norms.
    scale = clip_norm * tf.minimum(1.0 / norm, 1.0 / clip_norm) + (norm - norm)

    def scaled(g):
        if isinstance(g, tf.IndexedSlices):
            return tf.IndexedSlices(g.values * tf.cast(scale, g.dtype), g.indices, g.dense_shape)
        return g * tf.cast(scale, g.dtype)

    return [None if g is None else scaled(g) for g in grads]


@keras.saving.register_keras_serializable(package="tfx_textzoo")
class AdamWLayerDecay(FusedAdamW):
    """AdamW whose learning rate is scaled per variable (layer-wise learning-rate decay).

    Keras 3 optimizers have one learning rate; this one multiplies it by
    ``learning_rate_multipliers[variable.path]`` (1.0 for variables not listed) in
    each update. Weight decay is unchanged.

    Args:
        learning_rate_multipliers: Variable path -> learning-rate multiplier.
        **kwargs: Passed to [`FusedAdamW`][tfx_textzoo.training.FusedAdamW].

    Examples:
        >>> import keras
        >>> from tfx_textzoo.training import AdamWLayerDecay
        >>> layer = keras.layers.Dense(1, name="out")
        >>> layer.build((None, 2))
        >>> opt = AdamWLayerDecay(learning_rate_multipliers={"out/kernel": 0.5})
        >>> opt.build(layer.trainable_variables)
        >>> opt.multiplier(layer.kernel), opt.multiplier(layer.bias)
        (0.5, 1.0)
    """

    def __init__(self, *args, learning_rate_multipliers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.learning_rate_multipliers = {
            str(k): float(v) for k, v in (learning_rate_multipliers or {}).items()
        }
        self._multipliers: list[float] = []

    def build(self, var_list):  # noqa: D102
        super().build(var_list)
        self._multipliers = [self.learning_rate_multipliers.get(v.path, 1.0) for v in var_list]

    def multiplier(self, variable) -> float:
        """The learning-rate multiplier of ``variable`` (a variable this optimizer updates)."""
        return self._multipliers[self._get_variable_index(variable)]

    def update_step(self, gradient, variable, learning_rate):  # noqa: D102
        factor = self.multiplier(variable)
        if factor != 1.0:
            learning_rate = keras.ops.multiply(learning_rate, factor)
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):  # noqa: D102
        return {**super().get_config(), "learning_rate_multipliers": self.learning_rate_multipliers}


def layer_decay_multipliers(model: keras.Model, decay: float) -> dict[str, float]:
    """Learning-rate multipliers that shrink by ``decay`` per layer group from the top down.

    The groups are the model's `layer_groups`
    (embeddings, each transformer layer, top): of ``n`` groups, group ``i`` gets
    ``decay ** (n - 1 - i)``, so the top (head, pooler) gets 1.0, the last transformer
    layer ``decay`` and the embeddings ``decay ** (n - 1)``. A variable in several
    groups (a layer shared across depths, as in ALBERT) gets the multiplier of the
    deepest (topmost) group it is in: the largest, so a shared layer learns at least as
    fast as any single depth that uses it. A trainable variable in no group gets 1.0.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.training import layer_decay_multipliers
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None)
        >>> m = layer_decay_multipliers(model, 0.5)
        >>> m["logits/kernel"], m["transformer_layer_1/feedforward_output_dense/bias"]
        (1.0, 0.5)
        >>> m["transformer_layer_0/feedforward_output_dense/bias"], m["token_embedding/embeddings"]
        (0.25, 0.125)
    """
    decay = _checks.check_number("layer_decay", decay, minimum=0, maximum=1, open_min=True)
    groups = model.layer_groups()
    depth: dict[int, int] = {}
    for i, group in enumerate(groups):
        for variable in group:
            depth[id(variable)] = i  # later (deeper) groups win
    top = len(groups) - 1
    return {
        v.path: float(decay ** (top - depth.get(id(v), top))) for v in model.trainable_variables
    }


@dataclasses.dataclass
class FinetuneHistory:
    """What `finetune` did, one record per epoch across both phases.

    Attributes:
        epochs: Per-epoch dicts: ``phase`` (``"frozen"``/``"full"``), ``epoch``
            (1-based, counted across phases), ``loss``, ``accuracy``, ``val_*``,
            ``learning_rate`` (at the end of the epoch) and ``seconds``.
        monitor: The metric used for early stopping and restore-best.
        best_epoch: The epoch with the best ``monitor`` value (None without one).
        restored_best: Whether the best epoch's weights were put back at the end.
        stopped_early: Whether ``patience`` ended a phase early.
        settings: The resolved settings of the run (learning rates, steps...).
        timings: Seconds spent tokenizing, caching features and in each phase.
        thresholds: A multi-label model's per-label decision thresholds, tuned on
            ``validation_data`` after training (also in ``model.task.thresholds``); None
            for a single-label model, or without validation data (0.5 for every label).
    """

    epochs: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    monitor: str | None = None
    best_epoch: int | None = None
    restored_best: bool = False
    stopped_early: bool = False
    settings: dict[str, Any] = dataclasses.field(default_factory=dict)
    timings: dict[str, float] = dataclasses.field(default_factory=dict)
    thresholds: tuple[float, ...] | None = None

    @property
    def history(self) -> dict[str, list[Any]]:
        """Column view like ``keras.callbacks.History.history`` (plus ``phase``/``epoch``)."""
        keys: list[str] = []
        for record in self.epochs:
            keys += [k for k in record if k not in keys]
        return {k: [r.get(k) for r in self.epochs] for k in keys}

    def to_dataframe(self):
        """The per-epoch records as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.epochs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict of everything recorded."""
        return dataclasses.asdict(self)

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The history as JSON; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            atomic_write_text(path, text)
        return text


def finetune(
    model: keras.Model,
    train: Any,
    validation_data: Any = None,
    *,
    epochs: int | None = None,
    freeze_epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    head_learning_rate: float | None = None,
    warmup_ratio: float | None = None,
    weight_decay: float | None = None,
    clipnorm: float | None = 1.0,
    layer_decay: float | None = None,
    restore_best: bool = True,
    monitor: str | None = None,
    patience: int | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    seed: int | None = None,
    class_weight: Mapping[Any, float] | str | None = None,
    strategy: tf.distribute.Strategy | None = None,
    cache_features: bool = True,
    jit_compile: bool | str = "auto",
    micro_batch_tokens: int | str | None = "auto",
    text_column: str | Sequence[str] | None = None,
    label_column: str | Sequence[str] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
    text_pair_column: str | Sequence[str] | None = None,
    truncation: str | None = None,
    label_delimiter: str | None = None,
    precision: str = "auto",
) -> FinetuneHistory:
    """Fine-tune a zoo classifier: frozen backbone first, then everything with AdamW + warmup.

    Settings left as None come from the model's catalog entry (``finetune`` table),
    then from `DEFAULTS`. ``epochs`` counts all epochs, the first
    ``freeze_epochs`` of them with the backbone frozen. Models without a pretrained
    backbone (``scratch``) skip the frozen phase, and their vocabulary is learned from
    the training texts when it has not been yet.

    The loss, metrics and decisions come from the model's
    [`Task`][tfx_textzoo.tasks.Task] (``model.task``):

    - multi-label (``textzoo.load(..., multi_label=True)``): binary cross-entropy and
      micro F1; each text has a set of labels (possibly empty). After training, one
      decision threshold per label is tuned on ``validation_data``
      ([`tune_thresholds`][tfx_textzoo.tasks.tune_thresholds]: the F1-maximising one)
      and stored in ``model.task.thresholds`` (and ``history.thresholds``); without
      validation data every label's threshold is 0.5.
    - text pairs (premise and hypothesis, question and passage): pass pairs as
      ``((texts_a, texts_b), labels)``, ``([(a, b), ...], labels)``, a ``TextDataset``
      with ``text_pairs`` or ``text_pair_column=``; each pair is packed as two segments
      and the model is marked ``model.task.text_pair`` (predict then takes pairs).
    - ``truncation``: which tokens of a text longer than the sequence length are
      read; stored in ``model.task.truncation`` for predict and evaluate.

    Args:
        model: A classifier from [`tfx_textzoo.load`][tfx_textzoo.load] (or a reloaded one).
        train: ``(texts, labels)``, ``((texts_a, texts_b), labels)``, a ``TextDataset``,
            a ``tf.data.Dataset`` of ``(text, label)`` or ``((a, b), label)`` (batched or
            not), a pandas DataFrame or a Hugging Face ``datasets.Dataset``. Labels are
            ints or names from ``model.labels``; for a multi-label model, a label set
            per text (a list of names or ids, possibly empty), a 0/1 matrix
            ``(n, len(model.labels))``, or delimited strings (``label_delimiter``); see
            [`as_examples`][tfx_textzoo.datasets.as_examples]. A ``TextDataset`` whose
            ``label_names`` are the model's in another order is matched by name (as
            [`evaluate`][tfx_textzoo.evaluate] does), one with other classes is refused.
        validation_data: Same forms as ``train`` (pairs if ``train`` has pairs);
            enables val metrics, restore-best, early stopping and, for a multi-label
            model, the tuning of its thresholds.
        epochs: Total epochs (both phases).
        freeze_epochs: Epochs with the backbone frozen (phase 1).
        batch_size: Texts per batch (the global batch under a ``strategy``).
        learning_rate: Peak learning rate of phase 2.
        head_learning_rate: Learning rate of the head in phase 1.
        warmup_ratio: Fraction of phase-2 steps spent warming up.
        weight_decay: AdamW weight decay (not applied to biases and LayerNorm).
        clipnorm: Global gradient-norm clipping, > 0 (None to disable).
        layer_decay: Layer-wise learning-rate decay factor in (0, 1], e.g. 0.8 (default:
            the catalog entry's, as ELECTRA's 0.8; off where it names none).
        restore_best: Put back the weights of the best epoch (by ``monitor``) at the end.
        monitor: Metric for restore-best/early stopping (default ``"val_accuracy"``, for
            a multi-label model ``"val_micro_f1"``, or ``"loss"`` without validation
            data): ``"loss"``, ``"accuracy"`` (multi-label: ``"micro_f1"``, the F1 of all
            label decisions at 0.5), or with ``validation_data`` their ``val_`` forms.
            ``accuracy`` and ``micro_f1`` are maximised.
        patience: Stop a phase after this many epochs without improvement (an int >= 0;
            0 and 1 both stop at the first epoch without improvement).
        checkpoint_dir: Write ``last.weights.h5``, ``best.weights.h5`` and
            ``history.json`` there after every epoch (atomically). Checked writable
            before training starts.
        seed: Seed for initialisation, dropout and shuffling (reproducible runs): an
            int in ``0 .. 2**32 - 1``.
        class_weight: ``{label: weight}`` (ints or label names; weights finite and
            >= 0, unlisted classes weigh 1), or ``"balanced"``. Single-label models
            only: a multi-label model's rare labels are served by their thresholds,
            tuned on ``validation_data``.
        strategy: A ``tf.distribute`` strategy; the model must have been created under
            its ``scope()``.
        cache_features: In phase 1, compute the frozen backbone's features once.
        jit_compile: XLA-compile the train step: True, False or ``"auto"`` (on a GPU;
            on a CPU only for float32 runs of at least `XLA_MIN_STEPS_ON_CPU` steps,
            where the faster steps make up for compiling one graph per bucket shape).
        micro_batch_tokens: The most tokens (texts x padded length) one forward and
            backward pass holds: a batch with more runs in micro-batches whose gradients
            are summed before its one optimizer step (the same update, with the memory
            of a micro-batch: `micro_batched_train_step`). ``"auto"``: on a CPU
            `MICRO_BATCH_TOKENS_ON_CPU` for long texts (when a batch of the median
            text has more than `MICRO_BATCH_AUTO_MIN_TOKENS`: MiniLM at 256 tokens
            trains faster in micro-batches of 8 and peaks at about half the memory),
            else and on a GPU never. None: never. Not with XLA.
        precision: What the backbone computes in while it trains: ``"auto"``
            (``"mixed_bfloat16"`` on a CPU with native bfloat16 dot products and no GPU,
            else ``"float32"``), ``"float32"`` or ``"mixed_bfloat16"``. The weights,
            the optimizer, the head and the loss stay float32, and the model keeps its
            own policy afterwards (see [`tfx_textzoo.precision`][tfx_textzoo.precision]).
        text_column: Text column(s) of a DataFrame / HF dataset (several are joined).
        label_column: Label column of a DataFrame / HF dataset; for a multi-label
            model also a list of 0/1 columns, one per label.
        callbacks: Extra Keras callbacks (they see the model being trained in each phase).
        verbose: Keras verbosity (``"auto"``: a progress bar with ETA).
        text_pair_column: The column of the second text of each pair (a DataFrame / HF
            dataset); the model then reads pairs.
        truncation: ``"head"`` (the first tokens), ``"tail"`` (the last ones) or
            ``"head+tail"`` (the first quarter of the budget and the rest from the end),
            for texts longer than the sequence length. None: the model's
            (``model.task.truncation``, ``"head"`` unless set). Stored on the task.
        label_delimiter: For a multi-label model, split string labels on it
            (``"joy|surprise"`` with ``"|"``).

    Returns:
        A [`FinetuneHistory`][tfx_textzoo.training.FinetuneHistory] with both phases
        (and, for a multi-label model, the tuned ``thresholds``). ``model.task`` then
        records what the model was trained for: its thresholds, ``text_pair`` and
        ``truncation``.

    Raises:
        tfx_textzoo.errors.InvalidArgumentError: A setting of the wrong type or range
            (also one from the catalog entry), named as passed; a ``ValueError``
            (and, for a wrong type, a ``TypeError``).
        tfx_textzoo.errors.LabelMismatchError: Data whose classes are not the model's.
        tfx_textzoo.errors.SingleClassError: Single-label training data of one class.
        tfx_textzoo.errors.OutputNotWritableError: ``checkpoint_dir`` cannot be written.
        tfx_textzoo.errors.TrainingDivergedError: The training loss became NaN or
            infinite (the message names the epoch, the phase and the learning rate).
        ValueError / TypeError: Bad inputs, with what to change.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> model = textzoo.load("bert-tiny", labels=["neg", "pos"], weights=None,
        ...                      num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32)
        >>> texts = ["great film", "awful film", "loved it", "hated it"] * 4
        >>> labels = ["pos", "neg", "pos", "neg"] * 4
        >>> history = textzoo.finetune(model, (texts, labels), epochs=2, freeze_epochs=1,
        ...                            batch_size=4, seed=0, verbose=0)
        >>> [(r["phase"], r["epoch"]) for r in history.epochs]
        [('frozen', 1), ('full', 2)]
    """
    started = time.perf_counter()
    check_zoo_classifier(model, "finetune")
    settings = _settings(
        model,
        epochs=epochs,
        freeze_epochs=freeze_epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        head_learning_rate=head_learning_rate,
        warmup_ratio=warmup_ratio,
        weight_decay=weight_decay,
        layer_decay=layer_decay,
    )
    clipnorm = _checks.check_number(
        "clipnorm",
        clipnorm,
        minimum=0,
        open_min=True,
        optional=True,
        detail="use None to turn clipping off",
    )
    layer_decay = settings["layer_decay"]
    restore_best = _checks.check_bool("restore_best", restore_best)
    cache_features = _checks.check_bool("cache_features", cache_features)
    patience = _checks.check_int("patience", patience, minimum=0, optional=True)
    seed = _checks.check_seed(seed)
    jit_compile = _checks.check_jit_compile(jit_compile)
    micro_batch_tokens = _checks.check_micro_batch_tokens(micro_batch_tokens)
    verbose = _checks.check_verbose(verbose)
    policy = resolve_precision(precision)
    task = tasks.of(model)
    text_column = _checks.check_columns("text_column", text_column)
    text_pair_column = _checks.check_columns("text_pair_column", text_pair_column)
    label_column = _checks.check_columns("label_column", label_column, several=task.multi_label)
    truncation = task.truncation if truncation is None else tasks.check_truncation(truncation)
    callbacks = _checks.check_callbacks(callbacks, keras.callbacks.Callback)
    monitor = _check_monitor(monitor, validation_data is not None, task)
    checkpoint_dir = _checks.check_path("checkpoint_dir", checkpoint_dir)
    num_classes = int(model.outputs[0].shape[-1])
    label_names = model.labels
    if task.multi_label and class_weight is not None:
        raise _checks.InvalidArgumentError(
            "class_weight",
            class_weight,
            "None for a multi-label model",
            "class weights weigh the one class of each text; in a multi-label model each "
            "label is a yes/no decision of its own, and a rare label is served by its own "
            "decision threshold, which finetune tunes on validation_data: pass "
            "validation_data (or oversample the texts with rare labels)",
        )
    if not (isinstance(class_weight, str) and class_weight == "balanced"):
        class_weight = _checks.check_class_weight(class_weight, num_classes, label_names)
    if strategy is not None and not isinstance(strategy, tf.distribute.Strategy):
        raise InvalidArgumentTypeError("strategy", strategy, "a tf.distribute.Strategy or None")
    strategy = strategy or tf.distribute.get_strategy()
    chief = is_chief(strategy)
    if checkpoint_dir is not None and chief:  # before any long work: tokenizing, a step
        checkpoint_dir = check_writable_dir(checkpoint_dir, "checkpoint_dir")

    def examples(data, what):
        return as_examples(
            _checks.align_labels(data, label_names, what),
            multi_label=task.multi_label,
            label_names=label_names,
            num_classes=num_classes,
            text_column=text_column,
            text_pair_column=text_pair_column,
            label_column=label_column,
            label_delimiter=label_delimiter,
            what=what,
        )

    texts, pairs, labels = examples(train, "train")
    validation = None
    if validation_data is not None:
        validation = examples(validation_data, "validation_data")
    _check_pairs(task, pairs, validation)
    if task.multi_label:
        _check_label_sets(labels, label_names, "train")
    else:
        check_two_classes(labels, label_names, "train")
    _check_strategy(model, strategy)
    if strategy.extended._in_multi_worker_mode():
        seed = _agreed_seed(strategy, seed)  # every worker must shuffle alike
    if seed is not None:
        keras.utils.set_random_seed(seed)
    weights_by_class = _class_weight(class_weight, labels, num_classes, label_names)

    pretrained = model.has_pretrained_backbone
    freeze = settings["freeze_epochs"] if pretrained else 0
    if not pretrained and settings["freeze_epochs"] and freeze_epochs:
        _log(verbose, "This model has no pretrained backbone: skipping the frozen phase.")
    if pairs is None:
        model.prepare_tokenizer(texts.tolist())
    else:  # a tokenizer that learns (scratch) learns the pair separator too
        model.prepare_tokenizer(texts.tolist(), pairs.tolist())

    history = FinetuneHistory(settings={**settings, "freeze_epochs": freeze, "precision": policy})
    # Accuracy, not loss: as a fine-tuned model grows confident, val_loss often rises
    # while val_accuracy still improves (SST-2 with all-minilm-l6-v2: see the docs).
    history.monitor = monitor or (f"val_{task.metric_name}" if validation is not None else "loss")
    tracker = _Tracker(
        model,
        history,
        patience=patience,
        checkpoint_dir=checkpoint_dir,
        chief=chief,
    )

    tick = time.perf_counter()
    train_tok = preprocessing.tokenize(
        model, texts, labels, text_pairs=pairs, truncation=truncation
    )
    val_tok = None
    if validation is not None:
        val_tok = preprocessing.tokenize(
            model,
            validation.texts,
            validation.labels,
            text_pairs=validation.text_pairs,
            truncation=truncation,
        )
    history.timings["tokenize"] = time.perf_counter() - tick
    batch = settings["batch_size"]
    fit_kwargs = {
        "class_weight": weights_by_class,
        "verbose": verbose,
        "shuffle": False,  # the datasets shuffle themselves
        "callbacks": [tracker, *(callbacks or [])],
    }
    epochs_total = settings["epochs"]

    # The backbone computes in the policy while it trains (the head and the loss stay
    # float32); the model a user holds keeps its own policy afterwards.
    with computing_in(model, policy):
        optimizer = None
        if freeze > 0:
            tick = time.perf_counter()
            tracker.phase = "frozen"
            model.backbone.trainable = False
            try:
                with strategy.scope():
                    optimizer = _frozen_phase(
                        model,
                        train_tok,
                        val_tok,
                        make_optimizer=lambda: _adamw(
                            settings["head_learning_rate"], settings["weight_decay"], clipnorm, None
                        ),
                        epochs=min(freeze, epochs_total),
                        batch_size=batch,
                        seed=seed,
                        cache_features=cache_features,
                        jit_compile=jit_compile,
                        micro_batch_tokens=micro_batch_tokens,
                        precision=policy,
                        history=history,
                        fit_kwargs=fit_kwargs,
                        strategy=strategy,
                    )
            finally:
                model.backbone.trainable = True
                model.freeze_unused()  # e.g. the BERT pooler under mean pooling
            history.timings["frozen_phase"] = time.perf_counter() - tick

        full_epochs = epochs_total - min(freeze, epochs_total)
        if full_epochs > 0:
            tick = time.perf_counter()
            steps = preprocessing.num_batches(train_tok, batch) * full_epochs
            jit = _use_xla(jit_compile, steps, policy)
            warmup = int(round(settings["warmup_ratio"] * steps))
            schedule = WarmupLinearDecay(settings["learning_rate"], warmup, steps)
            multipliers = (
                layer_decay_multipliers(model, layer_decay) if layer_decay is not None else None
            )
            micro = _micro_batch_tokens(micro_batch_tokens, jit, batch, train_tok)
            history.settings.update(
                total_steps=steps, warmup_steps=warmup, jit_compile=jit, micro_batch_tokens=micro
            )
            with strategy.scope():
                core, optimizer = _compiled(
                    model,
                    "full",
                    lambda: core_model(model),
                    lambda: _adamw(schedule, settings["weight_decay"], clipnorm, multipliers),
                    jit,
                    micro,
                    precision=policy,
                )
                tracker.phase = "full"
                _fit(
                    core,
                    strategy,
                    lambda: preprocessing.training_dataset(
                        train_tok, batch, seed=seed, pad_to_bucket=jit
                    ),
                    preprocessing.num_batches(train_tok, batch),
                    _eval_dataset(val_tok, batch, jit),
                    fit_kwargs,
                    initial_epoch=len(history.epochs),
                    epochs=len(history.epochs) + full_epochs,
                )
            history.timings["full_phase"] = time.perf_counter() - tick

    restore = restore_best and (validation is not None or monitor is not None)
    if restore and tracker.best_weights is not None and history.best_epoch != len(history.epochs):
        model.set_weights(tracker.best_weights)
        history.restored_best = True
    _check_finite_weights(model, history)
    task = task.replace(text_pair=pairs is not None, truncation=truncation, thresholds=None)
    if task.multi_label:
        task = task.replace(
            thresholds=_tuned_thresholds(model, val_tok, validation, batch, policy)
        )
        history.thresholds = task.thresholds
        _log_thresholds(verbose, task.thresholds, label_names, validation is not None)
    model.task = task
    if optimizer is not None:  # the model keeps its last optimizer (and schedule) when saved
        with strategy.scope():
            model.compile(optimizer=optimizer, **loss_and_metrics(task))
    history.timings["total"] = time.perf_counter() - started
    if tracker.checkpoint_dir is not None and chief:
        history.to_json(tracker.checkpoint_dir / "history.json")
    return history


class WorkerLostError(RuntimeError):
    """A multi-worker run lost a worker (or could not reach one) during a collective.

    Raised by [`finetune`][tfx_textzoo.finetune] on the workers still running when
    another one died, was killed or stopped answering for longer than the strategy's
    collective timeout. The run cannot go on with fewer workers: restart every worker;
    with ``checkpoint_dir`` the chief's ``last.weights.h5`` holds the last finished
    epoch.
    """


def cluster_strategy(timeout_seconds: float | None = None) -> tf.distribute.Strategy:
    """``MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` is set, else the default strategy.

    Call it first, before anything else runs a TensorFlow op: collectives can only be
    configured at program startup. Build the model under the returned strategy's
    ``scope()`` and pass it to [`finetune`][tfx_textzoo.finetune] as ``strategy=``
    (both are no-ops with the default strategy). ``TF_CONFIG`` is the variable
    Kubernetes operators and Vertex AI set for TensorFlow jobs::

        {"cluster": {"worker": ["host1:12345", "host2:12345"]},
         "task": {"type": "worker", "index": 0}}

    Args:
        timeout_seconds: Seconds any collective (gradient all-reduce, ...) may wait for
            the other workers before failing; None waits until TensorFlow's peer health
            check notices a dead worker. Must exceed the longest step, the first
            (graph tracing) included.

    Returns:
        A ``tf.distribute.Strategy``.

    Examples:
        >>> from tfx_textzoo.training import cluster_strategy
        >>> type(cluster_strategy()).__name__  # no TF_CONFIG here
        '_DefaultDistributionStrategy'
    """
    if not os.environ.get("TF_CONFIG"):
        return tf.distribute.get_strategy()
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout_seconds)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """Whether this process writes the run's files: always, except on a cluster's other workers.

    Under ``MultiWorkerMirroredStrategy`` the chief is worker 0 (or the ``chief`` task);
    [`finetune`][tfx_textzoo.finetune] writes ``checkpoint_dir`` only there.

    Examples:
        >>> from tfx_textzoo.training import is_chief
        >>> is_chief()
        True
    """
    strategy = strategy or tf.distribute.get_strategy()
    return bool(strategy.extended.should_checkpoint)


def worker_output(path: str | os.PathLike, strategy: tf.distribute.Strategy) -> str:
    """``path`` on the chief; on other workers a fresh temporary path, deleted at exit.

    The usual TensorFlow pattern for saving in a multi-worker job: every worker runs the
    same saving code (so that any collective in it runs everywhere), and only the
    chief's files are kept.

    Examples:
        >>> import tensorflow as tf
        >>> from tfx_textzoo.training import worker_output
        >>> worker_output("runs/demo", tf.distribute.get_strategy())
        'runs/demo'
    """
    if is_chief(strategy):
        return os.fspath(path)
    scratch = tempfile.mkdtemp(prefix="textzoo-worker-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return os.path.join(scratch, os.path.basename(os.path.normpath(os.fspath(path))) or "output")


def _frozen_phase(
    model,
    train_tok,
    val_tok,
    *,
    make_optimizer,
    epochs,
    batch_size,
    seed,
    cache_features,
    jit_compile,
    history,
    fit_kwargs,
    strategy,
    micro_batch_tokens="auto",
    precision="float32",
):
    head = None
    if cache_features:  # a small dense head: XLA only pays off on a GPU
        head, optimizer = _compiled(
            model,
            "frozen-head",
            lambda: _head_model(model),
            make_optimizer,
            _use_xla(jit_compile, 0),
            precision=precision,
        )
    if head is None:
        jit_compile = _use_xla(
            jit_compile, preprocessing.num_batches(train_tok, batch_size) * epochs, precision
        )
        core, optimizer = _compiled(
            model,
            "frozen",
            lambda: core_model(model),
            make_optimizer,
            jit_compile,
            _micro_batch_tokens(micro_batch_tokens, jit_compile, batch_size, train_tok),
            precision=precision,
        )
        _fit(
            core,
            strategy,
            lambda: preprocessing.training_dataset(
                train_tok, batch_size, seed=seed, pad_to_bucket=jit_compile
            ),
            preprocessing.num_batches(train_tok, batch_size),
            _eval_dataset(val_tok, batch_size, jit_compile),
            fit_kwargs,
            epochs=epochs,
        )
        return optimizer
    tick = time.perf_counter()
    features = _pooled_features(model, train_tok, batch_size, precision)
    val = None
    if val_tok is not None:
        val = (_pooled_features(model, val_tok, batch_size, precision), val_tok.labels)
    history.timings["feature_cache"] = time.perf_counter() - tick

    def train_data():
        return (
            tf.data.Dataset.from_tensor_slices((features, train_tok.labels))
            .shuffle(len(features), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .prefetch(preprocessing.PREFETCH)
            .apply(preprocessing.without_autotune)
        )

    val_data = None
    if val is not None:
        val_batch = max(batch_size, 256)
        val_data = (
            lambda: tf.data.Dataset.from_tensor_slices(val).batch(val_batch),
            math.ceil(len(val[1]) / val_batch),
        )
    _fit(
        head,
        strategy,
        train_data,
        math.ceil(len(features) / batch_size),
        val_data,
        fit_kwargs,
        epochs=epochs,
    )
    return optimizer


#: On CPU, XLA makes a BERT L4-H128 train step ~1.3x faster but compiling it for every
#: bucket shape takes about a minute; below this many steps that does not pay off
#: (measured by benchmarks/finetune_throughput.py, see the docs).
XLA_MIN_STEPS_ON_CPU = 2000


def _use_xla(jit_compile, steps: int, precision: str = "float32") -> bool:
    """Resolve ``jit_compile="auto"``: always on a GPU, on a CPU for long enough runs.

    Not on a CPU in bfloat16: XLA's CPU backend ran a bfloat16 BERT L4-H128 slower than
    TensorFlow's oneDNN kernels (predict: 0.86x, ``benchmarks/inference_throughput.py``).
    """
    if jit_compile != "auto":
        return bool(jit_compile)
    if tf.config.list_physical_devices("GPU"):
        return True
    return precision == "float32" and steps >= XLA_MIN_STEPS_ON_CPU


def _compiled(
    model, kind, make_model, make_optimizer, jit_compile, micro_batch_tokens=None, precision=None
):
    """``(trainer, optimizer)`` for one phase: cached when the settings are unchanged.

    A reused optimizer gets its state (step count, moments) reset, so every call starts
    from a fresh optimizer exactly as a newly built one would. With
    ``micro_batch_tokens``, the trainer's step runs its batch in micro-batches
    (`micro_batched_train_step`).
    """
    optimizer = make_optimizer()
    if isinstance(optimizer, FusedAdamW):
        optimizer.fused = not jit_compile
    key = (
        type(optimizer).__name__,
        json.dumps(
            {k: v for k, v in optimizer.get_config().items() if k != "name"},
            sort_keys=True,
            default=lambda o: keras.saving.serialize_keras_object(o),
        ),
        bool(jit_compile),
        tasks.of(model).multi_label,  # the loss and metrics
        micro_batch_tokens,
        precision,  # the policy the step was traced in
        id(tf.distribute.get_strategy()),
        tuple(v.path for v in model.trainable_variables),
    )
    cache = _COMPILED.setdefault(model, {})
    if kind in cache and cache[kind][0] == key:
        trainer, optimizer = cache[kind][1:]
        for variable in optimizer.variables:
            if variable is not getattr(optimizer, "_learning_rate", None):
                variable.assign(keras.ops.zeros(variable.shape, variable.dtype))
        return trainer, optimizer
    trainer = make_model()
    if trainer is None:
        return None, optimizer
    trainer.compile(
        optimizer=optimizer, jit_compile=jit_compile, **loss_and_metrics(tasks.of(model))
    )
    if not optimizer.built:
        # In the model's variable order (a family's shortcut graph lists its layers in
        # another), so the optimizer state saved with the model loads back into it.
        optimizer.build(model.trainable_variables)
    if micro_batch_tokens is not None:
        # Not setattr: Keras layers track attributes; this is a plain method override.
        object.__setattr__(
            trainer, "train_step", micro_batched_train_step(trainer, micro_batch_tokens)
        )
    if tf.distribute.get_strategy().num_replicas_in_sync > 1:
        # Not setattr: Keras layers track attributes; this is a plain method override.
        object.__setattr__(
            trainer, "_maybe_symbolic_build", types.MethodType(_build_from_one_replica, trainer)
        )
    if tf.distribute.get_strategy().extended._in_multi_worker_mode():
        for step in ("train_step", "test_step"):
            object.__setattr__(trainer, step, _vector_logs(getattr(trainer, step)))
    cache[kind] = (key, trainer, optimizer)
    return trainer, optimizer


#: ``micro_batch_tokens="auto"`` on a CPU: the most tokens (texts x padded length) one
#: forward and backward pass holds. MiniLM-L6-H384 at 256 tokens, batch 32, on this
#: project's 2-core CPU: whole batches ran at 1.6 texts/s with a peak RSS of 5.5 GB,
#: micro-batches of 8 texts at 1.9/s with 2.6 GB (attention's batch x heads x length^2
#: tensors dominate the memory).
MICRO_BATCH_TOKENS_ON_CPU = 2048

#: ``"auto"`` splits batches only for long texts: when a batch of the median text holds
#: more than this many tokens. Short texts are not split: BERT L4-H128 on AG News (a
#: median of about 50 tokens) trained 5% slower with its longest batches split.
MICRO_BATCH_AUTO_MIN_TOKENS = 2 * MICRO_BATCH_TOKENS_ON_CPU


def _micro_batch_tokens(setting, jit_compile: bool, batch_size: int, tok) -> int | None:
    """Resolve ``micro_batch_tokens`` for one phase: None when no batch would be split."""
    if setting is None or jit_compile or not len(tok.lengths):
        return None
    if setting == "auto":
        median = float(np.median(tok.lengths))
        if tf.config.list_physical_devices("GPU") or (
            batch_size * median <= MICRO_BATCH_AUTO_MIN_TOKENS
        ):
            return None
        setting = MICRO_BATCH_TOKENS_ON_CPU
    return setting if batch_size * int(tok.lengths.max()) > setting else None


def micro_batched_train_step(trainer: keras.Model, max_tokens: int):
    """A train step that runs each batch in micro-batches of at most ``max_tokens`` tokens.

    A batch of ``n`` texts padded to ``length`` tokens is cut into the fewest
    consecutive micro-batches of at most ``max(1, max_tokens // length)`` texts, of
    sizes as even as can be (32 texts of 66 tokens with 2,048: 16 + 16, not 31 + 1). Each
    one's loss is
    weighted by its share of the batch (so that the sum is the batch's mean loss, also
    with sample or class weights), its gradients are summed, and the optimizer steps
    once with the sum: the same update as the whole batch (up to float rounding and
    the dropout masks drawn), with the memory of one micro-batch. The loss and metrics
    are those of the whole batch. Used by `finetune` (``micro_batch_tokens``); not
    under XLA (the number of micro-batches depends on the bucket).

    Args:
        trainer: A compiled Keras model with one output.
        max_tokens: The most tokens (texts x padded length) per forward pass.

    Returns:
        A function to use as ``trainer.train_step``.

    Examples:
        >>> import numpy as np, keras
        >>> from tfx_textzoo.training import micro_batched_train_step
        >>> x = keras.Input((None,), dtype="int32")
        >>> h = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(50, 4)(x))
        >>> m = keras.Model(x, keras.layers.Dense(2, activation="softmax")(h))
        >>> m.compile("sgd", "sparse_categorical_crossentropy")
        >>> m.train_step = micro_batched_train_step(m, max_tokens=20)  # 2 texts of 10
        >>> ids, y = np.ones((5, 10), "int32"), np.array([0, 1, 0, 1, 1])
        >>> bool(np.isfinite(m.fit(ids, y, batch_size=5, verbose=0).history["loss"][0]))
        True
    """
    max_tokens = int(max_tokens)
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")

    def train_step(data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        first = next(t for t in tf.nest.flatten(x) if t is not None)
        n = tf.shape(first)[0]
        size = tf.maximum(1, max_tokens // tf.maximum(tf.shape(first)[1], 1))
        count = (n + size - 1) // size
        size = (n + count - 1) // tf.maximum(count, 1)  # as even as can be, no more passes
        weights = trainer.trainable_weights
        missing = []  # the weights a micro-batch gives no gradient (static per trace)

        def rows(structure, start):
            return tf.nest.map_structure(
                lambda t: None if t is None else t[start : start + size], structure
            )

        def body(i, sums, loss_sum, predictions):
            start = i * size
            xi, yi, wi = rows(x, start), rows(y, start), rows(sample_weight, start)
            share = tf.cast(tf.shape(tf.nest.flatten(yi)[0])[0], "float32") / tf.cast(
                n, "float32"
            )
            with tf.GradientTape() as tape:
                pred = trainer(xi, training=True)
                loss = trainer.compute_loss(xi, yi, pred, wi, training=True)
                loss = loss * tf.cast(share, loss.dtype)
                scaled = trainer.optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, weights)
            missing[:] = [k for k, g in enumerate(grads) if g is None]
            sums = [
                s if g is None else s + tf.convert_to_tensor(g)
                for s, g in zip(sums, grads, strict=True)
            ]
            return i + 1, sums, loss_sum + tf.cast(loss, "float32"), predictions.write(i, pred)

        sums = [tf.zeros_like(w) for w in weights]
        out = trainer.outputs[0]
        predictions = tf.TensorArray(out.dtype, size=count, infer_shape=False)
        _, sums, loss, predictions = tf.while_loop(
            lambda i, *_: i < count,
            body,
            (tf.constant(0), sums, tf.constant(0.0), predictions),
            parallel_iterations=1,  # one micro-batch's activations at a time
        )
        y_pred = predictions.concat()
        y_pred.set_shape([None, *out.shape[1:]])
        # What Keras' own train_step (3.15) logs as "loss": the batch's, per replica.
        from keras.src.losses.loss import unscale_loss_for_distribution

        trainer._loss_tracker.update_state(unscale_loss_for_distribution(loss), sample_weight=n)
        trainer.optimizer.apply_gradients(
            (None if k in missing else g, w)
            for k, (g, w) in enumerate(zip(sums, weights, strict=True))
        )
        return trainer.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    return train_step


#: What a collective raises when a peer died, was killed or did not answer in time.
_CLUSTER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.DeadlineExceededError,
    tf.errors.AbortedError,
    tf.errors.CancelledError,
)


def _fit(trainer, strategy, make_train, steps, validation, fit_kwargs, **kwargs):
    """``trainer.fit`` on the global batches of ``make_train()``, cut per replica if need be.

    With one replica the training batches go to Keras whole (repeated, ``steps`` per
    epoch, so that every epoch's batches are those a cluster sees). With several (one machine's
    devices or a cluster's workers), every worker builds the same global batches (the
    same shuffle seed) and keeps its replicas' row ranges of each
    ([`shard_batches`][tfx_textzoo.preprocessing.shard_batches]): each text is read once
    per epoch across all workers, a step holds the same texts as the step of one
    process with the same ``batch_size``, and every replica runs ``steps`` steps per
    epoch, also on a bucket's last, partial batch (some shards are then smaller, or
    empty). The datasets repeat and Keras runs ``steps`` per epoch, so that its
    iterators never run dry on one worker only. Class weights become sample weights
    before the batches are cut.

    Args:
        trainer: The compiled Keras model to fit.
        strategy: The strategy the trainer was compiled under.
        make_train: Builds the training dataset of global batches ``(x, y)``.
        steps: Batches of ``make_train()`` per epoch.
        validation: ``(make the validation dataset, its number of batches)`` or None.
        fit_kwargs: ``class_weight``, ``callbacks``, ``verbose``, ``shuffle``.
        **kwargs: ``epochs`` and ``initial_epoch``.
    """
    if strategy.num_replicas_in_sync == 1:
        # Repeated, as under a cluster: Keras re-iterating the dataset every epoch would
        # draw other reshuffles than repeat() does, so one process and a cluster with the
        # same seed would see other batches from the second epoch on.
        val = validation[0]() if validation is not None else None
        # Repeated exactly as often as this fit runs epochs: an endless repeat() has its
        # prefetch thread build batches of an epoch nobody reads after the last step.
        epochs = kwargs["epochs"] - kwargs.get("initial_epoch", 0)
        return trainer.fit(
            make_train().repeat(max(epochs, 1)),
            steps_per_epoch=steps,
            validation_data=val,
            **fit_kwargs,
            **kwargs,
        )
    class_weight = fit_kwargs.get("class_weight")
    num_classes = int(trainer.outputs[0].shape[-1])
    sample = _weighted(make_train(), class_weight, num_classes)
    object.__setattr__(trainer, "_textzoo_batch_spec", sample.element_spec)
    epochs = kwargs["epochs"] - kwargs.get("initial_epoch", 0)
    train = _per_replica(
        strategy, lambda: _weighted(make_train(), class_weight, num_classes), max(epochs, 1)
    )
    val_kwargs = {}
    if validation is not None:
        val_kwargs = {
            "validation_data": _per_replica(strategy, validation[0]),
            "validation_steps": validation[1],
        }
    fit_kwargs = {**fit_kwargs, "class_weight": None}
    try:
        return trainer.fit(train, steps_per_epoch=steps, **val_kwargs, **fit_kwargs, **kwargs)
    except _CLUSTER_ERRORS as err:
        if not strategy.extended._in_multi_worker_mode():
            raise
        raise WorkerLostError(
            f"finetune: a worker of the cluster was lost ({type(err).__name__}: "
            f"{str(err).strip().splitlines()[0][:300]}). A multi-worker run cannot go on "
            "with fewer workers: restart all of them (the chief's checkpoint_dir holds the "
            "last finished epoch). A slow worker rather than a dead one? Raise the "
            "collective timeout (cluster_strategy(timeout_seconds=...))."
        ) from err
    finally:
        object.__setattr__(trainer, "_textzoo_batch_spec", None)


def _per_replica(strategy, make_dataset, repeats=None):
    """The strategy's distributed dataset: this worker's replicas' shards, repeated.

    ``repeats``: how many epochs (None: endlessly; see `_fit` for why training data
    repeats exactly as often as its fit runs epochs).
    """

    def dataset_fn(context):
        local = context.num_replicas_in_sync // context.num_input_pipelines
        first = context.input_pipeline_id * local
        shards = preprocessing.shard_batches(
            make_dataset(), context.num_replicas_in_sync, range(first, first + local)
        )
        shards = shards.repeat(repeats).prefetch(preprocessing.PREFETCH)
        return preprocessing.without_autotune(shards)

    return strategy.distribute_datasets_from_function(dataset_fn)


def _weighted(dataset, class_weight, num_classes):
    """``(x, y)`` -> ``(x, y, weight of y)`` as Keras' ``class_weight`` does (1 if unlisted)."""
    if not class_weight:
        return dataset
    table = tf.constant([float(class_weight.get(i, 1.0)) for i in range(num_classes)])
    return dataset.map(lambda x, y: (x, y, tf.gather(table, tf.cast(y, "int32"))))


def _agreed_seed(strategy, seed):
    """The shuffle seed of a multi-worker run: ``seed``, or one the chief drew for all.

    Every worker builds the same global batches and keeps its own rows, so they must
    shuffle alike: without a seed, the first replica's random draw is summed (all-reduced)
    with zeros from the others. A given seed must be the same on every worker.
    """
    if seed is not None:
        return seed
    drawn = tf.constant(int(np.random.default_rng().integers(2**31 - 1)), tf.int64)

    def first_replica_only():
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        return tf.where(tf.equal(replica, 0), drawn, tf.zeros_like(drawn))

    total = strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(first_replica_only), None)
    return int(total)


def _vector_logs(step):
    """``step`` returning each log as a 1-element vector (Keras 3.15 under multi-worker).

    Under ``MultiWorkerMirroredStrategy`` Keras reduces every step's logs with
    ``strategy.reduce("MEAN", value, axis=0)``, which fails on the scalar metric values
    ("Invalid reduction dimension 0 for input with 0 dimensions"); a vector of one
    reduces to the scalar Keras expects. The epoch's logs are read from the metrics,
    aggregated over all replicas, so they are exact either way.
    """

    def vector_step(data):
        return keras.tree.map_structure(lambda value: tf.reshape(value, [-1]), step(data))

    return vector_step


def _build_from_one_replica(self, iterator=None, data_batch=None):
    """Keras' ``_maybe_symbolic_build``, reading shapes from one replica's shard.

    Before training under a strategy, Keras (3.15) takes the first batch and averages it
    across replicas (``strategy.reduce("MEAN")``) only to learn the input shapes. With
    length buckets, a bucket's last batch can be odd-sized and split unevenly (6 + 5
    texts), and that reduce fails ("AddN must have the same size and shape"). One
    replica's shard has the same dtypes and rank, which is all the symbolic build needs.
    Under ``_fit``'s sharding the element spec is given
    instead, so that no batch is taken from an iterator the epochs go on reading.
    """
    if self._distribute_strategy is None:
        return
    if data_batch is None and getattr(self, "_textzoo_batch_spec", None) is not None:
        data_batch = self._textzoo_batch_spec  # shapes and dtypes are all it reads
        iterator = None  # a repeated dataset's iterator lives on: take no batch from it
    if iterator is not None:
        for _, _, batches in iterator:
            data_batch = keras.tree.map_structure(
                lambda x: (
                    self.distribute_strategy.experimental_local_results(x)[0]
                    if isinstance(x, tf.distribute.DistributedValues)
                    else x
                ),
                next(batches),
            )
            break
    with self.distribute_strategy.scope():
        self._symbolic_build(data_batch=data_batch)


def _head_model(model: keras.Model) -> keras.Model:
    """The classification head as a model on the pooled features (``features_output``)."""
    return keras.Model(model.features_output, model.output, name=f"{model.name}_head")


def _pooled_features(model, tok, batch_size, precision="float32") -> np.ndarray:
    return inference.features(model, tok, max(batch_size, 64), precision=precision)


def _eval_dataset(tok, batch_size, pad_to_bucket):
    """``(make the validation dataset, its number of batches)``, or None without one."""
    if tok is None:
        return None
    make = lambda: preprocessing.sorted_dataset(  # noqa: E731
        tok, batch_size, with_labels=True, pad_to_bucket=pad_to_bucket
    )[0]
    return make, math.ceil(len(tok) / batch_size)


def _adamw(learning_rate, weight_decay, clipnorm, multipliers):
    kwargs = {"learning_rate": learning_rate, "weight_decay": weight_decay}
    if clipnorm is not None:
        kwargs["global_clipnorm"] = float(clipnorm)
    if multipliers:
        optimizer = AdamWLayerDecay(learning_rate_multipliers=multipliers, **kwargs)
    else:
        optimizer = FusedAdamW(**kwargs)
    optimizer.exclude_from_weight_decay(var_names=list(_NO_DECAY))
    return optimizer


def _settings(model, **given) -> dict[str, Any]:
    """The run's settings: given, else the catalog entry's, else `DEFAULTS`; checked."""
    from tfx_textzoo.registry import get_spec

    catalog: Mapping[str, Any] = {}
    name = model.model_name
    if name:
        try:
            catalog = get_spec(name).finetune
        except ValueError:  # a name no longer in the catalog: library defaults
            catalog = {}
    settings, sources = {}, {}
    for key, value in given.items():
        sources[key] = ""
        if value is None:
            if key in catalog:
                value, sources[key] = catalog[key], f"the catalog entry of {name!r} (finetune)"
            else:
                value = DEFAULTS[key]
        settings[key] = value
    for key in ("epochs", "batch_size"):
        settings[key] = _checks.check_int(key, settings[key], minimum=1, source=sources[key])
    freeze = settings["freeze_epochs"]
    if not _checks.is_int(freeze):
        _checks.check_int("freeze_epochs", freeze, minimum=0, source=sources["freeze_epochs"])
    if not 0 <= freeze <= settings["epochs"]:
        raise _checks.InvalidArgumentError(
            "freeze_epochs",
            int(freeze),
            f"between 0 and epochs ({settings['epochs']})",
            "epochs counts both phases" + _source_note(sources["freeze_epochs"]),
        )
    settings["freeze_epochs"] = int(freeze)
    settings["warmup_ratio"] = _checks.check_number(
        "warmup_ratio",
        settings["warmup_ratio"],
        minimum=0,
        maximum=1,
        open_max=True,
        source=sources["warmup_ratio"],
    )
    settings["weight_decay"] = _checks.check_number(
        "weight_decay", settings["weight_decay"], minimum=0, source=sources["weight_decay"]
    )
    for key in ("learning_rate", "head_learning_rate"):
        settings[key] = _checks.check_number(
            key, settings[key], minimum=0, open_min=True, source=sources[key]
        )
    settings["layer_decay"] = _checks.check_number(
        "layer_decay",
        settings["layer_decay"],
        minimum=0,
        maximum=1,
        open_min=True,
        optional=True,
        source=sources["layer_decay"],
    )
    return settings


def _check_monitor(monitor: Any, has_validation: bool, task: tasks.Task) -> str | None:
    """``monitor`` if this run records it: ``loss`` and the task's metric (and ``val_``)."""
    if not task.multi_label:
        return _checks.check_monitor(monitor, has_validation=has_validation)
    if monitor is None:
        return None
    recorded = ["loss", task.metric_name]
    names = recorded + ([f"val_{m}" for m in recorded] if has_validation else [])
    if not isinstance(monitor, str):
        raise InvalidArgumentTypeError("monitor", monitor, f"one of {names} or None")
    if monitor in names:
        return monitor
    detail = ""
    if monitor.removeprefix("val_") == "accuracy":
        detail = (
            f"a multi-label model records {task.metric_name} (the F1 of all its label "
            "decisions at 0.5), not accuracy"
        )
    elif monitor.startswith("val_") and monitor[4:] in recorded:
        detail = "val_ metrics need validation_data=...; pass it, or monitor one of the above"
    raise _checks.InvalidArgumentError("monitor", monitor, f"one of {names}", detail)


def _check_pairs(task: tasks.Task, pairs, validation) -> None:
    """Train and validation both pairs or both single texts; a pair model gets pairs."""
    has_pairs = pairs is not None
    if validation is not None and (validation.text_pairs is not None) != has_pairs:
        given, missing = ("train", "validation_data")
        if not has_pairs:
            given, missing = missing, given
        raise ValueError(
            f"finetune: {given} holds text pairs but {missing} holds single texts. Give "
            "both as pairs (((texts_a, texts_b), labels), or text_pair_column=) or both "
            "as single texts."
        )
    if task.text_pair and not has_pairs:
        raise ValueError(
            "finetune: this model was trained on text pairs (model.task.text_pair) but "
            "train holds single texts. Give pairs: ((texts_a, texts_b), labels), "
            "([(a, b), ...], labels), or a table with text_pair_column=...; to train it on "
            "single texts, load a fresh model."
        )


def _check_label_sets(labels: np.ndarray, label_names, what: str) -> None:
    """Refuse multi-label data of empty sets only, or of one set; warn about rare labels.

    Labels never (or always) on are named in a warning: a label no text has (or every
    text has) can only learn to say no (yes), and a label column or delimiter mistake
    shows at once.
    """
    labels = np.asarray(labels)
    names = list(label_names or [str(i) for i in range(labels.shape[1])])
    if len(labels) and not labels.any():
        raise SingleClassError(
            f"{what}: none of its {len(labels):,} texts has any label (every label set is "
            "empty), so there is nothing to learn. Check label_column (and "
            "label_delimiter for strings such as 'joy|love')."
        )
    check_two_classes(labels, names, what)  # the same label set for every text
    positives = labels.sum(axis=0)
    never = [n for n, c in zip(names, positives, strict=True) if c == 0]
    always = [n for n, c in zip(names, positives, strict=True) if c == len(labels)]
    problems = []
    if never:
        problems.append(f"no text has {never}: the model will learn never to predict them")
    if always:
        problems.append(f"every text has {always}: the model will learn always to predict them")
    if problems:
        warnings.warn(
            f"{what}: {'; '.join(problems)}. Add texts with (and without) them, or load the "
            "model without those labels.",
            UserWarning,
            stacklevel=3,
        )


def _tuned_thresholds(
    model, val_tok, validation, batch_size, precision="float32"
) -> tuple[float, ...] | None:
    """Per-label thresholds that maximise F1 on the validation texts (None without them)."""
    if val_tok is None:
        return None
    probs = inference.probabilities(model, val_tok, max(batch_size, 64), precision=precision)
    return tasks.tune_thresholds(probs, validation.labels)


def _log_thresholds(verbose, thresholds, label_names, tuned: bool) -> None:
    if not tuned:
        _log(
            verbose,
            "No validation_data: every label's decision threshold is 0.5 (pass "
            "validation_data to tune one per label).",
        )
        return
    names = label_names or [str(i) for i in range(len(thresholds))]
    pairs = ", ".join(f"{n}: {t:g}" for n, t in zip(names, thresholds, strict=True))
    _log(verbose, f"Decision thresholds tuned on validation_data (max F1 per label): {pairs}")


def _source_note(source: str) -> str:
    return f"; it comes from {source}: pass the argument to override it" if source else ""


def _class_weight(class_weight, labels, num_classes, label_names) -> dict[int, float] | None:
    """``{class id: weight}`` for Keras: ``"balanced"`` from the counts, or a checked dict."""
    if isinstance(class_weight, str) and class_weight == "balanced":
        counts = np.bincount(labels, minlength=num_classes)
        return {
            i: float(len(labels) / (num_classes * c)) if c else 0.0 for i, c in enumerate(counts)
        }
    return _checks.check_class_weight(class_weight, num_classes, label_names)


def _check_strategy(model, strategy) -> None:
    if not strategy.extended._in_multi_worker_mode() and strategy.num_replicas_in_sync == 1:
        return
    outside = [
        v.path
        for v in model.weights
        if not strategy.extended.variable_created_in_scope(getattr(v, "value", v))
    ]
    if outside:
        raise ValueError(
            f"The model's variables were not created under the strategy ({outside[0]}...). "
            "Create the model inside it:\n    with strategy.scope():\n"
            "        model = textzoo.load(...)\nthen call finetune(model, ..., strategy=strategy)."
        )


class _Tracker(keras.callbacks.Callback):
    """Records epochs across phases, keeps the best weights, early-stops and checkpoints."""

    def __init__(self, zoo_model, history, patience, checkpoint_dir, chief=True):
        super().__init__()
        self.zoo_model = zoo_model
        self.record = history
        self.patience = patience
        self.checkpoint_dir = checkpoint_dir
        self.chief = chief  # other workers save to a temporary directory, then delete it
        self.phase = "full"
        self.best = None
        self.best_weights = None
        self.wait = 0
        self._epoch_started = 0.0
        monitor = history.monitor
        self.maximize = "acc" in monitor or "auc" in monitor or "f1" in monitor
        if checkpoint_dir is not None and chief:
            checkpoint_dir.mkdir(parents=True, exist_ok=True)

    def on_train_begin(self, logs=None):  # noqa: D102
        self.wait = 0

    def on_epoch_begin(self, epoch, logs=None):  # noqa: D102
        self._epoch_started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):  # noqa: D102
        logs = dict(logs or {})
        learning_rate = logs.pop("learning_rate", None)
        if learning_rate is None:
            learning_rate = self.model.optimizer.learning_rate
        record = {"phase": self.phase, "epoch": len(self.record.epochs) + 1}
        record.update({k: float(v) for k, v in logs.items()})
        record["learning_rate"] = float(keras.ops.convert_to_numpy(learning_rate))
        record["seconds"] = round(time.perf_counter() - self._epoch_started, 3)
        self.record.epochs.append(record)
        if not math.isfinite(record.get("loss", 0.0)):  # before NaN weights can count as best
            self._diverged(record)
        value = logs.get(self.record.monitor)
        if value is not None and math.isfinite(value):
            if self.best is None or (value > self.best if self.maximize else value < self.best):
                self.best, self.wait = value, 0
                self.record.best_epoch = record["epoch"]
                self.best_weights = self.zoo_model.get_weights()
                self._save("best.weights.h5")
            else:
                self.wait += 1
                if self.patience is not None and self.wait >= self.patience:
                    self.model.stop_training = True
                    self.record.stopped_early = True
        self._save("last.weights.h5")
        if self.checkpoint_dir is not None and self.chief:
            self.record.to_json(self.checkpoint_dir / "history.json")

    def _diverged(self, record):
        """Stop: a NaN/inf loss leaves NaN weights, which must never pass for a trained model."""
        self.model.stop_training = True
        if self.checkpoint_dir is not None and self.chief:  # the history; no NaN weights
            self.record.to_json(self.checkpoint_dir / "history.json")
        setting = "head_learning_rate" if self.phase == "frozen" else "learning_rate"
        rate = self.record.settings.get(setting)
        if self.best_weights is not None:
            self.zoo_model.set_weights(self.best_weights)
            state = f"the model's weights were put back to epoch {self.record.best_epoch}'s"
        else:
            state = "the model's weights are no longer usable: load the model again"
        raise TrainingDivergedError(
            f"finetune: the training loss became {record['loss']} in epoch {record['epoch']} "
            f"({self.phase} phase, {setting}={rate:g}); {state}. Train again with a lower "
            f"{setting} (e.g. {setting}={rate / 10:g}), keep clipnorm on, and check the "
            "data (labels in range, no extreme class_weight)."
        )

    def _save(self, name):
        if self.checkpoint_dir is None:
            return
        if not self.chief:  # the same reads as the chief's save (the TF pattern), kept nowhere
            with tempfile.TemporaryDirectory(prefix="textzoo-worker-") as scratch:
                self.zoo_model.save_weights(os.path.join(scratch, name))
            return
        with atomic_path(self.checkpoint_dir / name) as tmp:
            self.zoo_model.save_weights(tmp)


def _check_finite_weights(model, history) -> None:
    """The last step can make the weights NaN while every epoch's mean loss was finite."""
    bad = [v.path for v in model.trainable_variables if not np.isfinite(v.numpy()).all()]
    if bad:
        last = history.epochs[-1] if history.epochs else {"epoch": 0, "phase": "full"}
        setting = "head_learning_rate" if last["phase"] == "frozen" else "learning_rate"
        raise TrainingDivergedError(
            f"finetune: weights became NaN or infinite in the last step of epoch "
            f"{last['epoch']} ({last['phase']} phase; {bad[0]} and {len(bad) - 1} more); the "
            f"model is no longer usable: load it again and train with a lower {setting}."
        )


def _log(verbose, message: str) -> None:
    if verbose:
        print(message)
