"""The one language-model engine: loaded once, guarded by one lock, streaming tokens.

``stream()`` is an iterator that checks a cancel event between tokens, so a stale
suggestion stops within one token. Prompts are tokenised piecewise: template text
with special tokens enabled, conversation text with them disabled (see prompt.py).
llama.cpp keeps the tokens of the previous call in its KV cache and evaluates only
what follows the longest common prefix, so a new turn costs only its own tokens.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from copilot.errors import Cancelled, ModelError
from copilot.model.chat import ChatMessage, fits
from copilot.model.files import FIX_HINT, ModelInfo, inspect_model, resolve_model_path
from copilot.settings import Settings

log = logging.getLogger(__name__)

_SENTINEL = "\x1e{}\x1e"


class EngineState(StrEnum):
    NOT_LOADED = "not loaded"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    max_tokens: int = 0
    reused_tokens: int = 0
    generated_tokens: int = 0
    #: When llama.cpp gave its first token, for the decode rate only: the time to the first
    #: token that people see is the Suggestion's (it includes waiting for the model's lock).
    decode_start_s: float | None = None
    total_s: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        if self.decode_start_s is None or self.generated_tokens < 2:
            return 0.0
        span = self.total_s - self.decode_start_s
        return (self.generated_tokens - 1) / span if span > 0 else 0.0


def default_threads() -> int:
    try:
        import psutil

        return psutil.cpu_count(logical=False) or os.cpu_count() or 1
    except Exception:  # pragma: no cover - psutil missing on an odd platform
        return os.cpu_count() or 1


def gpu_layers(setting: int | str) -> int:
    """'auto' offloads every layer when this llama.cpp build can use a GPU, else none."""
    if setting != "auto":
        return int(setting)
    import llama_cpp

    return -1 if llama_cpp.llama_supports_gpu_offload() else 0


@dataclass
class Engine:
    settings: Settings
    state: EngineState = EngineState.NOT_LOADED
    info: ModelInfo | None = None
    error: ModelError | None = None
    last_stats: GenerationStats = field(default_factory=GenerationStats)
    _llm: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _formatter: Any = None
    _stop: list[str] = field(default_factory=list)
    last_tokens: list[int] = field(default_factory=list)

    # -- loading -----------------------------------------------------------------
    def load(self) -> ModelInfo:
        """Load the model (slow: call it off the GUI thread). Raises ModelError."""
        with self._lock:
            if self.state is EngineState.READY and self.info is not None:
                return self.info
            self.state = EngineState.LOADING
            try:
                self.info = self._load()
            except ModelError as exc:
                self.state, self.error = EngineState.FAILED, exc
                raise
            self.state, self.error = EngineState.READY, None
            return self.info

    def use_file(self, model_path: Path | None) -> None:
        """Unload the model and aim the engine at another file (None: the bundled one).

        Waits for a generation in progress, so cancel it first; ``load()`` loads the new
        file. The runtime shares these settings, so it sees the new path too.
        """
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None
            self.settings.model_path = model_path
            self.info, self.error = None, None
            self.state = EngineState.NOT_LOADED
            self.last_tokens = []

    def _load(self) -> ModelInfo:
        path = resolve_model_path(self.settings.model_path)
        info = inspect_model(path)
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - broken install
            raise ModelError(
                "llama-cpp-python is not installed. Run installers/setup.sh again.",
                detail=str(exc),
            ) from exc
        started = time.perf_counter()
        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=self.settings.n_ctx,
                n_threads=self.threads,
                n_gpu_layers=gpu_layers(self.settings.n_gpu_layers),
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"llama.cpp could not load the model file {path} ({exc}). It may be damaged or "
                "made for a newer llama.cpp. " + FIX_HINT,
                detail=str(exc),
            ) from exc
        self._setup_template(info)
        log.info("model %s loaded in %.2fs", info.label, time.perf_counter() - started)
        return info

    def _setup_template(self, info: ModelInfo) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llm = self._llm
        template = llm.metadata.get("tokenizer.chat_template")
        eos = llm._model.token_get_text(llm.token_eos()) if llm.token_eos() >= 0 else ""
        bos = llm._model.token_get_text(llm.token_bos()) if llm.token_bos() >= 0 else ""
        if not template:
            log.warning("model %s has no chat template; using a plain layout", info.name)
            template = (
                "{% for m in messages %}### {{ m['role'] | capitalize }}:\n{{ m['content'] }}\n\n"
                "{% endfor %}{% if add_generation_prompt %}### Assistant:\n{% endif %}"
            )
        self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
        self._stop = [s for s in {eos, "<|im_end|>", "<|eot_id|>", "<end_of_turn>"} if s]

    @property
    def threads(self) -> int:
        return self.settings.n_threads or default_threads()

    @property
    def stop_strings(self) -> list[str]:
        return list(self._stop)

    @property
    def llama(self) -> Any:
        """The raw llama_cpp.Llama, for the benchmark's bare baseline only."""
        self._require_ready()
        return self._llm

    @property
    def n_ctx(self) -> int:
        return self._llm.n_ctx() if self._llm is not None else self.settings.n_ctx

    # -- prompts -----------------------------------------------------------------
    def tokenize_messages(self, messages: tuple[ChatMessage, ...] | list[ChatMessage]) -> list[int]:
        """Render the chat template and tokenise: template text special, content plain."""
        self._require_ready()
        placeholders = [
            {"role": m.role, "content": _SENTINEL.format(i)} for i, m in enumerate(messages)
        ]
        rendered = self._formatter(messages=placeholders).prompt
        tokens: list[int] = []
        first = True
        for index, piece in enumerate(rendered.split("\x1e")):
            if index % 2 == 0:
                tokens += self._tokenize(piece, special=True, add_bos=first)
            else:
                for segment in messages[int(piece)].segments:
                    tokens += self._tokenize(segment.text, special=segment.trusted, add_bos=False)
            first = False
        return tokens

    def _tokenize(self, text: str, *, special: bool, add_bos: bool) -> list[int]:
        if not text and not add_bos:
            return []
        bos_text = self._formatter.bos_token if self._formatter else ""
        if add_bos and bos_text and text.startswith(bos_text):
            add_bos = False
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special))

    def _require_ready(self) -> None:
        if self.state is not EngineState.READY or self._llm is None:
            if self.error is not None:
                raise self.error
            raise ModelError("The model is not loaded yet. Wait a moment and try again.")

    # -- generation ----------------------------------------------------------------
    def stream(
        self,
        tokens: list[int],
        *,
        max_tokens: int,
        temperature: float,
        cancel: threading.Event | None = None,
        reuse_cache: bool = True,
        grammar: Any = None,
    ) -> Generator[str, None, None]:
        """Yield text pieces as the model produces them; stop within one token of ``cancel``."""
        self._require_ready()
        cancel = cancel or threading.Event()
        if not fits(self.n_ctx, len(tokens), max_tokens):
            raise ModelError(
                f"The conversation ({len(tokens)} tokens) does not fit the model's context of "
                f"{self.n_ctx} tokens. Raise n_ctx in the settings."
            )
        with self._lock:
            if cancel.is_set():
                raise Cancelled
            self._require_ready()  # the model may have been swapped while this call waited
            stats = GenerationStats(prompt_tokens=len(tokens), max_tokens=max_tokens)
            if reuse_cache:
                # llama.cpp always evaluates at least the last prompt token again
                stats.reused_tokens = min(self._common_prefix(tokens), len(tokens) - 1)
            else:
                self._llm.reset()
            self.last_stats, self.last_tokens = stats, list(tokens)
            started = time.perf_counter()
            pieces = self._llm.create_completion(
                prompt=tokens,
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=0.9,
                repeat_penalty=1.15,
                stop=self._stop,
                stream=True,
                grammar=grammar,
            )
            try:
                for chunk in pieces:
                    if cancel.is_set():
                        raise Cancelled
                    text = chunk["choices"][0]["text"]
                    stats.generated_tokens += 1
                    if stats.decode_start_s is None:
                        stats.decode_start_s = time.perf_counter() - started
                    stats.total_s = time.perf_counter() - started
                    if text:
                        yield text
            except (RuntimeError, ValueError) as exc:
                raise ModelError(
                    f"The model failed while generating ({exc}).", detail=str(exc)
                ) from exc
            finally:
                pieces.close()
                stats.total_s = time.perf_counter() - started

    def _common_prefix(self, tokens: list[int]) -> int:
        cached = self._llm.n_tokens
        previous = self._llm.input_ids[:cached].tolist() if cached else []
        count = 0
        for a, b in zip(previous, tokens, strict=False):
            if a != b:
                break
            count += 1
        return count

    def prefill(self, tokens: list[int], cancel: threading.Event | None = None) -> int:
        """Evaluate a prompt prefix ahead of time (while the agent waits for the customer).

        The next ``stream()`` whose prompt starts with these tokens finds them in the KV
        cache, so the first suggestion of a contact costs only the customer's words.
        Returns how many tokens were evaluated now (0 when they were cached already).
        """
        self._require_ready()
        if not tokens or len(tokens) >= self.n_ctx:
            return 0
        with self._lock:
            if cancel is not None and cancel.is_set():
                raise Cancelled
            self._require_ready()
            cached = self._common_prefix(tokens)
            if cached >= len(tokens):
                return 0
            self._llm.create_completion(prompt=tokens, max_tokens=1, temperature=0.0)
            return len(tokens) - cached

    def reset_cache(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.reset()

    def close(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None
            self.state = EngineState.NOT_LOADED
