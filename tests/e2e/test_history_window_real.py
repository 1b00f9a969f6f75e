"""Customer history in the real window: real model, real encrypted store, real Qt, offscreen."""

from __future__ import annotations

import time

import pytest

from copilot.history.records import SummaryMethod
from tests.e2e.conftest import own_runtime, shown_and_loaded
from ui.app import create_window


@pytest.fixture
def history_window(qtbot, real_runtime):
    window = shown_and_loaded(qtbot, create_window(own_runtime(real_runtime)))
    with qtbot.waitSignal(window.history.ready, timeout=60_000):
        window.history.start_once()
    return window


def test_demo_customer_history_shows_at_once(qtbot, history_window):
    window = history_window
    opened_at = time.perf_counter()
    with qtbot.waitSignal(window.history.shown, timeout=2000, check_params_cb=bool):
        window.demo_step()
    assert time.perf_counter() - opened_at < 0.5
    assert window.history.last_shown_s < 0.1
    panel = window.history_panel
    assert panel.isVisible() and panel.view.isVisible()
    assert "Jana Weber" in panel.title.text()
    assert "What you need to know" in panel.view.toPlainText()
    assert len(panel.rows) == 4

    # recognise + timeline read + drawing, measured on their own
    started = time.perf_counter()
    window.history.show_for(window.contact)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.1, f"history took {elapsed * 1000:.1f} ms"
    assert len(panel.rows) == 4
    print(f"recognise + timeline + draw: {elapsed * 1000:.1f} ms")
    window.dismiss()  # the suggestion the demo message started is not this test's subject


@pytest.mark.timeout(900)
def test_model_wrapup_is_saved_to_the_customers_history(qtbot, history_window):
    window = history_window
    store = window.history.history.store
    window.demo_step()
    window.add_agent_message()  # the scripted answer the demo put in the message box
    contact_id = window.contact.id
    window.end_contact()
    # the model writes the draft (grammar-constrained JSON) in a worker
    qtbot.waitUntil(
        lambda: (
            window.history.wrapup_dialog is not None and window.history.wrapup_dialog.isVisible()
        ),
        timeout=840_000,
    )
    dialog = window.history.wrapup_dialog
    draft = dialog.summary()
    assert draft.method in (SummaryMethod.MODEL, SummaryMethod.MIXED), dialog.method.text()
    assert "model" in dialog.method.text()
    with qtbot.waitSignal(window.history.saved, timeout=5000):
        dialog.save_button.click()
    stored = store.contact(contact_id)
    assert stored is not None and stored.summary == draft
    assert window.contact.turns == []
    window.customer_box.show_identifier("jana.weber@example.com")
    window.customer_box.returnPressed.emit()
    assert [c.id for c in window.history_panel.rows][0] == contact_id
    assert len(window.history_panel.rows) == 5
