# The llama-cpp-python wheel, compiled once per CMAKE_ARGS and kept between runs
# (sourced by setup.sh and build-offline-bundle.sh).
#
# pip's own wheel cache does not know about CMAKE_ARGS: it would hand back a build made
# with other options, or one compiled with -march=native for another processor. So the
# wheel is built with pip's cache off and kept in
# ${AGENT_COPILOT_BUILD_CACHE:-~/.cache/agent-copilot-build}/llama-cpp-python/KEY, KEY
# hashing the version, CMAKE_ARGS, Python and architecture.
#
# The default, -DGGML_NATIVE=OFF, runs on any x86-64 processor with AVX2. A native build
# also turns on what the build machine's processor merely advertises: on a Xeon with AMX
# whose kernel or sandbox does not grant AMX tiles, the native build crashed on the first
# prompt (SIGSEGV in ggml_backend_amx_mul_mat), while the portable one runs.

LLAMA_DEFAULT_CMAKE_ARGS="-DGGML_NATIVE=OFF"

# llama_wheel PYTHON CMAKE_ARGS: print the path of the wheel, compiling it first if needed.
llama_wheel() {
  local python="$1" cmake_args="$2"
  local cache="${AGENT_COPILOT_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agent-copilot-build}"
  local pyver tag machine key dir wheel
  pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  tag="cp${pyver/./}"
  machine="$(uname -m)"
  key="$(printf '%s|%s|%s|%s' "$LLAMA_CPP_VERSION" "$cmake_args" "$tag" "$machine" | sha256sum | cut -c1-16)"
  dir="$cache/llama-cpp-python/$key"
  wheel="$(ls "$dir"/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl 2>/dev/null | head -1 || true)"
  if [ -z "$wheel" ]; then
    printf '\033[1m==> %s\033[0m\n' "Compiling llama-cpp-python $LLAMA_CPP_VERSION with CMAKE_ARGS=\"$cmake_args\" (takes minutes)" >&2
    rm -rf "$dir.partial"
    mkdir -p "$dir.partial"
    CMAKE_ARGS="$cmake_args" "$python" -m pip --disable-pip-version-check wheel -q --no-deps \
      --no-cache-dir --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_VERSION" \
      -w "$dir.partial" >&2
    printf '%s\n' "$cmake_args" > "$dir.partial/CMAKE_ARGS"
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
    wheel="$(ls "$dir"/llama_cpp_python-*.whl | head -1)"
  else
    printf '\033[1m==> %s\033[0m\n' "Using the llama-cpp-python wheel built earlier for CMAKE_ARGS=\"$cmake_args\"" >&2
  fi
  printf '%s\n' "$wheel"
}
