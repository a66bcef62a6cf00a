"""One process of tests/test_distributed.py: a plain run, or one worker of a TF_CONFIG cluster.

    python tests/distributed_worker.py OUT.json [CHECKPOINT_DIR] [--epochs N] [--texts N]

With ``TF_CONFIG`` set it runs as a worker of ``MultiWorkerMirroredStrategy`` (created
first, as collectives require); without, in one plain process. It fine-tunes a tiny
BERT (dropout off, so that replicas and one process compute the same function) on
texts that tokenize uniquely, records which texts each of its replicas was fed in each
epoch, and writes the losses, the final predictions and those texts to ``OUT.json``.
It prints ``STEP <epoch> <batch>`` after every step (the kill test waits for it) and
exits with ``os._exit`` so that no gRPC thread can keep a failed worker alive.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

WORDS = "the team won stocks on friday new chip final peace a of".split()
VOCABULARY = (
    "[PAD] [UNK] [CLS] [SEP] [MASK] the team won stocks on friday new chip ##s final peace a of"
).split()
#: Seconds a collective may wait for the other worker (the first step's tracing included).
COLLECTIVE_TIMEOUT = 60


def texts_and_labels(n: int) -> tuple[list[str], list[int]]:
    """``n`` texts that tokenize uniquely: 3 words spelling ``i`` in base 12, then filler.

    Text ``i`` has ``i % 17`` filler words: 5..21 tokens, so both length buckets (16
    and 32 tokens) are used. Its label is the parity of its second word.
    """
    texts, labels = [], []
    for i in range(n):
        digits = [(i // 144) % 12, (i // 12) % 12, i % 12]
        texts.append(" ".join([WORDS[d] for d in digits] + ["a"] * (i % 17)))
        labels.append(digits[1] % 2)
    return texts, labels


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("checkpoint_dir", nargs="?")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--texts", type=int, default=90)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=5e-3)
    parser.add_argument("--seed", default="0", help="an int, or 'none' (the chief draws one)")
    args = parser.parse_args(argv)

    from tfx_textzoo import training

    # First: collectives must be configured before TensorFlow runs anything.
    strategy = training.cluster_strategy(timeout_seconds=COLLECTIVE_TIMEOUT)
    started = time.perf_counter()

    import keras
    import numpy as np
    import tensorflow as tf

    import tfx_textzoo as textzoo
    from tfx_textzoo import inference, preprocessing

    keras.config.disable_traceback_filtering()  # whole tracebacks in the test's output
    texts, labels = texts_and_labels(args.texts)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = textzoo.load(
            "bert-tiny",
            num_classes=2,
            weights=None,
            num_layers=1,
            hidden_dim=8,
            num_heads=2,
            intermediate_dim=16,
            max_sequence_length=32,
            sequence_length=32,
            vocabulary=VOCABULARY,
        )
    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0  # replicas draw other masks than one process would

    # Record what each replica is fed: every shard of every batch, in the order made.
    seen: list[list[int]] = []
    shard_batches = preprocessing.shard_batches

    def recording(dataset, num_shards, shards):
        def record(x, *rest):
            def append(token_ids):
                seen.append([tuple(row[row > 0].tolist()) for row in token_ids.numpy()])
                return 0

            with tf.control_dependencies([tf.py_function(append, [x["token_ids"]], tf.int32)]):
                x = tf.nest.map_structure(tf.identity, x)
            return (x, *rest)

        return shard_batches(dataset, num_shards, shards).map(record)

    if "TF_CONFIG" in os.environ:
        preprocessing.shard_batches = recording
    else:  # one process: record the whole batches, to compare with the workers' shards
        batches = preprocessing.training_dataset
        preprocessing.training_dataset = lambda *a, **k: recording(batches(*a, **k), 1, [0])

    class Steps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            print(f"STEP {self.epoch} {batch}", flush=True)

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    history = textzoo.finetune(
        model,
        (texts, labels),
        epochs=args.epochs,
        freeze_epochs=0,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        warmup_ratio=0.0,
        seed=None if args.seed == "none" else int(args.seed),
        checkpoint_dir=args.checkpoint_dir,
        strategy=strategy,
        callbacks=[Steps()],
        verbose=0,
    )
    seconds = time.perf_counter() - started
    tok = preprocessing.tokenize(model, texts)
    probs = inference.probabilities(model, tok, 64)  # what textzoo.evaluate and predict run
    index = {
        tuple(row[row > 0].tolist()): i
        for i, row in enumerate(tok.features["token_ids"].to_tensor().numpy())
    }
    steps = history.settings["total_steps"] // args.epochs
    per_epoch = [seen[e * steps : (e + 1) * steps] for e in range(args.epochs)]
    return {
        "chief": training.is_chief(strategy),
        "replicas": strategy.num_replicas_in_sync,
        "steps": steps,
        "loss": [r["loss"] for r in history.epochs],
        "probabilities": np.asarray(probs).tolist(),
        "seen": [[[index[row] for row in shard] for shard in epoch] for epoch in per_epoch],
        "seconds": round(seconds, 2),
    }


if __name__ == "__main__":
    try:
        result = main(sys.argv[1:])
        with open(sys.argv[1], "w") as f:
            json.dump(result, f)
        print("DONE", flush=True)
        code = 0
    except BaseException:  # noqa: BLE001 - report anything, then exit for sure
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
