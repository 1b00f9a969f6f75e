"""Profile packs: export, checks on reading, the import report, all-or-nothing import, CLI."""

from __future__ import annotations

import argparse
import errno
import json
import os
from pathlib import Path

import pytest

from copilot.commands.profiles import PASSPHRASE_ENV, register, run_profiles
from copilot.errors import CopilotError, ProfileError
from copilot.profiles import library as profile_library
from copilot.profiles import passphrase as supervisor
from copilot.profiles.library import MANIFEST, ProfileLibrary
from copilot.profiles.packs import (
    FORMAT_VERSION,
    PACK_FORMAT,
    PackReport,
    apply_import,
    canonical_hash,
    export_pack,
    plan_import,
    read_pack,
)
from copilot.profiles.passphrase import Backoff, SupervisorLock
from copilot.runtime import Runtime
from copilot.settings import Settings


@pytest.fixture(autouse=True)
def fresh_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "_PROCESS_BACKOFF", Backoff())


@pytest.fixture
def source(tmp_path: Path) -> ProfileLibrary:
    """The supervisor's workstation: its own published folder."""
    return ProfileLibrary.open(Settings(data_dir=tmp_path / "supervisor"))


@pytest.fixture
def target() -> ProfileLibrary:
    """Another workstation: the default folder of this test."""
    return ProfileLibrary.open(Settings())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def change(library: ProfileLibrary, name: str, **changes: object) -> None:
    library.publish(library.load().get(name).model_copy(update=changes))


def rewrite(path: Path, edit, rehash: bool = False) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    edit(raw)
    if rehash:
        raw["sha256"] = canonical_hash(raw["profiles"])
    path.write_text(json.dumps(raw), encoding="utf-8")


def test_export_writes_a_versioned_pack_with_a_content_hash(source: ProfileLibrary, tmp_path):
    change(source, "friendly", max_words=60)
    path = export_pack(source, tmp_path / "team.json", author="Dana")
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["format"] == PACK_FORMAT and raw["format_version"] == FORMAT_VERSION
    assert raw["pack_version"] == 2 and raw["author"] == "Dana" and raw["created_at"]
    assert [p["name"] for p in raw["profiles"]] == sorted(p["name"] for p in raw["profiles"])
    assert raw["sha256"] == canonical_hash(raw["profiles"])
    pack = read_pack(path)
    assert pack.pack_version == 2 and pack.author == "Dana"
    assert {p.name: p for p in pack.profiles} == source.load().profiles


def test_the_hash_does_not_depend_on_order_or_key_order():
    a = [{"name": "b", "x": 1, "y": "ü"}, {"name": "a", "z": 2}]
    b = [{"z": 2, "name": "a"}, {"y": "ü", "x": 1, "name": "b"}]
    assert canonical_hash(a) == canonical_hash(b)


def test_a_pack_changed_after_export_is_refused(source: ProfileLibrary, tmp_path):
    path = export_pack(source, tmp_path / "team.json")
    rewrite(path, lambda raw: raw["profiles"][0].update(max_words=99))
    with pytest.raises(ProfileError, match="changed after export"):
        read_pack(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json at all", "not JSON"),
        (json.dumps({"format": "something-else"}), "not an agent-copilot profile pack"),
        (json.dumps([1, 2]), "not an agent-copilot profile pack"),
    ],
)
def test_files_that_are_no_pack_are_refused(tmp_path: Path, content: str, expected: str):
    path = tmp_path / "pack.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProfileError, match=expected) as err:
        read_pack(path)
    assert "profiles export" in err.value.user_message


def test_a_missing_pack_is_reported(tmp_path: Path):
    with pytest.raises(ProfileError, match="does not exist"):
        read_pack(tmp_path / "nope.json")


def test_a_newer_format_asks_for_an_update(source: ProfileLibrary, tmp_path):
    path = export_pack(source, tmp_path / "team.json")
    rewrite(path, lambda raw: raw.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(ProfileError, match="newer copilot.*Update the copilot"):
        read_pack(path)


def test_an_invalid_profile_names_the_profile_and_field(source: ProfileLibrary, tmp_path):
    path = export_pack(source, tmp_path / "team.json")

    def break_it(raw):
        next(p for p in raw["profiles"] if p["name"] == "formal")["max_words"] = 1

    rewrite(path, break_it, rehash=True)
    with pytest.raises(ProfileError) as err:
        read_pack(path)
    message = err.value.user_message
    assert "'formal'" in message and "max_words" in message and "from 5 to 400" in message


def test_plan_reports_added_changed_removed_and_unchanged(
    source: ProfileLibrary, target: ProfileLibrary, tmp_path
):
    change(source, "friendly", tone="cheerful", max_words=70)
    source.duplicate("formal", "formal-de")
    source.delete("concise")
    for _ in range(2):
        change(source, "formal", temperature=0.1)
    pack = read_pack(export_pack(source, tmp_path / "team.json"))
    before = snapshot(target.folder)
    report = plan_import(target, pack)
    assert report.added == ["formal-de"]
    assert report.changed == {"formal": ["temperature"], "friendly": ["tone", "max_words"]}
    assert report.removed == ["concise"]
    assert report.unchanged == ["empathetic-de-escalation"]
    assert (report.from_version, report.to_version) == (1, 6)
    assert report.lines() == [
        "Added: formal-de",
        "Changed: formal (temperature)",
        "Changed: friendly (tone, max_words)",
        "Removed: concise",
        "Unchanged: 1 profile",
        "Pack version 1 -> 6",
    ]
    assert snapshot(target.folder) == before  # planning writes nothing
    assert target.pack_version == 1


def test_report_lines_without_changes():
    report = PackReport(unchanged=["a", "b"], from_version=3, to_version=3)
    assert report.lines() == ["Unchanged: 2 profiles", "No profile changes.", "Pack version 3 -> 3"]


def test_import_replaces_the_published_set(
    source: ProfileLibrary, target: ProfileLibrary, tmp_path
):
    change(source, "friendly", max_words=70)
    source.duplicate("formal", "formal-de")
    source.delete("concise")
    (target.folder / "README.txt").write_text("managed by the team lead", encoding="utf-8")
    pack = read_pack(export_pack(source, tmp_path / "team.json"))
    report = apply_import(target, pack)
    assert report.added == ["formal-de"] and report.removed == ["concise"]
    loaded = target.load()
    assert loaded.errors == []
    assert loaded.profiles == source.load().profiles
    assert target.pack_version == pack.pack_version == 4
    assert not (target.folder / "concise.yaml").exists()
    assert (target.folder / "README.txt").read_text(encoding="utf-8") == "managed by the team lead"
    leftovers = [p.name for p in target.folder.parent.iterdir() if p.name.startswith(".profiles")]
    assert leftovers == []


def test_an_older_pack_needs_consent(source: ProfileLibrary, target: ProfileLibrary, tmp_path):
    pack = read_pack(export_pack(source, tmp_path / "old.json"))
    for _ in range(3):
        change(target, "friendly", max_words=61)
    before = snapshot(target.folder)
    with pytest.raises(ProfileError, match="older than the installed version 4.*--allow-older"):
        apply_import(target, pack)
    assert snapshot(target.folder) == before
    report = apply_import(target, pack, allow_older=True)
    assert "older than the installed pack" in report.lines()[-1]
    assert target.pack_version == 1 and target.load().get("friendly").max_words == 80


def test_a_failed_swap_leaves_the_old_profiles(
    source: ProfileLibrary, target: ProfileLibrary, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    source.delete("concise")
    pack = read_pack(export_pack(source, tmp_path / "team.json"))
    before = snapshot(target.folder)
    real = os.rename

    def rename(src, dst):
        if ".staging-" in str(src):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(ProfileError, match="No space left.*unchanged"):
        apply_import(target, pack)
    assert snapshot(target.folder) == before
    assert [p for p in target.folder.parent.iterdir() if p.name.startswith(".profiles")] == []


def test_a_full_disk_while_preparing_changes_nothing(
    source: ProfileLibrary, target: ProfileLibrary, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    pack = read_pack(export_pack(source, tmp_path / "team.json"))
    before = snapshot(target.folder)
    calls = []

    def full(path, data):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        path.write_bytes(data)

    monkeypatch.setattr(profile_library, "write_synced", full)
    with pytest.raises(ProfileError, match="No space left"):
        apply_import(target, pack)
    assert snapshot(target.folder) == before
    assert [p for p in target.folder.parent.iterdir() if p.name.startswith(".profiles")] == []


def test_export_refuses_while_a_profile_file_is_unusable(source: ProfileLibrary, tmp_path):
    path = source.folder / "formal.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# hand edit\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="before exporting"):
        export_pack(source, tmp_path / "team.json")
    assert not (tmp_path / "team.json").exists()


def test_a_read_only_folder_cannot_import(source: ProfileLibrary, tmp_path):
    pack = read_pack(export_pack(source, tmp_path / "team.json"))
    with pytest.raises(ProfileError, match="managed by IT"):
        apply_import(ProfileLibrary(source.folder, read_only=True), pack)


# the command line ---------------------------------------------------------------------------


def cli(runtime: Runtime, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return run_profiles(parser.parse_args(list(argv)), runtime)


def test_profiles_without_a_command_lists_them(capsys):
    runtime = Runtime.create(Settings())
    assert cli(runtime, "profiles") == 0
    out = capsys.readouterr().out
    assert "* friendly" in out and "formal" in out
    assert cli(runtime, "profiles", "list") == 0


def test_profiles_list_fails_on_a_refused_file(capsys):
    runtime = Runtime.create(Settings())
    path = runtime.library.folder / "formal.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# edit\n", encoding="utf-8")
    runtime.reload_profiles()
    assert cli(runtime, "profiles") == 1
    assert "changed outside supervisor mode" in capsys.readouterr().err


def test_cli_export_and_dry_run_import(source: ProfileLibrary, tmp_path, capsys):
    change(source, "friendly", max_words=70)
    supervisor_side = Runtime.create(Settings(data_dir=tmp_path / "supervisor", agent_name="Dana"))
    assert cli(supervisor_side, "profiles", "export", str(tmp_path / "team.json")) == 0
    assert "pack version 2" in capsys.readouterr().out
    assert read_pack(tmp_path / "team.json").author == "Dana"
    runtime = Runtime.create(Settings())
    before = snapshot(runtime.library.folder)
    assert cli(runtime, "profiles", "import", str(tmp_path / "team.json"), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Changed: friendly (max_words)" in out and "Dry run: nothing was changed." in out
    assert snapshot(runtime.library.folder) == before


def test_cli_import_needs_a_passphrase_set_first(source: ProfileLibrary, tmp_path):
    export_pack(source, tmp_path / "team.json")
    runtime = Runtime.create(Settings())
    with pytest.raises(CopilotError, match="agent-copilot profiles passphrase"):
        cli(runtime, "profiles", "import", str(tmp_path / "team.json"))


def test_cli_import_checks_the_passphrase(
    source: ProfileLibrary, tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
):
    change(source, "concise", max_words=30)
    export_pack(source, tmp_path / "team.json")
    SupervisorLock().set_passphrase("correct horse")
    runtime = Runtime.create(Settings())
    before = snapshot(runtime.library.folder)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CopilotError, match=PASSPHRASE_ENV):
        cli(runtime, "profiles", "import", str(tmp_path / "team.json"))
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong horse")
    with pytest.raises(CopilotError, match="wrong; nothing was imported"):
        cli(runtime, "profiles", "import", str(tmp_path / "team.json"))
    assert snapshot(runtime.library.folder) == before
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    assert cli(runtime, "profiles", "import", str(tmp_path / "team.json")) == 0
    out = capsys.readouterr().out
    assert "Changed: concise (max_words)" in out and "Pack version 1 -> 2" in out
    assert runtime.profile("concise").max_words == 30
    assert json.loads((runtime.library.folder / MANIFEST).read_text())["pack_version"] == 2
