"""Roles and permissions as a table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kosh.platform.auth import throttle_delay
from kosh.platform.errors import Forbidden
from kosh.platform.scope import sees_region
from kosh.platform.security import PERMISSION_PHRASES, ROLE_PERMISSIONS, Permission, Principal, Role


def test_every_permission_has_a_phrase():
    assert set(PERMISSION_PHRASES) == set(Permission)


def test_refusal_names_role_and_action():
    with pytest.raises(Forbidden, match=r"^The role analyst may not read persons' records\.$"):
        Principal("a", Role.ANALYST).require(Permission.PERSON_READ)


def test_least_privilege():
    assert ROLE_PERMISSIONS[Role.HOST] == {Permission.NOTIFICATION_WRITE, Permission.NOTIFICATION_READ}
    assert Permission.PERSON_READ not in ROLE_PERMISSIONS[Role.ANALYST] | ROLE_PERMISSIONS[Role.AUDITOR]
    officer = Principal("o", Role.OFFICER, regions=("75",))
    assert sees_region(officer, "751710000") and not sees_region(officer, "611010000") and not sees_region(officer, "")


# -- sign-in throttling: the delay rule ---------------------------------------------------

@given(failures=st.integers(0, 500), free=st.integers(1, 50), cap=st.integers(1, 86_400))
def test_throttle_delay_is_free_then_doubles_up_to_the_cap(failures, free, cap):
    delay = throttle_delay(failures, free, cap)
    if failures < free:
        assert delay == 0
    else:
        assert 2 <= delay or cap < 2
        assert delay <= cap
        assert delay == min(cap, 2 ** (failures - free + 1))


@given(failures=st.integers(0, 500), free=st.integers(1, 50), cap=st.integers(1, 86_400))
def test_throttle_delay_never_shrinks_with_more_failures(failures, free, cap):
    assert throttle_delay(failures, free, cap) <= throttle_delay(failures + 1, free, cap)
    if free <= failures and throttle_delay(failures + 1, free, cap) < cap:
        assert throttle_delay(failures + 1, free, cap) == 2 * throttle_delay(failures, free, cap)
