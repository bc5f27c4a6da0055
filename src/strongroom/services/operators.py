"""Staff: operators as people (name, email) and the confidentiality agreements each signed.

Names and emails are sealed under the directory key; an operator is found by the
directory's blind index of their email (one operator per email). An operator token may be
issued to a named operator (``token create --operator --operator-email``): a grant asked
for with that token is theirs. Tokens issued before staff existed name no one, and keep
working as before (they name the operator in each request).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from strongroom import ids
from strongroom.crypto.envelope import Binding
from strongroom.crypto.keyring import DIRECTORY
from strongroom.domain import grants as rules
from strongroom.domain.rules import check_email, check_name
from strongroom.errors import Conflict, InvalidInput, NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.workspaces import directory_index
from strongroom.storage.repositories.grants import OperatorAgreementRow, OperatorRow
from strongroom.storage.unit_of_work import DataUnitOfWork


@dataclass(frozen=True)
class Operator:
    id: str
    name: str
    email: str
    created_at: datetime
    agreements: tuple[rules.Agreement, ...]
    #: Whether they may ask for access (a current agreement, as the deployment requires).
    in_force: bool

    @property
    def current(self) -> rules.Agreement | None:
        return rules.current_agreement(self.agreements)

    def as_json(self) -> dict[str, Any]:
        current = self.current
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "created_at": self.created_at.isoformat(),
            "agreement": None
            if current is None
            else {"version": current.version, "signed": current.signed_on.isoformat()},
            "agreement_in_force": self.in_force,
            "agreements": [
                {"version": a.version, "signed": a.signed_on.isoformat()} for a in self.agreements
            ],
        }


def _binding(field: str, operator_id: str) -> Binding:
    return Binding(f"operator-{field}", "", "", operator_id)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {text[:32]!r}") from None


class Staff:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def add(self, name: str, email: str, actor: str = "system") -> Operator:
        name = check_name("operator", name)
        email = check_email(email)
        index = directory_index(self.ctx, email)
        now = self.ctx.clock.now()
        operator_id = ids.new_id("operator")
        row = OperatorRow(
            operator_id,
            self.ctx.seal(DIRECTORY, _binding("name", operator_id), name.encode()),
            self.ctx.seal(DIRECTORY, _binding("email", operator_id), email.encode()),
            index,
            now,
        )
        with self.ctx.store.write() as uow:
            if uow.operators.by_email_index(index) is not None:
                raise Conflict("an operator with this email exists already")
            uow.operators.add(row)
            audit.append(uow, now, actor, "operator.add", None, operator_id=operator_id)
            uow.commit()
        return Operator(operator_id, name, email, now, (), False)

    def record_agreement(
        self, email: str, version: str, signed: str, actor: str = "system"
    ) -> Operator:
        """Record that the operator signed agreement ``version`` on ``signed`` (YYYY-MM-DD,
        not in the future); their latest agreement is their current one."""
        version = rules.check_agreement_version(version)
        now = self.ctx.clock.now()
        signed_on = rules.check_signed_on(parse_day(signed), now.date())
        with self.ctx.store.write() as uow:
            row = self.find(uow, email)
            agreement_id = ids.new_id("staff-agreement")
            uow.operators.add_agreement(
                OperatorAgreementRow(agreement_id, row.id, version, signed_on, now)
            )
            audit.append(
                uow,
                now,
                actor,
                "operator.agreement",
                None,
                operator_id=row.id,
                version=version,
                signed=signed_on.isoformat(),
            )
            uow.commit()
            return self._operator(uow, row)

    def list(self) -> builtins.list[Operator]:
        with self.ctx.store.read() as uow:
            return [self._operator(uow, row) for row in uow.operators.list()]

    def get(self, email: str) -> Operator:
        with self.ctx.store.read() as uow:
            return self._operator(uow, self.find(uow, email))

    def by_id(self, operator_id: str) -> Operator:
        with self.ctx.store.read() as uow:
            row = uow.operators.get(operator_id)
            if row is None:
                raise NotFound(f"no operator {operator_id}")
            return self._operator(uow, row)

    def find(self, uow: DataUnitOfWork, email: str) -> OperatorRow:
        row = uow.operators.by_email_index(directory_index(self.ctx, check_email(email)))
        if row is None:
            raise NotFound("no operator with this email")
        return row

    def in_force(self, uow: DataUnitOfWork, operator_id: str) -> bool:
        agreements = [
            rules.Agreement(a.version, a.signed_on) for a in uow.operators.agreements(operator_id)
        ]
        return rules.agreement_in_force(agreements, self.ctx.settings.staff_agreement_version)

    def name_of(self, row: OperatorRow, actor: str = "system") -> tuple[str, str]:
        """The operator's name and email (decrypted)."""
        name = self.ctx.open(DIRECTORY, _binding("name", row.id), row.name_sealed, actor)
        email = self.ctx.open(DIRECTORY, _binding("email", row.id), row.email_sealed, actor)
        return name.decode(), email.decode()

    def _operator(self, uow: DataUnitOfWork, row: OperatorRow) -> Operator:
        name, email = self.name_of(row)
        agreements = tuple(
            rules.Agreement(a.version, a.signed_on) for a in uow.operators.agreements(row.id)
        )
        in_force = rules.agreement_in_force(agreements, self.ctx.settings.staff_agreement_version)
        return Operator(row.id, name, email, row.created_at, agreements, in_force)
