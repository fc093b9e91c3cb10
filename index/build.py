"""Files in, index updated: read → parse → chunk → embed → write, one meeting committed at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Literal

from index.store import Index, MeetingEntry
from ingest.chunk import chunk_meeting
from ingest.parse import NotMinutes, parse_meeting
from ingest.read import MAX_FILE_BYTES, ReadError, read_document
from ingest.records import Chunk, Meeting

Status = Literal["ny", "uændret", "opdateret", "fejl"]


@dataclass(frozen=True)
class FileResult:
    """What happened to one file."""

    path: Path
    status: Status
    message: str = ""
    items: int = 0
    chunks: int = 0


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders walked recursively (supported extensions, no hidden files)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                f for f in sorted(p.rglob("*"))
                # Unknown types are listed too, so the user hears why a file was not read.
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts)
            )
        else:
            out.append(p)
    return out


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ingest_file(
    index: Index,
    path: Path,
    council: str | None = None,
    meeting_date: date | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> FileResult:
    """Bring one file into the index; an unchanged file costs a hash and nothing else."""
    source = str(path.resolve())
    try:
        if not path.exists():
            raise ReadError("filen findes ikke")
        if path.stat().st_size > max_bytes:
            raise ReadError(f"filen er for stor ({path.stat().st_size / 1024 / 1024:.0f} MB; grænsen er "
                            f"{max_bytes / 1024 / 1024:.0f} MB)")
        committed = index.manifest.committed()
        if committed.get(source) == file_sha256(path):
            entry = next(m for m in index.manifest.meetings if m.source == source)
            return FileResult(path, "uændret", items=entry.items, chunks=entry.chunks)
        doc = read_document(path, max_bytes=max_bytes)
        doc = replace(doc, source=Path(source))
        meeting = parse_meeting(doc, council=council, meeting_date=meeting_date)
    except (ReadError, NotMinutes) as exc:
        return FileResult(path, "fejl", str(exc))
    except (OSError, UnicodeError, ValueError, RecursionError) as exc:
        return FileResult(path, "fejl", f"kan ikke læses ({type(exc).__name__}: {exc})")
    old_hash = committed.get(source)
    items, n_chunks = add_meeting(index, meeting)
    return FileResult(path, "opdateret" if old_hash else "ny", items=items, chunks=n_chunks)


def add_meeting(index: Index, meeting: Meeting) -> tuple[int, int]:
    """Chunk, embed and write one meeting, replacing an earlier version of the same source."""
    source = meeting.source
    old_hash = index.manifest.committed().get(source)
    chunks = chunk_meeting(meeting, index.chunking)
    assert index.embedder is not None
    vectors = index.embedder.embed([embedding_text(c.title, c.text) for c in chunks], "passage")
    # 1. announce, 2. write, 3. commit, 4. clean up: a kill at any point leaves either the old
    #    or the new meeting visible, and the next writer's recover() finishes the job.
    index.commit(replace(index.manifest, pending=index.manifest.pending + ((source, meeting.content_hash),)))
    first_chunk: dict[str, Chunk] = {}
    for c in chunks:
        first_chunk.setdefault(c.section, c)
    index.store.add(chunks, vectors, [(it, first_chunk[it.section]) for it in meeting.items if it.section in first_chunk])
    entry = MeetingEntry(
        source=source,
        content_hash=meeting.content_hash,
        council=meeting.council,
        meeting_date=meeting.meeting_date.isoformat() if meeting.meeting_date else None,
        title=meeting.title,
        items=len(meeting.items),
        chunks=len(chunks),
        participants=meeting.participants,
        absent=meeting.absent,
    )
    meetings = tuple(m for m in index.manifest.meetings if m.source != source) + (entry,)
    pending = tuple(p for p in index.manifest.pending if p != (source, meeting.content_hash))
    index.commit(replace(index.manifest, meetings=meetings, pending=pending, generation=index.manifest.generation + 1))
    if old_hash and old_hash != meeting.content_hash:
        index.store.delete_source(source, keep_hash=meeting.content_hash)
    return len(meeting.items), len(chunks)


def embedding_text(title: str, text: str) -> str:
    """What the embedder sees for a passage: the item title anchors every passage of the item."""
    return f"{title}\n{text}"


def ingest_paths(
    index: Index,
    paths: Iterable[Path],
    council: str | None = None,
    meeting_date: date | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Ingest every file; a bad file is reported and the rest still go in."""
    results = []
    for path in expand_paths(paths):
        result = ingest_file(index, path, council=council, meeting_date=meeting_date)
        results.append(result)
        if on_file:
            on_file(result)
    return results
