"""The core's hooks for changing the model while the copilot runs: swap the engine's
file, and stop an add half-way without leaving a partial file behind."""

import threading
from pathlib import Path

import pytest

from copilot.errors import Cancelled, ModelError
from copilot.model import store as model_store
from copilot.model.engine import Engine, EngineState
from copilot.model.files import ModelInfo, bundled_model_path
from copilot.model.store import add_model, list_models, models_dir
from copilot.settings import Settings, require_settings


class FakeLlama:
    def __init__(self) -> None:
        self.closed = False
        self.n_tokens = 0

    def n_ctx(self) -> int:
        return 4096

    def close(self) -> None:
        self.closed = True


def ready_engine(settings: Settings) -> tuple[Engine, FakeLlama]:
    engine = Engine(settings)
    llama = FakeLlama()
    engine._llm = llama
    engine.state = EngineState.READY
    engine.info = ModelInfo(Path("old.gguf"), 1, "llama", "old", "Q4_0", True)
    engine.last_tokens = [1, 2, 3]
    return engine, llama


def test_use_file_unloads_and_aims_at_the_new_file(tmp_path: Path):
    settings = Settings()
    engine, llama = ready_engine(settings)
    new = tmp_path / "other.gguf"
    engine.use_file(new)
    assert llama.closed and engine._llm is None
    assert engine.state is EngineState.NOT_LOADED
    assert engine.info is None and engine.error is None and engine.last_tokens == []
    assert settings.model_path == new  # shared with the runtime
    engine.use_file(None)
    assert settings.model_path is None  # None means the bundled model again


def test_use_file_waits_for_the_generation_holding_the_engine(tmp_path: Path):
    engine, llama = ready_engine(Settings())
    engine._lock.acquire()
    swapped = threading.Event()
    thread = threading.Thread(target=lambda: (engine.use_file(tmp_path / "x.gguf"), swapped.set()))
    thread.start()
    assert not swapped.wait(0.2) and not llama.closed
    engine._lock.release()
    assert swapped.wait(5)
    thread.join(5)
    assert llama.closed


class WatchedLock:
    """The engine's lock, telling the test when a caller starts waiting for it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # so the test, holding it, can swap in use_file
        self.waiting = threading.Event()

    def __enter__(self) -> None:
        self.waiting.set()
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_a_stream_that_waited_through_a_swap_is_refused(tmp_path: Path):
    """A stream that passed the ready check before the swap must not use the closed model."""
    engine, llama = ready_engine(Settings())
    watched = WatchedLock()
    engine._lock = watched  # type: ignore[assignment]
    watched.lock.acquire()  # a generation is running
    result: dict[str, BaseException] = {}

    def consume() -> None:
        try:
            next(engine.stream([1, 2], max_tokens=4, temperature=0.0))
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            result["error"] = exc

    thread = threading.Thread(target=consume)
    thread.start()
    assert watched.waiting.wait(5)  # past the first ready check, waiting for the engine
    engine.use_file(tmp_path / "new.gguf")  # swapped by the holder, before the stream runs
    watched.lock.release()
    thread.join(5)
    assert llama.closed and engine._llm is None
    assert isinstance(result.get("error"), ModelError), result
    assert "not loaded" in result["error"].user_message


def test_prefill_after_a_swap_is_refused(tmp_path: Path):
    engine, _llama = ready_engine(Settings())
    engine.use_file(tmp_path / "x.gguf")
    with pytest.raises(ModelError, match="not loaded"):
        engine.prefill([1, 2, 3])


@pytest.mark.parametrize("link", [False, True])
def test_an_add_stopped_by_progress_leaves_nothing(
    link: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    bundled = bundled_model_path()
    assert bundled is not None
    settings = require_settings()
    monkeypatch.setattr(model_store, "CHUNK_BYTES", 1024 * 1024)
    calls: list[int] = []

    def stop_after_two(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise Cancelled

    with pytest.raises(Cancelled):
        add_model(settings, bundled, link=link, progress=stop_after_two)
    assert calls == [1024 * 1024, 2 * 1024 * 1024]
    folder = models_dir(settings)
    assert not folder.exists() or list(folder.iterdir()) == []
    assert [e.origin for e in list_models(settings)] == ["bundled"]
