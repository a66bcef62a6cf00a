"""What the side-by-side benchmarks share: running a configuration in its own process,
the machine line, and writing results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEERS_PYTHON = ROOT / "benchmarks" / "peers" / ".venv" / "bin" / "python"
VOCAB = ROOT / "tfx_textzoo" / "assets" / "bert-uncased-vocab.txt"
AG_NEWS_CSV = ROOT.parent / "shared" / "data" / "ag_news" / "test.csv"


def run_isolated(name: str, make_cmd: Callable[[Path], list[str]], peer: bool = False) -> dict:
    """Run ``make_cmd(result_path)`` in a fresh process and return the JSON it wrote.

    ``peer``: the command runs in the peers' virtual environment (created when missing).
    """
    if peer and not PEERS_PYTHON.exists():
        subprocess.run(["bash", str(ROOT / "benchmarks/peers/make_venv.sh")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        proc = subprocess.run(make_cmd(out), capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"[{name}] failed:\n{proc.stderr[-4000:]}")
        return json.loads(out.read_text())


def machine() -> str:
    """One line describing this machine (and whether its CPU has native bfloat16)."""
    from tfx_textzoo.precision import cpu_has_bf16

    bf16 = "AVX512_BF16" if cpu_has_bf16() else "no native bfloat16"
    return (
        f"{platform.machine()} CPU ({bf16}), {os.cpu_count()} cores, no GPU, Python "
        f"{platform.python_version()}"
    )


def command_line(script: str, argv) -> str:
    """How the benchmark was invoked, for the results."""
    return f"python benchmarks/{script} " + " ".join(argv or sys.argv[1:])


def write_results(out_dir: Path, stem: str, payload: dict, markdown: str) -> None:
    """Write ``<stem>.json`` and ``<stem>.md`` and print the markdown.

    The runs already in ``<stem>.json`` are kept under ``earlier_runs`` (newest first):
    a rerun adds to the record, it never replaces it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}.json"
    if path.exists():
        previous = json.loads(path.read_text())
        earlier = previous.pop("earlier_runs", [])
        payload = {**payload, "earlier_runs": [previous, *earlier]}
    path.write_text(json.dumps(payload, indent=2))
    (out_dir / f"{stem}.md").write_text(markdown)
    print(markdown)


def add_common_args(parser, examples: int) -> None:
    """The options every side-by-side benchmark takes (and its hidden worker mode)."""
    import argparse

    parser.add_argument("--examples", type=int, default=examples)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per process")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds; each runs every configuration once in a fresh process, in "
        "alternating order (this machine's load drifts: compare inside a round)",
    )
    parser.add_argument("--csv", type=Path, default=AG_NEWS_CSV)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)


def merge_rounds(rounds: list[list[dict]]) -> list[dict]:
    """One record per configuration from several rounds of the same configurations.

    ``examples_per_s`` and ``run_seconds`` hold every timed run of every round,
    ``median_examples_per_s`` is their median, ``round_medians`` each round's median and
    ``rounds`` every round's own record; ``peak_rss_mb`` is the largest of the rounds.
    """
    import statistics

    merged = []
    for name in [r["name"] for r in rounds[0]]:
        records = [r for one in rounds for r in one if r["name"] == name]
        rates = [x for r in records for x in r["examples_per_s"]]
        merged.append(
            {
                **records[0],
                "run_seconds": [x for r in records for x in r["run_seconds"]],
                "examples_per_s": rates,
                "median_examples_per_s": round(statistics.median(rates), 1),
                "round_medians": [r["median_examples_per_s"] for r in records],
                "peak_rss_mb": max(r["peak_rss_mb"] for r in records),
                "rounds": records,
            }
        )
    return merged


def paired_ratio(record: dict, baseline: dict) -> tuple[float, list[float]]:
    """Median over rounds of ``record``'s round median / ``baseline``'s, and each ratio."""
    import statistics

    ratios = [
        round(a / b, 3)
        for a, b in zip(record["round_medians"], baseline["round_medians"], strict=True)
    ]
    return round(statistics.median(ratios), 3), ratios


def run_main(args, argv, script: str, names, worker, run_config, to_markdown) -> int:
    """Worker mode: measure one configuration; else run ``names`` and write the results.

    The configurations run ``args.rounds`` times, each round in the reverse order of
    the one before (A B C, C B A, ...), so that a drift of the machine's load does not
    favour whichever runs first.
    """
    if args.worker:
        record = worker(args.worker, args.csv, args.examples, args.runs)
        args.json.write_text(json.dumps(record))
        return 0
    if not args.csv.exists():
        raise SystemExit(f"{args.csv} not found: pass --csv (AG News test.csv from ../shared)")
    rounds = []
    for k in range(max(1, args.rounds)):
        order = list(names) if k % 2 == 0 else list(reversed(names))
        print(f"round {k + 1}/{args.rounds}: {', '.join(order)}", flush=True)
        done = {name: run_config(name, args) for name in order}
        rounds.append([{**done[name], "round": k + 1} for name in names])
    records = merge_rounds(rounds)
    command = command_line(script, argv).strip()
    payload = {"command": command, "machine": machine(), "rounds": len(rounds), "results": records}
    write_results(
        args.out, script.removesuffix(".py"), payload, to_markdown(records, command, machine())
    )
    return 0
