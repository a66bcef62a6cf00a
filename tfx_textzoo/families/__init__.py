"""Built-in model families: every module of this package that registers one.

Families are discovered, not listed: `discover` imports each module of the package
once (a module registers its family with
[`tfx_textzoo.registry.register_family`][tfx_textzoo.registry.register_family]
when imported). Importing this package runs it, so a saved model's classes are
registered with Keras before it is deserialized. Adding a family is one module here
plus one catalog TOML.
"""

from __future__ import annotations

import importlib
import pkgutil

_DISCOVERED: list[str] = []


def discover() -> list[str]:
    """Import every module of ``tfx_textzoo.families`` (once) and return their names.

    Examples:
        >>> from tfx_textzoo import families
        >>> {"tfx_textzoo.families.bert", "tfx_textzoo.families.scratch"} <= set(
        ...     families.discover())
        True
    """
    if not _DISCOVERED:
        for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            name = f"{__name__}.{module.name}"
            importlib.import_module(name)
            _DISCOVERED.append(name)
    return list(_DISCOVERED)


discover()
