"""Dates a question names, and the time it asks about: pure functions.

Both the search (an item from the named meeting or year ranks first) and the refusal (a named meeting
that the index does not hold) read a question's dates from here.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

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
_TIME_YEAR = re.compile(r"\b(?:i\s+løbet\s+af|hen\s+over|gennem|i|in|during|under|throughout)\s+"
                        r"(?:(?:året|foråret|efteråret|sommeren|vinteren|the\s+year)\s+)?"
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
    """Meeting dates the question names (ISO, 1.10.2025, 1. oktober 2025, oktober 2025, mødet i 2019); a date
    that bounds a period ("siden marts 2025", "før 2025") names no meeting."""
    return named_dates_raw(without_spans(question))


def named_dates_raw(question: str) -> list[DateRef]:
    """Every date the question writes, period bounds included."""
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


def time_focus(question: str, meetings: Iterable[tuple[str, date | None]] = (),
               today: date | None = None) -> list[DateRef]:
    """The meeting dates and years the question asks about: the named dates, a year in a phrase of time,
    "i år" and "sidste år" (of ``today``), and for "the latest meeting" the newest meeting of each council
    among ``meetings`` (council, date)."""
    out = named_dates(question)
    bare = without_spans(question)
    out += [DateRef(int(m.group(1))) for m in _TIME_YEAR.finditer(bare)]
    year = (today or date.today()).year
    out += [DateRef(year) for _ in _THIS_YEAR.finditer(bare)]
    out += [DateRef(year - 1) for _ in _LAST_YEAR.finditer(bare)]
    if _LATEST.search(question):
        newest: dict[str, date] = {}
        for council, d in meetings:
            if d is not None and (council not in newest or d > newest[council]):
                newest[council] = d
        out += [DateRef(d.year, d.month, d.day) for d in newest.values()]
    return list(dict.fromkeys(out))


# Periods a question asks about: "siden 2025", "før september 2025", "fra 2024 til 2025", "efter mødet i marts
# 2025", "de seneste to år", "since 2026". A period filters the search: an item from outside it is no answer.
_DAY_MONTH = "|".join(list(MONTHS) + list(EN_MONTHS))
_SEASON = r"(?:(?:foråret|efteråret|sommeren|vinteren|spring|autumn|fall|summer|winter)\s+(?:of\s+)?)?"
_DATE = (rf"{_SEASON}(?:(?:\d{{1,2}}\.?\s+)?(?:{_DAY_MONTH})\s+(?:\d{{1,2}}(?:st|nd|rd|th)?,?\s+)?(?:20|19)\d\d"
         rf"|(?:20|19)\d\d-\d\d-\d\d|\d{{1,2}}[./-]\d{{1,2}}[./-](?:20|19)\d\d|(?:20|19)\d\d)(?!\d|[-–/][^\W\d_])")
_MEETING = r"(?:(?:rådets\s+|udvalgets\s+)?møde[t]?\s+(?:den\s+|i\s+|d\.\s+)?|the\s+meeting\s+(?:on|in)\s+)?"
_BETWEEN = re.compile(rf"\b(?:(?:mellem|between)\s+{_MEETING}({_DATE})\s*(?:og|and)\s*{_MEETING}({_DATE})|"
                      rf"(?:fra|i\s+perioden(?:\s+fra)?|i\s+årene|from|in\s+the\s+period(?:\s+from)?)\s+"
                      rf"{_MEETING}({_DATE})\s*(?:til|to|–|-)\s*{_MEETING}({_DATE}))", re.I)
_SINCE = re.compile(rf"\b(?:siden|since)\s+{_MEETING}({_DATE})", re.I)
_FROM_ON = re.compile(rf"\b(?:fra\s+og\s+med\s+{_MEETING}({_DATE})|(?:fra|from)\s+{_MEETING}({_DATE})\s+"
                      rf"(?:og\s+(?:frem(?:efter|ad)?|senere)|til\s+(?:nu|i\s+dag)|onwards?|and\s+later))", re.I)
_AFTER = re.compile(rf"\b(?:efter|senere\s+end|after|later\s+than)\s+{_MEETING}({_DATE})", re.I)
_BEFORE = re.compile(rf"\b(?:før|inden|tidligere\s+end|before|earlier\s+than|prior\s+to)\s+{_MEETING}({_DATE})", re.I)
_UNTIL = re.compile(rf"\b(?:indtil|til\s+og\s+med|frem\s+til|until|up\s+to|through)\s+{_MEETING}({_DATE})", re.I)
_NUMBERS = {"to": 2, "tre": 3, "fire": 4, "fem": 5, "seks": 6, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "et": 1, "én": 1, "en": 1, "one": 1}
_LAST_N = re.compile(r"\b(?:(?:de|i\s+de)\s+(?:seneste|sidste|forløbne)\s+(\d+|to|tre|fire|fem|seks)\s+(år|måneder)|"
                     r"(?:det|i\s+det)\s+(?:seneste|sidste|forløbne)\s+(år|halve\s+år)|"
                     r"(?:the|in\s+the|over\s+the)\s+(?:past|last)\s+(?:(\d+|two|three|four|five|six)\s+)?(years?|months?))\b",
                     re.I)
# "i år" / "this year" and "sidste år" / "i fjor" / "last year": a year of focus, like "i 2025".
_THIS_YEAR = re.compile(r"\b(?:i\s+år|this\s+year)\b(?!s)", re.I)
_LAST_YEAR = re.compile(r"(?<!\bdet )(?<!\bde )\b(?:sidste\s+år|forrige\s+år|i\s+fjor|last\s+year)\b", re.I)


@dataclass(frozen=True)
class Span:
    """A period of meeting days the question asks about: first and last day, None for an open end."""

    since: date | None = None
    until: date | None = None

    def contains(self, d: date | None) -> bool:
        return d is not None and (self.since is None or d >= self.since) and (self.until is None or d <= self.until)

    def label(self) -> str:
        """Danish, for a refusal: "fra 1. januar 2027 og frem", "til og med 31. december 2023"."""
        if self.since and self.until:
            return f"fra {_day_label(self.since)} til {_day_label(self.until)}"
        if self.since:
            return f"fra {_day_label(self.since)} og frem"
        assert self.until is not None
        return f"til og med {_day_label(self.until)}"


def _day_label(d: date) -> str:
    return f"{d.day}. {MONTH_NAMES[d.month]} {d.year}"


# A season's months, the month before it included: council talk is loose ("forårsmødet" is held in February).
_SEASONS = {"foråret": (2, 5), "spring": (2, 5), "sommeren": (5, 8), "summer": (5, 8), "efteråret": (8, 11),
            "autumn": (8, 11), "fall": (8, 11), "vinteren": (11, 14), "winter": (11, 14)}


def _bounds(text: str) -> tuple[date, date] | None:
    """The first and last day of a date as the question writes it: a day, a month, a season or a year."""
    season = re.match(r"(foråret|efteråret|sommeren|vinteren|spring|autumn|fall|summer|winter)\s+(?:of\s+)?"
                      r"((?:20|19)\d\d)$", text.strip(), re.I)
    if season:
        first, last = _SEASONS[season.group(1).lower()]
        year = int(season.group(2))
        end_year, end_month = year + (last - 1) // 12, (last - 1) % 12 + 1
        return date(year, first, 1), date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    refs = named_dates_raw(text)
    if refs:
        ref = refs[0]
    elif m := re.fullmatch(r"(20\d\d|19\d\d)", text.strip()):
        ref = DateRef(int(m.group(1)))
    else:
        return None
    if not ref.year:
        return None
    if ref.day and ref.month:
        d = date(ref.year, ref.month, ref.day)
        return d, d
    if ref.month:
        return date(ref.year, ref.month, 1), date(ref.year, ref.month, calendar.monthrange(ref.year, ref.month)[1])
    return date(ref.year, 1, 1), date(ref.year, 12, 31)


def _minus(today: date, n: int, unit: str) -> date:
    months = n * 12 if unit.startswith(("år", "year")) else (6 if unit.startswith("halve") else n)
    y, m = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(y, m + 1, min(today.day, calendar.monthrange(y, m + 1)[1]))


def time_span(question: str, today: date | None = None) -> Span | None:
    """The period the question asks about, or None. Several periods narrow each other. A period that starts
    after ``today`` ("hvad skal ske efter 2027?"), or ends in a later year ("før 2027", "fra 2026 til 2030"),
    is talk of plans and deadlines, not of meetings; "siden 2027" still asks about meetings (none yet)."""
    today = today or date.today()
    spans: list[Span] = []
    for m in _BETWEEN.finditer(question):
        a, b = _bounds(m.group(1) or m.group(3)), _bounds(m.group(2) or m.group(4))
        if a and b and a[0] <= b[1] and b[1].year <= today.year:
            spans.append(Span(a[0], b[1]))
    rest = _BETWEEN.sub(" ", question)
    for m in _SINCE.finditer(rest):
        if b := _bounds(m.group(1)):
            spans.append(Span(since=b[0]))
    for m in _FROM_ON.finditer(rest):
        if (b := _bounds(m.group(1) or m.group(2))) and b[0] <= today:
            spans.append(Span(since=b[0]))
    for m in _AFTER.finditer(rest):
        if (b := _bounds(m.group(1))) and b[1] < today:
            spans.append(Span(since=b[1] + timedelta(days=1)))
    for m in _BEFORE.finditer(rest):
        if (b := _bounds(m.group(1))) and b[0].year <= today.year:
            spans.append(Span(until=b[0] - timedelta(days=1)))
    for m in _UNTIL.finditer(rest):
        if (b := _bounds(m.group(1))) and b[1].year <= today.year:
            spans.append(Span(until=b[1]))
    for m in _LAST_N.finditer(rest):
        if m.group(1):
            n, unit = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1).lower()], m.group(2).lower()
        elif m.group(3):
            n, unit = 1, m.group(3).lower()
        else:
            raw = m.group(4)
            n, unit = (1 if raw is None else int(raw) if raw.isdigit() else _NUMBERS[raw.lower()]), m.group(5).lower()
        spans.append(Span(since=_minus(today, n, unit)))
    if not spans:
        return None
    sinces = [s.since for s in spans if s.since]
    untils = [s.until for s in spans if s.until]
    return Span(max(sinces) if sinces else None, min(untils) if untils else None)


def without_spans(question: str) -> str:
    """The question with its period phrases blanked out: their dates bound a period and name no meeting."""
    for pattern in (_BETWEEN, _SINCE, _FROM_ON, _AFTER, _BEFORE, _UNTIL, _LAST_N):
        question = pattern.sub(" ", question)
    return question
