"""The offline bundle's lock, its manifest writer and install.sh's refusals (no build)."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = ROOT / "installers" / "offline"
LOCK = OFFLINE / "requirements.lock"


def _lock_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name] = version
    return pins


def test_lock_pins_every_dependency_at_the_pyproject_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = _lock_pins()
    for requirement in project["dependencies"]:
        name, version = requirement.split("==")
        assert pins.get(name.lower()) == version, f"{name} differs from the lock"
    versions = (ROOT / "installers" / "versions.sh").read_text()
    model = next(line for line in versions.splitlines() if line.startswith("MODEL_PACKAGE="))
    name, version = model.split("=", 1)[1].strip('"').split("==")
    assert pins[name] == version


def test_lock_is_what_the_tested_environment_has() -> None:
    """The suite runs on exactly the packages the bundle ships (setup.sh installs with it)."""
    proc = subprocess.run(
        [sys.executable, str(OFFLINE / "lock.py"), "--check"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _wheel(folder: Path, name: str, version: str, body: bytes) -> str:
    path = folder / f"{name}-{version}-py3-none-any.whl"
    path.write_bytes(body)
    return hashlib.sha256(body).hexdigest()


def _manifest(bundle: Path, lock: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, str(OFFLINE / "manifest.py"), str(bundle), str(lock),
            "--app-version", "9.9", "--python", "3.11", "--machine", "x86_64",
            "--cmake-args=-DGGML_NATIVE=OFF",
        ],
        capture_output=True,
        text=True,
    )  # fmt: skip


def test_manifest_hashes_exactly_the_locked_wheels(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    lock = tmp_path / "lock"
    lock.write_text("# header\nfoo-bar==1.0\nnative==3.0\nnewer==1.0\nmodel==2.0  # no-deps\n")
    foo = _wheel(wheels, "foo_bar", "1.0", b"foo")
    # a compiled wheel: runs with the oldest of its tags' C libraries
    (wheels / "native-3.0-cp311-cp311-manylinux_2_28_x86_64.manylinux_2_17_x86_64.whl").write_bytes(
        b"c"
    )
    (wheels / "newer-1.0-cp311-abi3-manylinux_2_24_x86_64.whl").write_bytes(b"d")
    _wheel(wheels, "agent_copilot", "9.9", b"app")

    missing = _manifest(tmp_path, lock)
    assert missing.returncode == 1 and "no wheel for model==2.0" in missing.stderr

    _wheel(wheels, "model", "2.0", b"model")
    _wheel(wheels, "stray", "0.1", b"stray")
    stray = _manifest(tmp_path, lock)
    assert stray.returncode == 1 and "stray-0.1-py3-none-any.whl is not in the lock" in stray.stderr

    (wheels / "stray-0.1-py3-none-any.whl").unlink()
    (wheels / "model-2.0-py3-none-any.whl").rename(wheels / "model-2.1-py3-none-any.whl")
    wrong = _manifest(tmp_path, lock)
    assert wrong.returncode == 1 and "not the locked version 2.0" in wrong.stderr

    (wheels / "model-2.1-py3-none-any.whl").rename(wheels / "model-2.0-py3-none-any.whl")
    ok = _manifest(tmp_path, lock)
    assert ok.returncode == 0, ok.stderr
    lines = (tmp_path / "requirements.txt").read_text().splitlines()
    assert f"foo-bar==1.0 --hash=sha256:{foo}" in lines
    assert sum("--hash=sha256:" in line for line in lines) == 5
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["python"] == "3.11" and manifest["app_version"] == "9.9"
    assert manifest["bytes"] == len(b"foo") + len(b"app") + len(b"model") + 2
    assert manifest["glibc"] == "2.24"


def _fake_bundle(folder: Path, python: str, machine: str) -> Path:
    folder.mkdir()
    (folder / "wheels").mkdir()
    (folder / "requirements.txt").write_text("")
    manifest = {"app_version": "9.9", "python": python, "machine": machine, "wheels": []}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="install.sh is for Linux")
def test_install_refuses_another_python_clearly_and_touches_nothing(tmp_path: Path) -> None:
    bundle = _fake_bundle(tmp_path / "b", "2.7", platform.machine())
    (bundle / "install.sh").symlink_to(OFFLINE / "install.sh")
    proc = subprocess.run(
        ["bash", str(bundle / "install.sh"), "--prefix", str(tmp_path / "opt"), "--no-desktop"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert proc.returncode == 1
    assert "Python 2.7 is needed" in proc.stderr or "built for Python 2.7" in proc.stderr
    assert not (tmp_path / "opt").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="install.sh is for Linux")
def test_install_refuses_another_processor_and_an_incomplete_folder(tmp_path: Path) -> None:
    bundle = _fake_bundle(tmp_path / "b", "3.11", "riscv128")
    (bundle / "install.sh").symlink_to(OFFLINE / "install.sh")
    run = ["bash", str(bundle / "install.sh"), "--prefix", str(tmp_path / "opt")]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(run, capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "built for riscv128 processors" in proc.stderr

    (bundle / "manifest.json").unlink()
    proc = subprocess.run(run, capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "not a complete offline bundle" in proc.stderr
    assert not (tmp_path / "opt").exists()
