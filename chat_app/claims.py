"""A language model's answer as claims, each checked against the items it cites: pure functions.

The model is asked for ``{"claims": [{"text": …, "sources": [n, …]}], "not_found": bool}`` (``claims_schema``);
a server that cannot constrain its output gives free text with ``[n]`` markers, read as one claim per
sentence. A claim is kept only if every number, date, name and case number it states occurs in an item it
cites; the quote shown for it is the sentence (or two adjacent ones) of that item that supports it best.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from index.lexical import tokenize
from ingest.parse import CASE_NUMBER, DATE_PATTERNS, MONTHS
from ingest.sentences import sentences
from chat_app.prompt import NOT_FOUND

def claims_schema(n_sources: int, max_claims: int = 6) -> dict[str, object]:
    """The JSON schema of a reply: at most ``max_claims`` claims, each citing sources 1..``n_sources``.

    A server that constrains decoding to it (llama.cpp, vLLM, Ollama) cannot cite a source that does not
    exist; the bounds also keep a small model from rambling on.
    """
    source = {"type": "integer", "minimum": 1, "maximum": max(1, n_sources)}
    return {
        "type": "object",
        "properties": {
            "claims": {
                "type": "array",
                "maxItems": max_claims,
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "maxLength": 400},
                        "sources": {"type": "array", "items": source, "minItems": 1, "maxItems": 3},
                    },
                    "required": ["text", "sources"],
                },
            },
            "not_found": {"type": "boolean"},
        },
        "required": ["claims", "not_found"],
    }


MARKS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# "marts 2024" without a day: a month is a fact too, satisfied by any date in that month.
_MONTHS = "|".join(sorted(MONTHS, key=len, reverse=True))
# "12. marts" without a year: satisfied by a date with that day and month.
DAY_MONTH = re.compile(r"(?<![\w.])(?P<d>\d{1,2})\.?\s*(?P<mon>" + _MONTHS + r")\b\.?", re.I)
MONTH_YEAR = re.compile(r"\b(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?\s+(?P<y>(?:19|20)\d{2})\b",
                        re.I)
# Digits with Danish thousands dots/spaces and decimal commas: 1.500, 1 500, 2,5, 12 %.
NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:[. ]\d{3})+(?:,\d+)?(?![\w]|[.,]\d)|(?<![\w.,])\d+(?:,\d+)?(?![\w]|[.,]\d)")
SECTION_NUMBER = re.compile(r"(?<![\w.,])\d{1,2}(?:\.\d{1,2}){1,2}(?![\w]|[.,]\d)")  # "pkt. 2.2"
# A capitalised word that does not open the sentence is a name in Danish (nouns are lower case); so are
# acronyms (KL, OS2). Genitive endings are cut before comparing.
NAME = re.compile(r"(?<![\w-])([A-ZÆØÅ][\wæøåÆØÅ]*(?:-[\wæøåÆØÅ]+)*)")
COMMON_CAPITALISED = frozenset({"Jeg", "De", "Dem", "Deres", "I"})


@dataclass(frozen=True)
class Claim:
    """One statement of the model's answer and the source numbers it gave for it."""

    text: str
    sources: tuple[int, ...]


@dataclass(frozen=True)
class ParsedReply:
    """The model's reply read as claims (from JSON, or from free text with [n] markers)."""

    claims: tuple[Claim, ...]
    not_found: bool
    structured: bool  # the reply was the JSON object asked for
    removed: tuple[int, ...]  # source numbers that named no source, in order met


@dataclass(frozen=True)
class CheckedClaim:
    """A claim after checking: the valid sources it cites and, per source, the quote that supports it."""

    claim: Claim
    quotes: tuple[tuple[int, str], ...]  # (source number, verbatim sentence(s) of that item)
    missing: tuple[str, ...]  # facts of the claim found in none of its cited items
    fragment: bool = False  # fewer than three words ("cloud"): not a statement a memo can use

    @property
    def supported(self) -> bool:
        return bool(self.quotes) and not self.missing and not self.fragment


# --------------------------------------------------------------------------- reading the reply


def _numbers(raw: object) -> list[int]:
    out: list[int] = []
    items = raw if isinstance(raw, list) else [raw]
    for x in items:
        if isinstance(x, bool):
            continue
        if isinstance(x, int):
            out.append(x)
        elif isinstance(x, str):
            out.extend(int(d) for d in re.findall(r"\d+", x))
    return out


def _split_marks(text: str) -> tuple[str, list[int]]:
    """A claim's text without its [n] markers, and the numbers they held."""
    found = [int(n) for m in MARKS.finditer(text) for n in re.split(r"\s*[,;]\s*", m.group(1))]
    return MARKS.sub("", text).strip(), found


def _json_object(reply: str) -> object:
    body = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", reply.strip())
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object")
    return json.loads(body[start : end + 1])


CLAIM_OBJECT = re.compile(r'\{\s*"text"\s*:\s*"((?:[^"\\]|\\.)*)"\s*,\s*"sources"\s*:\s*\[([^\]]*)\]')
CLAIM_TEXT = re.compile(r'"text"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _unescape(s: str) -> str:
    try:
        return str(json.loads(f'"{s}"'))
    except ValueError:
        return s


def claim_texts(partial: str) -> list[str]:
    """The claim texts completed so far in a JSON reply that is still streaming (for live display)."""
    return [_unescape(m.group(1)) for m in CLAIM_TEXT.finditer(partial)]


def parse_reply(reply: str, n_sources: int) -> ParsedReply:
    """Claims with their valid source numbers; invalid numbers are collected in ``removed``."""
    raw: list[tuple[str, list[int]]] = []
    structured = False
    not_found = False
    try:
        obj = _json_object(reply)
        if isinstance(obj, dict) and isinstance(obj.get("claims"), list):
            structured = True
            not_found = obj.get("not_found") is True
            for c in obj["claims"]:
                if isinstance(c, dict) and isinstance(c.get("text"), str):
                    text, marks = _split_marks(c["text"])
                    raw.append((text, _numbers(c.get("sources", [])) + marks))
    except ValueError:
        # A reply cut off by the token limit: keep the claims that were complete.
        salvaged = [(_unescape(m.group(1)), _numbers(m.group(2).split(","))) for m in CLAIM_OBJECT.finditer(reply)]
        if salvaged or reply.lstrip().startswith("{"):
            structured = True
            raw = [(_split_marks(t)[0], s + _split_marks(t)[1]) for t, s in salvaged]
    if not structured:
        raw, not_found = _free_text_claims(reply)
    claims: list[Claim] = []
    removed: list[int] = []
    seen: set[str] = set()
    for text, numbers in raw:
        valid = tuple(dict.fromkeys(n for n in numbers if 1 <= n <= n_sources))
        removed.extend(n for n in numbers if not 1 <= n <= n_sources)
        key = " ".join(text.lower().split())
        if text and key not in seen:  # small models repeat themselves
            seen.add(key)
            claims.append(Claim(text=text, sources=valid))
    return ParsedReply(tuple(claims), not_found, structured, tuple(removed))


def _free_text_claims(reply: str) -> tuple[list[tuple[str, list[int]]], bool]:
    """One claim per sentence; a sentence without a marker joins the next one in its paragraph that has one."""
    out: list[tuple[str, list[int]]] = []
    for paragraph in reply.split("\n"):
        pending: list[str] = []
        for sentence in sentences(paragraph):
            text, marks = _split_marks(sentence)
            if not marks:
                pending.append(text)
                continue
            out.append((" ".join(pending + [text]), marks))
            pending = []
        if pending:
            out.append((" ".join(pending), []))
    declined = NOT_FOUND.lower().rstrip(".") in reply.lower()
    if declined:
        out = [(t, m) for t, m in out if NOT_FOUND.lower().rstrip(".") not in t.lower()]
    return [(t, m) for t, m in out if t.strip(" .:-–")], declined


# --------------------------------------------------------------------------- facts


def _dates(text: str) -> tuple[set[date], list[tuple[int, int]]]:
    found: set[date] = set()
    spans: list[tuple[int, int]] = []
    for pattern in DATE_PATTERNS:
        for m in pattern.finditer(text):
            g = m.groupdict()
            month = MONTHS[g["mon"].lower().rstrip(".")] if g.get("mon") else int(g["m"])
            try:
                found.add(date(int(g["y"]), month, int(g["d"])))
            except ValueError:
                continue
            spans.append(m.span())
    return found, spans


def _blank(text: str, spans: Sequence[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def _number_value(s: str) -> str:
    """``1.500``, ``1 500`` and ``1500`` are one number; ``2,5`` is 2.5."""
    s = re.sub(r"[. ](?=\d{3}\b)", "", s)
    return s.replace(",", ".").lstrip("0") or "0"


def _name_key(word: str) -> str:
    w = word.lower()
    for suffix in ("'s", "’s", "'", "’"):
        if w.endswith(suffix):
            return w[: -len(suffix)]
    return w


@dataclass(frozen=True)
class Facts:
    """What a text states that a paraphrase must not change: dates, months, case numbers, numbers, names."""

    dates: frozenset[date]
    months: frozenset[tuple[int, int]]  # (year, month), stated without a day
    days: frozenset[tuple[int, int]]  # (month, day), stated without a year
    cases: frozenset[str]
    numbers: frozenset[str]
    names: frozenset[str]  # lower case, genitive cut


def facts(text: str, names_anywhere: bool = False) -> Facts:
    """The facts stated in ``text``; ``names_anywhere`` also takes a sentence's first word as a name."""
    cases = {m.group(1).upper() for m in CASE_NUMBER.finditer(text)}
    rest = _blank(text, [m.span(1) for m in CASE_NUMBER.finditer(text)])
    found_dates, spans = _dates(rest)
    rest = _blank(rest, spans)
    months = {(int(m.group("y")), MONTHS[m.group("mon").lower().rstrip(".")]) for m in MONTH_YEAR.finditer(rest)}
    rest = _blank(rest, [m.span() for m in MONTH_YEAR.finditer(rest)])
    days = {(MONTHS[m.group("mon").lower().rstrip(".")], int(m.group("d"))) for m in DAY_MONTH.finditer(rest)}
    rest = _blank(rest, [m.span() for m in DAY_MONTH.finditer(rest)])
    numbers = {m.group(0) for m in SECTION_NUMBER.finditer(rest)}
    rest = _blank(rest, [m.span() for m in SECTION_NUMBER.finditer(rest)])
    numbers |= {_number_value(m.group(0)) for m in NUMBER.finditer(rest)}
    names: set[str] = set()
    for m in NAME.finditer(text):
        before = text[: m.start()].rstrip()
        opens = not before or before[-1] in ".!?:»\"“(\n"
        acronym = sum(ch.isupper() for ch in m.group(1)) >= 2  # KL, OS2, EU: names wherever they stand
        # An opening word followed by another capitalised one is a name too ("Odense Kommune", "Mette Frederiksen").
        leads_name = bool(re.match(r"\s+[A-ZÆØÅ][a-zæøå]", text[m.end() :]))
        if (opens and not (names_anywhere or acronym or leads_name)) or m.group(1) in COMMON_CAPITALISED:
            continue
        if any(ch.isdigit() for ch in m.group(1)) and CASE_NUMBER.search(m.group(1)):
            continue
        names.add(_name_key(m.group(1)))
    return Facts(frozenset(found_dates), frozenset(months), frozenset(days), frozenset(cases), frozenset(numbers),
                 frozenset(names))


def missing_facts(claim: str, source: str) -> tuple[str, ...]:
    """The facts of ``claim`` that ``source`` does not state, as written in the claim."""
    c = facts(claim)
    s = facts(source, names_anywhere=True)
    s_words = {_name_key(w) for w in re.findall(r"[\wæøåÆØÅ'’-]+", source)}
    s_numbers = s.numbers | {str(d.year) for d in s.dates} | {str(y) for y, _ in s.months}
    missing: list[str] = []
    missing += [d.isoformat() for d in sorted(c.dates - s.dates)]
    for y, mo in sorted(c.months):
        if (y, mo) not in s.months and not any((x.year, x.month) == (y, mo) for x in s.dates):
            missing.append(f"{y}-{mo:02d}")
    for mo, day in sorted(c.days):
        if (mo, day) not in s.days and not any((x.month, x.day) == (mo, day) for x in s.dates):
            missing.append(f"{day}/{mo}")
    missing += sorted(c.cases - s.cases)
    written = {_number_value(m.group(0)): m.group(0) for m in NUMBER.finditer(claim)}
    missing += sorted(written.get(n, n) for n in c.numbers - s_numbers)
    for name in sorted(c.names):
        stem = name[:-1] if name.endswith("s") else None  # "Aarhus Kommunes" / "KLs"
        if name not in s.names and name not in s_words and not (stem and (stem in s.names or stem in s_words)):
            missing.append(name)
    return tuple(missing)


# --------------------------------------------------------------------------- quotes and checking


def _spans(passage: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``passage``, in order."""
    out: list[tuple[int, int]] = []
    pos = 0
    for s in sentences(passage):
        start = passage.find(s, pos)
        if start < 0:
            continue
        out.append((start, start + len(s)))
        pos = start + len(s)
    return out


def supporting_quote(passage: str, claim: str, max_chars: int = 450) -> str:
    """The sentence, or two adjacent sentences, of ``passage`` that best support ``claim``; verbatim."""
    spans = [s for s in _spans(passage) if s[1] - s[0] > 15] or [(0, len(passage.strip()))]
    words = set(tokenize(claim))
    claim_facts = facts(claim)
    n_facts = sum(len(f) for f in (claim_facts.dates, claim_facts.months, claim_facts.days, claim_facts.cases,
                                   claim_facts.numbers, claim_facts.names))

    def score(text: str) -> tuple[int, int]:
        covered = n_facts - len(missing_facts(claim, text))
        return covered, len(words & set(tokenize(text)))

    candidates = [(a, b) for a, b in spans]
    candidates += [(spans[i][0], spans[i + 1][1]) for i in range(len(spans) - 1)
                   if spans[i + 1][1] - spans[i][0] <= max_chars]

    def rank(span: tuple[int, int]) -> tuple[int, int, int]:
        covered, overlap = score(passage[span[0] : span[1]])
        single = span in spans
        # A pair must earn its length: more facts, or clearly more of the claim's words.
        return covered, overlap - (0 if single else 2), int(single)

    best = max(candidates, key=rank)
    text = passage[best[0] : best[1]]
    return text if len(text) <= max_chars else text[:max_chars].rsplit(" ", 1)[0]


def check_claims(claims: Sequence[Claim], sources: Sequence[tuple[str, str]]) -> list[CheckedClaim]:
    """Each claim against its cited items; ``sources[n-1]`` is (header, passage) of source ``n``.

    The header (council, date, section, title, case number) counts as part of the item, since the model
    saw it; quotes come from the passage only.
    """
    out: list[CheckedClaim] = []
    for claim in claims:
        cited = [n for n in claim.sources if 1 <= n <= len(sources)]
        support = "\n".join(f"{sources[n - 1][0]}\n{sources[n - 1][1]}" for n in cited)
        missing = missing_facts(claim.text, support) if cited else ()
        quotes = [(n, supporting_quote(sources[n - 1][1], claim.text)) for n in cited]
        if len(quotes) > 1:
            # Of several cited items, show those whose quote shares something with the claim.
            words = set(tokenize(claim.text))
            quotes = [q for q in quotes if words & set(tokenize(q[1]))] or quotes[:1]
        out.append(CheckedClaim(claim, tuple(quotes), missing, fragment=len(claim.text.split()) < 3))
    return out


def render_claims(checked: Sequence[CheckedClaim]) -> tuple[str, list[tuple[int, str]]]:
    """The supported claims as one paragraph, each with its ``[n]``, and the citations they number.

    Citations are (source number, quote) in order of first use; the same item with another quote is
    another citation, so each claim points at the sentence that supports it.
    """
    cites: list[tuple[int, str]] = []
    parts: list[str] = []
    for c in checked:
        if not c.supported:
            continue
        marks = []
        for ref in c.quotes:
            if ref not in cites:
                cites.append(ref)
            marks.append(f"[{cites.index(ref) + 1}]")
        body = c.claim.text.rstrip()
        m = re.match(r"(.*?)([.!?]*)$", body, re.S)
        assert m is not None
        text, punct = m.group(1).rstrip(" ,;:"), m.group(2)[:1] or "."
        text = text[:1].upper() + text[1:]  # a claim copied from mid-sentence still opens a sentence
        parts.append(f"{text} {''.join(dict.fromkeys(marks))}{punct}")
    return " ".join(parts), cites


def unsupported_reason(c: CheckedClaim) -> str:
    """Why a claim was left out, in Danish, for the answer's note."""
    if not c.quotes:
        return "ingen gyldig kilde"
    if not c.missing and c.fragment:
        return "ikke en hel sætning"
    where = "den citerede kilde" if len(c.quotes) == 1 else "de citerede kilder"
    return f"{', '.join(c.missing)} står ikke i {where}"
