"""FusedAdamW: the update of Keras' AdamW on the dense gradient, with fewer passes."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfx_textzoo.training import FusedAdamW


def _train(make_optimizer, *, densify: bool, steps: int = 12):
    """An embedding + dense model trained on token ids that repeat within a batch."""
    keras.utils.set_random_seed(3)
    embedding = keras.layers.Embedding(40, 6)
    dense = keras.layers.Dense(3)
    model = keras.Sequential([embedding, keras.layers.GlobalAveragePooling1D(), dense])
    model.build((None, 7))
    optimizer = make_optimizer()
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    rng = np.random.default_rng(0)
    x = rng.integers(0, 12, size=(16, 7))  # 12 of 40 rows used, each many times
    y = rng.integers(0, 3, size=16)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            logits = model(x)
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
            )
        grads = tape.gradient(loss, model.trainable_variables)
        assert isinstance(grads[0], tf.IndexedSlices)  # the embedding lookup's gradient
        if densify:
            grads = [tf.convert_to_tensor(g) for g in grads]
        optimizer.apply(grads, model.trainable_variables)

    for _ in range(steps):
        step()
    return [v.numpy() for v in model.trainable_variables]


@pytest.mark.parametrize("clipnorm", [None, 1.0, 1e-3])
@pytest.mark.parametrize("fused", [True, False])
def test_fused_adamw_is_keras_adamw_on_the_dense_gradient(clipnorm, fused):
    kwargs = dict(learning_rate=0.05, weight_decay=0.01, global_clipnorm=clipnorm)
    ours = _train(lambda: FusedAdamW(fused=fused, **kwargs), densify=False)
    reference = _train(lambda: keras.optimizers.AdamW(**kwargs), densify=True)
    for a, b in zip(ours, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)  # float32 round-off
    untouched = ours[0][12:]  # rows no batch looked up: only weight decay moved them
    start = _train(lambda: FusedAdamW(**kwargs), densify=False, steps=0)[0][12:]
    np.testing.assert_allclose(untouched, start * (1 - 0.05 * 0.01) ** 12, rtol=1e-5)


def test_fused_adamw_round_trips_its_config():
    optimizer = FusedAdamW(learning_rate=0.1, weight_decay=0.02, fused=False)
    again = FusedAdamW.from_config(optimizer.get_config())
    assert again.fused is False and again.weight_decay == pytest.approx(0.02)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is FusedAdamW
