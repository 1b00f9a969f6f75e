"""A fake engine for core and UI unit tests: yields queued tokens, honours cancel."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from copilot.errors import Cancelled, ModelError
from copilot.model.chat import ChatMessage
from copilot.model.engine import EngineState, GenerationStats
from copilot.model.files import ModelInfo


class FakeEngine:
    def __init__(
        self,
        replies: list[list[str]] | None = None,
        delay: float = 0.0,
        n_ctx: int = 4096,
        load_error: ModelError | None = None,
        load_delay: float = 0.0,
    ) -> None:
        self.replies = list(replies or [["Hello", " there", "!"]])
        self.delay = delay
        self._n_ctx = n_ctx
        self.load_error = load_error
        self.load_delay = load_delay
        self.state = EngineState.NOT_LOADED
        self.info: ModelInfo | None = None
        self.error: ModelError | None = None
        self.last_stats = GenerationStats()
        self.prompts: list[tuple[ChatMessage, ...]] = []
        self.emitted: list[str] = []
        self.prefilled: list[list[int]] = []
        self.lock = threading.Lock()

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    def load(self) -> ModelInfo:
        self.state = EngineState.LOADING
        time.sleep(self.load_delay)
        if self.load_error is not None:
            self.state, self.error = EngineState.FAILED, self.load_error
            raise self.load_error
        self.info = ModelInfo(
            path=__import__("pathlib").Path("fake.gguf"),
            size_bytes=1,
            architecture="fake",
            name="Fake model",
            quantisation="Q0",
            has_chat_template=True,
        )
        self.state = EngineState.READY
        return self.info

    def prefill(self, tokens: list[int], cancel: threading.Event | None = None) -> int:
        self.prefilled.append(list(tokens))
        return len(tokens)

    def tokenize_messages(self, messages: tuple[ChatMessage, ...]) -> list[int]:
        self.prompts.append(messages)
        return [len(w) for m in messages for w in m.text.split()]

    def stream(
        self,
        tokens: list[int],
        *,
        max_tokens: int,
        temperature: float,
        cancel: threading.Event | None = None,
        reuse_cache: bool = True,
        grammar: object = None,
    ) -> Iterator[str]:
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        stats = GenerationStats(prompt_tokens=len(tokens))
        self.last_stats = stats
        with self.lock:
            for piece in reply[:max_tokens]:
                if cancel is not None and cancel.is_set():
                    raise Cancelled
                time.sleep(self.delay)
                if cancel is not None and cancel.is_set():
                    raise Cancelled
                stats.generated_tokens += 1
                self.emitted.append(piece)
                yield piece
