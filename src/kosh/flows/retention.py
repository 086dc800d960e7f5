"""The retention job (`kosh retention run`): remove what is past the term the jurisdiction pack
sets for it (`retention.toml`), in short transactions so it can run beside the server.

Each capability removes its own rows (stay: records, findings, statuses; people: persons with
documents, spellings and tokens; identity: pairs, merges, index rows; platform: sessions, sign-in
attempts, tokens). Every transaction that removes something appends an audit record with its
counts per rule (actor "system"). Running it again on the same day removes nothing more; a dry
run does the same work and rolls every transaction back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kosh.identity import service as identity
from kosh.people import service as people
from kosh.platform import audit, db, events
from kosh.platform import retention as core_retention
from kosh.platform.context import Context
from kosh.platform.security import system_principal
from kosh.stay import service as stay
from kosh.stay.retention_rules import StayTerms, Term, expired_records, first_kept_anchor, past_term

# The order the job works in and the report lists.
KINDS = ("border_events", "host_notifications", "residence_permits", "persons_without_records",
         "data_quality_findings", "review_pairs", "web_sessions", "login_attempts", "api_tokens", "request_keys",
         "import_rejects", "audit_log")

Progress = Callable[[str, int, int | None], None]


@dataclass
class RetentionReport:
    on: dt.date
    dry_run: bool
    removed: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    batches: int = 0


def run(ctx: Context, on: dt.date | None = None, *, dry_run: bool = False, batch: int = 500,
        progress: Progress | None = None) -> RetentionReport:
    """Apply every retention rule of the pack as of day `on` (default: today where the pack is)."""
    job = _Job(ctx, on or stay.local_today(ctx), dry_run, batch, progress or (lambda *_: None))
    job.records()
    job.persons_without_records()
    job.purges()
    job.rejects_files()
    job.finish()
    return job.report


class _Job:
    def __init__(self, ctx: Context, on: dt.date, dry_run: bool, batch: int, progress: Progress) -> None:
        self.ctx, self.on, self.dry_run, self.batch, self.progress = ctx, on, dry_run, batch, progress
        self.policy = ctx.pack.retention
        self.principal = system_principal(f"retention rules of {on.isoformat()}")
        self.report = RetentionReport(on, dry_run)

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One short transaction; a dry run rolls it back."""
        with db.session_factory(self.ctx.engine)() as session:
            tx = session.begin()
            try:
                yield session
            except BaseException:
                tx.rollback()
                raise
            if self.dry_run:
                tx.rollback()
            else:
                tx.commit()

    def count(self, session: Session, removed: dict[str, int]) -> None:
        removed = {k: v for k, v in removed.items() if v}
        if not removed:
            return
        for kind, n in removed.items():
            self.report.removed[kind] += n
        self.report.batches += 1
        if not self.dry_run:
            audit.append(session, self.ctx.keyring, self.principal, [audit.Access(
                "delete", "retention", self.on.isoformat(), {"removed": removed, "batch": self.report.batches})])

    def instant(self, day: dt.date) -> dt.datetime:
        """The first moment of `day` where the pack is: what happened before it has an earlier local date."""
        return dt.datetime.combine(day, dt.time(), self.ctx.pack.zone).astimezone(dt.UTC)

    # -- crossings, notifications, permits, and the persons they leave without any ---------------

    def records(self) -> None:
        rules = {k: self.policy.rule(k) for k in ("border_events", "host_notifications", "residence_permits")}

        def stay_terms(kind: str) -> StayTerms | None:
            rule = rules[kind]
            if rule is None or rule.term is None:
                return None
            return StayTerms(rule.term, rule.term_without_exit or rule.term)

        crossing_terms, note_terms = stay_terms("border_events"), stay_terms("host_notifications")
        permit_rule = rules["residence_permits"]
        permit_term = permit_rule.term if permit_rule else None
        terms: list[Term] = [t for st in (crossing_terms, note_terms) if st is not None
                             for t in (st.closed, st.without_exit)]
        if permit_term is not None:
            terms.append(permit_term)
        if not terms:
            return
        # A record dated on or after every term's first kept anchor cannot be past its term.
        before = max(first_kept_anchor(t, self.on) for t in terms)
        after, done = "", 0
        while True:
            with self.unit() as s:
                page = stay.persons_with_records_before(s, before, after, self.batch)
                if not page:
                    break
                crossings: list[int] = []
                notes: list[int] = []
                permits: list[int] = []
                touched: list[str] = []
                for pid, (cs, ns, ps, lawful) in stay.retention_records(s, page).items():
                    gone = expired_records(cs, ns, ps, lawful, self.on, crossing_terms=crossing_terms,
                                           notification_terms=note_terms, permit_term=permit_term)
                    if gone.crossings or gone.notifications or gone.permits:
                        touched.append(pid)
                        crossings += gone.crossings
                        notes += gone.notifications
                        permits += gone.permits
                if touched:
                    c, n, p = stay.delete_records(s, crossings, notes, permits)
                    left = stay.persons_with_records(s, touched)
                    emptied = sorted(set(touched) - left)
                    removed = self.remove_persons(s, emptied)
                    # Persons kept without records still need their status (no longer in the country).
                    stay.refresh_status(s, self.ctx, sorted(set(touched) - set(emptied)) if removed else touched)
                    self.count(s, {"border_events": c, "host_notifications": n, "residence_permits": p,
                                   "persons_without_records": removed})
                after = page[-1]
            done += len(page)
            self.progress("records", done, None)

    def remove_persons(self, s: Session, person_ids: list[str]) -> int:
        """Persons none of whose records remains, with their aliases; 0 when the pack keeps them."""
        rule = self.policy.rule("persons_without_records")
        if rule is None or not person_ids:
            return 0
        everyone = people.with_aliases(s, person_ids)
        # identity and stay delete what they hold of them (handlers of the event), people last
        events.publish(s, self.ctx, events.PersonsForgotten(tuple(everyone)))
        people.remove_persons(s, everyone, anonymise=rule.action == "anonymise")
        return len(person_ids)

    def persons_without_records(self) -> None:
        """Persons recorded without any record (a form), past the term since they were recorded."""
        rule = self.policy.rule("persons_without_records")
        if rule is None or rule.term is None:
            return
        before = self.instant(first_kept_anchor(rule.term, self.on))
        after, done = "", 0
        while True:
            with self.unit() as s:
                page = people.persons_recorded_before(s, before, after, self.batch)
                if not page:
                    break
                orphans = sorted(set(page) - stay.persons_with_records(s, page))
                self.count(s, {"persons_without_records": self.remove_persons(s, orphans)})
                after = page[-1]
            done += len(page)
            self.progress("persons", done, None)

    # -- rows removed by date in bounded batches ----------------------------------------------

    def purges(self) -> None:
        jobs: dict[str, Callable[[Session, dt.date], int]] = {
            "data_quality_findings": lambda s, day: stay.delete_findings_before(s, day, self.batch),
            "review_pairs": lambda s, day: identity.delete_stale_pairs(s, self.instant(day), self.batch),
            "web_sessions": lambda s, day: core_retention.purge_sessions(s, self.instant(day), self.batch),
            "login_attempts": lambda s, day: core_retention.purge_login_attempts(s, self.instant(day), self.batch),
            "api_tokens": lambda s, day: core_retention.purge_api_tokens(s, self.instant(day), self.batch),
            "request_keys": lambda s, day: stay.delete_request_keys_before(s, self.instant(day), self.batch),
        }
        for kind, purge in jobs.items():
            rule = self.policy.rule(kind)
            if rule is None or rule.term is None:
                continue
            day = first_kept_anchor(rule.term, self.on)
            if self.dry_run:
                # Rolled back at the end, so every batch must run in the one transaction.
                with self.unit() as s:
                    while n := purge(s, day):
                        self.count(s, {kind: n})
                continue
            while True:
                with self.unit() as s:
                    n = purge(s, day)
                    self.count(s, {kind: n})
                if not n:
                    break
                self.progress(kind, self.report.removed[kind], None)

    def rejects_files(self) -> None:
        rule = self.policy.rule("import_rejects")
        folder = self.ctx.settings.home / "rejects"
        if rule is None or rule.term is None or not folder.is_dir():
            return
        zone = self.ctx.pack.zone
        old = [f for f in sorted(folder.iterdir()) if f.is_file() and past_term(
            dt.datetime.fromtimestamp(f.stat().st_mtime, zone).date(), rule.term, self.on)]
        if not self.dry_run:
            for f in old:
                f.unlink(missing_ok=True)
        if old:
            with self.unit() as s:
                self.count(s, {"import_rejects": len(old)})

    def finish(self) -> None:
        if self.dry_run:
            return
        with self.unit() as s:
            audit.append(s, self.ctx.keyring, self.principal, [audit.Access(
                "retention", "retention_run", self.on.isoformat(),
                {"removed": {k: v for k, v in self.report.removed.items() if v}, "batches": self.report.batches})])
        db.checkpoint(self.ctx.engine)
