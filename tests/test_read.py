"""Read stage: one small reader per format, types checked by content, bad files refused in Danish."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import pytest

from ingest.parse import NotMinutes, parse_meeting
from ingest.read import ReadError, decode_text, read_document, sniff_format
from tests.badfiles import BAD_KINDS, make_bad, miljo_text, pdf_bytes, write_docx, write_pdf

DANISH = "Referat\nMiljøudvalget\nÆndring af åbningstider på Ørestad bibliotek – godkendt\n"


def test_txt_utf8_with_and_without_bom(tmp_path: Path) -> None:
    for name, data in [("a.txt", DANISH.encode()), ("b.md", b"\xef\xbb\xbf" + DANISH.encode())]:
        p = tmp_path / name
        p.write_bytes(data)
        doc = read_document(p)
        assert (doc.format, doc.text, doc.source) == ("txt", DANISH, p)
        assert doc.sha256 == hashlib.sha256(data).hexdigest()


def test_txt_utf16_with_bom(tmp_path: Path) -> None:
    p = tmp_path / "utf16.txt"
    p.write_bytes(DANISH.encode("utf-16"))
    assert read_document(p).text == DANISH


def test_cp1252_danish_is_read_correctly(tmp_path: Path) -> None:
    p = tmp_path / "windows.txt"
    p.write_bytes(DANISH.encode("cp1252"))
    assert read_document(p).text == DANISH
    assert decode_text(miljo_text().encode("cp1252")) == miljo_text()


def test_undecodable_text_is_refused() -> None:
    with pytest.raises(ReadError, match="tegnkodning"):
        decode_text(b"Referat \x81\x8d\x9d")
    with pytest.raises(ReadError, match="tegnkodning"):
        decode_text(b"Caf\xe9 au lait")  # latin-1 without a single Danish letter: too unsure to guess


def test_pdf_text_with_danish_letters_and_page_breaks(tmp_path: Path) -> None:
    p = write_pdf(tmp_path / "m.pdf", miljo_text(), pages=3)
    doc = read_document(p)
    assert doc.format == "pdf"
    assert doc.text.count("\f") == 2  # page breaks survive as form feeds
    assert "Natur- og Miljøudvalget" in doc.text and "Cykelstier langs Åvej" in doc.text
    assert doc.sha256 == hashlib.sha256(p.read_bytes()).hexdigest()


def test_pdf_without_text_layer_is_refused(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)  # a drawing, no text: like a scan without OCR
    p = tmp_path / "skannet.pdf"
    p.write_bytes(bytes(pdf.output()))
    with pytest.raises(ReadError, match="ingen tekst"):
        read_document(p)


def test_docx_paragraphs_and_tables_in_document_order(tmp_path: Path) -> None:
    p = write_docx(tmp_path / "m.docx", "Referat\nMødedato: 14. maj 2025\nPunkt 1: Åbning",
                   table=[["Deltagere", "Jens Hansen, formand"], ["Afbud", "Ingen"]])
    doc = read_document(p)
    assert doc.format == "docx"
    lines = [ln for ln in doc.text.split("\n") if ln]
    assert lines == ["Referat", "Deltagere Jens Hansen, formand", "Afbud Ingen", "Mødedato: 14. maj 2025",
                     "Punkt 1: Åbning"]


def test_docx_tabs_and_line_breaks_separate_words(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph("Punkt 1: Godkendelse af dagsorden\t2")
    para = d.add_paragraph("Første linje")
    para.add_run().add_break()
    para.add_run("anden linje")
    p = tmp_path / "tabs.docx"
    d.save(str(p))
    text = read_document(p).text
    assert "dagsorden2" not in text and "linjeanden" not in text


def test_html_keeps_the_minutes_and_drops_chrome(tmp_path: Path) -> None:
    p = tmp_path / "m.html"
    p.write_text(
        "<html><head><title>Titel</title><script>var x = 'skjult';</script></head><body>"
        "<nav>Menu</nav><div role='dialog'>Cookies</div><h1>Referat</h1>"
        "<table><tr><td>3</td><td><h2>Lokalplan for havnen</h2></td></tr></table>"
        "<p>Første   afsnit\nover to linjer.</p><ul><li>punkt a</li><li>punkt b</li></ul></body></html>",
        encoding="utf-8",
    )
    doc = read_document(p)
    assert doc.format == "html"
    assert doc.text.split("\n\n") == ["Referat", "3. Lokalplan for havnen", "Første afsnit over to linjer.",
                                      "- punkt a", "- punkt b"]


def test_html_list_entries_and_empty_headings_keep_the_parts_apart(tmp_path: Path) -> None:
    # As FirstAgenda publishes minutes: an empty heading below the decision opens the case summary, and the
    # attachment list holds a document titled "Indstilling".
    p = tmp_path / "m.html"
    p.write_text(
        "<html><body><h1>Referat</h1><h2>2. Udviklingsplan</h2><span>EMN-2025-009242</span><h3></h3>"
        "<h3>Beslutninger</h3><div>Udvalget godkendte planen.</div><h3></h3>"
        "<div>Planen har været i høring i fire uger.</div><h3>Bilag</h3>"
        "<ul><li><a>Indstilling</a></li><li><a>Bilag 1: Planen</a></li><li>2) Høringssvar</li></ul></body></html>",
        encoding="utf-8",
    )
    assert read_document(p).text.split("\n\n") == [
        "Referat", "2. Udviklingsplan", "EMN-2025-009242", "Beslutninger", "Udvalget godkendte planen.",
        "Sagsfremstilling", "Planen har været i høring i fire uger.", "Bilag",
        "- Indstilling", "- Bilag 1: Planen", "2) Høringssvar"]
    item = parse_meeting(read_document(p)).items[0]
    assert [(part.heading, part.text) for part in item.parts] == [
        ("Beslutninger", "Udvalget godkendte planen."),
        ("Sagsfremstilling", "Planen har været i høring i fire uger."),
        ("Bilag", "- Indstilling\n- Bilag 1: Planen\n2) Høringssvar"),
    ]


def test_html_fragment_with_htm_extension(tmp_path: Path) -> None:
    p = tmp_path / "m.htm"
    p.write_bytes("Bare tekst uden tags, æøå".encode("cp1252"))
    assert read_document(p).text == "Bare tekst uden tags, æøå"


@pytest.mark.parametrize(
    ("head", "suffix", "expected"),
    [
        (b"%PDF-1.7\n", ".pdf", "pdf"), (b"%PDF-1.7\n", ".PDF", "pdf"), (b"PK\x03\x04", ".docx", "docx"),
        (b"Referat", ".txt", "txt"), (b"# Referat", ".md", "txt"), (b"<!DOCTYPE html><html>", ".html", "html"),
        (b"<html><body>", ".txt", "txt"),  # tags in a .txt are read as text, not refused
    ],
)
def test_sniff_format_agrees(head: bytes, suffix: str, expected: str) -> None:
    assert sniff_format(head, suffix) == expected


@pytest.mark.parametrize(
    ("head", "suffix", "message"),
    [
        (b"PK\x03\x04", ".pdf", "DOCX"), (b"%PDF-1.4", ".docx", "PDF"), (b"%PDF-1.4", ".txt", "PDF"),
        (b"Referat", ".doc", "ukendt filtype"), (b"Referat", "", "ukendt filtype"), (b"ab\x00cd", ".txt", "binær"),
    ],
)
def test_sniff_format_refuses(head: bytes, suffix: str, message: str) -> None:
    with pytest.raises(ReadError, match=message):
        sniff_format(head, suffix)


@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_files_are_refused_with_a_danish_reason(kind: str, tmp_path: Path) -> None:
    bad = make_bad(kind, tmp_path)
    if kind == "recipe":  # readable text, but not minutes: the parser refuses it
        with pytest.raises(NotMinutes) as exc:
            parse_meeting(read_document(bad.path))
    else:
        with pytest.raises(ReadError) as exc:
            read_document(bad.path)
    message = str(exc.value)
    assert any(word in message for word in bad.reason), message
    assert "Traceback" not in message and "\n" not in message


def test_huge_file_is_refused_by_size_without_reading_it(tmp_path: Path) -> None:
    bad = make_bad("huge", tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(ReadError, match=r"for stor \(200 MB; grænsen er 50 MB\)"):
            read_document(bad.path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024  # reading the file would have allocated 200 MB


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="kan ikke læses"):
        read_document(tmp_path / "findes-ikke.txt")


def test_encrypted_pdf_with_empty_user_password_is_read(tmp_path: Path) -> None:
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_bytes(miljo_text()))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="", owner_password="ejer")  # "protected", but opens without a password
    p = tmp_path / "beskyttet.pdf"
    with open(p, "wb") as fh:
        writer.write(fh)
    assert "Cykelstier langs Åvej" in read_document(p).text
