"""Start-up cost and noise: ``import tfx_textzoo`` and the catalog commands import no
TensorFlow, and no command prints TensorFlow's C++ start-up lines unless ``--verbose``.

Each check runs in a fresh interpreter (what a user's shell runs). Import checks are
exact; wall-time bounds are generous because CI shares its cores
(``benchmarks/cli_startup.py`` measures the real figures).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest

HEAVY = ("tensorflow", "keras", "keras_hub")
#: A generous bound for a TF-free start on a shared 2-core machine (typically 0.2-0.6 s).
STARTUP_BOUND_S = 3.0
#: TensorFlow / absl / CUDA start-up lines (absl's ``I0000 00:00:... file.cc:NN]`` format).
NOISE = re.compile(
    r"^[IWEF]\d{4} \d\d:\d\d:\d+\.\d+|absl::InitializeLog|cuInit|oneDNN|cuda drivers"
    r"|cpu_feature_guard|rebuild TensorFlow with"
)

_REPORT = "import json, sys; print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"


def _python(code: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )
    return result, time.perf_counter() - started


def _cli(*args: str, heavy_report: bool = True, env=None, timeout: float = 240):
    """Run ``textzoo ARGS`` in a fresh interpreter; report the heavy modules it imported."""
    code = (
        "import sys, json, atexit\n"
        f"atexit.register(lambda: print('MODULES=' + json.dumps(sorted(m for m in {HEAVY!r} "
        "if m in sys.modules)), file=sys.stderr))\n"
        "from tfx_textzoo.cli import main\n"
        f"sys.exit(main({list(args)!r}))\n"
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    seconds = time.perf_counter() - started
    lines = result.stderr.splitlines()
    modules = json.loads(next(line for line in lines if line.startswith("MODULES="))[8:])
    stderr = "\n".join(line for line in lines if not line.startswith("MODULES="))
    return result, stderr, modules, seconds


def test_import_and_list_models_import_no_tensorflow():
    code = (
        "import tfx_textzoo as textzoo\n"
        "names = textzoo.list_models()\n"
        "info = textzoo.get_model_info('small-bert-L4')\n"
        "assert 'scratch-small' in names and info['params'] > 0, info\n"
        "assert 'load' in dir(textzoo) and 'finetune' in textzoo.__all__\n"
        + _REPORT.format(heavy=HEAVY)
    )
    result, seconds = _python(code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []
    assert seconds < STARTUP_BOUND_S, seconds
    assert not NOISE.search(result.stderr), result.stderr


def test_lazy_names_import_tensorflow_on_first_use():
    code = (
        "import tfx_textzoo as textzoo\n"
        "from tfx_textzoo import WeightsNotFoundError, datasets, hub\n"
        "assert 'tensorflow' not in __import__('sys').modules  # these need none\n"
        "from tfx_textzoo import Report\n"
        "load = textzoo.load\n"
        "assert callable(load) and textzoo.finetune and textzoo.saving.save_pretrained\n"
        "import keras\n"
        "assert keras.saving.get_registered_object('tfx_textzoo>ScratchClassifier')\n"
        + _REPORT.format(heavy=HEAVY)
    )
    result, _ = _python(code, timeout=240)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == sorted(HEAVY)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["list"], ["list", "small-bert*", "--json"], ["info", "bert-tiny"]],
    ids=["help", "version", "list", "list-json", "info"],
)
def test_catalog_commands_are_fast_and_import_no_tensorflow(args):
    result, stderr, modules, seconds = _cli(*args)
    assert result.returncode == 0, stderr
    assert modules == [], f"textzoo {' '.join(args)} imported {modules}"
    assert seconds < STARTUP_BOUND_S, seconds
    assert stderr == "", stderr


def test_list_is_in_natural_order_with_catalog_format_names():
    result, stderr, _, _ = _cli("list", "small-bert-L*-H128")
    assert result.returncode == 0, stderr
    names = [line.split()[0] for line in result.stdout.splitlines()[2:]]
    assert names[:2] == ["small-bert-L2-H128", "small-bert-L4-H128"]
    assert names[-1] == "small-bert-L12-H128"
    assert "keras_hub, bert_tf_checkpoint" in result.stdout  # the names `info` shows


def test_commands_that_start_tensorflow_print_none_of_its_lines(tmp_path):
    """`env` starts TensorFlow and enumerates devices (where cuInit logs): nothing shows."""
    result, stderr, modules, _ = _cli("env", "--json")
    assert result.returncode == 0, stderr
    assert "tensorflow" in modules
    assert not NOISE.search(stderr), stderr
    report = json.loads(result.stdout)
    assert report["versions"]["tensorflow"] and report["devices"]["all"]
    assert report["network"]["HF_TOKEN"] in ("set (hidden)", "not set")


def test_train_prints_none_of_tensorflows_lines(tmp_path):
    """The demo's command (it builds, trains and saves a model) shows no start-up lines."""
    result, stderr, modules, _ = _cli(
        "train", "scratch-tiny", "--dataset", "ag_news-sample", "--max-train", "80",
        "--max-eval", "20", "--epochs", "1", "--output", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 0, stderr
    assert "tensorflow" in modules
    assert not NOISE.search(stderr), stderr
    assert "accuracy" in result.stdout


def test_env_never_prints_a_token():
    result, stderr, _, _ = _cli("env", env={"HF_TOKEN": "hf_secret_startup_token"})
    assert result.returncode == 0, stderr
    assert "hf_secret_startup_token" not in result.stdout + stderr
    assert "set (hidden)" in result.stdout


def test_verbose_shows_tensorflow_lines_and_errors_stay_visible(tmp_path):
    result, stderr, _, _ = _cli("--verbose", "env")
    assert result.returncode == 0, stderr
    assert NOISE.search(stderr), "--verbose should let TensorFlow's lines through"
    # An ordinary user error after TensorFlow started: error + hint, nothing else.
    result, stderr, _, _ = _cli("predict", str(tmp_path / "nowhere"), "some text")
    assert result.returncode == 1
    assert stderr.splitlines()[0].startswith("error: ") and "hint: " in stderr, stderr
    assert not NOISE.search(stderr), stderr
