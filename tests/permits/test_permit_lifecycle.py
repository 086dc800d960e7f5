"""The permit lifecycle: hand-worked paths, an independent table held equal to the engine on
every (state, step, role), and random step sequences."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kosh.permits.rules import (
    SECURITY_ROLE,
    TERMINAL_STATES,
    IllegalStep,
    PermitRole,
    PermitState,
    Step,
    allowed_steps,
    permit_roles,
    step,
)
from kosh.platform.i18n import say
from kosh.platform.security import Role

# --- the table, written out independently: (from, step, to) and who may take each step --------

TRIPLES = """
draft      submit   submitted
returned   submit   submitted
submitted  check    checked
checked    approve  approved
checked    return   returned
checked    refuse   refused
approved   pay_fee  fee_paid
approved   expire   expired
fee_paid   issue    issued
issued     extend   extended
extended   extend   extended
issued     suspend  suspended
extended   suspend  suspended
suspended  restore  issued
issued     revoke   revoked
extended   revoke   revoked
suspended  revoke   revoked
issued     expire   expired
extended   expire   expired
suspended  expire   expired
"""
WHO = {
    "submit": "employer",
    "check": "system_job",
    "approve": "akimat_officer system_job",
    "return": "akimat_officer",
    "refuse": "akimat_officer",
    "pay_fee": "employer system_job",
    "issue": "akimat_officer system_job",
    "extend": "akimat_officer",
    "suspend": "akimat_officer ministry_officer system_job",
    "restore": "akimat_officer ministry_officer system_job",
    "revoke": "akimat_officer ministry_officer",
    "expire": "system_job",
}
TABLE = [tuple(line.split()) for line in TRIPLES.strip().splitlines()]


def reference(state: str, action: str, role: str) -> str | None:
    """The state after the step, or None when it is illegal (by state or by role)."""
    for origin, name, target in TABLE:
        if origin == state and name == action:
            return target if role in WHO[action].split() else None
    return None


@pytest.mark.parametrize("state, action, role", list(itertools.product(PermitState, Step, PermitRole)))
def test_engine_equals_the_written_table(state, action, role):
    expected = reference(state.value, action.value, role.value)
    if expected is None:
        with pytest.raises(IllegalStep):
            step(state, action, role)
    else:
        assert step(state, action, role) == expected


def test_the_whole_way_to_an_extended_permit_and_back_from_suspension():
    path = [
        (Step.SUBMIT, PermitRole.EMPLOYER, PermitState.SUBMITTED),
        (Step.CHECK, PermitRole.SYSTEM_JOB, PermitState.CHECKED),
        (Step.RETURN, PermitRole.AKIMAT_OFFICER, PermitState.RETURNED),
        (Step.SUBMIT, PermitRole.EMPLOYER, PermitState.SUBMITTED),
        (Step.CHECK, PermitRole.SYSTEM_JOB, PermitState.CHECKED),
        (Step.APPROVE, PermitRole.AKIMAT_OFFICER, PermitState.APPROVED),
        (Step.PAY_FEE, PermitRole.EMPLOYER, PermitState.FEE_PAID),
        (Step.ISSUE, PermitRole.AKIMAT_OFFICER, PermitState.ISSUED),
        (Step.EXTEND, PermitRole.AKIMAT_OFFICER, PermitState.EXTENDED),
        (Step.SUSPEND, PermitRole.MINISTRY_OFFICER, PermitState.SUSPENDED),
        (Step.RESTORE, PermitRole.AKIMAT_OFFICER, PermitState.ISSUED),
        (Step.EXPIRE, PermitRole.SYSTEM_JOB, PermitState.EXPIRED),
    ]
    state = PermitState.DRAFT
    for action, role, expected in path:
        state = step(state, action, role)
        assert state == expected


def test_terminal_states_allow_no_step():
    assert TERMINAL_STATES == {PermitState.REFUSED, PermitState.REVOKED, PermitState.EXPIRED}
    for state in TERMINAL_STATES:
        assert all(allowed_steps(state, role) == [] for role in PermitRole)
    assert allowed_steps(PermitState.ISSUED, PermitRole.SYSTEM_JOB) == [Step.SUSPEND, Step.EXPIRE]


def test_an_illegal_step_names_the_state_and_the_step_in_words():
    with pytest.raises(IllegalStep) as info:
        step(PermitState.DRAFT, Step.ISSUE, PermitRole.AKIMAT_OFFICER)
    assert info.value.status == 409
    assert str(info.value) == "Cannot issue the permit at the stage “draft application”."
    assert info.value.detail.message == "Cannot %(step)s at the stage “%(state)s”."
    ru = say(info.value.detail, "ru")
    assert ru != str(info.value) and "выдать разрешение" in ru and "черновик" in ru.lower()


def test_a_step_by_the_wrong_role_is_forbidden_and_names_the_role():
    with pytest.raises(IllegalStep) as info:
        step(PermitState.CHECKED, Step.APPROVE, PermitRole.EMPLOYER)
    assert info.value.status == 403
    assert str(info.value) == "The role “employer” may not approve the application."
    assert "работодатель" in say(info.value.detail, "ru")


def test_every_permit_role_is_a_platform_role():
    assert SECURITY_ROLE[PermitRole.EMPLOYER] is Role.EMPLOYER
    assert SECURITY_ROLE[PermitRole.AKIMAT_OFFICER] is Role.AKIMAT
    assert permit_roles(Role.AKIMAT) == (PermitRole.AKIMAT_OFFICER,)
    assert set(permit_roles(Role.ADMIN)) == set(PermitRole)
    assert permit_roles(Role.ANALYST) == ()


# --- random sequences ----------------------------------------------------------------------------

MOVES = st.lists(st.tuples(st.sampled_from(list(Step)), st.sampled_from(list(PermitRole))), max_size=40)


def run(moves):
    """Every attempted move with the state before and after (equal when the step was illegal)."""
    state = PermitState.DRAFT
    trace = []
    for action, role in moves:
        try:
            after = step(state, action, role)
        except IllegalStep:
            after = None
        trace.append((state, action, role, after))
        state = after if after is not None else state
    return trace


@given(MOVES)
def test_never_issued_without_approval_and_fee_paid_before(moves):
    history = [PermitState.DRAFT]
    for _, _, _, after in run(moves):
        if after is not None:
            history.append(after)
    for i, state in enumerate(history):
        if state in (PermitState.ISSUED, PermitState.EXTENDED, PermitState.SUSPENDED, PermitState.REVOKED):
            before = history[:i]
            assert PermitState.APPROVED in before and PermitState.FEE_PAID in before
            assert before.index(PermitState.APPROVED) < before.index(PermitState.FEE_PAID)


@given(MOVES)
def test_states_change_only_through_allowed_steps_and_illegal_steps_change_nothing(moves):
    legal = {(origin, name, target) for origin, name, target in TABLE}
    state = PermitState.DRAFT
    for before, action, role, after in run(moves):
        assert before == state
        if after is None:
            assert reference(before, action, role) is None
        else:
            assert (before.value, action.value, after.value) in legal
            assert role.value in WHO[action.value].split()
            state = after


def test_every_state_is_reachable_from_a_draft():
    seen, frontier = {PermitState.DRAFT}, [PermitState.DRAFT]
    while frontier:
        state = frontier.pop()
        for role in PermitRole:
            for action in allowed_steps(state, role):
                after = step(state, action, role)
                if after not in seen:
                    seen.add(after)
                    frontier.append(after)
    assert seen == set(PermitState)
