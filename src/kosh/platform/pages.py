"""Jinja2 environments (one per interface language) and the page renderer."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from kosh.platform import i18n, words
from kosh.platform.http import LANG_COOKIE

ROOT = Path(__file__).resolve().parent.parent
# Each capability keeps its pages in its own `templates/`; found on disk so the platform names none of them.
# The web layer's base templates come first; no two capabilities share a template name.
TEMPLATE_DIRS = [ROOT / "web" / "templates",
                 *sorted(d for d in ROOT.glob("*/templates") if d.is_dir() and d.parent.name != "web")]


# Filters that say a value in the page's language, added by capabilities (the platform names none
# of them): name → function(value, lang). Registering one starts the environments afresh.
_LANG_FILTERS: dict[str, Callable[[Any, str], str]] = {}


def language_filter(name: str) -> Callable[[Callable[[Any, str], str]], Callable[[Any, str], str]]:
    """Decorator: `{{ value | name }}` in every template calls `fn(value, lang)`."""
    def register(fn: Callable[[Any, str], str]) -> Callable[[Any, str], str]:
        _LANG_FILTERS[name] = fn
        environment.cache_clear()
        return fn
    return register


@cache
def environment(lang: str) -> Environment:
    env = Environment(loader=ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS]),
                      autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"],
                      trim_blocks=True, lstrip_blocks=True)
    tr = i18n.translations(lang)
    env.install_gettext_callables(tr.gettext, tr.ngettext, newstyle=True)  # type: ignore[attr-defined]  # set by jinja2.ext.i18n
    env.filters["day"] = lambda d: i18n.format_day(d, lang)
    env.filters["reason"] = lambda r: i18n.say(r, lang)
    env.filters["field_error"] = lambda e: e.said(lang)  # a FieldError: its field's label and its message
    env.globals["label"] = lambda field: tr.gettext(words.label(field) or field)
    env.filters["region"] = lambda kato: i18n.say(words.region_name(str(kato or "")), lang) or "—"
    for name, fn in _LANG_FILTERS.items():
        env.filters[name] = lambda value, fn=fn: fn(value, lang)
    env.globals.update(LOCALES=i18n.LOCALES, PUBLIC_LOCALES=i18n.PUBLIC_LOCALES, LANGUAGE_NAMES=i18n.LANGUAGE_NAMES)
    return env


def request_lang(request: Request, offered: tuple[str, ...] = i18n.LOCALES) -> str:
    """The reply's language among those `offered` (public pages: i18n.PUBLIC_LOCALES)."""
    return i18n.negotiate(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                          request.headers.get("accept-language"), offered)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return render_in(i18n.LOCALES, request, template, status_code, **context)


def render_in(offered: tuple[str, ...], request: Request, template: str, status_code: int = 200,
              **context: Any) -> HTMLResponse:
    """A page in one of the languages `offered` (the public pages: i18n.PUBLIC_LOCALES)."""
    lang = request_lang(request, offered)
    ctx = request.app.state.ctx
    body = environment(lang).get_template(template).render(
        request=request, lang=lang, principal=getattr(request.state, "principal", None),
        csrf_token=getattr(request.state, "csrf", None) or "", pack=ctx.pack, **context)
    response = HTMLResponse(body, status_code=status_code)
    if request.query_params.get("lang") in offered:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
