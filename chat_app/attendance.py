"""A question about who attended: the meeting's list of participants, line by line as written, cited.

"Hvem deltog i mødet den 25. februar 2025?" is answered by no agenda item: the names stand in the
minutes' preamble ("Deltagere", "Sekretariat", "Afbud"), which ingest keeps line by line with its
headings (ingest/parse.py find_roster). Ranking items by similarity to the question quoted whoever
"bød velkommen". Pure functions; answer.py wires them to the index.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from chat_app.refs import council_word
from index.when import DateRef
from ingest.records import RosterLine

Asked = Literal["all", "absent", "chair", "secretary", "members", "who"]

# Always about attendance: apologies, the list itself, the chair, the minute-taker, the members.
_STRONG = re.compile(
    r"\bafbud\b|\bdeltagerliste\w*|\bdeltagerfortegnelse\w*|\bmødedeltager\w*|\bfremmøde\w*|\bmødeleder\w*|"
    r"\breferent\w*|\bledede\s+mødet\b|"
    r"\b(?:medlemmer|medlem|sammensætning\w*)\s+(?:af|i)\s+(?:rådet|udvalget|it-arkitekturrådet)\b|"
    r"\b(?:rådets|udvalgets)\s+(?:medlemmer|sammensætning)\b|\bhvem\s+(?:sidder|sad)\s+i\s+(?:rådet|udvalget)\b|"
    r"\bwho\s+(?:attended|chaired)\b|\b(?:attendance|attendees|apologies)\b|\bmembers\s+of\s+the\s+(?:council|committee)\b",
    re.I,
)
# About attendance when the question is about a meeting or names someone on a list: "Hvem deltog i mødet?",
# "Var Bo Fristed til stede?", not "Hvilke kommuner deltog i piloten?" or "… data til stede i systemet".
_WEAK = re.compile(r"\bdeltog\b|\bdeltage\w*|\bvar\s+(?:[\w-]+\s+){0,4}med\s+(?:på|i|til|ved)\b|\btil\s+stede\b|"
                   r"\bfravær\w*|\bforhindret\b|\bparticipat\w*|\battend\w*|\babsent\b|\bpresent\b", re.I)
# "Hvem er Bo Fristed?": who someone on a list is, as the list gives it (title and organisation). Only the name
# follows, capitalised; "Hvem er Bo Fristed, og hvad sagde han om GovTech?" asks about what was said, a search.
_WHO_IS = re.compile(r"\W*(?i:hvem\s+(?:er|var)|who\s+(?:is|was))\s+[A-ZÆØÅ][\w.'-]*(?:\s+[A-ZÆØÅ][\w.'-]*){0,4}\W*")
_ABOUT_MEETING = re.compile(r"\bmøde\w*|\bmeeting\w*", re.I)
_BARE = re.compile(r"\W*(?:hvem\s+deltog|hvem\s+var\s+til\s+stede|who\s+attended)\W*", re.I)
_ABSENT = re.compile(r"\bafbud\b|\bfravær\w*|\bforhindret\b|\babsent\b|\bapologies\b", re.I)
_CHAIR = re.compile(r"\bmødeleder\w*|\bledede\s+mødet\b|\bformand\w*|\bchaired\b|\bchair\b", re.I)
_SECRETARY = re.compile(r"\breferent\w*|\bminute[- ]?taker\b", re.I)
_MEMBERS = re.compile(r"\bmedlem\w*|\bmembers?\b|\bsammensætning\w*|\bsidder\s+i\b|\bsad\s+i\b", re.I)
_PARTS: tuple[tuple[Asked, re.Pattern[str]], ...] = (
    ("absent", _ABSENT), ("chair", _CHAIR), ("secretary", _SECRETARY), ("members", _MEMBERS))


def asks_attendance(question: str, names_someone: bool = False) -> bool:
    """Whether the question asks who attended, who sent apologies, who chaired, who the members are;
    ``names_someone``: it names a person on one of the index's participants lists."""
    if _STRONG.search(question) or (names_someone and _WHO_IS.fullmatch(question)):
        return True
    return bool(_WEAK.search(question)) and bool(names_someone or _ABOUT_MEETING.search(question)
                                                  or _BARE.fullmatch(question))


def asked_part(question: str) -> Asked:
    """Which lines the question asks for: the apologies, the chair, the minute-taker, the members, who someone is,
    or all."""
    if _WHO_IS.fullmatch(question):
        return "who"
    return next((part for part, pattern in _PARTS if pattern.search(question)), "all")


@dataclass(frozen=True)
class RosterMeeting:
    """A meeting and its participants list, as the index holds them."""

    council: str
    meeting_date: date | None
    source: str
    roster: tuple[RosterLine, ...]
    names_only: bool = False  # an index from before the lists were kept line by line: the names alone


def person_words(names: Sequence[str], rosters: Sequence[RosterMeeting]) -> list[str]:
    """The question's name words ("Pia", "Færch") that name someone on a participants list."""
    known = {w.lower() for m in rosters for r in m.roster for w in re.findall(r"[^\W_]+", r.name)}
    return [n for n in names if n.lower() in known]


def _is_person(line: RosterLine, words: Sequence[str]) -> bool:
    mine = {w.lower() for w in re.findall(r"[^\W_]+", line.name)}
    return bool(words) and all(w.lower() in mine for w in words)


def shown_lines(roster: Sequence[RosterLine], asked: Asked, person: Sequence[str] = ()) -> list[RosterLine]:
    """The lines the answer quotes: the person's, the apologies, the chair's, the minute-taker's, the
    members' (under a heading that says members), or all (every line where none is marked)."""
    if person:
        return [r for r in roster if _is_person(r, person)]
    if asked == "absent":
        return [r for r in roster if r.absent]
    if asked == "members":
        members = [r for r in roster if not r.absent and re.search(r"medlem|members", r.group, re.I)]
        return members or [r for r in roster if not r.absent]
    if asked in ("chair", "secretary"):
        mark = _CHAIR if asked == "chair" else _SECRETARY
        marked = [r for r in roster if mark.search(r.text) and not r.absent]
        return marked or list(roster)
    return list(roster)


def chosen_meetings(question: str, rosters: Sequence[RosterMeeting], focus: Sequence[DateRef],
                    person: Sequence[str], period: bool) -> tuple[list[RosterMeeting], bool]:
    """The meetings the question asks about, newest first: those of the dates it names, those whose list names
    the person, every meeting of a period (or of an index of one), else each council's newest ("rådet" or
    "udvalget" picks the kind). The flag: the question named no meeting, so the newest were taken."""
    newest_only = False
    if focus:
        chosen = [r for r in rosters if r.meeting_date and any(f.matches(r.meeting_date) for f in focus)]
    elif person:
        chosen = [r for r in rosters if any(_is_person(line, person) for line in r.roster)]
    elif len(rosters) <= 1 or period:
        chosen = list(rosters)
    else:
        newest: dict[str, RosterMeeting] = {}  # a council whose minutes have no date: its first
        for r in rosters:
            old = newest.get(r.council)
            if old is None or (r.meeting_date and (old.meeting_date is None or r.meeting_date > old.meeting_date)):
                newest[r.council] = r
        chosen, newest_only = list(newest.values()), True
    if word := council_word(question):
        chosen = [r for r in chosen if word in r.council.lower()] or chosen
    return sorted(chosen, key=lambda r: r.meeting_date or date.min, reverse=True), newest_only
