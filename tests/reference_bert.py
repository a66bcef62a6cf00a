"""Independent numpy reference for the BERT encoder forward pass.

Works on Hugging Face ``BertModel`` tensor names (``embeddings.word_embeddings.weight``,
``encoder.layer.{i}.attention.self.query.weight``, ..., ``pooler.dense.bias``), with
``nn.Linear`` weights in ``[out, in]`` layout. A ``bert.`` prefix on the names is
stripped. Written from the BERT paper / HF ``modeling_bert`` semantics, without
using keras, keras-hub or the converter under test.
"""

from __future__ import annotations

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x: np.ndarray, approximate: bool = False) -> np.ndarray:
    """GELU: exact ``x * Phi(x)`` via erf, or the tanh approximation of the original BERT code."""
    x = np.asarray(x, dtype=np.float64)
    if approximate:
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``x @ weight.T + bias`` with ``weight`` in ``[out, in]`` (PyTorch) layout."""
    return x @ weight.T + bias


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def _strip_prefix(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        (k[len("bert.") :] if k.startswith("bert.") else k): np.asarray(v, dtype=np.float64)
        for k, v in weights.items()
    }


def bert_forward(
    weights: dict[str, np.ndarray],
    num_heads: int,
    token_ids: np.ndarray,
    segment_ids: np.ndarray,
    padding_mask: np.ndarray,
    layer_norm_eps: float = 1e-12,
    approximate_gelu: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Post-LayerNorm BERT encoder + pooler, in float64.

    Returns ``(sequence_output [batch, seq, hidden], pooled_output [batch, hidden])``,
    with ``pooled = tanh(dense(sequence_output[:, 0]))``. Padded key positions get an
    additive ``-1e9`` (in float64; effectively ``-inf``) in the attention logits.
    """
    w = _strip_prefix(weights)
    token_ids = np.asarray(token_ids)
    segment_ids = np.asarray(segment_ids)
    mask = np.asarray(padding_mask).astype(bool)
    batch, seq = token_ids.shape
    hidden = w["embeddings.word_embeddings.weight"].shape[1]
    assert hidden % num_heads == 0
    head_dim = hidden // num_heads
    num_layers = len({k.split(".")[2] for k in w if k.startswith("encoder.layer.")})

    x = (
        w["embeddings.word_embeddings.weight"][token_ids]
        + w["embeddings.position_embeddings.weight"][np.arange(seq)][None, :, :]
        + w["embeddings.token_type_embeddings.weight"][segment_ids]
    )
    x = layer_norm(
        x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], layer_norm_eps
    )

    additive = np.where(mask, 0.0, -1e9)[:, None, None, :]  # [batch, 1, 1, key]

    def heads(t: np.ndarray) -> np.ndarray:  # [b, s, h] -> [b, heads, s, d]
        return t.reshape(batch, seq, num_heads, head_dim).transpose(0, 2, 1, 3)

    for i in range(num_layers):
        p = f"encoder.layer.{i}."
        q = heads(
            linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"])
        )
        k = heads(linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"]))
        v = heads(
            linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"])
        )
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_dim) + additive
        context = (_softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
        attn = linear(
            context, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"]
        )
        x = layer_norm(
            x + attn,
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
            layer_norm_eps,
        )
        inter = gelu(
            linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]),
            approximate=approximate_gelu,
        )
        out = linear(inter, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
        x = layer_norm(
            x + out,
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
            layer_norm_eps,
        )

    pooled = np.tanh(linear(x[:, 0], w["pooler.dense.weight"], w["pooler.dense.bias"]))
    return x, pooled


def random_bert_weights(
    vocab_size: int,
    hidden: int,
    layers: int,
    intermediate: int,
    max_positions: int,
    type_vocab: int = 2,
    seed: int = 0,
    std: float = 0.02,
) -> dict[str, np.ndarray]:
    """Random float32 BertModel tensors (HF names, no prefix, ``[out, in]`` linear weights).

    Matrices and embeddings are N(0, std); biases N(0, std); LayerNorm weights
    1 + N(0, 0.1) and LayerNorm biases N(0, 0.1), so that gamma/beta mix-ups show.
    """
    rng = np.random.default_rng(seed)

    def normal(*shape: int, scale: float = std) -> np.ndarray:
        return rng.normal(0.0, scale, size=shape).astype(np.float32)

    def ln(prefix: str) -> dict[str, np.ndarray]:
        return {
            prefix + ".weight": (1.0 + normal(hidden, scale=0.1)).astype(np.float32),
            prefix + ".bias": normal(hidden, scale=0.1),
        }

    def dense(prefix: str, n_out: int, n_in: int) -> dict[str, np.ndarray]:
        return {prefix + ".weight": normal(n_out, n_in), prefix + ".bias": normal(n_out)}

    w: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": normal(vocab_size, hidden),
        "embeddings.position_embeddings.weight": normal(max_positions, hidden),
        "embeddings.token_type_embeddings.weight": normal(type_vocab, hidden),
        **ln("embeddings.LayerNorm"),
    }
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            w.update(dense(p + f"attention.self.{name}", hidden, hidden))
        w.update(dense(p + "attention.output.dense", hidden, hidden))
        w.update(ln(p + "attention.output.LayerNorm"))
        w.update(dense(p + "intermediate.dense", intermediate, hidden))
        w.update(dense(p + "output.dense", hidden, intermediate))
        w.update(ln(p + "output.LayerNorm"))
    w.update(dense("pooler.dense", hidden, hidden))
    return w
