from __future__ import annotations

from typing import Any

import pytest

from copilot.runtime import Runtime
from copilot.settings import Settings


@pytest.fixture(scope="session")
def real_runtime() -> Runtime:
    """The real bundled GGUF model through llama-cpp-python, loaded once for the session."""
    runtime = Runtime.create(Settings(active_profile="friendly"))
    info = runtime.engine.load()
    assert info.quantisation == "Q4_1"
    return runtime


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def own_runtime(real_runtime: Runtime) -> Runtime:
    """The session's loaded model with this test's settings (its own data and keyring)."""
    return Runtime(
        settings=Settings(active_profile="friendly"),
        profiles=real_runtime.profiles,
        engine=real_runtime.engine,
    )


def shown_and_loaded(qtbot: Any, window: Any, before_load: Any = None) -> Any:
    """Show the real window and wait until the model is ready in it."""
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    if before_load is not None:
        before_load(window)
    with qtbot.waitSignal(window.model_state_changed, timeout=60_000) as blocker:
        window.start_model_load()
    assert blocker.args == ["ready"]
    return window
