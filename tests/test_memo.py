"""Word memos: written by `raadgiver ask --docx` and the page's button, read back with python-docx."""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from chat_app.answer import Answer
from chat_app.memo import danish_date, memo_filename, write_memo
from chat_app.prompt import Citation
from tests.conftest import REPO, Raadgiver, cli_env, stop

DEMO = REPO / "demo" / "minutes"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
FOOTNOTES_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


@dataclass
class Memo:
    heading: str
    body: list[str]  # paragraphs, a footnote reference written as {n}
    notes: dict[int, list[str]]  # footnote id -> its paragraphs
    order: list[int]  # footnote ids in the order the text refers to them
    props: Any


def read_memo(path: Path) -> Memo:
    """The memo as Word sees it: paragraphs of the body and the footnotes part, via its relationship."""
    import docx

    doc = docx.Document(str(path))
    rels = [r for r in doc.part.rels.values() if r.reltype == FOOTNOTES_REL]
    assert len(rels) == 1, "no footnotes part related to the document"
    root = etree.fromstring(rels[0].target_part.blob)
    notes: dict[int, list[str]] = {}
    for fn in root.iter(f"{W}footnote"):
        note_id = int(fn.get(f"{W}id"))
        if note_id > 0:
            assert fn.get(f"{W}type") is None
            notes[note_id] = ["".join(t.text or "" for t in p.iter(f"{W}t")).strip() for p in fn.iter(f"{W}p")]
            assert next(fn.iter(f"{W}footnoteRef"), None) is not None  # the note shows its own number
    assert [int(fn.get(f"{W}id")) for fn in root.iter(f"{W}footnote")][:2] == [-1, 0]  # Word's separators
    body, order = [], []
    for p in doc.paragraphs[1:]:
        parts = []
        for el in p._p.iter(f"{W}t", f"{W}footnoteReference"):
            if el.tag == f"{W}t":
                parts.append(el.text or "")
            else:
                order.append(int(el.get(f"{W}id")))
                parts.append(f"{{{order[-1]}}}")
        body.append("".join(parts))
    assert doc.paragraphs[0].style.name == "Heading 1"
    styles = {s.style_id for s in doc.styles}
    assert {"FootnoteText", "FootnoteReference"} <= styles
    return Memo(doc.paragraphs[0].text, body, notes, order, doc.core_properties)


CITE_A = Citation(council="Fiktivt It-Arkitekturråd", meeting_date=date(2025, 9, 9), section="2.2",
                  case_number="SAG-2025-00167", title="Exitplaner for cloudtjenester",
                  source="/data/uploads/fiktivt-raad-referat-04.txt", quote="Rådet godkendte skabelonen til exitplaner.")
CITE_B = Citation(council="Digitaliseringsudvalget, Fiktiv Kommune", meeting_date=None, section="3",
                  case_number=None, title="Cloud <i>og</i> data", source="b.txt", quote="Data skal kunne flyttes.")


def test_every_citation_is_a_footnote_at_its_claim(tmp_path: Path) -> None:
    answer = Answer(answer="Rådet godkendte en skabelon [1], og data skal kunne flyttes [2].\n\nIgen: se [1] og [9].",
                    refused=False, citations=(CITE_A, CITE_B), note="En bemærkning.")
    when = datetime(2026, 12, 1, 18, 30, tzinfo=timezone.utc)
    path = write_memo("Hvad skal en exitplan indeholde?", answer, tmp_path / "notat.docx", now=when)
    memo = read_memo(path)
    assert memo.heading == "Hvad skal en exitplan indeholde?"
    assert "1. december 2026" in memo.body[0]
    assert memo.body[1] == "Rådet godkendte en skabelon{1}, og data skal kunne flyttes{2}."
    assert memo.body[2] == "Igen: se{3} og [9]."  # a number that is no source stays as text
    assert memo.body[3] == "En bemærkning."
    assert memo.order == [1, 2, 3]
    assert memo.notes[1] == ["Fiktivt It-Arkitekturråd, møde 9. september 2025, pkt. 2.2, sag SAG-2025-00167: "
                             "“Exitplaner for cloudtjenester”.", "»Rådet godkendte skabelonen til exitplaner.«",
                             "Kilde: fiktivt-raad-referat-04.txt"]
    assert memo.notes[2][0] == "Digitaliseringsudvalget, Fiktiv Kommune, møde ukendt dato, pkt. 3: “Cloud <i>og</i> data”."
    assert memo.notes[3] == ["Samme kilde som note 1 (Fiktivt It-Arkitekturråd, pkt. 2.2, sag SAG-2025-00167)."]
    assert memo.props.created == when and memo.props.title == "Hvad skal en exitplan indeholde?"
    assert memo.props.keywords == "SAG-2025-00167" and "2025-09-09" in memo.props.comments
    core = zipfile.ZipFile(path).read("docProps/core.xml").decode()
    assert "2026-12-01T18:30:00Z" in core  # ISO 8601 in the metadata
    assert "footnotes+xml" in zipfile.ZipFile(path).read("[Content_Types].xml").decode()


def test_an_answer_citing_many_items_still_saves(tmp_path: Path) -> None:
    from dataclasses import replace

    # Word's core properties take 255 characters; a change question cites up to eight items.
    cites = tuple(replace(CITE_A, section=f"2.{n}", case_number=f"SAG-2025-{n:05d}") for n in range(1, 13))
    text = " ".join(f"Punkt [{n}]." for n in range(1, 13))
    memo = read_memo(write_memo("Hvordan har holdningen udviklet sig?", Answer(answer=text, refused=False,
                                                                            citations=cites), tmp_path / "m.docx"))
    assert len(memo.notes) == 12 and memo.notes[12][0].startswith("Fiktivt It-Arkitekturråd, møde 9. september 2025, pkt. 2.12")
    assert len(memo.props.comments) <= 255 and memo.props.comments.endswith("…")
    assert len(memo.props.keywords) <= 255


def test_unmarked_sources_and_refusals(tmp_path: Path) -> None:
    unmarked = write_memo("Spørgsmål", Answer(answer="Et svar uden numre.", refused=False, citations=(CITE_A,)),
                          tmp_path / "a.docx")
    memo = read_memo(unmarked)
    assert memo.body[-1] == "Et svar uden numre.{1}" and memo.notes[1][1] == f"»{CITE_A.quote}«"
    import docx

    refused = write_memo("Hvem vandt?", Answer(answer="Jeg kan ikke finde noget.", refused=True, citations=()),
                         tmp_path / "b.docx")
    doc = docx.Document(str(refused))
    assert doc.paragraphs[-1].text == "Jeg kan ikke finde noget."
    assert not [r for r in doc.part.rels.values() if r.reltype == FOOTNOTES_REL]


def test_danish_dates_and_file_names() -> None:
    assert danish_date(date(2025, 2, 25)) == "25. februar 2025" and danish_date(None) == "ukendt dato"
    assert memo_filename("Hvad mente rådet om open source?", date(2026, 12, 1)) == (
        "raadgiver-notat-2026-12-01-hvad-mente-raadet-om-open-source.docx")
    assert memo_filename("???", date(2026, 12, 1)) == "raadgiver-notat-2026-12-01.docx"


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def demo_db(raadgiver: Raadgiver, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("memo") / "db"
    r = raadgiver("ingest", DEMO, "--model", "hash", db=db)
    assert r.returncode == 0, r.stderr
    return db


def check_memo_against(memo: Memo, question: str, answer: dict[str, Any]) -> None:
    """Every citation of ``ask --json`` is a full footnote in the memo, in the order the text cites them."""
    assert memo.heading == question
    full = [memo.notes[i] for i in sorted(set(memo.order)) if len(memo.notes[i]) == 3]
    assert len(full) == len(answer["citations"]) > 0
    for note, c in zip(full, answer["citations"]):
        when = danish_date(date.fromisoformat(c["meeting_date"])) if c["meeting_date"] else "ukendt dato"
        case = f", sag {c['case_number']}" if c["case_number"] else ""
        assert note[0] == f"{c['council']}, møde {when}, pkt. {c['section']}{case}: “{c['title']}”."
        assert note[1] == f"»{c['quote']}«" and note[2] == f"Kilde: {Path(c['source']).name}"
        assert c["quote"] in (DEMO / Path(c["source"]).name).read_text(encoding="utf-8")
    text = "\n".join(memo.body)
    assert "[1]" not in text and "{1}" in text  # markers became footnote references
    assert memo.props.created is not None and memo.props.title == question


def test_ask_docx_writes_the_memo(raadgiver: Raadgiver, demo_db: Path, tmp_path: Path) -> None:
    question = "Hvad skal en exitplan i kontrakter om cloudtjenester indeholde?"
    out = tmp_path / "notater" / "exitplan.docx"
    answer = raadgiver.json("ask", question, "--model", "hash", "--docx", out, db=demo_db)
    assert answer["citations"] and out.is_file()
    check_memo_against(read_memo(out), question, answer)
    (tmp_path / "fil.txt").write_text("x")
    r = raadgiver("ask", question, "--model", "hash", "--docx", tmp_path / "fil.txt" / "x.docx", db=demo_db)
    assert r.returncode == 2 and "Word-notatet kunne ikke gemmes" in r.stderr, r.stderr


# --------------------------------------------------------------------------- the page's button


def test_button_downloads_the_memo_of_the_last_answer(raadgiver: Raadgiver, demo_db: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from eval.load import free_port
    from tests.test_ui import CHROMIUM, CHROMIUM_ARGS, ask_in_page, open_page, wait_until_up

    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    temp = tmp_path / "tmp"  # the server's temporary files: its memos and gradio's copies of them
    temp.mkdir()
    port = free_port()
    page_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with open(log, "w") as fh:
        proc = raadgiver.start("serve", "--port", port, "--model", "hash", db=demo_db, stdout=fh,
                               stderr=subprocess.STDOUT, env=cli_env(raadgiver.home, TMPDIR=str(temp)))
    try:
        wait_until_up(page_url, proc, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = open_page(browser, page_url)
                button = page.get_by_role("button", name="Hent som Word-notat")
                expect(button).to_be_hidden()  # nothing to write yet
                ask_in_page(page, "Hvad mente rådet om open source?")
                expect(button).to_be_visible(timeout=30_000)
                with page.expect_download() as first:
                    button.click()
                assert "open-source" in first.value.suggested_filename
                question = "Hvad blev der helt præcist besluttet i rådet under SAG-2025-00142?"  # 8+ words: no history
                ask_in_page(page, question)
                expect(button).to_be_visible(timeout=30_000)
                for _ in range(30):  # the memo of the second answer follows the answer itself
                    with page.expect_download() as info:
                        button.click()
                    if "helt-praecist" in info.value.suggested_filename:
                        break
                    page.wait_for_timeout(500)
                saved = tmp_path / info.value.suggested_filename
                info.value.save_as(saved)
                # Both answers had a memo written; the session keeps only its latest.
                kept = list(temp.glob("raadgiver-notater-*/*/*.docx"))
                assert [k.name for k in kept] == [saved.name], kept
                page.get_by_role("button", name="Ny samtale").click()
                expect(button).to_be_hidden()
            finally:
                browser.close()
    finally:
        stop(proc)
    # A stopped server (SIGTERM) closes cleanly and leaves no memo behind, neither its own nor gradio's copy.
    assert proc.returncode == 0 and "Rådgiver stopper." in log.read_text(encoding="utf-8"), log.read_text()
    assert not list(temp.glob("raadgiver-notater-*")) and not list(temp.rglob("*.docx")), list(temp.rglob("*"))
    assert saved.name.startswith("raadgiver-notat-") and "helt-praecist" in saved.name and saved.suffix == ".docx"
    answer = raadgiver.json("ask", question, "--model", "hash", db=demo_db)
    check_memo_against(read_memo(saved), question, answer)  # the last answer, not the first
