"""The main job: fine-tune a zoo model on the embedded AG News sample and evaluate it.

Run with ``python -m tfx_textzoo.demo [--model scratch-small] [--epochs 4]``.
"""

from __future__ import annotations

import argparse
import time

import tfx_textzoo as textzoo
from tfx_textzoo.datasets import load_ag_news_sample
from tfx_textzoo.evaluation import predict_proba


def main(argv: list[str] | None = None) -> float:
    """Train ``--model`` on the sample's train part, print test accuracy; return it.

    Example:
        >>> from tfx_textzoo.demo import main
        >>> accuracy = main(["--model", "scratch-tiny", "--epochs", "1", "--limit", "64",
        ...                  "--quiet"])
        >>> 0.0 <= accuracy <= 1.0
        True
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="scratch-small")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="use only N training texts")
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    say = (lambda *a, **k: None) if args.quiet else print

    train, test = load_ag_news_sample("train"), load_ag_news_sample("test")
    if args.limit:
        train.texts, train.labels = train.texts[: args.limit], train.labels[: args.limit]
    info = textzoo.get_model_info(args.model)
    say(
        f"model {info['name']} ({info['params']:,} parameters); train {len(train)} texts, "
        f"test {len(test)} texts (embedded AG News sample)"
    )

    import keras

    keras.utils.set_random_seed(args.seed)  # the head's initialisation too
    start = time.perf_counter()
    model = textzoo.load(args.model, labels=train.label_names)
    history = textzoo.finetune(
        model,
        train,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        verbose=0 if args.quiet else 2,
    )
    train_seconds = time.perf_counter() - start
    s = history.settings
    say(
        f"fine-tuned {s['epochs']} epochs ({s['freeze_epochs']} frozen), batch "
        f"{s['batch_size']}, peak learning rate {s['learning_rate']:g}"
    )
    predicted = predict_proba(model, test.texts, batch_size=256).argmax(axis=1)
    accuracy = float((predicted == test.labels).mean())

    say(f"\n{'class':<10} {'support':>8} {'accuracy':>9}")
    for i, name in enumerate(test.label_names):
        mask = test.labels == i
        say(f"{name:<10} {int(mask.sum()):>8} {float((predicted[mask] == i).mean()):>9.3f}")
    say(
        f"\ntest accuracy {accuracy:.4f} on {len(test)} texts "
        f"(chance 0.25); training took {train_seconds:.1f} s"
    )
    return accuracy


if __name__ == "__main__":
    main()
