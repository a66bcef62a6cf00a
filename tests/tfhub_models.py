"""Writers of tiny TF-Hub-style SavedModels (shared by tests).

``write_encoder`` saves a BERT encoder with the interface of the published TF-Hub BERT
encoders (``tensorflow/bert_en_uncased_L-12_H-768_A-12/3``,
``tensorflow/small_bert/bert_en_uncased_L-4_H-128_A-2/1``): called with a dict
``input_word_ids`` / ``input_mask`` / ``input_type_ids`` it returns ``pooled_output``,
``sequence_output`` and ``encoder_outputs``; its ``.variables`` carry the names the
tf-models-official ``BertEncoder`` gives them; ``vocab_file`` is an asset
(``assets/vocab.txt``) and ``do_lower_case`` a variable, as in those models. The
forward pass is written here in TF ops (EinsumDense-style 3-D attention kernels),
independently of keras-hub and of the converter under test.

``write_preprocessor`` saves a text preprocessor built from tensorflow_text, the ops
the TF-Hub ``bert_en_uncased_preprocess`` models use (``BertTokenizer``,
``RoundRobinTrimmer``, ``combine_segments``, ``pad_model_inputs``).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_text as tf_text
from checkpoints import VOCAB

# The encoder fixtures' vocabulary: the shared tiny one plus what the tokenizer tests need.
TFHUB_VOCAB = VOCAB + [
    "cafe", "naive", "resume", "un", "##aff", "##able", "##s", "!", ",", ".", "?", "[", "]",
    "中", "国", "CAFÉ", "Hello", "##ing", "tab", "new", "##line",
]  # fmt: skip


def tf2_variables(hf: dict[str, np.ndarray], num_heads: int) -> dict[str, np.ndarray]:
    """HF-named tensors -> the TF-Hub TF2 BertEncoder variable names and shapes."""
    hidden = hf["embeddings.word_embeddings.weight"].shape[1]
    head_dim = hidden // num_heads
    num_layers = len({k.split(".")[2] for k in hf if k.startswith("encoder.layer.")})
    v = {
        "word_embeddings/embeddings": hf["embeddings.word_embeddings.weight"],
        "position_embedding/embeddings": hf["embeddings.position_embeddings.weight"],
        "type_embeddings/embeddings": hf["embeddings.token_type_embeddings.weight"],
        "embeddings/layer_norm/gamma": hf["embeddings.LayerNorm.weight"],
        "embeddings/layer_norm/beta": hf["embeddings.LayerNorm.bias"],
        "pooler_transform/kernel": hf["pooler.dense.weight"].T,
        "pooler_transform/bias": hf["pooler.dense.bias"],
    }
    for i in range(num_layers):
        t, h = f"transformer/layer_{i}/", f"encoder.layer.{i}."
        for name in ("query", "key", "value"):
            w = hf[h + f"attention.self.{name}.weight"]  # [out, in]
            v[t + f"self_attention/{name}/kernel"] = w.T.reshape(hidden, num_heads, head_dim)
            v[t + f"self_attention/{name}/bias"] = hf[h + f"attention.self.{name}.bias"].reshape(
                num_heads, head_dim
            )
        v[t + "self_attention/attention_output/kernel"] = hf[
            h + "attention.output.dense.weight"
        ].T.reshape(num_heads, head_dim, hidden)
        v[t + "self_attention/attention_output/bias"] = hf[h + "attention.output.dense.bias"]
        v[t + "self_attention_layer_norm/gamma"] = hf[h + "attention.output.LayerNorm.weight"]
        v[t + "self_attention_layer_norm/beta"] = hf[h + "attention.output.LayerNorm.bias"]
        v[t + "intermediate/kernel"] = hf[h + "intermediate.dense.weight"].T
        v[t + "intermediate/bias"] = hf[h + "intermediate.dense.bias"]
        v[t + "output/kernel"] = hf[h + "output.dense.weight"].T
        v[t + "output/bias"] = hf[h + "output.dense.bias"]
        v[t + "output_layer_norm/gamma"] = hf[h + "output.LayerNorm.weight"]
        v[t + "output_layer_norm/beta"] = hf[h + "output.LayerNorm.bias"]
    return v


_ENCODER_INPUTS = {
    "input_word_ids": tf.TensorSpec([None, None], tf.int32, name="input_word_ids"),
    "input_mask": tf.TensorSpec([None, None], tf.int32, name="input_mask"),
    "input_type_ids": tf.TensorSpec([None, None], tf.int32, name="input_type_ids"),
}


class HubBertEncoder(tf.Module):
    """A reusable SavedModel (``.variables``, ``__call__``) with a real BERT forward pass."""

    # Shadow tf.Module's properties: TF-Hub models expose these as saved attributes.
    variables = None
    trainable_variables = None

    def __init__(self, named: dict[str, np.ndarray], roles: dict[str, str], num_heads: int,
                 num_layers: int, vocab_path: str, do_lower_case: bool):
        super().__init__()
        ordered = sorted(named)
        self.variables = [tf.Variable(named[n], name=n) for n in ordered]
        self.trainable_variables = list(self.variables)
        self._position = {name: i for i, name in enumerate(ordered)}
        self._roles = dict(roles)  # role (TF2 name) -> variable name
        self._num_heads = num_heads
        self._num_layers = num_layers
        self.vocab_file = tf.saved_model.Asset(vocab_path)
        self.do_lower_case = tf.Variable(do_lower_case, trainable=False, name="do_lower_case")

    def _w(self, role: str, shape=None):
        value = self.variables[self._position[self._roles[role]]]
        return value if shape is None else tf.reshape(value, shape)

    @tf.function(input_signature=[_ENCODER_INPUTS])
    def __call__(self, inputs):
        ids, mask, types = inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
        seq = tf.shape(ids)[1]
        x = (
            tf.gather(self._w("word_embeddings/embeddings"), ids)
            + self._w("position_embedding/embeddings")[None, :seq]
            + tf.gather(self._w("type_embeddings/embeddings"), types)
        )
        x = _layer_norm(x, self._w("embeddings/layer_norm/gamma"),
                        self._w("embeddings/layer_norm/beta"))
        hidden = x.shape[-1]
        n = self._num_heads
        d = hidden // n
        additive = (1.0 - tf.cast(mask, tf.float32))[:, None, None, :] * -1e9
        outputs = []
        for i in range(self._num_layers):
            p = f"transformer/layer_{i}/"

            def project(name, p=p, x=x):
                kernel = self._w(p + f"self_attention/{name}/kernel", [hidden, n, d])
                bias = self._w(p + f"self_attention/{name}/bias", [n, d])
                return tf.einsum("btd,dnh->btnh", x, kernel) + bias

            q, k, v = project("query"), project("key"), project("value")
            scores = tf.einsum("bsnh,btnh->bnst", q, k) / math.sqrt(d) + additive
            context = tf.einsum("bnst,btnh->bsnh", tf.nn.softmax(scores, axis=-1), v)
            attn = tf.einsum(
                "bsnh,nhd->bsd",
                context,
                self._w(p + "self_attention/attention_output/kernel", [n, d, hidden]),
            ) + self._w(p + "self_attention/attention_output/bias")
            x = _layer_norm(x + attn, self._w(p + "self_attention_layer_norm/gamma"),
                            self._w(p + "self_attention_layer_norm/beta"))
            inter = tf.nn.gelu(
                tf.einsum("btd,di->bti", x, self._w(p + "intermediate/kernel"))
                + self._w(p + "intermediate/bias"),
                approximate=True,  # BERT's (and keras-hub's) tanh GELU
            )
            out = tf.einsum("bti,id->btd", inter, self._w(p + "output/kernel")) + self._w(
                p + "output/bias"
            )
            x = _layer_norm(x + out, self._w(p + "output_layer_norm/gamma"),
                            self._w(p + "output_layer_norm/beta"))
            outputs.append(x)
        pooled = tf.tanh(
            tf.matmul(x[:, 0], self._w("pooler_transform/kernel"))
            + self._w("pooler_transform/bias")
        )
        return {
            "sequence_output": x,
            "pooled_output": pooled,
            "encoder_outputs": outputs,
            "default": pooled,
        }


def _layer_norm(x, gamma, beta, eps=1e-12):
    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + eps) * gamma + beta


def _tf1_names(role: str) -> str:
    """TF2 role -> the original BERT (TF1 Hub module) variable name."""
    fixed = {
        "word_embeddings/embeddings": "bert/embeddings/word_embeddings",
        "position_embedding/embeddings": "bert/embeddings/position_embeddings",
        "type_embeddings/embeddings": "bert/embeddings/token_type_embeddings",
        "embeddings/layer_norm/gamma": "bert/embeddings/LayerNorm/gamma",
        "embeddings/layer_norm/beta": "bert/embeddings/LayerNorm/beta",
        "pooler_transform/kernel": "bert/pooler/dense/kernel",
        "pooler_transform/bias": "bert/pooler/dense/bias",
    }
    if role in fixed:
        return fixed[role]
    layer, rest = role.removeprefix("transformer/").split("/", 1)
    rest = {
        "self_attention/attention_output/kernel": "attention/output/dense/kernel",
        "self_attention/attention_output/bias": "attention/output/dense/bias",
        "self_attention_layer_norm/gamma": "attention/output/LayerNorm/gamma",
        "self_attention_layer_norm/beta": "attention/output/LayerNorm/beta",
        "intermediate/kernel": "intermediate/dense/kernel",
        "intermediate/bias": "intermediate/dense/bias",
        "output/kernel": "output/dense/kernel",
        "output/bias": "output/dense/bias",
        "output_layer_norm/gamma": "output/LayerNorm/gamma",
        "output_layer_norm/beta": "output/LayerNorm/beta",
    }.get(rest, rest.replace("self_attention/", "attention/self/"))
    return f"bert/encoder/{layer}/{rest}"


def tf1_variables(hf: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """HF-named tensors -> the original BERT (TF1 Hub) names, 2-D kernels ``[in, out]``."""
    named = {}
    for role, value in tf2_variables(hf, num_heads=2).items():
        if role.endswith("attention_output/kernel"):  # [heads, head_dim, hidden]
            value = value.reshape(-1, value.shape[-1])
        elif role.endswith("/kernel") and value.ndim == 3:  # [hidden, heads, head_dim]
            value = value.reshape(value.shape[0], -1)
        elif role.endswith("/bias") and value.ndim == 2:  # [heads, head_dim]
            value = value.reshape(-1)
        named[_tf1_names(role)] = value
    return named


def write_encoder(
    directory: Path,
    hf: dict[str, np.ndarray],
    num_heads: int = 2,
    vocab: list[str] = TFHUB_VOCAB,
    do_lower_case: bool = True,
    prefix: str = "",
    layout: str = "tf2",
    extra: dict[str, np.ndarray] | None = None,
) -> Path:
    """Save a TF-Hub-style BERT encoder SavedModel at ``directory``; return it."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    roles = tf2_variables(hf, num_heads)
    num_layers = len({k.split(".")[2] for k in hf if k.startswith("encoder.layer.")})
    if layout == "tf2":
        names = {role: prefix + role for role in roles}
        named = {prefix + role: value for role, value in roles.items()}
    else:  # TF1 Hub module names, 2-D kernels [in, out]
        names = {role: _tf1_names(role) for role in roles}
        named = tf1_variables(hf)
    for name, value in (extra or {}).items():
        named[name] = value
    with tempfile.TemporaryDirectory() as tmp:
        vocab_src = Path(tmp) / "vocab.txt"  # the asset keeps its file name
        vocab_src.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        module = HubBertEncoder(named, names, num_heads, num_layers, str(vocab_src), do_lower_case)
        tf.saved_model.save(module, str(directory))
    return directory


class HubBertPreprocessor(tf.Module):
    """The TF-Hub BERT preprocessing pipeline from tensorflow_text ops, fixed length."""

    def __init__(self, vocab_path: str, lower_case: bool, seq_length: int = 128):
        super().__init__()
        self.vocab_file = tf.saved_model.Asset(vocab_path)
        vocab = Path(vocab_path).read_text(encoding="utf-8").splitlines()
        self._cls, self._sep = vocab.index("[CLS]"), vocab.index("[SEP]")
        self._seq_length = seq_length
        self.tokenizer = tf_text.BertTokenizer(
            vocab_path, lower_case=lower_case, token_out_type=tf.int32
        )

    def _pack(self, segments):
        tokens = [self.tokenizer.tokenize(s).merge_dims(-2, -1) for s in segments]
        trimmed = tf_text.RoundRobinTrimmer(self._seq_length - 1 - len(tokens)).trim(tokens)
        ids, types = tf_text.combine_segments(
            trimmed, start_of_sequence_id=self._cls, end_of_segment_id=self._sep
        )
        word_ids, mask = tf_text.pad_model_inputs(ids, max_seq_length=self._seq_length)
        type_ids, _ = tf_text.pad_model_inputs(types, max_seq_length=self._seq_length)
        return {"input_word_ids": word_ids, "input_mask": mask, "input_type_ids": type_ids}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def __call__(self, texts):
        return self._pack([texts])

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)] * 2)
    def pair(self, first, second):
        return self._pack([first, second])


def write_preprocessor(directory: Path, vocab: list[str], lower_case: bool = True) -> Path:
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        vocab_src = Path(tmp) / "vocab.txt"
        vocab_src.write_text("\n".join(vocab) + "\n", encoding="utf-8")
        tf.saved_model.save(HubBertPreprocessor(str(vocab_src), lower_case), str(directory))
    return directory


def write_tf1_hub_module(directory: Path, hf: dict[str, np.ndarray], vocab=TFHUB_VOCAB) -> Path:
    """A TF1 Hub-format SavedModel: original BERT names, two MetaGraphs ({} and {"train"})."""
    directory = Path(directory)
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        for name, value in tf1_variables(hf).items():
            tf.compat.v1.get_variable(name, initializer=value)
        session.run(tf.compat.v1.global_variables_initializer())
        builder = tf.compat.v1.saved_model.Builder(str(directory))
        builder.add_meta_graph_and_variables(session, [])
        builder.add_meta_graph(["train"])
        builder.save()
    (directory / "assets").mkdir(exist_ok=True)
    (directory / "assets" / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return directory
