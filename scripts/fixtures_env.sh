#!/usr/bin/env bash
# Make the separate environment that scripts/make_hf_fixtures.py runs in.
#
#   bash scripts/fixtures_env.sh && .venv-fixtures/bin/python scripts/make_hf_fixtures.py
#
# torch and transformers are never dependencies of tfx_textzoo or of its default tests;
# they live only in this git-ignored venv (.venv-fixtures/ at the repository root).
# torch is pinned to 2.13.0 and meant to be the CPU build (torch-2.13.0+cpu, a 183 MiB
# wheel) rather than PyPI's default Linux wheel, which pulls about 4.4 GB of CUDA wheels.
# pip takes the +cpu wheel from a local find-links directory where one exists; elsewhere set
# TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu so pip finds it on PyTorch's CPU index.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv-fixtures}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi

EXTRA=()
if [ -n "${TORCH_INDEX_URL:-}" ]; then
    EXTRA=(--extra-index-url "$TORCH_INDEX_URL")
fi

"$VENV/bin/python" -m pip install --quiet "${EXTRA[@]}" \
    "torch==2.13.0" \
    "transformers==4.57.6" \
    "tokenizers==0.22.2" \
    "sentencepiece==0.2.2" \
    "safetensors==0.8.0" \
    "numpy==2.4.6" \
    "protobuf==6.33.6" \
    "huggingface-hub==0.36.0"

"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
for name in ("torch", "transformers", "tokenizers", "sentencepiece", "safetensors",
             "numpy", "protobuf", "huggingface-hub"):
    print(f"{name}=={md.version(name)}")
PY
