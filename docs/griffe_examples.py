"""Griffe extension for the API reference: read ``Example:`` sections as examples.

The package's docstrings (Google style, checked by ruff) title their doctests
``Example:``. Griffe only parses the plural ``Examples:`` as an examples section (code
blocks); the singular becomes an admonition whose ``>>>`` lines render as prose. This
extension renames the heading before the docstrings are parsed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", flags=re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` section headings to ``Examples:``."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the docstring of every loaded object."""
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples:", obj.docstring.value)
