"""The public status pages speak every public language: each message they show (their templates,
the self-service flow and pages, and the stay engine's messages they display) is translated into
Uzbek, Tajik and Kyrgyz, and the messages the self-service added are in Russian and Kazakh too.
The messages are extracted from the sources as Babel extracts them, not listed here."""

from __future__ import annotations

import ast
import dataclasses
import re
import typing
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from kosh.flows import selfservice
from kosh.platform import validation, words
from kosh.platform.errors import KoshError
from kosh.platform.i18n import LOCALE_DIR, PUBLIC_LOCALES, translations
from kosh.stay import rules
from kosh.web import selfservice as public_web

SRC = Path(__file__).resolve().parents[2] / "src" / "kosh"
PUBLIC_TEMPLATES = sorted((SRC / "web" / "templates").glob("*status*.html")) + [SRC / "web" / "templates" /
                                                                                 "public_base.html"]
OWN_SOURCES = [SRC / "flows" / "selfservice.py", SRC / "web" / "selfservice.py"]
ENGINE = SRC / "stay" / "rules.py"
NEW_LANGUAGES = ("uz", "tg", "ky")
KEYWORDS = {"_": None, "N_": None, "gettext": None, "Msg": None, "Reason": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _extract(files: list[Path]) -> set[str]:
    found: set[str] = set()
    for file in files:
        method = "jinja2" if file.suffix == ".html" else "python"
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _lineno, message, _comments, _context in extract_from_file(method, str(file), keywords=KEYWORDS,
                                                                       options=options):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(lang: str):
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def _translated(lang: str, msgids: set[str]) -> dict[str, str]:
    catalog = _catalog(lang)
    return {m: catalog[m].string for m in msgids if catalog.get(m) is not None and catalog[m].string}


SHOWN = _extract(PUBLIC_TEMPLATES + OWN_SOURCES + [ENGINE])
OWN = _extract(PUBLIC_TEMPLATES + OWN_SOURCES)


def test_the_extraction_finds_the_pages_and_the_engine():
    assert len(OWN) > 80
    assert rules.PER_ENTRY in SHOWN and rules.LAWFUL_UNTIL in SHOWN
    assert set(selfservice.STATUS_PHRASES.values()) <= OWN


def test_the_public_languages_are_the_packs():
    assert PUBLIC_LOCALES == ("kk", "ru", "en", "uz", "tg", "ky")


@pytest.mark.parametrize("lang", NEW_LANGUAGES)
def test_every_shown_message_is_translated(lang):
    translated = _translated(lang, SHOWN)
    assert sorted(SHOWN - set(translated)) == []
    wrong = {m: t for m, t in translated.items() if sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(t))}
    assert wrong == {}


@pytest.mark.parametrize("lang", ("ru", "kk"))
def test_the_self_service_messages_are_in_russian_and_kazakh(lang):
    assert sorted(OWN - set(_translated(lang, OWN))) == []


@pytest.mark.parametrize("lang", NEW_LANGUAGES)
def test_catalog_header(lang):
    catalog = _catalog(lang)
    assert str(catalog.locale) == lang and not catalog.fuzzy
    assert catalog.charset.lower() == "utf-8"
    # Babel's plural rule for these languages (none of the messages shown uses plural forms).
    assert catalog.num_plurals == 2 and "nplurals=2" in dict(catalog.mime_headers)["Plural-Forms"]
    assert translations(lang).gettext("Lawful stay") != "Lawful stay"


def test_every_status_and_violation_kind_has_words():
    assert set(typing.get_args(rules.Status)) == set(selfservice.STATUS_PHRASES)
    assert set(typing.get_args(rules.ViolationKind)) <= set(selfservice.VIOLATION_PHRASES)


# -- the problems the public API answers (RFC 9457, in the caller's language) ------------------
# A problem carries a title, a detail and per field a message and the field's label: the generic
# ones come from the errors, the request validation and the app's own 404/405/JSON answers.
PROBLEM_SOURCES = [SRC / "platform" / "errors.py", SRC / "platform" / "validation.py", SRC / "web" / "app.py"]
PUBLIC_BODIES = (public_web.StatusIn, public_web.VerifyIn)


def _n_msgids(files: list[Path]) -> set[str]:
    """The N_ msgids only (Msg(...) wraps variables and joins in these files, not texts)."""
    return {message for file in files
            for _lineno, message, _comments, _context in extract_from_file("python", str(file), keywords={"N_": None})}


def _titles() -> set[str]:
    """Every problem title written in the error classes and the app as a plain string (in a call or
    a dict that also gives the status), and KoshError's default."""
    found = {f.default for f in dataclasses.fields(KoshError) if f.name == "title"}
    for file in (SRC / "platform" / "errors.py", SRC / "web" / "app.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):  # a problem made with its status and title
                given = {k.arg: k.value for k in node.keywords}
                if "status" in given and isinstance(given.get("title"), ast.Constant):
                    found.add(given["title"].value)
            elif isinstance(node, ast.Dict):  # a problem body written out (it has a status; a schema does not)
                entries = {k.value: v for k, v in zip(node.keys, node.values, strict=True)
                           if isinstance(k, ast.Constant)}
                if "status" in entries and isinstance(entries.get("title"), ast.Constant):
                    found.add(entries["title"].value)
    return found


def _registered_labels() -> dict[str, set[str]]:
    """Every label msgid each field name is given anywhere in the sources (words._LABELS and each
    field_labels({...}) call): a name registered twice keeps whichever module was imported last."""
    found: dict[str, set[str]] = {}
    for file in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            table = None
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "field_labels" and node.args:
                table = node.args[0]
            elif isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "_LABELS":
                table = node.value
            if isinstance(table, ast.Dict):
                for key, value in zip(table.keys, table.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(value, ast.Call) and value.args:
                        found.setdefault(key.value, set()).add(value.args[0].value)
    return found


TITLES = _titles()
PROBLEM_MESSAGES = _n_msgids(PROBLEM_SOURCES)
LABELS = _registered_labels()
# An unknown field of a public body is named by the registry too ("is not a known field" beside
# its label), so every registered label can appear in a public problem.
ALL_LABELS = {m for msgids in LABELS.values() for m in msgids}
PUBLIC_PROBLEM_TEXTS = TITLES | PROBLEM_MESSAGES | ALL_LABELS


def test_the_problem_texts_are_found_in_the_code():
    assert {"Validation failed", "Not found", "Too many requests", "Bad request", "Method not allowed",
            "Payload too large", "Error"} <= TITLES | PROBLEM_MESSAGES  # the app's 404/405 titles are N_ there
    assert set(validation._TYPE_MESSAGES.values()) | set(validation.PATTERN_MESSAGES.values()) <= PROBLEM_MESSAGES
    fields = {name for model in PUBLIC_BODIES for name in model.model_fields} | {"body"}
    assert fields <= set(LABELS)
    words.label("body")  # loads every capability's labels
    from kosh.web import app  # noqa: F401 — imports the modules that register the rest
    assert set(words._LABELS.values()) <= ALL_LABELS


@pytest.mark.parametrize("lang", NEW_LANGUAGES)
def test_every_problem_text_is_translated(lang):
    translated = _translated(lang, PUBLIC_PROBLEM_TEXTS)
    assert sorted(PUBLIC_PROBLEM_TEXTS - set(translated)) == []
    wrong = {m: t for m, t in translated.items() if sorted(PLACEHOLDER.findall(m)) != sorted(PLACEHOLDER.findall(t))}
    assert wrong == {}


def _said(lang: str, msgid: str, **params: object) -> str:
    text = translations(lang).gettext(msgid)
    assert text != msgid  # a translation, not the English fallback
    return text % params if params else text


def _by_field(response) -> dict[str, dict[str, str]]:
    return {e["field"]: e for e in response.json()["errors"]}


def test_public_status_api_answers_invalid_input_in_uzbek(client):
    r = client.post("/api/v1/public/status", json={"citizenship": "UZBX", "document_number": 5, "extra": 1},
                    headers={"accept-language": "uz"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.headers["content-language"] == "uz"
    body = r.json()
    assert body["title"] == _said("uz", "Validation failed")
    assert body["detail"] == _said("uz", "The input is not valid")
    errors = _by_field(r)
    assert set(errors) == {"citizenship", "document_number", "birth_date", "extra"}
    max_length = public_web.StatusIn.model_fields["citizenship"].metadata[0].max_length
    assert errors["citizenship"]["message"] == _said("uz", "must be at most %(max_length)s characters long",
                                                     max_length=max_length)
    assert errors["document_number"]["message"] == _said("uz", "must be text")
    assert errors["birth_date"]["message"] == _said("uz", "is required")
    assert errors["extra"]["message"] == _said("uz", "is not a known field")
    for name in ("citizenship", "document_number", "birth_date"):
        assert errors[name]["label"] == _said("uz", words.label(name))


@pytest.mark.parametrize("lang", NEW_LANGUAGES)
def test_public_api_problems_in_each_new_language(client, lang):
    verify = client.post("/api/v1/public/status/verify", json={"code": 7}, headers={"accept-language": lang})
    assert verify.status_code == 422 and verify.headers["content-language"] == lang
    assert verify.json()["title"] == _said(lang, "Validation failed")
    errors = _by_field(verify)
    assert errors["code"] == {"field": "code", "message": _said(lang, "must be text"),
                              "label": _said(lang, words.label("code"))}
    assert errors["birth_date"]["message"] == _said(lang, "is required")
    broken = client.post("/api/v1/public/status", content=b"{", headers={"accept-language": lang,
                                                                          "content-type": "application/json"})
    assert broken.status_code == 422
    [error] = broken.json()["errors"]
    assert error["field"] == "body" and error["label"] == _said(lang, "The request")
    assert error["message"].startswith(_said(lang, "is not valid JSON (%(reason)s)", reason="").removesuffix("()"))
    wrong_method = client.get("/api/v1/public/status", headers={"accept-language": lang})
    assert wrong_method.status_code == 405 and wrong_method.headers["content-language"] == lang
    assert wrong_method.json()["title"] == _said(lang, "Method not allowed")
    assert wrong_method.json()["detail"] == _said(lang, "This address does not take the %(method)s method.",
                                                  method="GET")
