"""The one writer of every file and directory tfx_textzoo writes.

Guarantees, tested once in ``tests/test_files.py``:

* **Atomic.** A file (`atomic_path`, `atomic_write_text`) or a directory
  (`atomic_directory`) is written under a temporary name beside its target and
  renamed into place only when complete: readers see the old content or the new one,
  never a part.
* **Normal permissions.** What is written gets the permissions ``open`` / ``mkdir``
  give (0666 / 0777 less the umask), not ``tempfile``'s private 0600 / 0700.
* **No silent replacement.** A new directory is published with an atomic no-replace
  rename (Linux ``renameat2(RENAME_NOREPLACE)``; where the file system lacks it, a lock
  on the parent directory held across the check and the rename): of two writers racing
  for one new path exactly one wins, the other gets ``FileExistsError``.
* **Recoverable overwrite.** An overwrite swaps the new directory and the old one in
  one step (``renameat2(RENAME_EXCHANGE)``), so there is never a moment without a
  complete directory at the path. Where the exchange is unavailable the old one is
  first renamed to ``.old-<owner>-<name>``; a writer killed between the two renames
  leaves that hidden copy, which `recover` (run by every directory write and by
  ``tfx_textzoo.load``) puts back.
* **No stale leftovers.** Temporary names carry their writer's process id and host
  (``.tmp-<pid>-<host>-<random>-<name>``); leftovers of writers that are no longer
  running are removed by the next write in the same directory. A temporary name of a
  live writer is never touched.

It also holds `resolve_inside`, the one check that a path read from a saved
directory's metadata stays inside that directory, and `sha256_file`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

logger = logging.getLogger(__name__)

# Linux renameat2(2) flags.
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
# Errors that mean "this file system / kernel / sandbox cannot do it", not "it failed".
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EPERM}
# .tmp-<pid>-<host tag>-<random>-<name> and .old-<pid>-<host tag>-<random>-<name>
_TEMP_RE = re.compile(r"^\.(tmp|old)-(\d+)-([0-9a-f]{6})-[0-9a-f]{8}-(.*)$")

#: Called with the name of each step of a directory write (tests kill the process there).
_fault_hook: Callable[[str], None] | None = None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` when the block succeeds.

    The temporary name ends with ``path``'s name (writers that go by the suffix, such as
    ``.weights.h5`` or ``.png``, see the same one). On failure it is removed and ``path``
    is left as it was. Temporary files that killed writers left in the same directory
    are removed first.

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
    clean_stale(path.parent)
    tmp = path.parent / _temp_name("tmp", path.name)
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))  # umask applies
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
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


@contextlib.contextmanager
def atomic_directory(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    replaceable: Callable[[Path], None] | None = None,
    replace_empty: bool = False,
) -> Iterator[Path]:
    """Yield an empty temporary directory beside ``path``; publish it as ``path`` at the end.

    The block fills the temporary directory; when it succeeds the directory is renamed
    to ``path`` (see the module's guarantees). When the block fails, or the publish is
    refused, the temporary directory is removed and ``path`` is left as it was. Before
    anything is written, `recover` puts back a directory an interrupted
    overwrite left hidden and removes what killed writers left.

    Args:
        path: The directory to write. Its parent is created when missing.
        overwrite: Replace ``path`` when it exists (an atomic exchange).
        replaceable: Called with ``path`` before it is replaced (before writing, and
            again just before the exchange); raises to refuse.
        replace_empty: An existing empty directory at ``path`` counts as absent.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False -- also when another
            writer published it while this one was writing (nothing is replaced).

    Example:
        >>> import pathlib, tempfile
        >>> from tfx_textzoo._files import atomic_directory
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "model"
        >>> with atomic_directory(target) as tmp:
        ...     _ = (tmp / "a.txt").write_text("one")
        >>> with atomic_directory(target, overwrite=True) as tmp:
        ...     _ = (tmp / "b.txt").write_text("two")
        >>> sorted(p.name for p in target.iterdir()), [p.name for p in target.parent.iterdir()]
        (['b.txt'], ['model'])
        >>> with atomic_directory(target) as tmp:  # doctest: +ELLIPSIS
        ...     pass
        Traceback (most recent call last):
        ...
        FileExistsError: ...model already exists. Pass overwrite=True to replace it, ...
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    if os.path.lexists(target) and not (replace_empty and _is_empty_dir(target)):
        if not overwrite:
            raise FileExistsError(
                errno.EEXIST,
                f"{target} already exists. Pass overwrite=True to replace it, or choose "
                "another path.",
            )
        if replaceable is not None:
            replaceable(target)
    tmp = target.parent / _temp_name("tmp", target.name)
    os.mkdir(tmp)  # mode 0777 less the umask, as any directory the user makes
    try:
        _fault("temp-created")
        yield tmp
        _fault("written")
        _publish(tmp, target, overwrite, replaceable, replace_empty)
    finally:
        if os.path.lexists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def recover(path: str | os.PathLike) -> list[str]:
    """Repair what interrupted writes left beside ``path``; return what was done.

    When ``path`` is missing and a killed overwrite left the previous directory under
    its hidden ``.old-*`` name, that directory is renamed back (with a warning). Hidden
    copies no longer needed, and the temporary files and directories of writers that
    are no longer running, are removed from ``path``'s parent. Anything that belongs
    to a writer still running is left alone.

    Example:
        >>> import pathlib, tempfile
        >>> from tfx_textzoo._files import recover
        >>> recover(pathlib.Path(tempfile.mkdtemp()) / "model")
        []
    """
    target = Path(path)
    done: list[str] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return done
    olds = sorted(
        (e for e in entries if _stale_kind(e.name, target.name) == "old"),
        key=_mtime,
        reverse=True,
    )  # the newest first: it is the version the last interrupted overwrite replaced
    for entry in olds:
        if not os.path.lexists(target):
            try:
                _rename_noreplace(entry.path, target)
            except OSError:
                pass  # another process restored it first, or wrote a new one
            else:
                message = (
                    f"{target} was missing: a save that was replacing it was interrupted "
                    f"between its two renames. Restored the previous version from {entry.name}."
                )
                warnings.warn(message, RuntimeWarning, stacklevel=3)
                done.append(message)
                continue
        _remove(Path(entry.path))
        done.append(f"removed {entry.path} (the version an interrupted overwrite replaced)")
    done += clean_stale(target.parent)
    return done


def clean_stale(directory: str | os.PathLike) -> list[str]:
    """Remove the temporary files and directories killed writers left in ``directory``.

    Only names this module makes (``.tmp-<pid>-<host>-...``) are considered, and only
    those whose writer ran on this host and is no longer running.

    Returns:
        A line for each path removed.

    Example:
        >>> import os, pathlib, tempfile
        >>> from tfx_textzoo._files import clean_stale
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> mine = root / f".tmp-{os.getpid()}-000000-00000000-x"  # a live writer's
        >>> mine.mkdir()
        >>> clean_stale(root), mine.exists()
        ([], True)
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if _stale_kind(entry.name) == "tmp":
            _remove(Path(entry.path))
            removed.append(f"removed {entry.path} (left by a killed write)")
    for line in removed:
        logger.info(line)
    return removed


def resolve_inside(root: str | os.PathLike, relative: object, what: str, *, within=None) -> Path:
    """Return ``root / relative``, refusing a path that would lead outside ``root``.

    For paths read from a file inside ``root`` (a saved model's metadata): an absolute
    path, a ``..`` part, or a symbolic link that resolves outside is refused.

    Args:
        root: The directory the path is relative to.
        relative: The path as read (it must be a non-empty string).
        what: Where it was read, for the message (``"files['x'] in textzoo.json"``).
        within: The directory the resolved path must stay in (default ``root``; a
            Hugging Face cache snapshot links into its repository's ``blobs/``).

    Raises:
        tfx_textzoo.errors.UnsafePathError: The path leads outside.

    Example:
        >>> import pathlib, tempfile
        >>> from tfx_textzoo._files import resolve_inside
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> resolve_inside(root, "assets/v.json", "a path") == root / "assets/v.json"
        True
        >>> resolve_inside(root, "../etc/passwd", "a path")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.UnsafePathError: a path is '../etc/passwd', which goes up (..) ...
    """
    from tfx_textzoo.errors import UnsafePathError

    root = Path(root)
    reason = None
    if not isinstance(relative, str) or not relative.strip():
        reason = "is not a relative file name"
    elif "\0" in relative:
        reason = "contains a NUL character"
    elif os.path.isabs(relative) or PurePosixPath(relative).is_absolute() or relative[:1] == "~":
        reason = "is an absolute path"
    elif ".." in PurePosixPath(relative.replace("\\", "/")).parts:
        reason = "goes up (..) out of the directory"
    else:
        resolved = (root / relative).resolve()
        bound = Path(within if within is not None else root).resolve()
        if resolved != bound and bound not in resolved.parents:
            reason = f"resolves (through a symbolic link) to {resolved}, outside the directory"
    if reason is not None:
        raise UnsafePathError(
            f"{what} is {relative!r}, which {reason}. A saved model only refers to files "
            f"inside its own directory ({root}); this one was altered or crafted. Do not "
            "use it: save the model again, or copy it again from a source you trust."
        )
    return root / relative


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, as hex.

    Example:
        >>> import pathlib, tempfile
        >>> from tfx_textzoo._files import sha256_file
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "f"
        >>> _ = path.write_bytes(b"abc")
        >>> sha256_file(path)[:16]
        'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


# --- publishing -------------------------------------------------------------------------

_MAX_PUBLISH_TRIES = 8


def _publish(
    tmp: Path,
    target: Path,
    overwrite: bool,
    replaceable: Callable[[Path], None] | None,
    replace_empty: bool,
) -> None:
    """Rename ``tmp`` to ``target``: no-replace, or (``overwrite``) an atomic exchange."""
    for _ in range(_MAX_PUBLISH_TRIES):
        if replace_empty and _is_empty_dir(target):
            with contextlib.suppress(OSError):
                os.rmdir(target)  # another writer may fill or remove it first: fine
        try:
            _rename_noreplace(tmp, target)
        except FileExistsError:
            if not overwrite:
                raise FileExistsError(
                    errno.EEXIST,
                    f"{target} was created by another writer while this one was writing; "
                    "it was kept and this copy discarded. Pass overwrite=True to replace "
                    "it, or choose another path.",
                ) from None
        else:
            _fault("published")
            return
        if replaceable is not None:
            replaceable(target)
        try:
            _renameat2(tmp, target, _RENAME_EXCHANGE)
        except FileNotFoundError:
            continue  # removed meanwhile: publish it as new
        except OSError as err:
            if err.errno not in _UNSUPPORTED:
                raise
            if _swap_by_renames(tmp, target):
                return
            continue
        _fault("exchanged")
        shutil.rmtree(tmp, ignore_errors=True)  # the previous version, swapped out
        return
    raise OSError(f"{target} kept changing while it was being replaced; try again.")


def _swap_by_renames(tmp: Path, target: Path) -> bool:
    """Replace ``target`` with two renames under the directory lock (no exchange here).

    Killed between the renames, the previous version stays as ``.old-*`` for
    `recover`. Returns False when ``target`` is gone (publish it as new instead).
    """
    old = target.parent / _temp_name("old", target.name)
    with _dir_lock(target.parent):
        if not os.path.lexists(target):
            return False
        os.rename(target, old)
        _fault("old-moved")
        try:
            os.rename(tmp, target)
        except BaseException:
            os.rename(old, target)
            raise
        _fault("published")
    shutil.rmtree(old, ignore_errors=True)
    return True


def _rename_noreplace(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Rename ``src`` to ``dst`` unless ``dst`` exists (then ``FileExistsError``), atomically."""
    try:
        _renameat2(src, dst, _RENAME_NOREPLACE)
        return
    except OSError as err:
        if err.errno not in _UNSUPPORTED:
            raise
    with _dir_lock(Path(dst).parent):  # a plain rename would replace an empty directory
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(dst))
        os.rename(src, dst)


def _renameat2(src: str | os.PathLike, dst: str | os.PathLike, flags: int) -> None:
    function = _libc_renameat2()
    if function is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available here", os.fspath(dst))
    if function(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), os.fspath(src), None, os.fspath(dst))


@functools.cache
def _libc_renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # not Linux, or a C library without it
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p] * 2 + [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


@contextlib.contextmanager
def _dir_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``directory`` (or, where that fails, on a lock file)."""
    import fcntl

    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError:
        os.close(fd)
        fd = os.open(Path(directory) / ".textzoo.lock", os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
    try:
        yield
    finally:
        os.close(fd)  # releases the lock


# --- temporary names ----------------------------------------------------------------------


def _temp_name(kind: str, name: str) -> str:
    return f".{kind}-{os.getpid()}-{_host_tag()}-{secrets.token_hex(4)}-{name}"


@functools.cache
def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def _stale_kind(entry: str, target_name: str | None = None) -> str | None:
    """``"tmp"`` / ``"old"`` for a name this module made whose writer is gone, else None."""
    match = _TEMP_RE.match(entry)
    if match is None or match.group(3) != _host_tag():
        return None  # not ours, or another host's (its writer may be running there)
    if target_name is not None and match.group(4) != target_name:
        return None
    if _pid_alive(int(match.group(2))):
        return None
    return match.group(1)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _mtime(entry: os.DirEntry) -> int:
    try:
        return entry.stat(follow_symlinks=False).st_mtime_ns
    except OSError:
        return 0


def _is_empty_dir(path: Path) -> bool:
    try:
        return path.is_dir() and not path.is_symlink() and not any(path.iterdir())
    except OSError:
        return False


def _fault(step: str) -> None:
    hook = _fault_hook
    if hook is not None:
        hook(step)
