"""Writers of tiny checkpoints in the original Google BERT TF format (shared by tests)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import reference_bert
import tensorflow as tf

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (
    "the a an of to and in is it that was for on with as be at by this had not are hello world news"
).split()
CONFIG = {
    "attention_probs_dropout_prob": 0.1,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 8,
    "initializer_range": 0.02,
    "intermediate_size": 16,
    "max_position_embeddings": 32,
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "type_vocab_size": 2,
    "vocab_size": len(VOCAB),
}


def original_bert_variables(hf: dict[str, np.ndarray], num_layers: int) -> dict[str, np.ndarray]:
    """HF-named tensors -> variables under the names Google's BERT code used (kernels [in, out])."""
    v = {
        "bert/embeddings/word_embeddings": hf["embeddings.word_embeddings.weight"],
        "bert/embeddings/position_embeddings": hf["embeddings.position_embeddings.weight"],
        "bert/embeddings/token_type_embeddings": hf["embeddings.token_type_embeddings.weight"],
        "bert/embeddings/LayerNorm/gamma": hf["embeddings.LayerNorm.weight"],
        "bert/embeddings/LayerNorm/beta": hf["embeddings.LayerNorm.bias"],
        "bert/pooler/dense/kernel": hf["pooler.dense.weight"].T,
        "bert/pooler/dense/bias": hf["pooler.dense.bias"],
    }
    for i in range(num_layers):
        t, h = f"bert/encoder/layer_{i}/", f"encoder.layer.{i}."
        v[t + "attention/self/query/kernel"] = hf[h + "attention.self.query.weight"].T
        v[t + "attention/self/query/bias"] = hf[h + "attention.self.query.bias"]
        v[t + "attention/self/key/kernel"] = hf[h + "attention.self.key.weight"].T
        v[t + "attention/self/key/bias"] = hf[h + "attention.self.key.bias"]
        v[t + "attention/self/value/kernel"] = hf[h + "attention.self.value.weight"].T
        v[t + "attention/self/value/bias"] = hf[h + "attention.self.value.bias"]
        v[t + "attention/output/dense/kernel"] = hf[h + "attention.output.dense.weight"].T
        v[t + "attention/output/dense/bias"] = hf[h + "attention.output.dense.bias"]
        v[t + "attention/output/LayerNorm/gamma"] = hf[h + "attention.output.LayerNorm.weight"]
        v[t + "attention/output/LayerNorm/beta"] = hf[h + "attention.output.LayerNorm.bias"]
        v[t + "intermediate/dense/kernel"] = hf[h + "intermediate.dense.weight"].T
        v[t + "intermediate/dense/bias"] = hf[h + "intermediate.dense.bias"]
        v[t + "output/dense/kernel"] = hf[h + "output.dense.weight"].T
        v[t + "output/dense/bias"] = hf[h + "output.dense.bias"]
        v[t + "output/LayerNorm/gamma"] = hf[h + "output.LayerNorm.weight"]
        v[t + "output/LayerNorm/beta"] = hf[h + "output.LayerNorm.bias"]
    return v


def with_training_leftovers(variables: dict[str, np.ndarray], vocab_size: int, hidden: int):
    """Add what real checkpoints also hold: Adam slots, global_step and the MLM/NSP heads."""
    out = dict(variables)
    for name in ("bert/encoder/layer_0/attention/self/query/kernel", "bert/pooler/dense/bias"):
        out[name + "/adam_m"] = np.full_like(variables[name], 7.0)
        out[name + "/adam_v"] = np.full_like(variables[name], 9.0)
    out["global_step"] = np.array(1000, dtype=np.int64)
    out["cls/predictions/output_bias"] = np.full((vocab_size,), 5.0, np.float32)
    out["cls/predictions/transform/dense/kernel"] = np.full((hidden, hidden), 5.0, np.float32)
    out["cls/seq_relationship/output_weights"] = np.full((2, hidden), 5.0, np.float32)
    return out


def save_v2(prefix: Path, variables: dict[str, np.ndarray]) -> None:
    names = sorted(variables)
    tf.raw_ops.SaveV2(
        prefix=str(prefix),
        tensor_names=names,
        shape_and_slices=[""] * len(names),
        tensors=[tf.constant(variables[n]) for n in names],
    )


def write_original_dir(
    directory: Path,
    hf: dict[str, np.ndarray],
    config: dict = CONFIG,
    drop: tuple[str, ...] = (),
    checkpoint_layers: int | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    layers = config["num_hidden_layers"] if checkpoint_layers is None else checkpoint_layers
    variables = original_bert_variables(hf, layers)
    variables = with_training_leftovers(variables, config["vocab_size"], config["hidden_size"])
    for name in drop:
        del variables[name]
    save_v2(directory / "bert_model.ckpt", variables)
    (directory / "bert_config.json").write_text(json.dumps(config, indent=2))
    (directory / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    return directory


def tiny_weights(seed: int = 0, **overrides) -> dict[str, np.ndarray]:
    kwargs = dict(
        vocab_size=CONFIG["vocab_size"],
        hidden=CONFIG["hidden_size"],
        layers=CONFIG["num_hidden_layers"],
        intermediate=CONFIG["intermediate_size"],
        max_positions=CONFIG["max_position_embeddings"],
        seed=seed,
    )
    kwargs.update(overrides)
    return reference_bert.random_bert_weights(**kwargs)
