"""Taking meetings out of the index: `raadgiver meeting remove FIL` and `raadgiver ingest MAPPE --prune`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from index.store import open_index
from tests.conftest import REPO, Raadgiver

DEMO = sorted((REPO / "demo" / "minutes").glob("*.txt"))
GONE = "fiktivt-raad-referat-02.txt"  # the meeting of 10 September 2024 (the open source pilot, 2.2)


def copy_demo(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for p in DEMO:
        shutil.copy(p, folder / p.name)
    return folder


def titles(raadgiver: Raadgiver, db: Path) -> dict[str, list[str]]:
    rows = raadgiver.json("items", db=db)
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(Path(r["source"]).name, []).append(r["title"])
    return out


def test_meeting_remove_takes_one_meeting_out_and_nothing_else(tmp_path: Path, raadgiver: Raadgiver) -> None:
    folder = copy_demo(tmp_path / "in")
    db = tmp_path / "db"
    assert raadgiver("ingest", folder, "--model", "hash", db=db).returncode == 0
    before = titles(raadgiver, db)
    pilot = "Open source – mulighed for en afgrænset pilot"
    assert pilot in before[GONE]
    hit = raadgiver.json("search", pilot, "--model", "hash", "-k", "1", db=db)[0]
    assert (hit["title"], Path(hit["source"]).name) == (pilot, GONE)

    # A name the index does not have removes nothing, even beside one it has, and says where to look.
    bad = raadgiver("meeting", "remove", GONE, "findes-ikke.txt", db=db)
    assert bad.returncode == 2 and "Intet møde i indekset er læst fra 'findes-ikke.txt'" in bad.stderr
    assert "raadgiver items" in bad.stderr and titles(raadgiver, db) == before

    out = raadgiver.json("meeting", "remove", GONE, db=db)
    assert [(Path(r["source"]).name, r["meeting_date"], r["items"]) for r in out["removed"]] == \
        [(GONE, "2024-09-10", len(before[GONE]))]
    after = titles(raadgiver, db)
    assert after == {k: v for k, v in before.items() if k != GONE}
    assert out["counts"]["meetings"] == len(before) - 1
    hits = raadgiver.json("search", pilot, "--model", "hash", "-k", "20", db=db)
    assert hits and all(Path(h["source"]).name != GONE for h in hits)
    # The file itself is not touched, and ingesting it again brings the meeting back.
    again = raadgiver("ingest", folder / GONE, "--model", "hash", db=db)
    assert again.returncode == 0 and again.stdout.startswith("ny "), again.stdout
    assert titles(raadgiver, db) == before


def test_a_kill_during_a_removal_leaves_the_meeting_out_and_the_next_writer_cleans_up(
        tmp_path: Path, hash_embedder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = copy_demo(tmp_path / "in")
    db = tmp_path / "db"
    source = str((folder / GONE).resolve())
    with open_index(db, hash_embedder, create=True, write=True) as ix:
        from index.build import ingest_paths

        ingest_paths(ix, [folder])
        ids_before = len(ix.store.chunks.get(include=[])["ids"])

        def killed(*args: Any, **kwargs: Any) -> None:
            raise KeyboardInterrupt("kill -9 between the commit and the delete")

        monkeypatch.setattr(ix.store, "delete_source", killed)
        with pytest.raises(KeyboardInterrupt):
            ix.remove_meeting(source)
        monkeypatch.undo()
        # Committed without it: no search sees the rows still in the store.
        assert source not in ix.manifest.committed()
        assert all(h.chunk.source != source for h in ix.search("open source pilot", k=20, mode="lexical"))
        stale = ix.store.chunks.get(where={"source": source}, include=[])["ids"]
        assert stale
    with open_index(db, hash_embedder, write=True) as ix:  # the next writer
        assert ix.store.chunks.get(where={"source": source}, include=[])["ids"] == []
        assert ix.store.items.get(where={"source": source}, include=[])["ids"] == []
        assert len(ix.store.chunks.get(include=[])["ids"]) == ids_before - len(stale)
        assert ix.manifest.pending == ()


def test_ingest_prune_removes_meetings_whose_files_left_the_folder(tmp_path: Path, raadgiver: Raadgiver) -> None:
    folder = copy_demo(tmp_path / "in")
    other = tmp_path / "andet" / "referat.txt"
    other.parent.mkdir()
    other.write_text(DEMO[0].read_text(encoding="utf-8"), encoding="utf-8")
    db = tmp_path / "db"
    assert raadgiver("ingest", folder, other, "--model", "hash", db=db).returncode == 0
    (folder / GONE).unlink()
    other.unlink()
    # Without --prune the index keeps what it has; with it, only meetings from the folder given go.
    kept = raadgiver("ingest", folder, "--model", "hash", db=db)
    assert kept.returncode == 0 and GONE in titles(raadgiver, db) and "fjernet" not in kept.stdout
    pruned = raadgiver("ingest", folder, "--prune", "--model", "hash", db=db)
    assert pruned.returncode == 0, pruned.stderr
    assert f"fjernet    {(folder / GONE).resolve()} (filen findes ikke længere" in pruned.stdout
    assert "1 fjernede" in pruned.stdout
    left = titles(raadgiver, db)
    assert GONE not in left and "referat.txt" in left  # another folder's vanished file is not this sync's
    assert set(left) == {p.name for p in folder.iterdir()} | {"referat.txt"}
    # Nothing left in the folder but a file that is not minutes: --prune empties what came from the folder,
    # and --json says, for scripts, what happened to each file and which meetings went.
    for p in folder.iterdir():
        p.unlink()
    (folder / "skidt.txt").write_bytes(b"\x00\x01 ikke et referat")
    empty = raadgiver("ingest", folder, "--prune", "--json", "--model", "hash", db=db)
    assert empty.returncode == 1 and empty.stderr == "", empty.stderr  # one file failed; all else is in the JSON
    out = json.loads(empty.stdout)
    assert [(Path(f["path"]).name, f["status"], f["message"]) for f in out["files"]] == \
        [("skidt.txt", "fejl", "filen er binær og ikke et dokument")]
    assert sorted(Path(r["source"]).name for r in out["removed"]) == sorted(p.name for p in DEMO if p.name != GONE)
    assert all(r["council"] and r["items"] > 0 for r in out["removed"])
    assert out["counts"]["meetings"] == 1 and set(titles(raadgiver, db)) == {"referat.txt"}
