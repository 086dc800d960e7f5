"""Every message a user can meet comes from the catalogs, in every interface language.

Three holds: (1) the code raises user-facing errors only with catalog messages (`Msg`/`N_`), never
with a bare English literal or f-string; (2) every message marked in the code and templates is
translated in each interface catalog (found by extracting them, as Babel does, not from a list);
(3) what the API and pages answer is said in the caller's language, with the field's label.
"""

from __future__ import annotations

import ast
import datetime as dt
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from pydantic import BaseModel, Field, ValidationError

from kosh.platform import i18n
from kosh.platform.errors import FieldError, Forbidden, ValidationFailed
from kosh.platform.i18n import say
from kosh.platform.validation import _TYPE_MESSAGES, error_message
from kosh.platform.words import N_, Msg, label, region_name

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "kosh"
TRANSLATED = [lang for lang in i18n.LOCALES if lang != "en"]

# Where the message argument sits in each constructor a user-facing message passes through.
MESSAGE_ARG = {"FieldError": 1, "InvalidIdentifier": 1, "ValidationFailed": 1, "NotFound": 0, "Forbidden": 0,
               "Conflict": 0, "KoshError": 0, "TooManyRequests": 0, "Unauthorized": 0, "AlreadyUndone": 0,
               "ValueError": 0, "Msg": 0, "Reason": 0}
# Raised for operators and developers, not for users of the pages or the API: a broken
# installation (keys, audit signing), a programming error (an unknown engine or dialect), a pack
# author's mistake (the pack loader's own report), the engine's checks of its own value objects.
EXEMPT = {
    "platform/crypto.py": "key files and key sets: the operator's installation (500)",
    "platform/audit.py": "audit checkpoint files and signing: the operator's CLI (kosh audit)",
    "platform/auth.py:KoshError": "a host account's IIN unreadable without keys (500)",
    "identity/linking.py": "an unknown linking engine name: a programming error",
    "identity/model.py": "an unknown SQL dialect: a programming error",
    "people/names.py": "an unknown romanization table: a programming error",
    "jurisdictions/": "the pack loader: messages for the pack's author, in the pack's own language",
    "stay/rules.py:__post_init__": "the engine's value objects check themselves; inputs were validated before",
}


def _literal(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or isinstance(node, ast.BinOp) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str))


def _exempt(relative: str, name: str, function: str) -> bool:
    return any(relative.startswith(key) or key in (f"{relative}:{name}", f"{relative}:{function}") for key in EXEMPT)


def _calls(tree: ast.AST, function: str = "") -> list[tuple[ast.Call, str]]:
    """Every call with the name of the function it is in."""
    found = []
    for child in ast.iter_child_nodes(tree):
        inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
        if isinstance(child, ast.Call):
            found.append((child, function))
        found.extend(_calls(child, inner))
    return found


def _bare_messages() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith("migrations/"):
            continue
        for node, function in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name not in MESSAGE_ARG:
                continue
            at = MESSAGE_ARG[name]
            args = ([node.args[at]] if len(node.args) > at else []) + [
                k.value for k in node.keywords if k.arg in ("detail", "message")]
            if any(_literal(a) for a in args) and not _exempt(relative, name, function):
                found.append(f"{relative}:{node.lineno} {name}")
    return found


def test_user_facing_errors_are_catalog_messages():
    assert _bare_messages() == []


def test_the_check_finds_a_bare_message(tmp_path, monkeypatch):
    """The scan above would see an English literal raised to a user (it is not vacuous)."""
    module = SRC / "people" / "_probe_bare_message.py"
    module.write_text('def f():\n    raise NotFound(f"no person {1}")\n', encoding="utf-8")
    try:
        assert "people/_probe_bare_message.py:2 NotFound" in _bare_messages()
    finally:
        module.unlink()


def _extracted() -> set[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import translations
    finally:
        sys.path.pop(0)
    return {m.id if isinstance(m.id, str) else m.id[0] for m in translations.extract() if m.id}


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    return _extracted()


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_in_the_code_is_translated(lang, extracted):
    """Extracted from the sources and templates now (not from messages.pot, which could be stale)."""
    with (i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)

    def translated(mid: str) -> bool:
        found = catalog.get(mid)
        if found is None:
            return False
        forms = found.string if isinstance(found.string, (tuple, list)) else [found.string]
        return all(f.strip() for f in forms)

    assert sorted(m for m in extracted if not translated(m)) == []


def test_the_template_is_current(extracted):
    """messages.pot holds what the code marks (`./dev catalogs` writes it)."""
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as fh:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    assert extracted - template == set()


def test_every_pydantic_error_type_has_a_message_in_each_language():
    for lang in TRANSLATED:
        gettext = i18n.translations(lang).gettext
        assert [t for t, mid in _TYPE_MESSAGES.items() if gettext(mid) == mid] == []


class _Form(BaseModel):
    kato: str = Field(pattern=r"^\d{9}$")
    birth_date: dt.date
    sex: str = Field(min_length=1, max_length=1)
    hours: int = Field(ge=1)


def _errors(data: dict) -> dict[str, Msg]:
    try:
        _Form.model_validate(data)
    except ValidationError as exc:
        return {str(e["loc"][0]): error_message(e) for e in exc.errors()}
    raise AssertionError("valid")


def test_pydantic_errors_are_said_in_words_without_internals():
    found = _errors({"kato": "12", "birth_date": "1990-13-01", "sex": "MM", "hours": 0})
    assert found["kato"] == "must be 9 digits"
    assert "pattern" not in say(found["kato"], "ru") and say(found["kato"], "ru") != found["kato"]
    assert found["birth_date"].message == N_("must be a real date, written as YYYY-MM-DD")
    assert found["sex"] == "must be at most 1 characters long"
    assert found["hours"] == "must be 1 or more"
    for lang in TRANSLATED:
        assert say(found["hours"], lang) != "must be 1 or more" and "1" in say(found["hours"], lang)


def test_allowed_codes_are_said_as_words():
    msg = Msg(N_("must be one of: %(expected)s"), expected=["lawful", "overstay"])
    assert say(msg, "en") == "must be one of: lawful, overstay"
    ru = say(msg, "ru")
    assert "lawful" not in ru and i18n.translations("ru").gettext("overstay") in ru


def test_field_errors_carry_the_label_in_the_language_asked():
    problem = ValidationFailed([FieldError("birth_date", Msg(N_("is required")))]).problem(lang="ru")
    error = problem["errors"][0]
    assert error["field"] == "birth_date"
    assert error["label"] == i18n.translations("ru").gettext("Date of birth") != "Date of birth"
    assert error["message"] == i18n.translations("ru").gettext("is required") != "is required"
    assert problem["title"] == i18n.translations("ru").gettext("Validation failed")


def test_a_list_index_finds_the_label_of_the_item_field():
    assert label("trips[2].start") == "Entry date"
    assert label("documents[0].number") == "Travel document number"
    assert label("no_such_field") is None


def test_regions_are_said_by_name_in_each_language():
    err = Forbidden(Msg(N_("%(region)s is outside your regions (%(yours)s)."), region=region_name("191234567"),
                        yours=[region_name("75")]))
    en, kk = err.problem(lang="en")["detail"], err.problem(lang="kk")["detail"]
    assert "Almaty Region" in en and "75" not in en
    assert "Алматы облысы" in kk and "19" not in kk


def test_a_plain_text_is_said_as_it_is():
    assert say("as it is", "kk") == "as it is"
    assert say(Msg("100% literal"), "ru") == "100% literal"  # no parameters: nothing is formatted


def test_each_field_name_has_one_label():
    import kosh.web.app  # noqa: F401  (every module that labels fields)
    from kosh.platform.words import label_conflicts

    assert label_conflicts() == []
