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
    READ = "read"  # workspace, projects, records, files
    WRITE_DATA = "write_data"  # create and update records and files
    MANAGE_PROJECTS = "manage_projects"
    MANAGE_MEMBERS = "manage_members"
    DELETE_WORKSPACE = "delete_workspace"


MATRIX: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.ADMIN: frozenset(Action) - {Action.DELETE_WORKSPACE},
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
