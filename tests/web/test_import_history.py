"""Past imports: the user's file name, the kind in words, who and when, the counts, links to the
progress page and the rejects file; an officer sees their own, an admin everyone's; importing
the same content again says when and by whom it was imported."""

from __future__ import annotations

import re

import polars as pl
import pytest

import factories as f
from kosh.flows import import_history
from kosh.platform.i18n import translations
from kosh.web.when import moment_writer
from web.test_import_pages import _feed, _finished, _signed_in, _upload, app  # noqa: F401 — the app fixture


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-batch="(\d+)">(.*?)</tr>', html, re.S)


def test_the_history_names_the_users_file_and_its_counts_and_is_scoped(app, ctx, users, tmp_path):  # noqa: F811
    almaty, south, admin = (_signed_in(app, u, users) for u in ("almaty", "south", "admin"))
    assert _upload(almaty, _feed(tmp_path), name="март-уведомления.csv").status_code == 200
    batch = _finished(ctx)
    page = almaty.get("/import/history")
    assert page.status_code == 200
    ((batch_id, row),) = _rows(page.text)
    assert int(batch_id) == batch.id
    assert "март-уведомления.csv" in row and "/uploads/" not in row  # the user's name, not the server's copy
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert [c.split(" ")[0] for c in cells[5:9]] == [str(batch.rows_total), str(batch.rows_accepted),
                                                    str(batch.rows_duplicate), str(batch.rows_rejected)]
    assert batch.rows_total == 6 and batch.rows_rejected == 1
    assert f'href="/import/batches/{batch.id}"' in row and f'href="/import/rejects/{batch.id}"' in row
    assert "almaty" in row and "Finished" in row
    assert "Imports: 1<" in page.text
    assert _rows(south.get("/import/history").text) == []  # another officer sees none of it
    assert [int(b) for b, _ in _rows(admin.get("/import/history").text)] == [batch.id]
    ru = almaty.get("/import/history?lang=ru").text
    assert translations("ru").gettext(import_history.STATUS_WORDS["done"]) in ru
    assert translations("ru").gettext("notifications") in ru  # the kind in words
    assert moment_writer(ctx, "ru")(batch.started_at) in ru  # when, in the locale's format


def test_the_history_is_paged_newest_first(app, ctx, users, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(import_history, "PAGE_SIZE", 2)
    almaty = _signed_in(app, "almaty", users)
    ids = []
    for n in range(3):
        rows = [f.notification(source_event_id=f"P{n}-{i}", document_number=f"FP{n}{i:06d}") for i in range(2)]
        assert _upload(almaty, pl.DataFrame(rows).write_csv().encode(), name=f"file-{n}.csv").status_code == 200
        ids.append(_finished(ctx).id)
    one = almaty.get("/import/history")
    assert [int(b) for b, _ in _rows(one.text)] == [ids[2], ids[1]] and "Imports: 3<" in one.text
    two = almaty.get("/import/history?page=2")
    assert [int(b) for b, _ in _rows(two.text)] == [ids[0]] and 'rel="prev"' in two.text


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_importing_the_same_content_again_says_when_and_by_whom(app, ctx, users, tmp_path, lang):  # noqa: F811
    almaty, admin = _signed_in(app, "almaty", users), _signed_in(app, "admin", users)
    content = _feed(tmp_path)
    assert _upload(almaty, content, name="first.csv").status_code == 200
    batch = _finished(ctx)
    again = admin.post(f"/import?lang={lang}", data={"kind": "notifications", "csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', admin.get("/import").text).group(1)},
        files={"file": ("renamed.csv", content, "text/csv")})
    assert again.status_code == 200 and 'id="already-imported"' in again.text
    said = translations(lang).gettext("This file was imported before: nothing new was added.")
    assert said in again.text
    notice = re.search(r'<div class="notice" role="status" id="already-imported">(.*?)</div>', again.text, re.S)[1]
    assert "almaty" in notice and "first.csv" in notice
    with ctx.transaction() as s:
        from kosh.stay.models import ImportBatch

        assert s.query(ImportBatch).count() == 1  # nothing new
    assert batch.status == "done"
