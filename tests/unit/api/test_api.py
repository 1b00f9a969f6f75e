"""The loopback API through a real uvicorn server on 127.0.0.1, with the fake engine."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from copilot.api.live import LiveContacts
from copilot.api.serve import bind, start_in_thread
from copilot.api.server import check_loopback
from copilot.errors import PrivacyError
from copilot.history.importer import import_history
from copilot.history.service import History, demo_customers_file
from copilot.runtime import Runtime
from copilot.settings import Settings
from tests.fakes import FakeEngine

TOKEN = "test-token-123"


@pytest.fixture
def api():
    runtime = Runtime.create(Settings())
    runtime.engine = FakeEngine(replies=[["I'm", " sorry", " about", " that", "."]], delay=0.01)
    runtime.engine.load()
    history = History.open(Settings(history_demo=False))
    import_history(history.store, demo_customers_file())
    live = LiveContacts(runtime, history=history)
    running = start_in_thread(live, TOKEN)
    client = httpx.Client(
        base_url=running.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.get("/v1/health")
            break
        except httpx.TransportError:
            time.sleep(0.02)
    yield client, live
    client.close()
    running.stop()
    history.close()


def _start(client: httpx.Client, **customer: str) -> str:
    response = client.post("/v1/contacts", json={"channel": "phone", "customer": customer})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _wait_done(client: httpx.Client, contact_id: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = client.get(f"/v1/contacts/{contact_id}").json()
        if state["suggestion"] and state["suggestion"]["done"]:
            return state
        time.sleep(0.02)
    raise AssertionError("no finished suggestion")


def test_contact_flow_recognises_customer_and_suggests(api):
    client, _live = api
    started = client.post(
        "/v1/contacts", json={"channel": "phone", "customer": {"phone": "+49 30 55501234"}}
    ).json()
    assert started["customer_id"] == "cust-jana-weber" and started["customer_name"] == "Jana Weber"
    cid = started["id"]
    partial = {"role": "customer", "text": "My grinder", "final": False, "segment_id": "s1"}
    state = client.post(f"/v1/contacts/{cid}/messages", json=partial).json()
    assert state["partial"] == {"s1": "My grinder"} and state["turns"] == []
    final = {"role": "customer", "text": "My grinder has not arrived.", "segment_id": "s1"}
    response = client.post(f"/v1/contacts/{cid}/messages", json=final)
    assert response.status_code == 202
    state = _wait_done(client, cid)
    assert state["partial"] == {} and [t["text"] for t in state["turns"]] == [final["text"]]
    assert state["suggestion"]["text"].startswith("I'm sorry about that.")
    assert state["history_digest"][0].startswith("4 earlier contacts")
    assert "grinder" in state["summary"]["reason"]
    summary = client.post(f"/v1/contacts/{cid}/end").json()
    assert "grinder" in summary["reason"]
    again = client.post(f"/v1/contacts/{cid}/messages", json=final)
    assert again.status_code == 409 and "has ended" in again.json()["error"]


def test_stream_pushes_tokens_as_they_are_made(api):
    client, _live = api
    cid = _start(client)
    events: list[tuple[str, dict]] = []
    ready = threading.Event()

    def listen() -> None:
        with client.stream("GET", f"/v1/contacts/{cid}/stream") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            name = ""
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    ready.set()
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[6:])))
                    if name == "ended":
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(5)
    client.post(f"/v1/contacts/{cid}/messages", json={"role": "customer", "text": "Hello?"})
    _wait_done(client, cid)
    client.post(f"/v1/contacts/{cid}/end")
    thread.join(5)
    names = [n for n, _ in events]
    assert names.count("token") >= 3 and "done" in names and names[-1] == "ended"
    streamed = "".join(e["text"] for n, e in events if n == "token")
    done = next(e for n, e in events if n == "done")
    assert streamed.startswith("I'm sorry") and done["text"].startswith(streamed)
    assert all(e["sequence"] == 1 for n, e in events if n in {"token", "done"})


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/v1/contacts", "{not json", 422),
        ("post", "/v1/contacts", '{"channel": "fax"}', 422),
        ("post", "/v1/contacts", '{"channel": "chat", "extra": 1}', 422),
        ("post", "/v1/contacts/nope/messages", '{"role": "customer", "text": "hi"}', 404),
        ("get", "/v1/contacts/nope", None, 404),
        ("post", "/v1/contacts/nope/end", None, 404),
        ("get", "/v1/contacts/nope/stream", None, 404),
    ],
)
def test_bad_requests_get_a_clear_4xx(api, method, path, body, status):
    client, _live = api
    response = client.request(
        method, path, content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]


def test_bad_message_fields_and_oversized_bodies(api):
    client, _live = api
    cid = _start(client)
    for body in (
        {"role": "boss", "text": "x"},
        {"role": "customer", "text": ""},
        {"role": "customer", "text": 5},
        {"role": "customer"},
    ):
        response = client.post(f"/v1/contacts/{cid}/messages", json=body)
        assert response.status_code == 422 and response.json()["detail"], body
    huge = {"role": "customer", "text": "x" * 70_000}
    response = client.post(f"/v1/contacts/{cid}/messages", json=huge)
    assert response.status_code == 413 and "64 KiB" in response.json()["error"]


def test_token_is_required(api):
    client, _live = api
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        response = httpx.post(f"{client.base_url}/v1/contacts", json={}, headers=headers, timeout=5)
        assert response.status_code == 401 and "Bearer" in response.json()["error"]
    assert httpx.get(f"{client.base_url}/v1/health", timeout=5).status_code == 200


def test_openapi_schema_documents_the_routes(api):
    client, _live = api
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {
        "/v1/contacts",
        "/v1/contacts/{contact_id}/messages",
        "/v1/contacts/{contact_id}",
        "/v1/contacts/{contact_id}/end",
        "/v1/contacts/{contact_id}/stream",
    } <= set(paths)
    assert "MessageEvent" in schema["components"]["schemas"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "10.0.0.1", "::", "example.com"])
def test_non_loopback_bind_is_refused(host):
    with pytest.raises(PrivacyError, match="loopback"):
        check_loopback(host)
    with pytest.raises(PrivacyError):
        bind(host, 0)


def test_loopback_addresses_are_accepted():
    assert check_loopback("localhost") == "127.0.0.1"
    assert check_loopback("::1") == "::1"
    sock = bind("127.0.0.1", 0)
    assert sock.getsockname()[0] == "127.0.0.1"
    sock.close()


def test_approved_replies_are_offered_with_the_suggestion():
    from copilot.api.models import MessageEvent, StartContact
    from copilot.macros.library import MacroLibrary

    runtime = Runtime.create(Settings())
    runtime.engine = FakeEngine(replies=[["Sorry", " for", " the", " wait", "."]])
    runtime.engine.load()
    macros = MacroLibrary.open(Settings())
    live = LiveContacts(runtime, macros=macros)
    started = live.start(StartContact.model_validate({"channel": "chat", "customer": {}}))
    text = "I forgot my password and cannot log in to my account."
    live.post(started.id, MessageEvent(role="customer", text=text))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        state = live.state(started.id)
        if state.suggestion and state.suggestion.done:
            break
        time.sleep(0.02)
    assert state.suggestion and state.suggestion.done
    assert state.approved_replies, "no approved reply offered for a password question"
    first = state.approved_replies[0]
    assert "password" in (first.title + first.text).lower()
    assert "{" not in first.text and first.score > 0
