#!/usr/bin/env bash
# Install the Agent Copilot from this folder. Needs no network: every package is here.
#
#   ./install.sh [--prefix DIR] [--bin-dir DIR] [--desktop-dir DIR | --no-desktop] [--python PY]
#
# As root the defaults are /opt/agent-copilot, /usr/local/bin and /usr/share/applications;
# as a user, ~/.local/share/agent-copilot, ~/.local/bin and ~/.local/share/applications.
# The app goes into a fresh virtual environment under PREFIX/releases/ and PREFIX/current
# is switched to it only once it installed and passed its checks, so a failed or cut-short
# install leaves the previous one working. Customer data is never in PREFIX: it stays in
# the user's data folder (see `agent-copilot doctor`) and survives installs and removal.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "$(id -u)" -eq 0 ]; then
  PREFIX=/opt/agent-copilot BIN_DIR=/usr/local/bin DESKTOP_DIR=/usr/share/applications
else
  data="${XDG_DATA_HOME:-$HOME/.local/share}"
  PREFIX="$data/agent-copilot" BIN_DIR="$HOME/.local/bin" DESKTOP_DIR="$data/applications"
fi
PY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --bin-dir) BIN_DIR="$2"; shift 2 ;;
    --desktop-dir) DESKTOP_DIR="$2"; shift 2 ;;
    --no-desktop) DESKTOP_DIR=""; shift ;;
    --python) PY="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--prefix DIR] [--bin-dir DIR] [--desktop-dir DIR | --no-desktop] [--python PY]" >&2
       exit 2 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\nerror: %s\n' "$*" >&2; exit 1; }

[ -f "$HERE/manifest.json" ] && [ -f "$HERE/requirements.txt" ] && [ -d "$HERE/wheels" ] \
  || die "this folder is not a complete offline bundle (manifest.json, requirements.txt or wheels/ is missing); copy the whole folder again"
manifest() { sed -n "s/^  \"$1\": \"\\(.*\\)\",\$/\\1/p" "$HERE/manifest.json" | head -1; }
want_python="$(manifest python)"
want_machine="$(manifest machine)"
app_version="$(manifest app_version)"
[ -n "$want_python" ] && [ -n "$want_machine" ] \
  || die "manifest.json in this folder is damaged; copy the whole bundle again"

[ "$(uname -s)" = Linux ] || die "this bundle is for Linux; see the README's packaging notes for Windows and macOS"
[ "$(uname -m)" = "$want_machine" ] \
  || die "this bundle was built for $want_machine processors, and this machine is $(uname -m); build the bundle on a $(uname -m) machine"

# Wheels compiled for Linux need at least the C library (glibc) they were built against.
want_glibc="$(manifest glibc)"
have_glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
if [ -n "$want_glibc" ] && [ -n "$have_glibc" ] \
    && [ "$(printf '%s\n%s\n' "$want_glibc" "$have_glibc" | sort -V | head -1)" != "$want_glibc" ]; then
  die "this bundle needs glibc $want_glibc or newer, and this machine has $have_glibc; build the bundle on a machine with the oldest Linux you install on"
fi

# The wheels are for one Python minor version: find it.
if [ -z "$PY" ]; then
  for candidate in "python$want_python" python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi
[ -n "$PY" ] && command -v "$PY" >/dev/null 2>&1 \
  || die "Python $want_python is needed and was not found; install it (Debian/Ubuntu: python$want_python python$want_python-venv) or pass --python /path/to/python$want_python"
have_python="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$have_python" = "$want_python" ] \
  || die "this bundle was built for Python $want_python, and $PY is Python $have_python; pass --python /path/to/python$want_python, or build the bundle with Python $have_python"
"$PY" -c 'import ensurepip, venv' 2>/dev/null \
  || die "$PY cannot create virtual environments; install the python$want_python-venv package"

# Room for the environment: it takes a little over three times the wheels' size.
need_kb=$(( $(du -sk "$HERE/wheels" | cut -f1) * 4 ))
mkdir -p "$PREFIX/releases" || die "cannot create $PREFIX; run as root or pass --prefix DIR you can write to"
PREFIX="$(cd "$PREFIX" && pwd)"  # the launcher and desktop entry need an absolute path
free_kb="$(df -Pk "$PREFIX" | awk 'NR==2 {print $4}')"
[ "$free_kb" -ge "$need_kb" ] \
  || die "not enough disk space in $PREFIX: $((need_kb / 1024)) MB needed, $((free_kb / 1024)) MB free; free some space or pass --prefix on a larger disk"

# pip reads only this folder: no index, and no machine-wide pip settings (mirrors,
# constraints) that were meant for other installs.
export PIP_CONFIG_FILE=/dev/null
if [ -e "$PREFIX/current" ]; then
  kept="nothing was changed, and the copilot installed before still works"
else
  kept="nothing was installed"
fi
release="$PREFIX/releases/$app_version-$(date +%Y%m%d%H%M%S)"
# Until the switch below, a failure removes the half-made environment and nothing else.
cleanup() { if [ -n "$release" ]; then rm -rf "$release"; fi; }
trap cleanup EXIT

say "Creating the environment in $release"
"$PY" -m venv "$release"
say "Installing $(grep -c -- '--hash=' "$HERE/requirements.txt") packages from this folder (no network)"
"$release/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
  --find-links "$HERE/wheels" --no-deps --require-hashes -r "$HERE/requirements.txt" \
  || die "the packages could not be installed (see above); $kept"
# Every package's own needs are met, but for those installed bare on purpose (the model).
bare="$("$release/bin/python" -c 'import json, sys
print("|".join(json.load(open(sys.argv[1]))["without_dependencies"]))' "$HERE/manifest.json")"
unmet="$("$release/bin/python" -m pip check --disable-pip-version-check 2>&1 | grep -v -i -E "^(${bare:-none}) " || true)"
[ -z "$unmet" ] || [ "$unmet" = "No broken requirements found." ] \
  || die "the installed packages do not fit together: $(echo "$unmet" | head -3); $kept"

# llama.cpp was compiled for a processor family (manifest.json: llama_cpp_cmake_args).
# A processor without those instructions stops with SIGILL: say so instead of crashing later.
set +e
"$release/bin/python" -c 'import llama_cpp; llama_cpp.llama_backend_init()' 2>/dev/null
rc=$?
set -e
if [ $rc -eq 132 ]; then
  die "this processor lacks instructions the bundle's llama.cpp was compiled for ($(manifest llama_cpp_cmake_args)); build a bundle with CMAKE_ARGS=\"-DGGML_NATIVE=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF\" for older processors"
elif [ $rc -ne 0 ]; then
  die "llama.cpp does not load on this machine (exit $rc); run $release/bin/python -c 'import llama_cpp' to see why"
fi

say "Switching $PREFIX/current to this install"
ln -sfn "releases/$(basename "$release")" "$PREFIX/current.new"
mv -T "$PREFIX/current.new" "$PREFIX/current"
installed="$release"
release=""
for old in "$PREFIX"/releases/*; do
  [ "$old" = "$installed" ] || rm -rf "$old"
done

mkdir -p "$PREFIX/bin"
cat > "$PREFIX/bin/agent-copilot" <<LAUNCHER
#!/bin/sh
# Agent Copilot launcher (written by install.sh): with no arguments it opens the window.
exec "$PREFIX/current/bin/agent-copilot" "\$@"
LAUNCHER
chmod 755 "$PREFIX/bin/agent-copilot"
if [ -n "$BIN_DIR" ]; then
  mkdir -p "$BIN_DIR"
  BIN_DIR="$(cd "$BIN_DIR" && pwd)"
  ln -sfn "$PREFIX/bin/agent-copilot" "$BIN_DIR/agent-copilot"
fi
# The icon is copied beside the launcher: the release folder it comes from changes with
# every install.
mkdir -p "$PREFIX/share"
icon="$PREFIX/share/agent-copilot.svg"
cp "$("$PREFIX/current/bin/python" -c 'from copilot.paths import resources_dir; print(resources_dir() / "icons" / "copilot.svg")')" "$icon"
if [ -n "$DESKTOP_DIR" ]; then
  mkdir -p "$DESKTOP_DIR"
  DESKTOP_DIR="$(cd "$DESKTOP_DIR" && pwd)"
  cat > "$DESKTOP_DIR/agent-copilot.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=Agent Copilot
Comment=Reply suggestions, knowledge articles and customer history beside your contact tools
Exec="$PREFIX/bin/agent-copilot"
Icon=$icon
Terminal=false
Categories=Office;
DESKTOP
fi
links=""
[ -z "$BIN_DIR" ] || links="$links \"$BIN_DIR/agent-copilot\""
[ -z "$DESKTOP_DIR" ] || links="$links \"$DESKTOP_DIR/agent-copilot.desktop\""
cat > "$PREFIX/uninstall.sh" <<UNINSTALL
#!/bin/sh
# Remove the Agent Copilot program (written by install.sh). Customer data, settings and
# keys stay in each user's data folder and keyring; delete them separately if wanted.
rm -f$links
rm -rf "$PREFIX"
echo "Agent Copilot removed from $PREFIX."
UNINSTALL
chmod 755 "$PREFIX/uninstall.sh"

# The window needs a few system libraries that desktops normally have.
missing=()
LDCONFIG="$(command -v ldconfig || echo /sbin/ldconfig)"
for lib in libxcb-cursor.so.0 libxkbcommon-x11.so.0 libxcb-icccm.so.4 libEGL.so.1 libfontconfig.so.1; do
  "$LDCONFIG" -p 2>/dev/null | grep -q "$lib" || missing+=("$lib")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Note: the window needs these system libraries, not found here: ${missing[*]}"
  echo "  (Debian/Ubuntu packages: libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libegl1 libfontconfig1)." >&2
  echo "  The command line and the local API work without them." >&2
fi

say "Installed Agent Copilot $app_version in $PREFIX"
"$PREFIX/bin/agent-copilot" doctor || true
echo
launcher="${BIN_DIR:+$BIN_DIR/agent-copilot}"
launcher="${launcher:-$PREFIX/bin/agent-copilot}"
echo "Start the window:        $launcher"
echo "Check a real suggestion: $launcher selftest"
echo "Remove the program:      $PREFIX/uninstall.sh"
