"""Errors that carry an RFC 9457 problem: raised in services, rendered by the web layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kosh.platform.words import N_, Msg


@dataclass
class FieldError:
    """What is wrong with one input field: `message` is best a `kosh.platform.words.Msg` (said in
    the reader's language) that does not repeat the field's name — the label is shown beside it."""

    field: str
    message: str

    def as_dict(self, lang: str = "en") -> dict[str, str]:
        from kosh.platform.i18n import say, translations
        from kosh.platform.words import label

        name = label(self.field)
        body = {"field": self.field, "message": say(self.message, lang)}
        if name is not None:
            body["label"] = translations(lang).gettext(name)
        return body

    def said(self, lang: str) -> str:
        """The label and the message in one line, as a page shows it in a list of errors."""
        found = self.as_dict(lang)
        return f"{found.get('label', found['field'])}: {found['message']}"


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
            return self.detail.rstrip(".") + ": " + "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return self.detail

    def problem(self, instance: str | None = None, lang: str = "en") -> dict[str, Any]:
        """The RFC 9457 body, its title, detail and field errors in the language `lang`."""
        from kosh.platform.i18n import say, translations

        body: dict[str, Any] = {"type": self.type, "title": translations(lang).gettext(self.title),
                                "status": self.status, "detail": say(self.detail, lang)}
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.as_dict(lang) for e in self.errors]
        body.update(self.extra)
        return body


class ValidationFailed(KoshError):
    def __init__(self, errors: list[FieldError], detail: str = Msg(N_("The input is not valid"))):
        super().__init__(detail=detail, status=422, title="Validation failed",
                         type="urn:kosh:problem:validation", errors=errors)


class NotFound(KoshError):
    def __init__(self, detail: str):
        super().__init__(detail=detail, status=404, title="Not found", type="urn:kosh:problem:not-found")


class Forbidden(KoshError):
    def __init__(self, detail: str = Msg(N_("Your role does not allow this"))):
        super().__init__(detail=detail, status=403, title="Forbidden", type="urn:kosh:problem:forbidden")


class Unauthorized(KoshError):
    def __init__(self, detail: str = Msg(N_("Sign in or send a valid bearer token"))):
        super().__init__(detail=detail, status=401, title="Unauthorized", type="urn:kosh:problem:unauthorized")


class Conflict(KoshError):
    def __init__(self, detail: str):
        super().__init__(detail=detail, status=409, title="Conflict", type="urn:kosh:problem:conflict")


CONCURRENT_WRITE = Msg(N_("Another request changed the same records at the same moment, so nothing of this one "
                           "was stored. Send it again."))


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
