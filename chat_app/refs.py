"""References a question makes to meetings, dates and councils: pure functions.

A question about "mødet 3. juni 2023" or "Økonomiudvalget" can only be answered if the index holds
that meeting or council; otherwise the honest answer is that the minutes are not there, however
similar some other item reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

MONTHS = {
    "januar": 1, "februar": 2, "marts": 3, "april": 4, "maj": 5, "juni": 6, "juli": 7, "august": 8,
    "september": 9, "oktober": 10, "november": 11, "december": 12,
}
MONTH_NAMES = {v: k for k, v in MONTHS.items()}
_MONTH = "|".join(MONTHS)
_ISO = re.compile(r"\b(20\d\d|19\d\d)-(\d\d)-(\d\d)\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](20\d\d|19\d\d)\b")
_WORDS = re.compile(rf"\b(?:(\d{{1,2}})\.?\s+)?({_MONTH})\s+(20\d\d|19\d\d)\b", re.I)
# A bare year counts only when it says which meeting: "mødet i 2019", "møderne fra 2021".
_MEETING_YEAR = re.compile(r"\bmøde\w*\s+(?:i|fra|den|afholdt\s+i)\s+(?:året\s+)?(20\d\d|19\d\d)\b", re.I)
# Council names: one word ending in -udvalg/-råd (Økonomiudvalget, Ældrerådet, Byrådet) or
# "Teknisk Udvalg"-style two words; the bare "rådet"/"udvalget" means whichever council is asked.
_COUNCIL_WORD = re.compile(
    r"\b((?:[A-ZÆØÅ]\w*-\s+og\s+)?[A-ZÆØÅa-zæøå][\w-]*?(?:udvalg|råd|bestyrelse|styrelse|repræsentation))(?:et|en|ets|ens|s)?\b")
_COUNCIL_TWO = re.compile(r"\b([A-ZÆØÅ]\w+)\s+(Udvalg|Råd)(?:et|ets)?\b")
_GENERIC = {"råd", "udvalg", "rådgiv", "bestyrelse", "styrelse", "fagudvalg", "udvalg", "underudvalg"}
# Words that end in "råd" without naming a council: "område" (it-området, ældreområdet: common in
# questions, and read as a council they refused the question), "forråd", and the verbs fraråde/tilråde.
_NOT_COUNCIL = ("områd", "forråd", "fraråd", "tilråd")


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
    for m in _MEETING_YEAR.finditer(question):
        out.append(DateRef(int(m.group(1))))
    return [d for d in out if d.year]


def _checked(year: int, month: int, day: int) -> DateRef:
    try:
        date(year, month, day)
    except ValueError:
        return DateRef(0)
    return DateRef(year, month, day)


def missing_date(question: str, meeting_dates: Iterable[date | None]) -> DateRef | None:
    """A date the question names that no meeting in the index has (undated meetings never match)."""
    dates = [d for d in meeting_dates if d is not None]
    for ref in named_dates(question):
        if not any(ref.matches(d) for d in dates):
            return ref
    return None


def _norm(name: str) -> str:
    n = name.lower().replace("-", "").replace(" ", "")
    for suffix in ("ets", "ens", "et", "en", "s"):
        if n.endswith(suffix) and n[: -len(suffix)].endswith(("udvalg", "råd", "bestyrelse", "styrelse", "repræsentation")):
            return n[: -len(suffix)]
    return n


def named_councils(question: str) -> list[str]:
    """Council names in the question, as written (not the bare "rådet"/"udvalget")."""
    found: list[str] = []
    for m in _COUNCIL_TWO.finditer(question):
        if m.group(1).lower() not in ("det", "dette", "hvilket", "hvilke", "samme", "hvad"):
            found.append(f"{m.group(1)} {m.group(2)}")
    for m in _COUNCIL_WORD.finditer(question):
        word = m.group(1)
        if word.lower().endswith(_NOT_COUNCIL):
            continue
        if _norm(word) not in _GENERIC and not any(word in f for f in found):
            found.append(word)
    return found


def missing_council(question: str, councils: Iterable[str],
                    mentioned: Callable[[str], bool] = lambda name: False) -> str | None:
    """A council the question names that is neither a council of the index nor mentioned in it."""
    known = {_norm(c) for c in councils}
    for name in named_councils(question):
        n = _norm(name)
        if any(n == k or n in k or k.endswith(n) for k in known) or mentioned(name):
            continue
        return name
    return None
