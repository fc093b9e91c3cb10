"""Sentences of an agenda item, verbatim: pure functions shared by the index (a vector per sentence)
and the answer (quotes)."""

from __future__ import annotations

import re

from ingest.parse import PART_HEADINGS

# A sentence ends at . ! ? before a capital, a quote or a digit, but not after a Danish abbreviation
# ("Lokalplan nr. 1221", "jf. pkt. 2", "ca. 40").
_ABBREVIATIONS = ("nr", "pkt", "jf", "ca", "kr", "bl.a", "f.eks", "mv", "evt", "inkl", "ekskl", "stk", "kap", "pga", "dvs")
_SENTENCE_END = re.compile(
    "".join(rf"(?<!\b{re.escape(v)}\.)" for a in _ABBREVIATIONS for v in (a, a.capitalize()))
    + r"(?<=[.!?])\s+(?=[A-ZÆØÅ\"“(0-9])")

# A list number at the start of a line ("1.", "12.").
_ENUMERATOR = re.compile(r"\d{1,2}\.")


def sentences(text: str) -> list[str]:
    """Split text into sentences and list lines, each a verbatim substring of ``text``."""
    out: list[str] = []
    for line in text.split("\n"):
        start = 0
        for m in _SENTENCE_END.finditer(line):
            piece = line[start : m.start()].strip()
            if start == 0 and _ENUMERATOR.fullmatch(piece):
                continue  # "1. Kortlægning af …": the number opens a list line, it ends no sentence
            if piece:
                out.append(piece)
            start = m.end()
        piece = line[start:].strip()
        if piece:
            out.append(piece)
    return out


# A line that is only a part heading ("Drøftelse", "Beslutning:"): it opens a part, it is not a sentence.
PART_HEADING_LINE = re.compile(r"^(?:" + "|".join(re.escape(h) for h in PART_HEADINGS) + r")\s*:?\s*$", re.I)
# Sentences shorter than this (a list stub, "Godkendt.", a signature) say too little to rank an item by.
MIN_INDEX_SENTENCE = 20
# At most this many sentences of one item get a vector: a 100-page appendix parsed as one item must not
# cost minutes of embedding (its passages are still all indexed).
MAX_INDEX_SENTENCES = 200


def part_sentences(text: str) -> list[tuple[str, str]]:
    """The item's sentences in order, each with the part heading it stands under ("" before any)."""
    out: list[tuple[str, str]] = []
    part = ""
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if PART_HEADING_LINE.match(stripped):
            part = stripped.rstrip(":").strip()
            continue
        out.extend((part, s) for s in sentences(stripped))
    return out


def index_sentences(title: str, text: str) -> list[str]:
    """What gets a sentence vector for an item: each sentence of some length, anchored by the item's title
    ("title: sentence"), at most ``MAX_INDEX_SENTENCES``."""
    kept = [s.strip() for _, s in part_sentences(text) if len(s.strip()) >= MIN_INDEX_SENTENCE]
    return [f"{title}: {s}" for s in kept[:MAX_INDEX_SENTENCES]]
