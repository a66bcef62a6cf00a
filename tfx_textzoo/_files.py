"""Writing files atomically, with the permissions any other file the user writes gets."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` when the block succeeds.

    The temporary name ends with ``path``'s name (writers that go by the suffix, such as
    ``.weights.h5`` or ``.png``, see the same one). On failure it is removed and ``path``
    is left as it was.

    Example:
        >>> import pathlib, tempfile
        >>> from tfx_textzoo._files import atomic_path
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("done")
        >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
        ('done', ['out.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=f"-{path.name}", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        normal_permissions(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically.

    Example:
        >>> import pathlib, tempfile
        >>> from tfx_textzoo._files import atomic_write_text
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.json"
        >>> atomic_write_text(target, "{}")
        >>> target.read_text()
        '{}'
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def normal_permissions(path: str | os.PathLike, directory: bool = False) -> None:
    """Give a file (or directory) made by ``tempfile`` the permissions ``open`` would.

    ``mkstemp``/``mkdtemp`` create them private (0600 / 0700); what we write atomically
    must end up as readable as any other file the user writes (umask applied).

    Example:
        >>> import os, tempfile
        >>> from tfx_textzoo._files import normal_permissions
        >>> fd, path = tempfile.mkstemp()
        >>> os.close(fd)
        >>> normal_permissions(path)
        >>> umask = os.umask(0); _ = os.umask(umask)
        >>> os.stat(path).st_mode & 0o777 == 0o666 & ~umask
        True
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if directory else 0o666) & ~umask)
