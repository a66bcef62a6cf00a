"""Wall time of `textzoo --help`, `--version`, `list`, `info NAME`, `env` and of
`import tfx_textzoo; list_models()`, each in a fresh process, before and after the lazy
start-up (issue 16).

"before" is a checkout of the old code (e.g. ``git worktree add /tmp/cli-before 8cfeccf``),
"after" this checkout; both run with the same interpreter, PYTHONPATH pointing at the
checkout. Medians of ``--repeats`` runs per command; runs alternate between the two
checkouts so that a busy machine slows both alike. Writes
``benchmarks/results/cli_startup.{json,md}``.

Usage::

    python benchmarks/cli_startup.py --before /tmp/cli-before --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, command_line, machine, write_results

COMMANDS = {
    "textzoo --help": ["-m", "tfx_textzoo.cli", "--help"],
    "textzoo --version": ["-m", "tfx_textzoo.cli", "--version"],
    "textzoo list": ["-m", "tfx_textzoo.cli", "list"],
    "textzoo info bert-tiny": ["-m", "tfx_textzoo.cli", "info", "bert-tiny"],
    "python -c 'import tfx_textzoo; tfx_textzoo.list_models()'": [
        "-c",
        "import tfx_textzoo; tfx_textzoo.list_models()",
    ],
    "textzoo env (imports TensorFlow)": ["-m", "tfx_textzoo.cli", "env"],
}
NOISE_PREFIXES = ("I0000 ", "W0000 ", "E0000 ", "WARNING: All log messages")


def run_once(checkout: Path, args: list[str]) -> tuple[float, int]:
    """Seconds of wall time, and TensorFlow start-up lines on stderr, of one run."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "TEXTZOO_OFFLINE": "1"}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd="/tmp"
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{checkout}: {args} failed:\n{proc.stderr[-3000:]}")
    noise = sum(line.startswith(NOISE_PREFIXES) for line in proc.stderr.splitlines())
    return seconds, noise


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="checkout of the old code (optional)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    checkouts = {"after": ROOT}
    if args.before:
        checkouts = {"before": args.before.resolve(), **checkouts}
    rows = []
    for label, command in COMMANDS.items():
        times: dict[str, list[float]] = {k: [] for k in checkouts}
        noise: dict[str, int] = {}
        for _ in range(args.repeats):
            for name, checkout in checkouts.items():
                if label.startswith("textzoo env") and name == "before":
                    continue  # `env` is new: only "after" has it
                seconds, lines = run_once(checkout, command)
                times[name].append(seconds)
                noise[name] = lines
        rows.append(
            {
                "command": label,
                **{
                    f"{name}_median_s": round(statistics.median(t), 3) if t else None
                    for name, t in times.items()
                },
                **{f"{name}_runs_s": [round(x, 3) for x in t] for name, t in times.items()},
                **{f"{name}_tf_log_lines": n for name, n in noise.items()},
            }
        )
        print(rows[-1], file=sys.stderr)
    header = "| command | " + " | ".join(f"{n} median (s)" for n in checkouts)
    header += " | " + " | ".join(f"{n} TF log lines" for n in checkouts) + " |"
    lines = [
        "# CLI start-up time",
        "",
        f"{machine()}; {args.repeats} runs per command and checkout, alternating; the "
        "machine was shared with other jobs, so single runs vary (all runs are in the JSON).",
        "",
        header,
        "|---|" + "---:|" * (2 * len(checkouts)),
    ]
    for row in rows:
        medians = [row.get(f"{n}_median_s") for n in checkouts]
        noises = [row.get(f"{n}_tf_log_lines") for n in checkouts]
        cells = [f"{m:.2f}" if m is not None else "-" for m in medians]
        cells += [str(n) if n is not None else "-" for n in noises]
        lines.append(f"| `{row['command']}` | " + " | ".join(cells) + " |")
    lines += ["", f"Command: `{command_line('cli_startup.py', argv)}`", ""]
    payload = {"machine": machine(), "repeats": args.repeats, "rows": rows}
    write_results(args.out, "cli_startup", payload, "\n".join(lines))


if __name__ == "__main__":
    main()
