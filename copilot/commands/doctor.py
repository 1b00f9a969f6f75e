"""``agent-copilot doctor``: one screen that says what state this machine is in, and what to fix.

Fast and harmless on purpose: it loads no model, imports no chromadb, creates no history
store and asks for no passphrase, so IT can run it on any desk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot import __version__
from copilot.errors import CopilotError
from copilot.settings import Settings, settings_file

if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.runtime import Runtime

PORT_ENV = "AGENT_COPILOT_API_PORT"
DEFAULT_PORT = 8765
_PLAIN_SQLITE = b"SQLite format 3\x00"


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    section: str
    status: Status
    detail: str
    hint: str = ""


def register(sub: Subcommands) -> None:
    p = sub.add_parser("doctor", help="check this machine: model, llama.cpp, stores, keyring")
    p.add_argument("--json", action="store_true", help="print machine-readable checks")
    p.set_defaults(run=run_doctor)


def run_doctor(args: argparse.Namespace, runtime: Runtime) -> int:
    problems = [p.user_message for p in runtime.problems]
    checks = run_checks(runtime.settings, problems)
    if args.json:
        print(json.dumps(report(checks), indent=2))
    else:
        print(render(checks))
    return 1 if any(c.status is Status.FAIL for c in checks) else 0


def run_checks(settings: Settings, problems: Sequence[str] = ()) -> list[Check]:
    """Every check; one that crashes becomes a failed check, never a doctor that crashes."""
    checks: list[Check] = []
    steps: list[tuple[str, Callable[[], list[Check]]]] = [
        ("copilot", lambda: _copilot(problems)),
        ("llama.cpp", lambda: _llama(settings)),
        ("model", lambda: _model(settings)),
        ("keyring", _keyring),
        ("history", lambda: _history(settings)),
        ("knowledge", lambda: _knowledge(settings)),
        ("profiles", lambda: _profiles(settings)),
        ("approved replies", lambda: _approved_replies(settings)),
        ("analytics", lambda: _analytics(settings)),
        ("network", lambda: _network(settings)),
    ]
    for section, step in steps:
        try:
            checks += step()
        except Exception as exc:  # noqa: BLE001 - the doctor must report, not crash
            checks.append(
                Check(
                    section,
                    Status.FAIL,
                    f"the check failed: {exc!r}",
                    "Run with -v and report this to IT.",
                )
            )
    return checks


def report(checks: Sequence[Check]) -> dict[str, Any]:
    counts = {s.value: sum(c.status is s for c in checks) for s in Status}
    return {
        "ok": counts["fail"] == 0,
        "counts": counts,
        "checks": [{**asdict(c), "status": c.status.value} for c in checks],
    }


def render(checks: Sequence[Check]) -> str:
    lines = [f"agent-copilot doctor ({__version__})"]
    for check in checks:
        lines.append(f"  {check.status.value:5} {check.section:17} {check.detail}")
        if check.hint:
            lines.append(f"  {'':5} {'':17} → {check.hint}")
    counts = report(checks)["counts"]
    lines.append(f"{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failed")
    return "\n".join(lines)


# -- the checks -----------------------------------------------------------------------------


def _copilot(problems: Sequence[str]) -> list[Check]:
    python = f"Python {platform.python_version()} ({sys.executable})"
    checks = [Check("copilot", Status.OK, f"agent-copilot {__version__}, {python}")]
    source = settings_file() if settings_file().is_file() else "defaults (no settings file)"
    if problems:
        checks.append(
            Check("settings", Status.WARN, f"{source}: {len(problems)} problem(s)", problems[0])
        )
    else:
        checks.append(Check("settings", Status.OK, f"{source}"))
    return checks


def _import_llama() -> Any:
    import llama_cpp

    return llama_cpp


def _llama(settings: Settings) -> list[Check]:
    try:
        llama_cpp = _import_llama()
    except (ImportError, OSError, RuntimeError) as exc:
        # A GPU build whose runtime libraries are missing fails here, naming the library.
        missing = re.search(r"([\w.+-]+\.(?:so[.\d]*|dll|dylib)): cannot open", str(exc))
        hint = (
            f"{missing[1]} is missing: install the GPU runtime libraries this llama.cpp build "
            "needs (docs/gpu.md), or install a CPU build."
            if missing
            else "Reinstall the copilot (installers/setup.sh, or the offline bundle's install.sh)."
        )
        return [Check("llama.cpp", Status.FAIL, f"llama.cpp cannot be loaded ({exc})", hint)]
    info = llama_cpp.llama_print_system_info().decode("utf-8", errors="replace")
    backends = sorted(set(re.findall(r"(\w+) : ", info)) | _backend_libraries(llama_cpp))
    gpu = bool(llama_cpp.llama_supports_gpu_offload())
    checks = [
        Check(
            "llama.cpp",
            Status.OK,
            f"llama-cpp-python {llama_cpp.__version__}, "
            f"backends: {', '.join(backends) or 'none'}; {info.strip(' |')}",
        ),
        _gpu_layers(settings.n_gpu_layers, gpu),
    ]
    return checks


def _backend_libraries(module: Any) -> set[str]:
    """Backend libraries shipped with the build (libggml-cuda.so, ggml-vulkan.dll, ...)."""
    lib = Path(module.__file__).parent / "lib"
    names = {p.name.split(".")[0].removeprefix("lib") for p in lib.glob("*ggml-*")}
    return {n.removeprefix("ggml-").upper() for n in names if n not in {"ggml-base"}}


def _gpu_layers(setting: int | str, gpu: bool) -> Check:
    offload = "GPU offload available" if gpu else "no GPU offload in this build (CPU only)"
    if setting == "auto":
        where = "all layers on the GPU" if gpu else "CPU"
        return Check("gpu", Status.OK, f"{offload}; n_gpu_layers=auto → {where}")
    if setting != 0 and not gpu:
        return Check(
            "gpu",
            Status.WARN,
            f"{offload}; n_gpu_layers={setting} is ignored",
            "Set n_gpu_layers to auto or 0, or install a GPU build of llama.cpp.",
        )
    return Check("gpu", Status.OK, f"{offload}; n_gpu_layers={setting}")


def _model(settings: Settings) -> list[Check]:
    from copilot.model.files import inspect_model, resolve_model_path

    hint = "List the models with 'agent-copilot model list', choose one with 'model use NAME'."
    try:
        info = inspect_model(resolve_model_path(settings.model_path))
    except CopilotError as exc:
        return [Check("model", Status.FAIL, exc.user_message, hint)]
    origin = "configured" if settings.model_path else "bundled"
    detail = (
        f"{info.path} ({origin}, {info.size_bytes / 1e6:.0f} MB, {info.quantisation}, "
        f"{info.architecture}); n_ctx={settings.n_ctx}"
    )
    if not info.has_chat_template:
        return [
            Check(
                "model",
                Status.WARN,
                detail + "; no chat template",
                "Use the instruct/chat version of this model.",
            )
        ]
    return [Check("model", Status.OK, detail)]


def _keyring() -> list[Check]:
    from copilot.os_keyring import usable_backend

    backend, text = usable_backend()
    if backend is None:
        return [
            Check(
                "keyring",
                Status.WARN,
                f"no usable keyring: {text}",
                "The history store will ask for a passphrase instead.",
            )
        ]
    return [Check("keyring", Status.OK, f"{text} (holds the history key)")]


def _history(settings: Settings) -> list[Check]:
    from copilot.history.service import history_dir
    from copilot.os_keyring import usable_backend

    folder = history_dir(settings)
    db = folder / "history.db"
    if not db.is_file() or db.stat().st_size == 0:
        return [Check("history", Status.OK, f"no store yet in {folder} (made on first use)")]
    with db.open("rb") as handle:
        if handle.read(len(_PLAIN_SQLITE)) == _PLAIN_SQLITE:
            return [
                Check(
                    "history",
                    Status.FAIL,
                    f"{db} is NOT encrypted",
                    "Move the file aside and import the history again.",
                )
            ]
    mode = _history_key_mode(folder / "history.json")
    detail = f"{db} ({db.stat().st_size / 1e6:.1f} MB), encrypted (SQLCipher, AES-256)"
    if mode == "passphrase":
        return [Check("history", Status.OK, detail + ", key: a passphrase the user types")]
    if usable_backend()[0] is None:
        return [
            Check(
                "history",
                Status.FAIL,
                detail + ", key: in an OS keyring not usable now",
                "Restore access to the OS keyring; the history cannot be opened.",
            )
        ]
    return [Check("history", Status.OK, detail + ", key: OS keyring")]


def _history_key_mode(meta: Path) -> str:
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(data.get("key", "")) if isinstance(data, dict) else ""


def _knowledge(settings: Settings) -> list[Check]:
    if settings.kb_server:
        return [
            Check(
                "knowledge",
                Status.OK,
                f"shared server {settings.kb_server}, "
                f"collection {settings.kb_collection} (not contacted by doctor)",
            )
        ]
    folder = Path(settings.data_dir) / "knowledge" / "chroma"
    state = "present" if folder.is_dir() else "not created yet (made on first use)"
    return [Check("knowledge", Status.OK, f"embedded in {folder}: {state}")]


def _profiles(settings: Settings) -> list[Check]:
    from copilot.profiles.library import ProfileLibrary

    try:
        library = ProfileLibrary.open(settings)
    except CopilotError as exc:
        return [Check("profiles", Status.FAIL, exc.user_message)]
    profiles = library.load()
    count = f"{len(profiles.profiles)} profiles in {library.folder}"
    if profiles.errors:
        return [
            Check(
                "profiles",
                Status.FAIL,
                f"{count}; {len(profiles.errors)} problem(s)",
                profiles.errors[0].user_message,
            )
        ]
    if library.manifest() is None:
        return [
            Check(
                "profiles",
                Status.WARN,
                f"{count}; no manifest (unpublished folder)",
                "A supervisor can publish them with 'agent-copilot profiles import'.",
            )
        ]
    return [
        Check(
            "profiles",
            Status.OK,
            f"{count}; manifest verified, pack version {library.pack_version}",
        )
    ]


def _approved_replies(settings: Settings) -> list[Check]:
    from copilot.macros.library import FILE_NAME

    return [_data_file("approved replies", Path(settings.data_dir) / FILE_NAME, is_json=True)]


def _analytics(settings: Settings) -> list[Check]:
    return [_data_file("analytics", Path(settings.data_dir) / "analytics.sqlite3")]


def _data_file(section: str, path: Path, *, is_json: bool = False) -> Check:
    if not path.is_file():
        return Check(section, Status.OK, f"{path}: not created yet")
    if is_json:
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return Check(
                section,
                Status.FAIL,
                f"{path} cannot be read ({exc})",
                "Restore it from a backup or move it aside.",
            )
    return Check(section, Status.OK, f"{path} ({path.stat().st_size / 1e3:.0f} kB)")


def _network(settings: Settings) -> list[Check]:
    raw = os.environ.get(PORT_ENV, "").strip()
    if raw and not (raw.isdigit() and int(raw) <= 65535):
        return [
            Check(
                "network",
                Status.FAIL,
                f"{PORT_ENV}={raw!r} is not a port",
                f"Set {PORT_ENV} to a number from 0 to 65535, or unset it.",
            )
        ]
    port = int(raw) if raw else DEFAULT_PORT
    shown = "any free port" if port == 0 else f"port {port}"
    checks = [
        Check(
            "network",
            Status.OK,
            f"API on loopback only (127.0.0.1, {shown}); no outbound connections",
        )
    ]
    if settings.kb_server:
        checks.append(
            Check(
                "network",
                Status.WARN,
                f"the knowledge base is on {settings.kb_server}",
                "Searches leave this machine; clear kb_server to keep it local.",
            )
        )
    return checks
