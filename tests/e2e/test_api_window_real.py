"""The real window on the real model, driven only through its local HTTP API.

The app's own start-up wiring opens the history, the knowledge base and the API once
the model is in; the test then behaves as a phone system would: start a contact, post
what the customer said, and read the suggestion back until it is finished.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from copilot.contact import Role
from copilot.demo import load_demo
from tests.e2e.conftest import own_runtime, shown_and_loaded
from ui.app import create_window, open_services_after_model


@pytest.fixture
def served_window(qtbot, real_runtime, monkeypatch):
    monkeypatch.setenv("AGENT_COPILOT_API_PORT", "0")
    window = create_window(own_runtime(real_runtime))
    shown_and_loaded(qtbot, window, before_load=open_services_after_model)
    qtbot.waitUntil(lambda: window.api.running is not None, timeout=60_000)
    # Only waited for, never driven: the suggestion is grounded once the articles are in.
    qtbot.waitUntil(lambda: window.history.history is not None, timeout=60_000)
    qtbot.waitUntil(lambda: window.knowledge.kb is not None, timeout=300_000)
    client = httpx.Client(
        base_url=window.api.url,
        headers={"Authorization": f"Bearer {window.api.token}"},
        timeout=30,
    )
    yield window, client
    client.close()


@pytest.mark.timeout(600)
def test_a_phone_system_drives_the_real_window(qtbot, served_window, tmp_path: Path):
    window, client = served_window
    script = load_demo()
    first = next(t for t in script.turns if t.role is Role.CUSTOMER)
    started = client.post(
        "/v1/contacts",
        json={
            "channel": script.channel.value,
            "customer": {"name": script.customer_name, "email": script.customer_identifier},
        },
    )
    assert started.status_code == 201, started.text
    contact_id = started.json()["id"]
    assert started.json()["customer_id"]  # the demo customer is known to the history
    response = client.post(
        f"/v1/contacts/{contact_id}/messages", json={"role": "customer", "text": first.text}
    )
    assert response.status_code == 202, response.text

    def api_done() -> bool:
        suggestion = client.get(f"/v1/contacts/{contact_id}").json()["suggestion"]
        return bool(suggestion and suggestion["done"])

    qtbot.waitUntil(api_done, timeout=300_000)
    state = client.get(f"/v1/contacts/{contact_id}").json()
    assert window.contact.id == contact_id and not window.suggestion.busy
    shown = window.suggestion.current_text
    assert shown and state["suggestion"]["text"] == shown
    assert state["suggestion"]["profile"] == "friendly" and state["suggestion"]["sequence"] == 1
    assert [t["text"] for t in state["turns"]] == [first.text]
    assert first.text in window.conversation.toPlainText()
    assert state["history_digest"] and "Jana Weber" in window.history_panel.title.text()
    assert state["articles"] and [a["doc_id"] for a in state["articles"]] == [
        h.passage.doc_id for h in window.knowledge.last_hits
    ]
    assert window.grab().save(str(tmp_path / "api-window.png"))
