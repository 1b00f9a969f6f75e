"""The loopback HTTP API (FastAPI, OpenAPI at /openapi.json), served by uvicorn.

It binds to loopback only: any other address is refused before a socket opens.
Every route but /v1/health needs ``Authorization: Bearer <token>``. Bodies are
validated by the pydantic models in models.py; every error is a 4xx ``Problem``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import queue
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from copilot import __version__
from copilot.api.live import LiveContacts, UnknownContact
from copilot.api.models import (
    MAX_BODY_BYTES,
    ContactState,
    MessageEvent,
    Problem,
    StartContact,
    Started,
    SummaryOut,
)
from copilot.errors import CopilotError, PrivacyError

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
TOKEN_ENTRY = "api-token"


def check_loopback(host: str) -> str:
    """Refuse any address that is not this machine's loopback."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise PrivacyError(
            f"The API only listens on loopback; '{host}' is not a loopback address "
            "(use 127.0.0.1, ::1 or localhost)."
        ) from None
    if not address.is_loopback:
        raise PrivacyError(
            f"The API only listens on loopback, so it refuses {host}: nothing outside this "
            "machine may reach customer data. Use 127.0.0.1."
        )
    return str(address)


def api_token() -> tuple[str, str]:
    """The bearer token: kept in the OS keyring, or made for this run only without one."""
    from copilot.os_keyring import SERVICE, usable_backend

    backend, reason = usable_backend()
    if backend is None:
        return secrets.token_urlsafe(32), f"for this run only ({reason})"
    try:
        token = backend.get_password(SERVICE, TOKEN_ENTRY)
        if not token:
            token = secrets.token_urlsafe(32)
            backend.set_password(SERVICE, TOKEN_ENTRY, token)
    except Exception as exc:  # noqa: BLE001 - a locked or failing keyring: this run only
        log.warning("API token not kept in the keyring: %s", exc)
        return secrets.token_urlsafe(32), f"for this run only (the OS keyring failed: {exc})"
    return str(token), "OS keyring"


def stored_api_token() -> str | None:
    """The token kept in the keyring, for a client on this machine (``feed``); None without."""
    from copilot.os_keyring import SERVICE, usable_backend

    backend, _reason = usable_backend()
    return backend.get_password(SERVICE, TOKEN_ENTRY) if backend is not None else None


def _problem(status: int, error: str, detail: list[str] | None = None) -> JSONResponse:
    return JSONResponse(Problem(error=error, detail=detail or []).model_dump(), status_code=status)


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or wrong bearer token"},
    404: {"model": Problem, "description": "No such live contact"},
    409: {"model": Problem, "description": "The contact has ended"},
    413: {"model": Problem, "description": "Body larger than 64 KiB"},
    422: {"model": Problem, "description": "Invalid JSON or fields"},
}


_BEARER = HTTPBearer(auto_error=False)


def authorised(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
) -> None:
    """Compared in constant time, so the token cannot be guessed a character at a time."""
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), str(request.app.state.token).encode()):
        raise StarletteHTTPException(401, "A valid 'Authorization: Bearer <token>' is required.")


def create_app(live: LiveContacts, token: str) -> FastAPI:
    app = FastAPI(
        title="Agent Copilot local API",
        version=__version__,
        description="Loopback-only API for phone systems, chat tools and speech-to-text "
        "engines to feed a live contact to the copilot and read its suggestions.",
    )
    app.state.token = token
    _install_handlers(app)
    guard = [Depends(authorised)]

    @app.get("/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.post("/v1/contacts", status_code=201, dependencies=guard, responses=ERRORS)
    def start_contact(body: StartContact) -> Started:
        """Start a live contact; a known phone, email or handle brings up the history."""
        return live.start(body)

    @app.post(
        "/v1/contacts/{contact_id}/messages", status_code=202, dependencies=guard, responses=ERRORS
    )
    def post_message(contact_id: str, body: MessageEvent) -> ContactState:
        """Add a message or a speech segment; a final customer message starts a suggestion."""
        live.post(contact_id, body)
        return live.state(contact_id)

    @app.get("/v1/contacts/{contact_id}", dependencies=guard, responses=ERRORS)
    def contact_state(contact_id: str) -> ContactState:
        """The conversation, the current suggestion, the articles and the rolling summary."""
        return live.state(contact_id)

    @app.post("/v1/contacts/{contact_id}/end", dependencies=guard, responses=ERRORS)
    def end_contact(contact_id: str) -> SummaryOut | None:
        """End the contact; returns its extractive summary (the window drafts the wrap-up)."""
        live.end(contact_id)
        return live.state(contact_id).summary

    @app.get(
        "/v1/contacts/{contact_id}/stream",
        dependencies=guard,
        responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}},
        response_class=StreamingResponse,
    )
    async def stream(contact_id: str, request: Request) -> StreamingResponse:
        """Server-sent events: suggestion tokens as they are produced (token, replace,
        done, failed), and 'ended' when the contact ends."""
        box = live.subscribe(contact_id)
        return StreamingResponse(
            _events(live, contact_id, box, request), media_type="text/event-stream"
        )

    return app


async def _events(
    live: LiveContacts, contact_id: str, box: queue.Queue[Any], request: Request
) -> AsyncIterator[str]:
    try:
        yield ": connected\n\n"
        waited = 0.0
        while not await request.is_disconnected():
            try:
                event = box.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.005)
                waited += 0.005
                if waited >= HEARTBEAT_S:
                    waited = 0.0
                    yield ": keep-alive\n\n"
                continue
            waited = 0.0
            yield f"event: {event.type}\ndata: {json.dumps(event.model_dump())}\n\n"
            if event.type == "ended":
                return
    finally:
        live.unsubscribe(contact_id, box)


def _install_handlers(app: FastAPI) -> None:
    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Any:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            return _problem(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
        if request.method in {"POST", "PUT", "PATCH"}:
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                return _problem(413, f"The body is larger than {MAX_BODY_BYTES // 1024} KiB.")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = []
        for error in exc.errors()[:10]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
            detail.append(f"{where}: {error.get('msg', 'invalid')}")
        return _problem(422, "The request is not valid.", detail)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem(exc.status_code, str(exc.detail))

    @app.exception_handler(UnknownContact)
    async def unknown(_request: Request, exc: UnknownContact) -> JSONResponse:
        return _problem(404, exc.user_message)

    @app.exception_handler(CopilotError)
    async def refused(_request: Request, exc: CopilotError) -> JSONResponse:
        return _problem(409, exc.user_message)
