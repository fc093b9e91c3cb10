"""An Answer as a Word memo: the question as heading, the answer, each citation a real footnote.

python-docx has no footnote API, so the footnotes part (``word/footnotes.xml``) and its relationship
are written here; Word and LibreOffice number the notes themselves.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from chat_app.answer import Answer
from chat_app.prompt import Citation

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FOOTNOTES_URI = "/word/footnotes.xml"
MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
          "november", "december")
MARK = re.compile(r"\s*\[(\d+)\]")
# Word's own separators (ids -1 and 0) come first; real notes are numbered from 1.
FOOTNOTES_HEAD = (
    f'<w:footnotes xmlns:w="{W_NS}">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
    "</w:pPr><w:r><w:separator/></w:r></w:p></w:footnote>"
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:pPr><w:spacing w:after="0" w:line="240" '
    'w:lineRule="auto"/></w:pPr><w:r><w:continuationSeparator/></w:r></w:p></w:footnote>'
    "</w:footnotes>"
)


def danish_date(d: date | None) -> str:
    """``10. september 2025``; ``ukendt dato`` when the minutes gave none."""
    return f"{d.day}. {MONTHS[d.month - 1]} {d.year}" if d else "ukendt dato"


def citation_note(c: Citation) -> tuple[str, str, str]:
    """(where, quote, file) of a footnote: council, Danish date, pkt., case number and title; the quote; the file."""
    case = f", sag {c.case_number}" if c.case_number else ""
    pkt = f", {c.pkt}" if c.pkt else ""
    where = f"{c.council}, {c.meeting} {danish_date(c.meeting_date)}{pkt}{case}: “{c.title}”."
    return where, f"»{c.quote}«", f"Kilde: {Path(c.source).name}"


def memo_filename(question: str, day: date) -> str:
    """``raadgiver-notat-2026-12-01-hvad-mente-raadet-om-open-source.docx``."""
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
    slug = re.sub(r"[^a-z0-9]+", "-", question.translate(table).lower()).strip("-")[:60].rstrip("-")
    return f"raadgiver-notat-{day.isoformat()}{'-' + slug if slug else ''}.docx"


class _Footnotes:
    """The footnotes part of one document, created on first use."""

    def __init__(self, doc: DocxDocument) -> None:
        from docx.opc.constants import CONTENT_TYPE as CT
        from docx.opc.constants import RELATIONSHIP_TYPE as RT
        from docx.opc.packuri import PackURI
        from docx.opc.part import XmlPart
        from docx.oxml import parse_xml

        self.part = XmlPart(PackURI(FOOTNOTES_URI), CT.WML_FOOTNOTES, parse_xml(FOOTNOTES_HEAD), doc.part.package)
        doc.part.relate_to(self.part, RT.FOOTNOTES)
        self.next_id = 1

    def add(self, paragraphs: list[list[tuple[str, bool]]]) -> int:
        """A footnote of paragraphs of (text, italic) runs; returns its id."""
        from docx.oxml import parse_xml
        from docx.oxml.ns import qn

        note_id = self.next_id
        self.next_id += 1
        note = parse_xml(f'<w:footnote xmlns:w="{W_NS}" w:id="{note_id}"/>')
        for n, runs in enumerate(paragraphs):
            p = note.makeelement(qn("w:p"), {})
            ppr = p.makeelement(qn("w:pPr"), {})
            ppr.append(ppr.makeelement(qn("w:pStyle"), {qn("w:val"): "FootnoteText"}))
            p.append(ppr)
            if n == 0:  # the note's own number at its start
                r = p.makeelement(qn("w:r"), {})
                r.append(_ref_props(r))
                r.append(r.makeelement(qn("w:footnoteRef"), {}))
                p.append(r)
                runs = [(" ", False)] + runs
            for text, italic in runs:
                r = p.makeelement(qn("w:r"), {})
                if italic:
                    rpr = r.makeelement(qn("w:rPr"), {})
                    rpr.append(rpr.makeelement(qn("w:i"), {}))
                    r.append(rpr)
                t = r.makeelement(qn("w:t"), {"{http://www.w3.org/XML/1998/namespace}space": "preserve"})
                t.text = text
                r.append(t)
                p.append(r)
            note.append(p)
        self.part.element.append(note)
        return note_id


def _ref_props(run: object) -> object:
    """Run properties of a note number: the reference style, and superscript where the style is missing."""
    from docx.oxml.ns import qn

    rpr = run.makeelement(qn("w:rPr"), {})  # type: ignore[attr-defined]
    rpr.append(rpr.makeelement(qn("w:rStyle"), {qn("w:val"): "FootnoteReference"}))
    rpr.append(rpr.makeelement(qn("w:vertAlign"), {qn("w:val"): "superscript"}))
    return rpr


def _add_styles(doc: DocxDocument) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt

    text = doc.styles.add_style("Footnote Text", WD_STYLE_TYPE.PARAGRAPH)
    text.base_style = doc.styles["Normal"]
    text.font.size = Pt(9)
    text.paragraph_format.space_after = Pt(2)
    ref = doc.styles.add_style("Footnote Reference", WD_STYLE_TYPE.CHARACTER)
    ref.font.superscript = True


def build_memo(question: str, answer: Answer, *, now: datetime | None = None) -> DocxDocument:
    """The memo as a python-docx Document (save it with ``.save(path)``)."""
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Pt

    now = now or datetime.now(timezone.utc)
    doc = docx.Document()
    _add_styles(doc)
    doc.add_heading(question.strip(), level=1)
    lead = doc.add_paragraph()
    lead.add_run(f"Notat fra Rådgiver, {danish_date(now.date())}. Svaret bygger kun på referaterne; "
                 "hver kilde står i en fodnote med det præcise citat.").italic = True
    lead.runs[0].font.size = Pt(9)
    notes = _Footnotes(doc) if answer.citations else None
    first_note: dict[int, int] = {}  # citation number -> id of its full footnote

    def add_note(n: int, paragraph: object) -> None:
        assert notes is not None
        c = answer.citations[n - 1]
        if n in first_note:  # cited again: a short note pointing at the full one
            where = f"{c.council}, {c.pkt or c.title.lower()}" + (f", sag {c.case_number}" if c.case_number else "")
            note_id = notes.add([[(f"Samme kilde som note {first_note[n]} ({where}).", False)]])
        else:
            where, quote, source = citation_note(c)
            note_id = notes.add([[(where, False)], [(quote, True)], [(source, False)]])
            first_note[n] = note_id
        run = paragraph.add_run()  # type: ignore[attr-defined]
        run._r.append(_ref_props(run._r))
        run._r.append(run._r.makeelement(qn("w:footnoteReference"), {qn("w:id"): str(note_id)}))

    paragraph = None
    for line in answer.answer.strip().split("\n"):
        if not line.strip():
            continue
        paragraph = doc.add_paragraph()
        pos = 0
        for m in MARK.finditer(line):
            n = int(m.group(1))
            if not 1 <= n <= len(answer.citations):
                continue  # a number that is no source stays as text
            paragraph.add_run(line[pos : m.start()])
            add_note(n, paragraph)
            pos = m.end()
        paragraph.add_run(line[pos:])
    # A source the text never marks still gets its note, at the end of the answer.
    for n in range(1, len(answer.citations) + 1):
        if n not in first_note:
            add_note(n, paragraph if paragraph is not None else doc.add_paragraph())
    if answer.note:
        doc.add_paragraph().add_run(answer.note).italic = True

    props = doc.core_properties
    props.title = question.strip()[:250]
    props.subject = "Svar fra Rådgiver med kildehenvisninger til referater"
    props.author = props.last_modified_by = "Rådgiver"
    props.created = props.modified = now.astimezone(timezone.utc).replace(tzinfo=None)  # written as ISO 8601, UTC
    props.language = "da-DK"
    props.keywords = _fit("; ".join(dict.fromkeys(c.case_number for c in answer.citations if c.case_number)))
    props.comments = _fit("Kilder: " + "; ".join(
        f"{c.council} {c.meeting_date.isoformat() if c.meeting_date else 'ukendt dato'} {c.pkt or c.title.lower()}"
        for c in answer.citations)) if answer.citations else "Ingen kilder (intet svar i referaterne)."
    return doc


def _fit(text: str, limit: int = 255) -> str:
    """Word's core properties hold 255 characters; an answer citing many items must still save (the
    footnotes carry every source in full)."""
    return text if len(text) <= limit else text[: limit - 1].rsplit("; ", 1)[0] + "…"


def write_memo(question: str, answer: Answer, path: Path, *, now: datetime | None = None) -> Path:
    """Write the memo to ``path`` (a .docx) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    build_memo(question, answer, now=now).save(str(path))
    return path
