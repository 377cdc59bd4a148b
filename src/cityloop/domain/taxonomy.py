"""Class dictionaries (分类字典) and filing standards (立案、处置和结案标准).

Reference: ``standards.md`` §3 (components 部件, matters 事项, legacy events 事件) and §6.1
(one class has several filing-standard rows, one per 立案条件, each with its own disposal limit
and 结案条件). A case is always classified by a GB/T 47678.5 *matter* class; a component case
uses the "…异常" matter with the component class's code and also names the component object.
Legacy (GB/T 30428.2-2013) codes are accepted at intake and mapped to the current edition
through a reviewed lookup table (§3.6), never by an algorithm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cityloop.domain.case import Urgency
from cityloop.domain.codes import ClassKind, Edition
from cityloop.domain.errors import ValidationError
from cityloop.domain.sla.units import TimeLimit


@dataclass(frozen=True, slots=True)
class Category:
    id: int
    edition: Edition
    kind: ClassKind
    code: str
    name: str
    major_code: str
    major_name: str
    component_code: str | None = None  # for a component-anomaly matter: its component class
    local: bool = False  # a city's extension class (numbered downward from 999)
    self_handling_allowed: bool = False
    active: bool = True

    @property
    def is_component_anomaly(self) -> bool:
        return self.kind is ClassKind.MATTER and self.component_code is not None

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True, slots=True)
class FilingStandard:
    """One row of a city's filing standard: a filing condition of a matter class."""

    id: int
    category_id: int
    condition: str  # 立案条件
    closing_condition: str  # 结案条件
    limits: Mapping[Urgency, TimeLimit] = field(default_factory=dict)  # 处置时限 per urgency
    supervising_body: str = ""  # 监管主体 / 主管部门
    responsible_body: str = ""  # 责任主体 / 处置单位
    active: bool = True

    def limit(self, urgency: Urgency) -> TimeLimit:
        limit = self.limits.get(urgency) or self.limits.get(Urgency.NORMAL)
        if limit is None:
            raise ValidationError(
                "standard_without_limit",
                "Filing standard {id} has no disposal limit for urgency {urgency}",
                id=self.id,
                urgency=urgency.value,
            )
        return limit
