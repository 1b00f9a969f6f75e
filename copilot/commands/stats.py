"""``agent-copilot stats``: the analytics as a table, as JSON, or exported to CSV."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from copilot.analytics.events import Source
from copilot.analytics.report import Figures, Report
from copilot.analytics.store import Analytics
from copilot.errors import CopilotError

if TYPE_CHECKING:
    from copilot.commands.common import Subcommands
    from copilot.runtime import Runtime

EMPTY_MESSAGE = "No suggestions recorded yet: they appear here after a few contacts."
MAX_DAYS = 3650


def _days(value: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"use a whole number of days from 1 to {MAX_DAYS}")
    return days


def register(sub: Subcommands) -> None:
    p = sub.add_parser("stats", help="suggestions shown, inserted, edited, per day and profile")
    p.add_argument("--days", type=_days, default=30, help="the last N days (default 30)")
    p.add_argument("--profile", help="only this profile")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--csv", type=Path, metavar="FILE", help="also write per-day figures to FILE")
    p.set_defaults(run=run_stats)


def run_stats(args: argparse.Namespace, runtime: Runtime, out: TextIO | None = None) -> int:
    """Print the report; a CSV file that cannot be written is an error (exit status 2)."""
    out = out or sys.stdout
    analytics = Analytics.open(runtime.settings)
    try:
        report = analytics.report(days=args.days, profile=args.profile)
        if args.csv is not None:
            rows = analytics.export_csv(args.csv, days=args.days)
            print(f"Wrote {rows} rows to {args.csv}.", file=sys.stderr)
    except CopilotError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)
        return 2
    finally:
        analytics.close()
    if args.json:
        out.write(json.dumps(report.to_json(), indent=2) + "\n")
    else:
        out.write("\n".join(table_lines(report)) + "\n")
    return 0


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _header(width: int) -> str:
    return (
        f"{'':<{width}}{'shown':>7}{'inserted':>9}{'accept':>8}{'edited':>8}{'dismiss':>8}"
        f"{'median ms':>10}{'p90 ms':>8}{'kb':>5}{'up':>5}{'down':>5}"
    )


def _line(label: str, f: Figures, width: int) -> str:
    return (
        f"{label:<{width}}{f.shown:>7}{f.inserted:>9}{_pct(f.acceptance_rate):>8}"
        f"{_pct(f.edited_share):>8}{f.dismissed:>8}{_ms(f.median_first_token_ms):>10}"
        f"{_ms(f.p90_first_token_ms):>8}{f.kb_opened:>5}{f.thumbs_up:>5}{f.thumbs_down:>5}"
    )


def table_lines(report: Report) -> list[str]:
    """The human table: totals per profile, then one row per day and profile."""
    scope = f"profile {report.profile}" if report.profile else "all profiles"
    lines = [f"Analytics {report.start} to {report.end} ({len(report.all_days)} days), {scope}"]
    if report.empty:
        return [*lines, "", EMPTY_MESSAGE]
    day_labels = [f"{row.day}  {row.profile}" for row in report.days]
    width = max(len(label) for label in [*report.by_profile, *day_labels]) + 2
    lines += ["", "Per profile", _header(width)]
    lines += [_line(name, figures, width) for name, figures in report.by_profile.items()]
    lines.append(_line("all", report.totals, width))
    thumbs = ", ".join(
        f"{s.value} {report.totals.thumbs[s.value].up}/{report.totals.thumbs[s.value].down}"
        for s in Source
    )
    offered, used = report.totals.macro_shown, report.totals.macro_inserted
    lines += [
        f"Thumbs up/down: {thumbs}",
        f"Approved replies: {used} inserted of {offered} offered",
        "",
        "Per day",
        _header(width),
    ]
    lines += [_line(label, row, width) for label, row in zip(day_labels, report.days, strict=True)]
    lines += [
        "",
        "shown, inserted, accept (inserted / shown), edited (inserted after edits / inserted) "
        "and dismissed count the model's suggestions",
    ]
    return lines
