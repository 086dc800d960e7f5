"""What an employer sends: its registered details and an application for named foreign workers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from kosh.people.schemas import Country, DocumentNumber, IdentityFields, RequiredName, Strict, _today
from kosh.platform.words import N_, Msg, field_labels

field_labels({
    "channel": N_("Channel"), "occupation": N_("Occupation (ISCO-08 code)"), "vacancy_code": N_("Vacancy code"),
    "vacancy_posted_on": N_("Vacancy posted on"), "certificate": N_("Qualification certificate number"),
    "term_months": N_("Term (months)"), "starts_on": N_("Start date"), "staff_total": N_("Staff after hiring"),
    "staff_citizens": N_("Citizens on the staff"), "first_start": N_("First day of the first such worker"),
    "workers": N_("Workers"), "work_region": N_("Region of work"), "employer_name": N_("Employer's name"),
    "sector": N_("Sector"), "step": N_("Step"), "reason_code": N_("Reason"), "note": N_("Note"),
    "paid_on": N_("Paid on"), "months": N_("Months"),
})

CHANNELS = ("employer_quota", "household_worker", "intra_corporate_transfer", "business_immigrant",
            "independent_employment", "eaeu_contract")
Channel = Literal["employer_quota", "household_worker", "intra_corporate_transfer", "business_immigrant",
                  "independent_employment", "eaeu_contract"]
QuotaCategory = Literal["", "1", "2", "3", "4", "seasonal"]
Sector = Literal["construction", "agriculture", "trade", "oil_gas", "household", "manufacturing", "services",
                 "other"]
SECTORS: dict[str, str] = {
    "construction": N_("construction"), "agriculture": N_("agriculture"), "trade": N_("trade"),
    "oil_gas": N_("oil and gas"), "household": N_("household"), "manufacturing": N_("manufacturing"),
    "services": N_("services"), "other": N_("other"),
}
CHANNEL_WORDS: dict[str, str] = {
    "employer_quota": N_("employer's permit within the quota"),
    "household_worker": N_("household worker's permit"),
    "intra_corporate_transfer": N_("intra-corporate transfer"),
    "business_immigrant": N_("business immigrant"),
    "independent_employment": N_("independent employment (qualification certificate)"),
    "eaeu_contract": N_("EAEU citizen's employment contract"),
}
RegionCode = Annotated[str, Field(pattern=r"^\d{2}$", description="2-digit KATO region code")]


class EmployerIn(Strict):
    employer_name: RequiredName
    region: RegionCode
    sector: Sector = "other"


class WorkerIn(IdentityFields):
    """A named foreign worker and the region of the permit they will work in."""

    document_number: DocumentNumber
    issuing_state: Country
    work_region: RegionCode


class ApplicationIn(Strict):
    channel: Channel
    category: QuotaCategory = ""
    occupation: Annotated[str, Field(pattern=r"^\d{4}$", description="ISCO-08 / NKZ unit group, 4 digits")]
    vacancy_code: Annotated[str, Field(max_length=40)] = ""
    vacancy_posted_on: dt.date | None = None
    certificate: Annotated[str, Field(max_length=40)] = ""
    term_months: Annotated[int, Field(ge=1, le=60)]
    starts_on: dt.date
    staff_total: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    staff_citizens: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    first_start: dt.date | None = None
    workers: list[WorkerIn] = Field(min_length=1, max_length=200)

    @field_validator("vacancy_posted_on", "first_start", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return None if v == "" else v

    @field_validator("vacancy_code", "certificate")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()


class StepIn(Strict):
    step: Literal["approve", "return", "refuse", "pay_fee", "issue", "extend", "suspend", "restore", "revoke",
                  "request_extension"]
    reason_code: Annotated[str, Field(max_length=30)] = ""
    note: Annotated[str, Field(max_length=500)] = ""
    paid_on: dt.date | None = None
    months: Annotated[int | None, Field(ge=1, le=36)] = None


# --- rows of import files (kosh.flows.intake: `kosh import --kind …`, the /import page) -----------------

field_labels({
    "year": N_("Year"), "permit_reference": N_("Permit reference"),
    "employer_bin_or_iin": N_("Employer's BIN or IIN"), "employer_region": N_("Employer's region"),
    "employer_sector": N_("Employer's sector"), "reference_external": N_("Reference in the previous system"),
    "issued_on": N_("Issued on"), "state": N_("State"), "state_since": N_("In this state since"),
})

IMPORTED_STATES = ("issued", "extended", "suspended", "revoked", "expired")


def _context_pack(info: ValidationInfo) -> Any:
    """The jurisdiction pack an import passes once for all rows (None: the service checks later)."""
    return (info.context or {}).get("pack")


def _known_region(code: str, info: ValidationInfo) -> str:
    pack = _context_pack(info)
    if pack is not None and pack.region_for_kato(code.ljust(9, "0")) is None:
        raise ValueError(Msg(N_("%(code)s is not the code of a known region"), code=code))
    return code


def _not_future(day: dt.date | None, info: ValidationInfo) -> dt.date | None:
    if day is not None and day > _today(info):
        raise ValueError(Msg(N_("must not be in the future")))
    return day


class QuotaImportIn(Strict):
    """A row of a quota file: a year's places for a region and category (the ministry's)."""

    year: Annotated[int, Field(ge=2000, le=2200)]
    region: RegionCode
    category: Literal["1", "2", "3", "4", "seasonal", "household"]
    allowed: Annotated[int, Field(ge=0, le=10_000_000)]
    reason: Annotated[str, Field(max_length=500)] = ""

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str, info: ValidationInfo) -> str:
        return _known_region(v, info)


class PaymentImportIn(Strict):
    """A row of a payment file: one household worker's monthly tax prepayment."""

    permit_reference: Annotated[str, Field(min_length=1, max_length=20)]
    month: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
    amount_kzt: Annotated[int, Field(ge=1, le=100_000_000)]
    paid_on: dt.date
    payment_ref: Annotated[str, Field(min_length=1, max_length=60)]

    @field_validator("permit_reference")
    @classmethod
    def _reference(cls, v: str) -> str:
        return v.upper()

    @field_validator("paid_on")
    @classmethod
    def _paid_on(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        return _not_future(v, info) or v


class PermitImportIn(IdentityFields):
    """A row of a file of permits issued by a previous system: the employer, the permit as it
    stands (issued, extended, suspended, revoked or expired) and its one worker."""

    employer_bin_or_iin: Annotated[str, Field(min_length=1, max_length=20)]
    employer_name: RequiredName
    employer_region: RegionCode
    employer_sector: Sector | None = None  # None: an employer already known keeps its sector
    channel: Channel
    category: QuotaCategory = ""
    occupation: Annotated[str, Field(pattern=r"^\d{4}$", description="ISCO-08 / NKZ unit group, 4 digits")]
    reference_external: Annotated[str, Field(min_length=1, max_length=100)]
    issued_on: dt.date
    valid_from: dt.date
    valid_to: dt.date
    state: Literal["issued", "extended", "suspended", "revoked", "expired"]
    state_since: dt.date | None = None  # suspended, revoked, expired: the day it stopped authorising work
    reason_code: Annotated[str, Field(max_length=30)] = ""
    document_number: DocumentNumber
    issuing_state: Country
    work_region: RegionCode

    @field_validator("employer_bin_or_iin")
    @classmethod
    def _party(cls, v: str) -> str:
        from kosh.platform.identifiers import bin as bin_rules
        from kosh.platform.identifiers import iin

        number = v.replace(" ", "")
        if not (iin.is_valid(number) or bin_rules.is_valid(number)):
            raise ValueError(Msg(N_("%(number)s is neither a valid IIN nor a valid BIN"), number=v))
        return number

    @field_validator("employer_region", "work_region")
    @classmethod
    def _region(cls, v: str, info: ValidationInfo) -> str:
        return _known_region(v, info)

    @field_validator("channel", "state", "category", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("category", mode="before")
    @classmethod
    def _household_line(cls, v: object) -> object:
        return "" if v == "household" else v  # the household line is the channel's, not a category

    @field_validator("category")
    @classmethod
    def _category(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("channel") == "employer_quota" and not v:
            raise ValueError(Msg(N_("Choose the category of the workers")))
        return v

    @field_validator("issued_on", "state_since")
    @classmethod
    def _past(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return _not_future(v, info)

    @field_validator("valid_to")
    @classmethod
    def _term(cls, v: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("valid_from")
        if start is not None and v < start:
            raise ValueError(Msg(N_("The end of validity (%(end)s) is before its start (%(start)s)."), end=v,
                                 start=start))
        return v

    def worker(self) -> WorkerIn:
        return WorkerIn(surname=self.surname, given_names=self.given_names, patronymic=self.patronymic,
                        surname_latin=self.surname_latin, given_names_latin=self.given_names_latin, sex=self.sex,
                        birth_date=self.birth_date, citizenship=self.citizenship,
                        document_number=self.document_number, issuing_state=self.issuing_state,
                        work_region=self.work_region)
