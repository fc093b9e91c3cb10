"""`raadgiver ingest | items | search` end to end, as real subprocesses over real files and a real chromadb.

Most runs use ``--model hash`` (instant); the tests marked slow use the real multilingual model.
Independent runs go concurrently (``raadgiver.many``) to keep the suite quick.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from index.build import embedding_text
from ingest.parse import parse_meeting
from ingest.read import read_document
from tests.badfiles import (
    BAD_KINDS,
    FictionalItem,
    generated_minutes,
    make_bad,
    miljo_items,
    miljo_text,
    write_docx,
    write_pdf,
)
from tests.conftest import AARHUS_BR, AARHUS_TU, IT_ARK, REAL, REPO, Raadgiver, needs_real

ITEM_KEYS = {"section", "title", "case_number", "meeting_date", "council", "source", "agenda"}
HIT_KEYS = {"rank", "score", "similarity", "council", "meeting_date", "section", "title", "case_number", "source", "text",
            "agenda"}
HAVE_REAL = IT_ARK.is_file() and AARHUS_TU.is_file() and AARHUS_BR.is_file()

AUTUMN = [
    FictionalItem("1", "Godkendelse af dagsorden", "24/0901", "Beslutning\nGodkendt."),
    FictionalItem("2", "Støjskærme ved ringvejen", "24/0950",
                  "Sagsfremstilling\nBeboerne langs ringvejen har klaget over trafikstøj om natten.\n\n"
                  "Beslutning\nForvaltningen undersøger støjskærme af genbrugsplast."),
    FictionalItem("3", "Træplantning i nye boligområder", "24/0977",
                  "Sagsfremstilling\nDer plantes egetræer og lindetræer langs stamvejene.\n\nBeslutning\nGodkendt."),
]


def write_fictional(folder: Path) -> dict[str, Path]:
    """Three fictional meetings, one per format: TXT (2025), DOCX (2024), PDF (2023)."""
    folder.mkdir(parents=True, exist_ok=True)
    txt = folder / "miljo.txt"
    txt.write_text(miljo_text(council="Miljøudvalget"), encoding="utf-8")
    docx = write_docx(folder / "miljo-efteraar.docx",
                      miljo_text(council="Miljøudvalget", date_line="Mødedato: 20. november 2024", items=AUTUMN))
    _, plan, _ = generated_minutes(1, seed=5, council="Fiktivt Planudvalg", start=date(2023, 3, 15))[0]
    pdf = write_pdf(folder / "plan.pdf", plan, pages=2)
    return {"txt": txt, "docx": docx, "pdf": pdf}


@dataclass
class Corpus:
    db: Path
    files: dict[str, Path]
    ingest: subprocess.CompletedProcess[str]
    items: list[dict[str, Any]]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, raadgiver: Raadgiver) -> Corpus:
    root = tmp_path_factory.mktemp("cli")
    files = write_fictional(root / "in")
    real = [IT_ARK, AARHUS_TU, AARHUS_BR] if HAVE_REAL else []
    db = root / "db"
    r = raadgiver("ingest", root / "in", *real, "--model", "hash", db=db)
    assert r.returncode == 0, r.stderr
    return Corpus(db, files, r, raadgiver.json("items", db=db))


def test_ingest_reports_each_file_and_totals(corpus: Corpus) -> None:
    lines = corpus.ingest.stdout.splitlines()
    n = len(corpus.files) + (3 if HAVE_REAL else 0)
    assert len([ln for ln in lines if ln.startswith("ny ")]) == n
    assert re.search(r"ny\s+\S*miljo\.txt \(5 punkter, 5 passager\)", corpus.ingest.stdout)
    assert lines[-1].startswith(f"I alt: {n} nye, 0 opdaterede, 0 uændrede, 0 med fejl.")
    assert corpus.ingest.stderr == ""


def test_items_json_shape(corpus: Corpus) -> None:
    assert isinstance(corpus.items, list) and corpus.items
    for row in corpus.items:
        assert set(row) == ITEM_KEYS
        assert isinstance(row["section"], str) and isinstance(row["title"], str) and row["title"]
        assert row["case_number"] is None or isinstance(row["case_number"], str)
        assert row["meeting_date"] is None or date.fromisoformat(row["meeting_date"])
        assert Path(row["source"]).is_absolute()


def test_items_of_every_format(corpus: Corpus) -> None:
    def of(path: Path) -> list[tuple[str, str | None, str | None]]:
        return [(r["section"], r["case_number"], r["meeting_date"]) for r in corpus.items
                if r["source"] == str(path.resolve())]

    assert of(corpus.files["txt"]) == [(e.section, e.case_number, "2025-05-14") for e in miljo_items()]
    assert of(corpus.files["docx"]) == [(e.section, e.case_number, "2024-11-20") for e in AUTUMN]
    plan = of(corpus.files["pdf"])
    assert plan and all(case and case.startswith("SAG-2023-") and d == "2023-03-15" for _, case, d in plan)
    assert {r["council"] for r in corpus.items if "miljo" in r["source"]} == {"Miljøudvalget"}


@needs_real
def test_items_of_the_real_minutes(corpus: Corpus) -> None:
    def of(path: Path) -> list[dict[str, Any]]:
        return [r for r in corpus.items if r["source"] == str(path.resolve())]

    ark = of(IT_ARK)
    assert [r["section"] for r in ark] == ["1.1"] + [f"2.{n}" for n in range(1, 9)]
    assert {r["meeting_date"] for r in ark} == {None}
    assert [r["case_number"] for r in of(AARHUS_TU)] == [
        "EMN-2025-010561", "EMN-2025-009242", "EMN-2025-008468", "EMN-2025-010561", None, "EMN-2024-035156"]
    br = of(AARHUS_BR)
    assert [r["section"] for r in br] == [str(n) for n in range(1, 34)]
    assert {r["council"] for r in br} == {"Aarhus Byråd"} and {r["meeting_date"] for r in br} == {"2025-10-08"}
    # The Byråd file is the agenda for its meeting; the others are minutes.
    assert {r["agenda"] for r in br} == {True} and {r["agenda"] for r in ark + of(AARHUS_TU)} == {False}


def test_items_are_ordered_by_date_then_file_then_section(corpus: Corpus) -> None:
    def key(r: dict[str, Any]) -> tuple[str, str, tuple[int, ...]]:
        return (r["meeting_date"] or "", r["source"], tuple(int(x) for x in r["section"].split(".")))

    assert corpus.items == sorted(corpus.items, key=key)


# --------------------------------------------------------------------------- search


def dense_query(path: Path) -> str:
    """The exact embedded text of Miljøudvalget's item 4: HashEmbedder gives it cosine 1.0."""
    item = next(it for it in parse_meeting(read_document(path)).items if it.section == "4")
    return " ".join(embedding_text(item.title, item.text).split())


SEARCHES: dict[str, tuple[Any, ...]] = {
    "case": ("search", "Hvad skete der med sag 24/1234?", "-k", "3", "--json"),
    "lexical": ("search", "madaffald kompostbeholdere", "--mode", "lexical", "-k", "3", "--json"),
    "council": ("search", "godkendt beslutning", "--council", "Miljøudvalget", "-k", "20", "--json"),
    "range": ("search", "godkendt beslutning", "--since", "2024-01-01", "--until", "2024-12-31", "-k", "20",
              "--json"),
    "case_filter": ("search", "godkendt", "--case", "24/0950", "-k", "5", "--json"),
    "period": ("search", "Hvad blev godkendt før 2025?", "-k", "20", "--json"),
    "text": ("search", "støjskærme", "-k", "2"),
    "items_text": ("items",),
    "bad_date": ("search", "noget", "--since", "2025-13-01"),
    "real_case": ("search", "SAG-2025-02755", "-k", "3", "--json"),
    # As people type it: lower case, spaces, the zero dropped; the filter too.
    "real_case_typed": ("search", "hvad skete der med sag 2025 2755", "-k", "3", "--json"),
    "real_case_filter_typed": ("search", "drift", "--case", "sag-2025-2755", "-k", "5", "--json"),
    "real_section": ("search", "Hvad blev der sagt under punkt 2.7?", "-k", "3", "--json"),
    "real_council": ("search", "lokalplan", "--council", "Teknisk Udvalg", "-k", "10", "--json"),
}


@pytest.fixture(scope="module")
def searches(corpus: Corpus, raadgiver: Raadgiver) -> dict[str, subprocess.CompletedProcess[str]]:
    runs = dict(SEARCHES)
    runs["dense"] = ("search", dense_query(corpus.files["txt"]), "--mode", "dense", "-k", "3", "--json")
    if not HAVE_REAL:
        runs = {k: v for k, v in runs.items() if not k.startswith("real_")}
    names = list(runs)
    done = raadgiver.many([(runs[n] + (("--model", "hash") if runs[n][0] == "search" else ()), corpus.db)
                           for n in names])
    return dict(zip(names, done))


def hits(searches: dict[str, subprocess.CompletedProcess[str]], name: str) -> list[dict[str, Any]]:
    r = searches[name]
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert isinstance(out, list)
    for h in out:
        assert set(h) == HIT_KEYS
    assert [h["rank"] for h in out] == list(range(1, len(out) + 1))
    return out


def test_search_json_shape(searches: dict[str, subprocess.CompletedProcess[str]]) -> None:
    for name in ("case", "lexical", "dense", "council", "range", "case_filter"):
        out = hits(searches, name)
        assert out, name
        assert all(isinstance(h["score"], float) and h["text"] for h in out)


def test_query_naming_a_case_number_gets_that_item_first(
        searches: dict[str, subprocess.CompletedProcess[str]]) -> None:
    first = hits(searches, "case")[0]
    assert (first["case_number"], first["title"], first["section"]) == ("24/1234", "Cykelstier langs Åvej", "2")


def test_modes(searches: dict[str, subprocess.CompletedProcess[str]]) -> None:
    lexical, hybrid, dense = hits(searches, "lexical"), hits(searches, "council"), hits(searches, "dense")
    assert lexical[0]["title"] == "Ny ordning for madaffald"
    assert lexical[0]["score"] > 1.0  # a BM25 score
    assert [h["score"] for h in hybrid] == sorted((h["score"] for h in hybrid), reverse=True)  # the default mode
    # A passage's own text: cosine 1.0; the score adds half the item's best sentence cosine (index/store.py).
    assert (dense[0]["title"], dense[0]["similarity"]) == ("Vinterbekæmpelse på stierne", pytest.approx(1.0, abs=1e-4))
    assert all(-1.0 <= h["similarity"] <= 1.0 + 1e-6 for h in dense)  # cosine
    assert all(h["similarity"] - 0.5 <= h["score"] <= h["similarity"] + 0.5 + 1e-6 for h in dense)
    assert [h["score"] for h in dense] == sorted((h["score"] for h in dense), reverse=True)
    assert all(h["similarity"] == 0 for h in lexical)


def test_filters(searches: dict[str, subprocess.CompletedProcess[str]]) -> None:
    council = hits(searches, "council")
    assert len(council) >= 5 and {h["council"] for h in council} == {"Miljøudvalget"}
    dated = hits(searches, "range")
    assert dated and all(h["meeting_date"] and "2024-01-01" <= h["meeting_date"] <= "2024-12-31" for h in dated)
    assert [h["case_number"] for h in hits(searches, "case_filter")] == ["24/0950"]
    # A period in the query filters like --until, and says so.
    period = hits(searches, "period")
    assert period and all(h["meeting_date"] and h["meeting_date"] <= "2024-12-31" for h in period)
    assert "Kun møder til og med 31. december 2024, som søgningen nævner." in searches["period"].stderr


def test_readable_output(searches: dict[str, subprocess.CompletedProcess[str]]) -> None:
    text = searches["text"]
    assert text.returncode == 0
    assert text.stdout.startswith('1. Miljøudvalget, møde 2024-11-20, pkt. 2 "Støjskærme ved ringvejen" (24/0950)')
    listing = searches["items_text"]
    assert listing.returncode == 0
    assert re.search(r"Miljøudvalget – møde 2025-05-14 \(miljo\.txt\)\n\s+1\s+24/1001\s+Godkendelse af dagsorden",
                     listing.stdout)
    bad = searches["bad_date"]
    assert bad.returncode == 2 and "'2025-13-01' er ikke en dato på formen ÅÅÅÅ-MM-DD" in bad.stderr


@needs_real
def test_real_case_number_and_section_queries(searches: dict[str, subprocess.CompletedProcess[str]]) -> None:
    for name in ("real_case", "real_section", "real_case_typed", "real_case_filter_typed"):
        first = hits(searches, name)[0]
        assert (first["section"], first["case_number"], first["title"]) == (
            "2.7", "SAG-2025-02755", "Fælles it-driftsenheder"), name


@needs_real
def test_real_filters(searches: dict[str, subprocess.CompletedProcess[str]]) -> None:
    tu = hits(searches, "real_council")
    assert tu and {h["council"] for h in tu} == {"Teknisk Udvalg"}
    assert tu[0]["section"] == "3"  # "Lokalplan 1221 ..."
    assert {h["case_number"] for h in hits(searches, "real_case_filter_typed")} == {"SAG-2025-02755"}


# --------------------------------------------------------------------------- re-ingest


def test_reingest_unchanged_then_changed(tmp_path: Path, raadgiver: Raadgiver) -> None:
    files = write_fictional(tmp_path / "in")
    db = tmp_path / "db"
    assert raadgiver("ingest", tmp_path / "in", "--model", "hash", db=db).returncode == 0
    before = json.loads(raadgiver("info", db=db).stdout)

    again = raadgiver("ingest", tmp_path / "in", "--model", "hash", db=db)
    assert again.returncode == 0, again.stderr
    statuses = [ln.split()[0] for ln in again.stdout.splitlines()[:-1]]
    assert statuses == ["uændret"] * 3
    assert "0 nye, 0 opdaterede, 3 uændrede" in again.stdout
    info = json.loads(raadgiver("info", db=db).stdout)
    assert (info["generation"], info["counts"]) == (before["generation"], before["counts"])

    txt = files["txt"]
    txt.write_text(miljo_text(council="Miljøudvalget").replace("madaffald", "haveaffald"), encoding="utf-8")
    changed = raadgiver("ingest", tmp_path / "in", "--model", "hash", db=db)
    assert changed.returncode == 0, changed.stderr
    status = {Path(ln.split()[1]).name: ln.split()[0] for ln in changed.stdout.splitlines()[:-1]}
    assert status == {"miljo.txt": "opdateret", "miljo-efteraar.docx": "uændret", "plan.pdf": "uændret"}

    old, new, info_r, items_r = raadgiver.many([
        (("search", "madaffald", "--mode", "lexical", "-k", "20", "--json"), db),
        (("search", "haveaffald", "--mode", "lexical", "-k", "1", "--json"), db),
        (("info",), db),
        (("items", "--json"), db),
    ])
    assert [h for h in json.loads(old.stdout) if "affald" in h["text"]] == []
    assert json.loads(new.stdout)[0]["title"] == "Ny ordning for haveaffald"
    after = json.loads(info_r.stdout)
    assert after["counts"] == before["counts"] and after["generation"] > before["generation"]
    titles = [r["title"] for r in json.loads(items_r.stdout) if r["source"] == str(txt.resolve())]
    assert titles == [e.title.replace("madaffald", "haveaffald") for e in miljo_items()]


def test_an_index_from_before_sentence_vectors_is_told_how_to_get_them(tmp_path: Path, raadgiver: Raadgiver) -> None:
    from dataclasses import replace

    from index.store import open_index

    write_fictional(tmp_path / "in")
    db = tmp_path / "db"
    assert raadgiver("ingest", tmp_path / "in", "--model", "hash", db=db).returncode == 0
    fresh = raadgiver("search", "madaffald", "--model", "hash", db=db)
    assert fresh.returncode == 0 and "sætningsvektorerne" not in fresh.stderr
    # What an index written before sentence vectors records: no sentence count on its meetings.
    with open_index(db, None, write=True) as ix:
        ix.commit(replace(ix.manifest, meetings=tuple(replace(m, sentences=None) for m in ix.manifest.meetings)))
    old = raadgiver("search", "madaffald", "--model", "hash", db=db)
    assert old.returncode == 0 and json.loads(raadgiver("info", db=db).stdout)["meetings"][0].get("sentences") is None
    assert "3 møder er indlæst før sætningsvektorerne" in old.stderr and "`raadgiver ingest MAPPE`" in old.stderr
    assert "1. " in old.stdout  # still answers
    # Doing what it says: the same files are read again, get their sentence vectors, and the note goes.
    again = raadgiver("ingest", tmp_path / "in", "--model", "hash", db=db)
    assert again.returncode == 0 and "3 opdaterede, 0 uændrede" in again.stdout, again.stdout
    after = raadgiver("search", "madaffald", "--model", "hash", db=db)
    assert after.returncode == 0 and "sætningsvektorerne" not in after.stderr and after.stdout == fresh.stdout
    assert all(m["sentences"] for m in json.loads(raadgiver("info", db=db).stdout)["meetings"])


def test_dates_from_file_name_option_and_cp1252(tmp_path: Path, raadgiver: Raadgiver) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "windows.txt").write_bytes(miljo_text(council="Miljøudvalget").encode("cp1252"))
    undated = miljo_text(council="Miljøudvalget", date_line="Sted: Byrådssalen", toc=False, items=AUTUMN)
    (folder / "miljo_2024-06-12.txt").write_text(undated, encoding="utf-8")
    (tmp_path / "udateret.txt").write_text(undated, encoding="utf-8")
    db = tmp_path / "db"
    first = raadgiver("ingest", folder, "--model", "hash", db=db)
    assert first.returncode == 0, first.stderr
    second = raadgiver("ingest", tmp_path / "udateret.txt", "--meeting-date", "2025-09-10", "--council",
                       "Fiktivt Miljøråd", "--model", "hash", db=db)
    assert second.returncode == 0, second.stderr
    rows = raadgiver.json("items", db=db)
    meetings = {(Path(r["source"]).name, r["meeting_date"], r["council"]) for r in rows}
    assert meetings == {("windows.txt", "2025-05-14", "Miljøudvalget"),
                        ("miljo_2024-06-12.txt", "2024-06-12", "Miljøudvalget"),
                        ("udateret.txt", "2025-09-10", "Fiktivt Miljøråd")}
    # cp1252 read as Danish text, not as mojibake.
    assert "Cykelstier langs Åvej" in {r["title"] for r in rows if r["source"].endswith("windows.txt")}


# --------------------------------------------------------------------------- bad input


def _good(folder: Path) -> Path:
    _, text, _ = generated_minutes(1, seed=9)[0]
    p = folder / "god.txt"
    p.write_text(text, encoding="utf-8")
    return p


FOLDER_KINDS = list(BAD_KINDS)


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory: pytest.TempPathFactory, raadgiver: Raadgiver) -> dict[str, Any]:
    """For each kind: ingest a folder of one bad and one good file into one index; then list its items."""
    root = tmp_path_factory.mktemp("bad")
    db = root / "db"
    runs = {}
    for kind in BAD_KINDS:
        folder = root / kind
        bad, good = make_bad(kind, folder), _good(folder)
        runs[kind] = (bad, good, raadgiver("ingest", folder, "--model", "hash", db=db))
    listed = {r["source"] for r in raadgiver.json("items", db=db)}
    return {k: (bad, good, ingest, listed) for k, (bad, good, ingest) in runs.items()}


@pytest.mark.parametrize("kind", FOLDER_KINDS)
def test_bad_file_in_a_folder(kind: str, bad_runs: dict[str, Any]) -> None:
    bad, good, ingest, listed = bad_runs[kind]
    assert "Traceback" not in ingest.stderr, ingest.stderr
    assert str(good.resolve()) in listed
    assert not any(Path(s).parent == bad.path.parent.resolve() and Path(s).name != good.name for s in listed)
    assert ingest.returncode == 1, (ingest.stdout, ingest.stderr)
    lines = ingest.stderr.splitlines()
    assert len(lines) == 1, lines
    assert bad.path.name in lines[0] and any(word in lines[0] for word in bad.reason), lines[0]


def test_bad_file_named_explicitly(tmp_path: Path, raadgiver: Raadgiver) -> None:
    unknown = make_bad("unknown_ext", tmp_path / "in")
    good = _good(tmp_path / "in")
    r = raadgiver("ingest", unknown.path, good, tmp_path / "findes-ikke.txt", "--model", "hash", db=tmp_path / "db")
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 2 and "referat.xyz" in lines[0] and "ukendt filtype" in lines[0]
    assert "findes-ikke.txt" in lines[1] and "findes ikke" in lines[1]
    assert "1 nye, 0 opdaterede, 0 uændrede, 2 med fejl" in r.stdout


def test_errors_name_the_fix(tmp_path: Path, raadgiver: Raadgiver) -> None:
    (tmp_path / "tom").mkdir()
    (tmp_path / "kun-andet").mkdir()
    (tmp_path / "kun-andet" / "noter.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "tom-mappe").mkdir()
    no_index, other, no_files, no_query = raadgiver.many([
        (("items", "--json"), tmp_path / "tom"),
        (("ingest", tmp_path / "kun-andet", "--model", "hash"), tmp_path / "db"),
        (("ingest", tmp_path / "tom-mappe", "--model", "hash"), tmp_path / "db2"),
        (("search", "budget", "--mode", "lexical"), tmp_path / "tom"),
    ])
    assert no_index.returncode == 2 and "raadgiver ingest" in no_index.stderr and no_index.stdout == ""
    assert other.returncode == 1 and "noter.xlsx" in other.stderr and "ukendt filtype" in other.stderr
    assert no_files.returncode == 1 and "ingen filer fundet" in no_files.stderr
    assert no_query.returncode == 2 and "raadgiver ingest" in no_query.stderr
    assert "Traceback" not in no_index.stderr + other.stderr + no_files.stderr + no_query.stderr


# --------------------------------------------------------------------------- demo corpus


@pytest.mark.skipif(not (REPO / "demo" / "render.py").is_file() or not (REPO / "demo" / "minutes").is_dir(),
                    reason="the demo corpus (demo/render.py, demo/minutes) is not in this checkout")
def test_rendered_demo_corpus(tmp_path: Path, raadgiver: Raadgiver) -> None:
    spec = importlib.util.spec_from_file_location("demo_render", REPO / "demo" / "render.py")
    assert spec and spec.loader
    render = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = render  # dataclasses look their module up there
    try:
        spec.loader.exec_module(render)
    finally:
        del sys.modules[spec.name]
    paths = render.render(REPO / "demo" / "minutes", tmp_path / "out")
    assert {p.suffix for p in paths} == {".pdf", ".docx", ".txt"}
    r = raadgiver("ingest", tmp_path / "out", "--model", "hash", db=tmp_path / "db")
    assert r.returncode == 0, r.stderr
    rows = raadgiver.json("items", db=tmp_path / "db")
    meetings = {(row["source"], row["meeting_date"]) for row in rows}
    assert len(meetings) == len(paths) >= 4
    assert None not in {d for _, d in meetings}
    assert len({d[:4] for _, d in meetings if d}) >= 2
    assert {Path(s).suffix for s, _ in meetings} == {".pdf", ".docx", ".txt"}
    for row in rows:
        # An item without a case number must say why: a closed item or "Eventuelt".
        assert row["case_number"] or re.search(r"lukket|eventuelt", row["title"], re.I), row


# --------------------------------------------------------------------------- the real model


@pytest.mark.slow
def test_real_model_end_to_end(tmp_path: Path, raadgiver: Raadgiver, real_embedder: Any) -> None:
    files = write_fictional(tmp_path / "in")
    db = tmp_path / "db"
    r = raadgiver("ingest", files["txt"], db=db)  # no --model: the built-in multilingual-e5-small
    assert r.returncode == 0, r.stderr
    # The index the command built answers the same model loaded here (loading it twice more costs minutes).
    from index.store import open_index

    with open_index(db, real_embedder) as ix:
        hits = ix.search("Hvornår skal borgerne begynde at skille madrester fra?", k=2, mode="dense")
        assert hits[0].chunk.title == "Ny ordning for madaffald"
    mismatch = raadgiver("search", "madaffald", "--model", "hash", db=db)
    assert mismatch.returncode == 2
    assert "--rebuild" in mismatch.stderr and "hash-64" in mismatch.stderr and "Traceback" not in mismatch.stderr
    saved = set((db / "lexical").iterdir())  # the search above saved its files, passage vectors among them
    assert saved
    # Rebuilt with another model of the same dimension: the same meeting, chunks and generation. The saved
    # files of the old model must not be taken for the new one's.
    rebuilt = raadgiver("ingest", "--rebuild", files["txt"], "--model", "hash-384", db=db)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Indekset har nu 1 møder, 5 punkter" in rebuilt.stdout
    assert json.loads((db / "manifest.json").read_text(encoding="utf-8"))["embedding_model"] == "hash-384"
    assert not (db / "lexical").exists() or not saved & set((db / "lexical").iterdir())
    fresh = tmp_path / "fresh"
    assert raadgiver("ingest", files["txt"], "--model", "hash-384", db=fresh).returncode == 0
    question = "Hvornår skal borgerne begynde at skille madrester fra?"
    assert (raadgiver.json("search", question, "--model", "hash-384", "--mode", "dense", db=db)
            == raadgiver.json("search", question, "--model", "hash-384", "--mode", "dense", db=fresh))


@pytest.mark.skipif(not REAL.is_dir() or not shutil.which("git"), reason="no real corpus or no git here")
def test_real_corpus_is_never_copied_into_the_repository() -> None:
    names = {p.name for p in REAL.rglob("*") if p.is_file() and p.suffix in {".txt", ".html"}}
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    assert not names & {Path(t).name for t in tracked}
