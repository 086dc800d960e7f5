"""Work permits in the demo country: employers, quotas per region × category for 2023–2026 and
permits in every state, lived day by day through `kosh.permits.service` (submit as the employer,
decisions as the akimat, the daily job as the system, household prepayments from the payment
feed), so that quota counters, movements, steps and the workers' lawful basis of stay agree.

Workers are persons of the demo country: each application names them with the identity and the
passport the border feed holds, so the permit joins the person already recorded.

Deterministic for (seed, size, today) except the permits' references (random by design).
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Session

from kosh.permits import household, ledger, rules, service
from kosh.permits.schemas import ApplicationIn, EmployerIn, StepIn, WorkerIn
from kosh.platform.context import Context
from kosh.platform.errors import Conflict
from kosh.platform.identifiers import bin as bin_rules
from kosh.platform.identifiers import iin
from kosh.platform.security import Principal, Role, system_principal

if TYPE_CHECKING:
    from kosh_demo.generator import DemoCountry

# ========================================================================================
# Quotas — the domain notes §2 (a), (b), (e); what they do not give is estimated and said so.
# ========================================================================================

# Labour force behind the percentages: 296,700 household places were 3.2 % of it in 2023.
LABOUR_FORCE = 9_270_000
QUOTA_CATEGORIES = ("1", "2", "3", "4", "seasonal", "household")


def _apportion(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """`total` split in proportion to `weights`, whole numbers summing to `total` exactly
    (largest remainder; ties by key so that the split is deterministic)."""
    whole = sum(weights.values())
    raw = {k: total * w / whole for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    left = total - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), k))[:left]:
        out[k] += 1
    return out


def national_quotas() -> dict[int, dict[str, int]]:
    """Places per year and category for the whole country."""
    q2023 = {"1": 949, "2": 5_313, "3": 10_818, "4": 2_100}
    # 2023: the four figures are categories 1–4 (19,180) of the 22,200 employer quota; the rest,
    # 3,020, is taken as the seasonal line (ESTIMATE: the notes give no seasonal figure for 2023).
    q2023["seasonal"] = 22_200 - sum(q2023.values())
    q2023["household"] = 296_700
    # 2024: ≈ 22,000 with seasonal ≤ 2,366; categories split as in 2023 (ESTIMATE: no split given).
    q2024 = _apportion(22_000 - 2_366, {k: q2023[k] for k in ("1", "2", "3", "4")})
    q2024 |= {"seasonal": 2_366, "household": 271_300}
    q2025 = {"1": 649, "2": 3_254, "3": 5_718, "4": 1_161, "seasonal": 4_097,
             # household 2025: not found; ESTIMATE 3.0 % of the labour force (2024: 3.1 %, 2026: 2.9 %)
             "household": round(LABOUR_FORCE * 0.030)}
    # 2026: 0.25 % of the labour force (ESTIMATE of the labour force: the 2023 figure), split as in
    # 2025 (ESTIMATE: no split given); household 2.9 %.
    shares_2025 = {k: q2025[k] for k in ("1", "2", "3", "4", "seasonal")}
    q2026 = _apportion(round(LABOUR_FORCE * 0.0025), shares_2025) | {"household": round(LABOUR_FORCE * 0.029)}
    return {2023: q2023, 2024: q2024, 2025: q2025, 2026: q2026}


# Regional weights: the 2025 examples of the notes where given (Astana, Almaty, Shymkent, Atyrau,
# Karaganda, West Kazakhstan); the other regions share the rest of 2025's 14,879 places equally
# (ESTIMATE). The same weights serve every year and category.
REGION_EXAMPLES_2025: dict[str, int] = {"71": 975, "75": 1_355, "79": 147, "23": 3_522, "35": 414, "27": 1_038}
NATIONAL_2025 = 649 + 3_254 + 5_718 + 1_161 + 4_097


def region_weights(regions: list[str]) -> dict[str, float]:
    others = [r for r in regions if r not in REGION_EXAMPLES_2025]
    rest = (NATIONAL_2025 - sum(REGION_EXAMPLES_2025.values())) / max(len(others), 1)
    return {r: float(REGION_EXAMPLES_2025.get(r, rest)) for r in regions}


# The national figures times this, so that a small country's few permits use a visible share of
# its quota (proportions kept: every cell is scaled alike).
QUOTA_SCALE: dict[str, float] = {"small": 0.02, "medium": 0.2, "large": 1.0}


def quota_years(today: dt.date) -> list[int]:
    """2023–2026, and the current year when the demo is built later."""
    return list(range(2023, max(2026, today.year) + 1))


def regional_quotas(size: str, regions: list[str], years: list[int]) -> dict[tuple[int, str, str], int]:
    """(year, region, category) → places allowed, for the demo size. Years after 2026 repeat the
    2026 estimate (the demo may be built later than the notes reach)."""
    national = national_quotas()
    weights = region_weights(regions)
    out: dict[tuple[int, str, str], int] = {}
    for year in years:
        figures = national[min(max(year, 2023), 2026)]
        for category in QUOTA_CATEGORIES:
            total = round(figures[category] * QUOTA_SCALE[size])
            for region, places in _apportion(total, weights).items():
                out[(year, region, category)] = places
    return out


# ========================================================================================
# Employers and scenarios
# ========================================================================================

ORG_EMPLOYERS: tuple[tuple[str, str, str], ...] = (
    # (name, sector, region of the registered address)
    ("ТОО «Алатау Курылыс»", "construction", "75"),  # the demo account `employer`
    ("ТОО «Сарыарка СтройИнвест»", "construction", "71"),
    ("ТОО «Шымкент Монтаж»", "construction", "79"),
    ("ТОО «Жетысу Агро»", "agriculture", "19"),
    ("ТОО «Туркестан Мактаарал Агро»", "agriculture", "61"),
    ("ТОО «Береке Торг»", "trade", "75"),
    ("ТОО «Евразия Маркет»", "trade", "71"),
    ("ТОО «Каспий Мунай Сервис»", "oil_gas", "23"),
    ("АО «Тенгиз Энерго Сервис»", "oil_gas", "23"),
    ("ТОО «Орал Мунай Монтаж»", "oil_gas", "27"),
)
HOUSEHOLD_EMPLOYERS: tuple[tuple[str, str], ...] = (
    ("Сарсенова Айгерим Болатовна", "75"),  # the demo account `household.employer`
    ("Ахметов Ерлан Серикович", "71"),
    ("Нурпеисова Динара Маратовна", "75"),
    ("Жумабаев Бауыржан Кайратович", "79"),
)
# Categories an organisation of each sector applies in (agriculture: seasonal work mostly).
SECTOR_CATEGORIES: dict[str, tuple[str, ...]] = {
    "construction": ("3", "4", "4", "3", "2"), "agriculture": ("seasonal", "seasonal", "4"),
    "trade": ("3", "2", "1"), "oil_gas": ("3", "2", "1", "4"),
}
OCCUPATIONS: dict[str, tuple[str, ...]] = {  # ISCO-08 unit groups
    "1": ("1120", "1321"), "2": ("1323", "1324"), "3": ("2142", "3112", "2144"),
    "4": ("7112", "7115", "7126", "8342"), "seasonal": ("9211", "6111"),
}

# Scenario → how many in a small country (times SCENARIO_SCALE for larger ones). Each ends in
# the state its name says, today.
SCENARIOS: dict[str, int] = {
    "checked": 4, "checked_late": 3, "approved": 3, "approved_overdue": 2, "fee_paid": 3, "issued": 10,
    "extended": 2, "suspended": 2, "revoked": 2, "refused": 3, "returned": 2, "expired_fee": 2,
    "expired_term": 2, "multi_region": 3, "multi_region_checked": 1, "household_issued": 5,
    "household_unpaid": 2, "household_restored": 1, "household_expired": 1, "eaeu": 2,
}
SCENARIO_SCALE: dict[str, int] = {"small": 1, "medium": 5, "large": 20}
HOUSEHOLD_SCENARIOS = ("household_issued", "household_unpaid", "household_restored", "household_expired")
EAEU = ("KGZ", "RUS", "ARM", "BLR")
MINISTRY = Principal("ministry", Role.MINISTRY, purpose="demo quotas")
SYSTEM = system_principal("demo daily job")
AKIMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "75": ("akimat.almaty", ("75",)), "61": ("akimat.south", ("61", "79")), "79": ("akimat.south", ("61", "79")),
}


def akimat_for(region: str) -> Principal:
    """The akimat officer deciding for a lead region (the demo accounts where there is one)."""
    name, regions = AKIMATS.get(region, (f"akimat.{region}", (region,)))
    return Principal(name, Role.AKIMAT, regions=regions, purpose="demo decisions")


@dataclass
class DemoEmployer:
    party: str
    name: str
    sector: str
    region: str
    principal: Principal


@dataclass
class DemoPermits:
    employer_party: str  # the construction company of the `employer` account
    employer_name: str
    household_party: str  # the individual of the `household.employer` account
    household_name: str
    states: dict[str, int]  # permits by state today
    scenarios: dict[str, int]
    quota_cells: int
    employers: int
    seconds: float
    integrity_errors: list[str] = field(default_factory=list)


Action = Callable[[Session], None]


@dataclass
class _Plan:
    kind: str
    employer: DemoEmployer
    application: ApplicationIn
    lead: str
    actions: list[tuple[dt.date, str, Action]] = field(default_factory=list)
    reference: str = ""
    stopped: bool = False  # refused for want of quota: its later steps are not taken


# ========================================================================================
# Builder
# ========================================================================================


class _Builder:
    def __init__(self, ctx: Context, country: DemoCountry, today: dt.date) -> None:
        self.ctx, self.country, self.today = ctx, country, today
        self.rng = random.Random(f"{country.seed}-permits")
        self.cal = ctx.pack.calendar
        # The daily job of this installation runs on working days; the demo runs it for each past
        # one up to the last before today (today's run is the operator's).
        self.last_run = self._working_on_or_before(today - dt.timedelta(days=1))
        self.pools = self._worker_pools()
        self.payment_serial = 0

    # ---- days -------------------------------------------------------------------------------

    def _working_on_or_before(self, day: dt.date) -> dt.date:
        while not self.cal.is_working_day(day):
            day -= dt.timedelta(days=1)
        return day

    def _wd(self, day: dt.date, n: int) -> dt.date:
        return self.cal.add_working_days(day, n)

    def _day_between(self, earliest: int, latest: int) -> dt.date:
        """A working day `latest`..`earliest` calendar days before today (no later than the last run)."""
        day = self.today - dt.timedelta(days=self.rng.randint(latest, earliest))
        return min(self._working_on_or_before(day), self.last_run)

    # ---- workers ----------------------------------------------------------------------------

    def _worker_pools(self) -> dict[str, list[dict[str, str]]]:
        """Demo persons with their latest passport and region: for the quota (not EAEU, working
        profiles), for households and for EAEU contracts."""
        c = self.country
        rejected = {t["source_event_id"] for t in c.truth if t["expected_reject"]}
        person_of = {t["source_event_id"]: t["person_key"] for t in c.truth}
        passport: dict[str, tuple[str, str]] = {}
        for row in c.border_events:  # chronological: the last passport used wins
            if row["source_event_id"] not in rejected:
                passport[person_of[row["source_event_id"]]] = (row["document_number"], row["issuing_state"])
        region: dict[str, str] = {}
        for row in c.notifications:
            if row["source_event_id"] not in rejected:
                region[person_of[row["source_event_id"]]] = row["kato"][:2]
        pools: dict[str, list[dict[str, str]]] = {"quota": [], "household": [], "eaeu": []}
        for p in c.persons:
            key = p["person_key"]
            if key not in passport or key not in region or p["second_citizenship"]:
                continue
            worker = p | {"document_number": passport[key][0], "issuing_state": passport[key][1],
                          "region": region[key]}
            if p["citizenship"] in EAEU:
                if p["profile"] in ("long", "work_trp", "seasonal"):
                    pools["eaeu"].append(worker)
            elif p["profile"] in ("work_trp", "visa_work") or (p["profile"] == "seasonal" and p["sex"] == "M"):
                pools["quota"].append(worker)
            elif p["profile"] in ("seasonal", "short") and p["citizenship"] in ("UZB", "TJK"):
                pools["household"].append(worker)
        for pool in pools.values():
            self.rng.shuffle(pool)
        return pools

    def _take_worker(self, pool: str, region: str) -> WorkerIn:
        """The next worker of the pool, preferring one who lives in the region of work."""
        people = self.pools[pool]
        if not people:
            raise RuntimeError(f"the demo country has too few persons for the {pool} permits")
        pick = next((i for i, w in enumerate(people[:60]) if w["region"] == region), 0)
        w = people.pop(pick)
        return WorkerIn.model_validate({
            "surname": w["surname"], "given_names": w["given_names"], "patronymic": w["patronymic"],
            "surname_latin": w["surname_latin"], "given_names_latin": w["given_names_latin"], "sex": w["sex"],
            "birth_date": w["birth_date"], "citizenship": w["citizenship"],
            "document_number": w["document_number"], "issuing_state": w["issuing_state"], "work_region": region})

    # ---- employers and quotas ---------------------------------------------------------------

    def employers(self, session: Session) -> tuple[list[DemoEmployer], list[DemoEmployer]]:
        orgs, households = [], []
        used: set[str] = set()
        for i, (name, sector, region) in enumerate(ORG_EMPLOYERS):
            party = None
            while party is None or party in used:
                party = bin_rules.make(self.rng.randint(2001, 2019), self.rng.randint(1, 12), "4", "0",
                                       self.rng.randrange(100_000))
            used.add(party)
            who = Principal("employer" if i == 0 else f"employer.{i}", Role.EMPLOYER, host_party=party,
                            purpose="demo applications")
            orgs.append(DemoEmployer(party, name, sector, region, who))
        for i, (name, region) in enumerate(HOUSEHOLD_EMPLOYERS):
            party = None
            while party is None or party in used:
                born = dt.date(self.rng.randint(1965, 1995), self.rng.randint(1, 12), self.rng.randint(1, 28))
                party = iin.make(born, "F" if name.split()[0].endswith("а") else "M", self.rng.randrange(10_000))
            used.add(party)
            who = Principal("household.employer" if i == 0 else f"household.employer.{i}", Role.EMPLOYER,
                            host_party=party, purpose="demo applications")
            households.append(DemoEmployer(party, name, "household", region, who))
        for e in orgs + households:
            service.save_employer(session, self.ctx, e.principal,
                                  EmployerIn.model_validate({"employer_name": e.name, "region": e.region,
                                                             "sector": e.sector}))
        return orgs, households

    def quotas(self, session: Session, size: str) -> int:
        cells = regional_quotas(size, sorted(r.kato for r in self.ctx.pack.regions), quota_years(self.today))
        for (year, region, category), places in cells.items():
            ledger.set_quota(session, self.ctx, MINISTRY, year=year, region=region, category=category,
                             allowed=places, reason="demo: national figures spread over the regions")
        return len(cells)

    # ---- applications -----------------------------------------------------------------------

    def _region_for(self, category: str, year: int, places: int, planned: dict[tuple[int, str, str], int],
                    cells: dict[tuple[int, str, str], int], prefer: str) -> str:
        """A region whose cell still has room for the places (counting what earlier plans hold),
        the employer's own when it can."""
        order = [prefer] + sorted((r for (_, r, _) in cells), key=lambda r: -cells.get((year, r, category), 0))
        for region in order:
            key = (year, region, category)
            if cells.get(key, 0) - planned.get(key, 0) >= places:
                planned[key] = planned.get(key, 0) + places
                return region
        raise RuntimeError(f"the demo quota has no room for {places} places of {category} in {year}")

    @staticmethod
    def _room(category: str, year: int, places: int, planned: dict[tuple[int, str, str], int],
              cells: dict[tuple[int, str, str], int]) -> bool:
        return any(n - planned.get(k, 0) >= places for k, n in cells.items() if k[0] == year and k[2] == category)

    def plan(self, orgs: list[DemoEmployer], households: list[DemoEmployer],
             cells: dict[tuple[int, str, str], int], scale: int) -> list[_Plan]:
        rng = self.rng
        planned: dict[tuple[int, str, str], int] = {}
        plans: list[_Plan] = []
        turn = {"org": 0, "household": 0}
        for kind, count in SCENARIOS.items():
            for n in range(count * scale):
                is_household = kind in HOUSEHOLD_SCENARIOS
                group = households if is_household else orgs
                # The demo accounts hold the first permit of every scenario, the rest take turns.
                key = "household" if is_household else "org"
                employer = group[0] if n == 0 else group[1 + turn[key] % (len(group) - 1)]
                if n:
                    turn[key] += 1
                plans.append(self._plan_one(kind, employer, cells, planned, rng))
        return plans

    def _plan_one(self, kind: str, employer: DemoEmployer, cells: dict[tuple[int, str, str], int],
                  planned: dict[tuple[int, str, str], int], rng: random.Random) -> _Plan:
        T = self.today
        # the day of application, by scenario (calendar days before today: earliest, latest)
        window = {
            "checked": (6, 1), "multi_region_checked": (6, 1), "checked_late": (45, 20), "approved": (12, 8),
            "approved_overdue": (0, 0), "fee_paid": (25, 14), "issued": (300, 30), "extended": (0, 0),
            "suspended": (300, 60), "revoked": (300, 60), "refused": (200, 12), "returned": (100, 10),
            "expired_fee": (200, 40), "expired_term": (330, 230), "multi_region": (250, 30), "eaeu": (300, 5),
            "household_issued": (200, 20), "household_unpaid": (200, 70), "household_restored": (220, 120),
            "household_expired": (330, 150),
        }[kind]
        applied = self._day_between(*window)
        if kind == "approved_overdue":
            applied = self._wd(self._overdue_approval(), -rng.randint(2, 5))
        starts = applied + dt.timedelta(days=rng.randint(14, 25))
        if kind == "extended":
            # valid from about 11 months ago: the permit ends within the extension window soon
            starts = T - dt.timedelta(days=rng.randint(320, 330))
            applied = self._working_on_or_before(starts - dt.timedelta(days=25))
        if kind in ("checked", "multi_region_checked", "checked_late", "approved", "fee_paid", "returned"):
            starts = applied + dt.timedelta(days=rng.randint(25, 40))
        if (starts.year, "75", "3") not in cells:  # no quota set for next year yet: start by the year's end
            starts = dt.date(applied.year, 12, 31)
        year = starts.year
        if kind in HOUSEHOLD_SCENARIOS:
            channel, category = "household_worker", ""
            term = 3 if kind == "household_expired" else rng.choice((6, 12, 12))
            if kind in ("household_unpaid", "household_restored"):
                term = 12
            region = self._region_for("household", year, 1, planned, cells, employer.region)
            workers = [self._take_worker("household", region)]
            body: dict[str, Any] = {"channel": channel, "category": category, "occupation": "9111"}
        elif kind == "eaeu":
            region = employer.region
            workers = [self._take_worker("eaeu", region) for _ in range(rng.choice((1, 1, 2)))]
            body = {"channel": "eaeu_contract", "category": "", "occupation": rng.choice(OCCUPATIONS["4"])}
            term = 12
        else:
            if kind == "expired_term":
                category = "seasonal"
            elif kind == "extended":
                category = "3"
            else:
                category = rng.choice(SECTOR_CATEGORIES[employer.sector])
            term = {"1": rng.choice((12, 24, 36)), "seasonal": 6, "4": rng.choice((6, 12))}.get(category, 12)
            if term < 12 and kind in ("issued", "suspended", "revoked", "multi_region"):
                # a short term still running today
                applied = max(applied, self._day_between(140, 60 if kind in ("suspended", "revoked") else 30))
                starts = applied + dt.timedelta(days=rng.randint(14, 25))
                year = starts.year
            size = rng.choice((3, 4)) if kind.startswith("multi_region") else rng.choice((1, 1, 1, 2, 2, 3))
            if not self._room(category, year, size, planned, cells):
                # this line of the (scaled-down) quota is taken: the employer applies in category 3
                category, term = "3", 12
            if kind.startswith("multi_region"):
                first = self._region_for(category, year, size - 1, planned, cells, employer.region)
                second = self._region_for(category, year, 1, planned, cells, "71" if first != "71" else "75")
                regions = [first] * (size - 1) + [second]
            else:
                regions = [self._region_for(category, year, size, planned, cells, employer.region)] * size
            region = regions[0]
            workers = [self._take_worker("quota", r) for r in regions]
            citizens_share = 75 if category in ("1", "2") else 92
            body = {"channel": "employer_quota", "category": category,
                    "occupation": rng.choice(OCCUPATIONS[category]),
                    "vacancy_code": f"ENBEK-{applied:%y%m}-{rng.randrange(10**6):06d}",
                    "vacancy_posted_on": applied - dt.timedelta(days=rng.randint(16, 40)),
                    "staff_total": 100 * len(workers), "staff_citizens": citizens_share * len(workers)}
        body |= {"term_months": term, "starts_on": starts, "workers": workers}
        application = ApplicationIn.model_validate(body)
        lead = max(sorted({w.work_region for w in workers}),
                   key=lambda r: sum(1 for w in workers if w.work_region == r))
        p = _Plan(kind, employer, application, lead)
        self._schedule(p, applied, rng)
        return p

    def _overdue_approval(self) -> dt.date:
        """The latest approval day whose fee deadline is the job's last run: the fee is overdue
        today and the approval not yet expired (the job expires it on its next run)."""
        approve = self._working_on_or_before(self.last_run - dt.timedelta(days=1))
        while self._wd(approve, 10) > self.last_run:
            approve = self._working_on_or_before(approve - dt.timedelta(days=1))
        return approve

    # ---- steps ------------------------------------------------------------------------------

    def _schedule(self, p: _Plan, applied: dt.date, rng: random.Random) -> None:
        kind, last = p.kind, self.last_run
        akimat = akimat_for(p.lead)

        def wd(day: dt.date, n: int) -> dt.date:
            return min(self._wd(day, n), last)  # nothing happens after the job's last run

        def at(day: dt.date, label: str, fn: Action) -> None:
            p.actions.append((day, label, fn))

        def submit(s: Session) -> None:
            p.reference = service.submit(s, self.ctx, p.employer.principal, p.application, applied).reference

        def step(who: Principal, name: str, on: dt.date, **kw: Any) -> Action:
            def run(s: Session) -> None:
                if p.stopped:
                    return
                try:
                    service.take_step(s, self.ctx, who, p.reference, StepIn.model_validate({"step": name, **kw}), on)
                except Conflict:
                    if name != "approve":
                        raise
                    # the hold lapsed and the quota has no room left: the akimat refuses
                    service.take_step(s, self.ctx, who, p.reference,
                                      StepIn(step="refuse", reason_code="quota_exhausted"), on)
                    p.stopped = True
            return run

        at(applied, "submit", submit)
        if kind in ("checked", "checked_late", "multi_region_checked", "eaeu"):
            return
        if kind == "refused":
            reason = rng.choice(("false_information", "quota_exhausted", "local_content"))
            on = wd(applied, rng.randint(3, 8))
            at(on, "refuse", step(akimat, "refuse", on, reason_code=reason))
            return
        if kind == "returned":
            on = wd(applied, rng.randint(2, 5))
            at(on, "return", step(akimat, "return", on,
                                  reason_code=rng.choice(("documents_incomplete", "details_wrong")),
                                  note="Укажите номер вакансии на enbek.kz"))
            return
        if kind == "approved_overdue":
            approve = self._overdue_approval()
        elif kind == "approved":
            approve = wd(applied, rng.randint(1, 3))
        elif kind == "extended":
            approve = wd(applied, 2)
        else:
            # now and then after the hold lapsed: the approval draws the places again
            approve = wd(applied, rng.choice((2, 3, 5, 8, 12)))
        at(approve, "approve", step(akimat, "approve", approve))
        if kind in ("approved", "approved_overdue", "expired_fee"):
            return
        paid = wd(approve, 1 if kind == "extended" else rng.randint(1, 8))
        at(paid, "pay_fee", step(p.employer.principal, "pay_fee", paid))
        if kind == "fee_paid":
            return
        issue = wd(paid, 1 if kind == "extended" else rng.randint(1, 3))
        at(issue, "issue", step(akimat, "issue", issue))
        if kind in HOUSEHOLD_SCENARIOS:
            at(issue, "prepay", self._prepay(p, issue))
        if kind == "extended":
            # asked 55 days before the end (within the 60–30 day window), extended two working days later
            valid_from = max(p.application.starts_on, issue)
            valid_to = valid_from + relativedelta(months=p.application.term_months) - dt.timedelta(days=1)
            request = self._working_on_or_before(valid_to - dt.timedelta(days=55))
            at(request, "request_extension", step(p.employer.principal, "request_extension", request,
                                                  note="Продление на 12 месяцев"))
            extend = wd(request, 2)
            at(extend, "extend", step(akimat, "extend", extend))
        if kind in ("suspended", "revoked"):
            on = min(wd(issue, rng.randint(15, 40)), last)
            name = "suspend" if kind == "suspended" else "revoke"
            reason = "employer_violation" if kind == "suspended" else rng.choice(("worker_left", "false_information"))
            at(on, name, step(akimat, name, on, reason_code=reason))

    def _prepay(self, p: _Plan, on: dt.date) -> Action:
        """The household worker's prepayments on the day of issue: every month of the term, or
        (unpaid) those before a month that begins a few weeks before today, or (restored) those
        before a month two or three months ago, the rest paid a week after it began."""
        def run(s: Session) -> None:
            view = service.get_permit(s, self.ctx, SYSTEM, p.reference, on).permit
            assert view.valid_from is not None and view.valid_to is not None
            months = rules.household_months(view.valid_from, view.valid_to)
            late: list[rules.PermitMonth] = []
            if p.kind == "household_unpaid":
                gap = next(m for m in months[1:] if self.today - dt.timedelta(days=35) <= m.start <= self.last_run)
                months = [m for m in months if m.start < gap.start]
            elif p.kind == "household_restored":
                gap = next(m for m in months[1:] if m.start >= self.today - dt.timedelta(days=95))
                late = [m for m in months if m.start >= gap.start]
                months = [m for m in months if m.start < gap.start]
                pay_late = min(self._wd(gap.start, 5), self.last_run)
                p.actions.append((pay_late, "prepay late", self._payments(p, late, pay_late)))
            self._payments(p, months, on)(s)
        return run

    def _payments(self, p: _Plan, months: list[rules.PermitMonth], paid_on: dt.date) -> Action:
        def run(s: Session) -> None:
            amount = household.monthly_amount(self.ctx, paid_on) or 0
            batch = []
            for m in months:
                self.payment_serial += 1
                batch.append(household.PaymentIn(p.reference, m.key, amount, paid_on,
                                                 f"KGD-{paid_on:%Y%m%d}-{self.payment_serial:06d}"))
            if batch:
                household.record_payments(s, self.ctx, SYSTEM, batch)
        return run

    # ---- the days -----------------------------------------------------------------------------

    def live(self, plans: list[_Plan]) -> None:
        """Each past working day: the daily job first, then that day's steps in the order planned,
        one transaction a day. Steps a step adds (late prepayments) are taken on their own day."""
        seen = [0] * len(plans)  # actions of each plan already queued

        def queue(i: int) -> list[tuple[dt.date, int, int]]:
            new = [(plans[i].actions[j][0], i, j) for j in range(seen[i], len(plans[i].actions))]
            seen[i] = len(plans[i].actions)
            return new

        pending = [a for i in range(len(plans)) for a in queue(i)]
        heapq.heapify(pending)
        day = pending[0][0]
        while day <= self.last_run:
            working = self.cal.is_working_day(day)
            if working or (pending and pending[0][0] <= day):
                with self.ctx.transaction() as s:
                    if working:
                        service.run_daily(s, self.ctx, SYSTEM, day)
                    while pending and pending[0][0] <= day:
                        _, i, j = heapq.heappop(pending)
                        plans[i].actions[j][2](s)
                        for later in queue(i):
                            heapq.heappush(pending, later)
            day += dt.timedelta(days=1)


def build_permits(ctx: Context, country: DemoCountry, today: dt.date) -> DemoPermits:
    """Employers, quotas and permits of the demo country, into the database of `ctx`."""
    from sqlalchemy import func, select

    from kosh.permits.models import WorkPermit

    started = time.perf_counter()
    b = _Builder(ctx, country, today)
    with ctx.transaction() as s:
        orgs, households = b.employers(s)
        cells_count = b.quotas(s, country.size)
    cells = regional_quotas(country.size, sorted(r.kato for r in ctx.pack.regions), quota_years(today))
    plans = b.plan(orgs, households, cells, SCENARIO_SCALE[country.size])
    b.live(plans)
    with ctx.transaction() as s:
        states = dict(s.execute(select(WorkPermit.state, func.count()).group_by(WorkPermit.state)).all())
        errors = ledger.integrity_errors(s)
    scenarios: dict[str, int] = {}
    for p in plans:
        scenarios[p.kind] = scenarios.get(p.kind, 0) + 1
    return DemoPermits(orgs[0].party, orgs[0].name, households[0].party, households[0].name,
                       {str(k): int(v) for k, v in sorted(states.items())}, scenarios, cells_count,
                       len(orgs) + len(households), time.perf_counter() - started, errors)


__all__ = ["DemoPermits", "build_permits", "national_quotas", "regional_quotas"]
