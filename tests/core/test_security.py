"""Roles and permissions as a table."""

from __future__ import annotations

import pytest

from kosh.core.errors import Forbidden
from kosh.core.security import PERMISSION_PHRASES, ROLE_PERMISSIONS, Permission, Principal, Role


def test_every_permission_has_a_phrase():
    assert set(PERMISSION_PHRASES) == set(Permission)


def test_refusal_names_role_and_action():
    with pytest.raises(Forbidden, match="role 'analyst' may not read persons' records"):
        Principal("a", Role.ANALYST).require(Permission.PERSON_READ)


def test_least_privilege():
    assert ROLE_PERMISSIONS[Role.HOST] == {Permission.NOTIFICATION_WRITE, Permission.NOTIFICATION_READ}
    assert Permission.PERSON_READ not in ROLE_PERMISSIONS[Role.ANALYST] | ROLE_PERMISSIONS[Role.AUDITOR]
    officer = Principal("o", Role.OFFICER, regions=("75",))
    assert officer.sees_region("751710000") and not officer.sees_region("611010000") and not officer.sees_region("")
