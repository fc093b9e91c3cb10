"""chromadb, the one module that imports it: chunks, items and the manifest live here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ingest.records import AgendaItem, Chunk

CHUNKS = "raadgiver-chunks"
ITEMS = "raadgiver-items"
MANIFEST = "raadgiver-manifest"
# One vector per sentence of each item ("title: sentence"): search adds the best one to its item's passages.
SENTENCES = "raadgiver-sentences"


class StoreUnavailable(Exception):
    """The vector store could not be opened (corrupt directory, server not reachable)."""


class StoreWriteFailed(Exception):
    """chromadb refused a write or read; most often a full disk."""


def _store_error(exc: Exception, writing: bool) -> StoreWriteFailed:
    what = "skrive til" if writing else "læse fra"
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
    return StoreWriteFailed(
        f"Kunne ikke {what} indekset – disken er fuld, eller databasen fejler ({detail}). Frigør plads og "
        "kør kommandoen igen; møder, der ikke blev færdige, er ikke med i indekset og indlæses igen."
    )


@dataclass(frozen=True)
class Where:
    """Filters on chunks: council, meeting date range, case number.

    Meetings without a known date fall outside any date range unless ``include_undated``.
    """

    council: str | None = None
    since: date | None = None
    until: date | None = None
    case_number: str | None = None
    sources: tuple[str, ...] = ()
    include_undated: bool = False

    def within(self, since: date | None, until: date | None, undated: bool = False) -> Where:
        """This filter narrowed to a period a question names: the later of the two starts, the earlier of
        the two ends; meetings without a date stay in if ``undated`` or if this filter already kept them."""
        first = max((d for d in (self.since, since) if d), default=None)
        last = min((d for d in (self.until, until) if d), default=None)
        return replace(self, since=first, until=last, include_undated=undated or self.include_undated)

    def admits(self, council: str, meeting_date: date | None) -> bool:
        """Whether a meeting of ``council`` held on ``meeting_date`` passes the council and date filters."""
        if self.council and council != self.council:
            return False
        if not (self.since or self.until):
            return True
        if meeting_date is None:
            return self.include_undated
        return (self.since is None or meeting_date >= self.since) and (self.until is None or meeting_date <= self.until)

    def to_chroma(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.council:
            clauses.append({"council": self.council})
        dated: list[dict[str, Any]] = []
        if self.since:
            dated.append({"date_num": {"$gte": date_num(self.since)}})
        if self.until:
            dated.append({"date_num": {"$lte": date_num(self.until)}})
        if dated:
            dated.append({"date_num": {"$gt": 0}})  # 0 = unknown: never inside a range ...
            if self.include_undated:  # ... unless asked for
                clauses.append({"$or": [{"$and": dated}, {"date_num": 0}]})
            else:
                clauses.extend(dated)
        if self.case_number:
            clauses.append({"case_number": self.case_number})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def date_num(d: date | None) -> int:
    """Dates as numbers (20250903), since chromadb range filters accept numbers only; 0 = unknown."""
    return d.year * 10000 + d.month * 100 + d.day if d else 0


def to_metadata(chunk: Chunk) -> dict[str, str | int]:
    """A chunk's fields as chromadb's flat scalar metadata (None becomes '' or 0)."""
    return {
        "council": chunk.council,
        "meeting_date": chunk.meeting_date.isoformat() if chunk.meeting_date else "",
        "date_num": date_num(chunk.meeting_date),
        "section": chunk.section,
        "title": chunk.title,
        "case_number": chunk.case_number or "",
        "source": chunk.source,
        "content_hash": chunk.content_hash,
        "passage": chunk.passage,
        "passages": chunk.passages,
        "agenda": chunk.agenda,
    }


def _rows(embeddings: Any) -> Any:
    """chromadb's embeddings of a get: None when there are none (an array has no truth value)."""
    return [] if embeddings is None else embeddings


def _cosine(stored: object, vector: np.ndarray) -> float:
    """Cosine of a stored unit vector and a unit query vector: their dot product in float32."""
    return float(np.dot(np.asarray(stored, dtype=np.float32), vector.astype(np.float32)))


def from_metadata(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    """The inverse of ``to_metadata``."""
    return Chunk(
        id=chunk_id,
        text=text,
        council=str(meta["council"]),
        meeting_date=date.fromisoformat(meta["meeting_date"]) if meta.get("meeting_date") else None,
        section=str(meta["section"]),
        title=str(meta["title"]),
        case_number=str(meta["case_number"]) or None,
        source=str(meta["source"]),
        content_hash=str(meta["content_hash"]),
        passage=int(meta["passage"]),
        passages=int(meta["passages"]),
        agenda=bool(meta.get("agenda", False)),  # an index from before it reads as minutes (--rebuild marks agendas)
    )


def meeting_record_id(source: str) -> str:
    """The manifest record of one meeting (file)."""
    return "meeting:" + hashlib.sha256(source.encode()).hexdigest()[:32]


def item_id(source: str, content_hash: str, section: str) -> str:
    """Id of an item record; sections repeat across meetings, so the source is part of it."""
    import hashlib

    return hashlib.sha256(f"{source}\x1f{content_hash}\x1f{section}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SentenceRow:
    """One sentence vector's record: which item of which version of which file, and its position there."""

    id: str
    source: str
    content_hash: str
    section: str
    n: int
    digest: str = ""  # text_digest of the text its vector is made of ("" in rows written before it was kept)

    @staticmethod
    def of(source: str, content_hash: str, section: str, n: int, text: str = "") -> SentenceRow:
        return SentenceRow(f"{item_id(source, content_hash, section)}-s{n}", source, content_hash, section, n,
                           text_digest(text) if text else "")


def text_digest(text: str) -> str:
    """Names an embedded text, so a later reading of the same file can find its vector again."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True)
class StoredItem:
    """An agenda item's full text and fields, as stored."""

    council: str
    meeting_date: date | None
    section: str
    title: str
    case_number: str | None
    source: str
    content_hash: str
    responsible: tuple[str, ...]
    closed: bool
    text: str
    agenda: bool = False


class VectorStore:
    """Chunks with their vectors, items with their full text, and the manifest document."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.chunks = client.get_or_create_collection(
            CHUNKS, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        self.items = client.get_or_create_collection(ITEMS, embedding_function=None)
        # Never queried through its HNSW graph (search reads the vectors into the derived files), so
        # the graph chromadb keeps anyway is built as cheaply as it allows.
        self.sentences = client.get_or_create_collection(
            SENTENCES, configuration={"hnsw": {"space": "cosine", "ef_construction": 16, "max_neighbors": 4}},
            embedding_function=None,
        )
        self._manifest = client.get_or_create_collection(MANIFEST, embedding_function=None)
        self.max_batch = int(client.get_max_batch_size())

    @classmethod
    def open(cls, path: Path | None = None, url: str | None = None) -> VectorStore:
        """Embedded store in ``path`` (PersistentClient), or a Chroma server at ``url`` (HttpClient)."""
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        try:
            if url:
                parsed = urlparse(url)
                client = chromadb.HttpClient(
                    host=parsed.hostname or "127.0.0.1",
                    port=parsed.port or 8000,
                    ssl=parsed.scheme == "https",
                    settings=settings,
                )
                client.heartbeat()
            else:
                assert path is not None
                client = chromadb.PersistentClient(path=str(path / "chroma"), settings=settings)
            return cls(client)
        except Exception as exc:  # chromadb raises many kinds here
            where = url or str(path)
            raise StoreUnavailable(f"{where}: {type(exc).__name__}: {exc}") from exc

    # ------------------------------------------------------------------ manifest

    def read_manifest(self) -> dict[str, Any] | None:
        """The manifest: its head record plus one record per committed meeting (format 1: all in the head)."""
        got = self._manifest.get(ids=["manifest"], include=["documents"])
        docs = got.get("documents") or []
        if not docs:
            return None
        head: dict[str, Any] = json.loads(docs[0])
        if "meetings" in head:
            return head
        rows = self._manifest.get(where={"kind": "meeting"}, include=["documents", "metadatas"])
        entries = sorted(zip(rows.get("metadatas") or [], rows.get("documents") or []), key=lambda r: r[0]["seq"])  # type: ignore[index]
        head["meetings"] = [json.loads(doc) for _, doc in entries]
        return head

    def write_manifest(self, head: dict[str, Any], changed: Sequence[dict[str, Any]] = (),
                       removed: Sequence[str] = (), seq: int = 0) -> None:
        """Write changed meeting records, then the head: the commit point of every change to the index.

        Each meeting is its own record, so a commit costs what changed, not the size of the index.
        """
        try:
            self._write_manifest(head, changed, removed, seq)
        except Exception as exc:
            raise _store_error(exc, writing=True) from exc

    def _write_manifest(self, head: dict[str, Any], changed: Sequence[dict[str, Any]], removed: Sequence[str],
                        seq: int) -> None:
        if changed:
            self._manifest.upsert(
                ids=[meeting_record_id(e["source"]) for e in changed],
                documents=[json.dumps(e, ensure_ascii=False) for e in changed],
                embeddings=[[1.0]] * len(changed),
                metadatas=[{"kind": "meeting", "seq": seq * 1_000_000 + i} for i in range(len(changed))],
            )
        if removed:
            self._manifest.delete(ids=[meeting_record_id(s) for s in removed])
        self._manifest.upsert(ids=["manifest"], documents=[json.dumps(head, ensure_ascii=False)], embeddings=[[1.0]],
                              metadatas=[{"kind": "head"}])

    # ------------------------------------------------------------------ writes

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray, items: Sequence[tuple[AgendaItem, Chunk]],
            sentences: Sequence[SentenceRow] = (), sentence_vectors: np.ndarray | None = None) -> None:
        """Add one meeting's chunks (with vectors), its items' full texts and its sentence vectors."""
        try:
            self._add(chunks, vectors, items)
            if sentences:
                assert sentence_vectors is not None and len(sentence_vectors) == len(sentences)
                for start in range(0, len(sentences), self.max_batch):
                    part = sentences[start : start + self.max_batch]
                    self.sentences.upsert(
                        ids=[r.id for r in part],
                        embeddings=sentence_vectors[start : start + len(part)].astype(np.float32).tolist(),
                        metadatas=[{"source": r.source, "content_hash": r.content_hash, "section": r.section,
                                    "n": r.n, **({"digest": r.digest} if r.digest else {})} for r in part],
                    )
        except Exception as exc:  # chromadb wraps a full disk in its own InternalError
            raise _store_error(exc, writing=True) from exc

    def _add(self, chunks: Sequence[Chunk], vectors: np.ndarray, items: Sequence[tuple[AgendaItem, Chunk]]) -> None:
        for start in range(0, len(chunks), self.max_batch):
            part = chunks[start : start + self.max_batch]
            self.chunks.upsert(
                ids=[c.id for c in part],
                documents=[c.text for c in part],
                embeddings=vectors[start : start + len(part)].astype(np.float32).tolist(),
                metadatas=[to_metadata(c) for c in part],  # type: ignore[misc]
            )
        if items:
            self.items.upsert(
                ids=[item_id(c.source, c.content_hash, it.section) for it, c in items],
                documents=[it.text for it, _ in items],
                embeddings=[[1.0]] * len(items),
                metadatas=[
                    {**to_metadata(c), "responsible": "; ".join(it.responsible), "closed": it.closed}
                    for it, c in items
                ],  # type: ignore[misc]
            )

    def relabel_source(self, source: str, council: str, meeting_date: date | None) -> int:
        """Set council and meeting date on every chunk and item of a file; vectors and ids stay.

        Idempotent, so a writer that was killed halfway is finished by running it again.
        Returns how many records were updated.
        """
        fields = {"council": council, "meeting_date": meeting_date.isoformat() if meeting_date else "",
                  "date_num": date_num(meeting_date)}
        n = 0
        try:
            for collection in (self.chunks, self.items):
                got = collection.get(where={"source": source}, include=["metadatas"])
                ids, metas = got["ids"], got["metadatas"] or []
                for start in range(0, len(ids), self.max_batch):
                    part = slice(start, start + self.max_batch)
                    collection.update(ids=ids[part], metadatas=[{**m, **fields} for m in metas[part]])  # type: ignore[misc]
                n += len(ids)
        except Exception as exc:
            raise _store_error(exc, writing=True) from exc
        return n

    def delete_source(self, source: str, keep_hash: str | None = None) -> None:
        """Remove a file's chunks and items, except those of ``keep_hash`` when given."""
        where: dict[str, Any] = {"source": source}
        if keep_hash:
            where = {"$and": [{"source": source}, {"content_hash": {"$ne": keep_hash}}]}
        self.chunks.delete(where=where)
        self.items.delete(where=where)
        self.sentences.delete(where=where)

    # ------------------------------------------------------------------ reads

    def query(self, vector: np.ndarray, n: int, where: Where) -> list[tuple[Chunk, float]]:
        """Nearest chunks, best first, with their cosine similarity to ``vector``.

        The cosine is the dot product with the stored (unit) vector, as ``get_by_ids`` computes it, so
        a chunk's similarity is the same number whichever way it was found. chromadb caps ``n`` at the
        collection's size itself (a ``count()`` first cost 5 ms per search at 50,000 passages).
        """
        res = self.chunks.query(
            query_embeddings=[vector.astype(np.float32).tolist()],
            n_results=max(n, 1),
            where=where.to_chroma(),
            include=["documents", "metadatas", "embeddings"],
        )
        ids, docs, metas = res["ids"][0], res["documents"][0], res["metadatas"][0]  # type: ignore[index]
        embs = res["embeddings"][0] if res.get("embeddings") is not None else []  # type: ignore[index]
        return [(from_metadata(i, d, m), _cosine(e, vector)) for i, d, m, e in zip(ids, docs, metas, embs, strict=True)]

    def get_by_ids(self, ids: list[str], vector: np.ndarray | None) -> list[tuple[Chunk, float | None]]:
        """Chunks by id, with their cosine to ``vector`` (None without one), in one read."""
        include = ["documents", "metadatas", *(["embeddings"] if vector is not None else [])]
        got = self.chunks.get(ids=ids, include=include)  # type: ignore[arg-type]
        embs = got.get("embeddings") if vector is not None else None
        chunks = [from_metadata(i, d, m) for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])]  # type: ignore[arg-type]
        if embs is None:
            return [(c, None) for c in chunks]
        return [(c, _cosine(e, vector)) for c, e in zip(chunks, embs, strict=True)]  # type: ignore[arg-type]

    def get_chunks(self, where: Where | None = None, batch: int = 5000) -> Iterator[Chunk]:
        """All chunks (optionally filtered), in pages so large indexes stay in bounded memory."""
        for got in self._pages(where, ["documents", "metadatas"], batch):
            for i, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or []):
                yield from_metadata(i, d, m)  # type: ignore[arg-type]

    def get_chunks_with_vectors(self, batch: int = 5000) -> Iterator[tuple[Chunk, np.ndarray]]:
        """All chunks with their stored unit vectors, in pages: what the exact dense side is built from."""
        for got in self._pages(None, ["documents", "metadatas", "embeddings"], batch):
            embs = got.get("embeddings")
            for i, d, m, e in zip(got["ids"], got["documents"] or [], got["metadatas"] or [],
                                  [] if embs is None else embs, strict=True):
                yield from_metadata(i, d, m), np.asarray(e, dtype=np.float32)  # type: ignore[arg-type]

    def _pages(self, where: Where | None, include: list[str], batch: int, collection: Any = None) -> Iterator[Any]:
        """chromadb ``get`` results of a collection (the chunks unless given), ``batch`` rows at a time."""
        offset = 0
        w = where.to_chroma() if where else None
        while True:
            got = (collection or self.chunks).get(where=w, include=include, limit=batch, offset=offset)  # type: ignore[arg-type]
            yield got
            if len(got["ids"]) < batch:
                return
            offset += batch

    def get_sentences(self, batch: int = 5000) -> Iterator[tuple[SentenceRow, np.ndarray]]:
        """Every sentence row with its stored unit vector, in pages (what the derived files are built from)."""
        for got in self._pages(None, ["metadatas", "embeddings"], batch, self.sentences):
            embs = got.get("embeddings")
            for i, m, e in zip(got["ids"], got["metadatas"] or [], [] if embs is None else embs, strict=True):
                yield (SentenceRow(i, str(m["source"]), str(m["content_hash"]), str(m["section"]), int(m["n"]),
                                   str(m.get("digest", ""))),
                       np.asarray(e, dtype=np.float32))

    def stored_vectors(self, source: str, content_hash: str) -> dict[str, np.ndarray]:
        """One committed version of a file's vectors, by the text each is made of (passages: the title and
        text as embedded; sentences: their digest): what a new version or a new reading of the same file
        reuses instead of embedding again."""
        where = {"$and": [{"source": source}, {"content_hash": content_hash}]}
        out: dict[str, np.ndarray] = {}
        try:
            got = self.chunks.get(where=where, include=["documents", "metadatas", "embeddings"])  # type: ignore[arg-type]
            for d, m, e in zip(got["documents"] or [], got["metadatas"] or [], _rows(got.get("embeddings"))):
                out[f"{m['title']}\n{d}"] = np.asarray(e, dtype=np.float32)
            got = self.sentences.get(where=where, include=["metadatas", "embeddings"])  # type: ignore[arg-type]
            for m, e in zip(got["metadatas"] or [], _rows(got.get("embeddings"))):
                if m.get("digest"):
                    out[str(m["digest"])] = np.asarray(e, dtype=np.float32)
        except Exception as exc:
            raise _store_error(exc, writing=False) from exc
        return out

    def get_items(self, where: Where | None = None) -> list[StoredItem]:
        try:
            got = self.items.get(where=where.to_chroma() if where else None, include=["documents", "metadatas"])
        except Exception as exc:
            raise _store_error(exc, writing=False) from exc
        out = []
        for d, m in zip(got["documents"] or [], got["metadatas"] or []):
            c = from_metadata("", d, m)  # type: ignore[arg-type]
            out.append(
                StoredItem(
                    council=c.council, meeting_date=c.meeting_date, section=c.section, title=c.title,
                    case_number=c.case_number, source=c.source, content_hash=c.content_hash,
                    responsible=tuple(x for x in str(m.get("responsible", "")).split("; ") if x),
                    closed=bool(m.get("closed", False)), text=d or "", agenda=c.agenda,
                )
            )
        return out

    def count(self) -> int:
        return int(self.chunks.count())
