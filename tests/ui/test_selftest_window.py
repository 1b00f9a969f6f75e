"""``agent-copilot selftest --window`` on a fake engine: the whole window path, quickly."""

from __future__ import annotations

import pytest

import ui.app
from copilot.errors import ModelError
from copilot.paths import bundled_prompts_dir
from copilot.profiles.profile import load_profiles
from copilot.runtime import Runtime
from copilot.settings import Settings
from tests.fakes import FakeEngine
from ui import selftest
from ui.app import window_state
from ui.window.main_window import MainWindow


class FakeKnowledge:
    def ensure_demo(self, cancel: object = None) -> None:
        pass

    def search(self, text: str) -> list[object]:
        return []

    def for_contact(self, contact: object) -> list[object]:
        return []


@pytest.fixture
def fake_window(monkeypatch: pytest.MonkeyPatch, qtbot) -> FakeEngine:
    engine = FakeEngine([["Thanks", " Jana,", " let", " me", " look", "."]], delay=0.01)

    def create(runtime: Runtime | None = None) -> MainWindow:
        runtime = Runtime(
            settings=Settings(),
            profiles=load_profiles(bundled_prompts_dir()),
            engine=engine,  # type: ignore[arg-type]
        )
        window = MainWindow(runtime, window_state(), knowledge_factory=FakeKnowledge)
        qtbot.addWidget(window)
        return window

    monkeypatch.setattr(ui.app, "create_window", create)
    # Only the knowledge base opens after the model here; history and the API have tests
    # of their own, and the real self-test opens them all.
    monkeypatch.setattr(
        ui.app,
        "open_services_after_model",
        lambda w: w.model_state_changed.connect(lambda _s: w.knowledge.start_once()),
    )
    return engine


def test_the_window_streams_the_demo_customers_first_message(fake_window: FakeEngine) -> None:
    result = selftest.main(timeout_s=30, echo=False)
    assert result.ok, result.error
    assert result.window and result.qt_platform == "offscreen"
    assert result.chunks == 6 and result.text.startswith("Thanks Jana")
    assert result.model == "fake · Q0" and result.attempts == 1
    # the suggestion answered the demo contact's first customer message
    prompt = " ".join(m.text for m in fake_window.prompts[-1])
    assert "coffee grinder" in prompt or "order" in prompt.lower()
    assert "Knowledge base open" in result.steps


def test_a_model_that_fails_in_the_window_is_reported(fake_window: FakeEngine) -> None:
    fake_window.load_error = ModelError("The model file is missing. Add one with 'model add'.")
    result = selftest.main(timeout_s=30, echo=False)
    assert not result.ok and result.error == fake_window.load_error.user_message
    assert result.chunks == 0
