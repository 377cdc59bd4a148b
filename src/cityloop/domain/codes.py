"""Codes of GB/T 30428 and GB/T 47678: unit grids, classes, component objects, matters.

Every parser returns a small value object or raises :class:`ValidationError` whose code and
message say exactly what is wrong. Reference: ``standards.md`` §2.3 (grid codes), §3.3–3.4
(class and object codes).

- Unit grid code (单元网格代码), GB/T 30428.1-2013 / GB/T 47678.3-2026: 15 digits =
  6 county-level admin code (GB/T 2260) + 3 street + 3 community + 3 grid sequence.
  Legacy CJ/T 213-2005: 14 digits, the sequence has 2 digits.
- Class code (分类代码): GB/T 47678.5-2026 uses 5 digits (2 major + 3 minor), separately for
  components (部件, Annex A) and matters (事项, Annex C); GB/T 30428.2-2013 uses 4 digits
  (2 major + 2 minor) for components and events (事件).
- Component object code (部件标识码): 47678.5: 17 digits = admin 6 + class 5 + sequence 6;
  legacy: 16 digits = admin 6 + class 4 + sequence 6.
- Matter code (事项代码), 47678.5: 11 digits = admin 6 + class 5.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cityloop.domain.errors import Msg, ValidationError


class Edition(enum.StrEnum):
    """Which standard a class code belongs to."""

    CURRENT = "GB/T 47678.5-2026"
    LEGACY = "GB/T 30428.2-2013"


class ClassKind(enum.StrEnum):
    """What a class classifies. 47678.5 has components and matters; the legacy edition events."""

    COMPONENT = "component"  # 部件
    MATTER = "matter"  # 事项 (GB/T 47678.5)
    EVENT = "event"  # 事件 (GB/T 30428.2, legacy)


# Province-level prefixes of GB/T 2260 (11 北京 … 82 澳门).
_PROVINCES = (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45)
PROVINCE_PREFIXES = frozenset(
    str(n) for n in (*_PROVINCES, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)
)

GRID_CODE_LENGTH = 15
LEGACY_GRID_CODE_LENGTH = 14
CLASS_CODE_LENGTH = {Edition.CURRENT: 5, Edition.LEGACY: 4}
COMPONENT_CODE_LENGTH = {Edition.CURRENT: 17, Edition.LEGACY: 16}
MATTER_CODE_LENGTH = 11


def _digits(text: object, what: Msg, code: str) -> str:
    if not isinstance(text, str):
        raise ValidationError(
            code + "_type", "{what} must be text, got {type}", what=what, type=type(text).__name__
        )
    value = text.strip()
    if not value:
        raise ValidationError(code + "_empty", "{what} is empty", what=what)
    if not (value.isascii() and value.isdigit()):
        bad = next(ch for ch in value if not (ch.isascii() and ch.isdigit()))
        raise ValidationError(
            code + "_not_digits",
            "{what} {value} must contain digits only; found {bad!r}",
            what=what,
            value=value,
            bad=bad,
        )
    return value


def _nonzero(part: str, what: Msg, value: str, code: str) -> None:
    if set(part) == {"0"}:
        raise ValidationError(
            code,
            "{what} in {value} is {part}; it must not be all zeros",
            what=what,
            value=value,
            part=part,
        )


def parse_admin_code(text: object) -> str:
    """Validate a 6-digit county-level administrative code (GB/T 2260).

    The province prefix must be one of GB/T 2260's, and the last two digits must not be
    ``00`` (that would be a prefecture or a province, not a county-level district).
    """
    value = _digits(text, Msg("Administrative code"), "admin_code")
    if len(value) != 6:
        raise ValidationError(
            "admin_code_length",
            "Administrative code {value} must have 6 digits, it has {actual}",
            value=value,
            actual=len(value),
        )
    _check_admin_part(value, value)
    return value


def _check_admin_part(admin: str, whole: str) -> None:
    if admin[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(
            "admin_code_province",
            "{value}: {prefix} is not a province code of GB/T 2260",
            value=whole,
            prefix=admin[:2],
        )
    if admin[4:] == "00":
        raise ValidationError(
            "admin_code_not_county",
            "{value}: administrative part {admin} ends in 00, which is a city or province,"
            " not a county-level district",
            value=whole,
            admin=admin,
        )


@dataclass(frozen=True, slots=True)
class GridCode:
    """A parsed unit grid code. ``legacy`` marks the 14-digit CJ/T 213-2005 form."""

    value: str
    admin: str
    street: str
    community: str
    sequence: str

    @property
    def legacy(self) -> bool:
        return len(self.value) == LEGACY_GRID_CODE_LENGTH

    @property
    def street_code(self) -> str:
        """The 9-digit street (乡镇/街道) code: admin + street."""
        return self.admin + self.street

    @property
    def community_code(self) -> str:
        """The 12-digit community (社区/村) code: admin + street + community."""
        return self.admin + self.street + self.community

    def to_current(self) -> GridCode:
        """The 15-digit form of a legacy code (sequence left-padded to 3 digits)."""
        if not self.legacy:
            return self
        return parse_grid_code(self.community_code + self.sequence.zfill(3))


def parse_grid_code(text: object, *, allow_legacy: bool = True) -> GridCode:
    """Parse and validate a 15-digit (or, if allowed, legacy 14-digit) unit grid code."""
    value = _digits(text, Msg("Grid code"), "grid_code")
    if len(value) != GRID_CODE_LENGTH and not (
        allow_legacy and len(value) == LEGACY_GRID_CODE_LENGTH
    ):
        raise ValidationError(
            "grid_code_length",
            "Grid code {value} has {actual} digits; a unit grid code has 15 (6 administrative"
            " + 3 street + 3 community + 3 sequence)",
            value=value,
            actual=len(value),
        )
    admin, street, community, sequence = value[:6], value[6:9], value[9:12], value[12:]
    _check_admin_part(admin, value)
    _nonzero(street, Msg("Street part"), value, "grid_code_street_zero")
    _nonzero(community, Msg("Community part"), value, "grid_code_community_zero")
    _nonzero(sequence, Msg("Grid sequence"), value, "grid_code_sequence_zero")
    return GridCode(value, admin, street, community, sequence)


def parse_street_code(text: object) -> str:
    """A 9-digit street code (admin 6 + street 3)."""
    value = _digits(text, Msg("Street code"), "street_code")
    if len(value) != 9:
        raise ValidationError(
            "street_code_length",
            "Street code {value} must have 9 digits, it has {actual}",
            value=value,
            actual=len(value),
        )
    _check_admin_part(value[:6], value)
    _nonzero(value[6:], Msg("Street part"), value, "street_code_zero")
    return value


def parse_community_code(text: object) -> str:
    """A 12-digit community code (admin 6 + street 3 + community 3)."""
    value = _digits(text, Msg("Community code"), "community_code")
    if len(value) != 12:
        raise ValidationError(
            "community_code_length",
            "Community code {value} must have 12 digits, it has {actual}",
            value=value,
            actual=len(value),
        )
    _check_admin_part(value[:6], value)
    _nonzero(value[6:9], Msg("Street part"), value, "community_code_street_zero")
    _nonzero(value[9:], Msg("Community part"), value, "community_code_zero")
    return value


@dataclass(frozen=True, slots=True)
class ClassCode:
    """A class code of one edition: ``major`` (2 digits) + ``minor`` (3 digits, or 2 legacy)."""

    edition: Edition
    value: str

    @property
    def major(self) -> str:
        return self.value[:2]

    @property
    def minor(self) -> str:
        return self.value[2:]


def parse_class_code(text: object, edition: Edition = Edition.CURRENT) -> ClassCode:
    """Validate a class code's form for ``edition`` (existence is the dictionary's business)."""
    value = _digits(text, Msg("Class code"), "class_code")
    expected = CLASS_CODE_LENGTH[edition]
    if len(value) != expected:
        raise ValidationError(
            "class_code_length",
            "Class code {value} has {actual} digits; {edition} class codes have {expected}",
            value=value,
            actual=len(value),
            expected=expected,
            edition=edition.value,
        )
    _nonzero(value[:2], Msg("Major class"), value, "class_code_major_zero")
    _nonzero(value[2:], Msg("Minor class"), value, "class_code_minor_zero")
    return ClassCode(edition, value)


@dataclass(frozen=True, slots=True)
class ComponentCode:
    """A component object code (部件标识码): admin + class + 6-digit sequence."""

    value: str
    admin: str
    class_code: ClassCode
    sequence: str

    @property
    def edition(self) -> Edition:
        return self.class_code.edition


def parse_component_code(text: object) -> ComponentCode:
    """Validate a 17-digit (GB/T 47678.5) or 16-digit (legacy) component object code."""
    value = _digits(text, Msg("Component code"), "component_code")
    by_length = {n: e for e, n in COMPONENT_CODE_LENGTH.items()}
    edition = by_length.get(len(value))
    if edition is None:
        raise ValidationError(
            "component_code_length",
            "Component code {value} has {actual} digits; expected 17 (GB/T 47678.5:"
            " 6 administrative + 5 class + 6 sequence) or 16 (legacy: 6 + 4 + 6)",
            value=value,
            actual=len(value),
        )
    admin = value[:6]
    _check_admin_part(admin, value)
    class_len = CLASS_CODE_LENGTH[edition]
    class_code = parse_class_code(value[6 : 6 + class_len], edition)
    sequence = value[6 + class_len :]
    _nonzero(sequence, Msg("Object sequence"), value, "component_code_sequence_zero")
    return ComponentCode(value, admin, class_code, sequence)


@dataclass(frozen=True, slots=True)
class MatterCode:
    """A GB/T 47678.5 matter code (事项代码): 6-digit admin + 5-digit class."""

    value: str
    admin: str
    class_code: ClassCode


def parse_matter_code(text: object) -> MatterCode:
    """Validate an 11-digit GB/T 47678.5 matter code."""
    value = _digits(text, Msg("Matter code"), "matter_code")
    if len(value) != MATTER_CODE_LENGTH:
        raise ValidationError(
            "matter_code_length",
            "Matter code {value} has {actual} digits; expected 11 (6 administrative + 5 class)",
            value=value,
            actual=len(value),
        )
    _check_admin_part(value[:6], value)
    return MatterCode(value, value[:6], parse_class_code(value[6:], Edition.CURRENT))


def matter_code(admin: str, class_code: str) -> str:
    """Compose the 11-digit matter code of a class in a district."""
    return parse_matter_code(parse_admin_code(admin) + class_code).value
