"""Schema-driven fuzzing of the loopback API: generated requests from its own OpenAPI
schema, sent to a real uvicorn server on 127.0.0.1; no answer may be a 5xx."""

from __future__ import annotations

import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from copilot.api.live import LiveContacts
from copilot.api.serve import start_in_thread
from copilot.runtime import Runtime
from copilot.settings import Settings
from tests.fakes import FakeEngine

TOKEN = "fuzz-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def _server() -> tuple[str, LiveContacts, object]:
    runtime = Runtime.create(Settings())
    runtime.engine = FakeEngine(replies=[["Sure", ",", " one", " moment", "."]])
    runtime.engine.load()
    live = LiveContacts(runtime)
    running = start_in_thread(live, TOKEN)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{running.url}/v1/health", timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.02)
    return running.url, live, running


URL, LIVE, RUNNING = _server()
schema = schemathesis.openapi.from_url(f"{URL}/openapi.json", headers=HEADERS).exclude(
    path_regex=r".*/stream$"  # an open event stream never ends by itself
)


@pytest.fixture(scope="module", autouse=True)
def _stop_server():
    yield
    RUNNING.stop()


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case):
    if "contact_id" in (case.path_parameters or {}) and hash(str(case.body)) % 2 == 0:
        # half of the cases hit a real live contact, so bodies reach the real handling
        started = httpx.post(f"{URL}/v1/contacts", json={}, headers=HEADERS, timeout=5).json()
        case.path_parameters["contact_id"] = started["id"]
    response = case.call(headers=HEADERS, timeout=10)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500


def test_unauthenticated_fuzz_is_refused():
    for path in ("/v1/contacts", "/v1/contacts/x/messages", "/v1/contacts/x/end"):
        response = httpx.post(f"{URL}{path}", content=b"\x00\xff{", timeout=5)
        assert response.status_code == 401
