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
    """One line describing this machine."""
    return (
        f"{platform.machine()} CPU, {os.cpu_count()} cores, no GPU, Python "
        f"{platform.python_version()}"
    )


def command_line(script: str, argv) -> str:
    """How the benchmark was invoked, for the results."""
    return f"python benchmarks/{script} " + " ".join(argv or sys.argv[1:])


def write_results(out_dir: Path, stem: str, payload: dict, markdown: str) -> None:
    """Write ``<stem>.json`` and ``<stem>.md`` and print the markdown."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stem}.json").write_text(json.dumps(payload, indent=2))
    (out_dir / f"{stem}.md").write_text(markdown)
    print(markdown)


def add_common_args(parser, examples: int) -> None:
    """The options every side-by-side benchmark takes (and its hidden worker mode)."""
    import argparse

    parser.add_argument("--examples", type=int, default=examples)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--csv", type=Path, default=AG_NEWS_CSV)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)


def run_main(args, argv, script: str, names, worker, run_config, to_markdown) -> int:
    """Worker mode: measure one configuration; else run ``names`` and write the results."""
    if args.worker:
        record = worker(args.worker, args.csv, args.examples, args.runs)
        args.json.write_text(json.dumps(record))
        return 0
    if not args.csv.exists():
        raise SystemExit(f"{args.csv} not found: pass --csv (AG News test.csv from ../shared)")
    records = [run_config(name, args) for name in names]
    command = command_line(script, argv).strip()
    payload = {"command": command, "machine": machine(), "results": records}
    write_results(
        args.out, script.removesuffix(".py"), payload, to_markdown(records, command, machine())
    )
    return 0
