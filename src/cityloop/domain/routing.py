"""Who should handle a case: the department proposal (派遣建议).

Rule of practice (§5.2, §13): 部件先属主、后属地；事件先属地、后属主 — a component problem goes
first to the component's owner (权属单位, then its maintainer 养护单位) and only then to the
territorial body; an event goes first to the territorial body (the street office of the place)
and then to the competent department named by the dispatch rules for its filing standard.
The dispatcher sees the proposals in this order and may choose any department.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DispatchRule:
    """Filing standard or class → department, optionally for one district or street.

    The most specific matching rule wins: a standard over a class, a street over a district
    over the whole city; ties go to the lower ``priority`` number.
    """

    id: int
    department_id: int
    filing_standard_id: int | None = None
    category_id: int | None = None
    district_code: str | None = None
    street_code: str | None = None
    priority: int = 100

    def matches(
        self,
        filing_standard_id: int | None,
        category_id: int | None,
        district_code: str | None,
        street_code: str | None,
    ) -> bool:
        if self.filing_standard_id is not None and self.filing_standard_id != filing_standard_id:
            return False
        if self.category_id is not None and self.category_id != category_id:
            return False
        if self.district_code is not None and self.district_code != district_code:
            return False
        return self.street_code is None or self.street_code == street_code

    def specificity(self) -> tuple[int, int, int]:
        subject = 2 if self.filing_standard_id is not None else 1 if self.category_id else 0
        place = 2 if self.street_code is not None else 1 if self.district_code else 0
        return (subject, place, -self.priority)


def competent_department(
    rules: Sequence[DispatchRule],
    *,
    filing_standard_id: int | None,
    category_id: int | None,
    district_code: str | None,
    street_code: str | None,
) -> int | None:
    """The department of the most specific matching rule, if any."""
    matching = [
        r
        for r in rules
        if r.matches(filing_standard_id, category_id, district_code, street_code)
        and (r.filing_standard_id is not None or r.category_id is not None)
    ]
    if not matching:
        return None
    return max(matching, key=DispatchRule.specificity).department_id


def propose_departments(
    *,
    is_component: bool,
    owner_id: int | None,
    maintainer_id: int | None,
    competent_id: int | None,
    territorial_id: int | None,
) -> list[int]:
    """Departments in the order to propose them, without repeats."""
    if is_component:
        order = [owner_id, maintainer_id, competent_id, territorial_id]
    else:
        order = [territorial_id, competent_id]
    result: list[int] = []
    for dept in order:
        if dept is not None and dept not in result:
            result.append(dept)
    return result
