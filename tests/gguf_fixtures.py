"""Tiny but complete GGUF files for tests of model checks, the model store and the window."""

from __future__ import annotations

import os
import struct
from pathlib import Path


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _kv_string(key: str, value: str) -> bytes:
    return _string(key) + struct.pack("<I", 8) + _string(value)


def write_gguf(
    path: Path,
    *,
    architecture: str = "qwen2",
    template: str | None = "{{ messages }}",
    file_type: int = 15,
    data_bytes: int = 4096,
) -> Path:
    """A GGUF v3 that inspect_model accepts: the header, one tensor and its data."""
    kvs = [_kv_string("general.architecture", architecture)]
    kvs.append(_string("general.file_type") + struct.pack("<II", 4, file_type))
    if template is not None:
        kvs.append(_kv_string("tokenizer.chat_template", template))
    header = b"GGUF" + struct.pack("<IQQ", 3, 1, len(kvs)) + b"".join(kvs)
    header += _string("w") + struct.pack("<IQIQ", 1, data_bytes, 0, 0)
    header += b"\0" * (-len(header) % 32)
    path.write_bytes(header + os.urandom(data_bytes))
    return path
