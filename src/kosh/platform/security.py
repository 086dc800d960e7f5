"""Who is asking and what they may do: roles, permissions, regional scope, passwords, tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kosh.platform.errors import Forbidden
from kosh.platform.words import N_, Msg


class Role(StrEnum):
    ADMIN = "admin"
    OFFICER = "officer"
    HOST = "host"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    # The border service's feed: writes crossings, reads nothing.
    BORDER = "border"
    # Work permits: an employer (organisation by BIN, individual by IIN: its account's party)
    # applies for its workers; an akimat's labour department decides in its regions; the
    # ministry sets and moves the quotas and reads permits nationally.
    EMPLOYER = "employer"
    AKIMAT = "akimat"
    MINISTRY = "ministry"


class Permission(StrEnum):
    PERSON_READ = "person.read"
    PERSON_WRITE = "person.write"
    BORDER_EVENT_WRITE = "border_event.write"
    NOTIFICATION_WRITE = "notification.write"
    NOTIFICATION_READ = "notification.read"
    PERMIT_WRITE = "residence_permit.write"
    STAY_READ = "stay.read"
    IMPORT = "import"
    AGGREGATES_READ = "aggregates.read"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    IDENTITY_MERGE = "identity.merge"
    BREAK_GLASS = "break_glass"
    WORK_PERMIT_APPLY = "work_permit.apply"
    WORK_PERMIT_READ = "work_permit.read"
    WORK_PERMIT_DECIDE = "work_permit.decide"
    QUOTA_MANAGE = "quota.manage"


# What each permission lets a person do, for messages.
PERMISSION_PHRASES: dict[Permission, str] = {
    Permission.PERSON_READ: N_("read persons' records"),
    Permission.PERSON_WRITE: N_("record persons"),
    Permission.BORDER_EVENT_WRITE: N_("record border crossings"),
    Permission.NOTIFICATION_WRITE: N_("submit arrival notifications"),
    Permission.NOTIFICATION_READ: N_("read arrival notifications"),
    Permission.PERMIT_WRITE: N_("record residence permits"),
    Permission.STAY_READ: N_("read stay status"),
    Permission.IMPORT: N_("import feeds"),
    Permission.AGGREGATES_READ: N_("read aggregate figures"),
    Permission.AUDIT_READ: N_("read the audit trail"),
    Permission.USERS_MANAGE: N_("manage users"),
    Permission.IDENTITY_MERGE: N_("merge or unmerge persons"),
    Permission.BREAK_GLASS: N_("open a person outside their regions"),
    Permission.WORK_PERMIT_APPLY: N_("apply for work permits"),
    Permission.WORK_PERMIT_READ: N_("read work permits"),
    Permission.WORK_PERMIT_DECIDE: N_("decide on work permits"),
    Permission.QUOTA_MANAGE: N_("set or move work-permit quotas"),
}

# Least privilege as a table: a role has exactly the permissions listed here.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    # Officers record notifications and permits in their own regions; crossings come only from
    # the border service's feed.
    Role.OFFICER: frozenset({
        Permission.PERSON_READ, Permission.PERSON_WRITE,
        Permission.NOTIFICATION_WRITE, Permission.NOTIFICATION_READ, Permission.PERMIT_WRITE,
        Permission.STAY_READ, Permission.IMPORT, Permission.AGGREGATES_READ, Permission.IDENTITY_MERGE,
        Permission.BREAK_GLASS,
    }),
    Role.HOST: frozenset({Permission.NOTIFICATION_WRITE, Permission.NOTIFICATION_READ}),
    Role.ANALYST: frozenset({Permission.AGGREGATES_READ}),
    Role.AUDITOR: frozenset({Permission.AUDIT_READ, Permission.AGGREGATES_READ}),
    Role.BORDER: frozenset({Permission.BORDER_EVENT_WRITE, Permission.IMPORT}),
    Role.EMPLOYER: frozenset({Permission.WORK_PERMIT_APPLY}),
    Role.AKIMAT: frozenset({Permission.WORK_PERMIT_READ, Permission.WORK_PERMIT_DECIDE, Permission.AGGREGATES_READ}),
    Role.MINISTRY: frozenset({Permission.WORK_PERMIT_READ, Permission.QUOTA_MANAGE, Permission.AGGREGATES_READ,
                              Permission.IMPORT}),
}


@dataclass(frozen=True)
class Principal:
    """The caller of a use case; every service takes one."""

    username: str
    role: Role
    user_id: int | None = None
    regions: tuple[str, ...] = ()
    host_party: str | None = None
    purpose: str = ""
    display_name: str = ""
    permissions: frozenset[Permission] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "permissions", ROLE_PERMISSIONS[self.role])

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise Forbidden(Msg(N_("The role %(role)s may not %(action)s."), role=Msg(self.role.value),
                                action=Msg(PERMISSION_PHRASES[permission])))

    @property
    def all_regions(self) -> bool:
        """Admins (and system jobs) see every region; officers only their KATO prefixes (what
        that lets them read: `kosh.platform.scope`)."""
        return self.role == Role.ADMIN

    @property
    def writes_anywhere(self) -> bool:
        """Admins and system jobs may record in any region; officers only in theirs."""
        return self.role == Role.ADMIN

    def with_purpose(self, purpose: str) -> Principal:
        return Principal(self.username, self.role, self.user_id, self.regions, self.host_party,
                         purpose, self.display_name)


def system_principal(purpose: str) -> Principal:
    """The actor for command-line jobs run by the operator of the installation."""
    return Principal(username="system", role=Role.ADMIN, purpose=purpose, display_name="System")


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # Tokens are 256-bit random, so a fast hash suffices (unlike passwords).
    return hashlib.sha256(token.encode()).hexdigest()
