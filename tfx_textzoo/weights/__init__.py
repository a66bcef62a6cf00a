"""Resolving pretrained weights: one resolver and one cache for every family.

The resolver fetches and caches; it knows no family. Sources are tried in catalog order
(or the sources named by ``weights=``). Each source is *fetched* to a local directory
(downloads land in the cache at ``TEXTZOO_HOME``, default ``~/.cache/tfx_textzoo``)
and then handed to the family's loader. Formats keras-hub cannot read are turned into
one it can by a *converter* that the format's family registers with
[`register_converter`][tfx_textzoo.weights.register_converter]; the resolver fetches the converter's
files, gives it a cache
folder ([`conversion_dir`][tfx_textzoo.weights.conversion_dir]) and hands its result to the loader.
When every source
fails, [`WeightsNotFoundError`][tfx_textzoo.weights.WeightsNotFoundError] lists each source, why it
failed, and how to
pre-populate the cache.

Nothing pickled is ever downloaded or loaded (``*.bin``, ``*.pt``, ``*.pth``, ``*.ckpt``,
``*.pkl``): Hugging Face weights are read from safetensors only.

Environment variables:
    TEXTZOO_HOME: cache directory (``hf/`` Hugging Face cache, ``converted/``
        converted checkpoints, ``downloads/`` zip archives).
    TEXTZOO_OFFLINE: ``1`` to never touch the network. ``HF_HUB_OFFLINE=1`` is
        honoured the same way.
    TFHUB_CACHE_DIR: where TF-Hub handles are cached (default
        ``<system temp>/tfhub_modules``), laid out exactly as ``tensorflow_hub`` lays
        it out, so a folder filled by ``hub.load`` / ``hub.KerasLayer`` is reused.
    TFHUB_DISABLE_CERT_VALIDATION: ``true`` to skip TLS certificate checks when
        downloading a TF-Hub handle (as in ``tensorflow_hub``).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import importlib
import json
import os
import pkgutil
import shutil
import socket
import ssl
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tfx_textzoo import registry
from tfx_textzoo._files import atomic_directory, atomic_write_text
from tfx_textzoo.registry import ModelSpec, WeightSource

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
#: Files of a Hugging Face repository every ``hf`` download takes: config and safetensors.
HF_WEIGHT_FILES = ("config.json", "*.safetensors", "model.safetensors.index.json")
#: Tokenizer files taken from a Hugging Face repository when the family declares none
#: (``hf_files`` of its registration; see [`hf_files_for`][tfx_textzoo.weights.hf_files_for]).
GENERIC_HF_TOKENIZER_FILES = (
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "*.model",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
#: Pickled weights: never downloaded, never loaded (reading a pickle can run code).
PICKLE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl", "*.pickle")
#: The formats the resolver reads itself; every other format needs a registered converter.
BUILTIN_FORMATS = ("hf", "keras_hub", "local")
# Handles tensorflow_hub resolves over HTTP (tfhub.dev now redirects to Kaggle Models).
_TFHUB_URL_PREFIXES = (
    "https://tfhub.dev/",
    "http://tfhub.dev/",
    "https://hub.tensorflow.google.cn/",
    "https://www.kaggle.com/models/",
    "https://kaggle.com/models/",
)
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")
# tensorflow_hub's compressed_module_resolver: the China mirror is fetched from GCS directly.
_HUB_TF_GOOGLE_CN = "https://hub.tensorflow.google.cn/"
_GCS_GOOGLE_CN_TEMPLATE = "https://gcs.tensorflow.google.cn/tfhub-modules/%s.tar.gz"
# The format a ``tfhub://`` handle or a TF-Hub URL names (a SavedModel behind a TF-Hub handle).
_TFHUB_FORMAT = "tfhub"


class WeightsNotFoundError(OSError):
    """No weight source could be loaded; the message lists every attempt."""


class TFHubNotCachedError(FileNotFoundError):
    """Offline, and a TF-Hub handle is not in the TF-Hub cache; the message says how to fix."""


class UnrecognisedWeightsError(ValueError):
    """A directory holds no format that can be read; the message lists the formats that can."""


class PickledWeightsError(ValueError):
    """Only pickled weights (``pytorch_model.bin``, ...) were found; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class LocalWeights:
    """Weights fetched to this machine, in a format a family loader understands.

    Attributes:
        format: ``"keras_hub"`` (a keras-hub preset directory or built-in handle) or
            ``"hf"`` (a Hugging Face ``config.json`` + ``model.safetensors`` directory);
            what a converter receives carries the converter's own format.
        location: Local directory (or, for ``keras_hub``, a handle keras-hub resolves).
        source: The source it came from, for messages.
    """

    format: str
    location: str
    source: WeightSource


@dataclasses.dataclass(frozen=True)
class Converter:
    """A registered converter (see `register_converter`)."""

    format: str
    convert: Callable[[LocalWeights, ModelSpec | None], str | os.PathLike | LocalWeights]
    hf_patterns: tuple[str, ...] | None = None
    detect: Callable[[Path], bool] | None = None
    description: str = ""

    @property
    def origin(self) -> str:
        """Where the converter function is defined (``module.qualname``), for messages."""
        module = getattr(self.convert, "__module__", "?")
        return f"{module}.{getattr(self.convert, '__qualname__', repr(self.convert))}"


_CONVERTERS: dict[str, Converter] = {}


def register_converter(
    format: str,  # noqa: A002 - the word WeightSource and the catalog use
    convert: Callable[[LocalWeights, ModelSpec | None], str | os.PathLike | LocalWeights],
    *,
    hf_patterns: Sequence[str] | None = None,
    detect: Callable[[Path], bool] | None = None,
    description: str = "",
) -> Converter:
    """Register the converter of a weight format that keras-hub cannot read.

    A family calls this from the module that holds its converter, so importing the
    family registers it. For a source of this ``format`` the resolver fetches the files
    (``hf://org/name``: the files matching ``hf_patterns``; an ``https://`` ``.zip``:
    downloaded and unpacked; ``tfhub://`` or another ``http(s)`` handle: the TF-Hub
    cache; else a local directory), then calls ``convert(local, spec)`` with
    ``local.location`` the fetched directory, ``local.format`` this format and
    ``local.source`` the source. ``convert`` writes its result into
    [`conversion_dir`][tfx_textzoo.weights.conversion_dir] ``(local, spec)`` (the cache, keyed on
    the files it read) and
    returns that directory (a Hugging Face or keras-hub preset directory: the resolver
    tells which from its ``config.json``) or a [`LocalWeights`][tfx_textzoo.weights.LocalWeights].
    Anything it raises
    marks the source as failed, with the message in
    [`WeightsNotFoundError`][tfx_textzoo.weights.WeightsNotFoundError].

    Args:
        format: The format name that sources (catalog entries,
            [`sources_for`][tfx_textzoo.weights.sources_for]) use.
        convert: ``convert(local, spec) -> directory | LocalWeights``; ``spec`` is the
            catalog entry being loaded, or None.
        hf_patterns: Files to fetch from a Hugging Face repository for this format
            (``allow_patterns`` of ``huggingface_hub.snapshot_download``; pickles are
            never fetched). When given, an ``hf://`` ``weights=`` argument also tries
            this format after the safetensors one. None: the family's
            [`hf_files_for`][tfx_textzoo.weights.hf_files_for], and ``hf://`` arguments do not try
            this format.
        detect: ``detect(directory) -> bool``: whether a local directory holds this
            format, so that ``weights="that/dir"`` (and an unpacked ``.zip``) is
            converted with this converter. None: such directories are not detected.
        description: What the format's directory holds, for the message that lists
            what a local directory may hold.

    Returns:
        The registration.

    Raises:
        ValueError: ``format`` is a format the resolver reads itself, or another
            function already converts it (the message names both).

    Examples:
        A toy format: one ``weights.toy`` file beside a Hugging Face ``config.json``.

        >>> import shutil
        >>> from tfx_textzoo import weights
        >>> def convert_toy(local, spec):
        ...     out = weights.conversion_dir(local, spec)
        ...     if not out.exists():  # write the safetensors directory here
        ...         shutil.copytree(local.location, out)
        ...     return out
        >>> registration = weights.register_converter(
        ...     "toy-doc-example", convert_toy, hf_patterns=["config.json", "weights.toy"],
        ...     detect=lambda directory: (directory / "weights.toy").is_file(),
        ...     description="a toy directory (config.json + weights.toy)")
        >>> "toy-doc-example" in weights.registered_formats()
        True
        >>> try:  # one converter per format
        ...     weights.register_converter("toy-doc-example", lambda local, spec: local.location)
        ... except ValueError as err:
        ...     print("already converted by tfx_textzoo.weights.convert_toy" in str(err))
        True
        >>> weights.unregister_converter("toy-doc-example") is registration
        True
    """
    if format in BUILTIN_FORMATS:
        raise ValueError(
            f"Weight format {format!r} is read by the resolver itself "
            f"({', '.join(BUILTIN_FORMATS)}); register the converter under its own format name."
        )
    registration = Converter(
        format,
        convert,
        tuple(hf_patterns) if hf_patterns is not None else None,
        detect,
        description,
    )
    existing = _CONVERTERS.get(format)
    if existing is not None and existing.origin != registration.origin:
        raise ValueError(
            f"Weight format {format!r} from {registration.origin} is already converted by "
            f"{existing.origin}; a format has one converter: pick another format name."
        )
    _CONVERTERS[format] = registration  # the same function again (a module reload) replaces
    return registration


def unregister_converter(format: str) -> Converter | None:  # noqa: A002
    """Remove the converter of ``format`` (for tests and examples); return it, or None.

    Examples:
        >>> from tfx_textzoo.weights import unregister_converter
        >>> unregister_converter("no-such-format") is None
        True
    """
    return _CONVERTERS.pop(format, None)


def registered_formats(spec: ModelSpec | None = None) -> list[str]:
    """The formats the resolver can load: its own and every registered converter's.

    Args:
        spec: A catalog entry: its family's converters are imported first.

    Examples:
        >>> from tfx_textzoo.weights import registered_formats
        >>> {"hf", "keras_hub", "local"} <= set(registered_formats())
        True
    """
    return sorted({*BUILTIN_FORMATS, *_converters_for(spec)})


def hf_files_for(spec: ModelSpec | None) -> list[str]:
    """The Hugging Face files to download for ``spec``: config, safetensors, tokenizer files.

    The tokenizer files are the family's to say (the ``hf_files`` its registration
    declares: ``vocab.txt``; ``vocab.json`` + ``merges.txt``; a SentencePiece
    ``*.model``; ``tokenizer.json``); a family that declares none gets
    `GENERIC_HF_TOKENIZER_FILES`. `HF_WEIGHT_FILES` always come too, and
    `PICKLE_PATTERNS` never do.

    Examples:
        >>> from tfx_textzoo.weights import hf_files_for
        >>> hf_files_for(None)[:3]
        ['config.json', '*.safetensors', 'model.safetensors.index.json']
        >>> "tokenizer.json" in hf_files_for(None)
        True
    """
    declared = None
    if spec is not None:
        try:
            declared = getattr(registry.get_family(spec.family), "hf_files", None)
        except ValueError:  # an unregistered family: the generic set
            declared = None
    tokenizer_files = list(declared) if declared else list(GENERIC_HF_TOKENIZER_FILES)
    return [*HF_WEIGHT_FILES, *(f for f in tokenizer_files if f not in HF_WEIGHT_FILES)]


def conversion_dir(local: LocalWeights, spec: ModelSpec | None) -> Path:
    """Where a converter writes what it makes of ``local``: a cache folder of its own.

    ``<cache_dir()>/converted/<format>-<name>-<key>``, the key a hash of the fetched
    folder's path and its files' names, sizes and modification times: the same files
    convert once, and changed files (a replaced local checkpoint) convert again. Write
    it atomically (`tfx_textzoo._files.atomic_directory`).

    Examples:
        >>> import tempfile
        >>> from tfx_textzoo.registry import WeightSource
        >>> from tfx_textzoo.weights import LocalWeights, conversion_dir
        >>> folder = tempfile.mkdtemp()
        >>> local = LocalWeights("toy", folder, WeightSource("local", folder))
        >>> path = conversion_dir(local, None)
        >>> path.parent.name, path.name.startswith("toy-")
        ('converted', True)
        >>> path == conversion_dir(local, None)
        True
    """
    root = Path(local.location)
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
    stamp = "".join(
        f"{p.relative_to(root) if p != root else p.name}{p.stat().st_mtime_ns}{p.stat().st_size}"
        for p in files
    )
    key = hashlib.sha256((str(root.resolve()) + stamp).encode()).hexdigest()[:16]
    label = (spec.name if spec else root.name) or "weights"
    return cache_dir() / "converted" / f"{local.format}-{label}-{key}"


def find_folder(root: str | os.PathLike, test: Callable[[Path], bool]) -> Path | None:
    """``root`` or the first of its sub-folders (sorted, at any depth) that passes ``test``.

    For converters: an unpacked archive often adds a folder level.

    Examples:
        >>> import tempfile
        >>> from pathlib import Path
        >>> root = Path(tempfile.mkdtemp())
        >>> (root / "release" / "model").mkdir(parents=True)
        >>> find_folder(root, lambda p: p.name == "model").relative_to(root).as_posix()
        'release/model'
    """
    root = Path(root)
    if test(root):
        return root
    for sub in sorted(p for p in root.rglob("*") if p.is_dir()):
        if test(sub):
            return sub
    return None


def cache_dir() -> Path:
    """Return the cache directory (``TEXTZOO_HOME`` or ``~/.cache/tfx_textzoo``).

    Examples:
        >>> import tfx_textzoo.weights as w
        >>> w.cache_dir().is_absolute()
        True
    """
    return Path(os.environ.get("TEXTZOO_HOME") or Path.home() / ".cache" / "tfx_textzoo")


def is_offline() -> bool:
    """Whether network access is disabled (``TEXTZOO_OFFLINE`` or ``HF_HUB_OFFLINE``).

    Examples:
        >>> import tfx_textzoo.weights as w
        >>> isinstance(w.is_offline(), bool)
        True
    """
    return any(
        os.environ.get(var, "").strip().lower() in _TRUE
        for var in ("TEXTZOO_OFFLINE", "HF_HUB_OFFLINE")
    )


def sources_for(spec: ModelSpec, weights: Any) -> list[WeightSource]:
    """Turn the ``weights=`` argument of [`tfx_textzoo.load`][tfx_textzoo.load] into sources to try.

    Args:
        spec: The catalog entry.
        weights: ``"auto"`` (the catalog's sources), a local directory (including a
            TF-Hub SavedModel folder), an ``hf://org/name`` URI, a keras-hub preset name
            or ``kaggle://`` handle, a TF-Hub handle (``tfhub://<handle>`` or a bare
            ``https://tfhub.dev/...`` / ``https://www.kaggle.com/models/...`` URL) or an
            ``https://`` ``.zip`` archive of a directory.

    Returns:
        The sources, in the order they will be tried. An ``hf://`` URI is tried as
        safetensors, then as each converter format with ``hf_patterns``.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.weights import sources_for
        >>> spec = textzoo.registry.get_spec("bert-base-uncased")
        >>> [s.format for s in sources_for(spec, "hf://google-bert/bert-base-uncased")]
        ['hf', 'bert_tf_checkpoint']
    """
    if weights == "auto":
        return list(spec.sources)
    if not isinstance(weights, str | os.PathLike):
        raise TypeError(
            "weights must be 'auto', None (random init), a local directory, an hf:// URI or "
            f"a keras-hub preset; got {type(weights).__name__}: {weights!r}"
        )
    uri = os.fspath(weights)
    if uri.startswith("tfhub://"):
        try:
            return [WeightSource(_TFHUB_FORMAT, tfhub_handle(uri))]
        except ValueError:  # fails when fetched
            return [WeightSource(_TFHUB_FORMAT, uri.removeprefix("tfhub://"))]
    if uri.startswith(_TFHUB_URL_PREFIXES) or (
        uri.startswith(("http://", "https://")) and uri.split("?")[0].endswith(_TAR_SUFFIXES)
    ):
        return [WeightSource(_TFHUB_FORMAT, uri)]
    if uri.startswith("hf://"):
        # A Hub repo may hold safetensors or only a format a converter reads.
        converted = [f for f, c in _converters_for(spec).items() if c.hf_patterns is not None]
        return [WeightSource("hf", uri), *(WeightSource(f, uri) for f in converted)]
    if uri.startswith("kaggle://") or ("/" not in uri and not os.path.exists(uri)):
        return [WeightSource("keras_hub", uri)]
    return [WeightSource("local", uri)]  # a directory, or an http(s) .zip of one


def resolve_and_load(
    spec: ModelSpec,
    weights: Any,
    load_fn: Callable[[LocalWeights], T],
) -> T:
    """Try each source in order: fetch it, then ``load_fn`` it; return the first success.

    Args:
        spec: The catalog entry.
        weights: As for [`sources_for`][tfx_textzoo.weights.sources_for].
        load_fn: The family's loader; any exception it raises marks the source as
            failed (a corrupt file, a wrong architecture) and the next one is tried.

    Returns:
        What ``load_fn`` returned for the first source that worked.

    Raises:
        WeightsNotFoundError: Every source failed; the message says why for each.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> from tfx_textzoo.weights import resolve_and_load, WeightsNotFoundError
        >>> spec = textzoo.registry.get_spec("bert-base-uncased")
        >>> try:
        ...     resolve_and_load(spec, "/no/such/dir", lambda w: w)
        ... except WeightsNotFoundError as err:
        ...     print("does not exist" in str(err))
        True
    """
    sources = sources_for(spec, weights)
    if not sources:
        raise WeightsNotFoundError(
            f"{spec.name} has no pretrained weight source; load it with weights=None."
        )
    failures: list[tuple[WeightSource, str]] = []
    for source in sources:
        try:
            local = fetch(source, spec)
        except Exception as err:  # noqa: BLE001 - every failure is reported below
            failures.append((source, _one_line(err)))
            continue
        try:
            return load_fn(local)
        except Exception as err:  # noqa: BLE001
            failures.append(
                (
                    source,
                    f"fetched to {local.location} but could not be loaded: {_one_line(err)}"
                    " (the files may be corrupt or incomplete: delete them and try again)",
                )
            )
    raise WeightsNotFoundError(_not_found_message(spec, failures))


def fetch(source: WeightSource, spec: ModelSpec | None) -> LocalWeights:
    """Make one source available locally, downloading into the cache when allowed.

    The resolver reads ``local`` directories, ``keras_hub`` presets and ``hf``
    (safetensors) repositories itself; any other format goes through its registered
    converter ([`register_converter`][tfx_textzoo.weights.register_converter]).

    Raises:
        OSError: The source cannot be fetched (offline, missing, network error).
        ValueError: The source exists but is not in the format it claims, or no
            converter is registered for its format (the message names those that are).

    Examples:
        >>> import keras_hub, tempfile
        >>> from tfx_textzoo.registry import WeightSource
        >>> from tfx_textzoo.weights import fetch
        >>> preset = tempfile.mkdtemp()
        >>> keras_hub.models.BertBackbone(vocabulary_size=10, num_layers=1, num_heads=1,
        ...     hidden_dim=4, intermediate_dim=4).save_to_preset(preset)
        >>> fetch(WeightSource("local", preset), None).format
        'keras_hub'
    """
    fmt, uri = source.format, source.uri
    if fmt == "local":
        return _fetch_local(source, spec)
    if fmt == "keras_hub":
        if os.path.isdir(uri):
            return LocalWeights("keras_hub", uri, source)
        if is_offline():
            raise OSError("offline mode: keras-hub presets on Kaggle need the network")
        return LocalWeights("keras_hub", _kaggle_download(uri), source)
    if fmt == "hf":
        path = Path(_hf_snapshot(uri, hf_files_for(spec)))
        if not (path / "config.json").exists():
            raise ValueError(f"{uri} has no config.json; it is not a Hugging Face model repo")
        if not list(path.glob("model*.safetensors")):
            _refuse_pickles(path, uri)
            raise ValueError(f"{uri} has no model.safetensors (only safetensors are loaded)")
        return LocalWeights("hf", str(path), source)
    converter = _converters_for(spec).get(fmt)
    if converter is None:
        raise ValueError(
            f"unknown weight source format {fmt!r}: no converter is registered for it. "
            f"Formats that can be loaded: {', '.join(registered_formats(spec))}. A family "
            "registers the converter of its own formats (tfx_textzoo.weights.register_converter)"
            "; is the package that provides it installed?"
        )
    return _convert(
        converter, LocalWeights(fmt, _fetch_files(source, converter, spec), source), spec
    )


def tfhub_cache_dir() -> Path:
    """The TF-Hub cache: ``TFHUB_CACHE_DIR``, else ``<system temp dir>/tfhub_modules``.

    The same folder ``tensorflow_hub`` uses (``resolver.tfhub_cache_dir(use_temp=True)``),
    so models the TF lesson already downloaded with ``hub.KerasLayer`` are found here.

    Examples:
        >>> import os, tempfile
        >>> import tfx_textzoo.weights as w
        >>> default = os.path.join(tempfile.gettempdir(), "tfhub_modules")
        >>> str(w.tfhub_cache_dir()) == os.environ.get("TFHUB_CACHE_DIR", default)
        True
    """
    return Path(os.environ.get("TFHUB_CACHE_DIR") or Path(tempfile.gettempdir()) / "tfhub_modules")


def tfhub_handle(uri: str) -> str:
    """Normalise a TF-Hub handle: drop ``tfhub://``, expand the short forms to URLs.

    ``publisher/model/version`` (a tfhub.dev path) becomes ``https://tfhub.dev/...`` and
    ``owner/model/tensorFlow2/variation/version`` (a Kaggle Models path) becomes
    ``https://www.kaggle.com/models/...``. URLs and local paths are returned unchanged:
    the cache folder is named after the exact handle string, as in ``tensorflow_hub``.

    Examples:
        >>> tfhub_handle("tfhub://tensorflow/small_bert/bert_en_uncased_L-4_H-128_A-2/1")
        'https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-4_H-128_A-2/1'
        >>> tfhub_handle("google/bert/tensorFlow2/en-uncased-l-2/1")
        'https://www.kaggle.com/models/google/bert/tensorFlow2/en-uncased-l-2/1'
    """
    handle = uri.removeprefix("tfhub://")
    if "://" in handle or handle.startswith(("/", ".", "~")) or os.path.exists(handle):
        return handle
    parts = handle.strip("/").split("/")
    if len(parts) >= 4 and parts[2].lower() in ("tensorflow1", "tensorflow2"):
        return "https://www.kaggle.com/models/" + handle.strip("/")
    if len(parts) >= 2:
        return "https://tfhub.dev/" + handle.strip("/")
    raise ValueError(f"{uri!r} is not a TF-Hub handle (expected a URL or publisher/model/version)")


def tfhub_module_dir(handle: str) -> Path:
    """Where ``handle`` is cached: ``<tfhub_cache_dir()>/<sha1 hex of the handle string>``.

    Examples:
        >>> handle = "https://tfhub.dev/tensorflow/small_bert/bert_en_uncased_L-4_H-128_A-2/1"
        >>> tfhub_module_dir(handle).name
        'bc26e5c2abfce0e12153df21f8ff66db5f4488c8'
    """
    return tfhub_cache_dir() / hashlib.sha1(handle.encode("utf8")).hexdigest()


def resolve_tfhub(uri: str) -> str:
    """Resolve a TF-Hub handle to a local SavedModel folder, downloading it when allowed.

    This re-implements ``tensorflow_hub.resolve`` for the handles the zoo needs, without
    importing ``tensorflow_hub``: in this environment ``import tensorflow_hub`` fails
    (0.16's ``__init__`` needs ``pkg_resources``, gone from current setuptools), and
    when it does import, its ``__init__`` imports ``tf_keras`` (Keras 2) whenever
    ``tf.keras`` is Keras 3 -- which this Keras-3-only project never does. The cache
    contract is the documented one, so both libraries share one cache:

    * cache folder: ``TFHUB_CACHE_DIR``, else ``<system temp>/tfhub_modules``;
    * a handle lives in ``<cache>/<sha1(handle)>/`` (``saved_model.pb``, ``variables/``,
      ``assets/``), and counts as present when that folder is non-empty;
    * an ``http(s)`` handle is downloaded from ``<handle>?tf-hub-format=compressed``
      (tfhub.dev redirects it to Kaggle Models' ``.tar.gz``), unpacked into a temporary
      folder beside ``<cache>/<sha1>`` and renamed into place without replacing anything
      (`tfx_textzoo._files.atomic_directory`), with a
      ``<cache>/<sha1>.descriptor.txt`` naming the handle. Unlike ``tensorflow_hub`` no
      ``.lock`` file is taken: two concurrent downloads both finish, the first rename wins.

    Offline ([`is_offline`][tfx_textzoo.weights.is_offline]) nothing is downloaded: a missing handle
    raises
    [`TFHubNotCachedError`][tfx_textzoo.weights.TFHubNotCachedError], which says which folder to
    fill and how. Local paths
    are returned as they are.

    Args:
        uri: A handle (see [`tfhub_handle`][tfx_textzoo.weights.tfhub_handle]), with or without
            ``tfhub://``.

    Returns:
        The local SavedModel folder.

    Raises:
        TFHubNotCachedError: Offline and not cached.
        FileNotFoundError: A local path that does not exist.
        OSError: The download failed or did not return a SavedModel archive.

    Examples:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"TEXTZOO_OFFLINE": "1"}):
        ...     try:
        ...         resolve_tfhub("tfhub://someone/not-cached/1")
        ...     except TFHubNotCachedError as err:
        ...         print("https://tfhub.dev/someone/not-cached/1" in str(err))
        True
    """
    handle = tfhub_handle(uri)
    if not handle.startswith(("http://", "https://")):
        path = Path(os.path.expanduser(handle))
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist")
        return str(path)
    module_dir = tfhub_module_dir(handle)
    if module_dir.is_dir() and any(module_dir.iterdir()):
        return str(module_dir)
    if is_offline():
        raise TFHubNotCachedError(_tfhub_not_cached_message(handle, module_dir))
    _download_tfhub(handle, module_dir)
    return str(module_dir)


def _download_tfhub(handle: str, module_dir: Path) -> None:
    """Download ``handle`` as tensorflow_hub's HttpCompressedFileResolver does, atomically."""
    if handle.startswith(_HUB_TF_GOOGLE_CN):
        url = _GCS_GOOGLE_CN_TEMPLATE % handle[len(_HUB_TF_GOOGLE_CN) :]
    else:  # urlparse/urlencode exactly as HttpResolverBase._append_format_query
        parsed = list(urllib.parse.urlparse(handle))
        query = urllib.parse.parse_qsl(parsed[4])
        query.append(("tf-hub-format", "compressed"))
        parsed[4] = urllib.parse.urlencode(query)
        url = urllib.parse.urlunparse(parsed)
    context = ssl.create_default_context()
    if os.environ.get("TFHUB_DISABLE_CERT_VALIDATION") == "true":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with atomic_directory(module_dir, replace_empty=True) as tmp:
            with urllib.request.urlopen(url, timeout=60, context=context) as response:
                try:
                    _extract_tar_stream(response, tmp)
                except tarfile.ReadError as err:
                    raise OSError(
                        f"{url} did not return a .tar.gz SavedModel archive ({err}); "
                        f"{handle} does not appear to be a valid TF-Hub model"
                    ) from err
            if not any(tmp.iterdir()):
                raise OSError(f"{url} returned an empty archive")
            atomic_write_text(
                f"{module_dir}.descriptor.txt",
                f"Module: {handle}\nDownload Time: {datetime.datetime.today()}\n"
                f"Downloader Hostname: {socket.gethostname()} (PID:{os.getpid()})",
            )
    except FileExistsError:
        if not (module_dir.is_dir() and any(module_dir.iterdir())):
            raise  # else another process finished the same download first


def _extract_tar_stream(fileobj, dst: Path) -> None:
    """Unpack a (gzipped) tar stream into ``dst``: plain files and folders only, no escapes."""
    root = dst.resolve()
    with tarfile.open(mode="r|*", fileobj=fileobj) as archive:
        for member in archive:
            target = (root / member.name.lstrip("/")).resolve()
            if target != root and root not in target.parents:
                raise ValueError(f"archive member {member.name!r} points outside the folder")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                src = archive.extractfile(member)
                with src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
            else:
                raise ValueError(f"unexpected {member.type!r} entry {member.name!r} in the archive")


def _tfhub_not_cached_message(handle: str, module_dir: Path) -> str:
    cache = module_dir.parent
    where = "from TFHUB_CACHE_DIR"
    if not os.environ.get("TFHUB_CACHE_DIR"):
        where = "the default; set TFHUB_CACHE_DIR to change it"
    return (
        f"offline mode and the TF-Hub handle {handle} is not in the TF-Hub cache.\n"
        f"Checked: {module_dir} (TF-Hub cache {cache}, {where}; the folder name is "
        f"sha1({handle!r}) = {module_dir.name}).\n"
        "To fix, on a machine with network access download the model's .tar.gz -- "
        f"`curl -L -o model.tar.gz '{handle}?tf-hub-format=compressed'` (tfhub.dev redirects "
        "to Kaggle Models), or 'Download' on its https://www.kaggle.com/models page -- then "
        f"`mkdir -p {module_dir} && tar -xzf model.tar.gz -C {module_dir}`; "
        "or unpack it anywhere and pass weights='that/folder'; or run once online."
    )


def _converters_for(spec: ModelSpec | None) -> dict[str, Converter]:
    """The converters that may read ``spec``'s weights, by format, in registration order.

    The spec's family is imported first (its modules register their converters). A
    family registration that carries ``converters`` (format -> callable) adds those.
    """
    found = dict(_CONVERTERS)
    if spec is None:
        return found
    try:
        family = registry.get_family(spec.family)
    except ValueError:  # an unregistered family: only the registered converters
        return found
    _import_family_modules(family.builder)
    found = dict(_CONVERTERS)
    for fmt, convert in dict(getattr(family, "converters", None) or {}).items():
        if fmt not in found or found[fmt].convert is not convert:
            found[fmt] = Converter(fmt, convert)
    return found


def _import_family_modules(builder: Callable[..., Any]) -> None:
    """Import the modules of the family whose builder is ``builder``, so that they register.

    The family's modules are the builder's module, the modules of its package when it is
    one (``families/<name>/``), and the modules beside it whose names extend its own
    (``families/<name>_*.py``). Already imported modules cost nothing.
    """
    module = sys.modules.get(getattr(builder, "__module__", "") or "")
    if module is None:
        return
    if hasattr(module, "__path__"):  # a package: all of its modules
        names = [
            info.name for info in pkgutil.walk_packages(module.__path__, module.__name__ + ".")
        ]
    else:
        package, _, stem = module.__name__.rpartition(".")
        path = getattr(sys.modules.get(package), "__path__", None)
        if not package or path is None:
            return
        names = [
            f"{package}.{info.name}"
            for info in pkgutil.iter_modules(path)
            if info.name.startswith(stem + "_")
        ]
    for name in names:
        if name not in sys.modules:
            importlib.import_module(name)


def _fetch_files(source: WeightSource, converter: Converter, spec: ModelSpec | None) -> str:
    """Fetch the files a converter reads into a local directory; return its path."""
    uri = source.uri
    if uri.startswith("hf://"):
        patterns = converter.hf_patterns
        return _hf_snapshot(uri, list(patterns) if patterns is not None else hf_files_for(spec))
    if uri.startswith(("http://", "https://")) and uri.split("?")[0].endswith(".zip"):
        return _download_zip(uri)
    if uri.startswith(("tfhub://", "http://", "https://")):
        return resolve_tfhub(uri)
    path = Path(os.path.expanduser(uri))
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    return str(path)


def _convert(converter: Converter, local: LocalWeights, spec: ModelSpec | None) -> LocalWeights:
    result = converter.convert(local, spec)
    if isinstance(result, LocalWeights):
        return result
    return LocalWeights(_directory_format(Path(result)), os.fspath(result), local.source)


def _directory_format(path: Path) -> str:
    """``keras_hub`` for a keras-hub preset (its config names a class), else ``hf``."""
    config = path / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "hf"
    return "keras_hub" if isinstance(data, dict) and "registered_name" in data else "hf"


def _fetch_local(source: WeightSource, spec: ModelSpec | None) -> LocalWeights:
    uri = source.uri
    if uri.startswith(("http://", "https://")):  # an archive of a weights directory
        root = Path(_download_zip(uri))
        found = _detect(root, source, spec)
        children = [p for p in root.iterdir() if p.is_dir()]
        if found is None and len(children) == 1:  # the archive's own top folder
            found = _detect(children[0], source, spec)
        if found is None:
            raise UnrecognisedWeightsError(
                f"{uri} unpacked to {root}, which " + _unrecognised(spec)
            )
        return found
    path = Path(os.path.expanduser(uri))
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if not path.is_dir():
        raise ValueError(f"{path} is a file; pass the directory that holds the weights")
    found = _detect(path, source, spec)
    if found is None:
        _refuse_pickles(path, str(path))
        raise UnrecognisedWeightsError(f"{path} " + _unrecognised(spec))
    return found


def _detect(path: Path, source: WeightSource, spec: ModelSpec | None) -> LocalWeights | None:
    """Read ``path`` as a keras-hub preset, a Hugging Face directory or a converter's format."""
    config = path / "config.json"
    if config.exists():
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{config} is not valid JSON ({err}); the file is corrupt") from err
        if "registered_name" in data:
            return LocalWeights("keras_hub", str(path), source)
        if "model_type" in data and list(path.glob("model*.safetensors")):
            return LocalWeights("hf", str(path), source)
    for converter in _converters_for(spec).values():
        if converter.detect is not None and converter.detect(path):
            return _convert(converter, LocalWeights(converter.format, str(path), source), spec)
    return None


def _unrecognised(spec: ModelSpec | None) -> str:
    expected = [
        "a keras-hub preset (config.json with 'registered_name' + model.weights.h5)",
        "a Hugging Face directory (config.json with 'model_type' + model.safetensors + the "
        "tokenizer files)",
        *(
            c.description or f"a {c.format!r} directory"
            for c in _converters_for(spec).values()
            if c.detect is not None
        ),
    ]
    return (
        "is not a weights directory tfx_textzoo can read. Expected one of: "
        + "; ".join(expected)
        + "."
    )


def _refuse_pickles(path: Path, uri: str) -> None:
    """Raise `PickledWeightsError` when ``path`` holds pickled weights and no safetensors."""
    pickles = sorted(
        p.relative_to(path).as_posix()
        for pattern in PICKLE_PATTERNS
        for p in path.rglob(pattern)
        if p.is_file() or p.is_symlink()
    )
    if not pickles or list(path.glob("*.safetensors")):
        return
    raise PickledWeightsError(
        f"{uri} holds only pickled weights ({', '.join(pickles[:4])}), and tfx_textzoo never "
        "loads a pickle: reading one can run arbitrary code. Use a safetensors copy of the "
        "model instead: on the Hugging Face Hub, open the repository's safetensors pull "
        "request or make one with the conversion Space "
        "(https://huggingface.co/spaces/safetensors/convert); or, in a trusted environment "
        "with PyTorch, `transformers.AutoModel.from_pretrained(DIR).save_pretrained(OUT, "
        "safe_serialization=True)` and copy the tokenizer files, then pass weights='OUT'."
    )


def _kaggle_download(uri: str) -> str:
    import keras_hub

    handle = uri
    if "://" not in uri:
        preset = keras_hub.models.Backbone.presets.get(uri)
        if preset is None:
            raise ValueError(f"{uri!r} is not a keras-hub built-in preset")
        handle = preset["kaggle_handle"]
    if not handle.startswith("kaggle://"):
        raise ValueError(f"unsupported keras-hub handle {handle!r}")
    import kagglehub

    return kagglehub.model_download(handle.removeprefix("kaggle://"))


def _hf_snapshot(uri: str, patterns: Iterable[str], ignore: Iterable[str] = PICKLE_PATTERNS) -> str:
    """Download (or find in the cache) the files of ``hf://owner/name`` matching ``patterns``.

    Files matching ``ignore`` (by default every pickle: `PICKLE_PATTERNS`) are never
    downloaded. A failure is raised as an ``OSError`` whose message and cause are masked: a
    Hub server may quote the request's ``Authorization`` header (the user's token) in its
    error, and huggingface_hub copies that into exceptions and log records.
    """
    import huggingface_hub

    from tfx_textzoo._secrets import mask, masked_copy, masked_logs

    repo_id = uri.removeprefix("hf://")
    offline = is_offline()
    secrets = [] if offline else [_hf_token()]
    failure: tuple[OSError, BaseException] | None = None
    with masked_logs(secrets):
        try:
            return huggingface_hub.snapshot_download(
                repo_id,
                cache_dir=cache_dir() / "hf",
                allow_patterns=list(patterns),
                ignore_patterns=list(ignore) or None,
                local_files_only=offline,
                etag_timeout=5,
            )
        except Exception as err:  # noqa: BLE001 - every failure may quote the token
            if offline:
                text = f"offline mode and {repo_id} is not in the cache {cache_dir() / 'hf'}"
            else:
                text = f"{type(err).__name__}: {mask(str(err), secrets)}"
            # Raised outside the block: raising here would chain `err` as __context__.
            failure = OSError(text), masked_copy(err, secrets)
    error, cause = failure
    raise error from cause


def _hf_token() -> str | None:
    """The token huggingface_hub sends (HF_TOKEN or the stored login); never shown."""
    import huggingface_hub

    try:
        return huggingface_hub.get_token()
    except Exception:  # noqa: BLE001 - no readable token: nothing to mask
        return None


def _download_zip(url: str) -> str:
    """Download and unpack a zip archive into the cache, atomically; return its directory."""
    name = Path(url.split("?")[0]).name
    target = cache_dir() / "downloads" / Path(name).stem
    if target.is_dir():
        return str(target)
    if is_offline():
        raise OSError(f"offline mode and {url} was never downloaded to {target}")
    try:
        with atomic_directory(target) as tmp:
            archive = tmp / f".download-{name}"
            with urllib.request.urlopen(url, timeout=30) as response, open(archive, "wb") as out:
                shutil.copyfileobj(response, out)
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp)  # zipfile drops absolute paths and ".." parts
            archive.unlink()
    except FileExistsError:
        if not target.is_dir():
            raise  # else another process finished the same download first
    return str(target)


_KEPT_WHOLE = (TFHubNotCachedError, PickledWeightsError, UnrecognisedWeightsError)


def _one_line(err: BaseException) -> str:
    if isinstance(err, _KEPT_WHOLE):  # what to do is kept whole
        return f"{type(err).__name__}: " + str(err).replace("\n", "\n        ")
    text = " ".join(str(err).split()) or type(err).__name__
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{type(err).__name__}: {text}"


def _not_found_message(spec: ModelSpec, failures: list[tuple[WeightSource, str]]) -> str:
    lines = [f"Could not load pretrained weights for {spec.name!r}. Sources tried, in order:"]
    for i, (source, why) in enumerate(failures, 1):
        lines.append(f"  {i}. [{source.format}] {source.uri}\n     -> {why}")
    mode = "on (TEXTZOO_OFFLINE / HF_HUB_OFFLINE)" if is_offline() else "off"
    lines += [
        f"Cache directory: {cache_dir()} (set TEXTZOO_HOME to change it); offline mode: {mode}.",
        "To fix: run once with network access so the cache fills "
        f"(python -c \"import tfx_textzoo as t; t.load('{spec.name}', num_classes=2)\"), "
        "or copy the cache directory from a machine that has it, "
        "or download the files yourself (e.g. `hf download ORG/NAME --local-dir DIR`) and pass "
        "weights='DIR', or use weights=None for a randomly initialised model.",
    ]
    return "\n".join(lines)
