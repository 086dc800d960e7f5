"""The web application: REST API under /api/v1 and the pages, one process."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import URL, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kosh.jurisdictions import field_path
from kosh.platform.context import Context
from kosh.platform.errors import FieldError, KoshError
from kosh.platform.http import SESSION_COOKIE
from kosh.platform.validation import error_message
from kosh.platform.words import N_, Msg

STATIC = Path(__file__).resolve().parent / "static"
PROBLEM = "application/problem+json"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem_response(request: Request, err: KoshError) -> Response:
    headers = {}
    if "retry_after" in err.extra:
        headers["Retry-After"] = str(err.extra["retry_after"])
    from kosh.platform.i18n import LOCALES, PUBLIC_LOCALES
    from kosh.platform.pages import request_lang

    # ?lang=, the language cookie, Accept-Language; the migrants' public answers offer their six languages
    public = request.url.path.startswith(("/api/v1/public/", "/status"))
    lang = request_lang(request, PUBLIC_LOCALES if public else LOCALES)
    if _is_api(request):
        headers["Content-Language"] = lang
        return JSONResponse(err.problem(instance=request.url.path, lang=lang), status_code=err.status,
                            media_type=PROBLEM, headers=headers)
    if err.status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    from kosh.platform.pages import render

    response = render(request, "error.html", status_code=err.status, error=err)
    response.headers.update(headers)
    return response


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            detail = (err.get("ctx") or {}).get("error", "")
            out.append(FieldError("body", Msg(N_("is not valid JSON (%(reason)s)"), reason=detail) if detail
                                  else Msg(N_("is not valid JSON"))))
            continue
        field = field_path((p for p in err.get("loc", ()) if p != "body"), digits_as_index=True)
        out.append(FieldError(field or "body", error_message(err)))
    return out


class BodyLimit:
    """Refuses bodies over the limit before they are read (413), declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int, import_limit: int) -> None:
        self.app, self.limit, self.import_limit = app, limit, import_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.import_limit if scope["path"].endswith("/import") else self.limit
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._reject(scope, send, limit)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._reject(scope, send, limit)

    async def _reject(self, scope: Scope, send: Send, limit: int) -> None:
        from urllib.parse import parse_qs

        from kosh.platform.i18n import LOCALES, PUBLIC_LOCALES, negotiate

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        asked = (parse_qs((scope.get("query_string") or b"").decode("latin-1")).get("lang") or [None])[0]
        offered = PUBLIC_LOCALES if scope["path"].startswith("/api/v1/public/") else LOCALES
        lang = negotiate(asked, None, headers.get("accept-language"), offered)
        problem = KoshError(Msg(N_("The request body is over the limit of %(limit)s bytes."), limit=limit), status=413,
                            title=N_("Payload too large"), type="urn:kosh:problem:too-large")
        body = json.dumps(problem.problem(instance=scope["path"], lang=lang), ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()),
                                (b"content-language", lang.encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


class ResponseHeaders:
    """Security headers on every response, and no caching of API answers or of anything sent to
    a signed-in caller. Plain ASGI rather
    than Starlette's BaseHTTPMiddleware, which costs a task group and a stream per request."""

    _DOCS_CSP = SECURITY_HEADERS["content-security-policy"].replace("style-src 'self'",
                                                                    "style-src 'self' 'unsafe-inline'")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = URL(scope=scope).path
        headers_in = dict(scope.get("headers") or [])
        # A signed-in caller's pages may show personal data: a browser must not keep them, or the Back
        # button shows them after sign-out. Anonymous pages (calculator, sign-in) and assets may be cached.
        private = (path.startswith("/api/") or path == "/" or b"authorization" in headers_in
                   or SESSION_COOKIE.encode() + b"=" in headers_in.get(b"cookie", b""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    headers.setdefault(k, v)
                if path == "/api/v1/docs":  # Swagger UI sets inline styles; scripts stay 'self' only
                    headers["content-security-policy"] = self._DOCS_CSP
                if private and not path.startswith("/static/"):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


log = logging.getLogger("kosh.web")

INTERNAL_ERROR = ("An unexpected error stopped this request; nothing of it was stored. "
                  "Quote the request id when reporting it.")


def _problem_bytes(status: int, title: str, detail: str, instance: str, **extra: str) -> bytes:
    return json.dumps({"type": f"urn:kosh:problem:{title.lower().replace(' ', '-')}", "title": title,
                       "status": status, "detail": detail, "instance": instance, **extra}).encode()


def _error_classes(exc: BaseException) -> str:
    """The classes along an exception's chain: their messages may quote SQL parameters or values
    (a duplicate key's name, a username), so none of them reaches the log."""
    names, seen = [], set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        names.append(f"{type(cur).__module__}.{type(cur).__qualname__}")
        cur = cur.__cause__ or cur.__context__
    return " <- ".join(names)


class ErrorBoundary:
    """The outermost layer: gives every request an id (the X-Request-Id header), refuses URLs
    holding NUL, and turns an unhandled error into a 500 problem carrying the id. The error is
    logged as its class, the request id and where it was raised — never its message, which can
    quote personal data; the exception is not re-raised, so the server does not log it in full."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["x-request-id"] = request_id
            await send(message)

        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
            # No id, name or search holds NUL, and PostgreSQL cannot even compare with one.
            return await self._reply(send_with_id, 400, "Bad request", "the address (URL) contains a NUL "
                                     "character (%00), which no path or query parameter may hold", scope["path"])
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:  # the boundary: anything not handled below is a 500
            # Where it was raised, as file, line and function: not even the source lines, which may
            # spell out a literal.
            frames = "".join(f"  {fr.filename}:{fr.lineno} in {fr.name}\n"
                             for fr in traceback.extract_tb(exc.__traceback__))
            route = getattr(scope.get("route"), "path", None) or "(no route)"  # the template: no ids
            log.error("unhandled %s in %s %s [request %s]\n%s", _error_classes(exc), scope.get("method"),
                      route, request_id, frames)
            if not started:
                await self._reply(send_with_id, 500, "Internal server error", INTERNAL_ERROR, scope["path"],
                                  request_id=request_id)

    @staticmethod
    async def _reply(send: Send, status: int, title: str, detail: str, path: str, **extra: str) -> None:
        body = _problem_bytes(status, title, detail, path, **extra)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-store"),
                                *((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items())]})
        await send({"type": "http.response.body", "body": body})


PROBLEM_SCHEMA = {
    "type": "object", "title": "Problem", "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
        "request_id": {"type": "string", "description": "quote it when reporting a 500"},
        "retry_after": {"type": "integer"},
    },
}


def _openapi_with_problems(app: FastAPI) -> dict:
    """The OpenAPI document with every error declared as it is sent: application/problem+json
    (FastAPI would describe 422 as its own shape, which this API never sends)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = FastAPI.openapi(app)  # FastAPI's own document (it caches it), amended in place
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    components["Problem"] = PROBLEM_SCHEMA
    problem = {"content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["4XX"] = {"description": "The request cannot be served as sent: bad input (422, naming "
                                               "each field), not signed in (401), not allowed (403), not found "
                                               "(404), conflict (409), too large (413), too many tries (429)",
                                **problem}
            responses["5XX"] = {"description": "An unexpected error; the body and the X-Request-Id header "
                                               "carry the request id", **problem}
    app.openapi_schema = schema
    return schema


def create_app(ctx: Context) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Few threads per process: more only contend for the GIL while holding the audit
        # chain's row lock, which lowers throughput; run more worker processes instead.
        anyio.to_thread.current_default_thread_limiter().total_tokens = ctx.settings.request_threads
        ctx.pack  # noqa: B018 — read the jurisdiction pack now rather than in the first request
        from kosh.platform.audit import checkpoint_periodically

        # Signed audit checkpoints outside the database (platform/audit.py); cancelled on shutdown.
        checkpoints = (asyncio.get_running_loop().create_task(checkpoint_periodically(ctx))
                       if ctx.settings.audit_checkpoint_seconds > 0 else None)
        from kosh.flows import jobs as flow_jobs
        from kosh.platform.jobs import Runner

        # Background jobs (imports started from the page): this process takes its share, and at
        # start those a restart interrupted (their lease ran out).
        flow_jobs.register_handlers()
        runner = Runner(ctx)
        runner.start()
        from kosh.flows import permit_jobs

        permit_jobs.schedule(ctx, runner)  # queues the work permits' daily job once a day
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(runner.stop)  # hands back what does not stop in time
            if checkpoints is not None:
                checkpoints.cancel()
                await asyncio.gather(checkpoints, return_exceptions=True)  # lets a checkpoint being written finish
            from kosh.platform import db

            db.checkpoint(ctx.engine)  # leave no large SQLite WAL behind at shutdown

    app = FastAPI(title="Kosh", version="0.1.0", docs_url=None, redoc_url=None, lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json",
                  description="Register, record and monitor the lawful stay of foreign nationals. "
                              "Errors are RFC 9457 problem details.")
    app.state.ctx = ctx

    @app.exception_handler(KoshError)
    async def _kosh_error(request: Request, exc: KoshError) -> Response:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        from kosh.platform.errors import ValidationFailed

        return problem_response(request, ValidationFailed(_validation_errors(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: N_("Not found"), 405: N_("Method not allowed")}
        details = {404: Msg(N_("There is no page or resource at this address.")),
                   405: Msg(N_("This address does not take the %(method)s method."), method=request.method)}
        return problem_response(request, KoshError(detail=details.get(exc.status_code, str(exc.detail)),
                                                   status=exc.status_code,
                                                   title=titles.get(exc.status_code, N_("Error"))))

    from sqlalchemy.exc import DBAPIError

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        from kosh.platform.errors import database_conflict

        conflict = database_conflict(exc)
        if conflict is None:
            raise exc  # any other database failure is the server's fault: a 500
        # The route template and the constraint, never the key: a duplicate key can be a person's name.
        log.warning("%s %s lost a race: %s %s", request.method, getattr(request.scope.get("route"), "path", "?"),
                    type(exc.orig).__name__, getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or "")
        return problem_response(request, conflict)

    @app.get("/api/v1/docs", include_in_schema=False)
    async def api_docs() -> Response:
        # Swagger UI from vendored files: the default page loads it from a CDN, which a closed
        # government network does not reach.
        return HTMLResponse("""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Kosh API</title><link rel="icon" href="/static/favicon.svg" type="image/svg+xml">"""
                            """<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>""")

    app.add_middleware(ResponseHeaders)

    from kosh.identity.api import router as identity_api
    from kosh.people.api import access_router as access_api
    from kosh.people.api import router as people_api
    from kosh.permits.api import router as permits_api
    from kosh.platform.api import router as core_api
    from kosh.stay.api import router as stay_api

    for router in (core_api, people_api, access_api, stay_api, identity_api, permits_api):
        app.include_router(router, prefix="/api/v1")

    from kosh.identity.views import router as identity_pages
    from kosh.people.access_views import router as access_pages
    from kosh.people.views import router as people_pages
    from kosh.stay.host_views import router as host_pages
    from kosh.stay.views import router as stay_pages
    from kosh.web.imports import router as import_pages
    from kosh.web.person import router as person_pages
    from kosh.web.views import router as web_pages

    for router in (web_pages, people_pages, access_pages, person_pages, stay_pages, host_pages, import_pages,
                   identity_pages):
        app.include_router(router)
    from kosh.web.audit import router as audit_pages
    from kosh.web.purpose import router as purpose_pages

    for router in (audit_pages, purpose_pages):
        app.include_router(router)
    from kosh.permits.employer_views import router as employer_pages
    from kosh.permits.office_views import router as office_pages
    from kosh.permits.verify_views import router as verify_pages

    for router in (employer_pages, office_pages, verify_pages):
        app.include_router(router)
    from kosh.web import selfservice  # the public status pages (/status) and their API

    app.include_router(selfservice.router)
    app.include_router(selfservice.api, prefix="/api/v1")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=ctx.settings.max_body_bytes, import_limit=ctx.settings.max_import_bytes)
    app.add_middleware(ErrorBoundary)  # added last: the outermost, so it sees every request and error
    app.openapi = lambda: _openapi_with_problems(app)  # type: ignore[method-assign]  # FastAPI's documented way
    return app
