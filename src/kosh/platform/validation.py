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


def nul_message(label: str) -> str:
    return f"{label} contains a NUL character (U+0000), which no text may hold"


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
            raise ValueError(f"{label} contains a bidirectional control character (U+{ord(ch):04X}), "
                             f"which can make the text display as something else")
        raise ValueError(f"{label} contains a control character (U+{ord(ch):04X})")
    # Stops at the first visible character, nearly always the first one.
    if value and all(ch in _BLANK_LETTERS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in value):
        raise ValueError(f"{label} has no visible characters (only spaces or invisible characters)")
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

_PREFIXES = ("Value error, ", "Assertion failed, ")


def error_message(err: Mapping[str, Any]) -> str:
    """One Pydantic error said plainly: without Pydantic's "Value error, " prefix, and a missing or
    unknown field named as such."""
    if err.get("type") == "missing":
        return "is required"
    if err.get("type") == "extra_forbidden":
        return "is not a known field"
    msg: str = err.get("msg", "is not valid")
    for p in _PREFIXES:
        msg = msg.removeprefix(p)
    return msg


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
        raise ValidationFailed([FieldError(name, f"'{value}' is not a date (YYYY-MM-DD)")]) from None
