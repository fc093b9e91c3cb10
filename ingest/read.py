"""Read one file into a RawDocument: one small reader per format, nothing else."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ingest.parse import BULLET
from ingest.records import DocFormat, RawDocument

MAX_FILE_BYTES = 50 * 1024 * 1024  # minutes are kilobytes to a few MB; larger is a mistake

EXTENSIONS: dict[str, DocFormat] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".txt": "txt",
    ".md": "txt",
    ".html": "html",
    ".htm": "html",
}


class ReadError(Exception):
    """A file could not be read as minutes; the message is Danish and names the reason."""


def sniff_format(head: bytes, suffix: str) -> DocFormat:
    """Decide the format from the file's first bytes; the extension must agree."""
    declared = EXTENSIONS.get(suffix.lower())
    if declared is None:
        known = ", ".join(sorted(EXTENSIONS))
        raise ReadError(f"ukendt filtype '{suffix or '(ingen)'}' – understøttede typer: {known}")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        actual: DocFormat = "html" if declared == "html" else "txt"  # UTF-16 text has NUL bytes
    elif head.startswith(b"%PDF"):
        actual = "pdf"
    elif head.startswith(b"PK\x03\x04"):
        actual = "docx"
    elif b"\x00" in head[:4096]:
        raise ReadError("filen er binær og ikke et dokument")
    elif re.search(rb"<(html|!doctype html|body|div|table|p)[\s>]", head[:4096].lower()):
        actual = "html" if declared == "html" else "txt"
    else:
        actual = "txt"
    if declared == "html" and actual == "txt":
        actual = "html"  # an HTML fragment without tags is still read by the HTML reader
    if actual != declared and not (declared == "txt" and actual == "txt"):
        raise ReadError(f"indholdet er {actual.upper()}, men filen hedder '{suffix}' – omdøb filen eller tjek den")
    return actual


def read_document(path: Path, max_bytes: int = MAX_FILE_BYTES) -> RawDocument:
    """Read a file of any supported format, checking type by content, size and encoding."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ReadError(f"kan ikke læses ({exc.strerror})") from exc
    if size == 0:
        raise ReadError("filen er tom")
    if size > max_bytes:
        raise ReadError(
            f"filen er for stor ({size / 1024 / 1024:.0f} MB; grænsen er {max_bytes / 1024 / 1024:.0f} MB)"
        )
    data = path.read_bytes()
    fmt = sniff_format(data[:8192], path.suffix)
    text = {"pdf": _pdf_text, "docx": _docx_text, "txt": _plain_text, "html": _html_text}[fmt](data)
    if not text.strip():
        raise ReadError("der er ingen tekst i filen (en skannet PDF uden tekstlag?)")
    return RawDocument(source=path, format=fmt, text=text, sha256=hashlib.sha256(data).hexdigest())


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252 when that is clearly it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # Danish text in cp1252/latin-1: æøå are single bytes 0xE6 0xF8 0xE5 (0xC6 0xD8 0xC5).
    text = data.decode("cp1252", errors="replace")
    danish = sum(text.count(c) for c in "æøåÆØÅ")
    bad = text.count("\ufffd") + sum(1 for c in text if 0x80 <= ord(c) < 0xA0)
    if bad == 0 and danish > 0:
        return text
    raise ReadError("ukendt tegnkodning – gem filen som UTF-8 og prøv igen")


def _plain_text(data: bytes) -> str:
    return decode_text(data)


def _pdf_text(data: bytes) -> str:
    import io
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its English warnings are not for our users
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # An empty user password still opens many "protected" PDFs; others need the owner.
            try:
                if not reader.decrypt(""):
                    raise ReadError("PDF'en er krypteret med adgangskode – gem en ukrypteret kopi")
            except ReadError:
                raise
            except Exception as exc:
                raise ReadError("PDF'en er krypteret og kan ikke åbnes – gem en ukrypteret kopi") from exc
        # Page breaks become a form feed so the parser can drop running headers and footers.
        return "\f".join((page.extract_text() or "") for page in reader.pages)
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ReadError(f"PDF'en er beskadiget og kan ikke læses ({type(exc).__name__})") from exc
    except Exception as exc:  # pypdf raises many kinds on mangled files
        raise ReadError(f"PDF'en er beskadiget og kan ikke læses ({type(exc).__name__})") from exc


def _docx_text(data: bytes) -> str:
    import io
    import zipfile

    from docx import Document

    try:
        doc = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ReadError("DOCX-filen er beskadiget eller ikke et Word-dokument") from exc
    except Exception as exc:
        raise ReadError(f"DOCX-filen kan ikke læses ({type(exc).__name__})") from exc
    lines: list[str] = []
    body = doc.element.body
    # Walk paragraphs and tables in document order; tables often hold participant lists.
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(_docx_runs(child))
            lines.append("")
        elif tag == "tbl":
            for row in child.iter():
                if row.tag.endswith("}tr"):
                    cells = []
                    for cell in row.iterchildren():
                        if cell.tag.endswith("}tc"):
                            cells.append(" ".join("".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t")).split()))
                    lines.append(" ".join(c for c in cells if c))
            lines.append("")
    return "\n".join(lines)


def _docx_runs(paragraph: object) -> str:
    """A paragraph's text with tabs as spaces and manual line breaks as newlines."""
    out: list[str] = []
    for node in paragraph.iter():  # type: ignore[attr-defined]
        tag = node.tag.rsplit("}", 1)[-1]
        if tag == "t":
            out.append(node.text or "")
        elif tag == "tab":
            out.append(" ")
        elif tag in ("br", "cr"):
            out.append("\n")
    return "".join(out)


_BLOCK_TAGS = {
    "p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "header", "footer", "table", "ul", "ol", "dt", "dd", "blockquote", "pre",
}
_HEADING_TAGS = {"h1", "h2", "h3", "h4"}


def _html_text(data: bytes) -> str:
    from bs4 import BeautifulSoup, NavigableString, Tag

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "head", "nav", "svg", "form"]):
        tag.decompose()
    # Interactive chrome (menus, dialogs, badges, hidden widgets) is not part of the minutes.
    for tag in soup.select('[role="menu"], [role="dialog"], [aria-hidden="true"], .modal, .badge, .dropdown-menu, .pdf-label'):
        tag.decompose()

    lines: list[str] = []
    current: list[str] = []
    # A list entry reads as a list line ("- Bilag 1: …"), so that an attachment titled "Indstilling" is not
    # taken for the heading of a part; entries that carry their own number or bullet are left as they are.
    bullet = False
    level = 0  # of the last heading with text
    after = False  # text has followed that heading

    def flush(heading: int = 0) -> None:
        nonlocal bullet, level, after
        text = " ".join("".join(current).split())
        current.clear()
        if not text:
            if heading >= 3 and after and level >= 3:
                # An empty part heading below a part's text ends that part: FirstAgenda puts the case summary
                # under one, right below the decision. What follows is the case presentation, not the decision.
                lines.append("\x01Sagsfremstilling")
                after = False
            return
        if bullet and not BULLET.match(text):
            text = "- " + text
        bullet = False
        if heading:
            level, after = heading, False
        else:
            after = True
        lines.append(("\x01" if heading else "") + text)

    def walk(node: Tag) -> None:
        nonlocal bullet
        for child in node.children:
            if isinstance(child, NavigableString):
                current.append(str(child))
            elif isinstance(child, Tag):
                name = child.name.lower()
                if name in _BLOCK_TAGS:
                    flush()
                    bullet = bullet or name == "li"
                    walk(child)
                    flush(heading=int(name[1]) if name in _HEADING_TAGS else 0)
                    if name == "li":
                        bullet = False
                else:
                    walk(child)

    walk(soup)
    flush()
    # A bare item number in one table cell followed by a heading in the next is one header line.
    merged: list[str] = []
    for line in lines:
        if line.startswith("\x01") and merged and re.fullmatch(r"\d{1,3}\.?", merged[-1]):
            merged[-1] = f"{merged[-1].rstrip('.')}. {line[1:]}"
        else:
            merged.append(line.lstrip("\x01"))
    return "\n\n".join(merged)
