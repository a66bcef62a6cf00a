"""The guarantees of the one writer (tfx_textzoo/_files.py), tested once, here.

Permissions follow the umask; a new directory is never silently replaced (two racing
processes: one wins, the other gets FileExistsError); a save killed at any step leaves the
old complete model or the new one, and the next save leaves nothing stale; a live
writer's temporary files are never removed. The real-model tests run the save in
subprocesses (tests/fault_save.py) that are killed (``os._exit`` at a named step of the
write, or SIGKILL at a random moment) or raced.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from helpers import TEXTS, tiny_model

import tfx_textzoo as textzoo
from tfx_textzoo import _files

FAULT_SAVE = Path(__file__).resolve().parent / "fault_save.py"
OLD = ["a", "b"]
NEW = ["x", "y", "z"]


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["TEXTZOO_FILES_PY"] = str(Path(_files.__file__).resolve())
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(_files.__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
    )
    return env


def _fault_save(target: Path, labels: list[str], *flags: str, timeout: float = 300):
    """Run tests/fault_save.py; return (exit code, its JSON result or None, stderr)."""
    proc = subprocess.run(
        [sys.executable, str(FAULT_SAVE), str(target), "--labels", ",".join(labels), *flags],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=timeout,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return proc.returncode, (json.loads(lines[-1]) if lines else None), proc.stderr[-3000:]


def _check_complete(target: Path, labels: list[str]) -> None:
    """``target`` is a complete, loadable model with ``labels`` that predicts."""
    model = textzoo.load(target)
    assert model.labels == labels
    probabilities = model.predict(TEXTS, verbose=0)
    assert probabilities.shape == (len(TEXTS), len(labels))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.fixture(scope="module")
def old_model_dir(tmp_path_factory):
    """A saved model labelled OLD, copied into each case as the version to be replaced."""
    path = tmp_path_factory.mktemp("old") / "m"
    textzoo.save_pretrained(tiny_model("bert-tiny", num_classes=2, labels=OLD), path)
    return path


# --- permissions ----------------------------------------------------------------------------


def test_files_and_directories_get_the_umask_permissions(tmp_path):
    umask = os.umask(0o027)
    try:
        _files.atomic_write_text(tmp_path / "report.md", "# report\n")
        with _files.atomic_directory(tmp_path / "d") as tmp:
            (tmp / "x.txt").write_text("x")
        with _files.atomic_directory(tmp_path / "d", overwrite=True) as tmp:
            (tmp / "x.txt").write_text("y")
        model = textzoo.save_pretrained(tiny_model("scratch-tiny"), tmp_path / "m")
    finally:
        os.umask(umask)
    assert (tmp_path / "report.md").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o750
    assert model.stat().st_mode & 0o777 == 0o750  # not tempfile's private 0700
    assert (model / "textzoo.json").stat().st_mode & 0o777 == 0o640
    assert _leftovers(tmp_path) == []


# --- no-replace publish -------------------------------------------------------------------------


def test_two_processes_saving_to_one_new_directory_one_wins(tmp_path):
    """Both pass every check, then race the publish (a barrier holds them until both can)."""
    target, barrier = tmp_path / "out" / "m", tmp_path / "barrier"
    barrier.mkdir()
    jobs = [(OLD, "1"), (NEW, "2")]
    with ThreadPoolExecutor(2) as pool:
        runs = list(
            pool.map(
                lambda job: _fault_save(target, job[0], "--barrier", str(barrier), "--id", job[1]),
                jobs,
            )
        )
    results = [result for _, result, _ in runs]
    assert all(code == 0 for code, _, _ in runs), [err for _, _, err in runs]
    assert sorted(r["result"] for r in results) == ["FileExistsError", "ok"], results
    loser = next(r for r in results if r["result"] == "FileExistsError")
    assert "another writer" in loser["message"] and "overwrite=True" in loser["message"]
    winner = next(
        labels for (labels, _), r in zip(jobs, results, strict=True) if r["result"] == "ok"
    )
    _check_complete(target, winner)
    assert _leftovers(target.parent) == []


@pytest.mark.parametrize("renameat2", [True, False], ids=["renameat2", "lock"])
def test_publish_never_replaces_what_appeared_meanwhile(tmp_path, monkeypatch, renameat2):
    """Not even an empty directory, which a plain os.rename replaces silently."""
    if not renameat2:
        monkeypatch.setattr(_files, "_libc_renameat2", lambda: None)
    target = tmp_path / "m"
    with pytest.raises(FileExistsError, match="another writer"):
        with _files.atomic_directory(target) as tmp:
            (tmp / "mine.txt").write_text("mine")
            target.mkdir()  # another writer's, made while this one was writing
    assert list(target.iterdir()) == []
    assert _leftovers(tmp_path) == []
    # An empty placeholder may be replaced where the caller says so (caches do).
    with _files.atomic_directory(target, replace_empty=True) as tmp:
        (tmp / "mine.txt").write_text("mine")
    assert (target / "mine.txt").read_text() == "mine"


# _files alone: importing the package would import TensorFlow (seconds per process).
_LOAD_FILES = textwrap.dedent(
    """
    import importlib.util, os
    spec = importlib.util.spec_from_file_location("_files", os.environ["TEXTZOO_FILES_PY"])
    _files = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(_files)
    """
)
_WRITER = _LOAD_FILES + textwrap.dedent(
    """
    import shutil, sys, time
    from pathlib import Path

    target, content, *flags = sys.argv[1:]
    options = dict(f.split("=", 1) if "=" in f else (f, "") for f in flags)
    if "kill" in options:
        _files._fault_hook = lambda step: os._exit(17) if step == options["kill"] else None
    if "no-renameat2" in options:
        _files._libc_renameat2 = lambda: None

    def wait_for(path, count=1):
        deadline = time.monotonic() + 60
        while len(list(Path(path).parent.glob(Path(path).name))) < count:
            assert time.monotonic() < deadline, path
            time.sleep(0.005)

    try:
        with _files.atomic_directory(target, overwrite="overwrite" in options) as tmp:
            if "copy" in options:  # publish a saved model's files, as save_pretrained does
                shutil.copytree(options["copy"], tmp, dirs_exist_ok=True)
            else:
                (tmp / "content.txt").write_text(content)
            if "barrier" in options:
                Path(options["barrier"], "ready-" + content).touch()
                wait_for(Path(options["barrier"], "ready-*"), 2)
            if "pause" in options:
                Path(options["pause"] + ".in").touch()
                wait_for(options["pause"])
    except FileExistsError as err:
        print("FileExistsError", err)
    else:
        print("ok")
    """
)


def _writer(target: Path, content: str, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(target), content, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def test_the_lock_fallback_also_lets_one_of_two_racing_writers_win(tmp_path):
    target, barrier = tmp_path / "m", tmp_path / "barrier"
    barrier.mkdir()
    procs = [_writer(target, c, "no-renameat2", f"barrier={barrier}") for c in ("one", "two")]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    results = sorted(out.split()[0] for out, _ in outputs)
    assert results == ["FileExistsError", "ok"], outputs
    winner = "one" if outputs[0][0].startswith("ok") else "two"
    assert (target / "content.txt").read_text() == winner
    assert _leftovers(tmp_path) == []


# --- kills at every step of a save ---------------------------------------------------------

# (case, step, flags, the model the target holds after the kill: OLD, NEW or None)
_STEPS = [
    ("new", "temp-created", [], None),
    ("new", "written", [], None),
    ("new", "published", [], NEW),
    ("exchange", "temp-created", ["--overwrite"], OLD),
    ("exchange", "written", ["--overwrite"], OLD),
    ("exchange", "exchanged", ["--overwrite"], NEW),
    ("renames", "temp-created", ["--overwrite", "--no-renameat2"], OLD),
    ("renames", "written", ["--overwrite", "--no-renameat2"], OLD),
    ("renames", "old-moved", ["--overwrite", "--no-renameat2"], OLD),  # restored on load
    ("renames", "published", ["--overwrite", "--no-renameat2"], NEW),
]


@pytest.fixture(scope="module")
def replacement():
    return tiny_model("bert-tiny", num_classes=2, labels=OLD)


@pytest.fixture(scope="module")
def new_model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("new") / "m"
    textzoo.save_pretrained(tiny_model("bert-tiny", num_classes=3, labels=NEW), path)
    return path


@pytest.mark.parametrize(
    "writer",
    [
        "publish",  # a light process publishing a saved model's files with the same writer
        pytest.param("save_pretrained", marks=pytest.mark.slow),  # a real save: imports TF
    ],
)
@pytest.mark.parametrize(
    "case, step, flags, expected", _STEPS, ids=[f"{c}-{s}" for c, s, _, _ in _STEPS]
)
def test_a_save_killed_at_any_step_leaves_the_old_or_the_new_model(
    tmp_path, old_model_dir, new_model_dir, replacement, writer, case, step, flags, expected
):
    target = tmp_path / "m"
    if case != "new":
        shutil.copytree(old_model_dir, target)
    if writer == "save_pretrained":
        code, result, stderr = _fault_save(target, NEW, "--kill-at", step, *flags)
    else:
        options = [f.removeprefix("--") for f in flags]
        proc = _writer(target, "", f"copy={new_model_dir}", f"kill={step}", *options)
        result, stderr = proc.communicate(timeout=120)
        code, result = proc.returncode, (result.strip() or None)
    assert code == 17 and result is None, f"not killed: {result} {stderr}"

    if expected is None:
        assert not target.exists()
        with pytest.raises(FileNotFoundError):
            textzoo.load(target)
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _check_complete(target, expected)  # load() restores a hidden previous version
        restored = [w for w in caught if "Restored the previous version" in str(w.message)]
        assert bool(restored) == (step == "old-moved")
    # The next save cleans up after the killed one, and leaves nothing stale.
    textzoo.save_pretrained(replacement, target, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_the_next_write_restores_a_directory_hidden_by_a_killed_overwrite(tmp_path):
    target = tmp_path / "m"
    with _files.atomic_directory(target) as tmp:
        (tmp / "content.txt").write_text("old")
    proc = _writer(target, "new", "overwrite", "no-renameat2", "kill=old-moved")
    assert proc.wait(timeout=60) == 17
    assert not target.exists()
    assert len([n for n in _leftovers(tmp_path) if n.startswith(".old-")]) == 1
    with pytest.warns(RuntimeWarning, match="interrupted.*Restored the previous version"):
        with pytest.raises(FileExistsError, match="already exists"):
            with _files.atomic_directory(target) as tmp:
                pass
    assert (target / "content.txt").read_text() == "old"
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
def test_random_sigkills_while_saving_leave_a_complete_model(tmp_path, old_model_dir, replacement):
    """Processes that save OLD and NEW in turn (overwrite=True) are killed at random."""
    rng = random.Random(13)
    cases = [[], ["--no-renameat2"], []]

    def run(index):
        target = tmp_path / f"{index}" / "m"
        shutil.copytree(old_model_dir, target)
        proc = subprocess.Popen(
            [sys.executable, str(FAULT_SAVE), str(target), "--labels", ",".join(OLD)]
            + ["--loop", ",".join(NEW), *cases[index]],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=_env(),
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 1.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        return target

    with ThreadPoolExecutor(3) as pool:
        targets = list(pool.map(run, range(len(cases))))
    for target in targets:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a restore may be reported
            labels = textzoo.load(target).labels
        assert labels in (OLD, NEW)
        _check_complete(target, labels)
        textzoo.save_pretrained(replacement, target, overwrite=True)
        assert sorted(p.name for p in target.parent.iterdir()) == ["m"]


# --- stale temporary files --------------------------------------------------------------------


def test_stale_temporaries_are_removed_and_live_ones_kept(tmp_path):
    target = tmp_path / "m"
    # A killed directory write and a killed file write (a checkpoint) leave temporaries
    # (made apart, as each write would clean up after the other, then moved here).
    elsewhere = tmp_path / "elsewhere"
    killed = _writer(elsewhere / "m", "dead", "kill=written")
    assert killed.wait(timeout=60) == 17
    code = _LOAD_FILES + (
        "import sys\n"
        "with _files.atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_bytes(b'half a checkpoint')\n    os._exit(17)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "epoch-1.weights.h5")], env=_env()
    )
    assert proc.returncode == 17
    for leftover in elsewhere.iterdir():
        leftover.rename(tmp_path / leftover.name)
    elsewhere.rmdir()
    dead = _leftovers(tmp_path)
    assert len(dead) == 2 and any(n.endswith("-epoch-1.weights.h5") for n in dead), dead
    # Another host's temporaries (a shared file system) and foreign names are left alone.
    other_host = tmp_path / ".tmp-1-zzzzzz-00000000-m"
    other_host.mkdir()
    (tmp_path / ".tmp-notours").write_text("x")

    # A live writer pauses inside its write while others write beside it.
    live = _writer(target, "live", f"pause={tmp_path / 'go'}")
    deadline = time.monotonic() + 60
    while not (tmp_path / "go.in").exists():
        assert time.monotonic() < deadline and live.poll() is None
        time.sleep(0.01)
    kept = [other_host.name, ".tmp-notours"]
    live_temp = [n for n in _leftovers(tmp_path) if n not in dead + kept]
    assert len(live_temp) == 1
    _files.atomic_write_text(tmp_path / "report.md", "# report\n")
    with _files.atomic_directory(tmp_path / "other") as tmp:
        (tmp / "x").write_text("x")

    left = _leftovers(tmp_path)
    assert not set(dead) & set(left)  # the dead writers' leftovers are gone
    assert set(left) == {live_temp[0], *kept}  # the live writer's is kept
    (tmp_path / "go").touch()
    out, err = live.communicate(timeout=60)
    assert out.strip() == "ok", err
    assert (target / "content.txt").read_text() == "live"
    assert _leftovers(tmp_path) == sorted(kept)


def test_a_failing_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="disk full"):
        with _files.atomic_directory(tmp_path / "m") as tmp:
            (tmp / "x").write_text("x")
            raise RuntimeError("disk full")
    with pytest.raises(RuntimeError, match="disk full"):
        with _files.atomic_path(tmp_path / "f.txt") as tmp:
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_keeps_the_old_directory(tmp_path):
    """A write that runs out of space (RLIMIT_FSIZE in a subprocess) replaces nothing."""
    target = tmp_path / "m"
    with _files.atomic_directory(target) as tmp:
        (tmp / "content.txt").write_text("old")
    code = _LOAD_FILES + textwrap.dedent(
        """
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
        try:
            with _files.atomic_directory(sys.argv[1], overwrite=True) as tmp:
                (tmp / "content.txt").write_bytes(b"n" * 5000)
        except OSError as err:
            print("OSError", err.errno)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(target)], capture_output=True, text=True, env=_env()
    )
    assert proc.stdout.startswith("OSError"), proc.stderr
    assert (target / "content.txt").read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_paths_are_resolved_inside_their_root(tmp_path):
    from tfx_textzoo.errors import UnsafePathError

    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "ok").write_text("x")
    (root / "link").symlink_to(tmp_path)
    assert _files.resolve_inside(root, "sub/ok", "k") == root / "sub" / "ok"
    for bad, why in [
        ("../x", "goes up"),
        ("sub/../../x", "goes up"),
        ("/etc/passwd", "absolute"),
        ("~/x", "absolute"),
        ("link/x", "symbolic link"),
        ("", "not a relative file name"),
        (None, "not a relative file name"),
    ]:
        with pytest.raises(UnsafePathError, match=f"key .*{why}"):
            _files.resolve_inside(root, bad, "key")
    # A Hub cache snapshot links into its repository's blobs/: allowed with within=.
    assert _files.resolve_inside(root, "link/x", "k", within=tmp_path) == root / "link" / "x"
