"""Rewrite Sphinx roles in docstrings as mkdocstrings cross-references (a one-off tool).

``:func:`load``` and friends render as raw text on the mkdocstrings site. This script
rewrites each role in ``tfx_textzoo/**/*.py`` as ``[`name`][tfx_textzoo.module.name]``
when the target is documented on the site (its anchor is in the built HTML, so the link
resolves under ``mkdocs build --strict``), and as plain ``name`` in backticks otherwise
(private helpers, modules without a page). Relative names are resolved like Sphinx does:
the module itself, a class of the module that has the attribute, then ``tfx_textzoo``.

    python -m mkdocs build -d /tmp/site
    python scripts/convert_sphinx_roles.py --site /tmp/site [--check]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tfx_textzoo"
#: The roles tests/test_docs.py refuses in the package.
ROLE = re.compile(r":(?:py:)?(func|class|meth|data|attr|mod|exc|obj|const):`(~?)([^`]+)`")


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check`` only list) every Sphinx role in the package."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, required=True, help="a built site directory")
    parser.add_argument("--check", action="store_true", help="list, do not rewrite")
    args = parser.parse_args(argv)
    anchors = documented(args.site)
    sys.path.insert(0, str(ROOT))
    total = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        text = path.read_text(encoding="utf-8")
        new, count = convert(text, module, anchors)
        if count:
            total += count
            print(f"{path.relative_to(ROOT)}: {count}")
            if not args.check:
                path.write_text(new, encoding="utf-8")
    print(f"{total} roles {'found' if args.check else 'rewritten'}")
    return 1 if args.check and total else 0


def documented(site: Path) -> set[str]:
    """The identifiers the built site has anchors for (``tfx_textzoo.x.y``)."""
    ids: set[str] = set()
    for page in site.rglob("*.html"):
        ids.update(re.findall(r'id="(tfx_textzoo[\w.]*)"', page.read_text(encoding="utf-8")))
    return ids


def convert(text: str, module: str, anchors: set[str]) -> tuple[str, int]:
    """``text`` with every role rewritten, and how many there were."""
    count = 0

    def replace(match: re.Match) -> str:
        nonlocal count
        count += 1
        _, short, target = match.groups()
        label = target.rsplit(".", 1)[-1] if short else target
        for candidate in resolve(target, module):
            if candidate in anchors:
                return f"[`{label}`][{candidate}]"
        return f"`{label}`"

    return ROLE.sub(replace, text), count


def resolve(target: str, module: str) -> list[str]:
    """Fully qualified candidates for ``target`` named in ``module``, best first."""
    if target.startswith("tfx_textzoo"):
        names = [target]
    else:
        names = [f"{module}.{target}"]
        try:
            mod = importlib.import_module(module)
        except Exception:  # pragma: no cover - a module that does not import
            mod = None
        head = target.split(".")[0]
        if mod is not None and not hasattr(mod, head):
            for name, obj in vars(mod).items():
                if inspect.isclass(obj) and hasattr(obj, head):
                    names.append(f"{module}.{name}.{target}")
        names.append(f"tfx_textzoo.{target}")
    out = []
    for name in names:  # also where the object is defined, and where it is re-exported
        out.append(name)
        out += _aliases(name)
    return list(dict.fromkeys(out))


def _aliases(name: str) -> list[str]:
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return []
        home = getattr(obj, "__module__", None)
        qual = getattr(obj, "__qualname__", None)
        found = [f"{home}.{qual}"] if home and qual else []
        # The public API re-exports: tfx_textzoo.load is documented, tfx_textzoo.zoo.load not.
        top = importlib.import_module("tfx_textzoo")
        for public in getattr(top, "__all__", []):
            if getattr(top, public, None) is obj:
                found.append(f"tfx_textzoo.{public}")
        return found
    return []


if __name__ == "__main__":
    sys.exit(main())
