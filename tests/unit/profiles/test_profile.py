from pathlib import Path

import pytest
from pydantic import ValidationError

from copilot.errors import ProfileError
from copilot.paths import bundled_prompts_dir
from copilot.profiles.profile import load_profile, load_profiles

GOOD = """\
schema_version: 1
name: {name}
description: test profile
system_prompt: You help an agent at {{company}} answer {{customer_name}}.
tone: calm
max_words: 50
"""


def write(folder: Path, name: str, text: str, suffix: str = ".yaml") -> Path:
    path = folder / f"{name}{suffix}"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_profiles_all_load():
    profiles = load_profiles(bundled_prompts_dir())
    assert profiles.errors == []
    assert {"friendly", "formal", "concise", "empathetic-de-escalation"} <= set(profiles.names())


def test_profiles_are_frozen():
    profile = load_profiles(bundled_prompts_dir()).get("friendly")
    with pytest.raises(ValidationError):
        profile.system_prompt = "be rude"  # type: ignore[misc]


def test_unknown_template_variable_names_file_field_and_fix(tmp_path: Path):
    path = write(tmp_path, "bad", GOOD.format(name="bad").replace("{company}", "{compnay}"))
    with pytest.raises(ProfileError) as err:
        load_profile(path)
    message = err.value.user_message
    assert str(path) in message and "system_prompt" in message
    assert "{compnay}" in message and "{company}" in message


def test_broken_braces_are_reported(tmp_path: Path):
    path = write(tmp_path, "braces", GOOD.format(name="braces").replace("{company}", "{company"))
    with pytest.raises(ProfileError, match="braces"):
        load_profile(path)


def test_misspelt_field_is_reported(tmp_path: Path):
    path = write(tmp_path, "typo", GOOD.format(name="typo") + "temprature: 0.4\n")
    with pytest.raises(ProfileError, match="temprature.*Remove"):
        load_profile(path)


def test_invalid_yaml_is_reported(tmp_path: Path):
    path = write(tmp_path, "yaml", "name: [unclosed\n")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(path)


def test_name_must_match_file(tmp_path: Path):
    path = write(tmp_path, "one", GOOD.format(name="two"))
    with pytest.raises(ProfileError, match="does not match the file name"):
        load_profile(path)


def test_a_broken_file_does_not_stop_the_others(tmp_path: Path):
    write(tmp_path, "good", GOOD.format(name="good"))
    write(tmp_path, "bad", GOOD.format(name="bad") + "max_words: -3\n")
    write(
        tmp_path,
        "toml",
        'name = "toml"\ndescription = "t"\nsystem_prompt = "Help the agent well."\ntone = "kind"\n',
        ".toml",
    )
    profiles = load_profiles(tmp_path)
    assert profiles.names() == ["good", "toml"]
    assert len(profiles.errors) == 1 and "bad.yaml" in profiles.errors[0].user_message


def test_missing_profile_lists_the_available_ones(tmp_path: Path):
    write(tmp_path, "good", GOOD.format(name="good"))
    with pytest.raises(ProfileError, match="Available profiles: good"):
        load_profiles(tmp_path).get("nope")


def test_empty_folder_is_an_error(tmp_path: Path):
    assert load_profiles(tmp_path).errors
