from __future__ import annotations

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
