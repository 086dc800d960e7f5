"""Identity's stored texts said on pages in the page's language: the reason the linker writes on
the merges it makes itself (officers' own reasons are shown as they wrote them)."""

from __future__ import annotations

import re

from kosh.platform.i18n import say
from kosh.platform.pages import language_filter
from kosh.platform.words import N_, Msg

# The reason identity.registry.automatic_reason writes on an automatic merge: kept in the audit
# trail as written, said on pages in the reader's language.
AUTOMATIC = re.compile(r"^linked automatically: match weight (?P<weight>[-\d.]+) ≥ (?P<threshold>[-\d.]+) "
                       r"\((?P<scorer>[^)]*)\)$")
AUTOMATIC_WORDS = N_("linked automatically: match weight %(weight)s, at or above the threshold %(threshold)s "
                     "(%(scorer)s)")


@language_filter("merge_reason")
def merge_reason(reason: object, lang: str) -> str:
    text = str(reason or "")
    found = AUTOMATIC.match(text)
    if found is None:
        return text
    return say(Msg(AUTOMATIC_WORDS, **found.groupdict()), lang)
