"""Fail loudly on any network connection that is not loopback.

Installed as an audit hook (``sys.addaudithook``), so it sees every socket connect,
sendto and host lookup made from Python in this process, whatever library makes it.
The attempt is refused before it reaches the network, and recorded.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

VIOLATIONS: list[str] = []
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _address_ok(sock: object, address: object) -> bool:
    family = getattr(sock, "family", None)
    if family == getattr(socket, "AF_UNIX", None) or isinstance(address, (str, bytes)):
        return True  # a local socket file
    if isinstance(address, tuple) and address:
        return is_loopback(address[0])
    return False


def _record(what: str) -> None:
    VIOLATIONS.append(what)
    log = os.environ.get("AGENT_COPILOT_NETGUARD_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(what + "\n")
    raise PermissionError(f"network access outside loopback is forbidden: {what}")


def _hook(event: str, args: tuple) -> None:
    if event in ("socket.connect", "socket.sendto"):
        sock, address = args[0], args[1]
        if not _address_ok(sock, address):
            _record(f"{event} {address!r}")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if host is not None and not is_loopback(host):
            _record(f"{event} {host!r}")


_installed = False


def install() -> None:
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True
