"""Words a user reads: data values (statuses, roles, kinds) marked for translation, messages that
keep their catalog msgid and parameters (`Msg`), and the labels of input fields.

Every text a user can meet is written with `N_(...)` (extracted into the catalogs by Babel) and,
when it has parameters, carried as a `Msg` so that each interface says it in its own language
(`kosh.platform.i18n.say`). The English rendering is the `str` value, for logs and the CLI.
"""

from __future__ import annotations

import datetime as dt
import re


def N_(message: str) -> str:  # the conventional marker name for extraction
    return message


class Msg(str):
    """A message: the English text, with its msgid and parameters kept so that an interface can
    say it in the user's language. Parameters may be dates (written per locale) or other Msgs."""

    message: str
    params: dict[str, object]

    def __new__(cls, message: str, **params: object) -> Msg:
        english = message % {k: _english(v) for k, v in params.items()} if params else message
        self = super().__new__(cls, english)
        self.message, self.params = message, params
        return self

    def __reduce__(self) -> tuple[object, ...]:  # pickles (jobs, process pools) keep the msgid
        return (_rebuild, (type(self), self.message, self.params))


def _english(value: object) -> object:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def _rebuild(cls: type[Msg], message: str, params: dict[str, object]) -> Msg:
    return cls(message, **params)


VIOLATION_WORDS = [N_("per_entry"), N_("window"), N_("permit_required"), N_("permit_expired"), N_("no_basis"),
                   N_("notification_missed"), N_("notification_late")]
STATUS_WORDS = [N_("lawful"), N_("notification_overdue"), N_("overstay"), N_("no_lawful_basis"), N_("not_in_country")]
ROLE_WORDS = [N_("admin"), N_("officer"), N_("host"), N_("analyst"), N_("auditor"), N_("border")]
OTHER_WORDS = [N_("host_notification"), N_("border_events"), N_("notifications"), N_("residence_permits"),
               N_("Bad request"), N_("Not found"), N_("Forbidden"), N_("Unauthorized"), N_("Validation failed"),
               N_("Too many requests"), N_("Conflict"), N_("Kosh"), N_("Method not allowed"),
               N_("Payload too large"), N_("Error")]
# Codes of the inputs (allowed values that an error lists, kinds shown in tables), as words.
CODE_WORDS = [N_("trp"), N_("visa"), N_("entry"), N_("exit"), N_("open"), N_("accepted"), N_("rejected"),
              N_("deferred"), N_("accept"), N_("reject"), N_("defer"), N_("individual"), N_("organisation")]

# Input fields by name, as a user knows them (shown beside each field error, in every language).
# Capabilities add theirs with `field_labels`; a path such as `trips[0].start` is looked up as
# `trips.start`, then as its last part.
_LABELS: dict[str, str] = {"body": N_("The request"), "username": N_("Username"), "password": N_("Password"),
                           "role": N_("Role"), "regions": N_("Regions"), "host_party": N_("Host IIN or BIN"),
                           "display_name": N_("Name"), "name": N_("Name"), "reason": N_("Reason"),
                           "decision": N_("Decision"), "status": N_("Status"), "other": N_("Other person")}
_INDEX = re.compile(r"\[\d+\]")


_CONFLICTS: list[str] = []


def field_labels(labels: dict[str, str]) -> None:
    """Label input fields by name. A name has one label wherever it is used: a second, different
    label is kept aside as a conflict (tests/platform/test_messages.py fails on any)."""
    for name, text in labels.items():
        if _LABELS.setdefault(name, text) != text:
            _CONFLICTS.append(f"{name}: {_LABELS[name]!r} and {text!r}")


def label_conflicts() -> list[str]:
    _load_labels()
    return list(_CONFLICTS)


_loaded: list[bool] = []


def _load_labels() -> None:
    """Each capability names its fields in its `schemas` module: imported (by name) once."""
    if not _loaded:
        from kosh.platform.capabilities import modules

        modules("schemas")
        _loaded.append(True)


def label(field: str) -> str | None:
    """The msgid of a field's label, or None when no label is known for it."""
    _load_labels()
    plain = _INDEX.sub("", field)
    return _LABELS.get(plain) or _LABELS.get(plain.rsplit(".", 1)[-1])


class Named(str):
    """A code said by the name the jurisdiction pack gives it in each language (a region, a
    checkpoint): the code is the `str` value, `names` the pack's names by locale."""

    names: dict[str, str]

    def __new__(cls, code: str, names: dict[str, str]) -> Named:
        self = super().__new__(cls, names.get("en") or code)
        self.names = names
        return self

    def said_in(self, lang: str) -> str:
        return self.names.get(lang) or self.names.get("en") or str(self)


def region_name(kato: str) -> str:
    """A region (a KATO code or prefix) by its name in the reader's language, from the
    installation's pack; the code itself when it names no region."""
    from kosh.jurisdictions import load_pack
    from kosh.platform.config import get_settings

    code = kato.strip()
    if not code.isdigit() or len(code) < 2:
        return code
    region = load_pack(get_settings().jurisdiction).region_for_kato(code[:9].ljust(9, "0"))
    return Named(code, dict(region.names)) if region is not None else code
