"""Write each catalog entry's parameter count into registry/*.toml (``params = N``).

``textzoo list`` / ``info`` and ``get_model_info`` read ``params`` from the catalog so that
they import no family (and no TensorFlow). The number is the family's ``count_params``
for the entry's architecture and a 2-class head. This script imports the families,
counts, and rewrites only the ``params = N`` line of each ``[models.NAME]`` table (adding
it after the ``description`` line when missing); comments and every other line are kept
byte for byte, and a second run changes nothing.

Usage::

    python scripts/update_catalog_params.py            # rewrite registry/*.toml
    python scripts/update_catalog_params.py --check    # exit 1 if a number is stale

``tests/test_registry.py::test_catalog_params_match_the_families`` fails until it is run
after a family or an architecture changes.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_HEADER = re.compile(r"^\s*\[\[?\s*(?P<key>[^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_MODEL_KEY = re.compile(
    r"""^models\s*\.\s*(?:"(?P<q>[^"]+)"|'(?P<s>[^']+)'|(?P<b>[A-Za-z0-9_-]+))$"""
)
_PARAMS = re.compile(r"^(?P<indent>\s*)params\s*=\s*[^#\n]*?(?P<rest>\s*(?:#.*)?)$")
_DESCRIPTION = re.compile(r"^\s*description\s*=")


def expected_params(path: Path) -> dict[str, int | None]:
    """Entry name -> the family's parameter count (2 classes) for one catalog file."""
    from tfx_textzoo import registry

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    specs = registry.parse_catalog(data, origin=path.name, check_formats=False)
    return {spec.name: registry.count_params(spec) for spec in specs}


def rewrite(text: str, counts: dict[str, int | None]) -> str:
    r"""``text`` with one ``params = N`` line per ``[models.NAME]`` table of ``counts``.

    Examples:
        >>> print(rewrite('[models.a]\ndescription = "x"\n', {"a": 12}), end="")
        [models.a]
        description = "x"
        params = 12
        >>> rewrite("[models.a]\nparams = 3  # counted\n", {"a": 12})
        '[models.a]\nparams = 12  # counted\n'
    """
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    table: str | None = None  # the [models.NAME] table we are in, if any
    anchor = -1  # index in `out` after which to insert a missing params line
    seen: set[str] = set()

    def close_table() -> None:
        if table is not None and table not in seen and counts.get(table) is not None:
            out.insert(anchor + 1, f"params = {counts[table]}\n")
            seen.add(table)

    for line in lines:
        header = _HEADER.match(line)
        if header:
            close_table()
            match = _MODEL_KEY.match(header["key"]) if not line.lstrip().startswith("[[") else None
            table = (match["q"] or match["s"] or match["b"]) if match else None
            out.append(line)
            anchor = len(out) - 1
            continue
        if table is not None and table in counts:
            params = _PARAMS.match(line.rstrip("\n"))
            if params and counts[table] is not None:
                newline = "\n" if line.endswith("\n") else ""
                out.append(f"{params['indent']}params = {counts[table]}{params['rest']}{newline}")
                seen.add(table)
                continue
            if _DESCRIPTION.match(line):
                out.append(line)
                anchor = len(out) - 1
                continue
        out.append(line)
    close_table()
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check`` only compare) the ``params`` lines; the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: registry/*.toml")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    files = args.files or sorted((ROOT / "registry").glob("*.toml"))
    stale = []
    for path in files:
        counts = expected_params(path)
        text = path.read_text(encoding="utf-8")
        new = rewrite(text, counts)
        written = tomllib.loads(new).get("models", {})
        missing = [n for n, c in counts.items() if c is not None and written[n].get("params") != c]
        if missing:
            print(
                f"{path}: could not place params for {missing}; add them by hand", file=sys.stderr
            )
            return 2
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
        print(f"{path.name}: {len(counts)} entries {'stale' if new != text else 'up to date'}")
    if args.check and stale:
        print(f"stale: {', '.join(map(str, stale))}; run {Path(__file__).name}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
