"""kill -9 during `raadgiver ingest`, for real: a meeting is in the index whole or not at all.

The CLI ingests 30 fictional minutes in a subprocess and is SIGKILLed at seeded random moments (after
some files are done, plus a random sleep that lands inside the next file's write; once during
start-up). After every kill the index must answer consistently; a final run completes the job and
must give exactly what a clean ingest gives.
"""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from index.store import open_index
from ingest.parse import parse_meeting
from ingest.read import read_document
from tests.badfiles import generated_minutes
from tests.conftest import Raadgiver, cli_env

N_FILES = 30
SEED = 20250827


def write_files(folder: Path) -> dict[str, list[str]]:
    """The minutes files, and the sections each must give."""
    folder.mkdir(parents=True)
    expected = {}
    for name, text, items in generated_minutes(N_FILES, seed=SEED):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        expected[str(path.resolve())] = [it.section for it in items]
    return expected


def listing(raadgiver: Raadgiver, db: Path) -> tuple[dict[str, list[str]], set[tuple[str, str]]]:
    """(sections per source from `items --json`, (source, section) of every hit of a search for all items)."""
    items_r, search_r = raadgiver.many([
        (("items", "--json"), db),
        # Every generated item ends "Møde m punkt s: godkendt.", so this finds every committed item.
        (("search", "godkendt", "-k", "1000", "--json", "--model", "hash"), db),
    ])
    if items_r.returncode == 2 and "intet indeks" in items_r.stderr:  # killed before the first commit
        assert search_r.returncode == 2 and "intet indeks" in search_r.stderr
        return {}, set()
    assert items_r.returncode == 0, items_r.stderr
    assert search_r.returncode == 0, search_r.stderr
    sections: dict[str, list[str]] = {}
    for row in json.loads(items_r.stdout):
        sections.setdefault(row["source"], []).append(row["section"])
    hits = {(h["source"], h["section"]) for h in json.loads(search_r.stdout)}
    return sections, hits


def kill_during_ingest(raadgiver: Raadgiver, folder: Path, db: Path, after_files: int, sleep: float,
                       log: Path) -> dict[str, Any]:
    """Start an ingest, wait until ``after_files`` files went in (0: from the start), sleep, SIGKILL."""
    with open(log, "a") as err:
        # Batches of ~2 files: many commit points to land in, and still several meetings per embed call.
        proc = raadgiver.start("ingest", folder, "--model", "hash", "--embed-batch", "10", db=db, stderr=err,
                               env=cli_env(raadgiver.home, PYTHONUNBUFFERED="1"))
        assert proc.stdout is not None
        done = 0
        while done < after_files:
            line = proc.stdout.readline()
            if not line:
                break  # it finished first
            if line.split(" ", 1)[0] in ("ny", "opdateret"):
                done += 1
        time.sleep(sleep)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
    return {"after_files": after_files, "sleep": round(sleep, 3), "killed": alive, "rc": proc.returncode}


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory, raadgiver: Raadgiver) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("crash")
    expected = write_files(root / "in")
    clean_db, db = root / "clean", root / "db"
    clean = raadgiver.start("ingest", root / "in", "--model", "hash", db=clean_db)  # the reference, meanwhile
    rng = random.Random(SEED)
    rounds = []
    plan = [(0, rng.uniform(0.5, 2.0))] + [(rng.randint(1, 4), rng.uniform(0.0, 0.25)) for _ in range(4)]
    for after_files, sleep in plan:
        rounds.append(kill_during_ingest(raadgiver, root / "in", db, after_files, sleep, root / "stderr.log"))
        rounds[-1]["listing"] = listing(raadgiver, db)
    out, err = clean.communicate(timeout=240)
    assert clean.returncode == 0, err
    final = raadgiver("ingest", root / "in", "--model", "hash", db=db)
    return {"expected": expected, "rounds": rounds, "final": final, "db": db, "clean_db": clean_db,
            "stderr": (root / "stderr.log").read_text()}


def test_kills_landed_mid_ingest(crashed: dict[str, Any]) -> None:
    rounds = crashed["rounds"]
    # On a quiet machine a round may finish its files before the kill lands; at least two must land.
    assert sum(r["killed"] for r in rounds) >= 2, rounds
    assert all(r["rc"] == -signal.SIGKILL for r in rounds if r["killed"])
    # Progress was made between kills (on a fast machine the last round may finish the files before
    # its kill lands; the final run then finds nothing to do, which is checked below too).
    committed = [len(r["listing"][0]) for r in rounds]
    assert committed == sorted(committed) and 0 < committed[-1] <= N_FILES, committed
    assert any(0 < n < N_FILES for n in committed), committed  # at least one kill landed mid-ingest
    assert "Traceback" not in crashed["stderr"], crashed["stderr"]


def test_after_every_kill_meetings_are_whole_or_absent(crashed: dict[str, Any]) -> None:
    for r in crashed["rounds"]:
        sections, hits = r["listing"]
        for source, got in sections.items():
            assert got == crashed["expected"][source], (r, source)
        # Search sees exactly the committed items: nothing half-written, nothing missing.
        assert hits == {(s, sec) for s, secs in sections.items() for sec in secs}, r


def test_generated_files_parse_to_the_expected_sections(crashed: dict[str, Any]) -> None:
    for source, sections in list(crashed["expected"].items())[:5]:
        assert [it.section for it in parse_meeting(read_document(Path(source))).items] == sections


def test_rerun_completes_and_equals_a_clean_ingest(crashed: dict[str, Any], raadgiver: Raadgiver) -> None:
    final = crashed["final"]
    assert final.returncode == 0, final.stderr
    db, clean_db = crashed["db"], crashed["clean_db"]
    got, clean, info, clean_info = raadgiver.many([
        (("items", "--json"), db), (("items", "--json"), clean_db), (("info",), db), (("info",), clean_db)])
    rows, clean_rows = json.loads(got.stdout), json.loads(clean.stdout)
    assert rows == clean_rows
    sections: dict[str, list[str]] = {}
    for row in rows:
        sections.setdefault(row["source"], []).append(row["section"])
    assert sections == crashed["expected"]
    manifest, clean_manifest = json.loads(info.stdout), json.loads(clean_info.stdout)
    assert manifest["counts"] == clean_manifest["counts"]
    assert manifest["pending"] == []
    # Nothing a killed run wrote survives uncommitted in chromadb.
    with open_index(db, None) as ix:
        assert ix.store.count() == manifest["counts"]["chunks"]
        assert len(ix.store.get_items()) == manifest["counts"]["items"]
