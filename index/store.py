"""Open or build an index: chromadb holds the truth, the manifest commits each change, BM25 is derived."""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar

import numpy as np

from index.cases import AskedCase, asked_case
from index.embed import vector_family
from index.fuse import (
    AdaptiveFusion,
    QueryFeatures,
    adaptive_weight,
    group_best,
    hubness,
    minus_hubness,
    reciprocal_rank_fusion,
    score_fusion,
    segment_max,
    with_item_best,
    with_time_focus,
)
from index.lexical import TOKENIZER_VERSION, Bm25, LexicalOptions, tokenize
from index.vector import StoreUnavailable, VectorStore, Where, date_num, from_metadata, to_metadata
from index.when import time_focus, time_span, without_spans
from ingest.chunk import ChunkSettings
from ingest.records import Chunk, RosterLine, read_by_this_version

if TYPE_CHECKING:
    from index.embed import Embedder

K = TypeVar("K", int, str)

# 2: one manifest record per meeting beside the head record (1: everything in one record).
MANIFEST_VERSION = 2
SearchMode = Literal["hybrid", "dense", "lexical"]
# Weight of BM25 (scaled to the query's best) added to the cosine in hybrid search; measured on
# the evaluation sets (README): rank fusion and larger weights let BM25 overrule clearly better
# semantic matches; 0.01 keeps BM25 as a tie-breaker and costs nothing on the demo set.
LEXICAL_WEIGHT = 0.01
# The lexical weight per query (index/fuse.py adaptive_weight): LEXICAL_WEIGHT for a plain-language
# question, lifted by rare terms, names, numbers and coverage (how much of the query the best BM25
# passage holds). The gains are set on the dev half of the question sets (eval/lexical_variants.py);
# all zero is today's fixed weight. Chosen on the dev halves (docs/eval/fusion-dev.md): BM25 may count
# up to 0.2 when the best BM25 passage holds more than half the question's (IDF-weighted) words; real
# dev hybrid hit@1 0.78 -> 0.80, demo dev unchanged; name/number gains added nothing on dev.
# "rrf" = plain rank fusion (measured worse on dev: real paraphrase hit@3 0.70 -> 0.30).
FUSION: AdaptiveFusion | Literal["rrf"] = AdaptiveFusion(base=LEXICAL_WEIGHT, coverage_gain=0.2, coverage_floor=0.5,
                                                         cap=0.2)
# Forgiving lexical matches (fold æ/ø/å, fuzzy, compounds); measured in eval/lexical_variants.py.
LEXICAL_OPTIONS = LexicalOptions()
SENTENCE_CACHE = 20_000  # sentence vectors kept per open index (384 floats each: about 30 MB)
# Saved BM25 indexes (derived, safe to delete) inside the data directory.
LEXICAL_DIR = "lexical"
SAVE_ID = "save.id"
# 3: the saved folder also holds the passage vectors (vectors.npy) and the chunks (chunks.npy), row for row
# with rows.json. 4: and the sentence vectors, grouped by item (sentence_vectors.npy, sentence_bounds.npy,
# row_items.npy). 5: and each passage's hubness (hub.npy). 6: a chunk row says whether it is from an agenda.
# 7: each save is named in save.id, which a reader reads first and last (one save's files, never two's).
DERIVED_FORMAT = 7
# The dense side scores an item by its best passage plus this much of its best sentence ("title: sentence",
# one vector each, written at ingest). A question in other words than the item's usually matches one
# sentence better than a 1,200-character passage. Chosen on the dev halves (eval/variants.py, dense, no
# routing; docs/eval/variants-*-dev.md): hit@1 real 0.70 -> 0.74, demo 0.77 -> 0.79 (0.25 and 1.0 moved
# less, the best sentence alone or the mean of the best two lost on demo). Test: real 0.84 -> 0.84
# (MRR 0.874 -> 0.879), demo 0.76 -> 0.76 with hit@3 0.89 -> 0.95.
SENTENCE_WEIGHT = 0.5
# Hubness: a passage near the sentences of many other items ("Siden sidst", a dialogue touching every theme)
# is close to any question on those themes and took first place from the item that treats it. The dense
# score is lowered by HUB_WEIGHT × the mean of the passage's HUB_K best cosines to other items' sentences
# (CSLS-like, index/fuse.py hubness). Chosen on the dev halves (docs/eval/hubness-dev.md): hybrid hit@1 real
# 0.82 -> 0.86, demo 0.87 unchanged; a plateau over weights 0.2-0.3 and k 20-30. Test: real 0.90 unchanged,
# demo 0.84 -> 0.87 (hit@3 0.97 -> 1.00).
HUB_WEIGHT = 0.25
HUB_K = 20
# A question that names a meeting date or a year in a phrase of time ("i 2024", "mødet 10. marts 2026")
# asks about that meeting: in hybrid search its items gain TIME_WEIGHT (index/when.py time_focus). Chosen
# on the dev halves (python -m eval.time_focus): demo dev hit@1 0.82 -> 0.84 at 0.005-0.05 and 0.86 at
# 0.1 or more, where the named year decides before the wording; real dev unchanged (its dates are one
# meeting day and an undated meeting). "The latest meeting" gives each council's newest meeting the same
# (the 5 demo questions on it, written before the rule: dev 1 -> 2 of 2 first, test 1 -> 3 of 3).
TIME_WEIGHT = 0.1
# Above this many sentence vectors, hubness is measured against an even sample of them: the cost is
# passages × sample dot products once per derived build (saved beside BM25).
HUB_SAMPLE = 8192
# Up to this many passages the dense side is an exact dot product over those saved vectors: a cold CLI
# search reads one matrix instead of loading chromadb's HNSW index (0.11-0.15 s of 1.06 s at 10,000
# passages, measured), warm searches skip a chromadb query, and the nearest passages are exact, not
# approximate. Above it (300 MB of vectors) chromadb's HNSW index answers, as it always did.
EXACT_DENSE_MAX = 200_000
# "punkt 2.2", "pkt. 2,2" (a Danish decimal comma), "item 2.2"; "pkt 2, 3 og 4" is item 2.
SECTION_REF = re.compile(r"\b(?:punkt|pkt\.?|dagsordenspunkt|item|section)\s*(\d{1,2}(?:[.,]\d{1,2}){0,2})\b", re.I)


def asked_section(text: str) -> str | None:
    """The agenda item ``text`` names, as the minutes number it ("2.2")."""
    m = SECTION_REF.search(text)
    return m.group(1).replace(",", ".") if m else None


class NoIndex(Exception):
    """There is no index in the data directory yet."""


class IndexMismatch(Exception):
    """The index was built with another embedding model or chunking than the one asked for."""


class IndexBusy(Exception):
    """Another process is writing to (or serving) the same data directory."""


class IndexCorrupt(Exception):
    """The data directory holds something that is not a readable Rådgiver index."""


class NoMeeting(Exception):
    """No meeting (or more than one) in the index matches the file name given."""


@dataclass(frozen=True)
class MeetingEntry:
    """A committed meeting: which file, which version of it, what it gave."""

    source: str
    content_hash: str
    council: str
    meeting_date: str | None
    title: str
    items: int
    chunks: int
    participants: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    sentences: int | None = None  # sentence vectors written; None: ingested before there were any
    roster: tuple[RosterLine, ...] = ()  # the participants list as written; () in indexes from before it


@dataclass(frozen=True)
class Manifest:
    """How the index was built, and which meetings it holds; rewritten as one commit."""

    embedding_model: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    generation: int = 0
    version: int = MANIFEST_VERSION
    meetings: tuple[MeetingEntry, ...] = ()
    pending: tuple[tuple[str, str], ...] = ()  # (source, content_hash) being written right now
    counts: dict[str, int] = field(default_factory=dict)
    # (source, council, meeting_date) being set on a meeting's chunks and items right now
    relabel: tuple[tuple[str, str, str | None], ...] = ()
    # How the passage vectors were computed (index.embed engines); indexes from before say torch.
    engine: str = "torch"
    quantization: str = "none"

    def to_json(self) -> dict[str, Any]:
        # By hand, not asdict(): this runs twice per commit over every meeting in the index, and
        # asdict's deep copies made ingest quadratic in the number of meetings.
        return {
            "embedding_model": self.embedding_model, "dimension": self.dimension, "chunk_size": self.chunk_size,
            "chunk_overlap": self.chunk_overlap, "generation": self.generation, "version": self.version,
            "meetings": [
                {"source": m.source, "content_hash": m.content_hash, "council": m.council,
                 "meeting_date": m.meeting_date, "title": m.title, "items": m.items, "chunks": m.chunks,
                 "participants": list(m.participants), "absent": list(m.absent),
                 **({"sentences": m.sentences} if m.sentences is not None else {}),
                 **({"roster": [[r.group, r.text, r.absent] for r in m.roster]} if m.roster else {})}
                for m in self.meetings
            ],
            "pending": [list(p) for p in self.pending],
            "counts": dict(self.counts),
            **({"relabel": [list(r) for r in self.relabel]} if self.relabel else {}),
            "engine": self.engine,
            "quantization": self.quantization,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Manifest:
        meetings = tuple(
            MeetingEntry(**{**m, "participants": tuple(m.get("participants", ())), "absent": tuple(m.get("absent", ())),
                            "roster": tuple(RosterLine(g, t, bool(a)) for g, t, a in m.get("roster", ()))})
            for m in data.get("meetings", ())
        )
        return Manifest(
            embedding_model=data["embedding_model"],
            dimension=int(data["dimension"]),
            chunk_size=int(data["chunk_size"]),
            chunk_overlap=int(data["chunk_overlap"]),
            generation=int(data.get("generation", 0)),
            version=int(data.get("version", MANIFEST_VERSION)),
            meetings=meetings,
            pending=tuple(tuple(p) for p in data.get("pending", ())),  # type: ignore[misc]
            counts=dict(data.get("counts", {})),
            relabel=tuple(tuple(r) for r in data.get("relabel", ())),  # type: ignore[misc]
            engine=str(data.get("engine", "torch")),
            quantization=str(data.get("quantization", "none")),
        )

    def committed(self) -> dict[str, str]:
        """source -> content hash of every committed meeting (a fresh dict; callers may keep it)."""
        return dict(self._committed)

    @cached_property
    def without_sentences(self) -> int:
        """Meetings ingested before sentence vectors existed (0: an item without any has no sentence to rank by)."""
        return sum(1 for m in self.meetings if m.sentences is None)

    @cached_property
    def older_readings(self) -> tuple[MeetingEntry, ...]:
        """Meetings an earlier Rådgiver read (another READING_VERSION): the next ingest reads them again."""
        return tuple(m for m in self.meetings if not read_by_this_version(m.content_hash))

    @property
    def read_by_older_version(self) -> int:
        return len(self.older_readings)

    @cached_property
    def _committed(self) -> dict[str, str]:
        return {m.source: m.content_hash for m in self.meetings}


@dataclass(frozen=True)
class WordEvidence:
    """What the index holds of one word of a question."""

    word: str
    idf: float  # rarity among the index's passages (BM25's idf; a word found nowhere is rarest)
    terms: tuple[str, ...]  # the index terms it matches (itself, compound parts, fuzzy neighbours)
    match: float  # 1.0 exact, less for a compound part or fuzzy match, 0.0 none


@dataclass(frozen=True)
class Hit:
    """One agenda item found for a query, with its best passage."""

    rank: int
    score: float
    chunk: Chunk
    similarity: float  # cosine between query and best passage; 0.0 when no embedder


@dataclass(frozen=True)
class Derived:
    """What search derives from chromadb's chunks, row for row: BM25, ids, filter fields, and the passage
    vectors (None above ``EXACT_DENSE_MAX`` passages, where chromadb's HNSW index answers the dense side)."""

    bm25: Bm25
    ids: list[str]
    metas: list[dict[str, Any]]
    vectors: np.ndarray | None
    chunks: Sequence[Chunk] | None = None  # the rows themselves; None: read them from chromadb
    # Sentence vectors grouped by item: item i's are rows sentence_bounds[i]:sentence_bounds[i + 1];
    # row_items[pos] is the item of passage row pos. None above EXACT_DENSE_MAX passages.
    row_items: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    sentence_bounds: np.ndarray | None = None
    hub: np.ndarray | None = None  # per passage row (HUB_WEIGHT); None without sentence vectors

    def item_best(self, qvec: np.ndarray, rows: Sequence[int]) -> tuple[dict[int, int], dict[int, float]]:
        """The items of passage ``rows`` (row -> item), and each such item's best sentence cosine to ``qvec``
        (items without sentence vectors left out)."""
        if self.row_items is None or self.sentence_vectors is None or self.sentence_bounds is None:
            return {}, {}
        item_of = {pos: int(self.row_items[pos]) for pos in rows}
        bounds = self.sentence_bounds
        items = [i for i in dict.fromkeys(item_of.values()) if bounds[i + 1] > bounds[i]]
        if not items:
            return item_of, {}
        picked = np.concatenate([np.arange(bounds[i], bounds[i + 1]) for i in items])
        sims = np.asarray(self.sentence_vectors[picked], dtype=np.float32) @ qvec.astype(np.float32)
        return item_of, dict(zip(items, segment_max(sims, [int(bounds[i + 1] - bounds[i]) for i in items])))


class SavedChunks(Sequence[Chunk]):
    """The chunks of a saved derived index, one JSON line each, read by offset only when a hit needs one.

    A search then never touches chromadb's chunk collection, whose first read in a process loads its
    whole HNSW segment (0.11 s at 10,000 passages, measured), whatever is asked of it.
    """

    def __init__(self, folder: Path) -> None:
        self._offsets = np.load(folder / "chunk_offsets.npy", mmap_mode="r")
        self._data = np.load(folder / "chunks.npy", mmap_mode="r")

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, pos: int) -> Chunk:  # type: ignore[override]
        row = json.loads(bytes(self._data[int(self._offsets[pos]) : int(self._offsets[pos + 1])]).decode("utf-8"))
        return from_metadata(row["id"], row["text"], row["meta"])

    @staticmethod
    def save(folder: Path, chunks: Sequence[Chunk]) -> None:
        lines = [json.dumps({"id": c.id, "text": c.text, "meta": to_metadata(c)}, ensure_ascii=False).encode("utf-8")
                 for c in chunks]
        np.save(folder / "chunk_offsets.npy", np.cumsum([0, *map(len, lines)], dtype=np.int64))
        np.save(folder / "chunks.npy", np.frombuffer(b"".join(lines), dtype=np.uint8))


def default_db_dir() -> Path:
    """``~/.local/share/raadgiver`` (or under XDG_DATA_HOME)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "raadgiver"


# --------------------------------------------------------------------------- locking


class DirLock:
    """An flock on ``db_dir/.lock``: shared for readers, exclusive for writers."""

    def __init__(self, db_dir: Path) -> None:
        db_dir.mkdir(parents=True, exist_ok=True)
        self.path = db_dir / ".lock"
        self._fh: IO[str] | None = None

    def acquire(self, exclusive: bool) -> None:
        if self._fh is None:
            self._fh = open(self.path, "a+")
        try:
            fcntl.flock(self._fh, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(
                f"Indekset i {self.path.parent} bruges af en anden proces"
                + (" (f.eks. `raadgiver serve` eller en igangværende indlæsning)." if exclusive else " som er ved at skrive til det.")
                + " Vent til den er færdig, eller tilføj referater via upload-feltet i den kørende brugerflade."
            ) from None
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(f"{os.getpid()}\n")
        self._fh.flush()

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


# --------------------------------------------------------------------------- the index


class Index:
    """Search and write access to one index; build it with ``open_index``."""

    def __init__(
        self,
        store: VectorStore,
        manifest: Manifest,
        embedder: Embedder | None,
        db_dir: Path | None,
        chunking: ChunkSettings,
        lock: DirLock | None,
    ) -> None:
        self.store = store
        self.manifest = manifest
        self.embedder = embedder
        self.db_dir = db_dir
        self.chunking = chunking
        self._lock = lock
        self._derived: tuple[tuple[int, LexicalOptions], Derived] | None = None
        self._cases: tuple[Derived, frozenset[str]] | None = None
        self._qcache: dict[str, np.ndarray] = {}
        self._scache: dict[str, np.ndarray] = {}
        self.fusion = FUSION
        self.lexical_options = LEXICAL_OPTIONS

    def close(self) -> None:
        if self._lock:
            self._lock.release()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def writable(self) -> Iterator[None]:
        """Upgrade this reader's shared lock to exclusive for one write, then back to shared.

        flock converts the lock in place; a refused conversion leaves no lock at all (Linux drops
        the old one first), so the shared lock is taken again either way.
        """
        if self._lock is None:  # a Chroma server: nothing to lock here
            yield
            return
        try:
            self._lock.acquire(exclusive=True)
        except IndexBusy:
            self._shared_again()
            raise
        try:
            self.recover()
            yield
        finally:
            self._shared_again()

    def _shared_again(self) -> None:
        assert self._lock is not None
        try:
            self._lock.acquire(exclusive=False)
        except IndexBusy:
            import sys

            print("Advarsel: kunne ikke tage den delte lås på indekset igen; en anden proces skriver.", file=sys.stderr)

    # ------------------------------------------------------------------ manifest

    def commit(self, manifest: Manifest) -> None:
        """Write the manifest (the commit point) and its readable copy beside the data."""
        counts = {"meetings": len(manifest.meetings), "items": sum(m.items for m in manifest.meetings),
                  "chunks": sum(m.chunks for m in manifest.meetings)}
        # Meetings are written as their own records: only the ones that changed since the last
        # commit (all of them when the index was read in format 1, one record for everything).
        before = {m.source: m for m in self.manifest.meetings} if self.manifest.version >= 2 else {}
        manifest = replace(manifest, counts=counts, version=MANIFEST_VERSION)
        data = manifest.to_json()
        changed = [e for m, e in zip(manifest.meetings, data["meetings"]) if before.get(m.source) != m]
        now = {m.source for m in manifest.meetings}
        removed = [source for source in before if source not in now]
        head = {k: v for k, v in data.items() if k != "meetings"}
        self.store.write_manifest(head, changed, removed, seq=manifest.generation)
        self.manifest = manifest
        if self.db_dir is not None:
            tmp = self.db_dir / "manifest.json.tmp"
            # One line per meeting: readable, and without indent= json uses its fast C encoder.
            lines = ",\n".join(json.dumps(m, ensure_ascii=False) for m in data["meetings"])
            top = json.dumps(head, ensure_ascii=False)
            tmp.write_text(f'{top[:-1]}, "meetings": [\n{lines}\n]}}\n', encoding="utf-8")
            os.replace(tmp, self.db_dir / "manifest.json")

    def recover(self) -> int:
        """Finish or undo what an interrupted ingest left; returns how many sources were cleaned."""
        committed = self.manifest.committed()
        cleaned = 0
        for source, new_hash in self.manifest.pending:
            self.store.delete_source(source, keep_hash=committed.get(source))
            if committed.get(source) is None:
                self.store.delete_source(source)
            cleaned += 1
        if self.manifest.pending:
            self.commit(replace(self.manifest, pending=(), generation=self.manifest.generation + 1))
        for source, council, day in self.manifest.relabel:  # announced, maybe half done: finish it
            self._relabel(source, council, parse_iso_date(day))
            cleaned += 1
        return cleaned

    # ------------------------------------------------------------------ correcting a meeting

    def find_meeting(self, name: str) -> MeetingEntry:
        """The committed meeting read from ``name``: its full path, or a file name that only it has."""
        by_source = {m.source: m for m in self.manifest.meetings}
        for candidate in (name, str(Path(name).expanduser().resolve())):
            if candidate in by_source:
                return by_source[candidate]
        named = [m for m in self.manifest.meetings if Path(m.source).name == Path(name).name]
        if len(named) == 1:
            return named[0]
        if named:
            raise NoMeeting(f"Flere møder er læst fra en fil ved navn {Path(name).name}: "
                            + ", ".join(m.source for m in named) + ". Angiv hele stien.")
        raise NoMeeting(f"Intet møde i indekset er læst fra '{name}'. Se filerne med `raadgiver items`.")

    def set_meeting(self, source: str, council: str | None = None, meeting_date: date | None = None) -> MeetingEntry:
        """Give a committed meeting another council and/or date, re-citing it without re-embedding.

        1. announce (``relabel`` in the manifest), 2. set the fields on its chunks and items,
        3. commit the new entry: a kill leaves the old fields (before 1) or the new ones (the next
        writer's recover() finishes 2 and 3). The generation moves, so BM25 is derived again.
        """
        entry = next((m for m in self.manifest.meetings if m.source == source), None)
        if entry is None:
            raise NoMeeting(f"Intet møde i indekset er læst fra '{source}'.")
        council = council if council is not None else entry.council
        day = meeting_date.isoformat() if meeting_date else entry.meeting_date
        self.commit(replace(self.manifest, relabel=self.manifest.relabel + ((source, council, day),)))
        return self._relabel(source, council, parse_iso_date(day))

    def remove_meeting(self, source: str) -> MeetingEntry:
        """Take a committed meeting out of the index: its passages, items and sentence vectors.

        1. commit the manifest without it, its rows announced as pending: from here no search sees
        it; 2. delete its rows; 3. commit. A kill after 1 leaves rows no reader counts, which the
        next writer's recover() deletes.
        """
        entry = next((m for m in self.manifest.meetings if m.source == source), None)
        if entry is None:
            raise NoMeeting(f"Intet møde i indekset er læst fra '{source}'.")
        gone = (source, entry.content_hash)
        self.commit(replace(self.manifest, meetings=tuple(m for m in self.manifest.meetings if m.source != source),
                            pending=self.manifest.pending + (gone,), generation=self.manifest.generation + 1))
        self.store.delete_source(source)
        self.commit(replace(self.manifest, pending=tuple(p for p in self.manifest.pending if p != gone)))
        return entry

    def _relabel(self, source: str, council: str, meeting_date: date | None) -> MeetingEntry:
        self.store.relabel_source(source, council, meeting_date)
        day = meeting_date.isoformat() if meeting_date else None
        meetings = tuple(replace(m, council=council, meeting_date=day) if m.source == source else m
                         for m in self.manifest.meetings)
        self.commit(replace(self.manifest, meetings=meetings, generation=self.manifest.generation + 1,
                            relabel=tuple(r for r in self.manifest.relabel if r[0] != source)))
        return next(m for m in self.manifest.meetings if m.source == source)

    def undated_left_out(self, where: Where) -> int:
        """How many committed meetings without a date a date range leaves out (0 without a range)."""
        if not (where.since or where.until) or where.include_undated:
            return 0
        return sum(1 for m in self.manifest.meetings
                   if m.meeting_date is None and (not where.council or m.council == where.council)
                   and (not where.sources or m.source in where.sources))

    # ------------------------------------------------------------------ search

    def search(self, query: str, k: int = 5, mode: SearchMode = "hybrid", where: Where = Where(),
               depth: int = 50, today: date | None = None, periods: bool = True) -> list[Hit]:
        """The ``k`` best agenda items for ``query``, one hit per item, best first. A period the query names
        ("siden 2025", "før marts 2026", "de seneste to år" before ``today``) narrows ``where``, unless
        ``periods`` is off (the caller has narrowed it)."""
        if mode != "lexical" and self.embedder is None:
            raise ValueError("dense search needs an embedder")
        where = self.known_case(where)
        if periods and (span := time_span(query, today)) is not None:
            # The period filters; its words ("før 2025") would only rank items that mention the year.
            where, query = where.within(span.since, span.until, self.undated_only()), without_spans(query)
        qvec = self.query_vector(query) if self.embedder is not None else None
        direct = self._direct_where(query, where)
        hits: list[Hit] = []
        if direct is not None:
            hits = self._search(query, qvec, k, mode, direct, depth, today)
            hits += self._listed(direct, {_item_key(h.chunk) for h in hits}, k - len(hits))
        seen = {_item_key(h.chunk) for h in hits}
        if len(hits) < k:
            for h in self._search(query, qvec, k + len(hits), mode, where, depth, today):
                if _item_key(h.chunk) not in seen and len(hits) < k:
                    hits.append(h)
                    seen.add(_item_key(h.chunk))
        return [replace(h, rank=i + 1) for i, h in enumerate(hits)]

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding, cached: answering searches the same question several ways."""
        assert self.embedder is not None
        vector = self._qcache.get(query)  # one lookup: another reader of a shared index may clear it meanwhile
        if vector is None:
            vector = self.embedder.embed([query], "query")[0]
            if len(self._qcache) > 256:
                self._qcache.clear()
            self._qcache[query] = vector
        return vector

    def passage_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Passage embeddings of sentences to quote, cached by text: answers keep coming back to the same
        items, and embedding their sentences was most of an answer's time."""
        assert self.embedder is not None
        if not texts:
            return np.zeros((0, self.embedder.dimension), np.float32)
        # Looked up once into a local dict: readers of a shared index may clear the cache meanwhile.
        found = {t: self._scache.get(t) for t in dict.fromkeys(texts)}
        todo = [t for t, v in found.items() if v is None]
        if todo:
            if len(self._scache) + len(todo) > SENTENCE_CACHE:
                self._scache.clear()
            for text, vector in zip(todo, self.embedder.embed(todo, "passage"), strict=True):
                found[text] = self._scache[text] = vector
        return np.stack([found[t] for t in texts])

    def _listed(self, where: Where, seen: set[str], n: int) -> list[Hit]:
        """Items matching a direct reference that the ranking did not reach, in document order."""
        derived = self.derived()
        if derived.chunks is not None:  # the saved rows, in chromadb's order: no read of its chunk collection
            rows = (derived.chunks[pos] for pos, m in enumerate(derived.metas)
                    if _meta_ok(m, where) and _meta_key(m) not in seen)
        else:
            rows = self.store.get_chunks(where)
        committed = self.manifest.committed()
        out: list[Hit] = []
        for c in rows:
            if n <= 0:
                break
            if c.passage == 0 and _item_key(c) not in seen and committed.get(c.source) == c.content_hash:
                out.append(Hit(rank=0, score=0.0, chunk=c, similarity=0.0))
                seen.add(_item_key(c))
                n -= 1
        return out

    def case_numbers(self) -> frozenset[str]:
        """Every case number the index holds."""
        derived = self.derived()
        cached = self._cases
        if cached is None or cached[0] is not derived:
            cached = self._cases = (derived, frozenset(str(m["case_number"]) for m in derived.metas if m.get("case_number")))
        return cached[1]

    def asked_case(self, text: str) -> AskedCase | None:
        """The case number ``text`` names, as the index holds it however it was typed ("sag-2025-3105")."""
        return asked_case(text, self.case_numbers())

    def known_case(self, where: Where) -> Where:
        """``where`` with its case number as the index holds it: a filter typed "sag-2025-3105" finds SAG-2025-03105."""
        if where.case_number and (asked := self.asked_case(where.case_number)) is not None and asked.known:
            return replace(where, case_number=asked.number)
        return where

    def _direct_where(self, query: str, where: Where) -> Where | None:
        """A query that names a case number or a section goes straight to that item."""
        asked = self.asked_case(query)
        if asked and not where.case_number:
            return replace(where, case_number=asked.number)
        section = asked_section(query)
        if section:
            return _SectionWhere(**asdict(where), section=section)
        return None

    def _search(self, query: str, qvec: np.ndarray | None, k: int, mode: SearchMode, where: Where,
                depth: int, today: date | None = None) -> list[Hit]:
        pool = max(depth, k * 8)
        derived = self.derived()
        if qvec is not None and derived.vectors is None:
            return self._search_hnsw(query, qvec, k, mode, where, pool, today)
        keep = None if where.to_chroma() is None else (lambda pos: _meta_ok(derived.metas[pos], where))
        sims = derived.vectors @ qvec.astype(np.float32) if qvec is not None and derived.vectors is not None else None
        dense = _top(sims, pool, keep) if sims is not None and mode != "lexical" else []
        lex = self._lexical(query, pool, where) if mode != "dense" else []
        lex_sims = {} if sims is None else {pos: float(sims[pos]) for pos, _ in lex}
        if qvec is not None and SENTENCE_WEIGHT and mode != "lexical" and derived.sentence_vectors is not None \
                and len(derived.sentence_vectors):
            # Each candidate item also counts its best sentence (the hit's similarity stays the passage's).
            # An item without a sentence of 20 characters ("Eventuelt: Intet.") gets nothing; in an index
            # that still holds meetings from before sentence vectors, such items count their passage.
            item_of, best = derived.item_best(qvec, [pos for pos, _ in dense] + list(lex_sims))
            missing = None if self.manifest.without_sentences else 0.0
            dense = with_item_best(dense, item_of, best, SENTENCE_WEIGHT, missing)
            lex_sims = dict(with_item_best(list(lex_sims.items()), item_of, best, SENTENCE_WEIGHT, missing))
        if qvec is not None and HUB_WEIGHT and mode != "lexical" and derived.hub is not None:
            hub = {pos: float(derived.hub[pos]) for pos in [p for p, _ in dense] + list(lex_sims)}
            dense = minus_hubness(dense, hub, HUB_WEIGHT)
            lex_sims = dict(minus_hubness(list(lex_sims.items()), hub, HUB_WEIGHT))
        ranked = self._fuse(query, mode, dense, lex, lex_sims)
        if mode == "hybrid" and TIME_WEIGHT and (focus := time_focus(query, self._meeting_dates(), today)):
            days = {pos: _num_date(derived.metas[pos].get("date_num")) for pos, _ in ranked}
            ranked = with_time_focus(ranked, days, focus, TIME_WEIGHT)
        groups = group_best(ranked, {pos: _meta_key(derived.metas[pos]) for pos, _ in ranked})[:k]
        if derived.chunks is not None:
            found = {derived.ids[pos]: derived.chunks[pos] for _, pos, _ in groups}
        else:
            wanted = [derived.ids[pos] for _, pos, _ in groups]
            found = {c.id: c for c, _ in self.store.get_by_ids(wanted, None)} if wanted else {}
        hits = [(derived.ids[pos], score, 0.0 if sims is None else float(sims[pos])) for _, pos, score in groups]
        return [Hit(rank=i + 1, score=score, chunk=found[cid], similarity=sim)
                for i, (cid, score, sim) in enumerate((h for h in hits if h[0] in found))]

    def _search_hnsw(self, query: str, qvec: np.ndarray, k: int, mode: SearchMode, where: Where,
                     pool: int, today: date | None = None) -> list[Hit]:
        """The dense side from chromadb's HNSW index: indexes above ``EXACT_DENSE_MAX`` passages."""
        committed = self.manifest.committed()
        chunks: dict[str, Chunk] = {}
        sims: dict[str, float] = {}
        dense: list[tuple[str, float]] = []
        for c, s in self.store.query(qvec, pool, where) if mode != "lexical" else []:
            if _ok(c, committed, where):
                chunks[c.id], sims[c.id] = c, s
                dense.append((c.id, s))
        ids = self.derived().ids
        lex = [(ids[pos], s) for pos, s in self._lexical(query, pool, where)] if mode != "dense" else []
        missing = [cid for cid, _ in lex if cid not in chunks]
        for c, sim in self.store.get_by_ids(missing, qvec) if missing else []:
            if _ok(c, committed, where) and sim is not None:
                chunks[c.id], sims[c.id] = c, sim
        lex_sims = {cid: sims[cid] for cid, _ in lex if cid in sims}
        ranked = [(cid, s) for cid, s in self._fuse(query, mode, dense, lex, lex_sims) if cid in chunks]
        if mode == "hybrid" and TIME_WEIGHT and (focus := time_focus(query, self._meeting_dates(), today)):
            ranked = with_time_focus(ranked, {cid: chunks[cid].meeting_date for cid, _ in ranked}, focus, TIME_WEIGHT)
        groups = group_best(ranked, {cid: _item_key(chunks[cid]) for cid, _ in ranked})[:k]
        return [Hit(rank=i + 1, score=score, chunk=chunks[cid], similarity=sims.get(cid, 0.0))
                for i, (_, cid, score) in enumerate(groups)]

    def undated_only(self) -> bool:
        """Whether no meeting in the index has a date: then a period in a question cannot filter, and the
        undated meetings stay in (an index of older minutes without dates, or of other texts)."""
        return all(d is None for _, d in self._meeting_dates())

    def _meeting_dates(self) -> Iterator[tuple[str, date | None]]:
        """Each indexed meeting's council and date, for "the latest meeting" in a question; lazy, so a
        question without it costs nothing."""
        return ((m.council, parse_iso_date(m.meeting_date)) for m in self.manifest.meetings)

    def _fuse(self, query: str, mode: SearchMode, dense: list[tuple[K, float]], lex: list[tuple[K, float]],
              lex_sims: dict[K, float]) -> list[tuple[K, float]]:
        """One ranking (row positions or chunk ids) from the dense side (cosines, best first) and the
        lexical side (BM25, best first); ``lex_sims`` holds the cosine of every lexical candidate."""
        if mode == "dense":
            return dense
        if mode == "lexical":
            return lex
        if self.fusion == "rrf":
            return reciprocal_rank_fusion([[pos for pos, _ in dense], [pos for pos, _ in lex]])
        cosines = dict(dense)
        cosines.update((pos, s) for pos, s in lex_sims.items() if pos not in cosines)
        feats = QueryFeatures() if self.fusion.fixed else self.derived().bm25.features(query)
        return score_fusion(cosines, dict(lex), adaptive_weight(feats, self.fusion))

    def _lexical(self, query: str, n: int, where: Where) -> list[tuple[int, float]]:
        """The ``n`` best BM25 rows inside ``where`` (row positions), best first."""
        derived = self.derived()
        out: list[tuple[int, float]] = []
        for pos, score in derived.bm25.search(query, max(n * 4, 200) if where.to_chroma() else n):
            if _meta_ok(derived.metas[pos], where):
                out.append((pos, score))
                if len(out) >= n:
                    break
        return out

    def derived(self) -> Derived:
        """BM25 and the passage vectors derived from the chunks in chromadb; rebuilt when the manifest
        generation moved.

        They are also saved under ``DB/lexical/`` keyed by what they were built from, so a fresh
        process (every CLI search) loads them instead of re-reading and re-tokenising every chunk.
        """
        gen = (self.manifest.generation, self.lexical_options)
        if self._derived is not None and self._derived[0] == gen:
            return self._derived[1]
        folder = self._lexical_folder()
        exact = sum(m.chunks for m in self.manifest.meetings) <= EXACT_DENSE_MAX
        loaded = _load_derived(folder, self.lexical_options, self.manifest.dimension, exact) if folder else None
        if loaded is None:
            loaded = self._build_derived(exact)
            if folder is not None and loaded.ids:
                _save_derived(folder, loaded, lambda: _load_derived(folder, self.lexical_options,
                                                                    self.manifest.dimension, exact) is not None)
                # Memory-mapped from the save, a long-running process does not keep every chunk in memory.
                loaded = _load_derived(folder, self.lexical_options, self.manifest.dimension, exact) or loaded
        self._derived = (gen, loaded)
        return loaded

    def _build_derived(self, exact: bool) -> Derived:
        committed = self.manifest.committed()
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        chunks: list[Chunk] = []
        rows = self.store.get_chunks_with_vectors() if exact else ((c, None) for c in self.store.get_chunks())
        for c, vector in rows:
            if committed.get(c.source) != c.content_hash:
                continue  # left by an interrupted ingest; not part of the index
            ids.append(c.id)
            texts.append(f"{c.title}\n{c.case_number or ''} {c.text}")
            metas.append({"council": c.council, "date_num": date_num(c.meeting_date),
                          "case_number": c.case_number or "", "source": c.source, "section": c.section})
            if vector is not None:
                vectors.append(vector)
                chunks.append(c)
        matrix = (np.stack(vectors) if vectors else np.zeros((0, self.manifest.dimension), np.float32)) if exact else None
        bm25 = Bm25(texts, options=self.lexical_options)
        if not exact:
            return Derived(bm25, ids, metas, matrix, None)
        items: dict[str, int] = {}
        row_items = np.array([items.setdefault(_meta_key(m), len(items)) for m in metas], dtype=np.int32)
        found: list[tuple[int, int, np.ndarray]] = []
        for row, vector in self.store.get_sentences():
            item = items.get(_key(row.source, row.section))
            if item is not None and committed.get(row.source) == row.content_hash:
                found.append((item, row.n, vector))
        found.sort(key=lambda f: (f[0], f[1]))
        counts = np.bincount(np.array([f[0] for f in found], dtype=np.int64), minlength=len(items))
        bounds = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        svecs = (np.stack([f[2] for f in found]) if found else np.zeros((0, self.manifest.dimension))).astype(np.float32)
        assert matrix is not None  # exact: the passage vectors were read
        return Derived(bm25, ids, metas, matrix, chunks, row_items, svecs, bounds,
                       _hub(matrix, row_items, svecs, bounds) if found else None)

    def _lexical_folder(self) -> Path | None:
        """Where this index's saved BM25 lives: named by a hash of everything it is derived from."""
        if self.db_dir is None or not self.db_dir.is_dir():
            return None
        # The model is part of it: the save holds the passage vectors, and a rebuild with another model of the
        # same dimension starts again at the same generation with the same chunks.
        basis = json.dumps([DERIVED_FORMAT, HUB_K, HUB_SAMPLE, TOKENIZER_VERSION, self.lexical_options.key(),
                            self.manifest.embedding_model, self.manifest.dimension, self.manifest.generation,
                            self.manifest.chunk_size, self.manifest.chunk_overlap,
                            [(m.source, m.content_hash, m.chunks) for m in self.manifest.meetings]])
        return self.db_dir / LEXICAL_DIR / hashlib.sha256(basis.encode()).hexdigest()[:24]

    def query_evidence(self, query: str, drop: frozenset[str] = frozenset()) -> list[WordEvidence]:
        """Per content word of ``query`` (stemmed, folded as the index is): how rare it is in the index,
        which index terms it matches and how well (1 exact; less for a compound part or a fuzzy match;
        0 when it occurs nowhere). ``drop`` holds words that only ask ("mente", "hvad")."""
        derived = self.derived()
        bm25, n = derived.bm25, max(len(derived.ids), 1)

        def idf(df: int) -> float:
            return math.log(1 + (n - df + 0.5) / (df + 0.5))

        # Two words the index holds as one compound ("blanket moderniseringen") are each held as that compound.
        joined = {t: j for a, b, j in bm25.joined_compounds(query) for t in (a, b) if t not in bm25.vocab}
        out = []
        for tok in dict.fromkeys(tokenize(query, self.lexical_options.fold)):
            if tok in drop:
                continue
            if tok in joined:
                out.append(WordEvidence(tok, idf(bm25.doc_freq(joined[tok])), (joined[tok],), 1.0))
                continue
            matches = bm25.token_matches(tok) if bm25.size else []
            dfs = [bm25.doc_freq(t) for t, _ in matches]
            # A word typed without æ/ø/å's marks ("radet") is the word it is spelled as: an exact match.
            exact = bool(matches) and (matches[0][0] == tok or bool(bm25.unmarked(tok)))
            # A word the index holds counts fully; a compound read from two other words or a fuzzy
            # neighbour is weaker evidence that the index speaks of it ("grundskyld" is not "grund").
            match = 1.0 if exact else 0.5 * max((w for _, w in matches), default=0.0)
            out.append(WordEvidence(tok, idf(max(dfs)) if dfs else idf(0), tuple(t for t, _ in matches), match))
        return out

    def item_terms(self, chunk: Chunk) -> set[str]:
        """The index terms of the item a chunk belongs to (its title and full text)."""
        return set(tokenize(f"{chunk.title} {self.item_text(chunk)}", self.lexical_options.fold))

    # ------------------------------------------------------------------ items

    def item_text(self, chunk: Chunk) -> str:
        """The full text of the agenda item a chunk belongs to."""
        from index.vector import item_id

        got = self.store.items.get(ids=[item_id(chunk.source, chunk.content_hash, chunk.section)], include=["documents"])
        docs = got.get("documents") or []
        return docs[0] if docs else chunk.text


def _hub(passages: np.ndarray, row_items: np.ndarray, sentences: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Each passage row's hubness against the sentence vectors (an even sample above ``HUB_SAMPLE``)."""
    sentence_items = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds))
    step = max(1, -(-len(sentences) // HUB_SAMPLE))
    return hubness(passages, row_items, sentences[::step], sentence_items[::step], HUB_K)


def _load_derived(folder: Path, options: LexicalOptions, dimension: int, exact: bool) -> Derived | None:
    """A saved BM25 index with (when ``exact``) its vectors and chunks, or None when there is none or it
    cannot be read (then it is rebuilt). The arrays are memory-mapped, not read.

    Another process may replace the save while this one reads it, file by file: the save's name is read
    before and after, and a change means a mix of two saves, which is not returned."""
    try:
        save_id = (folder / SAVE_ID).read_text(encoding="utf-8")
        derived = _read_derived(folder, options, dimension, exact)
        return derived if (folder / SAVE_ID).read_text(encoding="utf-8") == save_id else None
    except Exception:  # missing, half-deleted by another process, or from another bm25s: rebuild
        return None


def _read_derived(folder: Path, options: LexicalOptions, dimension: int, exact: bool) -> Derived | None:
    """The files of one save (``_load_derived`` checks that they are one save's); errors propagate."""
    rows = json.loads((folder / "rows.json").read_text(encoding="utf-8"))
    ids = rows["ids"]
    vectors, chunks = None, None
    if exact:
        vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        chunks = SavedChunks(folder)
        if vectors.shape != (len(ids), dimension) or vectors.dtype != np.float32 or len(chunks) != len(ids):
            return None
        row_items = np.load(folder / "row_items.npy", mmap_mode="r")
        svecs = np.load(folder / "sentence_vectors.npy", mmap_mode="r")
        bounds = np.load(folder / "sentence_bounds.npy")
        if row_items.shape != (len(ids),) or svecs.shape[1:] != (dimension,) or int(bounds[-1]) != len(svecs):
            return None
        hub = np.load(folder / "hub.npy") if (folder / "hub.npy").exists() else None
        if hub is not None and hub.shape != (len(ids),):
            return None
        return Derived(Bm25.load(folder, len(ids), options), ids, rows["metas"], vectors, chunks,
                       row_items, svecs, bounds, hub)
    return Derived(Bm25.load(folder, len(ids), options), ids, rows["metas"], vectors, chunks)


def _save_derived(folder: Path, derived: Derived, readable: Callable[[], bool]) -> None:
    """Save next to the index, atomically (rename); older saves go. Best effort: a read-only
    data directory just means the next process builds BM25 again. A save another process made under
    the same key meanwhile is kept when ``readable`` says it loads; an unreadable one is replaced."""
    tmp: Path | None = None
    try:
        folder.parent.mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
        derived.bm25.save(tmp)
        if derived.vectors is not None and derived.chunks is not None:
            np.save(tmp / "vectors.npy", np.ascontiguousarray(derived.vectors, dtype=np.float32))
            SavedChunks.save(tmp, derived.chunks)
            if derived.row_items is not None and derived.sentence_vectors is not None and derived.sentence_bounds is not None:
                np.save(tmp / "row_items.npy", np.asarray(derived.row_items, dtype=np.int32))
                np.save(tmp / "sentence_vectors.npy", np.ascontiguousarray(derived.sentence_vectors, dtype=np.float32))
                np.save(tmp / "sentence_bounds.npy", np.asarray(derived.sentence_bounds, dtype=np.int64))
                if derived.hub is not None:
                    np.save(tmp / "hub.npy", np.asarray(derived.hub, dtype=np.float32))
        (tmp / "rows.json").write_text(json.dumps({"ids": derived.ids, "metas": derived.metas}, ensure_ascii=False),
                                       encoding="utf-8")
        (tmp / SAVE_ID).write_text(uuid.uuid4().hex, encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:  # a save under this key is there: another process's, or unreadable (this one followed
            if readable():  # a failed load): keep the first, replace the second
                return
            stale = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
            os.rename(folder, stale / "old")
            os.rename(tmp, folder)
            shutil.rmtree(stale, ignore_errors=True)
        tmp = None
        for old in folder.parent.iterdir():  # older saves, and temp folders of killed processes
            if old != folder and (not old.name.startswith(".tmp-") or time.time() - old.stat().st_mtime > 3600):
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class _SectionWhere(Where):
    """Where restricted to one section number (in the given sources)."""

    section: str = ""

    def to_chroma(self) -> dict[str, Any] | None:
        base = super().to_chroma()
        clause = {"section": self.section}
        return clause if base is None else {"$and": [base, clause]} if "$and" not in base else {"$and": base["$and"] + [clause]}


def _key(source: str, section: str) -> str:
    """One agenda item's key: its file and section number."""
    return f"{source}#{section}"


def _item_key(c: Chunk) -> str:
    return _key(c.source, c.section)


def _meta_key(m: dict[str, Any]) -> str:
    """``_item_key`` of a derived row."""
    return _key(m["source"], m["section"])


def _top(scores: np.ndarray, n: int, keep: Callable[[int], bool] | None) -> list[tuple[int, float]]:
    """The ``n`` best positions by score, best first (ties: lower position first), only those ``keep`` accepts."""
    if keep is None:
        cand = np.argpartition(-scores, n)[:n] if n < len(scores) else np.arange(len(scores))
        order = cand[np.lexsort((cand, -scores[cand]))]
        return [(int(i), float(scores[i])) for i in order]
    out: list[tuple[int, float]] = []
    for i in np.argsort(-scores, kind="stable"):
        if keep(int(i)):
            out.append((int(i), float(scores[i])))
            if len(out) >= n:
                break
    return out


def _ok(c: Chunk, committed: dict[str, str], where: Where) -> bool:
    return committed.get(c.source) == c.content_hash


def _meta_ok(m: dict[str, Any], where: Where) -> bool:
    if where.council and m["council"] != where.council:
        return False
    undated_ok = where.include_undated and not m["date_num"]
    if where.since and not undated_ok and not (m["date_num"] and m["date_num"] >= date_num(where.since)):
        return False
    if where.until and not undated_ok and not (m["date_num"] and m["date_num"] <= date_num(where.until)):
        return False
    if where.case_number and m["case_number"] != where.case_number:
        return False
    if where.sources and m["source"] not in where.sources:
        return False
    if isinstance(where, _SectionWhere) and m["section"] != where.section:
        return False
    return True


def require_index(db_dir: Path) -> None:
    """Raise NoIndex unless ``db_dir`` holds an index; cheap, so callers check before loading a model."""
    if db_dir.exists() and not db_dir.is_dir():
        raise IndexCorrupt(f"{db_dir} er en fil, ikke en mappe – angiv en mappe med --db.")
    if not (db_dir / "chroma" / "chroma.sqlite3").exists():
        raise NoIndex(f"Der er intet indeks i {db_dir} – kør `raadgiver ingest STI --db {db_dir}` først.")


def open_index(
    db_dir: Path | None,
    embedder: Embedder | None,
    *,
    chroma_url: str | None = None,
    create: bool = False,
    write: bool = False,
    chunking: ChunkSettings = ChunkSettings(),
) -> Index:
    """Open the index in ``db_dir`` (or on a Chroma server), checking it matches ``embedder``."""
    lock: DirLock | None = None
    if db_dir is not None:
        if db_dir.exists() and not db_dir.is_dir():
            raise IndexCorrupt(f"{db_dir} er en fil, ikke en mappe – angiv en mappe med --db.")
        if not create and chroma_url is None:
            require_index(db_dir)
        lock = DirLock(db_dir)
        lock.acquire(exclusive=write)
    try:
        try:
            store = VectorStore.open(db_dir if chroma_url is None else None, chroma_url)
            raw = store.read_manifest()
        except StoreUnavailable as exc:
            if chroma_url:
                raise IndexCorrupt(
                    f"Kan ikke forbinde til Chroma-serveren på {chroma_url} ({exc}). Tjek at `chroma run` kører."
                ) from exc
            raise IndexCorrupt(
                f"Indekset i {db_dir} kan ikke åbnes ({exc}). Byg det om: flyt mappen væk og kør "
                f"`raadgiver ingest STI --db {db_dir}`."
            ) from exc
        except Exception as exc:
            raise IndexCorrupt(
                f"Indekset i {db_dir or chroma_url} er beskadiget ({type(exc).__name__}). Byg det om: flyt mappen "
                f"væk og kør `raadgiver ingest STI --db {db_dir or 'MAPPE'}`."
            ) from exc
        if raw is None:
            if not create:
                raise NoIndex(f"Der er intet indeks i {db_dir or chroma_url} – kør `raadgiver ingest STI` først.")
            if embedder is None:
                raise ValueError("creating an index needs an embedder")
            manifest = Manifest(embedder.name, embedder.dimension, chunking.size, chunking.overlap,
                                engine=getattr(embedder, "engine", "torch"),
                                quantization=getattr(embedder, "quantization", "none"))
        else:
            try:
                manifest = Manifest.from_json(raw)
            except (KeyError, TypeError, ValueError) as exc:
                raise IndexCorrupt(f"Manifestet i {db_dir or chroma_url} er ulæseligt ({exc}); byg indekset om.") from exc
            if manifest.version > MANIFEST_VERSION:
                raise IndexMismatch(
                    f"Indekset er lavet af en nyere Rådgiver (format {manifest.version}); opdatér programmet."
                )
            if embedder is not None and (embedder.name != manifest.embedding_model or embedder.dimension != manifest.dimension):
                raise IndexMismatch(
                    f"Indekset i {db_dir or chroma_url} er bygget med modellen '{manifest.embedding_model}' "
                    f"({manifest.dimension} dim.), men du bruger '{embedder.name}' ({embedder.dimension} dim.). "
                    f"Brug samme model med --model, eller byg indekset om med "
                    f"`raadgiver ingest --rebuild STI --db {db_dir or 'MAPPE'}`."
                )
            engine = getattr(embedder, "engine", "torch")
            if embedder is not None and vector_family(engine) != vector_family(manifest.engine):
                raise IndexMismatch(
                    f"Indekset i {db_dir or chroma_url} er bygget med motoren '{manifest.engine}' "
                    f"({manifest.quantization}), hvis vektorer ikke svarer til motoren '{engine}'s. "
                    f"Brug samme motor med --engine {manifest.engine}, eller byg indekset om med "
                    f"`raadgiver ingest --rebuild STI --db {db_dir or 'MAPPE'}`."
                )
            if write and (manifest.chunk_size, manifest.chunk_overlap) != (chunking.size, chunking.overlap):
                chunking = ChunkSettings(manifest.chunk_size, manifest.chunk_overlap)
        index = Index(store, manifest, embedder, db_dir, chunking, lock)
        if write:
            index.recover()
        return index
    except BaseException:
        if lock:
            lock.release()
        raise


@contextmanager
def opened(db_dir: Path | None, embedder: Embedder | None, **kw: Any) -> Iterator[Index]:
    index = open_index(db_dir, embedder, **kw)
    try:
        yield index
    finally:
        index.close()


def _num_date(n: Any) -> date | None:
    """A date_num (20250903) back as a date; 0 or missing: None."""
    n = int(n or 0)
    return date(n // 10000, n // 100 % 100, n % 100) if n else None


def parse_iso_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
