"""float32 vs mixed bfloat16 (``precision=``) for finetune and predict, three model shapes.

Each shape runs in its own process; inside it the two policies alternate (order
reversed every round) on two identically initialised models, after an untimed warm-up
of each. Per round: ``textzoo.finetune`` for one epoch (``freeze_epochs=0``, batch 32)
and ``textzoo.predict`` on the same texts, in examples/s. The ratio is bfloat16 over
float32 inside a round; the table gives the median of the rounds. Random weights (the
speed does not depend on them):

- ``bert-L4-H128``: small BERT (4 layers, hidden 128) on AG News texts;
- ``minilm-L6-H384-256``: all-MiniLM-L6-v2's shape on BBC News articles at 256 tokens;
- ``bert-base-128``: bert-base (12 layers, hidden 768) on AG News texts at 128 tokens.

``--accuracy`` adds the real all-MiniLM-L6-v2 (``../shared/models``) fine-tuned on the
first ``--sst2-train`` SST-2 training sentences with the catalog defaults, once in each
policy, each scored on SST-2 dev in both policies.

Usage:
    python benchmarks/precision.py --rounds 3 --accuracy     # writes benchmarks/results/
    python benchmarks/precision.py --shapes bert-L4-H128 --rounds 1 --examples 128
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import AG_NEWS_CSV, ROOT, command_line, machine, write_results  # noqa: E402

SHARED = ROOT.parent / "shared"
POLICIES = ("float32", "mixed_bfloat16")
SHAPES = {
    # name: (catalog model, load overrides, texts, examples scale)
    "bert-L4-H128": ("small-bert-L4", {}, "ag_news", 1.0),
    "minilm-L6-H384-256": ("all-minilm-l6-v2", {"sequence_length": 256}, "bbc", 0.25),
    "bert-base-128": ("bert-base-uncased", {"sequence_length": 128}, "ag_news", 0.25),
}


def _texts(kind: str, n: int):
    from tfx_textzoo.datasets import read_ag_news_csv

    if kind == "ag_news":
        data = read_ag_news_csv(AG_NEWS_CSV)
        return list(data.texts[:n]), [int(y) for y in data.labels[:n]]
    import csv

    with open(SHARED / "data" / "bbc_news" / "bbc-text.csv", newline="") as f:
        rows = list(csv.DictReader(f))[:n]
    names = sorted({r["category"] for r in rows})
    return [r["text"] for r in rows], [names.index(r["category"]) for r in rows]


def speed_worker(shape: str, n: int, rounds: int) -> dict:
    """Time finetune and predict in both policies, alternating, in this process."""
    import keras

    import tfx_textzoo as textzoo

    name, overrides, kind, scale = SHAPES[shape]
    n = max(64, int(n * scale))
    texts, labels = _texts(kind, n)
    models = {}
    for policy in POLICIES:
        keras.utils.set_random_seed(0)
        models[policy] = textzoo.load(
            name, num_classes=max(labels) + 1, weights=None, **overrides
        )
    kwargs = dict(epochs=1, freeze_epochs=0, batch_size=32, verbose=0, seed=0)
    for policy, model in models.items():  # warm-up: trace both steps
        textzoo.finetune(model, (texts[:64], labels[:64]), precision=policy, **kwargs)
        textzoo.predict(model, texts[:64], precision=policy)
    runs = {p: {"finetune": [], "predict": []} for p in POLICIES}
    for r in range(rounds):
        for policy in POLICIES if r % 2 == 0 else POLICIES[::-1]:
            model = models[policy]
            tick = time.perf_counter()
            textzoo.finetune(model, (texts, labels), precision=policy, **kwargs)
            runs[policy]["finetune"].append(round(n / (time.perf_counter() - tick), 1))
            tick = time.perf_counter()
            textzoo.predict(model, texts, precision=policy)
            runs[policy]["predict"].append(round(n / (time.perf_counter() - tick), 1))
    ratios = {
        what: [
            round(b / a, 3)
            for a, b in zip(runs["float32"][what], runs["mixed_bfloat16"][what], strict=True)
        ]
        for what in ("finetune", "predict")
    }
    return {
        "shape": shape,
        "model": name,
        "overrides": overrides,
        "examples": n,
        "examples_per_s": runs,
        "bf16_over_fp32_each_round": ratios,
        "bf16_over_fp32": {k: round(statistics.median(v), 3) for k, v in ratios.items()},
    }


def accuracy_worker(n_train: int) -> dict:
    """Real MiniLM on SST-2: fine-tuned in each policy, each scored in both."""
    import tfx_textzoo as textzoo
    from tfx_textzoo.datasets import read_sst2_tsv

    train = read_sst2_tsv(SHARED / "data" / "sst2" / "train.tsv")
    dev = read_sst2_tsv(SHARED / "data" / "sst2" / "dev.tsv")
    texts, labels = list(train.texts[:n_train]), list(train.labels[:n_train])
    out = {"train_examples": len(texts), "dev_examples": len(dev.texts), "runs": []}
    for policy in POLICIES:
        model = textzoo.load(
            "all-minilm-l6-v2",
            labels=train.label_names,
            weights=str(SHARED / "models" / "all-minilm-l6-v2"),
        )
        tick = time.perf_counter()
        history = textzoo.finetune(
            model, (texts, labels), validation_data=dev, seed=0, verbose=0, precision=policy
        )
        seconds = time.perf_counter() - tick
        scores = {
            p: round(textzoo.evaluate(model, dev, precision=p).accuracy, 4) for p in POLICIES
        }
        out["runs"].append(
            {
                "trained_in": policy,
                "train_seconds": round(seconds, 1),
                "epochs": len(history.epochs),
                "dev_accuracy_scored_in": scores,
            }
        )
    return out


def _isolated(args: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", *args, "--out", str(out)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"worker {args} failed:\n{proc.stderr[-4000:]}")
        return json.loads(out.read_text())


def to_markdown(payload: dict) -> str:
    lines = [
        f"Command: `{payload['command']}`  ",
        f"Machine: {payload['machine']}  ",
        __doc__.split("\n\n")[1].replace("\n", " "),
        "",
        "| shape | examples | finetune fp32 / bf16 (examples/s, each round) | bf16 × | "
        "predict fp32 / bf16 | bf16 × |",
        "|---|---:|---|---:|---|---:|",
    ]
    for r in payload["speed"]:
        e, x = r["examples_per_s"], r["bf16_over_fp32"]
        rounds = r["bf16_over_fp32_each_round"]

        def pair(what, e=e):
            return " / ".join(
                ", ".join(f"{v:g}" for v in e[policy][what]) for policy in POLICIES
            )

        lines.append(
            f"| {r['shape']} | {r['examples']} | {pair('finetune')} | "
            f"**{x['finetune']:.2f}** ({', '.join(f'{v:.2f}' for v in rounds['finetune'])}) | "
            f"{pair('predict')} | **{x['predict']:.2f}** "
            f"({', '.join(f'{v:.2f}' for v in rounds['predict'])}) |"
        )
    acc = payload.get("accuracy")
    if acc:
        lines += [
            "",
            f"Real all-MiniLM-L6-v2, SST-2: fine-tuned on the first {acc['train_examples']:,} "
            f"training sentences (catalog defaults, seed 0), scored on dev "
            f"({acc['dev_examples']} sentences).",
            "",
            "| trained in | train time (s) | dev accuracy, scored in float32 | "
            "scored in bfloat16 |",
            "|---|---:|---:|---:|",
        ]
        for run in acc["runs"]:
            s = run["dev_accuracy_scored_in"]
            lines.append(
                f"| {run['trained_in']} | {run['train_seconds']} | {s['float32']:.4f} | "
                f"{s['mixed_bfloat16']:.4f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--examples", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--sst2-train", type=int, default=4000)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--worker", choices=["speed", "accuracy"], help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.worker == "speed":
        args.out.write_text(json.dumps(speed_worker(args.shape, args.examples, args.rounds)))
        return 0
    if args.worker == "accuracy":
        args.out.write_text(json.dumps(accuracy_worker(args.sst2_train)))
        return 0
    from tfx_textzoo.precision import cpu_has_bf16

    common = ["--examples", str(args.examples), "--rounds", str(args.rounds)]
    payload = {
        "command": command_line("precision.py", argv),
        "machine": machine(),
        "cpu_flags": "avx512_bf16" if cpu_has_bf16() else "no native bfloat16",
        "speed": [
            _isolated(["speed", "--shape", shape, *common])
            for shape in args.shapes.split(",")
        ],
    }
    if args.accuracy:
        payload["accuracy"] = _isolated(["accuracy", "--sst2-train", str(args.sst2_train)])
    write_results(args.out_dir, "precision", payload, to_markdown(payload))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
