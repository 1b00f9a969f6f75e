"""``agent-copilot feed``: replay a recorded conversation against the API.

An example client, written as a phone or chat integration would: start a contact,
post each message at its recorded pace (``--speed`` scales it), and print the
suggestion as it streams back over server-sent events. With ``--speech`` customer
messages arrive as growing partial speech segments before the final one.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from copilot.api.events import read_events
from copilot.api.models import MessageEvent, StartContact
from copilot.errors import CopilotError

WORDS_PER_SECOND = 3.0  # pace of a message without timestamps: about typing or speaking speed


@dataclass
class Recording:
    start: StartContact
    events: list[MessageEvent]
    gaps: list[float] = field(default_factory=list)


def load_recording(path: Path, start: StartContact) -> Recording:
    """JSON lines: an optional ``{"start": {...}}`` line, then messages (role, text, at)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CopilotError(f"Cannot read {path} ({exc}).") from None
    events: list[MessageEvent] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if isinstance(raw, dict) and "start" in raw:
                start = StartContact.model_validate(raw["start"])
                continue
            events.append(MessageEvent.model_validate(raw))
        except (ValueError, ValidationError) as exc:
            raise CopilotError(f"{path} line {number} is not a message event ({exc}).") from None
    if not events:
        raise CopilotError(f"{path} holds no messages to replay.")
    return Recording(start, events, _gaps(events))


def _gaps(events: list[MessageEvent]) -> list[float]:
    gaps, previous = [], None
    for event in events:
        if event.at is not None and previous is not None:
            gaps.append(max(0.0, min(30.0, (event.at - previous).total_seconds())))
        else:
            gaps.append(len(event.text.split()) / WORDS_PER_SECOND)
        previous = event.at if event.at is not None else previous
    gaps[0] = 0.0
    return gaps


class Client:
    def __init__(self, url: str, token: str) -> None:
        import httpx

        self.http = httpx.Client(
            base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import httpx

        try:
            response = self.http.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise CopilotError(
                f"Cannot reach the copilot's API at {self.http.base_url} ({exc}). Start the "
                "window or `agent-copilot serve` first."
            ) from None
        if response.status_code >= 400:
            try:
                error = response.json().get("error", response.text)
            except ValueError:
                error = response.text
            raise CopilotError(f"The API refused {method} {path}: {error}")
        return response.json()


def _listen(
    client: Client, contact_id: str, out: TextIO, ready: threading.Event, done: threading.Event
) -> None:
    """Print suggestion tokens as they arrive; set ``done`` after each finished one."""
    with client.http.stream("GET", f"/v1/contacts/{contact_id}/stream", timeout=None) as response:
        for name, data in read_events(response.iter_lines()):
            if name == "connected":
                ready.set()
            elif name == "token":
                out.write(data["text"])
            elif name == "replace":
                out.write("\n  (revised) " + data["text"])
            elif name in {"done", "failed"}:
                out.write("\n" if name == "done" else f"\n  failed: {data['text']}\n")
                done.set()
            elif name == "ended":
                return
            out.flush()


def feed(
    recording: Recording, url: str, token: str, speed: float, speech: bool, out: TextIO = sys.stdout
) -> str:
    client = Client(url, token)
    started = client.call("POST", "/v1/contacts", recording.start.model_dump(mode="json"))
    contact_id = started["id"]
    who = started.get("customer_name") or "unknown customer"
    out.write(f"Contact {contact_id} started ({started['channel']}, {who})\n")
    ready, done = threading.Event(), threading.Event()
    listener = threading.Thread(
        target=_listen, args=(client, contact_id, out, ready, done), daemon=True
    )
    listener.start()
    ready.wait(10)
    for event, gap in zip(recording.events, recording.gaps, strict=True):
        if speed > 0:
            time.sleep(gap / speed)
        if speech and event.role.value == "customer":
            event = event.model_copy(
                update={"segment_id": _speak(client, contact_id, event, speed)}
            )
        done.clear()
        client.call("POST", f"/v1/contacts/{contact_id}/messages", event.model_dump(mode="json"))
        label = "Customer" if event.role.value == "customer" else "Agent"
        out.write(f"{label}: {event.text}\n")
        if event.role.value == "customer":
            out.write("Suggestion: ")
            out.flush()
            done.wait(120)
    client.call("POST", f"/v1/contacts/{contact_id}/end")
    listener.join(5)
    return str(contact_id)


def _speak(client: Client, contact_id: str, event: MessageEvent, speed: float) -> str:
    """Partial speech-to-text segments, a few words more each time, before the final one."""
    words = event.text.split()
    segment = f"seg-{time.monotonic_ns()}"
    for end in range(3, len(words), 3):
        partial = {
            "role": "customer",
            "text": " ".join(words[:end]),
            "final": False,
            "segment_id": segment,
        }
        client.call("POST", f"/v1/contacts/{contact_id}/messages", partial)
        if speed > 0:
            time.sleep(1.0 / speed)
    return segment
