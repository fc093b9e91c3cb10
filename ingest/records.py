"""Records that cross stage boundaries: file -> RawDocument -> Meeting(AgendaItem...) -> Chunk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

DocFormat = Literal["pdf", "docx", "txt", "html"]


@dataclass(frozen=True)
class RawDocument:
    """The text of one file, as read, before any parsing."""

    source: Path
    format: DocFormat
    text: str
    sha256: str


@dataclass(frozen=True)
class Part:
    """A named part of an agenda item (Indstilling, Drøftelse, Beslutning, Resume ...)."""

    heading: str
    text: str


@dataclass(frozen=True)
class AgendaItem:
    """One agenda item: the unit that is cited."""

    section: str  # as printed, e.g. "2.2" or "7"
    title: str
    case_number: str | None
    responsible: tuple[str, ...]
    parts: tuple[Part, ...]
    text: str  # full text of the item body (parts included), cleaned
    closed: bool = False


@dataclass(frozen=True)
class RosterLine:
    """One line of a meeting's list of participants, as written: "Bo Fristed, Chief Innovation Officer, …"."""

    group: str  # the heading it stands under: "It-Arkitekturrådets medlemmer", "Sekretariat", "Afbud"
    text: str
    absent: bool = False  # under "Afbud", "Fraværende" …

    @property
    def name(self) -> str:
        """The person: the text before the first comma or parenthesis."""
        return self.text.split(",")[0].split("(")[0].strip()


@dataclass(frozen=True)
class Meeting:
    """One meeting's minutes, parsed."""

    council: str
    meeting_date: date | None
    title: str
    source: str  # the file the minutes came from
    content_hash: str  # sha256 of the file's bytes
    items: tuple[AgendaItem, ...]
    participants: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    roster: tuple[RosterLine, ...] = ()  # the participants list line by line, for questions about attendance


@dataclass(frozen=True)
class Chunk:
    """A passage of one agenda item, carrying the item's citation fields."""

    id: str  # hash of source, content hash, section and passage text
    text: str
    council: str
    meeting_date: date | None
    section: str
    title: str
    case_number: str | None
    source: str
    content_hash: str  # of the meeting's file; ties the chunk to one ingest
    passage: int  # index of this passage within its item
    passages: int  # how many passages the item has
    agenda: bool = False  # the document is the meeting's agenda (before the meeting), not its minutes
