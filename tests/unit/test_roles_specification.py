"""The role matrix against the specification written out on its own (the README's table),
and that specification against the README itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.domain.roles import Action, Role, may, parse_role
from strongroom.errors import InvalidInput
from tests.roles_specification import ACTION_NAMES, TABLE, allowed_actions, parse_table

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_roles_table() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Roles\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("|"))


def test_the_specification_is_the_readme_table() -> None:
    assert parse_table(_readme_roles_table()) == parse_table(TABLE)


def test_the_specification_names_every_action_once() -> None:
    assert sorted(ACTION_NAMES.values()) == sorted(a.value for a in Action)
    assert set().union(*parse_table(TABLE).values()) == set(ACTION_NAMES)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_the_matrix_allows_what_the_specification_allows(role: Role, action: Action) -> None:
    assert may(role, action) == (action.value in allowed_actions(role.value))


def test_an_unknown_role_is_quoted_up_to_32_characters() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_role("r" * 31 + "XYZ")
    assert repr("r" * 31 + "X") in str(refused.value)
