"""What several commands share: printing a stream, loading the model, finding the window.

Kept apart from ``copilot.cli`` so that no command imports the entry point that imports it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TextIO

# The assist session loads numpy; a command that prints no suggestion should not wait for it.
if TYPE_CHECKING:
    from copilot.assist.suggestion import Chunk, Suggestion
    from copilot.runtime import Runtime

    #: What each command module's ``register`` adds its parsers to.
    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]


class StreamPrinter:
    """Print chunks as they come; a replacing chunk prints only what is new when it can."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out, self.shown = out or sys.stdout, ""

    def show(self, chunk: Chunk) -> None:
        total = chunk.text if chunk.replace else self.shown + chunk.text
        if total.startswith(self.shown):
            self.out.write(total[len(self.shown) :])
        else:
            self.out.write("\n" + total)
        self.shown = total
        self.out.flush()

    def play(self, stream: Generator[Chunk, None, Suggestion]) -> Suggestion:
        """Print a whole suggestion stream, end its line, and return the Suggestion."""
        from copilot.assist.session import run_to_end

        result = run_to_end(stream, self.show)
        self.out.write("\n")
        return result


def load_engine(runtime: Runtime) -> None:
    """Load the model, saying so on stderr: it takes seconds and stdout may be parsed."""
    print("Loading the model…", file=sys.stderr, flush=True)
    info = runtime.engine.load()
    print(f"Model: {info.label}", file=sys.stderr, flush=True)


def frontend(name: str) -> Any:
    """A part of the window (``window``, ``selftest``), found through its entry point so the
    core never imports the UI; None, after saying so, when the window is not installed."""
    frontends = entry_points(group="agent_copilot.frontends", name=name)
    if not frontends:
        print("error: the window is not installed; run installers/setup.sh", file=sys.stderr)
        return None
    return next(iter(frontends)).load()
