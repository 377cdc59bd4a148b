"""Grid, class, component and matter codes (standards.md §2.3, §3.3–3.4)."""

from __future__ import annotations

import pytest

from cityloop.domain.codes import (
    Edition,
    parse_admin_code,
    parse_class_code,
    parse_community_code,
    parse_component_code,
    parse_grid_code,
    parse_matter_code,
    parse_street_code,
)
from cityloop.domain.errors import ValidationError


def test_current_grid_code_splits_into_its_parts() -> None:
    code = parse_grid_code("110101001002015")
    assert (code.admin, code.street, code.community, code.sequence) == (
        "110101",
        "001",
        "002",
        "015",
    )
    assert code.street_code == "110101001"
    assert code.community_code == "110101001002"
    assert not code.legacy


def test_legacy_14_digit_grid_code_is_accepted_and_converted() -> None:
    code = parse_grid_code("32050800100215")
    assert code.legacy
    assert code.sequence == "15"
    assert code.to_current().value == "320508001002015"


def test_legacy_grid_code_refused_when_not_allowed() -> None:
    with pytest.raises(ValidationError) as err:
        parse_grid_code("32050800100215", allow_legacy=False)
    assert err.value.code == "grid_code_length"


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("11010100100201", None, None),  # 14 digits: legacy, valid
        ("1101010010020150", "grid_code_length", {"actual": 16}),
        ("11010100100201X", "grid_code_not_digits", {"bad": "X"}),
        ("110101 001002015", "grid_code_not_digits", {"bad": " "}),
        ("１１0101001002015", "grid_code_not_digits", {"bad": "１"}),
        ("", "grid_code_empty", {}),
        ("990101001002015", "admin_code_province", {"prefix": "99"}),
        ("110100001002015", "admin_code_not_county", {"admin": "110100"}),
        ("110101000002015", "grid_code_street_zero", {"part": "000"}),
        ("110101001000015", "grid_code_community_zero", {"part": "000"}),
        ("110101001002000", "grid_code_sequence_zero", {"part": "000"}),
    ],
)
def test_malformed_grid_codes_say_what_is_wrong(
    text: str, code: str | None, params: dict[str, object] | None
) -> None:
    if code is None:
        parse_grid_code(text)
        return
    with pytest.raises(ValidationError) as err:
        parse_grid_code(text)
    assert err.value.code == code
    for key, value in (params or {}).items():
        assert err.value.params[key] == value
    assert text.strip() in str(err.value) or code == "grid_code_empty"


def test_grid_code_must_be_text() -> None:
    with pytest.raises(ValidationError) as err:
        parse_grid_code(110101001002015)
    assert err.value.code == "grid_code_type"


def test_admin_street_community_codes() -> None:
    assert parse_admin_code("110101") == "110101"
    assert parse_street_code("110101001") == "110101001"
    assert parse_community_code("110101001002") == "110101001002"
    for bad, code in (
        ("11010", "admin_code_length"),
        ("110101000", "street_code_zero"),
        ("110101001000", "community_code_zero"),
        ("1101010010", "street_code_length"),
    ):
        with pytest.raises(ValidationError) as err:
            (
                parse_street_code
                if len(bad) in (9, 10)
                else parse_community_code
                if len(bad) == 12
                else parse_admin_code
            )(bad)
        assert err.value.code == code


def test_class_codes_of_both_editions() -> None:
    current = parse_class_code("01037")
    assert (current.major, current.minor, current.edition) == ("01", "037", Edition.CURRENT)
    legacy = parse_class_code("0118", Edition.LEGACY)
    assert (legacy.major, legacy.minor) == ("01", "18")
    with pytest.raises(ValidationError) as err:
        parse_class_code("0118")
    assert err.value.code == "class_code_length"
    assert err.value.params["expected"] == 5
    with pytest.raises(ValidationError) as err:
        parse_class_code("01037", Edition.LEGACY)
    assert err.value.params["expected"] == 4
    with pytest.raises(ValidationError) as err:
        parse_class_code("00037")
    assert err.value.code == "class_code_major_zero"
    with pytest.raises(ValidationError) as err:
        parse_class_code("01000")
    assert err.value.code == "class_code_minor_zero"


def test_component_object_codes() -> None:
    current = parse_component_code("11010101001000001")
    assert current.admin == "110101"
    assert current.class_code.value == "01001"
    assert current.sequence == "000001"
    assert current.edition is Edition.CURRENT
    legacy = parse_component_code("3205080101000001")  # 姑苏区 上水井盖 (standards.md §3.3)
    assert legacy.edition is Edition.LEGACY
    assert legacy.class_code.value == "0101"
    for bad, code in (
        ("110101010010000011", "component_code_length"),
        ("11010101001000000", "component_code_sequence_zero"),
        ("11010100001000001", "class_code_major_zero"),
    ):
        with pytest.raises(ValidationError) as err:
            parse_component_code(bad)
        assert err.value.code == code


def test_matter_codes() -> None:
    matter = parse_matter_code("11010106010")
    assert matter.admin == "110101"
    assert matter.class_code.value == "06010"
    with pytest.raises(ValidationError) as err:
        parse_matter_code("1101010601")
    assert err.value.code == "matter_code_length"
