"""Write a bundle's ``requirements.txt`` (pinned and hashed) and ``manifest.json``.

    python manifest.py BUNDLE_DIR LOCK --app-version V --python 3.11 --machine x86_64 \
        --cmake-args "..."

Every package in the lock must have exactly one wheel in ``BUNDLE_DIR/wheels`` and no
wheel may be there that the lock does not name, so the bundle installs exactly the lock.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

try:
    from packaging.utils import canonicalize_name, parse_wheel_filename
except ImportError:  # a bare Python: pip carries its own copy
    from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename

APP = "agent-copilot"


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def glibc_needed(wheel_names: list[str]) -> str:
    """The oldest C library every wheel here runs with: a wheel's lowest manylinux tag, or
    this machine's own for a wheel compiled here (tagged plain ``linux``)."""
    needed = (0, 0)
    for name in wheel_names:
        platforms = name[: -len(".whl")].split("-")[-1].split(".")
        floors = []
        for platform in platforms:
            match = re.match(r"manylinux_(\d+)_(\d+)_", platform)
            if match:
                floors.append((int(match[1]), int(match[2])))
            elif platform.split("_")[0] in _LEGACY_MANYLINUX:
                floors.append(_LEGACY_MANYLINUX[platform.split("_")[0]])
            elif platform.startswith("linux_"):
                here = os.confstr("CS_GNU_LIBC_VERSION") or "glibc 0.0"
                major, minor = here.split()[1].split(".")[:2]
                floors.append((int(major), int(minor)))
        if floors:
            needed = max(needed, min(floors))
    return f"{needed[0]}.{needed[1]}"


def read_lock(lock: Path) -> dict[str, tuple[str, bool]]:
    """name -> (version, install without dependencies)."""
    pins: dict[str, tuple[str, bool]] = {}
    for raw in lock.read_text().splitlines():
        line, _, comment = raw.partition("#")
        if not line.strip():
            continue
        name, _, version = line.strip().partition("==")
        pins[canonicalize_name(name)] = (version, "no-deps" in comment)
    return pins


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle", type=Path)
    parser.add_argument("lock", type=Path)
    parser.add_argument("--app-version", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--machine", required=True)
    parser.add_argument("--cmake-args", required=True)
    args = parser.parse_args()

    pins = read_lock(args.lock)
    pins[APP] = (args.app_version, False)
    wheels: dict[str, dict[str, str]] = {}
    problems: list[str] = []
    for path in sorted((args.bundle / "wheels").glob("*.whl")):
        name, version, _build, _tags = parse_wheel_filename(path.name)
        if name in wheels:
            problems.append(f"two wheels for {name}: {wheels[name]['file']} and {path.name}")
            continue
        wanted = pins.get(name)
        if wanted is None:
            problems.append(f"{path.name} is not in the lock")
        elif str(version) != wanted[0]:
            problems.append(f"{path.name} is not the locked version {wanted[0]}")
        wheels[name] = {"file": path.name, "version": str(version), "sha256": sha256(path)}
    problems += [f"no wheel for {name}=={pins[name][0]}" for name in pins if name not in wheels]
    if problems:
        print("error: the bundle does not match the lock:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1

    lines = [
        "# Installed by install.sh with: pip install --no-index --no-deps --require-hashes -r",
        "# Every package is here with its exact version and the sha256 of its wheel.",
    ]
    lines += [
        f"{name}=={info['version']} --hash=sha256:{info['sha256']}"
        for name, info in sorted(wheels.items())
    ]
    (args.bundle / "requirements.txt").write_text("\n".join(lines) + "\n")
    manifest = {
        "app": APP,
        "app_version": args.app_version,
        "python": args.python,
        "platform": "linux",
        "machine": args.machine,
        "glibc": glibc_needed([w["file"] for w in wheels.values()]),
        "llama_cpp_cmake_args": args.cmake_args,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        # installed without their own dependencies on purpose (pip check would name them)
        "without_dependencies": sorted(name for name, (_v, bare) in pins.items() if bare),
        "wheels": [wheels[name] for name in sorted(wheels)],
        "bytes": sum((args.bundle / "wheels" / w["file"]).stat().st_size for w in wheels.values()),
    }
    (args.bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
