"""An example tfx_textzoo plugin: the ``bag-of-embeddings`` family (fastText-style).

The model averages the word vectors of a text (padding excluded) and classifies the
average with a small dense head: tiny, fast, and a strong baseline on topic data.

``register()`` is the entry point (group ``tfx_textzoo.models``, see pyproject.toml):
tfx_textzoo calls it once, the first time its catalog is read. It registers the family
(builder, parameter count, architecture keys, tiny test configuration), then the
catalog entries that use it.

The classifier follows the family contract, ``tfx_textzoo.families.base.ZooClassifier``
(through the ``scratch`` classifier it extends): ``labels``, ``model_name``,
``features_output``, ``has_pretrained_backbone``, ``prepare_tokenizer``,
``freeze_unused`` and ``layer_groups``. That is all ``finetune``, ``predict``,
``evaluate``, ``save_pretrained`` and ``export`` read.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import keras
import keras_hub

import tfx_textzoo as textzoo
from tfx_textzoo.families.common import MaskedAveragePooling, compile_classifier
from tfx_textzoo.families.scratch import ScratchClassifier, ScratchPreprocessor

FAMILY = "bag-of-embeddings"
ARCHITECTURE_KEYS = ("vocabulary_size", "sequence_length", "embedding_dim", "dropout")


def register() -> None:
    """Register the family and its catalog (called by tfx_textzoo, once)."""
    textzoo.register_family(
        FAMILY,
        count_params=count_params,
        architecture_keys=ARCHITECTURE_KEYS,
        tiny_config={"vocabulary_size": 64, "embedding_dim": 8},  # for tests: a tiny model
    )(build)
    catalog = resources.files(__name__) / "catalog.toml"
    textzoo.register_catalog(Path(str(catalog)))


@keras.saving.register_keras_serializable(package="textzoo_plugin_example")
class BagOfEmbeddingsBackbone(keras_hub.models.Backbone):
    """Word vectors and their mean over the non-padding positions (token id 0 = padding).

    Outputs ``sequence_output`` (the word vectors) and ``pooled_output`` (their mean), the
    two outputs every zoo backbone has.

    Args:
        vocabulary_size: Rows of the embedding table.
        embedding_dim: Width of a word vector.
        dtype: Keras dtype policy.
        **kwargs: Passed to ``keras_hub.models.Backbone``.
    """

    def __init__(self, vocabulary_size, embedding_dim, dtype=None, **kwargs):
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        vectors = keras.layers.Embedding(
            vocabulary_size, embedding_dim, dtype=dtype, name="embedding"
        )(token_ids)
        mask = keras.ops.not_equal(token_ids, 0)
        pooled = MaskedAveragePooling(dtype=dtype, name="pooling")(vectors, mask)
        super().__init__(
            inputs=token_ids,
            outputs={"sequence_output": vectors, "pooled_output": pooled},
            dtype=dtype,
            **kwargs,
        )
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim

    def get_config(self):  # noqa: D102
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "embedding_dim": self.embedding_dim,
        }


@keras.saving.register_keras_serializable(package="textzoo_plugin_example")
class BagOfEmbeddingsClassifier(ScratchClassifier):
    """The zoo's from-scratch classifier head on a bag-of-embeddings backbone.

    It reuses the ``scratch`` family's head (the zoo's generic head: dropout, dense,
    softmax, on the backbone's ``pooled_output``), raw-string preprocessor
    (``TextVectorization``, adapted on the training texts by ``prepare_tokenizer``) and
    its save/load behaviour; only the backbone differs. Having no transformer layers,
    its ``layer_groups()`` are the embeddings and the top (the contract's default).
    """

    backbone_cls = BagOfEmbeddingsBackbone


def build(spec, *, num_classes, labels, weights, sequence_length, vocabulary=None, **overrides):
    """Build a compiled classifier for a catalog entry of this family.

    Every family builder takes these arguments (see ``tfx_textzoo.registry.Family``) and
    returns a compiled keras-hub ``TextClassifier`` whose preprocessor takes raw strings.

    Args:
        spec: The catalog entry (``tfx_textzoo.registry.ModelSpec``).
        num_classes: Number of classes.
        labels: Optional class names.
        weights: ``"auto"`` or None: this family has no pretrained weights.
        sequence_length: Tokens per text (default: the entry's).
        vocabulary: Optional fixed vocabulary (a list of tokens).
        **overrides: Architecture numbers (``embedding_dim``, ``vocabulary_size``...).

    Returns:
        The compiled ``BagOfEmbeddingsClassifier``.
    """
    if weights not in ("auto", None):
        raise ValueError(f"{spec.name} has no pretrained weights (got weights={weights!r})")
    unknown = set(overrides) - set(ARCHITECTURE_KEYS)
    if unknown:
        raise TypeError(f"Unknown argument(s) for {spec.name}: {sorted(unknown)}")
    arch: dict[str, Any] = {**spec.architecture, **overrides}
    preprocessor = ScratchPreprocessor(
        arch["vocabulary_size"],
        int(sequence_length or arch["sequence_length"]),
        standardize=spec.tokenizer.get("standardize", "lower_and_strip_punctuation"),
        vocabulary=vocabulary,
    )
    backbone = BagOfEmbeddingsBackbone(arch["vocabulary_size"], arch["embedding_dim"])
    model = BagOfEmbeddingsClassifier(
        backbone,
        num_classes,
        preprocessor=preprocessor,
        hidden_units=arch["embedding_dim"],
        dropout=arch["dropout"],
        labels=labels,
        model_name=spec.name,
    )
    compile_classifier(model, spec.finetune, pretrained=False)
    return model


def count_params(arch, num_classes: int) -> int:
    """Parameters of the model: the embedding table and the head.

    Example:
        >>> count_params({"vocabulary_size": 100, "embedding_dim": 8}, 2)
        890
    """
    d = arch["embedding_dim"]
    return arch["vocabulary_size"] * d + (d * d + d) + (d * num_classes + num_classes)
