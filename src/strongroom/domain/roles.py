"""Roles of a workspace member, and what each may do. The one role matrix."""

from __future__ import annotations

from enum import StrEnum

from strongroom.errors import InvalidInput


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Action(StrEnum):
    READ = "read"  # the workspace, its projects, records, files and members
    WRITE_DATA = "write_data"  # create, update and delete records and files
    MANAGE_PROJECTS = "manage_projects"  # create projects, declare collections
    MANAGE_MEMBERS = "manage_members"  # add members, change roles, issue API tokens
    READ_AUDIT = "read_audit"  # the workspace's audit events
    READ_KEYS = "read_keys"  # the workspace's key status
    RESTORE_ANY = "restore_any"  # restore any trash entry (others: only what they deleted)
    EXPORT = "export"  # export the whole workspace
    PURGE_TRASH = "purge_trash"  # delete a trash entry forever, before its deadline
    DELETE_WORKSPACE = "delete_workspace"
    PRIVACY = "privacy"  # data subjects' requests: create, verify, locate, export, erase
    OBJECT_SUBPROCESSOR = "object_subprocessor"  # object to a subprocessor notice (issue 14)
    DECIDE_GRANTS = "decide_grants"  # approve, refuse, revoke break-glass grants (issue 17)


#: The one role matrix. The README shows it; tests walk every endpoint through it.
MATRIX: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.ADMIN: frozenset(Action)
    - {
        Action.DELETE_WORKSPACE,
        Action.PURGE_TRASH,
        Action.OBJECT_SUBPROCESSOR,
        Action.DECIDE_GRANTS,
    },
    Role.MEMBER: frozenset({Action.READ, Action.WRITE_DATA}),
    Role.VIEWER: frozenset({Action.READ}),
}


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {value[:32]!r}; choose one of {names}") from None


def may(role: Role, action: Action) -> bool:
    return action in MATRIX[role]
