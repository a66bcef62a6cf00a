"""Beyond one label per short text: multi-label, sentence pairs and long documents.

Fine-tunes all-MiniLM-L6-v2 (the real weights) on the real data in ``../shared`` with
``textzoo.finetune`` and scores it with ``textzoo.evaluate``; every part is one function:

- ``goemotions``: GoEmotions (Demszky et al. 2020), 28 labels, multi-label. Trained on
  ``--goemotions-train`` texts of the 43,410 (a seeded sample, so the default run fits its
  time budget; ``--goemotions-train 0`` takes all), one decision threshold per label tuned
  on the dev split by ``finetune``, scored on the test split (also at a global 0.5, to
  show what the tuning buys). The paper's BERT-base (full train set): macro F1 0.46.
- ``rte``: GLUE RTE sentence pairs (2,490 train), dev accuracy for each of ``--rte-seeds``.
  Trained without validation data for the catalog's fixed number of epochs, so nothing
  about the dev split steers training (no restore-best on the split that is reported).
- ``bbc``: BBC News (2,225 articles, 5 topics; ``datasets.load`` drops the 99 rows that
  repeat a text and splits the rest 80/20 per class with a fixed seed); a stratified
  ``--bbc-validation`` share of the train part is held out for validation. One model
  per truncation mode (``head``, ``tail``, ``head+tail``), each evaluated with the mode it
  was trained with, then the ``head`` model (and with ``--bbc-chunks-models``, others)
  evaluated with ``long_text="chunks"`` (sliding windows, mean of the probabilities).

Sizes (in ``SIZING``, written into every run): on this 2-core CPU, shared with other
work while it was measured, one all-MiniLM-L6-v2 training step of 32 sequences took 1.7 s
at 128 tokens and 4.0 s at 256; at 512 tokens it trained 2.6 sequences/s and predicted 5.
BBC articles have 455 tokens on average (86% over 256, 31% over 512), so 512 tokens would
cost about three times 256 for every model; the BBC part uses 256 tokens and a 400-article
training sample. GoEmotions (19 tokens per comment) trains on 20,000 comments for one
frozen and one full epoch (the same number of steps as 10,000 comments for the catalog's
1 + 2, with twice the examples of the rare emotions); RTE (70 tokens per pair, 12% over
128) on all pairs at 128 tokens, two seeds. Estimated from those rates, the whole default
run takes about 25 minutes on an idle machine.
``--quick`` runs every part on tiny subsets (a smoke test of the script; its numbers mean
nothing).

Every run is appended to ``benchmarks/results/tasks.json`` (with its command, machine,
sizes and settings); ``tasks.md`` shows, for each part, the latest run that had it.

Usage:
    python benchmarks/tasks.py                        # everything (about 25 minutes)
    python benchmarks/tasks.py --quick                # smoke test (about 2 minutes)
    python benchmarks/tasks.py --only bbc --bbc-length 512 --bbc-train 200
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import tfx_textzoo as textzoo  # noqa: E402
from tfx_textzoo.evaluation import Report  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, command_line, machine  # noqa: E402

MODEL = "all-minilm-l6-v2"
PARTS = ("goemotions", "rte", "bbc")
TRUNCATIONS = ("head", "tail", "head+tail")
PAPER = {
    "model": "BERT-base",
    "macro_f1": 0.46,
    "train_texts": 43_410,
    "citation": (
        "Demszky et al. (2020). GoEmotions: A Dataset of Fine-Grained Emotions. ACL, Table 4"
    ),
}
#: How the default sizes were chosen (measured with the real weights and random token ids).
SIZING = {
    "measured": "2026-12-02, this machine, while other sessions shared its 2 cores",
    "train_step_seconds_batch_32": {"128": 1.74, "256": 3.99},
    "train_sequences_per_second": {"128": 18.4, "256": 8.0, "512": 2.6},
    "predict_sequences_per_second": {"128": 67.4, "256": 27.8, "512": 5.1},
    "mean_tokens": {"goemotions": 19.3, "rte_pair": 70.2, "bbc_news": 454.7},
    "share_over": {"rte_128": 0.122, "bbc_256": 0.855, "bbc_512": 0.307},
    "goemotions_sequences_per_second_under_load": {"train": 33, "predict": 110},
    "choice": (
        "BBC at 256 tokens (512 trains 3x slower: the run would not fit 30 minutes), 400 "
        "training articles; GoEmotions 20,000 comments for 1 frozen + 1 full epoch; RTE all "
        "2,490 pairs at 128 tokens, two seeds; about 25 minutes on an idle machine"
    ),
}
#: The defaults of a full run, and what ``--quick`` replaces them with.
DEFAULTS = {
    "goemotions_train": 20_000,
    "goemotions_epochs": 2,  # 1 frozen + 1 full: more texts once beat fewer texts twice
    "goemotions_eval": 0,  # 0: the whole dev and test splits
    "goemotions_length": 128,
    "rte_seeds": "0,1",
    "rte_train": 0,  # 0: all 2,490 pairs
    "rte_eval": 0,
    "rte_length": 128,
    "bbc_length": 256,
    "bbc_train": 400,
    "bbc_validation": 0.1,  # the share of the loader's train split held out for validation
    "bbc_eval": 0,
    "bbc_chunks_models": "head",
    "epochs": None,  # RTE and BBC; None: the catalog's (all-minilm-l6-v2: 1 frozen + 2 full)
}
QUICK = {
    "goemotions_train": 256,
    "goemotions_eval": 128,
    "rte_seeds": "0",
    "rte_train": 64,
    "rte_eval": 64,
    "rte_length": 64,
    "bbc_length": 128,
    "bbc_train": 25,
    "bbc_eval": 25,
    "bbc_chunks_models": "head,head+tail",
    "epochs": 2,
}


def sample(data, n: int, seed: int, what: str):
    """A seeded sample of ``n`` rows of ``data`` in their original order (all for n=0)."""
    if n <= 0 or n >= len(data):
        return data
    rows = np.sort(np.random.default_rng(seed).choice(len(data), n, replace=False))
    picked = data[rows.tolist()]
    picked.name = f"{data.name} ({what}: {n:,} of {len(data):,}, seed {seed})"
    return picked


def load_split(name: str, split: str, shared: Path):
    """One split of a named dataset from its local files in ``shared/data``."""
    folder = {"bbc_news": "bbc_news"}.get(name, name)
    return textzoo.datasets.load(name, split, data_dir=shared / "data" / folder)


def fresh_model(labels, length: int, weights: str, **kwargs):
    """A new classifier from the real weights (earlier models' graphs dropped first)."""
    keras.backend.clear_session()
    gc.collect()
    return textzoo.load(MODEL, labels=labels, weights=weights, sequence_length=length, **kwargs)


def train_record(history) -> dict:
    """What a run of `finetune` did, for the JSON."""
    return {
        "settings": history.settings,
        "epochs": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in e.items()}
            for e in history.epochs
        ],
        "best_epoch": history.best_epoch,
        "restored_best": history.restored_best,
        "train_seconds": round(history.timings["total"], 1),
        "timings": {k: round(v, 1) for k, v in history.timings.items()},
    }


def timed_evaluate(model, data, **kwargs) -> tuple[dict, float]:
    """``evaluate(model, data, **kwargs).to_dict()`` and the seconds it took."""
    tick = time.perf_counter()
    report = textzoo.evaluate(model, data, verbose=0, **kwargs)
    return report.to_dict(), round(time.perf_counter() - tick, 1)


def pick(report: dict, keys) -> dict:
    """The headline numbers of a report (floats rounded)."""
    return {k: round(report[k], 4) if isinstance(report[k], float) else report[k] for k in keys}


MULTI_KEYS = ("micro_f1", "macro_f1", "samples_f1", "subset_accuracy", "hamming_loss")


def goemotions(cfg: dict) -> dict:
    """GoEmotions multi-label: thresholds tuned on dev, micro/macro F1 etc. on test."""
    shared, seed = cfg["shared"], cfg["seed"]
    train_all = load_split("goemotions", "train", shared)
    dev_all = load_split("goemotions", "validation", shared)
    test_all = load_split("goemotions", "test", shared)
    train = sample(train_all, cfg["goemotions_train"], seed, "train")
    dev = sample(dev_all, cfg["goemotions_eval"], seed, "dev")
    test = sample(test_all, cfg["goemotions_eval"], seed, "test")
    print(f"goemotions: train {len(train):,}, dev {len(dev):,}, test {len(test):,}", flush=True)
    model = fresh_model(
        train.label_names, cfg["goemotions_length"], cfg["weights"], multi_label=True
    )
    history = textzoo.finetune(
        model, train, validation_data=dev, epochs=cfg["goemotions_epochs"], seed=seed, verbose=2
    )
    thresholds = np.asarray(model.task.thresholds, dtype=float)
    tick = time.perf_counter()
    report = textzoo.evaluate(model, test, verbose=0)
    tuned_seconds = round(time.perf_counter() - tick, 1)
    tuned = report.to_dict()
    # The same test probabilities decided at 0.5 for every label: what the tuning buys.
    at_half = Report.from_predictions(
        report.labels,
        report.probabilities,
        label_names=report.label_names,
        thresholds=[0.5] * len(report.label_names),
    ).to_dict()
    return {
        "labels": len(train.label_names),
        "train_texts": len(train),
        "train_texts_available": len(train_all),
        "dev_texts": len(dev),
        "test_texts": len(test),
        "sequence_length": cfg["goemotions_length"],
        **train_record(history),
        "thresholds": {
            "min": round(float(thresholds.min()), 3),
            "median": round(float(np.median(thresholds)), 3),
            "max": round(float(thresholds.max()), 3),
            "per_label": dict(
                zip(train.label_names, np.round(thresholds, 3).tolist(), strict=True)
            ),
        },
        "test": {
            **pick(tuned, MULTI_KEYS),
            "num_long_texts": tuned.get("num_long_texts"),
            "evaluate_seconds": tuned_seconds,
        },
        "test_at_0.5": pick(at_half, MULTI_KEYS),
        "per_label": {
            name: {k: round(v, 4) if isinstance(v, float) else v for k, v in values.items()}
            for name, values in tuned.get("per_class", {}).items()
        },
        "paper": PAPER,
    }


def rte(cfg: dict) -> dict:
    """RTE sentence pairs: dev accuracy of one fine-tuned model per seed."""
    shared = cfg["shared"]
    train_all = load_split("rte", "train", shared)
    dev_all = load_split("rte", "validation", shared)
    train = sample(train_all, cfg["rte_train"], cfg["seed"], "train")
    dev = sample(dev_all, cfg["rte_eval"], cfg["seed"], "dev")
    counts = np.bincount(np.asarray(dev.labels), minlength=len(dev.label_names))
    majority = {
        "label": dev.label_names[int(counts.argmax())],
        "accuracy": round(float(counts.max() / counts.sum()), 4),
    }
    print(f"rte: train {len(train):,} pairs, dev {len(dev):,} pairs", flush=True)
    runs = []
    for seed in [int(s) for s in cfg["rte_seeds"].split(",")]:
        model = fresh_model(train.label_names, cfg["rte_length"], cfg["weights"])
        # No validation data: the reported split must not pick the epoch (restore-best).
        history = textzoo.finetune(
            model, train, epochs=cfg["epochs"], seed=seed, restore_best=False, verbose=2
        )
        report, seconds = timed_evaluate(model, dev)
        runs.append(
            {
                "seed": seed,
                "dev_accuracy": round(report["accuracy"], 4),
                "num_long_texts": report.get("num_long_texts"),
                "evaluate_seconds": seconds,
                **train_record(history),
            }
        )
        print(f"rte seed {seed}: dev accuracy {report['accuracy']:.4f}", flush=True)
    accuracies = [r["dev_accuracy"] for r in runs]
    return {
        "train_pairs": len(train),
        "dev_pairs": len(dev),
        "sequence_length": cfg["rte_length"],
        "majority_class": majority,
        "dev_accuracy_mean": round(statistics.mean(accuracies), 4),
        "dev_accuracy_sd": round(statistics.stdev(accuracies), 4) if len(runs) > 1 else None,
        "runs": runs,
    }


def stratified_sample(data, n: int, seed: int):
    """``(rest, picked)``: ``n`` rows of ``data`` picked with each class in proportion."""
    if n <= 0 or n >= len(data):
        return data[:0], data
    rest, picked = textzoo.datasets.stratified_split(data, n / len(data), seed)
    picked.name = f"{data.name}, a {len(picked):,}-text stratified sample (seed {seed})"
    return rest, picked


def bbc(cfg: dict) -> dict:
    """BBC News long documents: head / tail / head+tail models, and chunks at prediction."""
    shared, seed, length = cfg["shared"], cfg["seed"], cfg["bbc_length"]
    # The loader drops exact repeats, then splits 80/20 per class (BBC_SPLIT_SEED).
    pool = load_split("bbc_news", "train", shared)
    test_all = test = load_split("bbc_news", "test", shared)
    articles = len(pool) + len(test)
    fraction = cfg["bbc_validation"]
    if not 0 < fraction < 1:
        raise SystemExit(f"--bbc-validation must be in (0, 1), got {fraction}")
    rest, validation = stratified_sample(pool, round(fraction * len(pool)), seed)
    _, train = stratified_sample(rest, cfg["bbc_train"], seed)
    _, validation = stratified_sample(validation, cfg["bbc_eval"], seed)
    _, test = stratified_sample(test, cfg["bbc_eval"], seed)
    print(
        f"bbc: {articles:,} unique articles; train {len(train):,} of {len(rest):,}, "
        f"validation {len(validation):,}, test {len(test):,}; "
        f"{length} tokens",
        flush=True,
    )
    rows = []
    chunk_modes = [m for m in cfg["bbc_chunks_models"].split(",") if m]
    for mode in TRUNCATIONS:
        model = fresh_model(train.label_names, length, cfg["weights"])
        history = textzoo.finetune(
            model,
            train,
            validation_data=validation,
            truncation=mode,
            epochs=cfg["epochs"],
            seed=seed,
            verbose=2,
        )
        record = train_record(history)
        report, seconds = timed_evaluate(model, test, long_text="truncate", truncation=mode)
        rows.append(
            {
                "trained_with": mode,
                "predicted_with": mode,
                "accuracy": round(report["accuracy"], 4),
                "macro_f1": round(report["macro_f1"], 4),
                "num_long_texts": report.get("num_long_texts"),
                "evaluate_seconds": seconds,
                **record,
            }
        )
        print(f"bbc {mode}: test accuracy {report['accuracy']:.4f}", flush=True)
        if mode in chunk_modes:
            report, seconds = timed_evaluate(model, test, long_text="chunks")
            rows.append(
                {
                    "trained_with": mode,
                    "predicted_with": "chunks (mean)",
                    "accuracy": round(report["accuracy"], 4),
                    "macro_f1": round(report["macro_f1"], 4),
                    "num_long_texts": report.get("num_long_texts"),
                    "evaluate_seconds": seconds,
                    "train_seconds": record["train_seconds"],
                }
            )
            print(f"bbc {mode}, chunks: test accuracy {report['accuracy']:.4f}", flush=True)
        del model
    return {
        "articles": articles,
        "loader_split": {"train": len(pool), "test": len(test_all)},
        "validation_fraction": fraction,
        "split_seed": seed,
        "train_texts": len(train),
        "train_pool": len(rest),
        "validation_texts": len(validation),
        "test_texts": len(test),
        "sequence_length": length,
        "test_texts_over_length": rows[0]["num_long_texts"],
        "results": rows,
    }


FUNCTIONS = {"goemotions": goemotions, "rte": rte, "bbc": bbc}


def git_commit() -> str | None:
    """The commit the benchmark ran at (None outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def _pct(x) -> str:
    return "" if x is None else f"{x:.1%}"


def _f(x, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _heading(run: dict, part: str) -> list[str]:
    seconds = run["seconds"]
    line = f"`{run['command']}` on {run['machine']}, {run['started'][:16]} UTC"
    if run.get("commit"):
        line += f", commit `{run['commit']}`"
    line += f". This part: {seconds[part] / 60:.1f} minutes"
    if len(seconds) > 2:  # other parts too
        line += f" (the whole run: {seconds['total'] / 60:.1f})"
    lines = [line + "."]
    if run.get("quick"):
        lines += [
            "",
            "!!! warning",
            "    A `--quick` smoke test on tiny subsets: these numbers mean nothing.",
        ]
    return [*lines, ""]


def goemotions_markdown(run: dict) -> list[str]:
    r = run["parts"]["goemotions"]
    s = r["settings"]
    epochs = f"{s.get('freeze_epochs')}+{s.get('epochs', 0) - s.get('freeze_epochs', 0)}"
    lines = [
        "### GoEmotions: multi-label (28 labels)",
        "",
        *_heading(run, "goemotions"),
        f"Trained on {r['train_texts']:,} of the {r['train_texts_available']:,} train texts, "
        f"{r['sequence_length']} tokens, epochs {epochs} (frozen + full); one threshold per "
        f"label tuned on the {r['dev_texts']:,} dev texts (from {r['thresholds']['min']} to "
        f"{r['thresholds']['max']}, median {r['thresholds']['median']}); scored on the "
        f"{r['test_texts']:,} test texts.",
        "",
        "| model | thresholds | micro F1 | macro F1 | samples F1 | subset accuracy | "
        "Hamming loss | train (s) | evaluate (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    rows = (("tuned on dev", "test"), ("0.5 for every label (same predictions)", "test_at_0.5"))
    for name, key in rows:
        t = r[key]
        lines.append(
            f"| {MODEL} | {name} | {_f(t['micro_f1'])} | {_f(t['macro_f1'])} | "
            f"{_f(t['samples_f1'])} | {_pct(t['subset_accuracy'])} | "
            f"{_f(t['hamming_loss'], 4)} | {r['train_seconds']:.0f} | "
            f"{r['test']['evaluate_seconds']:.0f} |"
        )
    p = r["paper"]
    lines += [
        f"| {p['model']}, the paper's (all {p['train_texts']:,} train texts) | | | "
        f"{p['macro_f1']:.2f} | | | | | |",
        "",
        f"The paper: {p['citation']}.",
    ]
    return lines


def rte_markdown(run: dict) -> list[str]:
    r = run["parts"]["rte"]
    s = r["runs"][0]["settings"]
    epochs = f"{s.get('freeze_epochs')}+{s.get('epochs', 0) - s.get('freeze_epochs', 0)}"
    sd = "" if r["dev_accuracy_sd"] is None else f" ± {r['dev_accuracy_sd']:.1%}"
    lines = [
        "### RTE: sentence pairs",
        "",
        *_heading(run, "rte"),
        f"Trained on {r['train_pairs']:,} pairs for epochs {epochs} (frozen + full) without "
        f"validation data (nothing about the dev split picks the epoch), {r['sequence_length']} "
        f"tokens per pair; dev accuracy on {r['dev_pairs']:,} pairs. Mean over "
        f"{len(r['runs'])} seed(s): **{r['dev_accuracy_mean']:.1%}{sd}**; the majority class "
        f"({r['majority_class']['label']}) scores {r['majority_class']['accuracy']:.1%}.",
        "",
        "| seed | dev accuracy | pairs over the sequence length | train (s) | evaluate (s) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for x in r["runs"]:
        lines.append(
            f"| {x['seed']} | {x['dev_accuracy']:.1%} | {x.get('num_long_texts', '')} | "
            f"{x['train_seconds']:.0f} | {x['evaluate_seconds']:.0f} |"
        )
    return lines


def bbc_markdown(run: dict) -> list[str]:
    r = run["parts"]["bbc"]
    first = next(x for x in r["results"] if "settings" in x)
    s = first["settings"]
    epochs = f"{s.get('freeze_epochs')}+{s.get('epochs', 0) - s.get('freeze_epochs', 0)}"
    lines = [
        "### BBC News: long documents",
        "",
        *_heading(run, "bbc"),
        f"{r['articles']:,} unique articles (the loader drops exact repeats and splits 80/20 "
        f"per class: {r['loader_split']['train']:,} / {r['loader_split']['test']:,}); "
        f"trained on a stratified {r['train_texts']:,} of the train part, "
        f"{r['validation_texts']:,} more of it held out for validation (restore-best), "
        f"scored on {r['test_texts']:,} test articles. **{r['sequence_length']} tokens**: "
        f"{r['test_texts_over_length']} of the {r['test_texts']:,} test articles are "
        f"longer. Epochs {epochs} (frozen + full). Chunks: windows of the sequence length "
        "over the whole article, the mean of their probabilities.",
        "",
        "| trained with | predicted with | accuracy | macro F1 | train (s) | evaluate (s) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for x in r["results"]:
        lines.append(
            f"| {x['trained_with']} | {x['predicted_with']} | {x['accuracy']:.1%} | "
            f"{_f(x['macro_f1'])} | {x['train_seconds']:.0f} | {x['evaluate_seconds']:.0f} |"
        )
    return lines


MARKDOWN = {"goemotions": goemotions_markdown, "rte": rte_markdown, "bbc": bbc_markdown}


def to_markdown(runs: list[dict]) -> str:
    """For each part, the latest run that has it (full runs before ``--quick`` ones)."""
    sizing = SIZING["train_sequences_per_second"]
    lines = [
        f"Fine-tuned `{MODEL}` (real weights) with the catalog's `textzoo.finetune` "
        "settings (GoEmotions: one full epoch instead of two, on more texts); each part's "
        "command and sizes are above its table. The sizes keep the "
        f"whole default run under 30 minutes on this CPU: MiniLM trained {sizing['128']} "
        f"sequences/s at 128 tokens, {sizing['256']} at 256 and {sizing['512']} at 512 "
        "here, so the BBC part uses 256 tokens (`SIZING` in the script and the JSON).",
    ]
    for part in PARTS:
        having = [r for r in runs if part in r.get("parts", {})]
        full = [r for r in having if not r.get("quick")]
        if having:
            lines += ["", *MARKDOWN[part]((full or having)[-1])]
    return "\n".join(lines) + "\n"


def write(out: Path, run: dict) -> None:
    """Append (or update) ``run`` in ``tasks.json`` and rewrite ``tasks.md``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "tasks.json"
    runs = json.loads(path.read_text())["runs"] if path.exists() else []
    runs = [r for r in runs if r["started"] != run["started"]] + [run]
    path.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    (out / "tasks.md").write_text(to_markdown(runs))


def main(argv=None) -> int:
    """Run the chosen parts, writing the results after each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts")
    parser.add_argument("--quick", action="store_true", help="tiny subsets: a smoke test")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--weights", help="default: <shared>/models/all-minilm-l6-v2")
    parser.add_argument("--seed", type=int, default=0, help="samples, split and training")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    for key, value in DEFAULTS.items():
        kind = int if value is None else type(value)
        parser.add_argument(
            "--" + key.replace("_", "-"),
            type=kind,
            default=None,
            help=f"default {value} (--quick: {QUICK.get(key, value)})",
        )
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise SystemExit(f"--only: unknown part(s) {unknown}; the parts are {list(PARTS)}")
    if not (args.shared / "data").is_dir():
        raise SystemExit(f"{args.shared}/data not found: pass --shared DIR (the ../shared folder)")
    cfg = {**DEFAULTS, **(QUICK if args.quick else {})}
    if args.epochs is not None and args.goemotions_epochs is None:
        cfg["goemotions_epochs"] = args.epochs  # --epochs sets every part's
    cfg.update({k: getattr(args, k) for k in DEFAULTS if getattr(args, k) is not None})
    cfg["shared"], cfg["seed"] = args.shared, args.seed
    wrong = sorted(set(cfg["bbc_chunks_models"].split(",")) - set(TRUNCATIONS) - {""})
    if wrong:
        raise SystemExit(
            f"--bbc-chunks-models: {wrong} are not truncation modes; use some of "
            f"{list(TRUNCATIONS)} (the models evaluated with chunks), comma-separated"
        )
    try:
        seeds = [int(x) for x in cfg["rte_seeds"].split(",")]
    except ValueError:
        seeds = []
    if not seeds:
        raise SystemExit(f"--rte-seeds: comma-separated integers, got {cfg['rte_seeds']!r}")
    cfg["weights"] = args.weights or str(args.shared / "models" / MODEL)
    run = {
        "command": command_line("tasks.py", argv).strip(),
        "machine": machine(),
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "quick": args.quick,
        "model": MODEL,
        "sizes": {k: v for k, v in cfg.items() if k not in ("shared", "weights")},
        "sizing": SIZING,
        "parts": {},
        "seconds": {},
    }
    started = time.perf_counter()
    for part in parts:
        tick = time.perf_counter()
        run["parts"][part] = FUNCTIONS[part](cfg)
        run["seconds"][part] = round(time.perf_counter() - tick, 1)
        run["seconds"]["total"] = round(time.perf_counter() - started, 1)
        run["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        write(args.out, run)
        print(f"{part}: {run['seconds'][part]:.0f} s", flush=True)
    print((args.out / "tasks.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
