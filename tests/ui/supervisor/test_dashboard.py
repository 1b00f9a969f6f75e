"""The supervisor's analytics dashboard, on figures recorded through the real store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QFileDialog

from copilot.analytics import Analytics, Report, Source
from copilot.errors import StoreError
from copilot.settings import Settings
from tests.analytics_fixtures import TODAY, Clock, record_activity
from ui.supervisor.dashboard import EMPTY_PROFILE_TEXT, EMPTY_TEXT, Dashboard

PROFILES = ("friendly", "formal", "empathetic-de-escalation")


class Loader:
    """The real store's report, with the calls remembered."""

    def __init__(self, store: Analytics) -> None:
        self.store = store
        self.calls: list[tuple[int, str | None]] = []
        self.error: Exception | None = None

    def __call__(self, days: int, profile: str | None) -> Report:
        self.calls.append((days, profile))
        if self.error is not None:
            raise self.error
        return self.store.report(days, profile, today=TODAY)


@pytest.fixture
def store() -> Analytics:
    clock = Clock(datetime(2026, 3, 14, 10, tzinfo=UTC))
    analytics = Analytics.open(Settings(), now=clock)
    analytics.clock = clock  # type: ignore[attr-defined]
    yield analytics
    analytics.close()


@pytest.fixture
def make_dashboard(qtbot):
    def make(store: Analytics, *, exporter=None) -> tuple[Dashboard, Loader]:
        loader = Loader(store)
        dashboard = Dashboard(loader, exporter)
        qtbot.addWidget(dashboard)
        dashboard.resize(880, 580)
        dashboard.show()
        qtbot.waitExposed(dashboard)
        return dashboard, loader

    return make


def test_pyqtgraph_draws_with_pyside6_on_white():
    assert pg.Qt.QT_LIB == "PySide6"


def test_nothing_recorded_shows_a_friendly_empty_state(make_dashboard, store: Analytics):
    dashboard, loader = make_dashboard(store)
    assert loader.calls == [(30, None)]  # loaded when shown
    assert dashboard.stack.currentWidget() is dashboard.empty_label
    assert dashboard.empty_label.text() == EMPTY_TEXT
    assert dashboard.empty_label.isVisible()
    assert dashboard.profile_box.count() == 1
    assert not store.path.exists()  # looking does not create the file


def test_figures_fill_tiles_charts_and_table(make_dashboard, store: Analytics):
    shown = record_activity(store, store.clock, profiles=PROFILES)  # type: ignore[attr-defined]
    dashboard, _ = make_dashboard(store, exporter=store.export_csv)
    totals = store.report(30, today=TODAY).totals
    assert dashboard.stack.currentIndex() == 0
    assert dashboard.tile_shown.value.text() == f"{shown:,}"
    assert dashboard.tile_accepted.value.text() == f"{totals.acceptance_rate * 100:.0f}%"
    assert dashboard.tile_first.value.text().endswith(" ms")
    names = [dashboard.profile_box.itemText(i) for i in range(dashboard.profile_box.count())]
    assert names == ["All profiles", *sorted(PROFILES)]
    assert dashboard.table.rowCount() == 4
    assert dashboard.table.item(3, 0).text() == "All profiles"
    assert dashboard.table.item(3, 1).text() == f"{shown:,}"
    lines = dashboard.rate_plot.getPlotItem().listDataItems()
    assert len(lines) == 4  # a line per profile and all together
    for name in [*PROFILES, "all profiles"]:
        assert name in dashboard.legend.text()
    bars = [
        i for i in dashboard.histogram_plot.getPlotItem().items if isinstance(i, pg.BarGraphItem)
    ]
    assert len(bars) == 1
    assert dashboard.rate_plot.backgroundBrush().color().name() == "#ffffff"
    assert "13 Feb" in dashboard.status.text()


def test_pickers_reload_for_a_profile_and_a_period(make_dashboard, store: Analytics):
    record_activity(store, store.clock, profiles=PROFILES)  # type: ignore[attr-defined]
    dashboard, loader = make_dashboard(store)
    dashboard.profile_box.setCurrentIndex(dashboard.profile_box.findData("formal"))
    assert loader.calls[-1] == (30, "formal")
    assert dashboard.table.rowCount() == 1
    assert len(dashboard.rate_plot.getPlotItem().listDataItems()) == 1
    # the other profiles stay on offer
    assert dashboard.profile_box.count() == 4
    dashboard.days_box.setCurrentIndex(dashboard.days_box.findData(7))
    assert loader.calls[-1] == (7, "formal")
    dashboard.refresh_button.click()
    assert loader.calls[-1] == (7, "formal")


def test_a_profile_without_figures_in_the_period_says_so(make_dashboard, store: Analytics):
    record_activity(store, store.clock, profiles=("friendly",), days=3)  # type: ignore[attr-defined]
    store.clock.on(TODAY.replace(day=1))  # type: ignore[attr-defined]
    store.suggestion_shown(
        suggestion_id="old", profile="formal", source=Source.MODEL, first_token_ms=100.0
    )
    dashboard, _ = make_dashboard(store)
    dashboard.profile_box.setCurrentIndex(dashboard.profile_box.findData("formal"))
    dashboard.days_box.setCurrentIndex(dashboard.days_box.findData(7))
    assert dashboard.stack.currentWidget() is dashboard.empty_label
    assert dashboard.empty_label.text() == EMPTY_PROFILE_TEXT
    assert dashboard.profile_box.currentData() == "formal"  # the pick is kept


def test_a_failing_loader_shows_its_message_and_keeps_the_figures(make_dashboard, store: Analytics):
    record_activity(store, store.clock, profiles=PROFILES)  # type: ignore[attr-defined]
    dashboard, loader = make_dashboard(store)
    loader.error = StoreError("The analytics could not be read.")
    dashboard.refresh()
    assert dashboard.status.text() == "The analytics could not be read."
    assert "#b91c1c" in dashboard.status.styleSheet()
    assert dashboard.table.rowCount() == 4


def test_export_writes_the_csv_the_supervisor_picked(
    make_dashboard, store: Analytics, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    record_activity(store, store.clock, profiles=PROFILES)  # type: ignore[attr-defined]
    calls: list[tuple[Path, int]] = []

    def exporter(path: Path, days: int) -> int:
        calls.append((path, days))
        return store.export_csv(path, days)

    dashboard, _ = make_dashboard(store, exporter=exporter)
    target = tmp_path / "figures.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV"))
    dashboard.export_button.click()
    assert calls == [(target, 30)]
    assert target.is_file()
    rows = len(target.read_text(encoding="utf-8").splitlines()) - 1
    assert dashboard.status.text() == f"Exported {rows} rows to figures.csv"


def test_export_problems_and_cancel_never_crash(
    make_dashboard, store: Analytics, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    dashboard, _ = make_dashboard(store, exporter=store.export_csv)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    dashboard.export_button.click()
    assert dashboard.status.text().endswith("2026")  # unchanged: nothing happened
    bad = tmp_path / "no-such-folder" / "x.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(bad), "CSV"))
    dashboard.export_button.click()
    assert dashboard.status.text().startswith("Export failed: The CSV file")
    assert not bad.exists()


def test_without_an_exporter_there_is_no_export_button(make_dashboard, store: Analytics):
    dashboard, _ = make_dashboard(store)
    assert not dashboard.export_button.isVisible()


def test_it_fits_a_tab_of_the_supervisor_window(make_dashboard, store: Analytics):
    record_activity(store, store.clock, profiles=PROFILES)  # type: ignore[attr-defined]
    dashboard, _ = make_dashboard(store, exporter=store.export_csv)
    hint = dashboard.minimumSizeHint()
    assert hint.width() <= 860 and hint.height() <= 560
