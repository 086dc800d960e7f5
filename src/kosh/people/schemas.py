"""Input shapes for persons and documents, and reusable validated field types."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from kosh.people import countries, dates, mrz
from kosh.platform.identifiers import InvalidIdentifier, iin
from kosh.platform.identifiers import bin as bin_rules
from kosh.platform.validation import DisplayText, TextInput
from kosh.platform.words import N_, Msg, field_labels

if TYPE_CHECKING:
    from kosh.people.service import PersonFacts, PersonView


def _today(info: ValidationInfo | None) -> dt.date:
    ctx = info.context if info is not None and info.context else {}
    return ctx.get("today") or dt.date.today()


def _country(value: str) -> str:
    try:
        return countries.normalize_country(value)
    except InvalidIdentifier as exc:
        raise ValueError(exc.message) from None


def _birth_date(value: str, info: ValidationInfo) -> str:
    iso, error = _checked_birth_date(str(value), _today(info))
    if error:
        raise ValueError(error)
    return iso


@lru_cache(maxsize=65536)
def _checked_birth_date(value: str, today: dt.date) -> tuple[str, str]:
    """(ISO form, "") or ("", reason). Cached: a feed repeats each person's birth date at every crossing."""
    try:
        return dates.validate_birth_date(value, today).isoformat(), ""
    except InvalidIdentifier as exc:
        return "", exc.message


def _sex(value: str) -> str:
    v = str(value).strip().upper()
    v = {"<": "X", "": "X", "М": "M", "Ж": "F", "MALE": "M", "FEMALE": "F"}.get(v, v)
    if v not in ("M", "F", "X"):
        raise ValueError(Msg(N_("must be M (male), F (female) or X (not stated)")))
    return v


def _empty_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


# Text fields are stripped by pydantic-core itself: every input model derives from `Strict`
# (str_strip_whitespace), which also lets the length and pattern checks run in the core.
Country = Annotated[str, AfterValidator(_country)]
BirthDate = Annotated[str, AfterValidator(_birth_date)]
Sex = Annotated[str, BeforeValidator(_sex)]
# Names are shown to officers and matched across records: no controls, no bidi overrides, not blank.
Name = Annotated[DisplayText, Field(max_length=200)]
RequiredName = Annotated[DisplayText, Field(min_length=1, max_length=200)]
OptionalDate = Annotated[dt.date | None, BeforeValidator(_empty_to_none)]
DocumentNumber = Annotated[str, Field(min_length=3, max_length=20, pattern=r"^[A-Za-z0-9 \-]+$")]

# Each input field by the name a user knows it by, shown beside its error in every language.
field_labels({
    "surname": N_("Surname"), "given_names": N_("Given names"), "patronymic": N_("Patronymic"),
    "surname_latin": N_("Surname in Latin letters"), "given_names_latin": N_("Given names in Latin letters"),
    "sex": N_("Sex"), "birth_date": N_("Date of birth"), "citizenship": N_("Citizenship"),
    "nationality": N_("Citizenship"), "documents": N_("Documents"), "document_type": N_("Document type"),
    "number": N_("Travel document number"), "document_number": N_("Travel document number"),
    "issuing_state": N_("Issuing state"), "expiry": N_("Expires"), "document_expiry": N_("Expires"),
    "mrz": N_("Machine-readable zone (MRZ)"), "region": N_("Region"), "q": N_("Name in any script, or document number"),
    "limit": N_("Rows per page"), "offset": N_("Rows to skip"), "person_id": N_("Person id"), "person": N_("Person"),
    "purpose": N_("Purpose"), "hours": N_("Hours"), "iin": N_("IIN"),
})


def validate_host_id(kind: str, value: str) -> str:
    try:
        return iin.validate(value, "host_id") if kind == "individual" else bin_rules.validate(value, "host_id")
    except InvalidIdentifier as exc:
        raise ValueError(exc.message) from None


class Strict(TextInput):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DocumentIn(Strict):
    document_type: Literal["P", "PD", "PS", "ID"] = "P"
    number: DocumentNumber | None = None
    issuing_state: Country | None = None
    expiry: OptionalDate = None
    mrz: list[str] | None = Field(default=None, description="the two 44-character lines of a passport MRZ")

    @model_validator(mode="after")
    def _from_mrz(self, info: ValidationInfo) -> DocumentIn:
        if self.mrz is not None:
            if len(self.mrz) != 2:
                raise ValueError(Msg(N_("the MRZ must have exactly two lines")))
            try:
                parsed = mrz.parse_td3(self.mrz[0], self.mrz[1], today=_today(info))
            except InvalidIdentifier as exc:
                raise ValueError(exc.message) from None
            if self.number and self.number.replace(" ", "").upper() != parsed.document_number:
                raise ValueError(Msg(N_("the number %(number)s does not match the MRZ (%(mrz)s)"), number=self.number,
                                     mrz=parsed.document_number))
            self.number = parsed.document_number
            self.issuing_state = parsed.issuing_state
            self.expiry = self.expiry or parsed.expiry
        if not self.number or not self.issuing_state:
            raise ValueError(Msg(N_("give the document number and issuing state, or the MRZ")))
        return self

    @property
    def state_and_number(self) -> tuple[str, str]:
        """(issuing state, number): a validated document has both."""
        assert self.issuing_state is not None and self.number is not None
        return self.issuing_state, self.number


class IdentityFields(Strict):
    """Who a record is about, as any source states it (names in the source's script)."""

    surname: RequiredName
    given_names: Name = ""
    patronymic: Name = ""
    surname_latin: Name = ""
    given_names_latin: Name = ""
    sex: Sex = "X"
    birth_date: BirthDate
    citizenship: Country


class PersonIn(IdentityFields):
    documents: list[DocumentIn] = Field(min_length=1, max_length=10)
    # The region the person is recorded in (an officer's own; default: the officer's first region).
    region: Annotated[str | None, Field(pattern=r"^\d{9}$", description="9-digit KATO code")] = None


field_labels({"document_part": N_("Part of a document number")})


class PersonSearchIn(Strict):
    """A person search, sent in a body so that a document number never stands in a URL."""

    q: str = Field("", max_length=200, description="a name in any script, or a whole document number")
    birth_date: str | None = Field(None, max_length=10, description="date of birth: YYYY-MM-DD, YYYY-MM or YYYY")
    document_part: str | None = Field(None, max_length=20, description="at least 4 consecutive characters of a "
                                                                       "document number")
    citizenship: str | None = Field(None, max_length=60, description="ISO 3166-1 code or name")
    sort: str = Field("name", max_length=20, description="name, -name, born, -born or citizenship ('-' reverses)")
    limit: int = Field(25, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100_000)

    @model_validator(mode="after")
    def _something_asked(self) -> PersonSearchIn:
        if len(self.q) == 1:
            raise ValueError(Msg(N_("Give at least 2 characters of the name.")))
        if not (self.q or self.birth_date or self.document_part):
            raise ValueError(Msg(N_("Give a name, a date of birth or part of a document number.")))
        return self


class PersonOut(BaseModel):
    id: str
    surname: str
    given_names: str
    patronymic: str
    surname_latin: str
    given_names_latin: str
    sex: str
    birth_date: str
    citizenship: str
    region_kato: str


class DocumentOut(BaseModel):
    id: int
    document_type: str
    issuing_state: str
    number: str
    expiry: dt.date | None


class PersonDetailOut(PersonOut):
    documents: list[DocumentOut]
    spellings: list[str]


def person_out(p: PersonFacts) -> PersonOut:
    return PersonOut.model_validate(p, from_attributes=True)


def detail_out(view: PersonView) -> PersonDetailOut:
    return PersonDetailOut(**person_out(view.person).model_dump(),
                           documents=[DocumentOut(**d.__dict__) for d in view.documents],
                           spellings=[n.full_name for n in view.spellings])
