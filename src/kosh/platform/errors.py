"""Errors that carry an RFC 9457 problem: raised in services, rendered by the web layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


@dataclass
class KoshError(Exception):
    """A failure a user can act on; `status` maps it to HTTP."""

    detail: str
    status: int = 400
    title: str = "Bad request"
    type: str = "about:blank"
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.errors:
            return self.detail + ": " + "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return self.detail

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        body.update(self.extra)
        return body


class ValidationFailed(KoshError):
    def __init__(self, errors: list[FieldError], detail: str = "The input is not valid"):
        super().__init__(detail=detail, status=422, title="Validation failed",
                         type="urn:kosh:problem:validation", errors=errors)


class NotFound(KoshError):
    def __init__(self, detail: str):
        super().__init__(detail=detail, status=404, title="Not found", type="urn:kosh:problem:not-found")


class Forbidden(KoshError):
    def __init__(self, detail: str = "Your role does not allow this"):
        super().__init__(detail=detail, status=403, title="Forbidden", type="urn:kosh:problem:forbidden")


class Unauthorized(KoshError):
    def __init__(self, detail: str = "Sign in or send a valid bearer token"):
        super().__init__(detail=detail, status=401, title="Unauthorized", type="urn:kosh:problem:unauthorized")


class Conflict(KoshError):
    def __init__(self, detail: str):
        super().__init__(detail=detail, status=409, title="Conflict", type="urn:kosh:problem:conflict")


CONCURRENT_WRITE = ("another request changed the same records at the same moment, so nothing of this one "
                    "was stored; send it again")


def database_conflict(exc: BaseException) -> Conflict | None:
    """The Conflict for a write that lost a race with another — a unique key taken meanwhile, a
    deadlock or a serialization failure (SQLSTATE class 40) — or None for any other database error."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    if isinstance(exc, IntegrityError):
        return Conflict(CONCURRENT_WRITE)
    if isinstance(exc, OperationalError) and str(getattr(exc.orig, "sqlstate", "") or "").startswith("40"):
        return Conflict(CONCURRENT_WRITE)
    return None


class TooManyRequests(KoshError):
    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail=detail, status=429, title="Too many requests",
                         type="urn:kosh:problem:rate-limited", extra={"retry_after": retry_after})
