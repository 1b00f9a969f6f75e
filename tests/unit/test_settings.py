import json
from pathlib import Path

import pytest

import copilot.atomic_write
from copilot.errors import SettingsError
from copilot.settings import (
    SCHEMA_VERSION,
    load_settings,
    require_settings,
    settings_file,
    update_settings,
)


def test_defaults_without_a_file():
    settings, problems = load_settings()
    assert problems == []
    assert settings.schema_version == SCHEMA_VERSION
    assert settings.model_path is None
    assert settings.n_gpu_layers == "auto"
    assert settings.active_profile == "friendly"


def test_environment_overrides_the_file(monkeypatch: pytest.MonkeyPatch):
    update_settings(n_threads=3, active_profile="formal")
    monkeypatch.setenv("AGENT_COPILOT_N_THREADS", "1")
    monkeypatch.setenv("AGENT_COPILOT_N_GPU_LAYERS", "0")
    settings, problems = load_settings()
    assert problems == []
    assert settings.n_threads == 1
    assert settings.n_gpu_layers == 0
    assert settings.active_profile == "formal"


def test_bad_environment_value_is_reported_and_ignored(monkeypatch: pytest.MonkeyPatch):
    update_settings(active_profile="concise")
    monkeypatch.setenv("AGENT_COPILOT_N_THREADS", "lots")
    settings, problems = load_settings()
    assert settings.n_threads is None
    assert settings.active_profile == "concise"
    assert len(problems) == 1
    assert "n_threads" in problems[0] and "AGENT_COPILOT_N_THREADS" in problems[0]
    with pytest.raises(SettingsError):
        require_settings()


def test_broken_file_is_reported_and_never_overwritten():
    path = settings_file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    settings, problems = load_settings()
    assert settings.active_profile == "friendly"
    assert str(path) in problems[0]
    update_settings(active_profile="formal")
    kept = list(path.parent.glob("settings.broken-*.json"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "{not json"
    assert json.loads(path.read_text(encoding="utf-8"))["active_profile"] == "formal"


def test_newer_schema_is_refused_with_a_fix():
    path = settings_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}), encoding="utf-8")
    _settings, problems = load_settings()
    assert "newer" in problems[0] and "Update the copilot" in problems[0]


def test_unknown_key_in_file_is_an_error():
    path = settings_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"modle_path": "/x.gguf"}), encoding="utf-8")
    _settings, problems = load_settings()
    assert problems and "modle_path" in problems[0]


def test_update_rejects_invalid_values_and_keeps_file():
    update_settings(n_ctx=2048)
    with pytest.raises(SettingsError, match="n_ctx"):
        update_settings(n_ctx=5)
    assert json.loads(settings_file().read_text())["n_ctx"] == 2048


def test_paths_are_written_as_text(tmp_path: Path):
    update_settings(model_path=tmp_path / "m.gguf")
    settings, _ = load_settings()
    assert settings.model_path == tmp_path / "m.gguf"


def test_a_failed_write_keeps_the_old_file(monkeypatch: pytest.MonkeyPatch):
    update_settings(active_profile="formal")
    original = settings_file().read_text()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(copilot.atomic_write, "write_synced", full_disk)
        with pytest.raises(SettingsError, match="No space left"):
            update_settings(active_profile="concise")
    assert settings_file().read_text() == original
