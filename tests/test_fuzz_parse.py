"""Property tests: random and mangled minutes never crash the parser, and it never invents or loses text.

Minutes are generated from a template (three numbering styles, three case-number schemes, part headings,
numbered lists, blank lines), then mangled: lines deleted at random, blank lines added, words hyphenated
across line ends. The properties hold for any such input:

* parse_meeting raises nothing but NotMinutes;
* every case number it reports occurs literally in the input;
* every section it reports is the number of a header line in the input;
* no body text is lost: every body word (letters only, 4+ long) after the first item's header is in
  some item's title or text, or in the preamble; words cut by a line-end hyphen are left out, since
  dehyphenation joins them with their neighbour (that is checked on its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.chunk import ChunkSettings, chunk_meeting
from ingest.parse import PART_HEADINGS, NotMinutes, clean_lines, parse_meeting
from ingest.records import RawDocument

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

LETTERS = "abcdefghijklmnopqrstuvwyzæøå"  # no x: "xx…" lines are template placeholders, dropped on purpose
RESERVED = {h.lower() for h in PART_HEADINGS} | {"eller", "samt", "punkt", "lukket", "indsæt", "skriv", "lorem",
                                                 "side", "dato"}
WORD = st.text(LETTERS, min_size=4, max_size=10).filter(lambda w: w not in RESERVED)
SHORT = st.sampled_from(["og", "i", "at", "en", "til", "om", "på"])
HEADINGS = ["Sagsfremstilling", "Indstilling", "Beslutning", "Drøftelse", "Resume"]
NAMES = ["Jens Hansen", "Mette Lund", "Ole Berg og Kim Dahl"]


@dataclass(frozen=True)
class Line:
    kind: str  # pre, toc, group, header, case, heading, body, list, blank
    text: str


@st.composite
def case_line(draw: st.DrawFn) -> str:
    scheme = draw(st.integers(0, 2))
    if scheme == 0:
        return f"Sagsnr.: {draw(st.integers(10, 99))}/{draw(st.integers(1000, 99999))}"
    year = draw(st.integers(2019, 2026))
    if scheme == 1:
        return f"SAG-{year}-{draw(st.integers(0, 99999)):05d} {draw(st.sampled_from(NAMES))}"
    return f"EMN-{year}-{draw(st.integers(0, 999999)):06d}"


@st.composite
def paragraph(draw: st.DrawFn) -> list[Line]:
    """Wrapped lines of lowercase words, some cut by a line-end hyphen."""
    words = draw(st.lists(st.one_of(WORD, SHORT), min_size=1, max_size=24))
    width = draw(st.integers(2, 8))
    out: list[Line] = []
    for start in range(0, len(words), width):
        chunk = words[start : start + width]
        last = chunk[-1]
        if start + width < len(words) and len(last) >= 4 and draw(st.booleans()):
            cut = draw(st.integers(2, len(last) - 2))
            words[start + width] = last[cut:] + words[start + width]  # the rest moves to the next line
            chunk = chunk[:-1] + [last[:cut] + "-"]
        out.append(Line("body", " ".join(chunk)))
    return out


@st.composite
def minutes(draw: st.DrawFn) -> list[Line]:
    style = draw(st.sampled_from(["punkt", "plain", "sub"]))
    n = draw(st.integers(1, 6))
    sections = [f"2.{i}" if style == "sub" else str(i) for i in range(1, n + 1)]
    titles = [" ".join([draw(WORD).capitalize()] + draw(st.lists(WORD, max_size=4))) for _ in sections]

    def header(sec: str, title: str) -> str:
        return f"Punkt {sec}: {title}" if style == "punkt" else f"{sec}. {title}"

    lines = [Line("pre", "Referat"), Line("pre", "Fiktivt Udvalg"), Line("pre", "Mødedato: 3. maj 2025"),
             Line("blank", "")]
    if draw(st.booleans()):
        lines += [Line("pre", "Indholdsfortegnelse")]
        lines += [Line("toc", f"{header(s, t)} {'.' * 12} {k + 2}") for k, (s, t) in enumerate(zip(sections, titles))]
        lines += [Line("blank", "")]
    if style == "sub":
        lines += [Line("group", "2. Drøftelsessager"), Line("blank", "")]
    for sec, title in zip(sections, titles):
        lines.append(Line("header", header(sec, title)))
        if draw(st.booleans()) or style != "punkt":
            lines.append(Line("case", draw(case_line())))
        lines.append(Line("blank", ""))
        for _ in range(draw(st.integers(0, 3))):
            if draw(st.booleans()):
                lines += [Line("heading", draw(st.sampled_from(HEADINGS)))]
            for _ in range(draw(st.integers(1, 2))):
                lines += draw(paragraph()) + [Line("blank", "")]
            if draw(st.integers(0, 3)) == 0:
                for k in range(1, draw(st.integers(2, 4)) + 1):
                    lines.append(Line("list", f"{k}. {draw(WORD).capitalize()} {draw(WORD)}"))
                lines.append(Line("blank", ""))
    # Mangling: delete lines, add blank lines.
    dropped = draw(st.sets(st.integers(0, len(lines) - 1), max_size=max(1, len(lines) // 5)))
    lines = [ln for i, ln in enumerate(lines) if i not in dropped]
    for pos in draw(st.lists(st.integers(0, len(lines)), max_size=5)):
        lines.insert(pos, Line("blank", ""))
    return lines


def words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-zÆØÅæøå]+", text) if len(w) >= 4]


def doc(text: str) -> RawDocument:
    return RawDocument(Path("/fiktiv/fuzz.txt"), "txt", text, "0" * 64)


def header_re(section: str) -> re.Pattern[str]:
    return re.compile(rf"^(?:(?:Punkt|Pkt\.?|Dagsordenspunkt)\s+)?{re.escape(section)}(?:[.:)]|\s)", re.I)


@SETTINGS
@given(minutes())
def test_parse_reports_only_what_is_there_and_loses_no_body_text(lines: list[Line]) -> None:
    text = "\n".join(ln.text for ln in lines)
    try:
        meeting = parse_meeting(doc(text))
    except NotMinutes:
        return
    normalised = [" ".join(ln.text.split()) for ln in lines]
    for it in meeting.items:
        if it.case_number is not None:
            assert it.case_number in text
        assert any(header_re(it.section).match(ln) for ln in normalised), it.section

    # The preamble ends at the first item's header line (table-of-contents lines are not headers).
    first = meeting.items[0]
    start = next(i for i, ln in enumerate(lines) if ln.kind != "toc" and header_re(first.section).match(normalised[i])
                 and first.title.split()[0] in ln.text)
    # Words cut by a line-end hyphen are joined with the next line's first word: leave both out.
    cut: set[int] = set()
    for i, ln in enumerate(normalised):
        if ln.endswith("-"):
            cut.add(i)
    found = set(words(" ".join(ln.text for ln in lines[:start])))
    for it in meeting.items:
        found |= set(words(f"{it.title} {it.text} {' '.join(it.responsible)}"))
    for i, ln in enumerate(lines[start:], start):
        if ln.kind not in ("body", "list"):
            continue
        ws = words(ln.text)
        if i in cut:
            ws = ws[:-1]
        if i - 1 in cut:
            ws = ws[1:]
        missing = [w for w in ws if w not in found]
        assert not missing, (missing, ln)


@SETTINGS
@given(minutes())
def test_chunks_cover_every_item_and_carry_its_fields(lines: list[Line]) -> None:
    try:
        meeting = parse_meeting(doc("\n".join(ln.text for ln in lines)))
    except NotMinutes:
        return
    settings_ = ChunkSettings(size=300, overlap=40)
    chunks = chunk_meeting(meeting, settings_)
    by_section = {it.section: it for it in meeting.items}
    assert len(by_section) == len(meeting.items)  # sections are unique within a meeting
    assert {c.section for c in chunks} == set(by_section)
    assert len({c.id for c in chunks}) == len(chunks)
    for c in chunks:
        it = by_section[c.section]
        assert (c.title, c.case_number) == (it.title, it.case_number)
        assert c.text and len(c.text) <= settings_.size and 0 <= c.passage < c.passages


@SETTINGS
@given(st.lists(st.lists(WORD, min_size=2, max_size=8), min_size=1, max_size=8), st.data())
def test_dehyphenation_restores_cut_words(rows: list[list[str]], data: st.DataObject) -> None:
    rows = [list(r) for r in rows]
    cut_words: list[str] = []
    for k in range(len(rows) - 1):
        last = rows[k][-1]
        cut = data.draw(st.integers(2, len(last) - 2))
        # A line that goes on with "og", "til", "samt" ... keeps its hyphen ("Beskæftigelses- og ..."): not a cut.
        if data.draw(st.booleans()) and last[cut:] not in ("og", "eller", "samt", "til", "i"):
            rows[k][-1] = last[:cut] + "-"
            rows[k + 1].insert(0, last[cut:])
            cut_words.append(last)
    out = " ".join(clean_lines("\n".join(" ".join(r) for r in rows)))
    assert "-" not in out
    assert set(cut_words) <= set(out.split())


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes(text: str) -> None:
    lines = clean_lines(text)
    assert all("\n" not in ln and ln == ln.strip() for ln in lines)
    try:
        meeting = parse_meeting(doc(text))
    except NotMinutes:
        return
    for it in meeting.items:
        if it.case_number is not None:
            assert it.case_number in text
    chunk_meeting(meeting)
