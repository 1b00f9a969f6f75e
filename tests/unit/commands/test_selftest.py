"""``agent-copilot selftest`` headless on a fake engine: retries, failures, timeouts."""

from __future__ import annotations

import json

import pytest

from copilot.commands.selftest import ATTEMPTS, headless, report
from copilot.errors import ModelError
from copilot.paths import bundled_prompts_dir
from copilot.profiles.profile import load_profiles
from copilot.runtime import Runtime
from copilot.settings import Settings
from tests.fakes import FakeEngine


def _runtime(engine: FakeEngine) -> Runtime:
    return Runtime(
        settings=Settings(),
        profiles=load_profiles(bundled_prompts_dir()),
        engine=engine,  # type: ignore[arg-type]
    )


def _leak(runtime: Runtime) -> list[str]:
    """A reply that repeats the system prompt, which the leak guard withholds."""
    words = runtime.profile(None).system_prompt.split()[:40]
    return [f" {w}" for w in words]


def test_a_streamed_reply_passes_and_reports_its_figures(capsys: pytest.CaptureFixture) -> None:
    runtime = _runtime(FakeEngine([["Sorry", " about", " the", " delay", "."]]))
    result = headless(runtime, timeout_s=30, echo=True)
    assert result.ok and not result.withheld and result.attempts == 1
    assert result.chunks == 5 and "delay" in result.text
    assert result.model == runtime.engine.info.label
    assert report(result, as_json=False) == 0
    out = capsys.readouterr()
    assert "Sorry about the delay." in out.out
    assert json.loads(out.out.strip().splitlines()[-1])["ok"] is True
    assert "Self-test passed headless" in out.err


def test_a_withheld_reply_is_asked_for_again() -> None:
    runtime = _runtime(FakeEngine())
    runtime.engine.replies = [_leak(runtime), ["Let", " me", " check", "."]]  # type: ignore[attr-defined]
    result = headless(runtime, timeout_s=30, echo=False)
    assert result.ok and result.attempts == 2 and not result.withheld
    assert result.text.startswith("Let me check")
    assert any("withheld" in step for step in result.steps)


def test_always_withheld_still_proves_the_install_but_says_so() -> None:
    runtime = _runtime(FakeEngine())
    runtime.engine.replies = [_leak(runtime)] * (ATTEMPTS + 1)  # type: ignore[attr-defined]
    result = headless(runtime, timeout_s=30, echo=False)
    assert result.attempts == ATTEMPTS and result.withheld and result.ok
    assert result.chunks > 0


def test_a_model_that_does_not_load_fails_with_its_reason(
    capsys: pytest.CaptureFixture,
) -> None:
    failure = ModelError("The model file is damaged. Reinstall or add another model.")
    result = headless(_runtime(FakeEngine(load_error=failure)), timeout_s=30, echo=False)
    assert not result.ok and result.error == failure.user_message
    assert report(result, as_json=True) == 1
    err = capsys.readouterr().err
    assert "self-test failed: The model file is damaged" in err


def test_a_stuck_model_times_out() -> None:
    runtime = _runtime(FakeEngine([["word"] * 50], delay=0.05))
    result = headless(runtime, timeout_s=0.3, echo=False)
    assert not result.ok
    assert result.error == "No complete suggestion within 0.3 s."
