"""Models the user added: GGUF files kept in ``data_dir/models`` and listed in ``models.json``.

A model is checked before it is copied, hashed while it is copied and moved into place
only when complete, so a full disk or a cut-short copy never leaves a file the engine
would try to load.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from copilot.atomic_write import atomic_write
from copilot.errors import ModelError
from copilot.model.files import ModelInfo, bundled_model_path, inspect_model
from copilot.settings import Settings, update_settings

log = logging.getLogger(__name__)

INDEX_FILE = "models.json"
CHUNK_BYTES = 4 * 1024 * 1024
# Generative architectures of the pinned llama.cpp build the engine can chat with;
# encoder-only ones (bert, t5encoder, ...) load but cannot write a reply.
SUPPORTED_ARCHITECTURES = frozenset(
    {
        "arcee", "bloom", "chatglm", "cohere2", "command-r", "deepseek", "deepseek2",
        "ernie4_5", "exaone", "exaone4", "falcon", "falcon-h1", "gemma", "gemma2", "gemma3",
        "gemma3n", "glm4", "gpt-oss", "gpt2", "granite", "granitemoe", "hunyuan-moe",
        "internlm2", "llama", "llama4", "minicpm", "minicpm3", "mistral3", "olmo", "olmo2",
        "olmoe", "phi2", "phi3", "phimoe", "qwen2", "qwen2moe", "qwen3", "qwen3moe",
        "smollm3", "stablelm", "starcoder2",
    }
)  # fmt: skip

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ModelEntry:
    """One model the copilot can use, as the CLI and the window list it."""

    name: str
    file: Path
    size_bytes: int
    quantisation: str
    architecture: str
    sha256: str = ""
    added_at: str = ""
    origin: str = "added"  # "bundled", "added", "linked" or "configured" (a path in settings)
    active: bool = False
    present: bool = True

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "file": str(self.file)}


def models_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "models"


def check_model(path: Path) -> ModelInfo:
    """The header of ``path``, refused unless the engine can chat with it."""
    info = inspect_model(path)
    if info.architecture not in SUPPORTED_ARCHITECTURES:
        raise ModelError(
            f"The model {path} has the architecture '{info.architecture}', which this copilot "
            "cannot chat with. Choose an instruct/chat GGUF of a supported family "
            "(for example llama, qwen2, qwen3, gemma, phi3 or mistral3)."
        )
    if not info.has_chat_template:
        raise ModelError(
            f"The model {path} has no chat template, so the copilot cannot tell it who says "
            "what. Choose the instruct/chat version of this model."
        )
    return info


def add_model(
    settings: Settings, source: Path, *, link: bool = False, progress: Progress | None = None
) -> ModelEntry:
    """Check ``source``, copy (or link) it into the models folder and record it.

    ``progress(done, total)`` may raise (``Cancelled``) to stop: nothing is left behind.
    """
    source = Path(source).expanduser()
    info = check_model(source)
    folder = models_dir(settings)
    target = folder / source.name
    entries = _read_index(folder)
    if target.name in {e["file"] for e in entries} or os.path.lexists(target):
        raise ModelError(
            f"A model file named {target.name} is already in {folder}. "
            "Use it with 'agent-copilot model use', or rename the new file and add it again."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"The models folder {folder} cannot be created ({exc.strerror}).") from exc
    if link:
        digest = _hash_file(source, info.size_bytes, progress)
        _place_link(source.resolve(), target)
    else:
        _check_free_space(folder, info.size_bytes)
        digest = _copy_hashed(source, target, info.size_bytes, progress)
    entry = _entry(
        target,
        info,
        origin="linked" if link else "added",
        sha256=digest,
        added_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    record = {k: v for k, v in entry.to_json().items() if k not in {"active", "present"}}
    record["file"] = target.name
    try:
        _write_index(folder, [*entries, record])
    except ModelError:
        target.unlink(missing_ok=True)
        raise
    log.info("added model %s (%s, %s)", entry.name, entry.quantisation, entry.architecture)
    return entry


def list_models(settings: Settings) -> list[ModelEntry]:
    """The bundled model, the added ones and a configured path outside both; one is active."""
    active = _resolved(settings.model_path) if settings.model_path else None
    entries: list[ModelEntry] = []
    bundled = bundled_model_path()
    if bundled is not None:
        entries.append(_from_file(bundled, "bundled", active is None))
    folder = models_dir(settings)
    for record in _read_index(folder):
        file = folder / str(record["file"])
        entries.append(
            ModelEntry(
                name=str(record["name"]),
                file=file,
                size_bytes=int(record.get("size_bytes", 0)),
                quantisation=str(record.get("quantisation", "unknown")),
                architecture=str(record.get("architecture", "unknown")),
                sha256=str(record.get("sha256", "")),
                added_at=str(record.get("added_at", "")),
                origin=str(record.get("origin", "added")),
                active=active is not None and _resolved(file) == active,
                present=file.exists(),
            )
        )
    if active is not None and not any(e.active for e in entries):
        entries.append(_from_file(Path(str(settings.model_path)), "configured", True))
    return entries


def find_model(settings: Settings, name: str) -> ModelEntry:
    entries = list_models(settings)
    for entry in entries:
        if name in {entry.name, entry.file.name}:
            return entry
    known = ", ".join(e.name for e in entries) or "none"
    raise ModelError(
        f"There is no model named '{name}' (known: {known}). "
        "Add one with 'agent-copilot model add FILE.gguf'."
    )


def use_model(settings: Settings, name: str) -> ModelEntry:
    """Make ``name`` the model the copilot loads; the bundled one clears ``model_path``."""
    entry = find_model(settings, name)
    check_model(entry.file)
    update_settings(model_path=None if entry.origin == "bundled" else entry.file)
    return entry


# -- files ---------------------------------------------------------------------------------


def _from_file(path: Path, origin: str, active: bool) -> ModelEntry:
    try:
        info = inspect_model(path)
    except ModelError:
        return ModelEntry(
            name=path.stem,
            file=path,
            size_bytes=0,
            quantisation="unknown",
            architecture="unknown",
            origin=origin,
            active=active,
            present=path.exists(),
        )
    return _entry(path, info, origin=origin, active=active)


def _entry(path: Path, info: ModelInfo, **known: Any) -> ModelEntry:
    """The entry for a checked model file; ``known`` adds what the header does not hold."""
    return ModelEntry(
        name=path.stem,
        file=path,
        size_bytes=info.size_bytes,
        quantisation=info.quantisation,
        architecture=info.architecture,
        **known,
    )


def _resolved(path: Path | str) -> Path:
    return Path(path).expanduser().resolve()


def _disk_error(target: Path, exc: OSError) -> ModelError:
    if exc.errno == errno.ENOSPC:
        return ModelError(
            f"The disk holding {target.parent} is full, so the model was not added (nothing "
            "was left behind). Free some space, or add it with --link to use the file where "
            "it is."
        )
    return ModelError(
        f"The model could not be written to {target} ({exc.strerror or exc}); nothing was "
        "left behind. Check the folder's permissions and free space, then try again."
    )


def _check_free_space(folder: Path, size: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < size:
        raise ModelError(
            f"The model needs {size / 1e9:.2f} GB but only {free / 1e9:.2f} GB are free in "
            f"{folder}. Free some space, or add it with --link to use the file where it is."
        )


def _copy_hashed(source: Path, target: Path, size: int, progress: Progress | None) -> str:
    """Copy and hash in one pass; the file appears under its name only when complete."""
    digest = hashlib.sha256()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    done = 0
    try:
        with source.open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(CHUNK_BYTES):
                digest.update(chunk)
                dst.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, size)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _disk_error(target, exc) from exc
    except BaseException:  # stopped by ``progress`` (Cancelled) or Ctrl+C: no partial file
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _hash_file(path: Path, size: int, progress: Progress | None) -> str:
    digest, done = hashlib.sha256(), 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, size)
    except OSError as exc:
        raise ModelError(f"The model file {path} cannot be read ({exc.strerror}).") from exc
    return digest.hexdigest()


def _place_link(source: Path, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.link")
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(
            f"A link to {source} could not be made in {target.parent} ({exc.strerror}). "
            "Add the model without --link to copy it instead."
        ) from exc


def _read_index(folder: Path) -> list[dict[str, Any]]:
    path = folder / INDEX_FILE
    if not path.is_file():
        return []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(
            f"The list of added models {path} cannot be read ({exc}). "
            "Fix or delete it, then add the models again."
        ) from exc
    models = raw.get("models") if isinstance(raw, dict) else None
    if not isinstance(models, list) or not all(
        isinstance(m, dict) and "name" in m and "file" in m for m in models
    ):
        raise ModelError(f"The list of added models {path} is damaged. Fix or delete it.")
    return models


def _write_index(folder: Path, models: list[dict[str, Any]]) -> None:
    path = folder / INDEX_FILE
    try:
        atomic_write(path, json.dumps({"models": models}, indent=2).encode("utf-8"))
    except OSError as exc:
        raise _disk_error(path, exc) from exc
