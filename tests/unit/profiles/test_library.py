"""The published profiles folder: seeding, refusing hand edits, atomic publish, rename, delete."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import yaml

from copilot.errors import ProfileError
from copilot.paths import bundled_prompts_dir
from copilot.profiles.files import field_errors, profile_yaml, sha256_bytes
from copilot.profiles.library import MANIFEST, ProfileLibrary
from copilot.profiles.profile import Profile, load_profile
from copilot.runtime import Runtime
from copilot.settings import Settings


@pytest.fixture
def library() -> ProfileLibrary:
    return ProfileLibrary.open(Settings())


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def edited(library: ProfileLibrary, source: str, **changes: object) -> Profile:
    return library.load().get(source).model_copy(update=changes)


def fail_replace_when(monkeypatch: pytest.MonkeyPatch, predicate) -> None:
    """os.replace fails with a full disk for destinations matching ``predicate``."""
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if predicate(Path(dst)):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_first_open_copies_the_shipped_profiles_as_pack_version_1(library: ProfileLibrary):
    assert library.folder == Settings().data_dir / "profiles"
    manifest = json.loads((library.folder / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == "agent-copilot-published-profiles"
    assert manifest["pack_version"] == 1 and library.pack_version == 1
    for path in bundled_prompts_dir().glob("*.yaml"):
        copied = library.folder / path.name
        assert copied.read_bytes() == path.read_bytes()
        assert manifest["files"][path.name] == sha256_bytes(path.read_bytes())
    loaded = library.load()
    assert loaded.errors == []
    assert {"friendly", "formal", "concise", "empathetic-de-escalation"} <= set(loaded.names())
    assert not library.read_only


def test_a_second_open_keeps_what_was_published(library: ProfileLibrary):
    library.publish(edited(library, "friendly", max_words=42))
    again = ProfileLibrary.open(Settings())
    assert again.load().get("friendly").max_words == 42
    assert again.pack_version == 2


def test_a_file_edited_by_hand_is_refused_and_the_rest_load(library: ProfileLibrary):
    path = library.folder / "friendly.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("max_words: 80", "max_words: 81"))
    loaded = library.load()
    assert "friendly" not in loaded.profiles and "formal" in loaded.profiles
    (error,) = loaded.errors
    assert str(path) in error.user_message
    assert "changed outside supervisor mode" in error.user_message
    assert (
        "publish it again" in error.user_message and "import a profile pack" in error.user_message
    )


def test_an_unlisted_file_is_refused_and_a_missing_one_reported(library: ProfileLibrary):
    (library.folder / "sneaky.yaml").write_text(
        profile_yaml(edited(library, "friendly", name="sneaky")), encoding="utf-8"
    )
    (library.folder / "concise.yaml").unlink()
    loaded = library.load()
    assert "sneaky" not in loaded.profiles and "concise" not in loaded.profiles
    messages = " | ".join(e.user_message for e in loaded.errors)
    assert "sneaky.yaml was changed outside supervisor mode" in messages
    assert "concise.yaml was published but is missing" in messages


def test_a_damaged_manifest_trusts_no_file(library: ProfileLibrary):
    (library.folder / MANIFEST).write_text("{broken", encoding="utf-8")
    loaded = library.load()
    assert loaded.profiles == {}
    assert "damaged" in loaded.errors[0].user_message
    assert library.pack_version == 0


def test_a_folder_without_manifest_is_trusted_and_publish_starts_one(tmp_path: Path):
    folder = tmp_path / "it-profiles"
    folder.mkdir()
    for path in bundled_prompts_dir().glob("*.yaml"):
        (folder / path.name).write_bytes(path.read_bytes())
    library = ProfileLibrary.open(Settings(profiles_dir=folder))
    assert library.folder == folder and library.pack_version == 0
    assert library.load().errors == []
    library.publish(edited(library, "formal", tone="very formal"))
    assert library.pack_version == 1
    loaded = library.load()
    assert loaded.errors == [] and loaded.get("formal").tone == "very formal"
    assert len(loaded.profiles) == 4


def test_publish_writes_readable_yaml_and_bumps_the_version(library: ProfileLibrary):
    profile = edited(library, "friendly", avoid_phrases=("calm down", "per policy"), max_words=55)
    library.publish(profile)
    path = library.folder / "friendly.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("schema_version: 1\nname: friendly\n")
    assert "system_prompt: |" in text
    assert list(yaml.safe_load(text)) == list(Profile.model_fields)
    assert load_profile(path) == profile
    assert library.pack_version == 2 and library.load().errors == []
    assert not [p for p in library.folder.iterdir() if p.name.startswith(".")]


def test_publish_keeps_unicode_readable(library: ProfileLibrary):
    profile = edited(library, "formal", closing_line="Mit freundlichen Grüßen, {company}")
    library.publish(profile)
    assert "Grüßen" in (library.folder / "formal.yaml").read_text(encoding="utf-8")
    assert library.load().get("formal") == profile


def test_rename_removes_the_old_file(library: ProfileLibrary):
    profile = edited(library, "concise", name="short")
    library.publish(profile, previous_name="concise")
    assert not (library.folder / "concise.yaml").exists()
    loaded = library.load()
    assert loaded.errors == [] and "short" in loaded.profiles and "concise" not in loaded.profiles
    manifest = json.loads((library.folder / MANIFEST).read_text(encoding="utf-8"))
    assert "concise.yaml" not in manifest["files"]


def test_rename_onto_an_existing_name_is_refused(library: ProfileLibrary):
    before = snapshot(library.folder)
    with pytest.raises(ProfileError, match="already exists"):
        library.publish(edited(library, "concise", name="formal"), previous_name="concise")
    assert snapshot(library.folder) == before


def test_publish_replaces_a_toml_file_of_the_same_name(tmp_path: Path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "kind.toml").write_text(
        'name = "kind"\ndescription = "d"\nsystem_prompt = "Help the agent well."\ntone = "kind"\n',
        encoding="utf-8",
    )
    library = ProfileLibrary(folder)
    library.publish(library.load().get("kind").model_copy(update={"tone": "kinder"}))
    assert not (folder / "kind.toml").exists()
    assert library.load().get("kind").tone == "kinder"


def test_delete_and_the_last_profile_stays(library: ProfileLibrary):
    names = library.load().names()
    for name in names[:-1]:
        library.delete(name)
    assert library.load().names() == names[-1:]
    with pytest.raises(ProfileError, match="last usable profile"):
        library.delete(names[-1])
    with pytest.raises(ProfileError, match="no published profile named 'nope'"):
        library.delete("nope")
    assert library.load().errors == []


def test_duplicate_publishes_a_copy(library: ProfileLibrary):
    copy = library.duplicate("friendly", "friendly-de")
    assert copy.name == "friendly-de"
    assert copy.system_prompt == library.load().get("friendly").system_prompt
    assert "friendly-de" in library.load().profiles
    with pytest.raises(ProfileError, match="already exists"):
        library.duplicate("friendly", "formal")
    with pytest.raises(ProfileError, match="name is not valid"):
        library.duplicate("friendly", "Not A Name")


def test_read_only_folder_is_reported_as_managed_by_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    library = ProfileLibrary(bundled_prompts_dir(), read_only=True)
    with pytest.raises(ProfileError, match="managed by IT"):
        library.publish(library.load().get("friendly"))
    with pytest.raises(ProfileError, match="managed by IT"):
        library.delete("friendly")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert ProfileLibrary(tmp_path).read_only


def test_no_permission_while_writing_is_reported(
    library: ProfileLibrary, monkeypatch: pytest.MonkeyPatch
):
    before = snapshot(library.folder)

    def denied(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", denied)
    with pytest.raises(ProfileError, match="managed by IT"):
        library.publish(edited(library, "friendly", max_words=33))
    assert snapshot(library.folder) == before


def test_a_full_disk_on_the_profile_file_changes_nothing(
    library: ProfileLibrary, monkeypatch: pytest.MonkeyPatch
):
    before = snapshot(library.folder)
    fail_replace_when(monkeypatch, lambda dst: dst.name == "friendly.yaml")
    with pytest.raises(ProfileError) as err:
        library.publish(edited(library, "friendly", max_words=33))
    assert "No space left on device" in err.value.user_message
    assert "published profiles are unchanged" in err.value.user_message
    assert snapshot(library.folder) == before


def test_a_full_disk_between_profile_and_manifest_puts_the_old_file_back(
    library: ProfileLibrary, monkeypatch: pytest.MonkeyPatch
):
    before = snapshot(library.folder)
    fail_replace_when(monkeypatch, lambda dst: dst.name == MANIFEST)
    with pytest.raises(ProfileError, match="unchanged"):
        library.publish(edited(library, "friendly", max_words=33))
    with pytest.raises(ProfileError, match="unchanged"):
        library.publish(edited(library, "friendly", name="brand-new"))
    with pytest.raises(ProfileError, match="unchanged"):
        library.delete("concise")
    assert snapshot(library.folder) == before
    assert library.load().errors == [] and library.pack_version == 1


def test_field_errors_speak_to_the_editor():
    good = Profile.model_validate(
        {"name": "x", "description": "d", "system_prompt": "Help {agent_name}.", "tone": "t"}
    ).model_dump()
    assert field_errors(good) == {}
    errors = field_errors(
        {
            **good,
            "name": "Bad Name",
            "description": "",
            "system_prompt": "Help the agent at {compnay}.",
            "max_words": 1000,
            "temperature": "warm",
            "avoid_action": "delete",
            "reply_language": "english",
            "colour": "red",
        }
    )
    assert errors["name"].startswith("Use lower-case letters")
    assert errors["description"] == "Cannot be empty."
    assert "{compnay}" in errors["system_prompt"] and "{company}" in errors["system_prompt"]
    assert errors["max_words"] == "Use a number from 5 to 400."
    assert errors["temperature"].startswith("Enter a number")
    assert errors["avoid_action"] == "Choose 'flag' or 'remove'."
    assert "two-letter" in errors["reply_language"]
    assert "not a profile field" in errors["colour"]
    missing = field_errors({"name": "x"})
    assert missing["description"] == "Required."


def test_runtime_loads_through_the_library_and_reloads():
    runtime = Runtime.create(Settings())
    assert runtime.library.folder == Settings().data_dir / "profiles"
    assert runtime.problems == [] and "friendly" in runtime.profiles.profiles
    runtime.library.publish(runtime.profile("friendly").model_copy(update={"max_words": 44}))
    assert runtime.profile("friendly").max_words == 80
    assert runtime.reload_profiles() == []
    assert runtime.profile("friendly").max_words == 44


def test_runtime_reports_refused_files():
    runtime = Runtime.create(Settings())
    path = runtime.library.folder / "formal.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    errors = runtime.reload_profiles()
    assert len(errors) == 1 and "formal.yaml" in errors[0].user_message
    assert "formal" not in runtime.profiles.profiles


def test_runtime_falls_back_to_the_shipped_profiles_read_only(tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    runtime = Runtime.create(Settings(data_dir=blocker))
    assert runtime.library.read_only and runtime.library.folder == bundled_prompts_dir()
    assert "friendly" in runtime.profiles.profiles
    assert any("cannot be created" in p.user_message for p in runtime.problems)
    with pytest.raises(ProfileError, match="cannot be created"):
        runtime.library.publish(runtime.profile("friendly"))


def test_a_hand_made_runtime_opens_its_library_on_first_use():
    runtime = Runtime(
        settings=Settings(), profiles=ProfileLibrary.open(Settings()).load(), engine=None
    )  # type: ignore[arg-type]
    assert runtime.library.folder == Settings().data_dir / "profiles"


def test_an_interrupted_swap_is_undone_on_open(library: ProfileLibrary):
    before = snapshot(library.folder)
    os.rename(library.folder, library.folder.parent / ".profiles.previous-0000")
    again = ProfileLibrary.open(Settings())
    assert snapshot(again.folder) == before
    assert again.pack_version == 1
