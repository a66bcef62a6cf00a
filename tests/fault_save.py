"""Save a tiny real model in a process of its own, to be killed or raced (tests/test_files.py).

    python tests/fault_save.py TARGET --labels a,b [--overwrite] [--kill-at STEP]
        [--no-renameat2] [--barrier DIR --id N] [--loop OTHER_LABELS]

Prints one JSON line: ``{"result": "ok"}`` or ``{"result": "<ErrorType>", "message": ...}``.

* ``--kill-at STEP``: ``os._exit(17)`` at that step of ``_files.atomic_directory`` (its
  ``_fault_hook``: ``temp-created``, ``written``, ``exchanged``, ``old-moved``,
  ``published``) -- a kill at that instant: no ``finally`` runs. ``old-moved`` (the
  instant between the two renames of an overwrite without ``renameat2``) is also caught
  at the ``os.rename`` that would put the new directory in place, so the same test shows
  what code without the hook (before issue 13) leaves there.
* ``--no-renameat2``: behave as on a file system without ``renameat2`` (the lock and
  two-rename fallbacks).
* ``--barrier DIR --id N``: once the model's files are written (after every check, just
  before the publish), wait until two processes got there, so both race the publish.
  It patches ``saving._write_json``, so it also works on code without the fault hook.
* ``--loop OTHER``: print ``ready`` and save with ``overwrite=True`` forever, alternating
  between the ``--labels`` model and an ``OTHER`` one (for random SIGKILLs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("--labels", required=True)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--kill-at")
    parser.add_argument("--no-renameat2", action="store_true")
    parser.add_argument("--barrier")
    parser.add_argument("--id", default="0")
    parser.add_argument("--loop")
    args = parser.parse_args()

    from helpers import tiny_model

    import tfx_textzoo as textzoo
    from tfx_textzoo import saving

    files = sys.modules.get("tfx_textzoo._files")
    if args.kill_at:

        def hook(step: str) -> None:
            if step == args.kill_at:
                os._exit(17)

        files._fault_hook = hook
        if args.kill_at == "old-moved":
            _kill_on_publishing_rename(Path(args.target))
    if args.no_renameat2:
        files._libc_renameat2 = lambda: None
    if args.barrier:
        _install_barrier(saving, Path(args.barrier), args.id)

    labels = args.labels.split(",")
    model = tiny_model("bert-tiny", num_classes=len(labels), labels=labels)
    if args.loop:
        other_labels = args.loop.split(",")
        models = [
            model,
            tiny_model("bert-tiny", num_classes=len(other_labels), labels=other_labels),
        ]
        print("ready", flush=True)
        for i in range(10**9):
            textzoo.save_pretrained(models[i % 2], args.target, overwrite=True)
    try:
        textzoo.save_pretrained(model, args.target, overwrite=args.overwrite)
    except Exception as err:  # noqa: BLE001 - reported to the parent
        print(json.dumps({"result": type(err).__name__, "message": str(err)}), flush=True)
        return
    print(json.dumps({"result": "ok"}), flush=True)


def _kill_on_publishing_rename(target: Path) -> None:
    rename = os.rename

    def rename_or_die(src, dst, *args, **kwargs):
        if Path(dst) == target and not os.path.lexists(target):
            os._exit(17)  # the previous version was moved away, the new one not yet in place
        return rename(src, dst, *args, **kwargs)

    os.rename = rename_or_die


def _install_barrier(saving, barrier: Path, me: str) -> None:
    original = saving._write_json

    def write_then_wait(path, data):
        original(path, data)
        if Path(path).name != saving.TEXTZOO_FILE:
            return
        (barrier / f"ready-{me}").touch()
        deadline = time.monotonic() + 120
        while len(list(barrier.glob("ready-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)

    saving._write_json = write_then_wait


if __name__ == "__main__":
    main()
