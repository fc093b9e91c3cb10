"""A question about a meeting as a whole: every item of that meeting, in agenda order, with its decision.

"Hvad blev der besluttet på mødet den 10. marts 2026?" names a meeting and nothing else; ranking passages
by similarity to it finds "Næste møde afholdes 10. marts 2026." in the meeting before. The memo writer
wants that meeting's agenda with each item's decision, cited. Pure functions; answer.py wires them to
the index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from datetime import date

from chat_app.positions import Sentence, item_sentences, substantive
from chat_app.refs import council_word
from index.lexical import tokenize
from index.when import EN_MONTHS, MONTHS, time_focus

# Words that ask about a meeting rather than a topic.
MEETING_WORDS = (
    "mødet møde møder mødets dagsorden dagsordenen dagsordenens punkter punkt sager sagerne behandlet behandlede "
    "besluttet besluttede beslutninger beslutningerne afgjort vedtaget vedtog drøftet drøftede "
    "sket skete stod står handlede overblik oversigt resultat resultatet konklusioner konkluderede "
    "seneste sidste nyeste senest afholdte afholdt første "
    "traf tog fik lavede gjorde foregik kom "
    "meeting agenda decided decisions discussed happened latest last items overview"
)
# At most this many meetings in one overview: "the latest meeting" is one per council.
MAX_MEETINGS = 2
_TALK_PARTS = ("", "drøftelse", "behandling", "referat")


@dataclass(frozen=True)
class MeetingRef:
    """An indexed meeting the question asks about."""

    council: str
    meeting_date: date | None
    source: str


def asked_meetings(question: str, meetings: Iterable[tuple[str, date | None, str]],
                   council: str | None = None) -> list[MeetingRef]:
    """The indexed meetings (council, date, source) whose date the question names, or the newest of each
    council for "the latest meeting"; narrowed to councils whose name holds "råd" or "udvalg" when the
    question says only one of them. Empty when more than ``MAX_MEETINGS`` match (a year is no meeting).
    Naming no date but a ``council`` the index holds one meeting of ("Opsummer mødet i Teknisk Udvalg") asks
    about that meeting, dated or not."""
    meetings = list(meetings)
    known = [(c, d, s) for c, d, s in meetings if d is not None]
    focus = time_focus(question, [(c, d) for c, d, _ in known])
    hits = [MeetingRef(c, d, s) for c, d, s in known if any(ref.matches(d) for ref in focus)]
    if not focus and council is not None:
        theirs = [MeetingRef(c, d, s) for c, d, s in meetings if c == council]
        hits = theirs if len(theirs) == 1 else []
    if word := council_word(question):
        hits = [m for m in hits if word in m.council.lower()] or hits
    return sorted(hits, key=lambda m: (m.meeting_date or date.min, m.council)) if 0 < len(hits) <= MAX_MEETINGS else []


@lru_cache(maxsize=1)
def _meeting_terms() -> frozenset[str]:
    return frozenset(tokenize(MEETING_WORDS)) | frozenset(tokenize(" ".join([*MONTHS, *EN_MONTHS])))


def about_meeting_only(question: str, drop: frozenset[str], councils: Iterable[str]) -> bool:
    """Whether the question names nothing but a meeting: every word is a question word (``drop``, tokenised),
    a meeting word, a date, or part of a council's name."""
    ignore = set(drop) | _meeting_terms()
    for council in councils:
        ignore |= set(tokenize(council))
    return not [t for t in tokenize(question) if t not in ignore and not t.isdigit()]


def overview_sentences(text: str, agenda: bool = False) -> list[Sentence]:
    """What an overview quotes for an item: its first decision sentence, however short ("Godkendt."), after
    the proposal's first sentence when it is that short, so the reader sees what was approved; else the
    council's first statement, else the first sentence of the discussion, else of any part. An agenda's item
    is its proposal's first sentence."""
    sents = item_sentences(text, agenda)
    quotable = [s for s in sents if substantive(s)]
    decision = next((s for s in sents if s.role == "decision" and len(s.text.strip()) > 3), None)
    if decision is not None:
        proposal = next((s for s in quotable if s.role == "proposal"), None)
        short = not substantive(decision)
        return [proposal, decision] if short and proposal is not None else [decision]
    if agenda:  # before the meeting, what the council is asked to decide says most
        return [s for s in quotable if s.role == "proposal"][:1] or quotable[:1]
    for role in ("council", "discussion"):
        first = next((s for s in quotable if s.role == role and s.part.lower() in _TALK_PARTS), None)
        if first is not None:
            return [first]
    return quotable[:1]


def section_key(section: str) -> tuple[int, ...]:
    """Agenda order: "2.10" after "2.9", "4" after "3.1"; a section that is no number goes last."""
    parts = re.findall(r"\d+", section)
    return tuple(int(p) for p in parts) if parts else (10**6,)
