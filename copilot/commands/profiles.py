"""``agent-copilot profiles [list|export|import|passphrase]``: profiles and packs headless.

IT rolls packs out with scripts, so every question asked on a terminal can also be
answered through an environment variable.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from copilot.errors import CopilotError, PrivacyError

if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.profiles.passphrase import SupervisorLock
    from copilot.runtime import Runtime

PASSPHRASE_ENV = "AGENT_COPILOT_SUPERVISOR_PASSPHRASE"
NEW_PASSPHRASE_ENV = "AGENT_COPILOT_SUPERVISOR_NEW_PASSPHRASE"


def register(sub: Subcommands) -> None:
    p = sub.add_parser(
        "profiles", help="list profiles; export and import profile packs (supervisors)"
    )
    p_sub = p.add_subparsers(dest="profiles_command", metavar="PROFILES_COMMAND")
    p_sub.add_parser("list", help="list the profiles and any broken profile files (the default)")
    e = p_sub.add_parser("export", help="write the published profiles as one pack file")
    e.add_argument("file", type=Path, metavar="FILE")
    e.add_argument("--author", help="who made the pack (default: the agent_name setting)")
    i = p_sub.add_parser("import", help="replace the published profiles with a pack's")
    i.add_argument("file", type=Path, metavar="FILE")
    i.add_argument("--dry-run", action="store_true", help="show what would change, change nothing")
    i.add_argument(
        "--allow-older", action="store_true", help="accept a pack older than the installed one"
    )
    p_sub.add_parser(
        "passphrase",
        help=f"set or change the supervisor passphrase (scripts: {PASSPHRASE_ENV} and "
        f"{NEW_PASSPHRASE_ENV})",
    )
    p.set_defaults(run=run_profiles)


def run_profiles(args: argparse.Namespace, runtime: Runtime) -> int:
    command = getattr(args, "profiles_command", None) or "list"
    if command == "export":
        return _export(args, runtime)
    if command == "import":
        return _import(args, runtime)
    if command == "passphrase":
        return _passphrase()
    return _list(runtime)


def _list(runtime: Runtime) -> int:
    for name in runtime.profiles.names():
        marker = "*" if name == runtime.default_profile_name else " "
        print(f"{marker} {name:28} {runtime.profiles.profiles[name].description}")
    for error in runtime.profiles.errors:
        print(f"error: {error.user_message}", file=sys.stderr)
    return 1 if runtime.profiles.errors else 0


def _export(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.profiles.packs import export_pack

    author = args.author if args.author is not None else runtime.settings.agent_name
    path = export_pack(runtime.library, args.file, author=author)
    names = runtime.library.load().names()
    version = max(runtime.library.pack_version, 1)
    print(f"Exported {len(names)} profiles (pack version {version}) to {path}")
    return 0


def _import(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.profiles.packs import apply_import, plan_import, read_pack
    from copilot.profiles.passphrase import SupervisorLock

    pack = read_pack(args.file)
    plan = plan_import(runtime.library, pack)
    if args.dry_run:
        for line in plan.lines():
            print(line)
        print("Dry run: nothing was changed.")
        return 0
    _unlock(SupervisorLock())
    report = apply_import(runtime.library, pack, allow_older=args.allow_older)
    for line in report.lines():
        print(line)
    print(f"Imported profile pack version {pack.pack_version} into {runtime.library.folder}.")
    for error in runtime.reload_profiles():
        print(f"error: {error.user_message}", file=sys.stderr)
    return 1 if runtime.profiles.errors else 0


def _ask(prompt: str, env: str) -> str | None:
    """From the environment (scripts) or typed on a terminal; None when neither can be."""
    value = os.environ.get(env)
    if value is not None:
        return value
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return None


def _unlock(lock: SupervisorLock) -> None:
    if not lock.is_set():
        raise PrivacyError(
            "No supervisor passphrase is set yet, so profiles cannot be imported. "
            "Set one first with `agent-copilot profiles passphrase`."
        )
    passphrase = _ask("Supervisor passphrase: ", PASSPHRASE_ENV)
    if passphrase is None:
        raise CopilotError(
            f"Importing profiles needs the supervisor passphrase: run this in a terminal, "
            f"or set {PASSPHRASE_ENV}."
        )
    if not lock.verify(passphrase):
        raise PrivacyError("The supervisor passphrase is wrong; nothing was imported.")


def _passphrase() -> int:
    from copilot.profiles.passphrase import SupervisorLock

    lock = SupervisorLock()
    current = None
    changing = lock.is_set()
    if changing:
        current = _ask("Current supervisor passphrase: ", PASSPHRASE_ENV)
        if current is None:
            raise CopilotError(
                f"Changing the supervisor passphrase needs the current one: run this in a "
                f"terminal, or set {PASSPHRASE_ENV} and {NEW_PASSPHRASE_ENV}."
            )
    new = os.environ.get(NEW_PASSPHRASE_ENV)
    if new is None:
        if not sys.stdin.isatty():
            raise CopilotError(
                f"Run this in a terminal to type the new supervisor passphrase, or set "
                f"{NEW_PASSPHRASE_ENV}."
            )
        new = getpass.getpass("New supervisor passphrase (at least 8 characters): ")
        if getpass.getpass("Repeat it: ") != new:
            raise CopilotError("The two passphrases differ; nothing was changed.")
    lock.set_passphrase(new, current)
    print(
        "The supervisor passphrase was changed."
        if changing
        else "The supervisor passphrase is set."
    )
    return 0
