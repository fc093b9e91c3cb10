"""Parse the text of minutes into a Meeting with its AgendaItems.

Councils write minutes differently (``2.2.``, ``Punkt 3:``, ``3``; ``SAG-2025-03105``,
``EMN-2025-003383``, ``24/1234``; tables of contents; closed items; numbered lists that look
like headings).  A numbered line is only taken as an agenda item when the text around it
says so: a case number right below it, a part heading such as ``Indstilling`` before the
next candidate, or the word ``Punkt`` in front of the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from ingest.records import AgendaItem, Meeting, Part, RawDocument, RosterLine, reading_hash


class NotMinutes(Exception):
    """The text has no agenda items, so it is not minutes this parser understands."""


# Case numbers: SAG-2025-03105, EMN-2025-003383, 24/1234, 2025-012345, 00.01.00-A00-1-24.
CASE_NUMBER = re.compile(
    r"(?<![\w/-])("
    r"[A-ZÆØÅ]{2,6}-\d{4}-\d{3,8}"
    r"|\d{2}/\d{3,6}"
    r"|\d{4}-\d{5,8}"
    r"|\d{2}\.\d{2}\.\d{2}-[A-ZÆØÅ]\d{2}-\d+-\d{2}"
    r")(?![\w/-])"
)
CASE_LABEL = re.compile(r"^(?:Sags?\s*nr\.?|Sagsnummer|Journalnr\.?|J\.\s*nr\.?)\s*:?\s*(\S+)\s*(.*)$", re.I)
RESPONSIBLE_LABEL = re.compile(r"^(?:Ansvarlig(?:e)?|Sagsbehandler|Fagområde)\s*:\s*(.+)$", re.I)

HEADER = re.compile(
    r"^(?P<punkt>(?:Punkt|Pkt\.?|Dagsordenspunkt)\s+)?"
    r"(?P<num>\d{1,2}(?:\.\d{1,2}){0,2})"
    r"(?P<sep>\.|:|\)|(?=\s))\s*"
    r"(?P<title>.*)$",
    re.I,
)
TOC_LEADER = re.compile(r"(?:\.{4,}|…{2,}|\s{3,}|\t)\s*\d{1,3}\s*$")
PART_HEADINGS = (
    "Indstilling", "Indstillinger", "Drøftelse", "Beslutning", "Beslutninger", "Resume", "Resumé",
    "Sagsfremstilling", "Beslutningspunkter", "Sagsforløb", "Baggrund", "Økonomi", "Bilag",
    "Sagsbeskrivelse", "Orientering", "Referat", "Opfølgning", "Tidligere beslutninger",
    "Høring", "Vurdering", "Konklusion", "Behandling", "Forslag", "Sagens baggrund",
    "Borgmesterens Afdelings påtegning", "Økonomiske konsekvenser", "Lovgrundlag",
)
_PART_RE = re.compile(
    r"^(?:" + "|".join(re.escape(h) for h in PART_HEADINGS) + r")\s*:?$", re.I
)
PLACEHOLDER = re.compile(
    r"^(?:her skrives|skriv (?:her|indstilling|teksten)|indsæt |\[.*\]$|<.*>$|x{2,}\b|tekst her|lorem ipsum)", re.I
)
BULLET = re.compile(r"^(?:[•·▪◦●\-–*]\s+|\d{1,2}[.)]\s+|[a-zæøå][.)]\s+|At \d+\)\s*)")
CLOSED = re.compile(r"\blukket\b", re.I)
# Titles of the items every agenda ends or begins with; they need no case number to be items.
STANDING_TITLE = re.compile(
    r"(?:eventuelt|evt|næste møde|meddelelser|godkendelse af (?:dagsorden(?:en)?|referat(?:et)?))", re.I)
RUNNING_FOOTER = re.compile(r"^(?:side\s+)?\d{1,3}\s*(?:(?:af|/)\s*\d{1,3})?$", re.I)

MONTHS = {
    "januar": 1, "jan": 1, "februar": 2, "feb": 2, "marts": 3, "mar": 3, "april": 4, "apr": 4,
    "maj": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE_PATTERNS = (
    re.compile(r"\b(?P<y>20\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<d>\d{1,2})[-./](?P<m>\d{1,2})[-./](?P<y>20\d{2})\b"),
    re.compile(r"\b(?P<d>\d{1,2})\.?\s*(?P<mon>" + _MONTH_ALT + r")\.?\s+(?P<y>20\d{2})\b", re.I),
)
DATE_LABEL = re.compile(r"(mødedato|mødedag|dato for mødet|møde(?:t)? (?:afholdt|holdt)|dato)\b", re.I)

PRESENT_LABELS = ("deltagere", "til stede", "mødedeltagere", "medlemmer", "forberedelsesudvalget",
                  "sekretariat", "oplægsholdere", "andre gæster", "gæster", "it-arkitekturrådets medlemmer")
ABSENT_LABELS = ("afbud", "fraværende", "fravær", "ikke til stede", "forhindret")


@dataclass(frozen=True)
class _Candidate:
    line: int
    number: str
    title: str
    punkt: bool
    toc: bool


def parse_meeting(
    doc: RawDocument, council: str | None = None, meeting_date: date | None = None
) -> Meeting:
    """Parse a document's text into a Meeting; ``council``/``meeting_date`` fill what the text lacks."""
    # The HTML and Word readers write a blank line after every block or paragraph: each is a real paragraph
    # break, however regular (the double-spacing of PDF text must not be guessed there). Guessed for a Word
    # file, every break went, and a list's last line ran into the paragraph after it.
    lines = clean_lines(doc.text, blank_lines_are_breaks=doc.format in ("html", "docx"))
    candidates = _find_headers(lines)
    if not candidates:
        raise NotMinutes("ingen dagsordenspunkter fundet – er det et referat?")
    items: list[AgendaItem] = []
    bounds = sorted({c.line for c in candidates} | set(_group_headings(lines, candidates)) | {len(lines)})
    for cand in candidates:
        end = next(b for b in bounds if b > cand.line)
        item = _build_item(cand, lines[cand.line + 1 : end])
        if item is not None:
            items.append(item)
    items = _dedupe_sections(items)
    if not items:
        raise NotMinutes("ingen dagsordenspunkter med indhold fundet – er det et referat?")
    preamble = [line for line in lines[: candidates[0].line] if line]
    found_council = council or find_council(preamble) or _council_from_filename(doc.source)
    found_date = find_meeting_date(preamble) or meeting_date or date_from_filename(doc.source.name)
    roster = find_roster(preamble)
    participants, absent = roster_names(roster)
    return Meeting(
        council=found_council,
        meeting_date=found_date,
        title=_meeting_title(preamble, found_council),
        source=str(doc.source),
        content_hash=reading_hash(doc.sha256),
        items=tuple(items),
        participants=participants,
        absent=absent,
        roster=roster,
    )


# What only minutes hold: the meeting's decisions and discussion. An agenda, written before the meeting, has
# the administration's proposal (Indstilling, Beslutningspunkter) and the case, never these.
_MEETING_PARTS = frozenset({"beslutning", "beslutninger", "drøftelse", "behandling", "referat", "konklusion"})
_AGENDA_TITLE = re.compile(r"\b(?:dagsorden|agenda)\b", re.I)
_MINUTES_TITLE = re.compile(r"\b(?:referat|beslutnings\w*|protokol|minutes)\b", re.I)


def is_agenda(meeting: Meeting) -> bool:
    """Whether the document is the meeting's agenda, not its minutes: its title says so ("Dagsorden 8. oktober
    2025") and at most a few items have a decision or a discussion. A "Dagsorden" that records decisions item by
    item is minutes; one "Beslutning:" inside a party's proposal (Aarhus Byråd, pkt. 14) is not."""
    if not _AGENDA_TITLE.search(meeting.title) or _MINUTES_TITLE.search(meeting.title):
        return False
    decided = sum(any(p.heading.lower() in _MEETING_PARTS for p in it.parts) for it in meeting.items)
    return decided * 4 < len(meeting.items)


# --------------------------------------------------------------------------- text cleaning


def clean_lines(text: str, blank_lines_are_breaks: bool = False) -> list[str]:
    """Normalise extracted text into lines; an empty string marks a paragraph break."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "").replace("\u00a0", " ")
    text = text.replace("\u2028", "\n").replace("\u200b", "")
    pages = text.split("\f")
    pages = _drop_running_lines(pages)
    raw = "\n".join(pages).split("\n")
    # PDF-to-text often double-spaces: every text line followed by an empty one, with
    # whitespace-only lines marking the real paragraph breaks.
    nonblank = [i for i, line in enumerate(raw) if line.strip()]
    followed_by_empty = sum(1 for i in nonblank if i + 1 < len(raw) and raw[i + 1] == "")
    double_spaced = not blank_lines_are_breaks and len(nonblank) > 10 and followed_by_empty / len(nonblank) > 0.8
    ends = _block_ends(raw, nonblank)
    lines: list[str] = []
    for i, line in enumerate(raw):
        if double_spaced and line == "":
            continue
        # A table-of-contents page number after a tab or a run of spaces would vanish below.
        line = re.sub(r"(\S)(?:\t+|\s{3,}|(?:\s*…){2,})\s*(\d{1,3})\s*$", r"\1 .... \2", line)
        stripped = " ".join(line.split())
        if RUNNING_FOOTER.match(stripped) and len(stripped) < 12 and not stripped.isdigit():
            continue
        lines.append(stripped)
        if i in ends:
            lines.append("")
    return _dehyphenate(lines)


# Some PDF-to-text tools end a wrapped line with one space and a block (paragraph, list line, heading) with two:
# KL's minutes, 200 of 202 lines ending in two spaces are followed by a capital, 200 of 233 ending in one by a
# small letter. Where a document shows that pattern, a list line that ends a block is a paragraph of its own
# ("3. Barrierer" no longer runs into "Christian Harsløf bemærkede, at …" on the next line). Only list lines:
# a prose line can end in two spaces mid-sentence before a name ("at UAS (Udvalget for" / "Arkitektur og …").
BLOCK_END_MIN_LINES = 20
BLOCK_END_SHARE = 0.9
WRAP_SHARE = 0.7


def _block_ends(raw: list[str], nonblank: list[int]) -> set[int]:
    """Positions of the list lines that end a block by the two-space pattern, where the document shows it;
    a line followed by one starting with a small letter, or ending in an abbreviation, is never one."""
    def starts_upper(k: int) -> bool:
        first = raw[k].lstrip()[:1]
        return first.isupper() or first.isdigit() or first in "•·▪◦●-–*\"'“«"

    pairs = list(zip(nonblank, nonblank[1:]))
    two = [(i, k) for i, k in pairs if raw[i].endswith("  ") and raw[i].strip()]
    one = [(i, k) for i, k in pairs if raw[i].endswith(" ") and not raw[i].endswith("  ")]
    if len(two) < BLOCK_END_MIN_LINES or len(one) < BLOCK_END_MIN_LINES:
        return set()
    if sum(starts_upper(k) for _, k in two) < BLOCK_END_SHARE * len(two) or \
            sum(not starts_upper(k) for _, k in one) < WRAP_SHARE * len(one):
        return set()
    return {i for i, k in two if starts_upper(k) and BULLET.match(raw[i].strip())
            and not _ABBREVIATION_END.search(raw[i].rstrip())}


_ABBREVIATION_END = re.compile(r"\b(?:bl\.a|f\.eks|fx|ift|jf|pga|mv|ca|nr|pkt|inkl|evt|dvs|kr|stk|vedr|mht|iht|hhv)\.?$",
                               re.I)


def _drop_running_lines(pages: list[str]) -> list[str]:
    """Remove header/footer lines that repeat on most pages (with page numbers ignored)."""
    if len(pages) < 3:
        return pages

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.split())).lower()

    counts: dict[str, int] = {}
    for page in pages:
        edge = [ln for ln in page.split("\n") if ln.strip()]
        for line in set(edge[:2] + edge[-2:]):
            counts[key(line)] = counts.get(key(line), 0) + 1
    running = {k for k, n in counts.items() if n >= max(3, len(pages) // 2) and len(k) < 120}
    # Case-number lines, part headings and item headers repeat on every page when each page
    # holds one item; they are structure, never a running header.
    running = {k for k in running if not (_PART_RE.match(k) or CASE_LABEL.match(k) or HEADER.match(k)
                                          or CASE_NUMBER.search(k.upper()))}
    if not running:
        return pages
    out = []
    for page in pages:
        kept = page.split("\n")
        nonblank = [i for i, ln in enumerate(kept) if ln.strip()]
        edges = set(nonblank[:2] + nonblank[-2:])
        out.append("\n".join(ln for i, ln in enumerate(kept) if not (i in edges and key(ln) in running)))
    return out


_JOIN_WORDS = {"og", "eller", "samt", "til", "i", "&"}


def _dehyphenate(lines: list[str]) -> list[str]:
    """Join words split by a line-end hyphen (``pilot-`` / ``driften``), keep real hyphens."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        while (
            i + 1 < len(lines)
            and re.search(r"[a-zæøå]{2}-$", line)
            and re.match(r"[a-zæøå]", lines[i + 1])
            and not HEADER.match(lines[i + 1])
        ):
            nxt = lines[i + 1]
            first = nxt.split(" ", 1)[0]
            if first in _JOIN_WORDS:
                line = f"{line} {nxt}"  # "Beskæftigelses- og integrations..." keeps its hyphen
            else:
                line = line[:-1] + nxt
            i += 1
        out.append(line)
        i += 1
    return out


# --------------------------------------------------------------------------- agenda items


def _candidate(line_no: int, line: str) -> _Candidate | None:
    m = HEADER.match(line)
    if not m:
        return None
    title = m.group("title").strip()
    punkt = bool(m.group("punkt"))
    if not title:
        return None
    first = title[0]
    # A title starts like a title; "98 kommuner deltager ..." is a sentence that starts with a number.
    if not (first.isupper() or first.isdigit() or first in "\"'“”«'’‘"):
        return None
    if m.group("sep") == "" and not punkt and "." not in m.group("num"):
        # "2 Title" without a separator: only when the number stands alone with a title.
        if len(title.split()) > 15:
            return None
    toc = bool(TOC_LEADER.search(title))
    title = TOC_LEADER.sub("", title).strip(" .")
    return _Candidate(line=line_no, number=m.group("num").rstrip("."), title=title, punkt=punkt, toc=toc)


def _find_headers(lines: list[str]) -> list[_Candidate]:
    """All lines that open an agenda item, in order."""
    cands = [c for i, line in enumerate(lines) if line and (c := _candidate(i, line)) is not None]
    cand_lines = {c.line for c in cands}
    scored = [(c, _evidence(lines, c, cand_lines)) for c in cands if not c.toc]
    accepted = _best_sequence([(c, s) for c, s in scored if s > 0])
    return _fill_gaps(accepted, [c for c, _ in scored], lines)


def _group_headings(lines: list[str], items: list[_Candidate]) -> list[int]:
    """Lines like "2. Drøftelsessager" (a parent of the next item) or a bare trailing "3. Eventuelt"."""
    item_lines = {c.line for c in items}
    out = []
    for i, line in enumerate(lines):
        if not line or i in item_lines:
            continue
        c = _candidate(i, line)
        if c is None or c.toc or len(c.title.split()) > 6:
            continue
        after = [j for j in range(i + 1, min(len(lines), i + 6)) if lines[j]]
        nxt = next((it for it in items if it.line > i), None)
        child = nxt is not None and after[:1] == [nxt.line] and nxt.number == c.number + ".1"
        # "3. Eventuelt" after item 2.8 with nothing below: a group heading, not the end of a list.
        last = items[-1] if items else None
        trailing = (nxt is None and last is not None and not any(lines[i + 1 :])
                    and c.number.count(".") < last.number.count(".") and _is_next(last.number, c.number)
                    and not _continues_list(lines, i, c.number))
        if child or trailing:
            out.append(i)
    return out


def _evidence(lines: list[str], cand: _Candidate, cand_lines: set[int]) -> float:
    """How strongly the text says this line opens an item: 3 strong, 1 weak, 0 none."""
    if cand.punkt or CASE_NUMBER.search(cand.title):
        return 3.0
    # A standing item ("4. Eventuelt", "Næste møde") has no case number and no parts, only its text.
    standing = bool(STANDING_TITLE.fullmatch(cand.title.strip(" .:")))
    seen = 0
    for j in range(cand.line + 1, min(len(lines), cand.line + 40)):
        line = lines[j]
        if not line:
            continue
        if j in cand_lines:
            return 0.0
        seen += 1
        if standing:
            return 1.0
        if seen <= 4 and _case_line(line) is not None:
            return 3.0
        if seen <= 12 and _PART_RE.match(line):
            return 1.0
        if seen > 12:
            return 0.0
    return 0.0


def _key(number: str) -> tuple[int, ...]:
    return tuple(int(x) for x in number.split("."))


def _best_sequence(scored: list[tuple[_Candidate, float]]) -> list[_Candidate]:
    """The heaviest run of candidates whose numbers increase through the document.

    Agenda numbers only go up; a table of numbered rows inside an item (budget proposals
    1–22) would force real items out of order, so it loses to the real sequence.
    """
    n = len(scored)
    best = [0.0] * n
    prev = [-1] * n
    for i, (ci, si) in enumerate(scored):
        best[i] = si
        for j in range(i):
            cj = scored[j][0]
            if _key(cj.number) < _key(ci.number):
                value = best[j] + si + (0.5 if _is_next(cj.number, ci.number) else 0.0)
                if value > best[i]:
                    best[i], prev[i] = value, j
    if not n:
        return []
    i = max(range(n), key=lambda k: best[k])
    chain: list[_Candidate] = []
    while i >= 0:
        chain.append(scored[i][0])
        i = prev[i]
    return chain[::-1]


def _continues_list(lines: list[str], i: int, number: str) -> bool:
    """Whether line ``i`` ("3. …") comes right after a numbered list line ("1. …", "2. …")."""
    prev = next((ln for ln in reversed(lines[:i]) if ln), "")
    return "." not in number and bool(re.match(r"\d{1,2}[.)]\s", prev))


def _fill_gaps(accepted: list[_Candidate], cands: list[_Candidate], lines: list[str]) -> list[_Candidate]:
    """Accept an item that lacks evidence when its number is exactly the one missing between two items."""
    result = list(accepted)
    for c in cands:
        if c in result or len(c.title.split()) > 14:
            continue
        before = [a for a in result if a.line < c.line]
        after = [a for a in result if a.line > c.line]
        if before and after and _is_next(before[-1].number, c.number) and _is_next(c.number, after[0].number):
            if any(lines[c.line + 1 : after[0].line]):
                result.append(c)
                result.sort(key=lambda a: a.line)
    return result


def _is_next(prev: str, cur: str) -> bool:
    """Whether ``cur`` follows ``prev`` directly in agenda numbering (2.7 → 2.8, 3 or 3.1)."""
    p = [int(x) for x in prev.split(".")]
    c = [int(x) for x in cur.split(".")]
    if len(c) == len(p):
        return c[:-1] == p[:-1] and c[-1] == p[-1] + 1
    if len(c) < len(p):
        return c[:-1] == p[: len(c) - 1] and c[-1] == p[len(c) - 1] + 1
    return False


def _case_line(line: str) -> tuple[str, str] | None:
    """``(case_number, rest)`` when the line starts with a case number or a case label."""
    m = CASE_LABEL.match(line)
    if m and CASE_NUMBER.fullmatch(m.group(1).rstrip(",;")) or (m and re.search(r"\d", m.group(1))):
        assert m is not None
        return m.group(1).rstrip(",;"), m.group(2).strip()
    m2 = CASE_NUMBER.match(line)
    if m2 and m2.start() == 0:
        return m2.group(1), line[m2.end() :].strip(" ,;–-")
    return None


def _build_item(cand: _Candidate, body: list[str]) -> AgendaItem | None:
    title = cand.title
    case_number: str | None = None
    responsible_text = ""
    m = CASE_NUMBER.search(title)
    if m:
        case_number = m.group(1)
        title = (title[: m.start()] + title[m.end() :]).strip(" –-,")
    rest = list(body)
    # Title continuation lines sit between the header and the case-number line.
    nonblank = [(k, ln) for k, ln in enumerate(rest) if ln][:4]
    for pos, (k, ln) in enumerate(nonblank):
        found = _case_line(ln)
        if found is None:
            continue
        if case_number is None:
            case_number, responsible_text = found
            if all(not _PART_RE.match(x) for _, x in nonblank[:pos]):
                title = " ".join([title] + [x for _, x in nonblank[:pos]])
                rest = rest[k + 1 :]
            else:
                rest = rest[:k] + rest[k + 1 :]
            # Responsible persons may wrap onto the next line ("... og" / "...,").
            while responsible_text.endswith((" og", ",")) and rest:
                nxt = next((x for x in rest if x), "")
                if not nxt or _PART_RE.match(nxt):
                    break
                responsible_text = f"{responsible_text} {nxt}"
                rest = rest[rest.index(nxt) + 1 :]
        break
    responsible: list[str] = []
    kept: list[str] = []
    for ln in rest:
        rm = RESPONSIBLE_LABEL.match(ln)
        if rm and not responsible_text:
            responsible_text = rm.group(1)
            continue
        kept.append(ln)
    if responsible_text and not PLACEHOLDER.match(responsible_text):
        responsible = [p.strip() for p in re.split(r",\s*|\s+og\s+", responsible_text) if p.strip()]
    parts = _split_parts(kept)
    closed = bool(CLOSED.search(title)) or any(CLOSED.search(p.text) and len(p.text) < 40 for p in parts)
    if not parts and not closed and case_number is None:
        return None  # a group heading ("2. Drøftelsessager") or an empty "Eventuelt"
    if closed and not parts:
        parts = [Part(heading="", text="Lukket punkt.")]
    # An item with a case number but no text ("Godkendelse af dagsorden") is still on the agenda.
    text = "\n\n".join(f"{p.heading}\n{p.text}" if p.heading else p.text for p in parts) or _tidy_title(title)
    return AgendaItem(
        section=cand.number,
        title=_tidy_title(title),
        case_number=case_number,
        responsible=tuple(responsible),
        parts=tuple(parts),
        text=text,
        closed=closed,
    )


def _tidy_title(title: str) -> str:
    title = re.sub(r"^(?:Punkt|Pkt\.?)\s*\d+\s*[:.]\s*", "", title, flags=re.I)
    return " ".join(title.split()).strip(" .:")


def _split_parts(lines: list[str]) -> list[Part]:
    """Cut an item's body at part headings; paragraphs joined, list lines kept apart."""
    parts: list[Part] = []
    heading = ""
    buf: list[str] = []

    def flush() -> None:
        text = _paragraphs(buf)
        buf.clear()
        if text:
            parts.append(Part(heading=heading, text=text))

    for ln in lines:
        if ln and _PART_RE.match(ln):
            flush()
            heading = ln.rstrip(":").strip()
            continue
        buf.append(ln)
    flush()
    return parts


def _paragraphs(lines: list[str]) -> str:
    """Wrapped lines become paragraphs; bullets and numbered list lines start new lines."""
    paras: list[list[str]] = []
    current: list[str] = []
    for ln in lines:
        if not ln:
            if current:
                paras.append(current)
                current = []
            continue
        if PLACEHOLDER.match(ln):
            continue
        if BULLET.match(ln) and current:
            paras.append(current)
            current = []
        current.append(ln)
    if current:
        paras.append(current)
    return "\n".join(" ".join(p) for p in paras).strip()


def _dedupe_sections(items: list[AgendaItem]) -> list[AgendaItem]:
    """A section printed twice (table of contents, then the item) keeps its fullest version."""
    best: dict[str, AgendaItem] = {}
    order: list[str] = []
    for item in items:
        if item.section not in best:
            order.append(item.section)
            best[item.section] = item
        elif len(item.text) > len(best[item.section].text):
            best[item.section] = item
    return [best[s] for s in order]


# --------------------------------------------------------------------------- meeting fields


def parse_date(text: str) -> date | None:
    """The first date written in any common Danish form, or None."""
    found: list[tuple[int, date]] = []
    for pattern in DATE_PATTERNS:
        for m in pattern.finditer(text):
            g = m.groupdict()
            month = MONTHS[g["mon"].lower().rstrip(".")] if g.get("mon") else int(g["m"])
            try:
                found.append((m.start(), date(int(g["y"]), month, int(g["d"]))))
            except ValueError:
                continue
    return min(found)[1] if found else None


def find_meeting_date(preamble: list[str]) -> date | None:
    """The meeting date from a labelled line, else from the first lines of the preamble."""
    for i, line in enumerate(preamble):
        if DATE_LABEL.search(line):
            d = parse_date(line) or (parse_date(preamble[i + 1]) if i + 1 < len(preamble) else None)
            if d:
                return d
    for line in preamble[:12]:
        if re.search(r"(referat|dagsorden|møde)", line, re.I) or len(line) <= 40:
            d = parse_date(line)
            if d:
                return d
    return None


def date_from_filename(name: str) -> date | None:
    """A date in a file name (``referat_2025-09-10.pdf``, ``10-09-2025``), or None."""
    return parse_date(name.replace("_", " "))


_COUNCIL = re.compile(
    r"((?:[A-ZÆØÅ][\w-]*\s+(?:(?:og|for|i)\s+)?){0,3}[\w-]*(?:[Rr]åd(?:et)?|[Uu]dvalg(?:et)?|[Bb]estyrelse(?:n)?|[Kk]omité(?:en)?))\b"
)
_COUNCIL_LABEL = re.compile(r"^(?:udvalg|råd|forum|organ|mødeforum)\s*:\s*(.*)$", re.I)


def find_council(preamble: list[str]) -> str | None:
    """The council's name from an ``Udvalg:`` line or the first council-like name in the preamble."""
    for i, line in enumerate(preamble):
        m = _COUNCIL_LABEL.match(line)
        if m:
            value = m.group(1).strip() or (preamble[i + 1] if i + 1 < len(preamble) else "")
            if value:
                return value.strip()
    for line in preamble[:60]:
        m = _COUNCIL.search(line)
        if m and m.group(1)[0].isupper():
            return m.group(1).strip()
    return None


def _council_from_filename(source: Path) -> str:
    stem = re.sub(r"[_-]?\d{4}-\d{2}-\d{2}|[_-]?\d{2}-\d{2}-\d{4}", "", source.stem)
    return stem.replace("_", " ").replace("-", " ").strip() or "Ukendt råd"


def _meeting_title(preamble: list[str], council: str) -> str:
    for line in preamble[:15]:
        if re.match(r"^(referat|dagsorden|beslutningsprotokol|protokol)\b", line, re.I) and len(line) < 120:
            return line
    return f"Referat – {council}"


def roster_names(roster: tuple[RosterLine, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names of those present and of those absent (the text before the first comma)."""
    return (tuple(r.name for r in roster if not r.absent and r.name),
            tuple(r.name for r in roster if r.absent and r.name and r.text.lower() != "ingen"))


# Where a list of participants ends: the table of contents, the agenda.
_ROSTER_END = ("indholdsfortegnelse", "indhold", "dagsorden", "punkt", "titel", "side", "mødested", "mødetidspunkt")
# A line of an entry that goes on: the PDF broke it after a comma or a little word.
_GOES_ON = re.compile(r"(?:,|&|-|\b(?:og|for|i|af|med|til|fra|ved|på|samt))\s*$", re.I)
_ROSTER_BULLET = re.compile(r"^[•·▪◦●\-–*]\s+")


def find_roster(preamble: list[str]) -> tuple[RosterLine, ...]:
    """The participants list line by line under its headings (members, secretariat, apologies …), each
    entry as written, an entry the PDF broke over two lines joined again. Bulleted entries, or lines of two
    to ten words that start with a capital (a committee's plain list of names); "Ingen" under "Afbud" too."""
    out: list[RosterLine] = []
    group: str | None = None
    absent = False
    for line in preamble:
        label = line.rstrip(":").strip()
        low = label.lower()
        bullet = _ROSTER_BULLET.match(line)
        if not bullet and len(low.split()) <= 4:
            if any(low.startswith(a) for a in ABSENT_LABELS):
                group, absent = label, True
                continue
            if any(low.startswith(p) for p in PRESENT_LABELS) or low.endswith("medlemmer"):
                group, absent = label, False
                continue
            if low.split()[:1] and low.split()[0] in _ROSTER_END:
                group = None
                continue
        if group is None:
            continue
        if bullet:
            out.append(RosterLine(group, line[bullet.end():].strip(), absent))
        elif out and out[-1].group == group and _GOES_ON.search(out[-1].text) and not line.endswith(":"):
            out[-1] = replace(out[-1], text=f"{out[-1].text} {line.strip()}")
        elif low == "ingen" and absent:
            out.append(RosterLine(group, label, absent))
        elif 2 <= len(label.split()) <= 10 and label[:1].isupper() and ":" not in line \
                and not re.search(r"\.{3}|\d", line):
            out.append(RosterLine(group, label, absent))
        else:
            group = None  # prose: the list is over
    return tuple(out)
