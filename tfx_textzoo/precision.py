"""Compute precision: float32, or mixed bfloat16 where the CPU multiplies bfloat16 natively.

``finetune``, ``predict``, ``evaluate`` and ``export`` take ``precision=``:

- ``"float32"``: every layer computes in float32 (the model as built);
- ``"mixed_bfloat16"``: the backbone computes in bfloat16 with float32 weights (Keras'
  mixed-precision policy on the backbone's layers); the pooling and the head compute in
  float32, so the loss, the probabilities and the thresholds stay float32. The
  optimizer updates float32 weights, and nothing saved changes (weights stay float32, the
  saved config keeps the model's own policies);
- ``"auto"`` (the default): ``"mixed_bfloat16"`` on a CPU with native bfloat16 dot
  products (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``) and no GPU, else
  ``"float32"``. The environment variable ``TEXTZOO_PRECISION`` (``float32`` or
  ``mixed_bfloat16``) decides what ``"auto"`` means on a machine.

``mixed_float16`` is not offered: it needs loss scaling, and no GPU was at hand to
measure it (bfloat16 needs none, and runs on recent GPUs too).

Measured on an AMD EPYC with AVX512_BF16 (2 cores): ``benchmarks/precision.py`` and
``docs/benchmarks/index.md``.

The policy holds only while the call runs: `computing_in` sets it on the backbone's
layers and puts the previous one back, so the model a user holds keeps its policy,
and traced functions are keyed by precision (a float32 call never reuses a bfloat16
graph).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tfx_textzoo.errors import InvalidArgumentError

#: The policies a model can compute in.
POLICIES = ("float32", "mixed_bfloat16")
#: What ``precision=`` takes.
CHOICES = ("auto", *POLICIES)
#: The environment variable that says what ``"auto"`` means on this machine.
ENV = "TEXTZOO_PRECISION"
_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@functools.cache
def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU has native bfloat16 dot products (AVX512_BF16 or AMX-BF16).

    Read from the ``flags`` line of ``/proc/cpuinfo`` (Linux); False where there is
    none (macOS, Windows).

    Examples:
        >>> from tfx_textzoo.precision import cpu_has_bf16
        >>> isinstance(cpu_has_bf16(), bool)
        True
    """
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_BF16_FLAGS & set(line.partition(":")[2].split()))
    return False


def _gpu_visible() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


def resolve(precision: Any = "auto") -> str:
    """The policy a ``precision=`` argument means on this machine.

    Args:
        precision: ``"auto"``, ``"float32"`` or ``"mixed_bfloat16"`` (None means
            ``"auto"``).

    Returns:
        One of `POLICIES`.

    Raises:
        tfx_textzoo.errors.InvalidArgumentError: ``precision`` (or ``TEXTZOO_PRECISION``
            for ``"auto"``) is something else.

    Examples:
        >>> from tfx_textzoo.precision import resolve
        >>> resolve("float32")
        'float32'
        >>> resolve("auto") in ("float32", "mixed_bfloat16")
        True
    """
    if precision is None:
        precision = "auto"
    if not isinstance(precision, str) or precision not in CHOICES:
        raise InvalidArgumentError(
            "precision",
            precision,
            f"one of {', '.join(map(repr, CHOICES))}",
            "'auto' computes in bfloat16 on CPUs with native bfloat16 (AVX512_BF16, "
            "AMX) and in float32 elsewhere",
        )
    if precision != "auto":
        return precision
    forced = os.environ.get(ENV)
    if forced:
        if forced not in POLICIES:
            raise InvalidArgumentError(
                f"the environment variable {ENV}",
                forced,
                f"one of {', '.join(map(repr, POLICIES))} (or unset)",
                "it says what precision='auto' means on this machine",
            )
        return forced
    if cpu_has_bf16() and not _gpu_visible():
        return "mixed_bfloat16"
    return "float32"


def _backbone_layers(model: Any) -> list[Any]:
    backbone = getattr(model, "backbone", None)
    if backbone is None:
        raise InvalidArgumentError(
            "precision",
            "a mixed policy",
            "'float32' for this model",
            f"{type(model).__name__} has no `backbone` (the layers a mixed policy "
            "applies to); zoo classifiers from textzoo.load have one",
        )
    return list(backbone._flatten_layers(include_self=True, recursive=True))


@contextlib.contextmanager
def computing_in(model: Any, policy: str) -> Iterator[None]:
    """Run the model's backbone in ``policy`` inside the block, then put its policies back.

    Layers of an int8-quantized backbone keep their policy. The head and the pooling are
    left as they are (float32), so they read the backbone's output cast up to float32.

    Args:
        model: A zoo classifier (it has a ``backbone``).
        policy: One of `POLICIES` (see `resolve`).

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.precision import computing_in
        >>> model = textzoo.load("bert-tiny", num_classes=2, weights=None, num_layers=1)
        >>> with computing_in(model, "mixed_bfloat16"):
        ...     model.backbone.compute_dtype
        'bfloat16'
        >>> model.backbone.compute_dtype
        'float32'
    """
    if policy not in POLICIES:
        raise InvalidArgumentError(
            "policy", policy, f"one of {', '.join(map(repr, POLICIES))}", "resolve() it first"
        )
    if policy == "float32" and getattr(model, "backbone", None) is None:
        yield  # nothing to put in float32 that is not already
        return
    layers = [
        layer
        for layer in _backbone_layers(model)
        if getattr(layer.dtype_policy, "quantization_mode", None) is None
    ]
    changed = [(layer, layer.dtype_policy) for layer in layers if layer.dtype_policy.name != policy]
    try:
        for layer, _ in changed:
            layer.dtype_policy = policy
        yield
    finally:
        for layer, previous in changed:
            layer.dtype_policy = previous
