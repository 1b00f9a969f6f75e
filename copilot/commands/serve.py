"""``agent-copilot serve``, ``feed`` and ``api token|schema``: the loopback API headless."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.errors import CopilotError

if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.runtime import Runtime


def register(sub: Subcommands) -> None:
    from copilot.api.models import DEFAULT_PORT

    p = sub.add_parser("serve", help="run the loopback API headless (for phone and chat tools)")
    p.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    p.add_argument("--no-model", action="store_true", help="serve without loading the model")
    p.set_defaults(run=run_serve)
    p = sub.add_parser("feed", help="replay a recorded conversation against the running API")
    p.add_argument("file", type=Path, help='JSON lines: optional {"start": ...}, then messages')
    p.add_argument("--speed", type=float, default=1.0, help="pace factor; 0 posts at once")
    p.add_argument("--speech", action="store_true", help="customer turns as partial speech first")
    p.add_argument("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}")
    p.add_argument("--token", help="bearer token (default: the one kept in the OS keyring)")
    p.add_argument("--channel", help="channel when the file has no start line")
    p.add_argument("--customer", help="phone, email or handle when the file has no start line")
    p.set_defaults(run=run_feed)
    api = sub.add_parser("api", help="the loopback API's token and schema")
    api_sub = api.add_subparsers(dest="api_command", metavar="API_COMMAND", required=True)
    api_sub.add_parser("token", help="print the bearer token integrations must send")
    api_sub.add_parser("schema", help="print the OpenAPI schema")
    api.set_defaults(run=run_api)


def run_api(args: argparse.Namespace, runtime: Runtime) -> int:
    """``api token`` prints the bearer token; ``api schema`` the OpenAPI schema."""
    import json

    from copilot.api.live import LiveContacts
    from copilot.api.server import api_token, create_app

    token, where = api_token()
    if args.api_command == "token":
        print(token)
        print(f"(kept in: {where})", file=sys.stderr)
    else:
        print(json.dumps(create_app(LiveContacts(runtime), token).openapi(), indent=1))
    return 0


def run_feed(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.api.feed import feed, load_recording
    from copilot.api.models import StartContact
    from copilot.api.server import stored_api_token
    from copilot.history.records import guess_identifier_kind

    customer: dict[str, str] = {}
    if args.customer:
        customer[guess_identifier_kind(args.customer).value] = args.customer
    start = StartContact.model_validate({"channel": args.channel or "chat", "customer": customer})
    recording = load_recording(args.file, start)
    token = args.token or stored_api_token()
    if not token:
        raise CopilotError(
            "No API token is kept in the OS keyring on this machine. Pass --token (the window's "
            "Integration dialog shows it; `agent-copilot serve` prints it)."
        )
    feed(recording, args.url, token, args.speed, args.speech)
    return 0


def run_serve(args: argparse.Namespace, runtime: Runtime) -> int:
    from copilot.api.live import LiveContacts
    from copilot.api.serve import serve_forever
    from copilot.api.server import api_token, check_loopback

    check_loopback(args.host)
    token, where = api_token()
    if where == "OS keyring":
        print("Bearer token kept in the OS keyring; print it with: agent-copilot api token")
    else:
        print(f"Bearer token {where}: {token}", flush=True)
    if not args.no_model:
        print("Loading the model…", file=sys.stderr, flush=True)
        runtime.engine.load()
    knowledge, history, macros = _optional_parts(runtime)
    live = LiveContacts(runtime, knowledge, history, macros=macros)
    serve_forever(live, token, args.host, args.port)
    return 0


def _optional_parts(runtime: Runtime) -> tuple[Any, Any, Any]:
    """Knowledge base, history and approved replies, each skipped with a warning if unavailable."""
    knowledge = history = macros = None
    try:
        from copilot.kb.service import KnowledgeBase

        knowledge = KnowledgeBase(runtime.settings)
        knowledge.ensure_demo()
    except CopilotError as exc:
        print(f"warning: {exc.user_message} Serving without articles.", file=sys.stderr)
    try:
        from copilot.commands.history import open_history

        history = open_history(runtime)
        history.ensure_demo()
    except CopilotError as exc:
        print(f"warning: {exc.user_message} Serving without history.", file=sys.stderr)
    try:
        from copilot.macros.library import MacroLibrary

        macros = MacroLibrary.open(runtime.settings)
        macros.index()
    except CopilotError as exc:
        print(f"warning: {exc.user_message} Serving without approved replies.", file=sys.stderr)
    return knowledge, history, macros
