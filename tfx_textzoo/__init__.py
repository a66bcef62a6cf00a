"""tfx_textzoo: a Keras 3 model zoo for text classification.

Importing the package is instant: the catalog
([`list_models`][tfx_textzoo.list_models], [`get_model_info`][tfx_textzoo.get_model_info])
is read from its TOML files, and TensorFlow, Keras and keras-hub are imported the first
time a name that needs them is used ([`load`][tfx_textzoo.load],
[`finetune`][tfx_textzoo.finetune], [`evaluate`][tfx_textzoo.evaluate], ...). That first
use also registers the zoo's Keras classes, so a saved model deserializes; a script that
imports ``keras_hub`` before ``tfx_textzoo`` gets them registered at import.

Examples:
    >>> import tfx_textzoo as textzoo
    >>> "scratch-small" in textzoo.list_models()
    True
"""

from __future__ import annotations

import importlib as _importlib
import os as _os
import sys as _sys
from typing import TYPE_CHECKING, Any

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from tfx_textzoo import registry  # noqa: E402 - reads TOML files only; imports no TensorFlow
from tfx_textzoo.registry import (  # noqa: E402
    get_model_info,
    list_models,
    register_catalog,
    register_family,
)

if TYPE_CHECKING:  # for type checkers and the API docs; at run time see __getattr__
    from tfx_textzoo import datasets, hub, saving
    from tfx_textzoo.evaluation import Prediction, Report, evaluate, predict
    from tfx_textzoo.hub import push_to_hub
    from tfx_textzoo.saving import export, save_pretrained
    from tfx_textzoo.tasks import Task
    from tfx_textzoo.training import FinetuneHistory, finetune
    from tfx_textzoo.weights import WeightsNotFoundError
    from tfx_textzoo.zoo import load

__version__ = "0.1.0"

__all__ = [
    "FinetuneHistory",
    "Prediction",
    "Report",
    "Task",
    "datasets",
    "evaluate",
    "export",
    "hub",
    "predict",
    "push_to_hub",
    "finetune",
    "WeightsNotFoundError",
    "get_model_info",
    "list_models",
    "load",
    "register_catalog",
    "register_family",
    "registry",
    "save_pretrained",
    "saving",
]

#: Public name -> (module, attribute; None for the module itself), imported on first use.
_LAZY: dict[str, tuple[str, str | None]] = {
    "datasets": ("tfx_textzoo.datasets", None),
    "hub": ("tfx_textzoo.hub", None),
    "saving": ("tfx_textzoo.saving", None),
    "Prediction": ("tfx_textzoo.evaluation", "Prediction"),
    "Report": ("tfx_textzoo.evaluation", "Report"),
    "Task": ("tfx_textzoo.tasks", "Task"),
    "evaluate": ("tfx_textzoo.evaluation", "evaluate"),
    "predict": ("tfx_textzoo.evaluation", "predict"),
    "push_to_hub": ("tfx_textzoo.hub", "push_to_hub"),
    "export": ("tfx_textzoo.saving", "export"),
    "save_pretrained": ("tfx_textzoo.saving", "save_pretrained"),
    "FinetuneHistory": ("tfx_textzoo.training", "FinetuneHistory"),
    "finetune": ("tfx_textzoo.training", "finetune"),
    "WeightsNotFoundError": ("tfx_textzoo.weights", "WeightsNotFoundError"),
    "load": ("tfx_textzoo.zoo", "load"),
}

#: Modules that import Keras: using one registers the families' Keras classes too.
_KERAS_MODULES = frozenset(
    f"tfx_textzoo.{name}" for name in ("evaluation", "saving", "training", "zoo")
)


def __getattr__(name: str) -> Any:
    """Import a public name (or a submodule) the first time it is used (PEP 562)."""
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY.get(name, (f"{__name__}.{name}", None))
    try:
        module = _importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name or name in _LAZY:
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    if module_name in _KERAS_MODULES:
        _importlib.import_module("tfx_textzoo.families")  # registers the Keras classes
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if "keras_hub" in _sys.modules:  # TensorFlow is loaded already: register the classes now
    _importlib.import_module("tfx_textzoo.families")
