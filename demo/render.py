"""Render the fictional demo minutes (demo/minutes/*.txt) into a mixed-format corpus: PDF, DOCX and TXT.

    python demo/render.py demo/minutes demo/build/minutes

Output is deterministic (fixed creation dates, fixed zip timestamps), so rendering twice gives the same
bytes, and a file whose bytes would not change is not rewritten.
"""

from __future__ import annotations

import io
import logging
import re
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

OutFormat = Literal["pdf", "docx", "txt"]

# Which source is rendered to which format; sources not listed are copied as TXT.
FORMATS: dict[str, OutFormat] = {
    "fiktivt-raad-referat-01": "pdf",
    "fiktivt-raad-referat-02": "docx",
    "fiktivt-raad_2025-02-25": "txt",  # no date in the text: the file name carries it, so keep it plain
    "fiktivt-raad-referat-04": "pdf",
    "fiktivt-raad-referat-05": "docx",
    "fiktiv-kommune-digitaliseringsudvalget-01": "pdf",
    "fiktiv-kommune-digitaliseringsudvalget-02": "txt",
}

# One fixed moment for every timestamp written into a file, so output bytes never depend on the clock.
FIXED_TIME = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
AUTHOR = "Rådgiver demodata (fiktiv)"

log = logging.getLogger("demo.render")

LineKind = Literal["disclaimer", "title", "group", "item", "case", "label", "bullet", "para", "blank"]

LABELS = {
    "Indstilling",
    "Drøftelse",
    "Beslutning",
    "Sagsfremstilling",
    "Deltagerfortegnelse",
    "Deltagere",
    "Afbud",
    "Afbud:",
    "Sekretariat:",
    "Oplægsholdere",
    "Medlemmer:",
    "Indholdsfortegnelse",
    "Fiktivt It-Arkitekturråds medlemmer:",
}
ITEM_RE = re.compile(r"^(\d+\.\d+\.|Punkt \d+:)\s")
GROUP_RE = re.compile(r"^(\d+)\.\s+\S")
CASE_RE = re.compile(r"^(SAG-\d{4}-\d{5}\b|Sagsnr\.:)")
TOC_LEADER = "....."


@dataclass(frozen=True)
class Line:
    """One logical line of a source, classified for layout."""

    kind: LineKind
    text: str


def classify(text: str) -> list[Line]:
    """Classify the lines of one source text; an item title that continues on the next line is joined with \\n."""
    raw = text.splitlines()
    out: list[Line] = []
    in_header = True  # the first block after the disclaimer is the title block
    seen_title = False
    i = 0
    while i < len(raw):
        s = raw[i].rstrip()
        if i == 0 and s.startswith("FIKTIVT REFERAT"):
            out.append(Line("disclaimer", s))
        elif not s:
            out.append(Line("blank", ""))
            if seen_title:
                in_header = False
        elif in_header:
            out.append(Line("title", s))
            seen_title = True
        elif ITEM_RE.match(s) and TOC_LEADER not in s:
            title = s
            nxt = raw[i + 1].rstrip() if i + 1 < len(raw) else ""
            # A title that spans two lines: the next line is neither case line, label nor body.
            if nxt and not CASE_RE.match(nxt) and nxt not in LABELS and nxt != "Lukket punkt.":
                title = f"{s}\n{nxt}"
                i += 1
            out.append(Line("item", title))
        elif GROUP_RE.match(s) and _is_group_heading(s, raw, i):
            out.append(Line("group", s))
        elif CASE_RE.match(s):
            out.append(Line("case", s))
        elif s in LABELS:
            out.append(Line("label", s))
        elif s.startswith("• "):
            out.append(Line("bullet", s[2:]))
        else:
            out.append(Line("para", s))
        i += 1
    return out


def _is_group_heading(s: str, raw: list[str], i: int) -> bool:
    """'2. Drøftelsessager' is a group heading; '2. Nødprocedurer for ...' inside an item is not."""
    m = GROUP_RE.match(s)
    assert m
    if s.split(maxsplit=1)[1] == "Eventuelt":
        return True
    nxt = next((r.strip() for r in raw[i + 1 :] if r.strip()), "")
    return nxt.startswith(f"{m.group(1)}.") and bool(re.match(r"^\d+\.\d+\.\s", nxt))


# --- PDF -----------------------------------------------------------------------------------------

# Core fonts are latin-1 only: æøå are fine, typographic punctuation is not.
LATIN1_FIXES = {
    "\u2013": "-",
    "\u2014": "-",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2018": "'",
    "\u2019": "'",
    "\u2022": "-",
    "\u2026": "...",
    "\u00a0": " ",
}


class NotLatin1(Exception):
    """A source line has a character the PDF core font cannot show; add it to LATIN1_FIXES."""


def to_latin1(text: str) -> str:
    """Replace typographic characters with latin-1 equivalents; raise if any other character remains."""
    for bad, good in LATIN1_FIXES.items():
        text = text.replace(bad, good)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as e:
        raise NotLatin1(f"{text[e.start:e.end]!r} in {text!r}") from e
    return text


def render_pdf(lines: list[Line], title: str) -> bytes:
    """Lay out classified lines as an A4 PDF with Helvetica, page numbers and natural line wrapping."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    class Minutes(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=8)
            self.cell(0, 6, f"Side {self.page_no()}", align="C")

    pdf = Minutes(format="A4")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_title(to_latin1(title))
    pdf.set_author(to_latin1(AUTHOR))
    pdf.set_creator("demo/render.py")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()

    def block(text: str, size: float, style: str = "", h: float = 5.0, indent: float = 0.0) -> None:
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(0, h, to_latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    first_title = True
    for ln in lines:
        if ln.kind == "blank":
            pdf.ln(3)
        elif ln.kind == "disclaimer":
            block(ln.text, 8, "I", 4)
        elif ln.kind == "title":
            block(ln.text, 15 if first_title else 11, "B", 7 if first_title else 6)
            first_title = False
        elif ln.kind == "group":
            pdf.ln(2)
            block(ln.text, 13, "B", 7)
        elif ln.kind == "item":
            pdf.ln(2)
            block(ln.text, 11, "B", 6)
        elif ln.kind == "case":
            block(ln.text, 9, "", 5)
        elif ln.kind == "label":
            block(ln.text, 10, "B", 5)
        elif ln.kind == "bullet":
            block("- " + ln.text, 10, "", 5, indent=4)
        else:
            block(ln.text, 10, "", 5)
    return bytes(pdf.output())


# --- DOCX ----------------------------------------------------------------------------------------


def render_docx(lines: list[Line], title: str) -> bytes:
    """Lay out classified lines as a DOCX: first title line as Title, groups Heading 1, items Heading 2."""
    import docx

    doc = docx.Document()
    cp = doc.core_properties
    cp.title = title
    cp.author = AUTHOR
    cp.last_modified_by = AUTHOR
    cp.comments = "Fiktivt referat, demodata til Rådgiver"
    cp.revision = 1
    naive = FIXED_TIME.replace(tzinfo=None)
    cp.created = naive
    cp.modified = naive
    cp.last_printed = naive

    first_title = True
    for ln in lines:
        if ln.kind == "blank":
            continue  # paragraphs carry their own spacing in Word
        if ln.kind == "disclaimer":
            p = doc.add_paragraph()
            p.add_run(ln.text).italic = True
        elif ln.kind == "title" and first_title:
            doc.add_paragraph(ln.text, style="Title")
            first_title = False
        elif ln.kind == "title":
            p = doc.add_paragraph()
            p.add_run(ln.text).bold = True
        elif ln.kind in ("group", "item"):
            level = 1 if ln.kind == "group" else 2
            h = doc.add_heading(level=level)
            first, *rest = ln.text.split("\n")
            run = h.add_run(first)
            for cont in rest:  # a two-line title stays one heading, with a line break
                run.add_break()
                run = h.add_run(cont)
        elif ln.kind == "label":
            p = doc.add_paragraph()
            p.add_run(ln.text).bold = True
        elif ln.kind == "bullet":
            doc.add_paragraph(ln.text, style="List Bullet")
        else:
            doc.add_paragraph(ln.text)

    buf = io.BytesIO()
    doc.save(buf)
    return _fix_zip_times(buf.getvalue())


def _fix_zip_times(data: bytes) -> bytes:
    """Rewrite a zip (DOCX) with every entry stamped FIXED_TIME, so bytes do not depend on the clock."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# --- driver --------------------------------------------------------------------------------------


def _doc_title(lines: list[Line]) -> str:
    titles = [ln.text for ln in lines if ln.kind == "title"]
    return " / ".join(titles[:2]) if titles else "Fiktivt referat"


def render_one(src: Path) -> tuple[OutFormat, bytes]:
    """Render one source file to its configured format."""
    fmt = FORMATS.get(src.stem, "txt")
    data = src.read_bytes()
    if fmt == "txt":
        return fmt, data
    lines = classify(data.decode("utf-8"))
    if fmt == "pdf":
        return fmt, render_pdf(lines, _doc_title(lines))
    return fmt, render_docx(lines, _doc_title(lines))


def _write_if_changed(path: Path, data: bytes) -> bool:
    if path.exists() and path.read_bytes() == data:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def render(src_dir: Path, out_dir: Path) -> list[Path]:
    """Render every src_dir/*.txt into out_dir in its configured format; return the output paths."""
    sources = sorted(Path(src_dir).glob("*.txt"))
    if not sources:
        raise FileNotFoundError(f"No *.txt sources in {src_dir}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for src in sources:
        fmt, data = render_one(src)
        dest = out_dir / f"{src.stem}.{fmt}"
        # A meeting rendered earlier in another format would be ingested twice; remove it.
        for other in ("pdf", "docx", "txt"):
            stale = out_dir / f"{src.stem}.{other}"
            if other != fmt and stale.exists():
                stale.unlink()
                log.info("removed %s", stale)
        log.info("%s %s", "wrote" if _write_if_changed(dest, data) else "unchanged", dest)
        paths.append(dest)
    return paths


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python demo/render.py SRC_DIR OUT_DIR", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    render(Path(args[0]), Path(args[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
