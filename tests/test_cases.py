"""Case numbers and agenda items as people type them, resolved against the index's own: pure."""

from __future__ import annotations

import pytest

from index.cases import AskedCase, asked_case
from index.store import asked_section

KNOWN = frozenset({"SAG-2025-03105", "SAG-2025-00718", "SAG-2024-04074", "EMN-2025-003383", "24/1234"})


@pytest.mark.parametrize("typed", [
    "Hvad blev besluttet under SAG-2025-03105?",  # as printed
    "Hvad blev besluttet under sag-2025-03105?",  # lower case
    "Hvad står der i SAG 2025 03105?",  # spaces
    "Hvad står der i sag2025-03105?",  # no separator after the prefix
    "Hvad blev besluttet under SAG-2025-3105?",  # the leading zero dropped
])
def test_a_case_number_as_typed_is_the_one_the_minutes_print(typed: str) -> None:
    assert asked_case(typed, KNOWN) == AskedCase("SAG-2025-03105", True)


def test_a_short_number_is_the_case_with_its_zeros() -> None:
    assert asked_case("Hvad med sag 2025 718?", KNOWN) == AskedCase("SAG-2025-00718", True)


def test_other_schemes_are_matched_as_printed() -> None:
    assert asked_case("Hvad skete der med sag 24/1234?", KNOWN) == AskedCase("24/1234", True)
    assert asked_case("emn-2025-3383", KNOWN) == AskedCase("EMN-2025-003383", True)


def test_an_unknown_printed_number_is_asked_for_as_typed_with_what_it_may_have_meant() -> None:
    assert asked_case("Hvad med SAG-2025-03150?", KNOWN) == AskedCase("SAG-2025-03150", False, ("SAG-2025-03105",))
    assert asked_case("Hvad med SAG-2025-99999?", KNOWN) == AskedCase("SAG-2025-99999", False, ())
    # Another year or prefix is another case, however close the number.
    assert asked_case("Hvad med SAG-2023-03105?", KNOWN) == AskedCase("SAG-2023-03105", False, ())


@pytest.mark.parametrize("text", ["Hvad skete der i maj 2025 100 gange?", "Hvad koster det pr. år 2025 1000 kr?",
                                  "Hvad mente rådet om open source?"])
def test_text_that_only_looks_like_a_loose_case_number_is_none(text: str) -> None:
    assert asked_case(text, KNOWN) is None


def test_two_cases_with_the_same_number_are_not_guessed_between() -> None:
    both = KNOWN | {"SAG-2025-3105"}
    assert asked_case("sag 2025 03105", both) is None
    assert asked_case("SAG-2025-3105", both) == AskedCase("SAG-2025-3105", True)


@pytest.mark.parametrize("text,section", [
    ("Hvad står der i punkt 2.2?", "2.2"), ("Hvad står der i pkt 2,2?", "2.2"), ("pkt. 2,10 om data", "2.10"),
    ("Hvad blev sagt under punkt 3 og 4?", "3"), ("Hvad med pkt 2, 3 og 4?", "2"), ("Item 2.2", "2.2"),
    ("Hvad mente rådet om version 2,5 af standarden?", None),
])
def test_an_item_number_with_a_decimal_comma_is_that_item(text: str, section: str | None) -> None:
    assert asked_section(text) == section
