"""``agent-copilot history ...``: the customer history headless."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from copilot.errors import CopilotError, StoreError

if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.history.service import History
    from copilot.history.store import Customer
    from copilot.runtime import Runtime


def register(sub: Subcommands) -> None:
    h = sub.add_parser("history", help="customer history: import, show, export, forget")
    h_sub = h.add_subparsers(dest="history_command", metavar="HISTORY_COMMAND", required=True)
    p = h_sub.add_parser("import", help="import earlier contacts from JSON or CSV (resumable)")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument(
        "--summarise", action="store_true", help="summarise new contacts with the model now"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p = h_sub.add_parser("show", help="a customer's digest and timeline")
    p.add_argument("customer", help="customer id, phone number, email or handle")
    p.add_argument("--json", action="store_true")
    p = h_sub.add_parser("export", help="everything stored about one customer (right of access)")
    p.add_argument("customer", help="customer id, phone number, email or handle")
    p.add_argument("--out", type=Path, help="write to this file instead of standard output")
    p.add_argument(
        "--no-redact",
        action="store_true",
        help="keep personal data (emails, phones, cards, IBANs, addresses) in the text",
    )
    p = h_sub.add_parser("forget", help="erase one customer completely")
    p.add_argument("customer", help="customer id, phone number, email or handle")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = h_sub.add_parser("summarise", help="summarise stored contacts with the model")
    p.add_argument("--all", action="store_true", help="also redo summaries the model already made")
    p = h_sub.add_parser("stats", help="what the history store holds, and how it is protected")
    p.add_argument("--json", action="store_true")
    h_sub.add_parser("retention", help="delete contacts older than history_retention_days now")
    h.set_defaults(run=run_history)


def open_history(runtime: Runtime) -> History:
    """Unlock the store, asking for the passphrase on a terminal when there is no keyring."""
    from copilot.history.keys import PassphraseRequired
    from copilot.history.service import PASSPHRASE_ENV, History

    try:
        return History.open(runtime.settings)
    except PassphraseRequired as exc:
        if not sys.stdin.isatty():
            raise CopilotError(
                f"{exc.user_message} Run this in a terminal, or set {PASSPHRASE_ENV}."
            ) from None
        print(exc.user_message, file=sys.stderr)
        passphrase = getpass.getpass("Passphrase: ")
        if exc.creating and getpass.getpass("Repeat it: ") != passphrase:
            raise CopilotError("The two passphrases differ; nothing was created.") from None
        return History.open(runtime.settings, passphrase=passphrase)


def resolve(history: History, text: str) -> Customer:
    from copilot.history.records import guess_identifier_kind

    customer = history.store.customer(text) or history.store.find(guess_identifier_kind(text), text)
    if customer is None:
        raise StoreError(
            f"No customer matches '{text}' (try an id, phone number, email or handle)."
        )
    return customer


def run_history(args: argparse.Namespace, runtime: Runtime) -> int:
    history = open_history(runtime)
    try:
        handler = {
            "import": _import,
            "show": _show,
            "export": _export,
            "forget": _forget,
            "summarise": _summarise,
            "stats": _stats,
            "retention": _retention,
        }[args.history_command]
        return handler(args, history, runtime)
    finally:
        history.close()


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\r{done}/{total}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _import(args: argparse.Namespace, history: History, runtime: Runtime) -> int:
    from copilot.history.importer import import_history

    reports, failed = [], False
    for path in args.paths:
        try:
            report = import_history(history.store, path, progress=_progress)
        except CopilotError as exc:
            print(f"error: {exc.user_message}", file=sys.stderr)
            failed = True
            continue
        reports.append(report)
        failed |= not report.ok
        if not args.json:
            print("\n".join(report.lines()))
    if args.json:
        print(json.dumps([_report_dict(r) for r in reports], indent=2, ensure_ascii=False))
    if args.summarise:
        _summarise_pending(history, runtime, redo=False)
    return 1 if failed else 0


def _report_dict(report: Any) -> dict[str, Any]:
    return {
        "file": str(report.path),
        "contacts_added": report.contacts_added,
        "contacts_existing": report.contacts_existing,
        "customers": report.customers,
        "problems": report.problems,
        "warnings": report.warnings,
    }


def _show(args: argparse.Namespace, history: History, runtime: Runtime) -> int:
    customer = resolve(history, args.customer)
    timeline = history.timeline(customer.id)
    assert timeline is not None
    if args.json:
        print(
            json.dumps(
                {
                    "customer": {"id": customer.id, "name": customer.name},
                    "digest": {
                        "headline": timeline.digest.headline,
                        "points": timeline.digest.points,
                    },
                    "contacts": [
                        {
                            "id": c.id,
                            "channel": c.channel,
                            "started_at": c.started_at.isoformat(),
                            "disposition": c.disposition,
                            "summary": c.summary.model_dump(mode="json") if c.summary else None,
                        }
                        for c in timeline.contacts
                    ],
                    "ms": round(timeline.seconds * 1000, 2),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{customer.label} ({customer.id})")
    print(timeline.digest.headline)
    for point in timeline.digest.points:
        print(f"  • {point}")
    for contact in timeline.contacts:
        when = contact.started_at.strftime("%Y-%m-%d %H:%M")
        print(f"\n{when}  {contact.channel}  {contact.disposition or ''}")
        if contact.summary:
            print(f"  {contact.summary.text()}  [{contact.summary.method.value}]")
            for item in contact.summary.open_items:
                print(f"  open: {item}")
    return 0


def _export(args: argparse.Namespace, history: History, runtime: Runtime) -> int:
    from copilot.privacy import redact

    customer = resolve(history, args.customer)
    data = history.store.export_customer(customer.id)
    if not args.no_redact:
        data = _redact_tree(data, redact)
        data["redacted"] = True
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if args.out:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise StoreError(f"Could not write {args.out} ({exc}).") from exc
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _redact_tree(value: Any, redact: Any, key: str = "") -> Any:
    """Redact every string; identifiers become their kind, since they are personal data."""
    if isinstance(value, dict):
        return {k: _redact_tree(v, redact, k) for k, v in value.items()}
    if isinstance(value, list):
        if key in {"phone", "email", "handle"}:
            return [f"[{key}]" for _ in value]
        return [_redact_tree(v, redact, key) for v in value]
    if isinstance(value, str) and key not in {"id", "channel", "disposition", "method", "role"}:
        return redact(value)
    return value


def _forget(args: argparse.Namespace, history: History, runtime: Runtime) -> int:
    customer = resolve(history, args.customer)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CopilotError("Add --yes to erase a customer when not running in a terminal.")
        answer = input(f"Erase {customer.label} ({customer.id}) and all their contacts? [y/N] ")
        if answer.strip().lower() not in {"y", "yes"}:
            print("Nothing was erased.")
            return 1
    report = history.store.forget(customer.id)
    print(
        f"Erased {customer.id}: {report.contacts} contacts, {report.messages} messages, "
        f"{report.summaries} summaries, {report.identifiers} identifiers; the file was rewritten."
    )
    return 0


def _summarise(args: argparse.Namespace, history: History, runtime: Runtime) -> int:
    return _summarise_pending(history, runtime, redo=args.all)


def _summarise_pending(history: History, runtime: Runtime, *, redo: bool) -> int:
    from copilot.history.records import SummaryMethod
    from copilot.history.summarise import summarise

    methods: tuple[str, ...] = (SummaryMethod.EXTRACTIVE.value,)
    if redo:
        methods += (SummaryMethod.MODEL.value, SummaryMethod.MIXED.value)
    pending = history.store.contacts_needing_summary(methods)
    if not pending:
        print("Every contact already has a model summary.")
        return 0
    info = runtime.engine.load()
    for done, contact_id in enumerate(pending, start=1):
        summary = summarise(runtime.engine, history.store.messages(contact_id))
        history.store.save_summary(contact_id, summary, info.label)
        _progress(done, len(pending))
    return 0


def _stats(args: argparse.Namespace, history: History, runtime: Runtime) -> int:
    data = {
        **history.store.counts(),
        "file": str(history.store.path),
        "encryption": "SQLCipher (AES-256)",
        "key": history.key_source,
        "retention_days": runtime.settings.history_retention_days,
    }
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for key, value in data.items():
            print(f"{key:>15}: {value}")
    return 0


def _retention(args: argparse.Namespace, history: History, runtime: Runtime) -> int:
    days = runtime.settings.history_retention_days
    if not days:
        print("No retention period is set (history_retention_days = 0): nothing deleted.")
        return 0
    print(f"Deleted {history.apply_retention()} contacts older than {days} days.")
    return 0
