"""A supervisor's whole loop through the real parts.

Change a profile in supervisor mode, preview it with the real model, publish it,
export a pack and import it on a second workstation with the real CLI, then run a
few demo contacts in the real window and see them in the dashboard and in
``agent-copilot stats``. Set COPILOT_TEST_SCREENSHOTS=DIR to keep the screenshots.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

import ui.supervisor as supervisor_ui
from copilot.profiles.passphrase import SupervisorLock
from tests.e2e.conftest import own_runtime, shown_and_loaded
from ui.app import window_state
from ui.supervisor import ask
from ui.supervisor.lock_dialog import SupervisorPassphraseDialog
from ui.supervisor.preview import CURRENT, DRAFT
from ui.supervisor.window import SupervisorWindow
from ui.window.main_window import MainWindow

PASSPHRASE = "team-lead passphrase"
DISCLAIMER = "Replies are checked by a person at {company}."
CLI = [sys.executable, "-m", "copilot"]


def screenshot(widget, name: str) -> None:
    folder = os.environ.get("COPILOT_TEST_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def unlock(qtbot, window: MainWindow) -> SupervisorWindow:
    dialog = supervisor_ui.open_supervisor(window)
    assert isinstance(dialog, SupervisorPassphraseDialog)
    dialog.entry.setText(PASSPHRASE)
    dialog.ok_button.click()
    supervisor = supervisor_ui.current()
    assert isinstance(supervisor, SupervisorWindow)
    return supervisor


def play_demo_contact(qtbot, window: MainWindow, messages: int) -> list[str]:
    """Customer messages of the demo, each suggestion inserted, then the scripted reply sent.

    Returns what was inserted; a suggestion the leak guard withheld cannot be inserted.
    """
    inserted = []
    for _ in range(messages):
        QGuiApplication.clipboard().clear()
        with qtbot.waitSignal(window.suggestion_done, timeout=180_000) as done:
            window.demo_step()
        window.insert_suggestion()
        if not done.args[0].withheld:
            inserted.append(QGuiApplication.clipboard().text())
        window.add_agent_message()
    return inserted


@pytest.mark.timeout(900)
def test_change_preview_publish_pack_and_see_it_in_the_dashboard(
    qtbot, real_runtime, tmp_path, subprocess_env, monkeypatch
):
    window = MainWindow(own_runtime(real_runtime), window_state())
    shown_and_loaded(qtbot, window)
    SupervisorLock().set_passphrase(PASSPHRASE)
    supervisor = unlock(qtbot, window)

    # 1. change "friendly": a mandatory disclaimer, and "calm down" is cut out, not flagged
    tab = supervisor.profiles
    names = [tab.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(tab.list.count())]
    tab.list.setCurrentRow(names.index("friendly"))
    tab.form.disclaimer.setPlainText(DISCLAIMER)
    tab.form.avoid_action.setCurrentIndex(tab.form.avoid_action.findData("remove"))
    assert tab.publish_button.isEnabled()

    # 2. preview it beside the published profile, with the real model
    with qtbot.waitSignal(tab.preview.done, timeout=300_000):
        tab.run_preview()
    draft = tab.preview.columns[DRAFT].plain_text
    current = tab.preview.columns[CURRENT].plain_text
    company = window.company
    assert draft.rstrip().endswith(DISCLAIMER.format(company=company)), draft
    assert DISCLAIMER.format(company=company) not in current
    assert "ms to first token" in tab.preview.columns[DRAFT].timing.text()
    screenshot(supervisor, "supervisor-profiles")

    # 3. publish: the agents' window uses it at once
    tab.publish_button.click()
    assert window.runtime.profile("friendly").disclaimer == DISCLAIMER
    assert window.runtime.profile("friendly").avoid_action == "remove"

    # 4. export a pack and import it on a second workstation with the real CLI
    pack = tmp_path / "team-pack.json"
    monkeypatch.setattr(ask, "save_path", lambda *args: pack)
    tab.export_button.click()
    env = dict(subprocess_env, AGENT_COPILOT_DATA_DIR=str(tmp_path / "workstation-2"))
    env["AGENT_COPILOT_SUPERVISOR_PASSPHRASE"] = PASSPHRASE
    imported = subprocess.run(
        [*CLI, "profiles", "import", str(pack)], env=env, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    assert "Changed: friendly (" in imported.stdout and "disclaimer" in imported.stdout
    listed = subprocess.run(
        [*CLI, "profiles", "export", str(tmp_path / "again.json")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stderr
    again = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    friendly = next(p for p in again["profiles"] if p["name"] == "friendly")
    assert friendly["disclaimer"] == DISCLAIMER
    supervisor.close()

    # 5. a few demo contacts in the agent's window, with the published profile
    window.profile_box.setCurrentText("friendly")
    inserted = play_demo_contact(qtbot, window, messages=3)
    ending = DISCLAIMER.format(company=window.company)
    assert inserted and all(text.rstrip().endswith(ending) for text in inserted), inserted
    screenshot(window, "agent-window")

    # 6. the dashboard and `agent-copilot stats` show them
    supervisor = unlock(qtbot, window)
    supervisor.tabs.setCurrentWidget(supervisor.dashboard)
    dashboard = supervisor.dashboard
    dashboard.refresh()
    assert int(dashboard.tile_shown.value.text()) >= 3
    assert dashboard.tile_accepted.value.text().endswith("%")
    screenshot(supervisor, "supervisor-dashboard")
    supervisor.close()
    stats = subprocess.run(
        [*CLI, "stats", "--json"], env=subprocess_env, capture_output=True, text=True
    )
    assert stats.returncode == 0, stats.stderr
    figures = json.loads(stats.stdout)["by_profile"]["friendly"]
    assert figures["shown"] >= 3 and figures["inserted"] >= len(inserted)
    assert figures["sent"] >= 2 and figures["median_first_token_ms"] > 0
    window.close()
