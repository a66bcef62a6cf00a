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


def check_writable_dir(path: str | os.PathLike, what: str) -> Path:
    """Check, before any long work starts, that files can be created in directory ``path``.

    The directory need not exist yet: its nearest existing ancestor must be a writable
    directory (a probe file is created and removed there; ``os.access`` is not trusted,
    it says yes to root on a read-only mount). Nothing is left behind.

    Args:
        path: The directory that will be written.
        what: How the user named it, for the message (``"--output"``, ``"checkpoint_dir"``).

    Returns:
        ``path`` as a ``Path`` (``~`` expanded).

    Raises:
        tfx_textzoo.errors.OutputNotWritableError: A part of the path is a file, or the
            location cannot be written (read-only, no permission, disk full).

    Example:
        >>> import pathlib, tempfile
        >>> from tfx_textzoo._files import check_writable_dir
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> check_writable_dir(root / "runs" / "a", "--output") == root / "runs" / "a"
        True
        >>> (root / "f").write_text("x")
        1
        >>> check_writable_dir(root / "f" / "sub", "--output")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.OutputNotWritableError: --output ...f/sub cannot be written: ...
    """
    from tfx_textzoo.errors import OutputNotWritableError

    target = Path(os.path.expanduser(os.fspath(path)))
    probe_dir = target
    while not probe_dir.exists() and not probe_dir.is_symlink():
        if probe_dir.parent == probe_dir:
            break
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise OutputNotWritableError(
            f"{what} {target} cannot be written: {probe_dir} is a file, not a directory."
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".tmp-probe-", dir=probe_dir)
        try:
            os.write(fd, b"x")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as err:
        raise OutputNotWritableError(
            f"{what} {target} cannot be written: creating a file in {probe_dir} failed "
            f"({err.strerror or err})."
        ) from None
    return target
