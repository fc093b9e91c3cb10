"""Cut a Meeting into Chunks: one per agenda item, long items split into passages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ingest.parse import _PART_RE, is_agenda
from ingest.records import Chunk, Meeting


@dataclass(frozen=True)
class ChunkSettings:
    """How items are split; recorded in the index manifest."""

    size: int = 1200  # characters; ~300 tokens of Danish, well inside e5's 512
    overlap: int = 150


def chunk_meeting(meeting: Meeting, settings: ChunkSettings = ChunkSettings()) -> list[Chunk]:
    """Every agenda item becomes one or more passages carrying the item's citation fields."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=settings.size,
        chunk_overlap=settings.overlap,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
        keep_separator="end",
    )
    chunks: list[Chunk] = []
    agenda = is_agenda(meeting)
    for item in meeting.items:
        passages = [p.strip() for p in splitter.split_text(item.text)] if len(item.text) > settings.size else [item.text]
        # A passage that is only a part heading ("Drøftelse") carries nothing to cite.
        passages = [p for p in passages if p and not _PART_RE.match(p)] or [item.title]
        for n, passage in enumerate(passages):
            chunks.append(
                Chunk(
                    id=chunk_id(meeting.source, meeting.content_hash, item.section, n, passage),
                    text=passage,
                    council=meeting.council,
                    meeting_date=meeting.meeting_date,
                    section=item.section,
                    title=item.title,
                    case_number=item.case_number,
                    source=meeting.source,
                    content_hash=meeting.content_hash,
                    passage=n,
                    passages=len(passages),
                    agenda=agenda,
                )
            )
    return chunks


def chunk_id(source: str, content_hash: str, section: str, n: int, text: str) -> str:
    """Stable id from content: the same file, item and passage always give the same id."""
    h = hashlib.sha256("\x1f".join([source, content_hash, section, str(n), text]).encode()).hexdigest()
    return h[:32]
