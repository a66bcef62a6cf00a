#!/usr/bin/env bash
# Create benchmarks/peers/.venv for the peer (non-Keras) throughput benchmarks.
#
# Idempotent: if the venv already exists and torch/transformers/accelerate import, it is left as is.
# A venv that exists but is broken is recreated. Override the base interpreter with PYTHON=...
#
# Usage (from anywhere):  bash benchmarks/peers/make_venv.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${HERE}/.venv"
PYTHON="${PYTHON:-python3}"
CHECK='import torch, transformers, accelerate; print("torch", torch.__version__, "| transformers", transformers.__version__, "| accelerate", accelerate.__version__)'

if [[ -x "${VENV}/bin/python" ]] && "${VENV}/bin/python" -c "${CHECK}" 2>/dev/null; then
    echo "peers venv already usable: ${VENV}"
    exit 0
fi

if [[ -d "${VENV}" ]]; then
    echo "peers venv at ${VENV} is incomplete; recreating"
    rm -rf "${VENV}"
fi

"${PYTHON}" -m venv "${VENV}"
"${VENV}/bin/python" -m pip install -r "${HERE}/requirements.txt"
"${VENV}/bin/python" -c "${CHECK}"
echo "peers venv ready: ${VENV}"
