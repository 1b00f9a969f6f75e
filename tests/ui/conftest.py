from __future__ import annotations

from collections.abc import Callable

import pytest

from copilot.paths import bundled_prompts_dir
from copilot.profiles.profile import load_profiles
from copilot.runtime import Runtime
from copilot.settings import Settings
from tests.fakes import FakeEngine
from ui.app import window_state
from ui.window.main_window import MainWindow


@pytest.fixture
def make_window(qtbot) -> Callable[..., MainWindow]:
    """A real window on a fake engine; call ``start_model_load`` yourself."""

    def make(engine: FakeEngine | None = None, load: bool = True, knowledge=None) -> MainWindow:
        runtime = Runtime(
            settings=Settings(),
            profiles=load_profiles(bundled_prompts_dir()),
            engine=engine or FakeEngine(),  # type: ignore[arg-type]
        )
        window = MainWindow(runtime, window_state(), knowledge_factory=lambda: knowledge)
        qtbot.addWidget(window)
        with qtbot.waitActive(window):
            window.show()
            window.activateWindow()
        if load:
            with qtbot.waitSignal(window.model_state_changed, timeout=5000):
                window.start_model_load()
        return window

    return make
