from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["call_centre", "department_staff", "department_supervisor", "centre_operator", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
DEPARTMENT_ROLES = frozenset({"department_staff", "department_supervisor"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: taken from the API key, never from a request body."""

    id: str
    name: str
    role: Role
    department: str | None = None

    @property
    def is_department(self) -> bool:
        return self.role in DEPARTMENT_ROLES

    def can_see_department(self, code: str) -> bool:
        return not self.is_department or self.department == code
