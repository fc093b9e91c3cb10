"""A case number as people type it, resolved to the one the minutes print: pure functions.

Minutes print ``SAG-2025-03105``; a user types "sag-2025-03105", "SAG 2025 03105" or drops the zero
("SAG-2025-3105"). Each is the same case when the index holds exactly one case with that prefix, year and
number. A loosely typed number that the index does not hold is no case number at all: "maj 2025 100" is
text. One typed in the printed form is asked for as written, so the refusal can name it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from ingest.parse import CASE_NUMBER

# Prefix, year and number, in any case, with a hyphen, a space or nothing between prefix and year.
_LOOSE = re.compile(r"(?<![\w/-])([A-Za-zÆØÅæøå]{2,6})[ -]?(\d{4})[ -](\d{1,8})(?![\w/-])")


@dataclass(frozen=True)
class AskedCase:
    """The case number a question asks about: as the index holds it, or as typed when the index lacks it."""

    number: str
    known: bool  # the index holds it
    near: tuple[str, ...] = ()  # the index's case numbers it may have been meant as (same prefix and year)


def _key(prefix: str, year: str, number: str) -> tuple[str, str, int]:
    return prefix.upper(), year, int(number)


def _parts(case: str) -> tuple[str, str, int] | None:
    m = _LOOSE.fullmatch(case)
    return _key(*m.groups()) if m else None


@lru_cache(maxsize=8)
def _table(known: frozenset[str]) -> dict[tuple[str, str, int], tuple[str, ...]]:
    """The index's case numbers by prefix, year and number; read once per set of case numbers (an index passes
    the same set to every question)."""
    table: dict[tuple[str, str, int], list[str]] = {}
    for case in known:
        if (k := _parts(case)) is not None:
            table.setdefault(k, []).append(case)
    return {k: tuple(v) for k, v in table.items()}


def asked_case(text: str, known: Collection[str]) -> AskedCase | None:
    """The case number ``text`` names, resolved against the index's ``known`` case numbers."""
    table = _table(known if isinstance(known, frozenset) else frozenset(known))
    strict = CASE_NUMBER.search(text)
    if strict and strict.group(1) in known:
        return AskedCase(strict.group(1), True)
    for m in _LOOSE.finditer(text):
        same = table.get(_key(*m.groups()), ())
        if len(same) == 1:
            return AskedCase(same[0], True)
    if strict is None:
        return None
    typed = strict.group(1)
    k = _parts(typed)
    # One digit changed, added, dropped or two swapped (optimal string alignment distance 1), same prefix and year.
    near = () if k is None else tuple(sorted(c for key, cases in table.items() if key[:2] == k[:2]
                                             and OSA.distance(str(key[2]), str(k[2])) == 1 for c in cases))
    return AskedCase(typed, False, near)
