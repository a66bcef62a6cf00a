"""The ``textzoo`` command (for now: ``list`` and ``info``; the full CLI is a later issue)."""

from __future__ import annotations

import argparse
import json
import sys

import tfx_textzoo as textzoo


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``textzoo`` console script.

    Example:
        >>> from tfx_textzoo.cli import main
        >>> main(["list", "bert-base-c*"])
        bert-base-cased
        0
    """
    parser = argparse.ArgumentParser(prog="textzoo", description="tfx_textzoo model zoo")
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="list model names")
    p_list.add_argument("pattern", nargs="?", default=None)
    p_info = sub.add_parser("info", help="describe a model as JSON")
    p_info.add_argument("name")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for name in textzoo.list_models(args.pattern):
                print(name)
        else:
            print(json.dumps(textzoo.get_model_info(args.name), indent=2))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
