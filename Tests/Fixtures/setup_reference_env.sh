#!/usr/bin/env bash
# Idempotent set-up of the Python environment for Tests/Fixtures/make_reference.py.
#   Debian 12: torch/torchvision/numpy come from apt (python3-torch 1.13.1),
#   everything else from PyPI, pinned, installed with --no-deps.
# Usage (as root):  bash Tests/Fixtures/setup_reference_env.sh
# Then:             .venv-reference/bin/python Tests/Fixtures/make_reference.py
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv-reference}"

APT_PKGS="python3-torch python3-torchvision python3-numpy python3-venv python3-yaml python3-requests python3-typing-extensions python3-pil"
missing=""
for p in $APT_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends $missing
fi

# Always Debian's interpreter (a pyenv python3 may come first on PATH).
PY=/usr/bin/python3
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv --system-site-packages "$VENV"
fi
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --no-deps -r "$HERE/requirements-reference.txt"

# Smoke test: torch must be Debian's, and the reference script's imports must work
# (it imports open_flamingo.src.* directly; see _import_libraries() there for why).
"$VENV/bin/python" -c 'import torch; assert torch.__file__.startswith("/usr/lib/python3/dist-packages/"), torch.__file__'
"$VENV/bin/python" "$HERE/make_reference.py" --check-env
