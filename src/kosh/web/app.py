"""The web application: REST API under /api/v1 and the pages, one process."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.datastructures import URL, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kosh.core.context import Context
from kosh.core.errors import FieldError, KoshError

STATIC = Path(__file__).resolve().parent / "static"
PROBLEM = "application/problem+json"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem_response(request: Request, err: KoshError) -> Response:
    headers = {}
    if "retry_after" in err.extra:
        headers["Retry-After"] = str(err.extra["retry_after"])
    if _is_api(request):
        return JSONResponse(err.problem(instance=request.url.path), status_code=err.status,
                            media_type=PROBLEM, headers=headers)
    if err.status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    from kosh.web.templating import render

    response = render(request, "error.html", status_code=err.status, error=err)
    response.headers.update(headers)
    return response


def _validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        field = ""
        for part in loc:
            field += f"[{part}]" if part.isdigit() else ("." if field else "") + part
        msg = err.get("msg", "is not valid")
        for prefix in ("Value error, ", "Assertion failed, "):
            msg = msg.removeprefix(prefix)
        if err.get("type") == "json_invalid":
            detail = (err.get("ctx") or {}).get("error", "")
            msg = f"the body is not valid JSON ({detail})" if detail else "the body is not valid JSON"
            field = "body"
        elif err.get("type") == "missing":
            msg = "is required"
        elif err.get("type") == "extra_forbidden":
            msg = "is not a known field"
        out.append(FieldError(field or "body", msg))
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

        async def counted() -> dict:
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
        body = json.dumps({"type": "urn:kosh:problem:too-large", "title": "Payload too large", "status": 413,
                           "detail": f"the request body is over the limit of {limit} bytes",
                           "instance": scope["path"]}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]})
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
    """Security headers on every response, and no caching of API answers. Plain ASGI rather
    than Starlette's BaseHTTPMiddleware, which costs a task group and a stream per request."""

    _DOCS_CSP = SECURITY_HEADERS["content-security-policy"].replace("style-src 'self'",
                                                                    "style-src 'self' 'unsafe-inline'")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = URL(scope=scope).path

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    headers.setdefault(k, v)
                if path == "/api/v1/docs":  # Swagger UI sets inline styles; scripts stay 'self' only
                    headers["content-security-policy"] = self._DOCS_CSP
                if path.startswith("/api/") or path == "/":
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(ctx: Context) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Few threads per process: more only contend for the GIL while holding the audit
        # chain's row lock, which lowers throughput; run more worker processes instead.
        anyio.to_thread.current_default_thread_limiter().total_tokens = ctx.settings.request_threads
        ctx.pack  # noqa: B018 — read the jurisdiction pack now rather than in the first request
        yield

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
        from kosh.core.errors import ValidationFailed

        return problem_response(request, ValidationFailed(_validation_errors(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        return problem_response(request, KoshError(detail=str(exc.detail), status=exc.status_code,
                                                   title=titles.get(exc.status_code, "Error")))

    @app.get("/api/v1/docs", include_in_schema=False)
    async def api_docs() -> Response:
        # Swagger UI from vendored files: the default page loads it from a CDN, which a closed
        # government network does not reach.
        return HTMLResponse("""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Kosh API</title><link rel="icon" href="/static/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>""")

    app.add_middleware(ResponseHeaders)

    from kosh.core.api import router as core_api
    from kosh.people.api import router as people_api
    from kosh.stay.api import router as stay_api
    from kosh.identity.api import router as identity_api

    for router in (core_api, people_api, stay_api, identity_api):
        app.include_router(router, prefix="/api/v1")

    from kosh.identity.views import router as identity_pages
    from kosh.people.views import router as people_pages
    from kosh.stay.views import router as stay_pages
    from kosh.web.views import router as web_pages

    for router in (web_pages, people_pages, stay_pages, identity_pages):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=ctx.settings.max_body_bytes, import_limit=ctx.settings.max_import_bytes)
    return app
