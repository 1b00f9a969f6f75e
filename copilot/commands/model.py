"""``agent-copilot model [add|list|use]``: bring your own GGUF model, headless.

IT rolls models out with scripts, so every step prints what it did and fails with a
message that says what to do.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from copilot.model.store import ModelEntry, add_model, list_models, use_model
from copilot.settings import Settings, update_settings

if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.runtime import Runtime

PROGRESS_FROM_BYTES = 64 * 1024 * 1024


def register(sub: Subcommands) -> None:
    p = sub.add_parser("model", help="add a GGUF model, list the models, choose the one to use")
    m_sub = p.add_subparsers(dest="model_command", metavar="MODEL_COMMAND")
    a = m_sub.add_parser("add", help="check a .gguf file and copy it into the models folder")
    a.add_argument("file", type=Path, metavar="FILE.gguf")
    a.add_argument("--link", action="store_true", help="link to the file instead of copying it")
    a.add_argument("--use", action="store_true", help="make it the model the copilot loads")
    ls = m_sub.add_parser("list", help="the bundled and added models, * marks the active one")
    ls.add_argument("--json", action="store_true", help="print machine-readable entries")
    u = m_sub.add_parser("use", help="make a listed model the one the copilot loads")
    u.add_argument("name", metavar="NAME")
    p.set_defaults(run=run_model)


def run_model(args: argparse.Namespace, runtime: Runtime) -> int:
    settings = runtime.settings
    command = getattr(args, "model_command", None) or "list"
    if command == "add":
        return _add(args, settings)
    if command == "use":
        entry = use_model(settings, args.name)
        print(f"The copilot now uses {entry.name} ({entry.quantisation}).")
        return 0
    return _list(settings, as_json=getattr(args, "json", False))


def _add(args: argparse.Namespace, settings: Settings) -> int:
    progress = _Progress(args.file.name)
    entry = add_model(settings, args.file, link=args.link, progress=progress)
    progress.finish()
    verb = "Linked" if args.link else "Added"
    facts = f"{_size(entry.size_bytes)}, {entry.quantisation}, {entry.architecture}"
    print(f"{verb} {entry.name} ({facts}), sha256 {entry.sha256}")
    if args.use:
        update_settings(model_path=entry.file)
        print(f"The copilot now uses {entry.name}.")
    else:
        print(f"Use it with: agent-copilot model use {entry.name}")
    return 0


def _list(settings: Settings, *, as_json: bool) -> int:
    entries = list_models(settings)
    if as_json:
        print(json.dumps([e.to_json() for e in entries], indent=2))
        return 0
    for entry in entries:
        print(_line(entry))
    return 0 if all(e.present for e in entries) else 1


def _line(entry: ModelEntry) -> str:
    marker = "*" if entry.active else " "
    note = "" if entry.present else "  (file missing)"
    return (
        f"{marker} {entry.name:40} {_size(entry.size_bytes):>9}  {entry.quantisation:8} "
        f"{entry.origin}{note}"
    )


def _size(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"


class _Progress:
    """A percentage on stderr for big files; small ones are done before anyone could read it."""

    def __init__(self, label: str, out: TextIO = sys.stderr) -> None:
        self.label, self.out, self.shown = label, out, -1

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_FROM_BYTES:
            return
        percent = done * 100 // max(total, 1)
        if percent != self.shown:
            self.shown = percent
            self.out.write(f"\r{self.label}: {percent}% of {_size(total)}")
            self.out.flush()

    def finish(self) -> None:
        if self.shown >= 0:
            self.out.write("\n")
            self.out.flush()
