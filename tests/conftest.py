import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# precision="auto" means bfloat16 on CPUs with AVX512_BF16 and float32 elsewhere: the
# suite pins float32 so its exact comparisons mean the same on every CI machine;
# tests/test_precision.py runs the bfloat16 path (and "auto") explicitly.
os.environ.setdefault("TEXTZOO_PRECISION", "float32")

import pytest  # noqa: E402

SHARED = Path(os.environ.get("TEXTZOO_SHARED") or Path(__file__).resolve().parents[2] / "shared")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Tests never touch the network or the user's cache."""
    monkeypatch.setenv("TEXTZOO_HOME", str(tmp_path_factory.mktemp("textzoo_home")))
    monkeypatch.setenv("TEXTZOO_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf_home")))


@pytest.fixture
def shared_dir():
    if not SHARED.is_dir():
        pytest.skip(f"../shared not found at {SHARED} (real data and weights; CI has it)")
    return SHARED
