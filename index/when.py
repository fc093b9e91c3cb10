"""Dates a question names, and the time it asks about: pure functions.

Both the search (an item from the named meeting or year ranks first) and the refusal (a named meeting
that the index does not hold) read a question's dates from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

MONTHS = {
    "januar": 1, "februar": 2, "marts": 3, "april": 4, "maj": 5, "juni": 6, "juli": 7, "august": 8,
    "september": 9, "oktober": 10, "november": 11, "december": 12,
}
MONTH_NAMES = {v: k for k, v in MONTHS.items()}
# English questions name dates too: "on 14 May 2025", "May 14, 2025", "in March 2026".
EN_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7, "august": 8,
    "september": 9, "october": 10, "november": 11, "december": 12,
}
_EN_MONTH = "|".join(EN_MONTHS)
_EN_DAY_FIRST = re.compile(rf"\b(?:(\d{{1,2}})(?:st|nd|rd|th)?\s+)?({_EN_MONTH})\s+(20\d\d|19\d\d)\b", re.I)
_EN_MONTH_FIRST = re.compile(rf"\b({_EN_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(20\d\d|19\d\d)\b", re.I)
_MONTH = "|".join(MONTHS)
_ISO = re.compile(r"\b(20\d\d|19\d\d)-(\d\d)-(\d\d)\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](20\d\d|19\d\d)\b")
_WORDS = re.compile(rf"\b(?:(\d{{1,2}})\.?\s+)?({_MONTH})\s+(20\d\d|19\d\d)\b", re.I)
# A bare year counts only when it says which meeting: "mødet i 2019", "møderne fra 2021".
_MEETING_YEAR = re.compile(r"\bmøde\w*\s+(?:i|fra|den|afholdt\s+i)\s+(?:året\s+)?(20\d\d|19\d\d)\b", re.I)
# A bare year in a phrase of time: "i 2024", "i foråret 2025", "in 2024", "under 2025". Not a year inside a
# name or a span ("budget 2027", "strategi 2026-2030", "2025-budgettet"), and not "siden/fra 2024", which
# ask about everything after it.
_TIME_YEAR = re.compile(r"\b(?:i|in|during|under)\s+(?:(?:året|foråret|efteråret|sommeren|vinteren|the\s+year)\s+)?"
                        r"(20\d\d|19\d\d)\b(?![-–/]\w)", re.I)


# "på det seneste møde", "rådets sidste møde", "at its latest meeting": the newest meeting, of each council. Not
# "siden sidste møde" ("since the last meeting"), which asks about what happened before this one.
_LATEST = re.compile(r"(?<!siden )(?<!since )\b(?:seneste|sidste|nyeste|senest afholdte)\s+møde\b|"
                     r"(?<!since )(?<!since the )\b(?:latest|last|most recent)\s+meeting\b", re.I)


@dataclass(frozen=True)
class DateRef:
    """A date the question names: a day, a month or a year."""

    year: int
    month: int | None = None
    day: int | None = None

    def matches(self, d: date) -> bool:
        return d.year == self.year and (self.month is None or d.month == self.month) and (
            self.day is None or d.day == self.day)

    def label(self) -> str:
        if self.day and self.month:
            return f"{self.day}. {MONTH_NAMES[self.month]} {self.year}"
        if self.month:
            return f"{MONTH_NAMES[self.month]} {self.year}"
        return str(self.year)


def named_dates(question: str) -> list[DateRef]:
    """Meeting dates the question names (ISO, 1.10.2025, 1. oktober 2025, oktober 2025, mødet i 2019)."""
    out: list[DateRef] = []
    for m in _ISO.finditer(question):
        out.append(_checked(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _NUMERIC.finditer(question):
        out.append(_checked(int(m.group(3)), int(m.group(2)), int(m.group(1))))
    for m in _WORDS.finditer(question):
        out.append(DateRef(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)) if m.group(1) else None))
    for m in _EN_DAY_FIRST.finditer(question):
        if m.group(2).lower() in MONTHS and not m.group(1):
            continue  # "september 2025" is read above; the same word in English is the same date
        out.append(DateRef(int(m.group(3)), EN_MONTHS[m.group(2).lower()], int(m.group(1)) if m.group(1) else None))
    for m in _EN_MONTH_FIRST.finditer(question):
        out.append(DateRef(int(m.group(3)), EN_MONTHS[m.group(1).lower()], int(m.group(2))))
    for m in _MEETING_YEAR.finditer(question):
        out.append(DateRef(int(m.group(1))))
    return list(dict.fromkeys(d for d in out if d.year))


def _checked(year: int, month: int, day: int) -> DateRef:
    try:
        date(year, month, day)
    except ValueError:
        return DateRef(0)
    return DateRef(year, month, day)


def time_focus(question: str, meetings: Iterable[tuple[str, date | None]] = ()) -> list[DateRef]:
    """The meeting dates and years the question asks about: the named dates, a year in a phrase of time, and
    for "the latest meeting" the newest meeting of each council among ``meetings`` (council, date)."""
    out = named_dates(question)
    out += [DateRef(int(m.group(1))) for m in _TIME_YEAR.finditer(question)]
    if _LATEST.search(question):
        newest: dict[str, date] = {}
        for council, d in meetings:
            if d is not None and (council not in newest or d > newest[council]):
                newest[council] = d
        out += [DateRef(d.year, d.month, d.day) for d in newest.values()]
    return list(dict.fromkeys(out))
