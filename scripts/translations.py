"""Keeping the interface catalogs: `./dev catalogs` (extract, then update every language) and
`./dev translate FILE.json` (add or change translations).

Babel does the work (extraction with babel.cfg, catalog update, reading and writing .po files);
this file only strings the steps together and takes translations from a JSON file, which is
easier to review in one place than edits spread over three .po files:

    {"the msgid": {"ru": "…", "kk": "…"}, …}

Writes hold an exclusive lock (`flock` on locale/.lock) so that two writers never lose each
other's entries.
"""

from __future__ import annotations

import fcntl
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "kosh" / "locale"
POT = LOCALE / "messages.pot"


def _po(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "messages.po"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, sort_output=False)


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE.iterdir() if (p / "LC_MESSAGES" / "messages.po").is_file())


def extract() -> Catalog:
    """Every message marked in the sources and templates (babel.cfg), as a template catalog."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    template = Catalog(project="Kosh", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def sync() -> None:
    """Extract the template and bring every language's catalog up to it (new messages empty,
    gone ones dropped; no fuzzy guesses, which would show a wrong text as if translated)."""
    template = extract()
    _write(POT, template)
    for lang in languages():
        catalog = _read(_po(lang), locale=lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _write(_po(lang), catalog)


def translate(source: Path) -> None:
    entries: dict[str, dict[str, str]] = json.loads(source.read_text(encoding="utf-8"))
    by_lang: dict[str, dict[str, str]] = {}
    for msgid, texts in entries.items():
        for lang, text in texts.items():
            by_lang.setdefault(lang, {})[msgid] = text
    for lang, texts in by_lang.items():
        path = _po(lang)
        catalog = _read(path, locale=lang) if path.exists() else Catalog(locale=lang, project="Kosh", charset="utf-8")
        for msgid, text in texts.items():
            existing = catalog.get(msgid)
            if existing is not None:
                existing.string = text
                existing.flags.discard("fuzzy")
            else:
                catalog.add(msgid, text)
        _write(path, catalog)


def main(argv: list[str]) -> int:
    LOCALE.mkdir(exist_ok=True)
    with (LOCALE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if argv[:1] == ["sync"]:
            sync()
        elif argv[:1] == ["add"] and len(argv) == 2:
            translate(Path(argv[1]))
        else:
            print("usage: translations.py sync | add FILE.json", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
