"""Turning Pydantic's validation errors into field-level problems with plain messages, and the
text checks every input shares (no NUL anywhere; names and addresses that display as what they are)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ValidationError, ValidationInfo, field_validator

from kosh.jurisdictions import field_path
from kosh.platform.errors import FieldError, ValidationFailed
from kosh.platform.words import N_, Msg

M = TypeVar("M", bound=BaseModel)

# The largest id a path or query may name: every id column is a 32-bit INTEGER on PostgreSQL
# (and SQLite overflows at 2**63), so a larger one can only be "not found" — said before any query.
MAX_ID = 2**31 - 1

# Characters that reorder the text around them (LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI): in a
# name they make one person look like another on screen while the stored text differs.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing, though Unicode does not class them as format or space.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
# Control characters (Unicode category Cc) and the bidirectional controls; addresses may break lines.
_SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SUSPECT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _label(info: ValidationInfo | None) -> str:
    return info.field_name if info is not None and info.field_name else "the text"


def nul_message(label: str) -> Msg:  # the label is shown beside the message, where there is one
    return Msg(N_("contains a NUL character (U+0000), which no text may hold"))


def check_no_nul(value: Any, label: str) -> None:
    """Raises ValueError if `value` (a string, or a list of them) holds U+0000: PostgreSQL cannot
    store it, and no honest input has one. Nested objects are input models that check themselves."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(nul_message(label))
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_no_nul(item, label)


def check_display_text(value: str, label: str, *, multiline: bool = False) -> str:
    """Text shown to officers as someone's name or address: no NUL or other control characters,
    no bidirectional overrides, and at least one visible character."""
    check_no_nul(value, label)
    found = (_SUSPECT_LINES if multiline else _SUSPECT).search(value)  # one C-speed scan per value
    if found:
        ch = found.group()
        if ch in BIDI_CONTROLS:
            raise ValueError(Msg(N_("contains a bidirectional control character (U+%(code)s), which can make the "
                                    "text display as something else"), code=f"{ord(ch):04X}"))
        raise ValueError(Msg(N_("contains a control character (U+%(code)s)"), code=f"{ord(ch):04X}"))
    # Stops at the first visible character, nearly always the first one.
    if value and all(ch in _BLANK_LETTERS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in value):
        raise ValueError(Msg(N_("has no visible characters (only spaces or invisible characters)")))
    return value


def _display_text(value: str, info: ValidationInfo) -> str:
    return check_display_text(value, _label(info))


def _display_lines(value: str, info: ValidationInfo) -> str:
    return check_display_text(value, _label(info), multiline=True)


# A one-line text shown as someone's name (persons, hosts) / an address, which may span lines.
DisplayText = Annotated[str, AfterValidator(_display_text)]
DisplayLines = Annotated[str, AfterValidator(_display_lines)]


class TextInput(BaseModel):
    """Base of every input body: no string anywhere in it may hold a NUL character."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any, info: ValidationInfo) -> Any:
        check_no_nul(value, _label(info))
        return value

# Pydantic's own messages are English and name its internals ("String should match pattern
# '^\\d{9}$'"); each error type it can raise on our inputs is said here as a catalog message with
# the error's own figures. Written by hand because Pydantic has no translations of its own.
_TYPE_MESSAGES = {
    "missing": N_("is required"),
    "extra_forbidden": N_("is not a known field"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must be at least %(min_length)s character(s) long"),
    "string_too_long": N_("must be at most %(max_length)s characters long"),
    "string_pattern_mismatch": N_("is not in the expected form"),
    "string_unicode": N_("must be text"),
    "int_parsing": N_("must be a whole number"),
    "int_type": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_parsing": N_("must be a number"),
    "float_type": N_("must be a number"),
    "bool_parsing": N_("must be yes or no"),
    "bool_type": N_("must be yes or no"),
    "greater_than": N_("must be more than %(gt)s"),
    "greater_than_equal": N_("must be %(ge)s or more"),
    "less_than": N_("must be less than %(lt)s"),
    "less_than_equal": N_("must be %(le)s or less"),
    "date_parsing": N_("must be a real date, written as YYYY-MM-DD"),
    "date_type": N_("must be a real date, written as YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("must be a real date, written as YYYY-MM-DD"),
    "date_from_datetime_inexact": N_("must be a date without a time of day"),
    "datetime_parsing": N_("must be a date and time, written as YYYY-MM-DDTHH:MM:SS with a time zone"),
    "datetime_type": N_("must be a date and time, written as YYYY-MM-DDTHH:MM:SS with a time zone"),
    "datetime_from_date_parsing": N_("must be a date and time, written as YYYY-MM-DDTHH:MM:SS with a time zone"),
    "timezone_aware": N_("must give its time zone"),
    "literal_error": N_("must be one of: %(expected)s"),
    "enum": N_("must be one of: %(expected)s"),
    "list_type": N_("must be a list"),
    "too_short": N_("must have at least %(min_length)s item(s)"),
    "too_long": N_("must have at most %(max_length)s items"),
    "dict_type": N_("must be an object with named fields"),
    "model_type": N_("must be an object with named fields"),
    "model_attributes_type": N_("must be an object with named fields"),
    "json_invalid": N_("is not valid JSON"),
    "json_type": N_("is not valid JSON"),
    "uuid_parsing": N_("is not a valid identifier"),
    "uuid_type": N_("is not a valid identifier"),
}
# The forms a pattern asks for, in words (a pattern not listed is "not in the expected form").
PATTERN_MESSAGES = {
    r"^\d{9}$": N_("must be 9 digits"),
    r"^[A-Za-z0-9 \-]+$": N_("may hold only Latin letters, digits, spaces and hyphens"),
}
_QUOTED = re.compile(r"'([^']*)'")


def error_message(err: Mapping[str, Any]) -> Msg:
    """One Pydantic error as a catalog message: ours (a validator's ValueError carrying a Msg)
    as raised, Pydantic's by its error type with the figures it reports."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    raised = ctx.get("error")
    if isinstance(raised, Exception) and raised.args and isinstance(raised.args[0], Msg):
        return raised.args[0]
    if isinstance(raised, Msg):
        return raised
    if kind in ("value_error", "assertion_error"):  # a library's own check: its English text, as said
        return Msg(str(err.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, "))
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in PATTERN_MESSAGES:
        return Msg(PATTERN_MESSAGES[ctx["pattern"]])
    if kind in ("literal_error", "enum"):
        # the allowed codes, each said as its word in the reader's language (i18n.say on a list)
        return Msg(_TYPE_MESSAGES[kind], expected=_QUOTED.findall(str(ctx.get("expected", ""))))
    template = _TYPE_MESSAGES.get(kind)
    if template is None:
        return Msg(N_("is not valid"))
    wanted = {k: v for k, v in ctx.items() if isinstance(v, (int, float, str)) and f"%({k})s" in template}
    return Msg(template, **wanted)


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    return [FieldError(field_path(err["loc"], prefix) or "body", error_message(err))
            for err in exc.errors(include_url=False)]


def validate_model(model: type[M], data: Any, context: dict[str, Any] | None = None, prefix: str = "") -> M:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc, prefix)) from None


def query_day(value: str | None, name: str) -> dt.date | None:
    """An optional YYYY-MM-DD query parameter of a page, or a 422 naming the parameter."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed([FieldError(name, Msg(N_("must be a real date, written as YYYY-MM-DD")))]) from None
