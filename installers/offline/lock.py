"""Write the offline bundle's lock: every package the app needs at run time, pinned.

    .venv/bin/python installers/offline/lock.py > installers/offline/requirements.lock

The lock is read off the project's own environment (the one the test suite passes in),
walking the app's declared dependencies and theirs, so the bundle installs exactly what
was tested. ``--check`` exits 1 when the committed lock no longer matches. Extras of the
app (the dev tools) are left out; the model package is added without its dependencies,
as installers/setup.sh installs it.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

APP = "agent-copilot"
HERE = Path(__file__).resolve().parent
LOCK = HERE / "requirements.lock"


def model_package() -> str:
    """The bundled model's pin, from the one place the installers keep it."""
    for line in (HERE.parent / "versions.sh").read_text().splitlines():
        if line.startswith("MODEL_PACKAGE="):
            return line.split("=", 1)[1].strip().strip('"')
    raise SystemExit("installers/versions.sh has no MODEL_PACKAGE line")


def oldest_python() -> str:
    """The lowest Python the app supports (``requires-python``), as x.y.0."""
    project = tomllib.loads((HERE.parent.parent / "pyproject.toml").read_text())["project"]
    return project["requires-python"].removeprefix(">=") + ".0"


def too_new(found: dict[str, str]) -> list[str]:
    """Packages whose own Requires-Python leaves out a Python the app supports."""
    floor = oldest_python()
    refused = []
    for name in sorted(found):
        needs = distribution(name).metadata.get("Requires-Python")
        if needs and not SpecifierSet(needs).contains(floor, prereleases=True):
            refused.append(f"{name}=={found[name]} needs Python {needs}, not {floor}")
    return refused


def closure() -> dict[str, str]:
    """name -> installed version for everything the app needs here, without extras."""
    found: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(APP, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            missing = f"{name} is needed but not installed; run installers/setup.sh"
            raise SystemExit(missing) from None
        if name != APP:
            found[name] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is not None and not any(
                req.marker.evaluate({**default_environment(), "extra": extra})
                for extra in (extras or {""})
            ):
                continue
            todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return found


def render() -> str:
    env = default_environment()
    lines = [
        "# The offline bundle's packages, pinned; written by installers/offline/lock.py.",
        f"# Resolved for Python {env['python_version']} on {env['sys_platform']} "
        f"{env['platform_machine']}; the model package installs without its dependencies.",
    ]
    found = closure()
    refused = too_new(found)
    if refused:
        raise SystemExit(
            "these packages would not install on every supported Python; pin an older "
            "release in pyproject.toml:\n  " + "\n  ".join(refused)
        )
    lines += [f"{name}=={version}" for name, version in sorted(found.items())]
    lines.append(f"{model_package()}  # no-deps")
    return "\n".join(lines) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if LOCK.read_text() != text:
            print("installers/offline/requirements.lock is out of date; rerun lock.py")
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
