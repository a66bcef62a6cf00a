"""Training-throughput peer: Hugging Face ``transformers`` Trainer on CPU (BERT L4-H128).

Standalone script; run it only with the peers venv's interpreter, never the library's venv::

    bash benchmarks/peers/make_venv.sh
    benchmarks/peers/.venv/bin/python benchmarks/peers/hf_trainer_throughput.py \
        --examples 2048 --runs 3 --out /tmp/hf_trainer.json

Protocol: tokenize the first N AG News rows once (truncation, no padding; timed separately),
do one untimed warm-up epoch, then R timed runs. Each timed run builds a fresh randomly
initialised model and a fresh Trainer and times only ``trainer.train()`` (one epoch, dynamic
padding via ``DataCollatorWithPadding``, length-grouped sampling).
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

try:
    import torch
    import transformers
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertTokenizerFast,
        DataCollatorWithPadding,
        PrinterCallback,
        Trainer,
        TrainingArguments,
    )
except ImportError as exc:  # pragma: no cover - environment guard
    sys.exit(
        f"{exc}\nThis peer needs torch/transformers; create the venv with "
        "`bash benchmarks/peers/make_venv.sh` and run it with benchmarks/peers/.venv/bin/python."
    )

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CSV = REPO_ROOT.parent / "shared" / "data" / "ag_news" / "test.csv"
DEFAULT_VOCAB = REPO_ROOT / "tfx_textzoo" / "assets" / "bert-uncased-vocab.txt"
SEED = 0


def read_ag_news(path: Path, limit: int) -> tuple[list[str], list[int]]:
    """Read the first ``limit`` rows of an AG News csv (no header: class,title,description)."""
    texts: list[str] = []
    labels: list[int] = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            if len(texts) >= limit:
                break
            cls, title, desc = row[0], row[1], row[2]
            texts.append(f"{title} {desc}".replace("\\", " "))
            labels.append(int(cls) - 1)
    if len(texts) < limit:
        sys.exit(f"{path} has only {len(texts)} rows, --examples asked for {limit}")
    return texts, labels


def make_tokenizer(vocab: Path) -> BertTokenizerFast:
    """An uncased WordPiece tokenizer on ``vocab``.

    transformers 5 takes the vocabulary as ``vocab=`` (and silently ignores
    ``vocab_file=``, giving an all-[UNK] tokenizer); 4.x takes ``vocab_file=``.
    """
    params = inspect.signature(BertTokenizerFast.__init__).parameters
    vocab_arg = "vocab" if "vocab" in params else "vocab_file"
    return BertTokenizerFast(**{vocab_arg: str(vocab)}, do_lower_case=True)


def check_vocabulary(tokenizer: BertTokenizerFast, input_ids: list[list[int]], vocab) -> None:
    """Exit when more than 5% of the tokens are [UNK] (the vocabulary did not load)."""
    ids = [i for row in input_ids for i in row]
    unk_share = sum(i == tokenizer.unk_token_id for i in ids) / max(len(ids), 1)
    if unk_share > 0.05:
        sys.exit(f"{unk_share:.0%} of the tokens are [UNK]: the vocabulary did not load ({vocab})")


def make_model() -> BertForSequenceClassification:
    """Build a randomly initialised BERT L4-H128 ("small-bert-L4") classifier, seeded."""
    transformers.set_seed(SEED)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=128,
        num_hidden_layers=4,
        num_attention_heads=2,
        intermediate_size=512,
        max_position_embeddings=512,
        num_labels=4,
    )
    return BertForSequenceClassification(config)


class CountingCollator:
    """Wrap a collator and count the tokens (after padding) it emits."""

    def __init__(self, inner: DataCollatorWithPadding):
        self.inner = inner
        self.padded_tokens = 0

    def __call__(self, features):
        """Collate ``features`` and add the padded batch's token count to the tally."""
        batch = self.inner(features)
        self.padded_tokens += int(batch["input_ids"].numel())
        return batch


class LastLossTrainer(Trainer):
    """Trainer that remembers the most recent step's training loss (logging is disabled)."""

    last_loss: torch.Tensor | None = None

    def compute_loss(self, model, inputs, *args, **kwargs):
        """Compute the loss as usual and keep a detached copy of it."""
        out = super().compute_loss(model, inputs, *args, **kwargs)
        loss = out[0] if isinstance(out, tuple) else out
        self.last_loss = loss.detach()
        return out


def training_args(output_dir: str, batch_size: int) -> TrainingArguments:
    """Build TrainingArguments, adapting to the installed transformers' argument names."""
    params = inspect.signature(TrainingArguments.__init__).parameters
    kwargs = {
        "output_dir": output_dir,
        "per_device_train_batch_size": batch_size,
        "num_train_epochs": 1,
        "learning_rate": 3e-5,
        "weight_decay": 0.01,
        "max_grad_norm": 1.0,
        "report_to": "none",
        "save_strategy": "no",
        "logging_strategy": "no",
        "log_level": "error",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
        "seed": SEED,
        "do_train": True,
        "do_eval": False,
    }
    # Length-grouped sampling: transformers >= 5 uses train_sampling_strategy, 4.x group_by_length.
    if "train_sampling_strategy" in params:
        kwargs["train_sampling_strategy"] = "group_by_length"
    else:
        kwargs["group_by_length"] = True
    # Warm-up ratio 0.1: transformers >= 5 takes a float < 1 in warmup_steps as a ratio.
    if "warmup_ratio" in params:
        kwargs["warmup_ratio"] = 0.1
    else:
        kwargs["warmup_steps"] = 0.1
    kwargs["use_cpu" if "use_cpu" in params else "no_cuda"] = True
    kwargs["eval_strategy" if "eval_strategy" in params else "evaluation_strategy"] = "no"
    return TrainingArguments(**kwargs)


def run_epoch(
    dataset: list[dict],
    tokenizer: BertTokenizerFast,
    args: TrainingArguments,
) -> tuple[float, float, int]:
    """Train a fresh model for one epoch; return (train() seconds, last loss, padded tokens)."""
    model = make_model()
    collator = CountingCollator(DataCollatorWithPadding(tokenizer))
    trainer = LastLossTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=collator,
        processing_class=tokenizer,
    )
    trainer.remove_callback(PrinterCallback)  # keep stdout to the JSON record
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    last = float(trainer.last_loss) if trainer.last_loss is not None else float("nan")
    return seconds, last, collator.padded_tokens


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and return (and print / write) the result record."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="AG News csv (no header)")
    p.add_argument("--vocab", type=Path, default=DEFAULT_VOCAB, help="uncased WordPiece vocab")
    p.add_argument("--examples", type=int, default=2048, help="use the first N rows")
    p.add_argument("--runs", type=int, default=3, help="timed runs")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=128, help="truncation length (tokens)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch intra-op threads")
    p.add_argument("--out", type=Path, default=None, help="write the JSON record here")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    transformers.logging.set_verbosity_error()

    texts, labels = read_ag_news(a.csv, a.examples)
    tokenizer = make_tokenizer(a.vocab)
    start = time.perf_counter()
    enc = tokenizer(texts, truncation=True, max_length=a.max_length, padding=False)
    tokenize_s = time.perf_counter() - start
    check_vocabulary(tokenizer, enc["input_ids"], a.vocab)
    dataset = [
        {
            "input_ids": enc["input_ids"][i],
            "token_type_ids": enc["token_type_ids"][i],
            "attention_mask": enc["attention_mask"][i],
            "labels": labels[i],
        }
        for i in range(len(texts))
    ]
    mean_tokens = statistics.fmean(len(ids) for ids in enc["input_ids"])

    run_seconds: list[float] = []
    padded: list[int] = []
    final_loss = float("nan")
    with tempfile.TemporaryDirectory(prefix="hf_trainer_peer_") as tmp:
        args = training_args(tmp, a.batch_size)
        run_epoch(dataset, tokenizer, args)  # warm-up, not timed
        for _ in range(a.runs):
            seconds, final_loss, tokens = run_epoch(dataset, tokenizer, args)
            run_seconds.append(seconds)
            padded.append(tokens)

    eps = [a.examples / s for s in run_seconds]
    record = {
        "name": "hf-trainer-group-by-length",
        "framework": "transformers Trainer (PyTorch CPU)",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
        },
        "examples": a.examples,
        "batch_size": a.batch_size,
        "max_length": a.max_length,
        "threads": torch.get_num_threads(),
        "mean_tokens": mean_tokens,
    }
    if padded:
        # Seeded sampler => identical batches every run; report the first timed run's count.
        record["padded_tokens_per_epoch"] = padded[0]
    record.update(
        {
            "tokenize_s": tokenize_s,
            "run_seconds": run_seconds,
            "examples_per_s": eps,
            "median_examples_per_s": statistics.median(eps) if eps else None,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "final_loss": final_loss,
        }
    )
    text = json.dumps(record, indent=2)
    print(text)
    if a.out is not None:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text + "\n")
    return record


if __name__ == "__main__":
    main()
