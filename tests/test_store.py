"""Index stage in-process: a real chromadb in tmp_path, real BM25, the manifest, locks and recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import store
from index.build import embedding_text, ingest_file, ingest_files, ingest_paths
from index.store import HUB_K, HUB_WEIGHT, SENTENCE_WEIGHT, DirLock, Index, IndexBusy, IndexCorrupt, IndexMismatch, NoIndex, open_index
from index.vector import Where, date_num, from_metadata, to_metadata
from ingest.chunk import chunk_meeting
from ingest.parse import parse_meeting
from ingest.read import read_document
from ingest.records import Chunk
from ingest.sentences import index_sentences
from tests.badfiles import generated_minutes, miljo_text
from tests.conftest import IT_ARK, REPO, Raadgiver, needs_real


class OtherEmbedder:
    """A second deterministic embedder with another name and size: what a model switch looks like."""

    name = "other-32"
    dimension = 32

    def embed(self, texts: Sequence[str], kind: str) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), np.float32)
        for i, t in enumerate(texts):
            out[i, len(t) % self.dimension] = 1.0
        return out


def write_corpus(folder: Path) -> list[Path]:
    """Miljøudvalget 2025-05-14 (24/… case numbers) and three Fiktivt Planudvalg meetings in 2024."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "miljo.txt"]
    paths[0].write_text(miljo_text(council="Miljøudvalget"), encoding="utf-8")
    for name, text, _ in generated_minutes(3, seed=3):
        paths.append(folder / name)
        paths[-1].write_text(text, encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, hash_embedder: object) -> tuple[Path, list[Path]]:
    root = tmp_path_factory.mktemp("store")
    paths = write_corpus(root / "in")
    if IT_ARK.is_file():
        paths.append(IT_ARK)
    db = root / "db"
    with open_index(db, hash_embedder, create=True, write=True) as index:  # type: ignore[arg-type]
        results = ingest_paths(index, paths)
    assert [r.status for r in results] == ["ny"] * len(paths), results
    return db, paths


@pytest.fixture
def index(built: tuple[Path, list[Path]], hash_embedder: object) -> Iterator[Index]:
    with open_index(built[0], hash_embedder) as ix:  # type: ignore[arg-type]
        yield ix


def test_manifest_records_how_and_what(built: tuple[Path, list[Path]], index: Index) -> None:
    db, paths = built
    m = index.manifest
    assert (m.embedding_model, m.dimension, m.chunk_size, m.chunk_overlap) == ("hash-64", 64, 1200, 150)
    assert {e.source for e in m.meetings} == {str(p.resolve()) for p in paths}
    assert m.pending == ()
    assert m.counts["meetings"] == len(paths)
    assert m.counts["items"] == sum(e.items for e in m.meetings) == len(index.store.get_items())
    assert m.counts["chunks"] == sum(e.chunks for e in m.meetings) == index.store.count()
    on_disk = json.loads((db / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == json.loads(json.dumps(m.to_json()))
    miljo = next(e for e in m.meetings if e.source.endswith("miljo.txt"))
    assert (miljo.council, miljo.meeting_date, miljo.items) == ("Miljøudvalget", "2025-05-14", 5)


def test_stored_items_keep_their_fields(index: Index) -> None:
    items = {(i.source.rsplit("/", 1)[-1], i.section): i for i in index.store.get_items()}
    cyk = items[("miljo.txt", "2")]
    assert (cyk.title, cyk.case_number, cyk.meeting_date, cyk.closed) == (
        "Cykelstier langs Åvej", "24/1234", date(2025, 5, 14), False)
    assert "1. Forundersøgelse af trafikken" in cyk.text
    closed = items[("miljo.txt", "5")]
    assert closed.closed and closed.case_number is None


def test_lexical_search_needs_no_embedder(built: tuple[Path, list[Path]]) -> None:
    with open_index(built[0], None) as ix:
        hits = ix.search("madaffald kompostbeholdere", k=3, mode="lexical")
        assert hits[0].chunk.title == "Ny ordning for madaffald"
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        with pytest.raises(ValueError):
            ix.search("madaffald", mode="dense")


def test_dense_search_finds_a_passage_by_its_own_text(index: Index) -> None:
    # HashEmbedder maps equal texts to equal vectors, so cosine 1.0 tells direction and scale are right.
    target = next(c for c in index.store.get_chunks() if c.title == "Vinterbekæmpelse på stierne")
    query = embedding_text(target.title, target.text)
    hits = index.search(query, k=3, mode="dense")
    assert hits[0].chunk.id == target.id
    assert hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    # The item is ranked by its passage plus SENTENCE_WEIGHT times its best sentence, embedded here anew.
    item = index.item_text(target)
    sents = index.embedder.embed(index_sentences(target.title, item), "passage")  # type: ignore[union-attr]
    best = float(np.max(sents @ index.embedder.embed([query], "query")[0]))  # type: ignore[union-attr]
    assert 0.0 < best < 1.0
    # ... less HUB_WEIGHT times its hubness: the mean of its HUB_K best cosines to other items' sentences,
    # read here straight from chromadb's sentence collection.
    passage = index.embedder.embed([embedding_text(target.title, target.text)], "passage")[0]  # type: ignore[union-attr]
    others = [v for row, v in index.store.get_sentences() if (row.source, row.section) != (target.source, target.section)]
    hub = float(np.mean(np.sort(np.stack(others) @ passage)[-HUB_K:]))
    assert hits[0].score == pytest.approx(1.0 + SENTENCE_WEIGHT * best - HUB_WEIGHT * hub, abs=1e-5)
    assert all(h.score <= hits[0].score for h in hits)


def test_hybrid_gives_one_hit_per_item_best_first(index: Index) -> None:
    hits = index.search("budget for skolevej og parkeringsnorm", k=8)
    assert len(hits) == 8
    keys = [(h.chunk.source, h.chunk.section) for h in hits]
    assert len(keys) == len(set(keys))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(-1.0 <= h.similarity <= 1.0 + 1e-6 for h in hits)


def test_hybrid_puts_the_item_that_matches_both_ways_first(index: Index) -> None:
    # The exact passage (dense: cosine 1.0) whose rare words also win BM25: first in every mode.
    target = next(c for c in index.store.get_chunks() if c.title == "Ny ordning for madaffald")
    query = embedding_text(target.title, target.text)
    for mode in ("hybrid", "dense", "lexical"):
        assert index.search(query, k=1, mode=mode)[0].chunk.id == target.id, mode  # type: ignore[arg-type]


def test_query_naming_a_case_number_gets_that_item_first(index: Index) -> None:
    for mode in ("hybrid", "lexical", "dense"):
        hits = index.search("Hvad blev besluttet i sag 24/1234?", k=3, mode=mode)  # type: ignore[arg-type]
        assert hits[0].chunk.case_number == "24/1234", mode


@needs_real
def test_query_naming_a_section_gets_that_item_first(index: Index) -> None:
    for query in ("Hvad skete der under punkt 2.7?", "SAG-2025-02755", "pkt. 2.7"):
        hits = index.search(query, k=3)
        assert (hits[0].chunk.section, hits[0].chunk.case_number) == ("2.7", "SAG-2025-02755"), query


def test_filters(index: Index) -> None:
    hits = index.search("godkendt beslutning", k=20, where=Where(council="Fiktivt Planudvalg"))
    assert hits and {h.chunk.council for h in hits} == {"Fiktivt Planudvalg"}
    hits = index.search("godkendt beslutning", k=20, where=Where(since=date(2025, 1, 1)))
    assert hits and all(h.chunk.meeting_date and h.chunk.meeting_date >= date(2025, 1, 1) for h in hits)
    hits = index.search("godkendt beslutning", k=20, where=Where(until=date(2024, 2, 28)))
    assert hits and all(h.chunk.meeting_date and h.chunk.meeting_date <= date(2024, 2, 28) for h in hits)
    hits = index.search("cykelsti", k=5, where=Where(case_number="25/0456"))
    assert [h.chunk.case_number for h in hits] == ["25/0456"]
    for mode in ("lexical", "dense"):
        hits = index.search("godkendt", k=50, mode=mode, where=Where(council="Miljøudvalget"))  # type: ignore[arg-type]
        assert {h.chunk.council for h in hits} == {"Miljøudvalget"}, mode


def test_unchanged_files_cost_nothing(built: tuple[Path, list[Path]], hash_embedder: object) -> None:
    db, paths = built
    with open_index(db, hash_embedder, write=True) as ix:  # type: ignore[arg-type]
        before = (ix.manifest.generation, ix.store.count())
        results = ingest_paths(ix, paths)
        assert [r.status for r in results] == ["uændret"] * len(paths)
        assert (ix.manifest.generation, ix.store.count()) == before


def test_changed_file_replaces_its_items(tmp_path: Path, hash_embedder: object) -> None:
    paths = write_corpus(tmp_path / "in")
    db = tmp_path / "db"
    with open_index(db, hash_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, paths)
        counts = dict(ix.manifest.counts)
        paths[0].write_text(miljo_text(council="Miljøudvalget").replace("madaffald", "haveaffald"), encoding="utf-8")
        r = ingest_file(ix, paths[0])
        assert (r.status, r.items) == ("opdateret", 5)
        assert ix.manifest.counts == counts
        assert ix.store.count() == counts["chunks"]  # the old passages are gone from chromadb, not just hidden
    with open_index(db, None) as ix:
        assert not [h for h in ix.search("madaffald", k=10, mode="lexical") if h.chunk.source == str(paths[0])]
        assert ix.search("haveaffald", k=1, mode="lexical")[0].chunk.title == "Ny ordning for haveaffald"


def test_other_embedder_is_refused(built: tuple[Path, list[Path]]) -> None:
    with pytest.raises(IndexMismatch) as exc:
        open_index(built[0], OtherEmbedder())  # type: ignore[arg-type]
    message = str(exc.value)
    assert "--rebuild" in message and "hash-64" in message and "other-32" in message
    # The failed open let go of the lock: a writer can come in.
    with open_index(built[0], None, write=True):
        pass


def test_no_index(tmp_path: Path, hash_embedder: object) -> None:
    with pytest.raises(NoIndex, match="raadgiver ingest"):
        open_index(tmp_path / "tom", hash_embedder)  # type: ignore[arg-type]
    (tmp_path / "fil").write_text("ikke en mappe")
    with pytest.raises(IndexCorrupt, match="--db"):
        open_index(tmp_path / "fil", hash_embedder, create=True, write=True)  # type: ignore[arg-type]


def test_dirlocks_conflict_like_processes(tmp_path: Path) -> None:
    # flock belongs to the open file description, so two DirLocks in one process conflict as two processes do.
    a, b = DirLock(tmp_path), DirLock(tmp_path)
    a.acquire(exclusive=True)
    with pytest.raises(IndexBusy, match="anden proces"):
        b.acquire(exclusive=True)
    with pytest.raises(IndexBusy):
        b.acquire(exclusive=False)
    a.release()
    b.acquire(exclusive=False)
    a.acquire(exclusive=False)  # readers share
    c = DirLock(tmp_path)
    with pytest.raises(IndexBusy):
        c.acquire(exclusive=True)
    a.release()
    b.release()
    c.acquire(exclusive=True)
    c.release()


def test_second_writer_in_the_same_process_is_busy(built: tuple[Path, list[Path]], hash_embedder: object) -> None:
    with open_index(built[0], hash_embedder, write=True):  # type: ignore[arg-type]
        with pytest.raises(IndexBusy, match="anden proces"):
            open_index(built[0], hash_embedder, write=True)  # type: ignore[arg-type]
        with pytest.raises(IndexBusy):
            open_index(built[0], None)  # a reader waits for the writer too
    with open_index(built[0], None), open_index(built[0], None):
        pass  # two readers at once are fine


def test_second_writer_in_another_process_is_busy(built: tuple[Path, list[Path]], hash_embedder: object) -> None:
    code = ("import sys, time; from pathlib import Path; from index.store import open_index; "
            "ix = open_index(Path(sys.argv[1]), None, write=True); print('holding', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(built[0])], stdout=subprocess.PIPE, text=True,
                             cwd=REPO, env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        with pytest.raises(IndexBusy):
            open_index(built[0], hash_embedder, write=True)  # type: ignore[arg-type]
        with pytest.raises(IndexBusy):
            open_index(built[0], None)
    finally:
        child.kill()
        child.wait()
    with open_index(built[0], hash_embedder, write=True):  # type: ignore[arg-type]
        pass  # the kernel let go of a killed holder's lock


def test_cli_writer_is_busy_while_index_is_open_for_writing(tmp_path: Path, raadgiver: Raadgiver,
                                                            hash_embedder: object) -> None:
    paths = write_corpus(tmp_path / "in")
    db = tmp_path / "db"
    with open_index(db, hash_embedder, create=True, write=True):  # type: ignore[arg-type]
        r = raadgiver("ingest", paths[0], "--model", "hash", db=db)
    assert r.returncode == 2
    assert r.stderr.startswith("Fejl: ") and "anden proces" in r.stderr and "Traceback" not in r.stderr


def _interrupted(db: Path, embedder: object, paths: list[Path]) -> None:
    """What kills leave between 'write chunks' and 'commit': pending announced, chunks written."""
    with open_index(db, embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        for path in paths:
            doc = read_document(path)
            meeting = parse_meeting(replace(doc, source=Path(str(path.resolve()))))
            chunks = chunk_meeting(meeting)
            vectors = ix.embedder.embed([embedding_text(c.title, c.text) for c in chunks], "passage")  # type: ignore[union-attr]
            ix.commit(replace(ix.manifest, pending=ix.manifest.pending + ((meeting.source, meeting.content_hash),)))
            first: dict[str, Chunk] = {}
            for c in chunks:
                first.setdefault(c.section, c)
            ix.store.add(chunks, vectors, [(it, first[it.section]) for it in meeting.items])


def test_interrupted_ingest_is_invisible_and_recovered(tmp_path: Path, hash_embedder: object) -> None:
    paths = write_corpus(tmp_path / "in")
    db = tmp_path / "db"
    with open_index(db, hash_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, paths[1:])
        committed = dict(ix.manifest.counts)
    # A new file half-written, and a new version of a committed file half-written.
    paths[1].write_text(paths[1].read_text(encoding="utf-8").replace("godkendt", "udsat"), encoding="utf-8")
    _interrupted(db, hash_embedder, paths[:2])
    with open_index(db, hash_embedder) as ix:  # type: ignore[arg-type]
        assert ix.store.count() > committed["chunks"]
        assert ix.manifest.counts == committed
        for mode in ("lexical", "dense", "hybrid"):
            hits = ix.search("godkendt madaffald cykelstier udsat", k=50, mode=mode)  # type: ignore[arg-type]
            assert hits and all(h.chunk.content_hash == ix.manifest.committed()[h.chunk.source] for h in hits), mode
            assert not [h for h in hits if "udsat" in h.chunk.text], mode
        visible = {(i.source, i.content_hash) for i in ix.store.get_items()} & set(ix.manifest.committed().items())
        assert len(visible) == 3
    with open_index(db, hash_embedder, write=True) as ix:  # type: ignore[arg-type]
        assert ix.manifest.pending == ()
        assert ix.store.count() == committed["chunks"]  # recover() removed what was never committed
        results = ingest_paths(ix, paths)
        assert [r.status for r in results] == ["ny", "opdateret", "uændret", "uændret"]
        assert ix.store.count() == ix.manifest.counts["chunks"]


def test_search_in_an_index_with_no_committed_meeting(tmp_path: Path, hash_embedder: object) -> None:
    paths = write_corpus(tmp_path / "in")
    _interrupted(tmp_path / "db", hash_embedder, paths[:1])
    with open_index(tmp_path / "db", hash_embedder) as ix:  # type: ignore[arg-type]
        assert ix.search("madaffald", mode="hybrid") == []


def test_metadata_round_trip() -> None:
    for meeting_date, case in [(date(2025, 3, 9), "SAG-2025-00001"), (None, None)]:
        c = Chunk(id="abc", text="tekst", council="Råd", meeting_date=meeting_date, section="2.1", title="Titel",
                  case_number=case, source="/x/y.txt", content_hash="h", passage=1, passages=3)
        meta = to_metadata(c)
        assert all(isinstance(v, (str, int, float, bool)) for v in meta.values())
        assert from_metadata("abc", "tekst", meta) == c


def test_where_and_date_numbers() -> None:
    assert date_num(date(2025, 9, 3)) == 20250903 and date_num(None) == 0
    assert Where().to_chroma() is None
    assert Where(council="A").to_chroma() == {"council": "A"}
    w = Where(since=date(2025, 1, 1), case_number="24/1").to_chroma()
    assert w == {"$and": [{"date_num": {"$gte": 20250101}}, {"date_num": {"$gt": 0}}, {"case_number": "24/1"}]}
    w = Where(until=date(2025, 6, 30), include_undated=True).to_chroma()
    assert w == {"$or": [{"$and": [{"date_num": {"$lte": 20250630}}, {"date_num": {"$gt": 0}}]}, {"date_num": 0}]}
    assert Where(include_undated=True).to_chroma() is None  # no range, nothing to include


@pytest.mark.slow
def test_real_model_finds_items_by_meaning(tmp_path: Path, real_embedder: object) -> None:
    paths = write_corpus(tmp_path / "in")[:2]  # Miljøudvalget and one Planudvalg meeting: 10 passages
    db = tmp_path / "db"
    with open_index(db, real_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, paths)
        assert ix.manifest.embedding_model == real_embedder.name  # type: ignore[attr-defined]
        assert ix.manifest.dimension == 384
        # No word of the query is in the item; only its meaning is.
        hits = ix.search("Hvornår skal borgerne begynde at skille madrester fra?", k=3, mode="dense")
        assert hits[0].chunk.title == "Ny ordning for madaffald"
        assert 0.5 < hits[0].similarity <= 1.0
        hits = ix.search("Hvordan ryddes sne og is på stierne om vinteren?", k=3, mode="hybrid")
        assert hits[0].chunk.title == "Vinterbekæmpelse på stierne"
    with pytest.raises(IndexMismatch, match="--rebuild"):
        open_index(db, OtherEmbedder())  # type: ignore[arg-type]


class CountingEmbedder:
    """The hash embedder, recording how many passages each embed call got, and which."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name, self.dimension = inner.name, inner.dimension  # type: ignore[attr-defined]
        self.calls: list[int] = []
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], kind: str) -> np.ndarray:
        if kind == "passage":
            self.calls.append(len(texts))
            self.texts += texts
        return self.inner.embed(texts, kind)  # type: ignore[attr-defined]


def test_batched_ingest_shares_embed_calls_and_equals_one_file_at_a_time(tmp_path: Path, hash_embedder: object) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for name, text, _ in generated_minutes(8, seed=11):
        paths.append(folder / name)
        paths[-1].write_text(text, encoding="utf-8")
    (folder / "tom.txt").write_text("")
    # An error in the middle, and the same file twice: results still come one per path, in order.
    order = paths[:3] + [folder / "tom.txt"] + paths[3:] + [paths[0]]
    counting = CountingEmbedder(hash_embedder)
    with open_index(tmp_path / "batched", counting, create=True, write=True) as ix:  # type: ignore[arg-type]
        results = list(ingest_files(ix, order, batch_passages=20))
        batched_items = ix.store.get_items()
        batched_counts = ix.manifest.counts
        sentences = sum(m.sentences or 0 for m in ix.manifest.meetings)
        assert sentences == ix.store.sentences.count() > 0
    assert [r.path for r in results] == order
    assert [r.status for r in results] == ["ny"] * 3 + ["fejl"] + ["ny"] * 5 + ["uændret"]
    passages = sum(r.chunks for r in results[:-1])
    assert sum(counting.calls) == passages + sentences  # every passage and sentence embedded once
    assert len(counting.calls) < 8 and max(counting.calls) >= 20  # several meetings share a call
    single = CountingEmbedder(hash_embedder)
    with open_index(tmp_path / "single", single, create=True, write=True) as ix:  # type: ignore[arg-type]
        for path in paths:
            ingest_file(ix, path)
        assert ix.manifest.counts == batched_counts
        assert ix.store.get_items() == batched_items
    assert len(single.calls) == 8


def test_sentence_vectors_follow_their_file_and_group_by_item(tmp_path: Path, hash_embedder: object) -> None:
    paths = write_corpus(tmp_path / "in")
    db = tmp_path / "db"

    def stored(ix: Index) -> list[dict[str, Any]]:
        return ix.store.sentences.get(include=["metadatas"])["metadatas"]  # type: ignore[return-value]

    with open_index(db, hash_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, paths[:2])
        rows = stored(ix)
        assert len(rows) == sum(m.sentences or 0 for m in ix.manifest.meetings) > 0
        derived = ix.derived()
        assert derived.sentence_bounds is not None and derived.row_items is not None
        assert int(derived.sentence_bounds[-1]) == len(rows)
        # Every item with a passage has its sentences, in one block: the items of the rows, in order.
        items = {f"{m['source']}#{m['section']}" for m in derived.metas}
        assert len(derived.sentence_bounds) == len(items) + 1 == int(max(derived.row_items)) + 2
        # A changed file: its old sentence vectors go with its old passages.
        text = paths[0].read_text(encoding="utf-8")
        assert "madaffald" in text
        paths[0].write_text(text.replace("madaffald", "haveaffald"), encoding="utf-8")
        assert [r.status for r in ingest_paths(ix, paths[:1])] == ["opdateret"]
        new_hash = next(m.content_hash for m in ix.manifest.meetings if m.source == str(paths[0].resolve()))
        mine = [m for m in stored(ix) if m["source"] == str(paths[0].resolve())]
        assert mine and {m["content_hash"] for m in mine} == {new_hash}
        assert len(stored(ix)) == sum(m.sentences or 0 for m in ix.manifest.meetings)


def test_an_index_without_sentence_vectors_ranks_by_its_passages_alone(tmp_path: Path, hash_embedder: object,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import index.build as build

    # What an index ingested before sentence vectors existed holds: passages and items only.
    monkeypatch.setattr(build, "meeting_sentences", lambda meeting: ())
    with open_index(tmp_path / "db", hash_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, write_corpus(tmp_path / "in"))
        assert ix.store.sentences.count() == 0
        hits = ix.search("vinterbekæmpelse på stierne", k=3, mode="dense")
        assert hits and all(h.score == pytest.approx(h.similarity) for h in hits)


def two_meetings_searched(tmp_path: Path, embedder: object) -> tuple[Path, list[Path], list[tuple[str, float]]]:
    """An index of the corpus' first two meetings, and its lexical hits for "madaffald beholdere" (which saves
    the derived search files)."""
    paths = write_corpus(tmp_path / "in")
    db = tmp_path / "db"
    with open_index(db, embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, paths[:2])
    return db, paths, lexical_hits(db)


def lexical_hits(db: Path) -> list[tuple[str, float]]:
    with open_index(db, None) as ix:
        return [(h.chunk.id, h.score) for h in ix.search("madaffald beholdere", k=5, mode="lexical")]


def count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per derived build (a read of every chunk in chromadb) from now on."""
    builds: list[int] = []
    build = Index._build_derived
    monkeypatch.setattr(Index, "_build_derived", lambda self, exact: builds.append(1) or build(self, exact))
    return builds


def test_saved_bm25_is_reused_and_follows_every_change(tmp_path: Path, hash_embedder: object,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db, paths, first = two_meetings_searched(tmp_path, hash_embedder)
    saved = list((db / "lexical").iterdir())
    assert len(saved) == 1 and (saved[0] / "rows.json").is_file()
    # A fresh process-like open loads the saved index: chromadb's chunks are not read again.
    reads = count_builds(monkeypatch)
    with open_index(db, None) as ix:
        assert [(h.chunk.id, h.score) for h in ix.search("madaffald beholdere", k=5, mode="lexical")] == first
    assert reads == []
    # New minutes: a new key, rebuilt once, the old save removed, the new meeting findable by its words.
    new_title = [it.title for it in parse_meeting(read_document(paths[2])).items][0]
    with open_index(db, hash_embedder, write=True) as ix:  # type: ignore[arg-type]
        ingest_file(ix, paths[2])
    with open_index(db, None) as ix:
        assert ix.search(new_title, k=1, mode="lexical")[0].chunk.title == new_title
    assert reads == [1]
    assert [p.name for p in (db / "lexical").iterdir()] != [saved[0].name]
    assert len(list((db / "lexical").iterdir())) == 1
    # A damaged save is rebuilt, not trusted, and replaced: the next process loads it again.
    (next((db / "lexical").iterdir()) / "rows.json").write_text("{ødelagt")
    with open_index(db, None) as ix:
        assert ix.search(new_title, k=1, mode="lexical")[0].chunk.title == new_title
    assert reads == [1, 1]
    with open_index(db, None) as ix:
        assert ix.search(new_title, k=1, mode="lexical")[0].chunk.title == new_title
    assert reads == [1, 1] and len(list((db / "lexical").iterdir())) == 1


def test_two_processes_save_the_same_bm25_byte_for_byte(tmp_path: Path) -> None:
    """bm25s numbered a token list's terms through a set, so each process (its own string hashing) saved other
    term ids; a reader that met one process's vocabulary and another's matrices ranked the wrong passages
    (CI: a lexical search for madaffald answered with the digitisation strategy)."""
    texts = write_corpus(tmp_path / "in")
    script = ("import sys; from pathlib import Path; from index.lexical import Bm25; "
              "Bm25([p.read_text(encoding='utf-8') for p in sorted(Path(sys.argv[1]).iterdir())]).save(Path(sys.argv[2]))")
    saved = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}"
        out.mkdir()
        subprocess.run([sys.executable, "-c", script, str(texts[0].parent), str(out)], cwd=REPO, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed})
        saved.append({f.name: f.read_bytes() for f in sorted(out.iterdir())})
    assert len(saved[0]) >= 4 and saved[0] == saved[1]
    assert json.loads(saved[0]["vocab.index.json"])  # a real vocabulary, not two empty ones


def test_a_save_replaced_while_it_is_read_is_not_trusted(tmp_path: Path, hash_embedder: object,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    db, _, first = two_meetings_searched(tmp_path, hash_embedder)
    (folder,) = (db / "lexical").iterdir()
    # Another process replaces the save between this one's first and last file: the mix is rebuilt, not used.
    read = store._read_derived
    replaced: list[int] = []

    def replaced_meanwhile(*args: Any) -> Any:
        got = read(*args)
        replaced.append(1)
        (folder / store.SAVE_ID).write_text(f"en anden proces' gemte indeks nr. {len(replaced)}")
        return got

    monkeypatch.setattr(store, "_read_derived", replaced_meanwhile)
    assert store._load_derived(folder, store.LEXICAL_OPTIONS, hash_embedder.dimension, True) is None  # type: ignore[attr-defined]
    builds = count_builds(monkeypatch)
    assert lexical_hits(db) == first
    assert builds == [1]
    monkeypatch.setattr(store, "_read_derived", read)
    # Two processes that both found no save build one each: the second keeps the first's, which loads.
    first_save = (folder / store.SAVE_ID).read_text()
    load = store._load_derived
    misses = iter([True])
    monkeypatch.setattr(store, "_load_derived", lambda *a: None if next(misses, False) else load(*a))
    assert lexical_hits(db) == first
    assert builds == [1, 1] and (folder / store.SAVE_ID).read_text() == first_save
    assert [p.name for p in (db / "lexical").iterdir()] == [folder.name]


def test_bm25_works_when_it_cannot_be_saved(tmp_path: Path, hash_embedder: object) -> None:
    paths = write_corpus(tmp_path / "in")
    db = tmp_path / "db"
    with open_index(db, hash_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, paths[:1])
    (db / "lexical").write_text("en fil, hvor mappen skulle være")  # saving fails, even as root
    with open_index(db, None) as ix:
        assert ix.search("madaffald", k=1, mode="lexical")[0].chunk.title == "Ny ordning for madaffald"
    assert (db / "lexical").read_text() == "en fil, hvor mappen skulle være"
    assert not list(db.glob(".tmp-*")) and not list(db.glob("**/.tmp-*"))


def test_manifest_keeps_one_record_per_meeting_and_reads_the_old_single_record(tmp_path: Path,
                                                                               hash_embedder: object) -> None:
    import json as _json

    from index.vector import meeting_record_id

    paths = write_corpus(tmp_path / "in")
    db = tmp_path / "db"
    with open_index(db, hash_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, paths)
        full = ix.manifest.to_json()
        # The head record holds no meeting list; each meeting is a record of its own.
        head = _json.loads(ix.store._manifest.get(ids=["manifest"], include=["documents"])["documents"][0])
        assert "meetings" not in head and head["version"] == 2
        records = ix.store._manifest.get(where={"kind": "meeting"})["ids"]
        assert sorted(records) == sorted(meeting_record_id(m.source) for m in ix.manifest.meetings)
        # An index written by the first format: everything in the head record.
        ix.store._manifest.delete(ids=records)
        ix.store._manifest.upsert(ids=["manifest"], documents=[_json.dumps({**full, "version": 1})], embeddings=[[1.0]])
    with open_index(db, None) as ix:
        assert ix.manifest.to_json() == {**full, "version": 1}
        assert ix.search("madaffald", k=1, mode="lexical")[0].chunk.title == "Ny ordning for madaffald"
    # The next write moves it to one record per meeting, keeping order and content.
    with open_index(db, hash_embedder, write=True) as ix:  # type: ignore[arg-type]
        paths[1].write_text(paths[1].read_text(encoding="utf-8") + "\nTilføjet efter mødet.\n", encoding="utf-8")
        assert ingest_file(ix, paths[1]).status == "opdateret"
    with open_index(db, None) as ix:
        got = ix.manifest.to_json()
        assert got["version"] == 2
        assert [m["source"] for m in got["meetings"]] == [m["source"] for m in full["meetings"] if
                                                          m["source"] != str(paths[1].resolve())] + [str(paths[1].resolve())]
        assert len(ix.store._manifest.get(where={"kind": "meeting"})["ids"]) == len(full["meetings"])


def test_a_commit_writes_only_the_meetings_that_changed(tmp_path: Path, hash_embedder: object,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    paths = write_corpus(tmp_path / "in")
    db = tmp_path / "db"
    with open_index(db, hash_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, paths[:3])
        written: list[int] = []
        original = type(ix.store)._write_manifest
        monkeypatch.setattr(type(ix.store), "_write_manifest",
                            lambda self, head, changed, removed, seq: written.append(len(changed))
                            or original(self, head, changed, removed, seq))
        ingest_file(ix, paths[3])
    assert written == [0, 1]  # announce (nothing changed yet), then commit of the one new meeting


def test_sentence_vectors_are_cached_and_equal_fresh_ones(tmp_path: Path, hash_embedder: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import index.store as store

    class Counting:
        name, dimension = hash_embedder.name, hash_embedder.dimension

        def __init__(self) -> None:
            self.texts: list[str] = []

        def embed(self, texts: Sequence[str], kind: str) -> np.ndarray:
            self.texts += list(texts)
            return hash_embedder.embed(texts, kind)

    counting = Counting()
    with open_index(tmp_path / "db", counting, create=True, write=True) as ix:
        texts = ["Rådet tilsluttede sig.", "Udvalget besluttede at udsætte sagen.", "Rådet tilsluttede sig."]
        got = ix.passage_vectors(texts)
        assert np.array_equal(got, hash_embedder.embed(texts, "passage"))
        assert counting.texts == texts[:2]  # each distinct text embedded once
        assert np.array_equal(ix.passage_vectors(texts[::-1]), got[::-1]) and counting.texts == texts[:2]
        monkeypatch.setattr(store, "SENTENCE_CACHE", 2)  # full: the cache starts over, answers stay right
        more = ["En ny sætning om cloud.", "Rådet tilsluttede sig."]
        assert np.array_equal(ix.passage_vectors(more), hash_embedder.embed(more, "passage"))
        assert ix.passage_vectors([]).shape == (0, hash_embedder.dimension)


def test_exact_dense_side_ranks_as_chromadbs_hnsw_and_a_search_never_reads_the_chunk_collection(
    tmp_path: Path, real_embedder: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import index.store as store

    db = tmp_path / "db"
    with open_index(db, real_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, write_corpus(tmp_path / "in"))
        stored = sorted(ix.store.get_chunks(), key=lambda c: c.id)
    queries = ["Hvornår skal borgerne begynde at skille madrester fra?", "vinterbekæmpelse stier", "godkendt"]
    wheres = [Where(), Where(council="Miljøudvalget"), Where(since=date(2024, 6, 1)), Where(case_number="25/0456")]

    def results() -> list[list[tuple[str, float, float]]]:
        shutil.rmtree(db / "lexical", ignore_errors=True)
        with open_index(db, real_embedder) as ix:  # type: ignore[arg-type]
            return [[(h.chunk.id, h.score, h.similarity) for h in ix.search(q, k=5, mode=mode, where=w)]
                    for q in queries for w in wheres for mode in ("hybrid", "dense", "lexical")]

    with_sentences = results()
    # Above EXACT_DENSE_MAX the sentence vectors are not loaded (they would be several times the passages'
    # memory), nor the hubness measured against them: the dense sides compare without either.
    monkeypatch.setattr(store, "SENTENCE_WEIGHT", 0.0)
    without_sentences = results()
    monkeypatch.setattr(store, "HUB_WEIGHT", 0.0)
    exact = results()
    monkeypatch.setattr(store, "EXACT_DENSE_MAX", 0)  # what an index above it does: chromadb's HNSW answers
    hnsw = results()
    monkeypatch.undo()
    assert with_sentences != without_sentences != exact  # each term moves scores (and here and there a ranking)
    assert sum(1 for r in exact if r) > 20
    for got, want in zip(exact, hnsw, strict=True):
        assert [cid for cid, _, _ in got] == [cid for cid, _, _ in want]
        assert np.allclose([s for _, s, _ in got], [s for _, s, _ in want], atol=1e-5)
        assert np.allclose([c for _, _, c in got], [c for _, _, c in want], atol=1e-5)
    with open_index(db, real_embedder) as ix:  # type: ignore[arg-type]
        ix.search(queries[0])  # saves the derived files
    with open_index(db, real_embedder) as ix:  # type: ignore[arg-type]
        saved = ix.derived()
        assert isinstance(saved.chunks, store.SavedChunks) and saved.vectors is not None
        assert sorted(saved.chunks, key=lambda c: c.id) == stored  # every field, text included

        class NoReads:
            def __getattr__(self, name: str) -> Any:
                raise AssertionError(f"the chunk collection was read ({name})")

        ix.store.chunks = NoReads()  # type: ignore[assignment]
        assert [h.chunk.id for h in ix.search(queries[0], k=5)] == [cid for cid, _, _ in with_sentences[0]]
        named = ix.search("Hvad skete der i sag 25/0456?", k=3)  # a direct reference: listed from the saved rows
        assert named and named[0].chunk.case_number == "25/0456"


def test_a_compound_typed_as_two_words_counts_as_held_in_the_word_evidence(tmp_path: Path,
                                                                           hash_embedder: object) -> None:
    paths = write_corpus(tmp_path / "in")
    with open_index(tmp_path / "db", hash_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        ingest_paths(ix, paths[:1])
        held = {w.word: w for w in ix.query_evidence("ny ordning for mad affald")}
        # "mad" and "affald" are not words of the minutes, "madaffald" is: both count as that compound.
        assert held["mad"].terms == held["affald"].terms == ("madaffald",)
        assert held["mad"].match == held["affald"].match == 1.0
        assert held["mad"].idf == held["affald"].idf == next(iter(
            w.idf for w in ix.query_evidence("madaffald")))
