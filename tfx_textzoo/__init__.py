"""tfx_textzoo: a Keras 3 model zoo for text classification.

Examples:
    >>> import tfx_textzoo as textzoo
    >>> "scratch-small" in textzoo.list_models()
    True
"""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tfx_textzoo import datasets, hub, registry, saving  # noqa: E402
from tfx_textzoo.evaluation import Prediction, Report, evaluate, predict  # noqa: E402
from tfx_textzoo.hub import push_to_hub  # noqa: E402
from tfx_textzoo.registry import (  # noqa: E402
    get_model_info,
    list_models,
    register_catalog,
    register_family,
)
from tfx_textzoo.saving import export, save_pretrained  # noqa: E402
from tfx_textzoo.training import FinetuneHistory, finetune  # noqa: E402
from tfx_textzoo.weights import WeightsNotFoundError  # noqa: E402
from tfx_textzoo.zoo import load  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "FinetuneHistory",
    "Prediction",
    "Report",
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
