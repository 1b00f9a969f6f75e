"""Reading the API's server-sent events, for the clients in this package and the tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


def read_events(lines: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, data) per event; ``("connected", {})`` once the stream is subscribed."""
    name = ""
    for line in lines:
        if line.startswith(": connected"):
            yield "connected", {}
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield name, json.loads(line[6:])
