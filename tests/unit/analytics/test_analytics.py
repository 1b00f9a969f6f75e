"""Local analytics: what is recorded, what a report says, and that no text is ever kept."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import stat
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from copilot.analytics import Analytics, Reason, Source
from copilot.analytics.events import measure_edit, safe_profile, safe_ref, short_hash
from copilot.analytics.store import FILE_NAME, LATEST
from copilot.commands.stats import EMPTY_MESSAGE, register, run_stats
from copilot.errors import StoreError
from copilot.settings import Settings
from tests.analytics_fixtures import TODAY, Clock, record_activity

CUSTOMER_TEXT = "Zephyrine Quaglioni at 17 Mulberry Lane wants her refund for order QX-99817"
SUGGESTION_TEXT = "Dear Zephyrine, I am so sorry about the broken teapot, refund on its way"
SENT_TEXT = "Hi Zephyrine! Refund for the broken teapot is on its way, sorry again"


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 14, 10, 0, tzinfo=UTC))


@pytest.fixture
def analytics(clock: Clock) -> Analytics:
    store = Analytics.open(Settings(), now=clock)
    yield store
    store.close()


# -- values -------------------------------------------------------------------------------


def test_safe_values_keep_ids_and_hash_anything_text_like():
    assert safe_profile("empathetic-de-escalation") == "empathetic-de-escalation"
    assert safe_profile("Friendly tone") == short_hash("Friendly tone")
    assert safe_ref("3f2a-9c") == "3f2a-9c"
    assert safe_ref("kb/returns.md#refunds~2") == "kb/returns.md#refunds~2"
    assert safe_ref("two words") == short_hash("two words")
    assert safe_ref("x" * 81) == short_hash("x" * 81)
    assert len(short_hash("anything")) == 16


def test_edit_distance_is_character_level_and_normalised():
    same = measure_edit("Hello there", "Hello there")
    assert (same.distance, same.ratio, same.edited) == (0, 0.0, False)
    one = measure_edit("Hello there", "Hello there!")
    assert one.distance == 1 and one.edited
    assert one.ratio == pytest.approx(1 / 12)
    assert measure_edit("abc", "xyz").ratio == 1.0


# -- figures --------------------------------------------------------------------------------


def test_report_counts_acceptance_edits_and_first_token_times(analytics: Analytics):
    for n, ms in enumerate([100.0, 200.0, 300.0, 400.0, 1000.0]):
        analytics.suggestion_shown(
            suggestion_id=f"s{n}", profile="friendly", source=Source.MODEL, first_token_ms=ms
        )
    analytics.suggestion_inserted(
        suggestion_id="s0", profile="friendly", source=Source.MODEL, original="abc", inserted="abc"
    )
    analytics.suggestion_inserted(
        suggestion_id="s1", profile="friendly", source=Source.MODEL, original="abcd", inserted="ab"
    )
    # inserting the same suggestion again is still one insertion
    analytics.suggestion_inserted(
        suggestion_id="s1", profile="friendly", source=Source.MODEL, original="abcd", inserted="ab"
    )
    analytics.suggestion_dismissed(suggestion_id="s2", profile="friendly", source=Source.MODEL)
    report = analytics.report(days=7)
    totals = report.totals
    assert (totals.shown, totals.inserted, totals.edited, totals.dismissed) == (5, 2, 1, 1)
    assert totals.acceptance_rate == pytest.approx(0.4)
    assert totals.edited_share == pytest.approx(0.5)
    assert totals.median_first_token_ms == pytest.approx(300.0)
    assert totals.p90_first_token_ms == pytest.approx(760.0)
    assert totals.mean_edit_ratio == pytest.approx((0 + 0.5 + 0.5) / 3)
    assert report.first_token_ms == [100.0, 200.0, 300.0, 400.0, 1000.0]
    [row] = report.days
    assert (row.day, row.profile, row.shown) == (TODAY, "friendly", 5)


def test_approved_replies_are_counted_apart_from_model_suggestions(analytics: Analytics):
    analytics.suggestion_shown(
        suggestion_id="m1", profile="formal", source=Source.MACRO, first_token_ms=None
    )
    analytics.suggestion_shown(
        suggestion_id="m2", profile="formal", source=Source.MACRO, first_token_ms=float("nan")
    )
    analytics.suggestion_inserted(
        suggestion_id="m2", profile="formal", source=Source.MACRO, original="a", inserted="a"
    )
    analytics.suggestion_shown(
        suggestion_id="s1", profile="formal", source=Source.MODEL, first_token_ms=300.0
    )
    report = analytics.report()
    assert (report.totals.macro_shown, report.totals.macro_inserted) == (2, 1)
    assert (report.totals.shown, report.totals.inserted) == (1, 0)
    assert report.totals.acceptance_rate == 0.0
    assert report.first_token_ms == [300.0]


def test_reply_sent_keeps_similarity_or_notes_no_suggestion(analytics: Analytics):
    analytics.reply_sent(profile="friendly", suggested="Hello there", sent="Hello there")
    analytics.reply_sent(profile="friendly", suggested="abcd", sent="abxx")
    analytics.reply_sent(profile="friendly", suggested=None, sent="written from scratch")
    totals = analytics.report().totals
    assert totals.sent == 3
    assert totals.mean_similarity == pytest.approx((1.0 + 0.5) / 2)
    rows = sqlite3.connect(analytics.path).execute("SELECT similarity FROM events").fetchall()
    assert sorted(rows, key=str) == sorted([(1.0,), (0.5,), (None,)], key=str)


def test_thumbs_are_counted_per_source(analytics: Analytics):
    analytics.feedback(target=Source.MODEL, profile="friendly", up=True, ref="s1")
    analytics.feedback(target=Source.MODEL, profile="friendly", up=False, reason=Reason.WRONG_FACTS)
    analytics.feedback(target=Source.MACRO, profile="friendly", up=True)
    analytics.feedback(target=Source.KB, profile="friendly", up=False, ref="doc-7")
    analytics.kb_opened(profile="friendly", doc_id="doc-7")
    totals = analytics.report().totals
    assert (totals.thumbs_up, totals.thumbs_down, totals.kb_opened) == (2, 2, 1)
    assert (totals.thumbs["model"].up, totals.thumbs["model"].down) == (1, 1)
    assert (totals.thumbs["macro"].up, totals.thumbs["kb"].down) == (1, 1)


def test_report_groups_by_day_and_profile_within_the_period(analytics: Analytics, clock: Clock):
    for day, profile in [
        (TODAY, "friendly"),
        (TODAY, "formal"),
        (TODAY - timedelta(days=2), "friendly"),
        (TODAY - timedelta(days=7), "formal"),  # outside a 7-day period
    ]:
        clock.on(day)
        analytics.suggestion_shown(
            suggestion_id=f"{day}-{profile}",
            profile=profile,
            source=Source.MODEL,
            first_token_ms=200,
        )
    report = analytics.report(days=7, today=TODAY)
    assert report.start == TODAY - timedelta(days=6)
    assert len(report.all_days) == 7
    assert [(r.day, r.profile) for r in report.days] == [
        (TODAY - timedelta(days=2), "friendly"),
        (TODAY, "formal"),
        (TODAY, "friendly"),
    ]
    assert report.by_profile["friendly"].shown == 2
    only = analytics.report(days=7, profile="formal", today=TODAY)
    assert only.totals.shown == 1 and list(only.by_profile) == ["formal"]
    assert only.profiles == ["formal", "friendly"]  # the picker still offers both
    assert analytics.report(days=8, today=TODAY).totals.shown == 4


def test_report_json_and_csv_export(analytics: Analytics, clock: Clock, tmp_path: Path):
    shown = record_activity(analytics, clock)
    report = analytics.report(days=30)
    data = json.loads(json.dumps(report.to_json()))
    assert data["totals"]["shown"] == shown
    assert set(data["profiles"]) == {"friendly", "formal", "empathetic-de-escalation"}
    assert data["days"][0]["day"] == (TODAY - timedelta(days=13)).isoformat()
    assert 0 < data["totals"]["acceptance_rate"] < 1
    target = tmp_path / "out" / "figures.csv"
    target.parent.mkdir()
    rows = analytics.export_csv(target, days=30)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert rows == len(report.days) == len(lines) - 1
    assert lines[0].startswith("day,profile,shown,inserted,edited,dismissed,acceptance_rate")
    assert "thumbs_kb_down" in lines[0]
    assert [p.name for p in target.parent.iterdir()] == ["figures.csv"]  # no temporary left


def test_csv_export_to_an_unwritable_place_is_a_clear_error(analytics: Analytics, tmp_path: Path):
    with pytest.raises(StoreError, match="could not be written") as caught:
        analytics.export_csv(tmp_path / "missing-folder" / "x.csv")
    assert "Pick another folder" in caught.value.user_message


# -- the file ---------------------------------------------------------------------------------


def test_file_is_created_lazily_private_in_wal_mode(analytics: Analytics):
    assert analytics.report().empty
    assert not analytics.path.exists()
    assert analytics.path == Path(Settings().data_dir) / FILE_NAME
    analytics.suggestion_shown(
        suggestion_id="s1", profile="friendly", source=Source.MODEL, first_token_ms=1
    )
    assert stat.S_IMODE(analytics.path.stat().st_mode) == 0o600
    wal = Path(f"{analytics.path}-wal")
    assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    conn = sqlite3.connect(analytics.path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA user_version").fetchone() == (LATEST,)
    conn.close()
    assert analytics.last_error is None


def test_no_text_column_and_no_customer_text_in_the_file(analytics: Analytics):
    """The raw database, its WAL and shared memory never hold what was said."""
    texts = [CUSTOMER_TEXT, SUGGESTION_TEXT, SENT_TEXT]
    analytics.suggestion_shown(
        suggestion_id=SUGGESTION_TEXT, profile="friendly", source=Source.MODEL, first_token_ms=9
    )
    analytics.suggestion_inserted(
        suggestion_id="s1",
        profile="friendly",
        source=Source.MODEL,
        original=SUGGESTION_TEXT,
        inserted=SUGGESTION_TEXT + " " + CUSTOMER_TEXT,
    )
    analytics.reply_sent(profile="friendly", suggested=SUGGESTION_TEXT, sent=SENT_TEXT)
    analytics.reply_sent(profile=CUSTOMER_TEXT, suggested=None, sent=CUSTOMER_TEXT)
    analytics.kb_opened(profile="friendly", doc_id=CUSTOMER_TEXT)
    analytics.feedback(target=Source.MODEL, profile="formal", up=False, ref=SENT_TEXT)
    analytics.suggestion_shown(
        suggestion_id="s2",
        profile="friendly",
        source=Source.MODEL,
        first_token_ms=5,
        language=CUSTOMER_TEXT,
    )

    def assert_clean() -> None:
        files = list(analytics.path.parent.glob(FILE_NAME + "*"))
        assert files
        for path in files:
            raw = path.read_bytes()
            for text in texts:
                for piece in [text, *text.split()[:3]]:
                    if len(piece) >= 6:
                        assert piece.encode() not in raw, (path.name, piece)
                        assert piece.encode("utf-16-le") not in raw, (path.name, piece)

    assert Path(f"{analytics.path}-wal").stat().st_size > 0
    assert_clean()
    analytics.close()
    assert_clean()
    conn = sqlite3.connect(analytics.path)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    profiles = {row[0] for row in conn.execute("SELECT DISTINCT profile FROM events")}
    conn.close()
    assert columns == {
        "id",
        "at",
        "day",
        "kind",
        "profile",
        "source",
        "ref",
        "language",
        "first_token_ms",
        "edit_distance",
        "edit_ratio",
        "similarity",
        "up",
        "reason",
    }
    assert profiles == {"friendly", "formal", short_hash(CUSTOMER_TEXT)}


def test_the_database_itself_refuses_values_outside_the_enums(analytics: Analytics):
    analytics.kb_opened(profile="friendly", doc_id="d1")
    conn = sqlite3.connect(analytics.path)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO events (at, day, kind, profile, ref) VALUES (?, ?, ?, ?, ?)",
            ("x", "2026-03-14", "kb_opened", "friendly", "a" * 200),
        )
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO events (at, day, kind, profile) VALUES ('x', '2026-03-14', 'chat', 'f')"
        )
    conn.close()


def test_records_from_several_threads_all_arrive(analytics: Analytics):
    def work(worker: int) -> None:
        for n in range(50):
            analytics.suggestion_shown(
                suggestion_id=f"w{worker}-{n}",
                profile="friendly",
                source=Source.MODEL,
                first_token_ms=n,
            )

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert analytics.report().totals.shown == 200
    assert analytics.last_error is None


# -- failures never reach the caller ------------------------------------------------------------


def _show(store: Analytics, sid: str = "s1") -> None:
    store.suggestion_shown(
        suggestion_id=sid, profile="friendly", source=Source.MODEL, first_token_ms=10
    )


def test_an_unusable_data_folder_is_reported_not_raised(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    store = Analytics(blocker / FILE_NAME, now=clock)
    with caplog.at_level(logging.WARNING):
        _show(store)
        store.suggestion_inserted(
            suggestion_id="s1",
            profile="friendly",
            source=Source.MODEL,
            original=SUGGESTION_TEXT,
            inserted=SENT_TEXT,
        )
    assert store.last_error and "Analytics could not be saved" in store.last_error
    assert len(caplog.records) == 1  # the same problem is logged once
    assert "Zephyrine" not in caplog.text
    assert store.take_error() is not None and store.last_error is None


def test_a_bad_value_is_ignored_without_quoting_it(
    analytics: Analytics, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.WARNING):
        analytics.feedback(target=CUSTOMER_TEXT, profile="friendly", up=True)  # type: ignore[arg-type]
        analytics.suggestion_inserted(
            suggestion_id="s1",
            profile="friendly",
            source=Source.MODEL,
            original=None,  # type: ignore[arg-type]
            inserted=SENT_TEXT,
        )
    assert analytics.take_error() == "Analytics ignored an event (suggestion_inserted: TypeError)."
    assert "feedback: ValueError" in caplog.text
    assert "Zephyrine" not in caplog.text
    _show(analytics)
    assert analytics.report().totals.shown == 1 and analytics.last_error is None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions")
def test_a_read_only_folder_is_reported_not_raised(tmp_path: Path, clock: Clock):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        store = Analytics(folder / FILE_NAME, now=clock)
        _show(store)
        assert store.last_error and "writable" in store.last_error
        assert store.report().empty
    finally:
        folder.chmod(0o700)


def test_permission_denied_is_reported_not_raised(
    analytics: Analytics, monkeypatch: pytest.MonkeyPatch
):
    """What a read-only folder looks like when the tests run as root (who may write anyway)."""

    def refuse(self: Analytics) -> None:
        raise PermissionError(13, "Permission denied", str(self.path))

    monkeypatch.setattr(Analytics, "_create_file", refuse)
    _show(analytics)
    assert analytics.last_error == (
        "Analytics could not be saved (saving an event: Permission denied). "
        "Suggestions work as before; check that the data folder is writable."
    )
    monkeypatch.undo()
    _show(analytics, "s2")  # the next event, once the folder is writable again, is kept
    assert analytics.report().totals.shown == 1


def test_a_full_disk_is_reported_not_raised(analytics: Analytics):
    _show(analytics, "first")
    assert analytics._conn is not None
    pages = analytics._conn.execute("PRAGMA page_count").fetchone()[0]
    analytics._conn.execute(f"PRAGMA max_page_count = {pages}")
    for n in range(400):
        _show(analytics, f"s{n}-" + "x" * 60)
    assert analytics.last_error and "disk is full" in analytics.last_error


def test_a_damaged_file_is_kept_aside_and_recording_goes_on(
    clock: Clock, caplog: pytest.LogCaptureFixture
):
    path = Path(Settings().data_dir) / FILE_NAME
    path.parent.mkdir(parents=True)
    garbage = b"this is not a database at all " * 200
    path.write_bytes(garbage)
    store = Analytics.open(Settings(), now=clock)
    with caplog.at_level(logging.WARNING):
        _show(store)
    kept = list(path.parent.glob("analytics.broken-*.sqlite3"))
    assert len(kept) == 1 and kept[0].read_bytes() == garbage
    assert store.last_error and kept[0].name in store.last_error
    assert store.report().totals.shown == 1
    assert kept[0].name in caplog.text
    store.close()


def test_a_damaged_file_found_while_reading_is_kept_aside(clock: Clock):
    path = Path(Settings().data_dir) / FILE_NAME
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00garbage" * 500)
    store = Analytics.open(Settings(), now=clock)
    assert store.report().empty
    assert store.last_error and "damaged" in store.last_error
    assert len(list(path.parent.glob("analytics.broken-*"))) == 1
    store.close()


def test_a_file_from_a_newer_copilot_is_left_alone(clock: Clock):
    path = Path(Settings().data_dir) / FILE_NAME
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = path.read_bytes()
    store = Analytics.open(Settings(), now=clock)
    _show(store)
    assert store.last_error and "newer copilot" in store.last_error
    store.close()
    assert path.read_bytes() == before


# -- the stats command ------------------------------------------------------------------------


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["stats", *argv])


@pytest.fixture
def runtime() -> SimpleNamespace:
    return SimpleNamespace(settings=Settings())


def test_stats_prints_a_friendly_line_when_nothing_was_recorded(runtime, capsys):
    assert run_stats(_parse(), runtime) == 0
    assert EMPTY_MESSAGE in capsys.readouterr().out
    assert not (Path(Settings().data_dir) / FILE_NAME).exists()


def test_stats_table_json_and_csv(runtime, capsys, tmp_path: Path):
    clock = Clock(datetime.now(UTC))
    with Analytics.open(Settings(), now=clock) as store:
        record_activity(store, clock, end=date.today(), days=10)
    assert run_stats(_parse("--days", "7"), runtime) == 0
    out = capsys.readouterr().out
    assert "Per profile" in out and "Per day" in out
    assert "empathetic-de-escalation" in out and "%" in out and "Thumbs up/down: model" in out
    assert str(date.today()) in out
    assert run_stats(_parse("--json", "--profile", "formal"), runtime) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["profile"] == "formal" and list(data["by_profile"]) == ["formal"]
    target = tmp_path / "stats.csv"
    assert run_stats(_parse("--csv", str(target), "--days", "90"), runtime) == 0
    captured = capsys.readouterr()
    assert f"to {target}" in captured.err
    assert len(target.read_text(encoding="utf-8").splitlines()) > 10


def test_stats_reports_an_unwritable_csv_path(runtime, capsys, tmp_path: Path):
    assert run_stats(_parse("--csv", str(tmp_path / "nope" / "x.csv")), runtime) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The CSV file") and "Pick another folder" in err


@pytest.mark.parametrize("days", ["0", "-3", "many", "99999"])
def test_stats_rejects_a_bad_number_of_days(days: str, capsys):
    with pytest.raises(SystemExit):
        _parse("--days", days)
    assert "whole number of days" in capsys.readouterr().err
