"""Records that cross stage boundaries: file -> RawDocument -> Meeting(AgendaItem...) -> Chunk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

DocFormat = Literal["pdf", "docx", "txt", "html"]

# How a file becomes a meeting's items, passages and sentences (ingest/: read, parse, chunk, sentences).
# Bump it when a change there changes what a file gives: a meeting's content hash carries the version it
# was read with, so the next ingest reads every file of an older one again (tests/test_reading.py fails
# when the demo minutes read differently under an unchanged number).
# 1: every index from before the number (its content hashes are the files' bare sha256).
# 2: a Word file's paragraphs are kept as written (a list's last line ran into the next paragraph).
# 3: in text whose blocks end in two spaces (KL's PDF text), a list line ending a block stands alone.
READING_VERSION = 3


def reading_hash(file_sha256: str) -> str:
    """A meeting's content hash: its file's bytes, as this version of Rådgiver reads them."""
    return f"{file_sha256}+r{READING_VERSION}"


def read_by_this_version(content_hash: str) -> bool:
    """Whether a meeting with this content hash was read by this READING_VERSION."""
    return content_hash.endswith(reading_hash(""))


def read_with_older_version(content_hash: str, file_sha256: str) -> bool:
    """The same file bytes, read by an earlier Rådgiver (bare sha256, or another +r number)."""
    return content_hash != reading_hash(file_sha256) and content_hash.split("+r")[0] == file_sha256


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
    content_hash: str  # reading_hash(): the file's sha256 and the READING_VERSION that read it
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
