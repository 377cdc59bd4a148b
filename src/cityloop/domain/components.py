"""Components (部件): countable, georeferenced city facilities with an owner chain.

Reference: ``standards.md`` §3.3 and §3.5 (GB/T 47678.5 Table 2): a component has a 17-digit
object code, a class, a supervising department (主管部门), an owner (权属单位) and a maintainer
(养护单位), the unit grid it lies in and a status.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class ComponentStatus(enum.StrEnum):
    INTACT = "intact"  # 完好
    DAMAGED = "damaged"  # 破损
    LOST = "lost"  # 丢失
    ABANDONED = "abandoned"  # 废弃
    REMOVED = "removed"  # 移除


@dataclass(frozen=True, slots=True)
class Component:
    id: int
    object_code: str
    category_id: int  # the component class (kind component)
    class_code: str
    name: str
    lon: float
    lat: float
    grid_id: int | None = None
    supervisor_id: int | None = None  # 主管部门
    owner_id: int | None = None  # 权属单位
    maintainer_id: int | None = None  # 养护单位
    status: ComponentStatus = ComponentStatus.INTACT
    initial_date: date | None = None
    change_date: date | None = None
