"""Datasets (being split into a package: for now everything is in ``readers``)."""

from tfx_textzoo.datasets.readers import *  # noqa: F403
