"""Resolving pretrained weights: one resolver and one cache for every family.

Sources are tried in catalog order (or the single source named by ``weights=``).
Each source is *fetched* to a local directory (downloads land in the cache at
``TEXTZOO_HOME``, default ``~/.cache/tfx_textzoo``) and then handed to the family's
loader. When every source fails, :class:`WeightsNotFoundError` lists each source,
why it failed, and how to pre-populate the cache.

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
import json
import os
import shutil
import socket
import ssl
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tfx_textzoo._files import atomic_directory, atomic_write_text
from tfx_textzoo.registry import ModelSpec, WeightSource

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_HF_FILES = [
    "config.json",
    "model.safetensors",
    "model.safetensors.index.json",
    "model-*.safetensors",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "1_Pooling/config.json",
]
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
_TF_CKPT_FILES = [
    "bert_model.ckpt*",
    "*.ckpt.*",
    "checkpoint",
    "bert_config.json",
    "config.json",
    "vocab.txt",
    "tokenizer_config.json",
]


class WeightsNotFoundError(OSError):
    """No weight source could be loaded; the message lists every attempt."""


class TFHubNotCachedError(FileNotFoundError):
    """Offline, and a TF-Hub handle is not in the TF-Hub cache; the message says how to fix."""


@dataclasses.dataclass(frozen=True)
class LocalWeights:
    """Weights fetched to this machine, in a format a family loader understands.

    Attributes:
        format: ``"keras_hub"`` (a keras-hub preset directory or built-in handle) or
            ``"hf"`` (a Hugging Face ``config.json`` + ``model.safetensors`` directory).
        location: Local directory (or, for ``keras_hub``, a handle keras-hub resolves).
        source: The source it came from, for messages.
    """

    format: str
    location: str
    source: WeightSource


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
    """Turn the ``weights=`` argument of :func:`tfx_textzoo.load` into sources to try.

    Args:
        spec: The catalog entry.
        weights: ``"auto"`` (the catalog's sources), a local directory (including a
            TF-Hub SavedModel folder), an ``hf://org/name`` URI, a keras-hub preset name
            or ``kaggle://`` handle, or a TF-Hub handle: ``tfhub://<handle>`` or a bare
            ``https://tfhub.dev/...`` / ``https://www.kaggle.com/models/...`` URL.

    Returns:
        The sources, in the order they will be tried.

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
            return [WeightSource("tfhub", tfhub_handle(uri))]
        except ValueError:
            return [WeightSource("tfhub", uri.removeprefix("tfhub://"))]  # fails when fetched
    if uri.startswith(_TFHUB_URL_PREFIXES) or (
        uri.startswith(("http://", "https://")) and uri.split("?")[0].endswith(_TAR_SUFFIXES)
    ):
        return [WeightSource("tfhub", uri)]
    if uri.startswith("hf://"):
        # A Hub repo may hold safetensors or only the original TF checkpoint.
        return [WeightSource("hf", uri), WeightSource("bert_tf_checkpoint", uri)]
    if uri.startswith("kaggle://") or ("/" not in uri and not os.path.exists(uri)):
        return [WeightSource("keras_hub", uri)]
    if uri.startswith(("http://", "https://")) and uri.endswith(".zip"):
        return [WeightSource("bert_tf_checkpoint", uri)]
    return [WeightSource("local", uri)]


def resolve_and_load(
    spec: ModelSpec,
    weights: Any,
    load_fn: Callable[[LocalWeights], T],
) -> T:
    """Try each source in order: fetch it, then ``load_fn`` it; return the first success.

    Args:
        spec: The catalog entry.
        weights: As for :func:`sources_for`.
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


def fetch(source: WeightSource, spec: ModelSpec) -> LocalWeights:
    """Make one source available locally, downloading into the cache when allowed.

    Raises:
        OSError: The source cannot be fetched (offline, missing, network error).
        ValueError: The source exists but is not in the format it claims.

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
        return _local_dir(source, spec)
    if fmt == "keras_hub":
        if os.path.isdir(uri):
            return LocalWeights("keras_hub", uri, source)
        if is_offline():
            raise OSError("offline mode: keras-hub presets on Kaggle need the network")
        return LocalWeights("keras_hub", _kaggle_download(uri), source)
    if fmt == "hf":
        path = _hf_snapshot(uri, _HF_FILES)
        if not (Path(path) / "config.json").exists():
            raise ValueError(f"{uri} has no config.json; it is not a Hugging Face model repo")
        if not list(Path(path).glob("model*.safetensors")):
            raise ValueError(f"{uri} has no model.safetensors (only safetensors are loaded)")
        return LocalWeights("hf", path, source)
    if fmt == "bert_tf_checkpoint":
        return LocalWeights("hf", _tf_checkpoint_as_hf(source, spec), source)
    if fmt == "tfhub":
        return LocalWeights("hf", _saved_model_as_hf(resolve_tfhub(uri), source, spec), source)
    raise ValueError(f"unknown weight source format {fmt!r}")


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
      (:func:`tfx_textzoo._files.atomic_directory`), with a
      ``<cache>/<sha1>.descriptor.txt`` naming the handle. Unlike ``tensorflow_hub`` no
      ``.lock`` file is taken: two concurrent downloads both finish, the first rename wins.

    Offline (:func:`is_offline`) nothing is downloaded: a missing handle raises
    :class:`TFHubNotCachedError`, which says which folder to fill and how. Local paths
    are returned as they are.

    Args:
        uri: A handle (see :func:`tfhub_handle`), with or without ``tfhub://``.

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


def _saved_model_as_hf(path: str, source: WeightSource, spec: ModelSpec | None) -> str:
    """Convert (once) a TF-Hub BERT encoder SavedModel to a cached Hugging Face directory."""
    from tfx_textzoo.families.bert_tfhub import convert_saved_model_to_hf, find_saved_model_dir

    root = find_saved_model_dir(path)
    if root is None:
        raise ValueError(
            f"{path} holds no SavedModel (saved_model.pb); the folder is incomplete or not "
            "a TF-Hub model: delete it and download it again"
        )
    # Key the conversion on the SavedModel's file stamps, so a replaced model converts again.
    files = [root / "saved_model.pb", *sorted((root / "variables").glob("*"))]
    stamp = "".join(
        f"{p.name}{p.stat().st_mtime_ns}{p.stat().st_size}" for p in files if p.is_file()
    )
    key = hashlib.sha256((str(root.resolve()) + stamp).encode()).hexdigest()[:16]
    label = spec.name if spec else root.name
    converted = cache_dir() / "converted" / f"tfhub-{label}-{key}"
    lowercase = spec.tokenizer.get("lowercase") if spec else None
    return convert_saved_model_to_hf(root, converted, lowercase=lowercase, name_or_path=source.uri)


def _local_dir(source: WeightSource, spec: ModelSpec | None) -> LocalWeights:
    from tfx_textzoo.families.bert_checkpoint import find_tf_checkpoint
    from tfx_textzoo.families.bert_tfhub import find_saved_model_dir

    path = Path(os.path.expanduser(source.uri))
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if not path.is_dir():
        raise ValueError(f"{path} is a file; pass the directory that holds the weights")
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
    if find_saved_model_dir(path) is not None:  # a TF-Hub model folder
        return LocalWeights("hf", _saved_model_as_hf(str(path), source, spec), source)
    if find_tf_checkpoint(str(path)):
        tf_source = WeightSource("bert_tf_checkpoint", str(path), source.note)
        return LocalWeights("hf", _tf_checkpoint_as_hf(tf_source, None), source)
    raise ValueError(
        f"{path} is not a weights directory tfx_textzoo can read. Expected one of: a keras-hub "
        "preset (config.json with 'registered_name' + model.weights.h5), a Hugging Face "
        "directory (config.json with 'model_type' + model.safetensors + vocab.txt), or an "
        "original BERT TensorFlow checkpoint (bert_model.ckpt.index/.data-* + bert_config.json "
        "+ vocab.txt), or a TF-Hub BERT encoder SavedModel (saved_model.pb + variables/ + "
        "assets/vocab.txt)."
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


def _hf_snapshot(uri: str, patterns: list[str]) -> str:
    """Download (or find in the cache) the files of ``hf://owner/name`` matching ``patterns``.

    A failure is raised as an ``OSError`` whose message and cause are masked: a Hub
    server may quote the request's ``Authorization`` header (the user's token) in its
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
                allow_patterns=patterns,
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


def _tf_checkpoint_as_hf(source: WeightSource, spec: ModelSpec | None) -> str:
    """Fetch an original BERT TF checkpoint and convert it (once) to a cached HF dir."""
    from tfx_textzoo.families.bert_checkpoint import (
        convert_tf_checkpoint_to_hf,
        find_tf_checkpoint,
    )

    key = hashlib.sha256(source.uri.encode()).hexdigest()[:16]
    label = (spec.name if spec else Path(source.uri).name) or "checkpoint"
    converted = cache_dir() / "converted" / f"{label}-{key}"
    lowercase = spec.tokenizer.get("lowercase") if spec else None
    if (converted / "model.safetensors").exists() and not os.path.isdir(source.uri):
        return str(converted)
    uri = source.uri
    if uri.startswith("hf://"):
        src_dir = _hf_snapshot(uri, _TF_CKPT_FILES)
    elif uri.startswith(("http://", "https://")):
        src_dir = _download_zip(uri)
    else:
        src_dir = uri
    ckpt_dir = _find_dir_with_checkpoint(Path(src_dir), find_tf_checkpoint)
    if ckpt_dir is None:
        raise FileNotFoundError(f"no original BERT checkpoint (*.ckpt.index) found in {uri}")
    if os.path.isdir(uri):
        # A local checkpoint may change: key the conversion on its files' stamps too.
        stamp = "".join(
            f"{p.name}{p.stat().st_mtime_ns}{p.stat().st_size}"
            for p in sorted(ckpt_dir.iterdir())
            if p.is_file()
        )
        converted = converted.with_name(
            f"{label}-{hashlib.sha256((source.uri + stamp).encode()).hexdigest()[:16]}"
        )
    return convert_tf_checkpoint_to_hf(str(ckpt_dir), str(converted), lowercase=lowercase)


def _find_dir_with_checkpoint(root: Path, finder: Callable[[str], str | None]) -> Path | None:
    if finder(str(root)):
        return root
    for sub in sorted(p for p in root.rglob("*") if p.is_dir()):
        if finder(str(sub)):
            return sub
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


def _one_line(err: BaseException) -> str:
    if isinstance(err, TFHubNotCachedError):  # its how-to-fix lines are kept whole
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
