"""Files in, index updated: read → parse → chunk → embed → write, one meeting committed at a time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np

from index.store import Index, MeetingEntry
from index.vector import SentenceRow
from ingest.chunk import chunk_meeting
from ingest.parse import NotMinutes, parse_meeting
from ingest.read import MAX_FILE_BYTES, ReadError, read_document
from ingest.records import Chunk, Meeting, read_with_older_version, reading_hash
from ingest.sentences import index_sentences

Status = Literal["ny", "uændret", "opdateret", "fejl"]
# Said of an unchanged file that an earlier Rådgiver read (READING_VERSION): why it was "opdateret".
REREAD = "uændret fil, læst igen, fordi denne version af Rådgiver læser referater bedre"


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


# Passages embedded per call: several small meetings share one encode call, so the model runs
# near its raw rate. sentence-transformers sorts each call by length before batching by 32; in
# calls of only 64 passages the batches mix lengths and pad more (measured: 81 % of raw, against
# ~12 passages per meeting before batching: 72 %). The batch is committed together; each meeting
# is still whole or absent.
EMBED_BATCH_PASSAGES = 256
# With a progress callback, a batch is embedded in calls of this many passages, so a progress bar
# moves within one long file too.
EMBED_PROGRESS_STEP = 64

# Progress: (files finished, fractional while a batch is embedded; a Danish line saying what runs now).
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class PreparedMeeting:
    """A parsed meeting and its passages, waiting for vectors."""

    meeting: Meeting
    chunks: tuple[Chunk, ...]
    path: Path | None = None
    replaces: bool = False
    sentences: tuple[tuple[SentenceRow, str], ...] = ()  # each with the text its vector is made of
    reread: bool = False  # the same file, read again because an earlier Rådgiver read it (READING_VERSION)


def prepare_meeting(index: Index, meeting: Meeting, path: Path | None = None) -> PreparedMeeting:
    """Chunk a meeting with the index's settings, and list the sentences that get vectors."""
    return PreparedMeeting(meeting, tuple(chunk_meeting(meeting, index.chunking)), path,
                           replaces=meeting.source in index.manifest.committed(),
                           sentences=meeting_sentences(meeting))


def meeting_sentences(meeting: Meeting) -> tuple[tuple[SentenceRow, str], ...]:
    """Every item's sentences as embedded ("title: sentence"), numbered per section, so ids stay unique
    even where a parse gave two items one section number."""
    out: list[tuple[SentenceRow, str]] = []
    count: dict[str, int] = {}
    for it in meeting.items:
        for text in index_sentences(it.title, it.text):
            n = count.get(it.section, 0)
            count[it.section] = n + 1
            out.append((SentenceRow.of(meeting.source, meeting.content_hash, it.section, n, text), text))
    return tuple(out)


def prepare_file(
    index: Index,
    path: Path,
    council: str | None = None,
    meeting_date: date | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> PreparedMeeting | FileResult:
    """Read, parse and chunk one file; an unchanged or unreadable file is already its final result."""
    source = str(path.resolve())
    try:
        if not path.exists():
            raise ReadError("filen findes ikke")
        if path.stat().st_size > max_bytes:
            raise ReadError(f"filen er for stor ({path.stat().st_size / 1024 / 1024:.0f} MB; grænsen er "
                            f"{max_bytes / 1024 / 1024:.0f} MB)")
        digest = file_sha256(path)
        entry = next((m for m in index.manifest.meetings if m.source == source), None)
        if _unchanged(entry, digest):
            assert entry is not None
            return unchanged_result(path, entry)
        # The same bytes read by an earlier Rådgiver (or written before sentence vectors: the same reading
        # again, whose passages and items are rewritten as they were, under the same ids): read again, as the
        # same meeting (its council and date as the index has them, perhaps set by `meeting set`), unless this
        # ingest names them.
        reread = entry if entry is not None and (entry.content_hash == reading_hash(digest)
                                                 or read_with_older_version(entry.content_hash, digest)) else None
        doc = read_document(path, max_bytes=max_bytes)
        doc = replace(doc, source=Path(source))
        meeting = parse_meeting(doc, council=council or (reread.council if reread else None), meeting_date=meeting_date)
        if reread is not None and meeting_date is None and reread.meeting_date is not None:
            meeting = replace(meeting, meeting_date=date.fromisoformat(reread.meeting_date))
    except (ReadError, NotMinutes) as exc:
        return FileResult(path, "fejl", str(exc))
    except (OSError, UnicodeError, ValueError, RecursionError) as exc:
        return FileResult(path, "fejl", f"kan ikke læses ({type(exc).__name__}: {exc})")
    return replace(prepare_meeting(index, meeting, path), reread=reread is not None)


def _unchanged(entry: MeetingEntry | None, digest: str) -> bool:
    """Whether ingesting the file with sha256 ``digest`` would change nothing of its committed ``entry``: the
    same bytes, read by this version, with sentence vectors."""
    return entry is not None and entry.sentences is not None and entry.content_hash == reading_hash(digest)


def unchanged_result(path: Path, entry: MeetingEntry) -> FileResult:
    return FileResult(path, "uændret", items=entry.items, chunks=entry.chunks)


def all_unchanged(index: Index, paths: Sequence[Path]) -> list[FileResult] | None:
    """Each file's result when ingesting them would change nothing (each is committed, with the same
    bytes and reading, and has sentence vectors); else None. Needs no embedder: a caller that gets
    results has no model to load."""
    entries = {m.source: m for m in index.manifest.meetings}
    out = []
    for path in paths:
        try:
            entry = entries.get(str(path.resolve()))
            if not _unchanged(entry, file_sha256(path)):
                return None
        except OSError:
            return None  # the ingest says what is wrong with it
        assert entry is not None
        out.append(unchanged_result(path, entry))
    return out


def read_again(index: Index) -> list[FileResult]:
    """Read every meeting an earlier Rådgiver read (READING_VERSION) again from its file, where the file is still
    there: as the same meeting, embedding only new text. Those whose file is gone keep their reading."""
    paths = [Path(m.source) for m in index.manifest.older_readings if Path(m.source).is_file()]
    return list(ingest_files(index, paths)) if paths else []


def vanished(index: Index, folders: Iterable[Path]) -> list[MeetingEntry]:
    """The committed meetings read from a file under one of ``folders`` that is no longer there."""
    roots = [f.resolve() for f in folders if f.is_dir()]
    return [m for m in index.manifest.meetings
            if any(Path(m.source).is_relative_to(root) for root in roots) and not Path(m.source).exists()]


def ingest_files(
    index: Index,
    paths: Iterable[Path],
    council: str | None = None,
    meeting_date: date | None = None,
    batch_passages: int = EMBED_BATCH_PASSAGES,
    max_bytes: int = MAX_FILE_BYTES,
    progress: Progress | None = None,
) -> Iterator[FileResult]:
    """Bring files into the index, yielding one result per file in the order given.

    A bad file is reported and the rest still go in. Passages of consecutive files are embedded
    and committed together (up to ``batch_passages``); each meeting is whole or absent.
    ``progress`` hears which file is read and how far each batch's embedding is.
    """
    paths = list(paths)
    finished = 0  # files written (or failed): what the progress fraction counts

    def read(n: int, path: Path) -> PreparedMeeting | FileResult:
        if progress is not None:
            progress(finished, f"Læser {path.name} (fil {n + 1} af {len(paths)})")
        return prepare_file(index, path, council, meeting_date, max_bytes)

    tasks = ((str(path.resolve()), partial(read, n, path)) for n, path in enumerate(paths))
    for done, written in _write_in_batches(index, tasks, batch_passages, progress):
        finished += 1
        if isinstance(done, FileResult):
            yield done
        else:
            assert done.path is not None and written is not None
            yield FileResult(done.path, "opdateret" if done.replaces else "ny", REREAD if done.reread else "",
                             items=written[0], chunks=written[1])


def ingest_file(
    index: Index,
    path: Path,
    council: str | None = None,
    meeting_date: date | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> FileResult:
    """Bring one file into the index; an unchanged file costs a hash and nothing else."""
    return next(ingest_files(index, [path], council, meeting_date, max_bytes=max_bytes))


def add_meetings(index: Index, meetings: Iterable[Meeting],
                 batch_passages: int = EMBED_BATCH_PASSAGES) -> Iterator[tuple[int, int]]:
    """Chunk, embed and write meetings (items, passages per meeting), batching the embedding calls."""
    tasks = ((m.source, partial(prepare_meeting, index, m)) for m in meetings)
    for _, written in _write_in_batches(index, tasks, batch_passages):
        assert written is not None
        yield written


def add_meeting(index: Index, meeting: Meeting) -> tuple[int, int]:
    """Chunk, embed and write one meeting, replacing an earlier version of the same source."""
    return next(iter(add_meetings(index, [meeting])))


Task = tuple[str, Callable[[], "PreparedMeeting | FileResult"]]


def _write_in_batches(index: Index, tasks: Iterable[Task], batch_passages: int, progress: Progress | None = None
                      ) -> Iterator[tuple[PreparedMeeting | FileResult, tuple[int, int] | None]]:
    """Prepare each (source, prepare) task in turn and write the prepared ones in batches.

    Yields every task's outcome in order, with (items, passages) once written. A source already
    waiting in the batch is written first, so its second copy sees it committed.
    """
    queue: list[PreparedMeeting | FileResult] = []
    finished = 0

    def flush() -> Iterator[tuple[PreparedMeeting | FileResult, tuple[int, int] | None]]:
        nonlocal finished
        prepared = [q for q in queue if isinstance(q, PreparedMeeting)]
        on_embedded = None
        if progress is not None and prepared:
            named = [p.path.name if p.path else p.meeting.title for p in prepared]
            names = ", ".join(named[:3]) + (f" og {len(named) - 3} andre" if len(named) > 3 else "")
            start, size = finished, len(queue)

            def on_embedded(done: int, total: int) -> None:
                # The last tenth of a batch's share is the write; the fraction reaches it when written.
                desc = (f"Indlejrer tekststykke {done} af {total} ({names})" if done < total
                        else f"Gemmer {len(named)} {'møde' if len(named) == 1 else 'møder'} i indekset ({names})")
                progress(start + size * 0.9 * (done / total if total else 1.0), desc)

        written = iter(write_prepared(index, prepared, on_embedded))
        for q in queue:
            yield q, next(written) if isinstance(q, PreparedMeeting) else None
        finished += len(queue)
        queue.clear()

    for source, prepare in tasks:
        if any(isinstance(q, PreparedMeeting) and q.meeting.source == source for q in queue):
            yield from flush()
        queue.append(prepare())
        if sum(len(q.chunks) for q in queue if isinstance(q, PreparedMeeting)) >= batch_passages:
            yield from flush()
    yield from flush()


def write_prepared(index: Index, batch: Sequence[PreparedMeeting],
                   on_embedded: Callable[[int, int], None] | None = None) -> list[tuple[int, int]]:
    """One embedding call for the whole batch, then the batch written and committed together.

    1. announce, 2. write, 3. commit, 4. clean up: a kill at any point leaves each meeting either
    in its old or in its new version, and the next writer's recover() finishes the job. One
    commit per batch, not per meeting: a commit rewrites the manifest, which grows with the index.
    """
    if not batch:
        return []
    assert index.embedder is not None
    old = index.manifest.committed()
    # Passages and sentences in one call: sentence-transformers sorts a call by length, so the short
    # sentences batch together instead of padding to the passages' length.
    passages = [embedding_text(c.title, c.text) for p in batch for c in p.chunks]
    texts = passages + [text for p in batch for _, text in p.sentences]
    keys = passages + [row.digest for p in batch for row, _ in p.sentences]
    # A file the index holds in another version (changed, or read again) keeps the vectors of every text
    # it still has: the index's one model made them (open_index refuses another), so they are what
    # embedding the text again would give.
    stored: dict[str, np.ndarray] = {}
    for p in batch:
        if old.get(p.meeting.source):
            stored.update(index.store.stored_vectors(p.meeting.source, old[p.meeting.source]))
    todo = [i for i, key in enumerate(keys) if key not in stored]
    fresh = _embed(index, [texts[i] for i in todo], on_embedded)
    vectors = np.empty((len(texts), index.embedder.dimension), np.float32)
    for i, key in enumerate(keys):
        if key in stored:
            vectors[i] = stored[key]
    if todo:
        vectors[todo] = fresh
    announced = tuple((p.meeting.source, p.meeting.content_hash) for p in batch)
    index.commit(replace(index.manifest, pending=index.manifest.pending + announced))
    start, sent = 0, len(passages)
    for p in batch:
        _write_meeting(index, p.meeting, p.chunks, vectors[start : start + len(p.chunks)],
                       p.sentences, vectors[sent : sent + len(p.sentences)])
        start += len(p.chunks)
        sent += len(p.sentences)
    entries = {p.meeting.source: _entry(p.meeting, len(p.chunks), len(p.sentences)) for p in batch}
    meetings = tuple(m for m in index.manifest.meetings if m.source not in entries) + tuple(entries.values())
    pending = tuple(x for x in index.manifest.pending if x not in announced)
    index.commit(replace(index.manifest, meetings=meetings, pending=pending, generation=index.manifest.generation + 1))
    for p in batch:
        old_hash = old.get(p.meeting.source)
        if old_hash and old_hash != p.meeting.content_hash:
            index.store.delete_source(p.meeting.source, keep_hash=p.meeting.content_hash)
    return [(len(p.meeting.items), len(p.chunks)) for p in batch]


def _embed(index: Index, texts: list[str], on_embedded: Callable[[int, int], None] | None) -> np.ndarray:
    """The passage vectors of ``texts``; none asked, the model is not called."""
    assert index.embedder is not None
    if not texts:
        if on_embedded is not None:
            on_embedded(0, 0)
        return np.zeros((0, index.embedder.dimension), np.float32)
    if on_embedded is None:
        return index.embedder.embed(texts, "passage")
    # In steps, saying how far it got (passages are independent: the vectors are the same).
    on_embedded(0, len(texts))
    parts = []
    for start in range(0, len(texts), EMBED_PROGRESS_STEP):
        parts.append(index.embedder.embed(texts[start : start + EMBED_PROGRESS_STEP], "passage"))
        on_embedded(min(start + EMBED_PROGRESS_STEP, len(texts)), len(texts))
    return np.concatenate(parts)


def _write_meeting(index: Index, meeting: Meeting, chunks: Sequence[Chunk], vectors: np.ndarray,
                   sentences: Sequence[tuple[SentenceRow, str]] = (), sentence_vectors: np.ndarray | None = None) -> None:
    """Write one meeting's passages, its items' full texts and its sentence vectors (not yet committed)."""
    first_chunk: dict[str, Chunk] = {}
    for c in chunks:
        first_chunk.setdefault(c.section, c)
    index.store.add(chunks, vectors, [(it, first_chunk[it.section]) for it in meeting.items if it.section in first_chunk],
                    [row for row, _ in sentences], sentence_vectors)


def _entry(meeting: Meeting, n_chunks: int, n_sentences: int | None = None) -> MeetingEntry:
    return MeetingEntry(
        source=meeting.source,
        content_hash=meeting.content_hash,
        council=meeting.council,
        meeting_date=meeting.meeting_date.isoformat() if meeting.meeting_date else None,
        title=meeting.title,
        items=len(meeting.items),
        chunks=n_chunks,
        sentences=n_sentences,
        participants=meeting.participants,
        absent=meeting.absent,
        roster=meeting.roster,
    )


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
    """Ingest every file (folders walked); a bad file is reported and the rest still go in."""
    results = []
    for result in ingest_files(index, expand_paths(paths), council=council, meeting_date=meeting_date):
        results.append(result)
        if on_file:
            on_file(result)
    return results
