"""The supervisor's analytics tab: tiles, two charts, a table per profile, CSV export.

It draws a ``Report`` from a loader and knows nothing of where the figures live, so
tests hand it a report built in memory. A report is read from SQLite in a few
milliseconds, so it is loaded on the GUI thread when the tab is shown or a picker
changes, not through a worker.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402

from copilot.analytics.report import Figures, Report  # noqa: E402
from copilot.errors import CopilotError  # noqa: E402

Loader = Callable[[int, str | None], Report]
Exporter = Callable[[Path, int], int]

EMPTY_TEXT = "No suggestions recorded yet: they appear here after a few contacts."
EMPTY_PROFILE_TEXT = "No suggestions recorded for this profile in this period."
DAY_CHOICES = (7, 30, 90)
INK = "#1f2937"
GREY = "#6b7280"
RED = "#b91c1c"
AXIS = "#9ca3af"
#: Colour-blind-safe line colours (Okabe-Ito, without yellow, which is hard to see on white).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00", "#000000")
TABLE_COLUMNS = (
    "Profile",
    "Shown",
    "Inserted",
    "Accepted",
    "Edited",
    "Dismissed",
    "Median ms",
    "p90 ms",
    "KB opened",
    "Thumbs up",
    "Thumbs down",
)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


def _day_label(day: date) -> str:
    return f"{day.day} {day:%b}"


def _nice_step(span: float, bins: int) -> float:
    """A round bin width (1, 2, 2.5 or 5 times a power of ten) giving about ``bins`` bins."""
    raw = max(span / bins, 1.0)
    power = 10 ** np.floor(np.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


class Tile(QFrame):
    """One headline figure with its caption and a smaller line of context."""

    def __init__(self, caption: str, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setStyleSheet(
            f"#{name} {{ background: #f3f4f6; border: 1px solid #e5e7eb; border-radius: 6px; }}"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        title = QLabel(caption)
        title.setStyleSheet(f"color:{GREY}")
        self.value = QLabel("–")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setStyleSheet(f"color:{INK}")
        self.detail = QLabel("")
        self.detail.setStyleSheet(f"color:{GREY}")
        for label in (title, self.value, self.detail):
            layout.addWidget(label)

    def show_figure(self, value: str, detail: str = "") -> None:
        self.value.setText(value)
        self.detail.setText(detail)


def _plot(bottom: str, left: str) -> pg.PlotWidget:
    """A light, static chart: white background, dark labels, no mouse panning."""
    plot = pg.PlotWidget(background="w")
    plot.setMinimumHeight(170)
    item = plot.getPlotItem()
    item.setMenuEnabled(False)
    item.hideButtons()
    item.setMouseEnabled(x=False, y=False)
    item.showGrid(x=False, y=True, alpha=0.15)
    for name, text in (("bottom", bottom), ("left", left)):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(INK))
        item.setLabel(name, text, color=GREY, size="9pt")
    return plot


def _chart_box(title: str, plot: pg.PlotWidget, legend: QLabel | None = None) -> QFrame:
    """A chart with its title and legend above it, where they never cover the data."""
    box = QFrame()
    box.setObjectName(f"{plot.objectName()}Box")
    box.setStyleSheet(f"#{box.objectName()} {{ background: white; border: 1px solid #e5e7eb; }}")
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 6, 4, 2)
    layout.setSpacing(2)
    caption = QLabel(f"<b>{title}</b>")
    caption.setStyleSheet(f"color:{INK}; background: transparent")
    layout.addWidget(caption)
    if legend is not None:
        legend.setWordWrap(True)
        legend.setStyleSheet(f"color:{INK}; background: transparent")
        layout.addWidget(legend)
    layout.addWidget(plot, 1)
    return box


class Dashboard(QWidget):
    """Analytics for supervisors; ``refresh()`` reloads with the picked profile and period."""

    def __init__(
        self, loader: Loader, exporter: Exporter | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self.loader, self.exporter = loader, exporter
        self.report: Report | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        layout.addLayout(self._build_bar())
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_content())
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setObjectName("dashboardEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(f"color:{GREY}; font-size: 13pt")
        self.stack.addWidget(self.empty_label)
        layout.addWidget(self.stack, 1)

    # -- building ----------------------------------------------------------------------
    def _build_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.profile_box = QComboBox()
        self.profile_box.setObjectName("dashboardProfile")
        self.profile_box.addItem("All profiles", None)
        self.profile_box.setMinimumContentsLength(16)
        self.days_box = QComboBox()
        self.days_box.setObjectName("dashboardDays")
        for days in DAY_CHOICES:
            self.days_box.addItem(f"Last {days} days", days)
        self.days_box.setCurrentIndex(DAY_CHOICES.index(30))
        self.status = QLabel("")
        self.status.setObjectName("dashboardStatus")
        self.status.setStyleSheet(f"color:{GREY}")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("dashboardRefresh")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setObjectName("dashboardExport")
        self.export_button.setVisible(self.exporter is not None)
        for widget in (self.profile_box, self.days_box):
            bar.addWidget(widget)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)
        self.profile_box.currentIndexChanged.connect(self._on_picker_changed)
        self.days_box.currentIndexChanged.connect(self._on_picker_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self._on_export_clicked)
        return bar

    def _build_content(self) -> QWidget:
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        tiles = QHBoxLayout()
        self.tile_shown = Tile("Suggestions shown", "tileShown")
        self.tile_accepted = Tile("Acceptance rate", "tileAccepted")
        self.tile_edited = Tile("Inserted after edits", "tileEdited")
        self.tile_first = Tile("Time to first suggestion", "tileFirstToken")
        self.tile_macros = Tile("Approved replies", "tileMacros")
        for tile in (
            self.tile_shown,
            self.tile_accepted,
            self.tile_edited,
            self.tile_first,
            self.tile_macros,
        ):
            tiles.addWidget(tile)
        layout.addLayout(tiles)
        charts = QHBoxLayout()
        self.rate_plot = _plot("Day", "Inserted / shown (%)")
        self.rate_plot.setObjectName("acceptancePlot")
        self.legend = QLabel("")
        self.legend.setObjectName("acceptanceLegend")
        self.histogram_plot = _plot("Milliseconds", "Suggestions")
        self.histogram_plot.setObjectName("firstTokenPlot")
        charts.addWidget(_chart_box("Acceptance rate per day", self.rate_plot, self.legend), 3)
        charts.addWidget(_chart_box("Time to first suggestion", self.histogram_plot), 2)
        layout.addLayout(charts, 1)
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setObjectName("profileTable")
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        layout.addWidget(self.table)
        return content

    # -- loading -----------------------------------------------------------------------
    @property
    def days(self) -> int:
        return int(self.days_box.currentData())

    @property
    def profile(self) -> str | None:
        value = self.profile_box.currentData()
        return str(value) if value else None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Figures load when the tab is shown, so opening the supervisor window is free."""
        super().showEvent(event)
        if not event.spontaneous():
            self.refresh()

    def refresh(self) -> None:
        try:
            report = self.loader(self.days, self.profile)
        except CopilotError as exc:
            self._show_status(exc.user_message, error=True)
            return
        self.report = report
        self._update_profiles(report.profiles)
        if report.empty:
            self.empty_label.setText(EMPTY_PROFILE_TEXT if report.profiles else EMPTY_TEXT)
            self.stack.setCurrentWidget(self.empty_label)
        else:
            self._draw(report)
            self.stack.setCurrentIndex(0)
        self._show_status(f"{report.start:%d %b} – {report.end:%d %b %Y}")

    def _on_picker_changed(self, _index: int) -> None:
        self.refresh()

    def _update_profiles(self, names: list[str]) -> None:
        """Offer every profile with figures, keeping the current pick even if it has none."""
        current = self.profile
        wanted = sorted({*names, *([current] if current else [])})
        shown = [self.profile_box.itemData(i) for i in range(1, self.profile_box.count())]
        if shown == wanted:
            return
        self.profile_box.blockSignals(True)
        self.profile_box.clear()
        self.profile_box.addItem("All profiles", None)
        for name in wanted:
            self.profile_box.addItem(name, name)
        self.profile_box.setCurrentIndex(self.profile_box.findData(current) if current else 0)
        self.profile_box.blockSignals(False)

    def _show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color:{RED if error else GREY}")

    # -- drawing -----------------------------------------------------------------------
    def _draw(self, report: Report) -> None:
        self._draw_tiles(report.totals)
        self._draw_rates(report)
        self._draw_histogram(report.first_token_ms)
        self._draw_table(report)

    def _draw_tiles(self, totals: Figures) -> None:
        self.tile_shown.show_figure(f"{totals.shown:,}", f"{totals.dismissed:,} dismissed")
        self.tile_accepted.show_figure(
            _pct(totals.acceptance_rate), f"{totals.inserted:,} inserted"
        )
        self.tile_edited.show_figure(_pct(totals.edited_share), "of inserted suggestions")
        self.tile_first.show_figure(
            _ms(totals.median_first_token_ms), f"median; p90 {_ms(totals.p90_first_token_ms)}"
        )
        self.tile_macros.show_figure(
            f"{totals.macro_inserted:,}", f"inserted of {totals.macro_shown:,} offered"
        )

    def _rate_series(self, report: Report) -> dict[str, np.ndarray]:
        """Acceptance % per day for each profile (and all together); NaN where none shown."""
        days = report.all_days
        index = {day: n for n, day in enumerate(days)}
        names = sorted({row.profile for row in report.days})
        shown = {name: np.zeros(len(days)) for name in [*names, ""]}
        inserted = {name: np.zeros(len(days)) for name in [*names, ""]}
        for row in report.days:
            for name in (row.profile, ""):
                shown[name][index[row.day]] += row.shown
                inserted[name][index[row.day]] += row.inserted
        series: dict[str, np.ndarray] = {}
        for name in shown:
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.minimum(inserted[name] / shown[name], 1.0) * 100
            series[name] = np.where(shown[name] > 0, rate, np.nan)
        if len(names) == 1:
            series.pop("")
        return series

    def _draw_rates(self, report: Report) -> None:
        item = self.rate_plot.getPlotItem()
        item.clear()
        days = report.all_days
        x = np.arange(len(days), dtype=float)
        keys = []
        for n, (name, rate) in enumerate(self._rate_series(report).items()):
            colour = PALETTE[n % len(PALETTE)] if name else INK
            style = Qt.PenStyle.SolidLine if name else Qt.PenStyle.DashLine
            item.plot(
                x,
                rate,
                pen=pg.mkPen(colour, width=1.6 if name else 2.4, style=style),
                symbol="o",
                symbolSize=5,
                symbolBrush=colour,
                symbolPen=None,
                connect="finite",
            )
            mark = "━" if name else "╍"
            label = html.escape(name or "all profiles")
            keys.append(f'<span style="color:{colour}">{mark}</span>&nbsp;{label}')
        self.legend.setText("&nbsp;&nbsp; ".join(keys))
        step = max(1, int(np.ceil(len(days) / 7)))
        ticks = [(float(n), _day_label(days[n])) for n in range(len(days) - 1, -1, -step)]
        item.getAxis("bottom").setTicks([ticks, []])
        # room on the right, so the label of the latest day is not cut off
        item.setXRange(-0.5, len(days) - 0.5 + len(days) * 0.03, padding=0)
        item.setYRange(-3, 104, padding=0)

    def _draw_histogram(self, values: list[float]) -> None:
        item = self.histogram_plot.getPlotItem()
        item.clear()
        if not values:
            return
        data = np.asarray(values, dtype=float)
        top = float(np.percentile(data, 99))
        step = _nice_step(top - float(data.min()), 16)
        low = np.floor(data.min() / step) * step
        edges = np.arange(low, top + step, step)
        if len(edges) < 2:
            edges = np.array([low, low + step])
        counts, _ = np.histogram(np.clip(data, edges[0], edges[-1]), bins=edges)
        bars = pg.BarGraphItem(
            x0=edges[:-1], x1=edges[1:], height=counts, brush="#56b4e9", pen=pg.mkPen("w")
        )
        item.addItem(bars)
        median = float(np.median(data))
        line = pg.InfiniteLine(
            pos=median,
            angle=90,
            pen=pg.mkPen(INK, width=1.5, style=Qt.PenStyle.DashLine),
            label=f"median {median:,.0f} ms",
            labelOpts={"position": 0.92, "color": INK, "anchors": [(0, 0.5), (0, 0.5)]},
        )
        item.addItem(line)
        item.setXRange(edges[0], edges[-1], padding=0.02)
        item.setYRange(0, max(int(counts.max()), 1) * 1.1, padding=0)

    def _draw_table(self, report: Report) -> None:
        rows = list(report.by_profile.items())
        if len(rows) > 1:
            rows.append(("All profiles", report.totals))
        self.table.setRowCount(len(rows))
        for row, (name, figures) in enumerate(rows):
            cells = (
                name,
                f"{figures.shown:,}",
                f"{figures.inserted:,}",
                _pct(figures.acceptance_rate),
                _pct(figures.edited_share),
                f"{figures.dismissed:,}",
                _ms(figures.median_first_token_ms),
                _ms(figures.p90_first_token_ms),
                f"{figures.kb_opened:,}",
                f"{figures.thumbs_up:,}",
                f"{figures.thumbs_down:,}",
            )
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column:
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if name == "All profiles" and len(rows) > 1 and row == len(rows) - 1:
                    font = cell.font()
                    font.setBold(True)
                    cell.setFont(font)
                self.table.setItem(row, column, cell)
        self._fit_table(len(rows))

    def _fit_table(self, rows: int) -> None:
        """As tall as its rows (up to six), so the charts get the rest of the tab."""
        visible = min(max(rows, 1), 6)
        header = self.table.horizontalHeader().sizeHint().height()
        body = visible * self.table.verticalHeader().defaultSectionSize()
        self.table.setFixedHeight(header + body + 2 * self.table.frameWidth() + 2)

    # -- export --------------------------------------------------------------------------
    def _on_export_clicked(self) -> None:
        if self.exporter is None:
            return
        suggested = str(Path.home() / f"copilot-analytics-{date.today():%Y-%m-%d}.csv")
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export analytics", suggested, "CSV files (*.csv)"
        )
        if not path:
            return
        try:
            rows = self.exporter(Path(path), self.days)
        except (CopilotError, OSError) as exc:
            message = exc.user_message if isinstance(exc, CopilotError) else str(exc)
            self._show_status(f"Export failed: {message}", error=True)
            return
        self._show_status(f"Exported {rows} rows to {Path(path).name}")
