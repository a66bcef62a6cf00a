"""Install the example plugin package and use its models like any other zoo model.

``docs/recipes/plugin_example/`` is a complete plugin package: a family builder, a
catalog TOML and the ``tfx_textzoo.models`` entry point that connects them. This script
installs it into a temporary directory (``pip install --target``), then, in a fresh
Python process with that directory on ``PYTHONPATH``, checks that ``list_models()``
shows its models and that ``textzoo.load("boe-small", ...)`` builds, trains and predicts.

Usage::

    python docs/recipes/plugin_try.py            # fine-tunes boe-small on the AG News sample
    python docs/recipes/plugin_try.py --smoke    # 160 texts, one epoch

For real use, install the package normally: ``pip install docs/recipes/plugin_example``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent / "plugin_example"

CHECK = """
import sys
import tfx_textzoo as textzoo

smoke = sys.argv[1] == "1"
assert {"boe-small", "boe-base"} <= set(textzoo.list_models()), textzoo.list_models("boe*")
print(textzoo.get_model_info("boe-small"))

model = textzoo.load("boe-small", num_classes=2)  # what the entry point made possible
from tfx_textzoo.families.base import ZooClassifier
assert isinstance(model, ZooClassifier)  # the family contract the core reads
assert [len(group) for group in model.layer_groups()] == [1, 4]  # embeddings, top
model.preprocessor.adapt(["a good film", "a bad film"])
assert model.predict(["a good film"], verbose=0).shape == (1, 2)

train, test = textzoo.datasets.load("ag_news-sample", split=["train", "test"])
if smoke:
    train, test = train[:160], test[:64]
model = textzoo.load("boe-small", labels=train.label_names)
textzoo.finetune(model, train, epochs=1 if smoke else None, seed=0, verbose=0)
report = textzoo.evaluate(model, test, verbose=0)
assert 0.0 <= report.accuracy <= 1.0
print(textzoo.predict(model, ["Stocks rallied on Friday", "The team won the final"]))
print(f"boe-small accuracy {report.accuracy:.4f}")
"""


def main(argv: list[str] | None = None) -> None:
    """Install the plugin into a temporary directory and run the check with it."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "src"  # build from a copy: pip leaves build/ and *.egg-info
        shutil.copytree(PACKAGE, source)
        target = Path(tmp) / "site"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
             "--no-build-isolation", "--target", str(target), str(source)],
            check=True,
        )  # fmt: skip
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), *sys.path[1:]])}
        subprocess.run(
            [sys.executable, "-c", CHECK, "1" if args.smoke else "0"], env=env, check=True
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=os.environ.get("TEXTZOO_SMOKE") == "1",
        help="160 texts, one epoch (also TEXTZOO_SMOKE=1)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
