"""Parse stage: real minutes of three councils, fictional formats the parser has not seen, dates."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from ingest.parse import NotMinutes, clean_lines, date_from_filename, is_agenda, parse_date, parse_meeting
from ingest.read import read_document
from ingest.records import Meeting, RawDocument
from tests.badfiles import RECIPE, FictionalItem, miljo_items, miljo_text, write_docx, write_pdf
from tests.conftest import AARHUS_BR, AARHUS_TU, IT_ARK, needs_real


def parse_text(text: str, name: str = "referat.txt", **kw: object) -> Meeting:
    return parse_meeting(RawDocument(Path("/fiktiv") / name, "txt", text, "0" * 64), **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- real: KL It-Arkitekturråd

IT_ARK_CASES = {
    "1.1": "SAG-2024-04074", "2.1": "SAG-2024-04074", "2.2": "SAG-2025-03105", "2.3": "SAG-2025-00718",
    "2.4": "SAG-2023-00231", "2.5": "SAG-2025-02439", "2.6": "SAG-2025-03201", "2.7": "SAG-2025-02755",
    "2.8": "SAG-2024-04074",
}


@pytest.fixture(scope="module")
def it_ark() -> Meeting:
    return parse_meeting(read_document(IT_ARK))


@needs_real
def test_it_ark_has_exactly_nine_items_with_their_case_numbers(it_ark: Meeting) -> None:
    assert [(it.section, it.case_number) for it in it_ark.items] == list(IT_ARK_CASES.items())


@needs_real
def test_it_ark_titles_including_one_over_two_lines(it_ark: Meeting) -> None:
    items = {it.section: it for it in it_ark.items}
    assert items["2.6"].title == (
        "Digitale forpligtigelser til stærkere velfærd – Kommunernes Digitaliseringsstrategi 2026-2030"
    )
    assert items["2.7"].title == "Fælles it-driftsenheder"
    assert items["1.1"].title == "Siden sidst"
    # The case line is not part of any title.
    assert not any(CASE in it.title for it in it_ark.items for CASE in IT_ARK_CASES.values())


@needs_real
def test_it_ark_placeholder_responsible_is_empty(it_ark: Meeting) -> None:
    items = {it.section: it for it in it_ark.items}
    # "SAG-2024-04074 Her skrives ansvarliges initialer" is a template left in, not a person.
    assert items["1.1"].responsible == ()
    assert items["2.7"].responsible == ("Christian Christensen",)
    assert not any("Her skrives" in it.text for it in it_ark.items)


@needs_real
def test_it_ark_has_no_date_in_its_text(it_ark: Meeting) -> None:
    assert it_ark.meeting_date is None
    assert it_ark.council == "It-Arkitekturråd"


@needs_real
def test_it_ark_numbered_lists_and_group_headings_are_not_items(it_ark: Meeting) -> None:
    sections = {it.section for it in it_ark.items}
    assert sections.isdisjoint({"1", "2", "3", "4"})
    titles = {it.title for it in it_ark.items}
    assert titles.isdisjoint({"Drøftelsessager", "Eventuelt"})
    items = {it.section: it for it in it_ark.items}
    # The lists stay inside their items, each list line on its own line.
    assert "\n1. Kortlægning af eksisterende organisatoriske landskab og it-aktiver" in items["2.7"].text
    assert "\n3. Sensorbaserede løsninger" in items["2.8"].text


@needs_real
def test_it_ark_group_headings_do_not_leak_into_the_item_before(it_ark: Meeting) -> None:
    items = {it.section: it for it in it_ark.items}
    assert not items["1.1"].text.rstrip().endswith("Drøftelsessager")
    assert not items["2.8"].text.rstrip().endswith("Eventuelt")


@needs_real
def test_it_ark_hyphenation_across_lines_is_repaired(it_ark: Meeting) -> None:
    items = {it.section: it for it in it_ark.items}
    # The file has "status for pilot-" / "driften ..." across a line break.
    assert "pilotdriften" in items["2.4"].text
    assert "pilot- driften" not in items["2.4"].text
    assert "Pilotdrift af sammenhængende forløb" in items["2.4"].title


@needs_real
def test_it_ark_list_lines_that_end_a_block_stand_alone(it_ark: Meeting) -> None:
    # In KL's text a block ends in two spaces, a wrapped line in one: a list line ending a block is not
    # joined to the paragraph after it.
    ai = next(i for i in it_ark.items if i.section == "2.8").text
    assert "\n3. Barrierer\nChristian Harsløf bemærkede, at flere potentielle projekter" in ai
    assert "fra bl.a. Datatilsynet" in ai  # "bl.a.  " then a name: still one sentence
    first = next(i for i in it_ark.items if i.section == "1.1").text
    assert "vedtaget i juni 2025\nPia understregede" in first


def two_space_minutes(list_end: str) -> str:
    """A fictional PDF-to-text output: wrapped lines end in one space, blocks in two; ``list_end`` ends the
    last list line."""
    prose = ("Rådet drøftede sagen og lagde vægt på, at kommunerne får en fælles løsning, der er let at bruge \n"
             "for borgerne og medarbejderne.  \n")
    return ("Referat af møde i Fiktivt Udvalg  \n2. Drøftelsessager  \n2.1. Fælles løsninger  \n"
            "SAG-2026-00001 Anne Andersen  \nDrøftelse  \n" + prose * 25
            + "Projekterne vurderes på:  \n1. Teknisk modenhed  \n2. Lovlighed  \n3. Barrierer" + list_end
            + "Christian Hansen bemærkede, at projekterne er fravalgt.  \n" + prose)


def test_a_list_line_ending_a_block_in_two_spaces_stands_alone() -> None:
    def body(text: str) -> str:
        return parse_meeting(RawDocument(Path("x.txt"), "txt", text, "0")).items[0].text

    assert "\n3. Barrierer\nChristian Hansen bemærkede" in body(two_space_minutes("  \n"))
    # One space: a wrapped list line, continued on the next line, as before.
    assert "\n3. Barrierer Christian Hansen bemærkede" in body(two_space_minutes(" \n"))
    # A document without the pattern (no trailing spaces at all) reads as before.
    plain = "\n".join(line.rstrip() for line in two_space_minutes("  \n").split("\n"))
    assert "\n3. Barrierer Christian Hansen bemærkede" in body(plain)


@needs_real
def test_it_ark_participants_and_absent(it_ark: Meeting) -> None:
    assert "Pia Færch" in it_ark.participants
    assert "Signe Maria Christensen" in it_ark.absent
    assert "Signe Maria Christensen" not in it_ark.participants
    # The list line by line under its headings, an entry the PDF broke over two lines joined again.
    roster = {(r.group, r.text, r.absent) for r in it_ark.roster}
    assert ("It-Arkitekturrådets medlemmer", "Bo Fristed, Chief Innovation Officer, chef for Center for Innovation og "
            "digitaliseringschef i Kultur og Borgerservice, Aarhus Kommune", False) in roster
    assert ("It-Arkitekturrådets medlemmer", "Henrik Brix, It- og digitaliseringschef, Favrskov Kommune, formand for KITA",
            False) in roster
    assert ("Sekretariat", "Zahra Al-Asfoor, KL (referent)", False) in roster
    assert ("Afbud", "Carsten Nydam-Rønved, Odense Kommune", True) in roster
    assert len(it_ark.roster) == 29 and it_ark.roster[-1].text == "Finn Graversen, KOMBIT"


def test_a_committees_plain_list_of_names_and_no_apologies() -> None:
    from ingest.parse import find_roster

    preamble = ["Referat", "Udvalg: Digitaliseringsudvalget", "Mødedato: 14. maj 2025", "Medlemmer:",
                "Lone Bertelsen (formand)", "Kasper Due", "Afbud:", "Kasper Due", "Indholdsfortegnelse",
                "Punkt 1: Godkendelse af dagsorden ........ 2"]
    assert [(r.group, r.text, r.absent) for r in find_roster(preamble)] == [
        ("Medlemmer", "Lone Bertelsen (formand)", False), ("Medlemmer", "Kasper Due", False),
        ("Afbud", "Kasper Due", True)]
    # "Afbud: Ingen" is kept as written; a paragraph of prose ends the list.
    roster = find_roster(["Deltagere", "• Karen Holm, Ravnsø Kommune", "Afbud", "Ingen",
                          "Rådet holdt sit møde i Ravnsø, hvor der blev budt velkommen til de nye medlemmer af rådet."])
    assert [(r.text, r.absent) for r in roster] == [("Karen Holm, Ravnsø Kommune", False), ("Ingen", True)]
    assert roster[0].name == "Karen Holm"


@needs_real
def test_it_ark_date_from_file_name_or_argument(tmp_path: Path, it_ark: Meeting) -> None:
    dated = tmp_path / "it-arkitekturraadet-referat_2025-06-12.txt"
    shutil.copyfile(IT_ARK, dated)
    meeting = parse_meeting(read_document(dated))
    assert meeting.meeting_date == date(2025, 6, 12)
    assert [it.section for it in meeting.items] == [it.section for it in it_ark.items]
    assert parse_meeting(read_document(IT_ARK), meeting_date=date(2025, 9, 3)).meeting_date == date(2025, 9, 3)
    assert parse_meeting(read_document(IT_ARK), council="KL's It-Arkitekturråd").council == "KL's It-Arkitekturråd"


# --------------------------------------------------------------------------- real: Aarhus HTML


@needs_real
def test_aarhus_teknisk_udvalg() -> None:
    m = parse_meeting(read_document(AARHUS_TU))
    assert m.meeting_date == date(2025, 10, 1)
    assert m.council == "Teknisk Udvalg"
    assert [(it.section, it.case_number) for it in m.items] == [
        ("1", "EMN-2025-010561"), ("2", "EMN-2025-009242"), ("3", "EMN-2025-008468"),
        ("4", "EMN-2025-010561"), ("5", None), ("6", "EMN-2024-035156"),
    ]
    items = {it.section: it for it in m.items}
    assert items["5"].title == "Eventuelt"
    assert items["5"].text.strip()  # "Eventuelt" has a decision text and must keep it
    # The decision holds the votes only: the case summary below an empty heading is not part of it, and the
    # attachment list (whose first document is titled "Indstilling") is the Bilag part, not a proposal.
    parts = {p.heading: p.text for p in items["2"].parts}
    assert "Solveig Munk kunne ikke tiltræde indstillingen." in parts["Beslutninger"]
    assert "fire ugers høring" not in parts["Beslutninger"] and "fire ugers høring" in parts["Sagsfremstilling"]
    assert "Indstilling" not in parts and "- Bilag 1: Udviklingsplan for Pier 3" in parts["Bilag"]
    # Each paragraph of the HTML stays a line: the steps of the case history are not run together.
    assert "Udvalg: Magistraten\nDato: 02-09-2025" in parts["Sagsforløb"]


@needs_real
def test_aarhus_byraad_agenda() -> None:
    m = parse_meeting(read_document(AARHUS_BR))
    assert m.meeting_date == date(2025, 10, 8)
    assert m.council == "Aarhus Byråd"
    # The numbered budget-proposal tables inside items 5-10 are not items.
    assert [it.section for it in m.items] == [str(n) for n in range(1, 34)]
    assert all(it.case_number and re.fullmatch(r"EMN-\d{4}-\d{6}", it.case_number) for it in m.items)
    items = {it.section: it for it in m.items}
    assert items["1"].title == "Godkendelse af dagsorden"
    assert len(items["7"].text) > 5000  # the budget table stays inside its item
    # An agenda, written before the meeting, although a party's proposal in pkt. 14 has a "Beslutning" heading.
    assert "Beslutning" in {p.heading for p in items["14"].parts}
    assert is_agenda(m)


@needs_real
def test_only_the_agenda_is_an_agenda() -> None:
    for path in (IT_ARK, AARHUS_TU):
        assert not is_agenda(parse_meeting(read_document(path))), path.name
    assert not any(is_agenda(parse_text(miljo_text(council=c))) for c in ("Miljøudvalget", "Teknisk Udvalg"))
    # Titled "Dagsorden" but decided item by item: minutes. Titled "Dagsorden" with proposals only: an agenda.
    decided = ("Dagsorden for mødet i Testrådet 3. juni 2025\n\n1. Cloud\nSAG-2025-00001\nIndstilling\n"
               "At rådet godkender retningslinjen.\nBeslutning\nGodkendt.\n\n2. Data\nSAG-2025-00002\n"
               "Indstilling\nAt rådet drøfter data.\nBeslutning\nDrøftet.\n")
    assert not is_agenda(parse_text(decided))
    assert is_agenda(parse_text(decided.replace("Beslutning\nGodkendt.\n", "").replace("Beslutning\nDrøftet.\n", "")))
    assert not is_agenda(parse_text(decided.replace("Dagsorden for mødet", "Dagsorden og referat for mødet")
                                    .replace("Beslutning\nGodkendt.\n", "").replace("Beslutning\nDrøftet.\n", "")))


def test_a_standing_item_with_text_is_an_item_not_the_end_of_the_one_before() -> None:
    text = ("Referat af møde i Testrådet 3. juni 2025\n\n1. Godkendelse af dagsorden\nGodkendt.\n\n"
            "2. Cloud\nSAG-2025-00001\nBeslutning\nRådet godkendte retningslinjen.\n\n"
            "3. Eventuelt\nJonas Brink orienterede om det nye ESDH-system.\n")
    m = parse_text(text)
    assert [(it.section, it.title) for it in m.items] == [("1", "Godkendelse af dagsorden"), ("2", "Cloud"),
                                                          ("3", "Eventuelt")]
    assert "Jonas Brink" not in m.items[1].text and "Jonas Brink" in m.items[2].text


# --------------------------------------------------------------------------- fictional formats


def test_punkt_numbering_with_sagsnr_lines_toc_lists_and_closed_item() -> None:
    m = parse_text(miljo_text(council="Miljøudvalget"))
    expected = miljo_items()
    assert [(it.section, it.case_number) for it in m.items] == [(e.section, e.case_number) for e in expected]
    items = {it.section: it for it in m.items}
    assert items["2"].title == "Cykelstier langs Åvej"
    # The table of contents (dot leaders, page numbers) gives no items and no text.
    assert not any("....." in it.text or "....." in it.title for it in m.items)
    assert "Indholdsfortegnelse" not in " ".join(it.text for it in m.items)
    # "1. Forundersøgelse ..." inside Punkt 2 is a list, kept as lines of the item.
    assert "\n1. Forundersøgelse af trafikken ved skolen\n2. Anlæg af cykelsti i foråret\n3. Evaluering" in items["2"].text
    assert "Udvalget godkendte indstillingen om cykelstierne." in items["2"].text
    # The closed item is an item, marked closed, with no more text than the word that it is closed.
    assert items["5"].closed and "Personalesag" in items["5"].title
    assert items["5"].text == "Lukket punkt."
    assert not any(it.closed for s, it in items.items() if s != "5")
    assert m.council == "Miljøudvalget" and m.meeting_date == date(2025, 5, 14)


def test_closed_item_recognised_by_its_body_alone() -> None:
    items = miljo_items()[:2] + [
        FictionalItem("3", "Salg af byggegrund", "25/0999", "Lukket punkt."),
    ]
    m = parse_text(miljo_text(council="Miljøudvalget", toc=False, items=items))
    last = m.items[-1]
    assert (last.section, last.case_number, last.closed) == ("3", "25/0999", True)


def test_wrapped_lines_joined_and_responsible_found() -> None:
    text = miljo_text(council="Miljøudvalget", toc=False).replace(
        "Sagsnr.: 24/1234", "Sagsnr.: 24/1234\nAnsvarlig: Jens Hansen og Mette Lund")
    m = parse_text(text)
    items = {it.section: it for it in m.items}
    assert items["2"].responsible == ("Jens Hansen", "Mette Lund")
    # A paragraph wrapped over two lines reads as one line.
    assert "begge sider af Åvej mellem rundkørslen og skolen." in items["2"].text
    assert [p.heading for p in items["2"].parts] == ["Sagsfremstilling", "Beslutning"]


def test_toc_with_tab_separated_page_numbers() -> None:
    items = miljo_items()
    toc = "\n".join(f"Punkt {it.section}: {it.title}\t{n + 2}" for n, it in enumerate(items))
    text = miljo_text(council="Miljøudvalget", toc=False).replace(
        "Sted: Rådhuset, mødelokale 2\n", f"Sted: Rådhuset, mødelokale 2\n\nIndholdsfortegnelse\n{toc}\n")
    m = parse_text(text)
    assert [(it.section, it.title, it.case_number) for it in m.items] == [
        (e.section, e.title, e.case_number) for e in items]


def test_council_name_with_a_hyphenated_pair() -> None:
    assert parse_text(miljo_text(council="Natur- og Miljøudvalget")).council == "Natur- og Miljøudvalget"


def test_council_from_a_label_line() -> None:
    text = miljo_text(council="Udvalg: Natur- og Miljøudvalget")
    assert parse_text(text).council == "Natur- og Miljøudvalget"


@pytest.mark.parametrize(
    ("date_line", "expected"),
    [
        ("Mødedato: 14. maj 2025", date(2025, 5, 14)),
        ("Referat af mødet d. 27-08-2025 kl. 16.00", date(2025, 8, 27)),
        ("Dato: 2025-08-27", date(2025, 8, 27)),
        ("Mødet blev holdt onsdag den 3. sept. 2025", date(2025, 9, 3)),
        ("Mødedag: 01.10.2025", date(2025, 10, 1)),
    ],
)
def test_meeting_date_forms(date_line: str, expected: date) -> None:
    m = parse_text(miljo_text(council="Miljøudvalget", date_line=date_line))
    assert m.meeting_date == expected


def test_date_in_text_beats_file_name_and_argument() -> None:
    m = parse_text(miljo_text(council="Miljøudvalget"), name="miljo_2024-01-02.txt", meeting_date=date(2023, 1, 1))
    assert m.meeting_date == date(2025, 5, 14)
    undated = miljo_text(council="Miljøudvalget", date_line="Sted: Byrådssalen")
    assert parse_text(undated, name="miljo_2024-01-02.txt").meeting_date == date(2024, 1, 2)
    assert parse_text(undated, name="miljo.txt").meeting_date is None


def test_bare_date_line_in_the_heading() -> None:
    m = parse_text(miljo_text(council="Miljøudvalget", date_line="2025-08-27"))
    assert m.meeting_date == date(2025, 8, 27)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14. maj 2025", date(2025, 5, 14)),
        ("d. 27-08-2025", date(2025, 8, 27)),
        ("2025-08-27", date(2025, 8, 27)),
        ("den 1. OKTOBER 2025", date(2025, 10, 1)),
        ("27/8/2025", date(2025, 8, 27)),
        ("31-02-2025 og 2. marts 2025", date(2025, 3, 2)),  # an impossible date is skipped
        ("først 2025-08-27, senere 1. september 2025", date(2025, 8, 27)),  # the first one wins
        ("intet her", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_date_from_filename() -> None:
    assert date_from_filename("teknisk_udvalg_referat_2025-10-01.html") == date(2025, 10, 1)
    assert date_from_filename("referat-10-09-2025.pdf") == date(2025, 9, 10)
    assert date_from_filename("referat.pdf") is None


def test_not_minutes() -> None:
    with pytest.raises(NotMinutes):
        parse_text(RECIPE)
    with pytest.raises(NotMinutes):
        parse_text("Kære alle\n\nHer er et brev uden dagsorden.\n\nMed venlig hilsen\nJens")


def test_same_minutes_in_docx_and_pdf_give_the_same_items(tmp_path: Path) -> None:
    text = miljo_text(council="Miljøudvalget")
    want = [(it.section, it.title, it.case_number, it.closed) for it in parse_text(text).items]
    for path in (write_docx(tmp_path / "miljo.docx", text), write_pdf(tmp_path / "miljo.pdf", text, pages=2)):
        m = parse_meeting(read_document(path))
        assert [(it.section, it.title, it.case_number, it.closed) for it in m.items] == want, path.name
        assert (m.council, m.meeting_date) == ("Miljøudvalget", date(2025, 5, 14))


def test_pdf_with_one_item_per_page_keeps_case_numbers(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    pdf.add_page()
    for line in ["Referat", "Miljøudvalget", "Mødedato: 14. maj 2025"]:
        pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    items = miljo_items()
    for it in items:
        pdf.add_page()
        lines = [f"Punkt {it.section}: {it.title}"] + ([f"Sagsnr.: {it.case_number}"] if it.case_number else [])
        for line in lines + [""] + it.body.split("\n"):
            pdf.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "en-side-per-punkt.pdf"
    path.write_bytes(bytes(pdf.output()))
    m = parse_meeting(read_document(path))
    assert [(it.section, it.case_number) for it in m.items] == [(e.section, e.case_number) for e in items]
    assert "Beslutning\nGodkendt." in m.items[3].text


def test_pdf_running_header_and_footer_are_dropped(tmp_path: Path) -> None:
    from fpdf import FPDF

    class WithHeader(FPDF):
        def header(self) -> None:
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, "Miljøudvalget, referat af 14.05.2025", new_x="LMARGIN", new_y="NEXT")

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font("Helvetica", size=8)
            self.cell(0, 5, f"Side {self.page_no()} af {{nb}}")

    pdf = WithHeader()
    # Page breaks fall inside paragraphs, as they do in real minutes.
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in miljo_text(council="Miljøudvalget", toc=False).split("\n"):
        pdf.multi_cell(0, 18, line or " ", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "med-sidehoved.pdf"
    path.write_bytes(bytes(pdf.output()))
    doc = read_document(path)
    assert doc.text.count("\f") >= 3
    m = parse_meeting(doc)
    assert [(it.section, it.case_number) for it in m.items] == [(e.section, e.case_number) for e in miljo_items()]
    everything = "\n".join(it.text + it.title for it in m.items)
    assert "Side " not in everything and "referat af 14.05.2025" not in everything


def test_fictional_html(tmp_path: Path) -> None:
    html = """<!doctype html><html><head><title>x</title><style>p{color:red}</style></head><body>
    <nav><a href="/">Forside</a> <a href="/x">Punkt 9: Menu</a></nav>
    <h1>Referat</h1><p>Udvalg: Kultur- og Fritidsudvalget</p><p>Mødedato: 2. april 2025</p>
    <table><tr><td>1.</td><td><h2>Tilskud til spejderhytte</h2></td></tr></table>
    <p>Sagsnr.: 25/0101</p><h3>Beslutning</h3><p>Udvalget bevilgede <b>tilskud</b> til hytten.</p>
    <script>var punkt = "2. Skjult";</script>
    <table><tr><td>2.</td><td><h2>Åbningstider i svømmehallen</h2></td></tr></table>
    <p>Sagsnr.: 25/0102</p><h3>Beslutning</h3><p>Godkendt.</p>
    </body></html>"""
    path = tmp_path / "kultur.html"
    path.write_text(html, encoding="utf-8")
    m = parse_meeting(read_document(path))
    assert m.council == "Kultur- og Fritidsudvalget" and m.meeting_date == date(2025, 4, 2)
    assert [(it.section, it.title, it.case_number) for it in m.items] == [
        ("1", "Tilskud til spejderhytte", "25/0101"), ("2", "Åbningstider i svømmehallen", "25/0102")]
    assert "Udvalget bevilgede tilskud til hytten." in m.items[0].text
    assert "Skjult" not in m.items[0].text + m.items[1].text


# --------------------------------------------------------------------------- clean_lines


def test_dehyphenation() -> None:
    lines = clean_lines("status for pilot-\ndriften af forløbet\nBeskæftigelses-\nog integrationsforvaltningen\n"
                        "it-\nArkitektur og data-\n2.3 Næste punkt")
    assert lines[0] == "status for pilotdriften af forløbet"
    assert lines[1] == "Beskæftigelses- og integrationsforvaltningen"  # a real hyphen before "og" stays
    assert lines[2] == "it-"  # the next line starts with a capital: not a split word
    assert lines[-1] == "2.3 Næste punkt"  # a header is never glued onto the line before


def test_clean_lines_whitespace_soft_hyphen_and_double_spacing() -> None:
    assert clean_lines("a\u00adb  c\u00a0d\r\ne") == ["ab c d", "e"]
    # PDF text where every line is followed by an empty one, and whitespace-only lines are paragraph breaks.
    raw = "\n\n".join(f"linje {n}" for n in range(12)) + "\n\n  \n\nnyt afsnit\n"
    lines = clean_lines(raw)
    assert lines[:12] == [f"linje {n}" for n in range(12)]
    assert lines[12:14] == ["", "nyt afsnit"]


def test_parse_never_invents_text() -> None:
    text = miljo_text(council="Miljøudvalget")
    words = set(re.findall(r"\w+", text))
    for it in parse_text(text).items:
        assert set(re.findall(r"\w+", it.text + " " + it.title)) <= words


def test_a_word_paragraph_after_a_list_is_its_own_paragraph(tmp_path: Path) -> None:
    # Word writes each paragraph on its own; read as PDF-style double spacing, every break was dropped and
    # the list's last line ran into the next paragraph ("… supportaftale FællesIT etablerer …", demo).
    text = "\n".join([
        "Referat", "Miljøudvalget", "Mødedato: 14. maj 2025", "",
        "Punkt 1: Open source i kommunen", "Sagsnr.: 25/0001", "",
        "Drøftelse", "Anbefalingen indeholder to elementer:",
        "- nye anskaffelser undersøger open source først", "- fælles support med en kommerciel aftale",
        "FællesIT etablerer et katalog over løsningerne.", "",
        "Beslutning", "Godkendt.",
    ])
    item = parse_meeting(read_document(write_docx(tmp_path / "m.docx", text))).items[0]
    assert "- fælles support med en kommerciel aftale\nFællesIT etablerer et katalog over løsningerne." in item.text
