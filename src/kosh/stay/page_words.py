"""The stay registry's codes said as words on pages, in the page's language: the rule applied
(from the pack's names and the catalogs) and checkpoints by name."""

from __future__ import annotations

from kosh.jurisdictions import load_pack
from kosh.platform.config import get_settings
from kosh.platform.i18n import say
from kosh.platform.pages import language_filter
from kosh.platform.words import N_, Msg
from kosh.stay.rules import rule_text as _rule_text


@language_filter("rule_text")
def rule_text(rule: object, lang: str) -> str:
    return say(_rule_text(rule), lang) if rule is not None else "—"  # type: ignore[arg-type]


@language_filter("checkpoint")
def checkpoint(code: object, lang: str) -> str:
    """A checkpoint by its name in the pack; the code when the pack does not list it."""
    found = load_pack(get_settings().jurisdiction).checkpoint(str(code or ""))
    return found.name if found is not None else str(code or "—")


FINDING_WORDS = {
    "entry_without_exit": N_("An entry on %(day)s has no exit before the next entry; presence is assumed until "
                             "that entry."),
    "exit_without_entry": N_("An exit on %(day)s has no recorded entry; that stay cannot be dated and adds no days."),
    "overlapping_stays": N_("A trip entering on %(day)s overlaps an earlier trip; the two are counted as one stay."),
}


@language_filter("finding")
def finding(found: object, lang: str) -> str:
    """A data-quality finding (stored with its code and day) in the page's language."""
    code, on = getattr(found, "code", ""), getattr(found, "on", None)
    if code not in FINDING_WORDS:
        return str(getattr(found, "message", code))
    return say(Msg(FINDING_WORDS[code], day=on), lang)
