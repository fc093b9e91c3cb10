"""A new user's first hour on the command line (issue 13): Danish help, early errors, correcting a meeting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Raadgiver

ENGLISH = ("Show this message", "Usage:", "Options:", "Commands:", "[OPTIONS]", "COMMAND [ARGS]", "Missing argument",
           "No such option", "Error:", "Try '", "TEXT", "INTEGER", "default:", "is not a valid")


def english_in(text: str) -> list[str]:
    return [w for w in ENGLISH if w in text]


def test_help_and_usage_errors_are_danish(raadgiver: Raadgiver) -> None:
    top = raadgiver("--help", timeout=60)
    assert top.returncode == 0 and english_in(top.stdout) == [], top.stdout
    assert "Brug: " in top.stdout and "Tilvalg:" in top.stdout and "Kommandoer:" in top.stdout
    assert "Vis denne hjælp og afslut." in top.stdout
    sub = raadgiver("search", "--help", timeout=60)
    assert sub.returncode == 0 and english_in(sub.stdout) == [], sub.stdout
    assert re.search(r"-k HELTAL\s+Antal punkter\.\s+\[standard: 5\]", sub.stdout), sub.stdout
    missing = raadgiver("ask", timeout=60)
    assert missing.returncode == 2 and english_in(missing.stderr) == [], missing.stderr
    assert "Fejl: Der mangler et argument 'SPØRGSMÅL'." in missing.stderr
    assert "Skriv '" in missing.stderr and "ask --help' for at få hjælp." in missing.stderr
    unknown = raadgiver("search", "x", "--nope", timeout=60)
    assert unknown.returncode == 2 and "Fejl: Tilvalget '--nope' findes ikke." in unknown.stderr, unknown.stderr
    bad = raadgiver("search", "x", "-k", "fem", timeout=60)
    assert bad.returncode == 2 and "'fem' er ikke et gyldigt heltal" in bad.stderr, bad.stderr
    typo = raadgiver("serch", timeout=60)
    assert typo.returncode == 2 and "Kommandoen 'serch' findes ikke." in typo.stderr and "Mente du" in typo.stderr


@pytest.mark.parametrize("command", ["ask", "search"])
def test_no_index_is_said_before_the_model_loads(raadgiver: Raadgiver, tmp_path: Path, command: str) -> None:
    # A model that does not exist: loading it first would fail on the model, not on the missing index.
    r = raadgiver(command, "Hvad mente rådet om open source?", "--model", tmp_path / "ingen-model",
                  db=tmp_path / "db", timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("Fejl: Der er intet indeks i ") and "raadgiver ingest STI" in r.stderr, r.stderr
    assert "Modellen" not in r.stderr and not (tmp_path / "db").exists()


# --------------------------------------------------------------------------- undated meetings

def minutes(council: str, day: str | None, title: str, case: str, text: str) -> str:
    """One-item fictional minutes; ``day`` None leaves the date out, as KL's minutes do."""
    dated = f"Mødedato: {day}\n" if day else ""
    return (f"FIKTIVT REFERAT – testdata; personer og sager er opdigtede.\n\nFiktiv Kommune\n\nReferat\n"
            f"Udvalg: {council}\n{dated}\nPunkt 1: {title}\nSagsnr.: {case}\n\n"
            f"Sagsfremstilling\n{text}\n\nBeslutning\nGodkendt.\n")


VECTORS = """
import hashlib, json, sys
from pathlib import Path
from index.vector import VectorStore
got = VectorStore.open(Path(sys.argv[1])).chunks.get(include=["embeddings"])
print(json.dumps({i: hashlib.sha256(bytes(memoryview(e.astype("float32")))).hexdigest()
                  for i, e in zip(got["ids"], got["embeddings"])}))
"""


def stored_vectors(raadgiver: Raadgiver, db: Path) -> dict[str, str]:
    """chunk id -> hash of its vector, read by a separate process."""
    import json
    import subprocess
    import sys

    from tests.conftest import cli_env

    r = subprocess.run([sys.executable, "-c", VECTORS, str(db)], capture_output=True, text=True, timeout=120,
                       env=cli_env(raadgiver.home))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


@pytest.fixture()
def undated_db(raadgiver: Raadgiver, tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "kl-referat.txt").write_text(minutes(
        "Fiktivt Arkitekturråd", None, "Fælles standard for digitale postkasser", "SAG-2025-09001",
        "Rådet drøftede en fælles standard for digitale postkasser i kommunerne."), encoding="utf-8")
    (src / "dateret.txt").write_text(minutes(
        "Fiktivt Arkitekturråd", "3. juni 2025", "Cykelparkering ved rådhuset", "SAG-2025-09002",
        "Rådet drøftede cykelparkering og digitale postkasser ved rådhuset."), encoding="utf-8")
    db = tmp_path / "db"
    r = raadgiver("ingest", src, "--model", "hash", db=db, timeout=120)
    assert r.returncode == 0, r.stderr
    return db, src / "kl-referat.txt"


def cases(raadgiver: Raadgiver, db: Path, *args: str) -> tuple[list[str], str]:
    r = raadgiver("search", "digitale postkasser", "--model", "hash", "--json", *args, db=db, timeout=120)
    assert r.returncode == 0, r.stderr
    import json

    return [h["case_number"] for h in json.loads(r.stdout)], r.stderr


def test_date_filter_says_how_many_undated_meetings_it_left_out(raadgiver: Raadgiver,
                                                                 undated_db: tuple[Path, Path]) -> None:
    db, _ = undated_db
    found, note = cases(raadgiver, db, "--since", "2025-01-01")
    assert found == ["SAG-2025-09002"]
    assert "1 møde uden kendt dato er ikke med i datofilteret" in note and "--include-undated" in note, note
    found, note = cases(raadgiver, db, "--since", "2025-01-01", "--include-undated")
    assert set(found) == {"SAG-2025-09001", "SAG-2025-09002"} and note == ""
    found, _ = cases(raadgiver, db, "--since", "2025-01-01", "--include-undated", "--mode", "lexical")
    assert set(found) == {"SAG-2025-09001", "SAG-2025-09002"}  # BM25's own filter agrees
    found, note = cases(raadgiver, db)
    assert set(found) == {"SAG-2025-09001", "SAG-2025-09002"} and note == ""  # no date filter, no note
    ask = raadgiver("ask", "Hvad med digitale postkasser?", "--model", "hash", "--until", "2025-12-31", db=db,
                    timeout=120)
    assert ask.returncode == 0 and "1 møde uden kendt dato" in ask.stderr, ask.stderr


def test_meeting_set_recites_without_reembedding(raadgiver: Raadgiver, undated_db: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    import json

    db, kl = undated_db
    assert cases(raadgiver, db, "--since", "2025-01-01", "--mode", "lexical")[0] == ["SAG-2025-09002"]  # BM25 saved
    vectors = stored_vectors(raadgiver, db)
    # By file name; a model that does not exist proves nothing is embedded (it would fail to load).
    r = raadgiver("meeting", "set", kl.name, "--meeting-date", "2025-03-04", "--council", "KL's It-Arkitekturråd",
                  "--model", tmp_path / "ingen-model", db=db, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "KL's It-Arkitekturråd, møde 2025-03-04 (før: Fiktivt Arkitekturråd, møde ukendt dato)" in r.stdout
    assert stored_vectors(raadgiver, db) == vectors  # same chunks, same vectors
    rows = raadgiver.json("items", db=db)
    mine = [row for row in rows if row["source"] == str(kl.resolve())]
    assert [(row["council"], row["meeting_date"]) for row in mine] == [("KL's It-Arkitekturråd", "2025-03-04")]
    for mode in ("hybrid", "dense", "lexical"):  # lexical: the saved BM25 was derived again
        found, note = cases(raadgiver, db, "--since", "2025-03-01", "--until", "2025-03-31", "--mode", mode)
        assert found == ["SAG-2025-09001"] and note == "", (mode, found, note)
    ask = raadgiver("ask", "Hvad med digitale postkasser?", "--model", "hash", "--since", "2025-03-01",
                    "--council", "KL's It-Arkitekturråd", "--json", db=db, timeout=120)
    assert ask.returncode == 0, ask.stderr
    cited = json.loads(ask.stdout)["citations"]
    assert cited and all(c["meeting_date"] == "2025-03-04" and c["council"] == "KL's It-Arkitekturråd" for c in cited)
    info = raadgiver("info", db=db, timeout=60)
    entry = next(m for m in json.loads(info.stdout)["meetings"] if m["source"] == str(kl.resolve()))
    assert (entry["council"], entry["meeting_date"]) == ("KL's It-Arkitekturråd", "2025-03-04")
    wrong = raadgiver("meeting", "set", "findes-ikke.txt", "--meeting-date", "2025-03-04", db=db, timeout=60)
    assert wrong.returncode == 2 and "Intet møde i indekset er læst fra 'findes-ikke.txt'" in wrong.stderr
    nothing = raadgiver("meeting", "set", kl.name, db=db, timeout=60)
    assert nothing.returncode == 2 and "Angiv --meeting-date og/eller --council" in nothing.stderr


def test_interrupted_meeting_set_is_finished_by_the_next_writer(tmp_path: Path) -> None:
    """A kill after the announcement, with only the chunks relabelled: the next writer completes it."""
    from dataclasses import replace
    from datetime import date

    from index.build import ingest_file
    from index.embed import HashEmbedder
    from index.store import open_index
    from index.vector import Where

    path = tmp_path / "kl-referat.txt"
    path.write_text(minutes("Fiktivt Arkitekturråd", None, "Digitale postkasser", "SAG-2025-09001",
                            "Rådet drøftede digitale postkasser."), encoding="utf-8")
    db = tmp_path / "db"
    with open_index(db, HashEmbedder(), create=True, write=True) as index:
        assert ingest_file(index, path).status == "ny"
        source = str(path.resolve())
        index.commit(replace(index.manifest, relabel=((source, "KL", "2025-03-04"),)))  # 1. announced
        got = index.store.chunks.get(where={"source": source}, include=["metadatas"])  # 2. half done
        index.store.chunks.update(ids=got["ids"], metadatas=[{**m, "council": "KL", "meeting_date": "2025-03-04",
                                                               "date_num": 20250304} for m in got["metadatas"]])
        generation = index.manifest.generation
    # ... killed here. The next writer (any ingest, upload or meeting set) finishes the job.
    with open_index(db, HashEmbedder(), write=True) as index:
        assert index.manifest.relabel == () and index.manifest.generation == generation + 1
        assert [(m.council, m.meeting_date) for m in index.manifest.meetings] == [("KL", "2025-03-04")]
        assert [(i.council, i.meeting_date) for i in index.store.get_items()] == [("KL", date(2025, 3, 4))]
        hits = index.search("digitale postkasser", where=Where(since=date(2025, 3, 1)))
        assert [h.chunk.case_number for h in hits] == ["SAG-2025-09001"]



def test_ingest_reports_progress_per_file_and_per_embedding_step(tmp_path: Path) -> None:
    from index.build import EMBED_PROGRESS_STEP, ingest_files
    from index.embed import HashEmbedder
    from index.store import open_index

    src = tmp_path / "src"
    src.mkdir()
    paths = []
    for n in range(3):
        body = " ".join(f"Udvalget drøftede emne {n} afsnit {k} grundigt." for k in range(800))  # ~ 40 passages
        path = src / f"referat-{n}.txt"
        path.write_text(minutes(f"Udvalg {n}", "3. juni 2025", f"Emne {n}", f"26/000{n}", body), encoding="utf-8")
        paths.append(path)
    (src / "tom.txt").write_text("", encoding="utf-8")
    paths.insert(1, src / "tom.txt")
    seen: list[tuple[float, str]] = []
    with open_index(tmp_path / "db", HashEmbedder(), create=True, write=True) as index:
        results = list(ingest_files(index, paths, batch_passages=70, progress=lambda f, d: seen.append((f, d))))
    assert [r.status for r in results] == ["ny", "fejl", "ny", "ny"]
    reads = [d for _, d in seen if d.startswith("Læser ")]
    assert reads == [f"Læser {p.name} (fil {n} af 4)" for n, p in enumerate(paths, start=1)]
    steps = [d for _, d in seen if d.startswith("Indlejrer tekststykke ")]
    # The first two files share a batch (over 70 passages), embedded in steps of EMBED_PROGRESS_STEP.
    assert any(d.startswith(f"Indlejrer tekststykke {EMBED_PROGRESS_STEP} af ") and "referat-0.txt, referat-1.txt" in d
               for d in steps), steps
    assert any(d.startswith("Gemmer ") for _, d in seen)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] <= 4  # moves forward only
    assert len(set(fractions)) >= 4
