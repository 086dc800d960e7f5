"""Turning Pydantic's validation errors into field-level problems with plain messages."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kosh.core.errors import FieldError, ValidationFailed

M = TypeVar("M", bound=BaseModel)

_PREFIXES = ("Value error, ", "Assertion failed, ")


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    out = []
    for err in exc.errors(include_url=False):
        loc = prefix
        for part in err["loc"]:
            if isinstance(part, int):
                loc += f"[{part}]"
            else:
                loc += ("." if loc else "") + str(part)
        msg = err["msg"]
        for p in _PREFIXES:
            if msg.startswith(p):
                msg = msg[len(p):]
        if err["type"] == "missing":
            msg = "is required"
        elif err["type"] == "extra_forbidden":
            msg = "is not a known field"
        out.append(FieldError(loc or "body", msg))
    return out


def validate_model(model: type[M], data: Any, context: dict[str, Any] | None = None, prefix: str = "") -> M:
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc, prefix)) from None
