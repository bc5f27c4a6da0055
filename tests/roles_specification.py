"""The README's roles table, written out on its own: what each role may do.

This is the specification the role matrix (``strongroom.domain.roles.MATRIX``) is checked
against, so it must never be derived from it. tests/unit/test_roles_specification.py keeps
it in step with the README; tests/e2e/test_api_roles.py expects its statuses from it."""

from __future__ import annotations

# Copied by hand from the README's "Roles" table (✓ = allowed).
TABLE = """
| action                  | owner | admin | member | viewer |
| read                    |   ✓   |   ✓   |   ✓    |   ✓    |
| write data              |   ✓   |   ✓   |   ✓    |        |
| manage projects         |   ✓   |   ✓   |        |        |
| manage members          |   ✓   |   ✓   |        |        |
| read audit              |   ✓   |   ✓   |        |        |
| read keys               |   ✓   |   ✓   |        |        |
| restore any trash entry |   ✓   |   ✓   |        |        |
| export                  |   ✓   |   ✓   |        |        |
| purge trash             |   ✓   |       |        |        |
| delete the workspace    |   ✓   |       |        |        |
| privacy requests        |   ✓   |   ✓   |        |        |
| object to a subprocessor notice |   ✓   |       |        |        |
| decide break-glass grants |   ✓   |       |        |        |
"""

#: The README's words for each action, and the action's name in the code.
ACTION_NAMES = {
    "read": "read",
    "write data": "write_data",
    "manage projects": "manage_projects",
    "manage members": "manage_members",
    "read audit": "read_audit",
    "read keys": "read_keys",
    "restore any trash entry": "restore_any",
    "export": "export",
    "purge trash": "purge_trash",
    "delete the workspace": "delete_workspace",
    "privacy requests": "privacy",
    "object to a subprocessor notice": "object_subprocessor",
    "decide break-glass grants": "decide_grants",
}


def parse_table(text: str) -> dict[str, frozenset[str]]:
    """{role: the README's action labels it is allowed} from a markdown table whose first
    column is the action and whose next columns are roles marked with ✓."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.strip().splitlines()
        if line.strip().startswith("|") and not set(line) <= set("|-: ")
    ]
    header, body = rows[0], rows[1:]
    roles = [name for name in header[1:] if name in {"owner", "admin", "member", "viewer"}]
    return {
        role: frozenset(row[0] for row in body if row[1 + i] == "✓") for i, role in enumerate(roles)
    }


def allowed_actions(role: str) -> frozenset[str]:
    """The code names of the actions ``role`` may do, by the specification."""
    return frozenset(ACTION_NAMES[label] for label in parse_table(TABLE)[role])
