"""Reading TensorFlow's own formats, for any family's converter.

Two formats: a name-based TensorFlow checkpoint (``<prefix>.index`` +
``<prefix>.data-*``) and a SavedModel (``saved_model.pb`` + ``variables/`` +
``assets/``, what TF-Hub serves). These helpers find them in a folder and read their
variables as NumPy arrays, with one clear error for a corrupt or incomplete file; what
the variables *mean* (the name map to a family's layout) is the family converter's.
TensorFlow is imported only when a file is read.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "TFCheckpoint",
    "find_saved_model_dir",
    "find_tf_checkpoint",
    "float_variables",
    "is_saved_model_dir",
    "load_saved_model",
]

_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")


def find_tf_checkpoint(directory: str | os.PathLike, preferred: str | None = None) -> str | None:
    """Find the TensorFlow checkpoint prefix in a directory (not in its sub-directories).

    A checkpoint is identified by its ``<prefix>.index`` file. If the directory has a
    ``checkpoint`` state file, ``tf.train.latest_checkpoint`` is asked first (its answer
    is used only when that index file exists, because state files often hold absolute
    paths from the machine that trained the model). Otherwise ``preferred`` is taken when
    present; failing that the index file with the highest step number
    (``model.ckpt-1000000`` beats ``model.ckpt-900000``).

    Args:
        directory: Directory that may contain a checkpoint.
        preferred: A prefix name to take when present (e.g. the release's own name).

    Returns:
        The checkpoint prefix, or None when the directory does not exist or holds none.

    Examples:
        >>> import tempfile
        >>> root = tempfile.mkdtemp()
        >>> find_tf_checkpoint(root) is None
        True
        >>> for name in ("model.ckpt-900000.index", "model.ckpt-1000000.index"):
        ...     _ = open(os.path.join(root, name), "w").close()
        >>> os.path.basename(find_tf_checkpoint(root))
        'model.ckpt-1000000'
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return None
    if os.path.isfile(os.path.join(directory, "checkpoint")):
        import tensorflow as tf

        try:
            latest = tf.train.latest_checkpoint(directory)
        except (tf.errors.OpError, ValueError) as err:  # unparsable state file
            logger.warning("Ignoring unreadable checkpoint state file in %s: %s", directory, err)
            latest = None
        if latest and os.path.isfile(latest + ".index"):
            return latest
    if preferred and os.path.isfile(os.path.join(directory, preferred) + ".index"):
        return os.path.join(directory, preferred)
    prefixes = [
        path[: -len(".index")]
        for path in glob.glob(os.path.join(glob.escape(directory), "*.index"))
        if os.path.isfile(path)
    ]
    if not prefixes:
        return None

    def sort_key(prefix: str) -> tuple[int, str]:
        match = re.search(r"-(\d+)$", prefix)
        return (int(match.group(1)) if match else -1, prefix)

    return max(prefixes, key=sort_key)


class TFCheckpoint:
    """An open name-based TensorFlow checkpoint: its variables' shapes, each value on request.

    Args:
        prefix: The checkpoint prefix, the path without ``.index``
            (as `find_tf_checkpoint` returns it).

    Raises:
        FileNotFoundError: ``<prefix>.index`` does not exist.
        ValueError: The checkpoint cannot be read (corrupt, truncated or incomplete files);
            the message says to download it again.

    Attributes:
        prefix: The prefix, as a string.
        shapes: Variable name -> shape, for every variable in the checkpoint.

    Examples:
        >>> try:
        ...     TFCheckpoint("/no/such/model.ckpt")
        ... except FileNotFoundError as err:
        ...     print(err)
        No TensorFlow checkpoint at '/no/such/model.ckpt': /no/such/model.ckpt.index does not exist.
    """

    def __init__(self, prefix: str | os.PathLike) -> None:
        self.prefix = os.fspath(prefix)
        if not os.path.isfile(self.prefix + ".index"):
            raise FileNotFoundError(
                f"No TensorFlow checkpoint at {self.prefix!r}: {self.prefix}.index does not exist."
            )
        import tensorflow as tf

        # Besides tf.errors.OpError (DataLossError, NotFoundError, ...), the C++ reader can
        # surface e.g. IndexError("Read less bytes than requested") for a truncated .data file.
        try:
            self._reader = tf.train.load_checkpoint(self.prefix)
            self.shapes: dict[str, list[int]] = dict(self._reader.get_variable_to_shape_map())
        except Exception as err:
            raise self._corrupt(err) from err

    def read(self, name: str) -> np.ndarray:
        """The value of variable ``name`` (raises the corrupt-file ``ValueError`` if unreadable)."""
        try:
            return np.asarray(self._reader.get_tensor(name))
        except Exception as err:
            raise self._corrupt(err) from err

    def _corrupt(self, err: Exception) -> ValueError:
        return ValueError(
            f"Could not read the TensorFlow checkpoint {self.prefix!r} "
            f"(files {self.prefix}.index and {self.prefix}.data-*): {type(err).__name__}: "
            f"{err}. The checkpoint is corrupt, truncated or incomplete (for example an "
            "interrupted download). Delete the checkpoint directory and download it again."
        )


def is_saved_model_dir(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a SavedModel directory (it has ``saved_model.pb``).

    Examples:
        >>> import tempfile
        >>> is_saved_model_dir(tempfile.mkdtemp())
        False
    """
    return any(os.path.isfile(os.path.join(path, name)) for name in _SAVED_MODEL_FILES)


def find_saved_model_dir(root: str | os.PathLike) -> Path | None:
    """Return ``root`` or its single sub-directory that is a SavedModel, else None.

    TF-Hub archives unpack flat (``saved_model.pb`` at the top); a hand-made archive
    may add one folder level, which is accepted too.

    Examples:
        >>> import tempfile
        >>> find_saved_model_dir(tempfile.mkdtemp()) is None
        True
    """
    root = Path(root)
    if is_saved_model_dir(root):
        return root
    if not root.is_dir():
        return None
    found = [sub for sub in sorted(root.iterdir()) if sub.is_dir() and is_saved_model_dir(sub)]
    return found[0] if len(found) == 1 else None


def load_saved_model(path: str | os.PathLike) -> Any:
    """``tf.saved_model.load`` a complete SavedModel, with one clear error for a broken one.

    A TF1 Hub module has two MetaGraphs (``{}`` and ``{"train"}``): the default one is taken.

    Raises:
        FileNotFoundError: ``path`` is not a SavedModel directory.
        ValueError: It has no ``variables/variables.index``, or it cannot be loaded (corrupt
            or incomplete); the message says to delete it and download it again.

    Examples:
        >>> load_saved_model("/no/such/dir")
        Traceback (most recent call last):
        ...
        FileNotFoundError: /no/such/dir is not a SavedModel directory (no saved_model.pb)
    """
    path = Path(path)
    if not is_saved_model_dir(path):
        raise FileNotFoundError(f"{path} is not a SavedModel directory (no saved_model.pb)")
    if not (path / "variables" / "variables.index").is_file():
        raise ValueError(
            f"The SavedModel at {path} is incomplete: it has no variables/variables.index "
            "(an interrupted download or unpack?). Delete the folder and download it again."
        )
    import tensorflow as tf

    try:
        try:
            return tf.saved_model.load(str(path))
        except ValueError as err:
            if "MetaGraph" not in str(err):
                raise
            return tf.saved_model.load(str(path), tags=[])
    except Exception as err:
        text = " ".join(str(err).split())[:120]
        raise ValueError(
            f"The SavedModel at {path} is corrupt or incomplete (an interrupted download or "
            f"unpack?): delete the folder and download it again. ({type(err).__name__}: {text})"
        ) from err


def float_variables(saved_model: Any, path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A loaded SavedModel's floating-point variables: name (without ``:0``) -> float32 array.

    Raises:
        ValueError: The object has no ``.variables`` (not a reusable SavedModel), or two
            different variables share a name.
    """
    variables = getattr(saved_model, "variables", None)
    if variables is None:
        raise ValueError(
            f"The SavedModel at {path} has no .variables attribute: it is not a reusable "
            "TF-Hub SavedModel, so its weights cannot be converted."
        )
    values: dict[str, np.ndarray] = {}
    for variable in variables:
        if not variable.dtype.is_floating:
            continue
        name = variable.name.split(":")[0]
        value = np.asarray(variable.numpy(), dtype=np.float32)
        if name in values and not np.array_equal(values[name], value):
            raise ValueError(f"The SavedModel at {path} has two different variables named {name}")
        values[name] = value
    return values
