"""Question sets: JSONL files of questions with matchers for the agenda items that answer them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, get_args

Kind = Literal[
    "fact", "paraphrase", "english", "case_number", "change", "unanswerable",
    "person", "typo", "folded", "part", "nuance",
    "off_domain", "near_domain", "missing_ref", "meeting", "period", "attendance", "first",
    "position",
]
KINDS: tuple[Kind, ...] = get_args(Kind)
# Kinds whose questions the minutes do not answer: the right answer is a refusal, and
# ``expected`` is empty. "unanswerable" is the older, unspecific name for the same thing.
MUST_REFUSE_KINDS: frozenset[str] = frozenset({"unanswerable", "off_domain", "near_domain", "missing_ref"})
# Kinds answered from no agenda item (who attended: the participants list), so retrieval has nothing to
# find: ``expected`` is empty and the answer is measured by its facts alone (``must_contain``).
NO_ITEM_KINDS: frozenset[str] = frozenset({"attendance"})

Split = Literal["dev", "test"]
SPLITS: tuple[Split, ...] = get_args(Split)

MATCHER_KEYS = ("council", "meeting_date", "section", "case_number", "source_contains")
QUESTION_KEYS = ("question", "kind", "expected", "split", "must_contain", "absent", "period", "note")


class QuestionFileError(Exception):
    """A question file cannot be read; the Danish message names the file, the line and the fix."""


@dataclass(frozen=True)
class Expected:
    """One matcher: a retrieved item matches when every field that is set agrees with it."""

    council: str | None = None
    meeting_date: date | None = None
    section: str | None = None
    case_number: str | None = None
    source_contains: str | None = None


@dataclass(frozen=True)
class Question:
    """One evaluation question; an item is relevant when it matches any of ``expected``."""

    question: str
    kind: Kind
    expected: tuple[Expected, ...]
    note: str = ""
    split: Split | None = None  # None only in files that split nothing (XQuAD, ad-hoc sets)
    # Facts a right answer contains; each fact is a tuple of alternatives ("a|b" in the file).
    must_contain: tuple[tuple[str, ...], ...] = ()
    # Must-refuse questions: words of the topic that occur in no file of the corpus (checked by tests).
    absent: tuple[str, ...] = ()
    # "period" questions: the first and last meeting day the question asks about (None: open end). A right
    # answer cites no meeting outside it; written by hand, so the measure does not lean on the product's parser.
    period: tuple[date | None, date | None] | None = None

    def in_period(self, d: date | None) -> bool:
        """Whether a cited meeting date lies in the question's period (an undated meeting never does)."""
        if self.period is None:
            return True
        since, until = self.period
        return d is not None and (since is None or d >= since) and (until is None or d <= until)

    @property
    def must_refuse(self) -> bool:
        """Whether the right answer is a refusal."""
        return self.kind in MUST_REFUSE_KINDS


@dataclass(frozen=True)
class XquadDoc:
    """One XQuAD paragraph, indexed by the runner as a one-item meeting whose source is ``doc_id``."""

    doc_id: str
    title: str
    text: str


def _norm_section(section: str) -> str:
    # Minutes print "2.2." as often as "2.2"; the trailing dot carries no meaning.
    return section.strip().rstrip(".").strip()


_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
                         "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u00ad": None})


def normalise_text(text: str) -> str:
    """Case-folded, whitespace runs as one space, typographic dashes/apostrophes as ASCII ones."""
    return " ".join(text.translate(_DASHES).casefold().split())


def contains_fact(text: str, alternatives: tuple[str, ...]) -> bool:
    """Whether ``text`` contains any of the alternatives of one must_contain fact."""
    haystack = normalise_text(text)
    return any(normalise_text(alt) in haystack for alt in alternatives)


def matches(
    expected: Expected,
    *,
    council: str,
    meeting_date: date | None,
    section: str,
    case_number: str | None,
    source: str,
) -> bool:
    """Whether a retrieved item agrees with every field the matcher sets."""
    if expected.council is not None and expected.council.strip().casefold() != council.strip().casefold():
        return False
    if expected.meeting_date is not None and expected.meeting_date != meeting_date:
        return False
    if expected.section is not None and _norm_section(expected.section) != _norm_section(section):
        return False
    if expected.case_number is not None and (
        case_number is None or expected.case_number.strip().upper() != case_number.strip().upper()
    ):
        return False
    # Case-insensitive so that a hand-written "Aarhus" finds ".../aarhus/..." too.
    if expected.source_contains is not None and expected.source_contains.casefold() not in source.casefold():
        return False
    return True


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question file; any bad line raises QuestionFileError naming file and line."""
    path = Path(path)
    try:
        # utf-8-sig: files saved from Notepad start with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise QuestionFileError(f"{path}: filen findes ikke – angiv stien til en .jsonl-fil med spørgsmål") from None
    except UnicodeDecodeError:
        raise QuestionFileError(f"{path}: filen er ikke UTF-8 – gem den som UTF-8 og prøv igen") from None
    questions: list[Question] = []
    lines: list[int] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        questions.append(_parse_line(line, f"{path}, linje {line_no}"))
        lines.append(line_no)
    if not questions:
        raise QuestionFileError(f"{path}: filen indeholder ingen spørgsmål – skriv ét JSON-objekt pr. linje")
    # A file splits all its questions or none: one without a split would silently drop out of both halves.
    with_split = [q.split is not None for q in questions]
    if any(with_split) and not all(with_split):
        line_no = lines[with_split.index(False)]
        raise QuestionFileError(
            f"{path}, linje {line_no}: feltet 'split' mangler, men andre linjer i filen har det – "
            "angiv \"split\": \"dev\" eller \"test\" på alle linjer (eller på ingen)"
        )
    return questions


def _parse_line(line: str, where: str) -> Question:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise QuestionFileError(
            f"{where}: ugyldig JSON ({e.msg}, tegn {e.colno}) – hver linje skal være ét objekt som "
            '{"question": "...", "kind": "fact", "expected": [{"section": "2.2"}]}'
        ) from None
    if not isinstance(obj, dict):
        raise QuestionFileError(f"{where}: linjen skal være et JSON-objekt i {{ }}, ikke {type(obj).__name__}")
    unknown = sorted(set(obj) - set(QUESTION_KEYS))
    if unknown:
        raise QuestionFileError(
            f"{where}: ukendt felt {', '.join(map(repr, unknown))} – tilladte felter: {', '.join(QUESTION_KEYS)}"
        )
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        raise QuestionFileError(f"{where}: feltet 'question' mangler eller er tomt – skriv spørgsmålet som tekst")
    kind = obj.get("kind")
    if kind not in KINDS:
        raise QuestionFileError(
            f"{where}: ukendt eller manglende 'kind' {kind!r} – brug en af: {', '.join(KINDS)}"
        )
    note = obj.get("note", "")
    if not isinstance(note, str):
        raise QuestionFileError(f"{where}: feltet 'note' skal være tekst")
    raw_expected = obj.get("expected", [] if kind in MUST_REFUSE_KINDS | NO_ITEM_KINDS else None)
    if raw_expected is None:
        raise QuestionFileError(
            f"{where}: feltet 'expected' mangler – angiv fx [{{\"section\": \"2.2\"}}] for de punkter, der svarer"
        )
    if not isinstance(raw_expected, list):
        raise QuestionFileError(f"{where}: 'expected' skal være en liste i [ ]")
    expected = tuple(_parse_matcher(m, f"{where}, expected[{i}]") for i, m in enumerate(raw_expected))
    refuse = kind in MUST_REFUSE_KINDS
    if refuse and expected:
        raise QuestionFileError(f"{where}: et '{kind}'-spørgsmål skal afvises og skal have en tom 'expected'-liste []")
    if kind in NO_ITEM_KINDS and expected:
        raise QuestionFileError(f"{where}: et '{kind}'-spørgsmål besvares ikke fra et dagsordenspunkt – brug \"expected\": []")
    if not refuse and not expected and kind not in NO_ITEM_KINDS:
        raise QuestionFileError(
            f"{where}: 'expected' er tom – angiv mindst ét punkt, eller brug en af typerne "
            f"{', '.join(k for k in KINDS if k in MUST_REFUSE_KINDS)} for spørgsmål, der skal afvises"
        )
    split = obj.get("split")
    if split is not None and split not in SPLITS:
        raise QuestionFileError(f"{where}: 'split' skal være \"dev\" eller \"test\", ikke {split!r}")
    must_contain = tuple(
        _parse_fact(f, f"{where}, must_contain[{i}]") for i, f in enumerate(_string_list(obj, "must_contain", where))
    )
    if kind in NO_ITEM_KINDS and not must_contain:
        raise QuestionFileError(f"{where}: et '{kind}'-spørgsmål måles på sine fakta – angiv 'must_contain', fx [\"Pia Færch\"]")
    if refuse and must_contain:
        raise QuestionFileError(
            f"{where}: et '{kind}'-spørgsmål skal afvises, så 'must_contain' giver ingen mening – fjern feltet"
        )
    absent = tuple(a.strip() for a in _string_list(obj, "absent", where))
    if absent and not refuse:
        raise QuestionFileError(
            f"{where}: 'absent' bruges kun til spørgsmål, der skal afvises ({', '.join(sorted(MUST_REFUSE_KINDS))})"
        )
    period = _parse_period(obj.get("period"), kind, where)
    return Question(
        question=question.strip(), kind=kind, expected=expected, note=note,
        split=split, must_contain=must_contain, absent=absent, period=period,
    )


def _parse_period(raw: object, kind: str, where: str) -> tuple[date | None, date | None] | None:
    example = '["2025-01-01", null]'
    if raw is None:
        if kind == "period":
            raise QuestionFileError(f"{where}: et 'period'-spørgsmål skal have feltet 'period', fx {example}")
        return None
    if kind != "period":
        raise QuestionFileError(f"{where}: 'period' bruges kun til spørgsmål af typen 'period'")
    if not isinstance(raw, list) or len(raw) != 2 or not all(x is None or isinstance(x, str) for x in raw) \
            or raw == [None, None]:
        raise QuestionFileError(f"{where}: 'period' skal være [første dag, sidste dag] med null for en åben ende, fx {example}")
    try:
        since, until = (None if x is None else date.fromisoformat(x) for x in raw)
    except ValueError:
        raise QuestionFileError(f"{where}: 'period' skal have datoer som ÅÅÅÅ-MM-DD, fx {example}") from None
    if since and until and since > until:
        raise QuestionFileError(f"{where}: 'period' slutter før den begynder – byt om på datoerne")
    return since, until


def _string_list(obj: dict[str, object], key: str, where: str) -> list[str]:
    raw = obj.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(x, str) and x.strip() for x in raw):
        raise QuestionFileError(
            f"{where}: '{key}' skal være en liste af ikke-tomme tekster, fx "
            + ('["12 måneder", "2027"]' if key == "must_contain" else '["håndbold"]')
        )
    return raw


def _parse_fact(text: str, where: str) -> tuple[str, ...]:
    alternatives = tuple(a.strip() for a in text.split("|"))
    if not all(alternatives):
        raise QuestionFileError(
            f"{where}: {text!r} har et tomt alternativ – skriv fx \"12 måneder|tolv måneder\" uden tom side af |"
        )
    return alternatives


def _parse_matcher(obj: object, where: str) -> Expected:
    if not isinstance(obj, dict):
        raise QuestionFileError(f"{where}: hvert element i 'expected' skal være et objekt som {{\"section\": \"2.2\"}}")
    unknown = sorted(set(obj) - set(MATCHER_KEYS))
    if unknown:
        raise QuestionFileError(
            f"{where}: ukendt nøgle {', '.join(map(repr, unknown))} – tilladte nøgler: {', '.join(MATCHER_KEYS)}"
        )
    if not obj:
        raise QuestionFileError(f"{where}: tomt objekt matcher alt – angiv mindst én af: {', '.join(MATCHER_KEYS)}")
    values: dict[str, str] = {}
    for key, value in obj.items():
        if isinstance(value, bool) or isinstance(value, float):
            # 2.10 as a JSON number would silently become "2.1".
            raise QuestionFileError(f"{where}: '{key}' skal skrives i anførselstegn, fx \"2.10\"")
        if isinstance(value, int):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise QuestionFileError(f"{where}: '{key}' skal være en ikke-tom tekst")
        values[key] = value.strip()
    meeting_date: date | None = None
    if "meeting_date" in values:
        try:
            meeting_date = date.fromisoformat(values["meeting_date"])
        except ValueError:
            raise QuestionFileError(
                f"{where}: 'meeting_date' {values['meeting_date']!r} er ikke en dato – skriv ÅÅÅÅ-MM-DD, fx 2025-10-01"
            ) from None
    return Expected(
        council=values.get("council"),
        meeting_date=meeting_date,
        section=values.get("section"),
        case_number=values.get("case_number"),
        source_contains=values.get("source_contains"),
    )


def xquad_doc_id(article: int, paragraph: int) -> str:
    """The id of paragraph ``paragraph`` of article ``article``; fixed width so no id contains another."""
    return f"xquad-{article:03d}-{paragraph:03d}"


def load_xquad(path: Path, limit_docs: int | None = None) -> tuple[list[XquadDoc], list[Question]]:
    """Read XQuAD (SQuAD v1.1 JSON): each paragraph a document, each question expecting its paragraph."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles = data["data"]
    except FileNotFoundError:
        raise QuestionFileError(f"{path}: filen findes ikke – XQuAD ligger som xquad.da.json") from None
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise QuestionFileError(f"{path}: ikke en SQuAD v1.1-fil med 'data' ({e})") from None
    if limit_docs is not None and limit_docs < 1:
        raise ValueError("limit_docs must be at least 1")
    docs: list[XquadDoc] = []
    questions: list[Question] = []
    a = p = 0
    try:
        # File order, so a limit takes whole articles first: neighbouring paragraphs of one
        # article are the hardest distractors, which a spread-out sample would lose.
        for a, article in enumerate(articles):
            title = str(article.get("title", "")).replace("_", " ")
            for p, paragraph in enumerate(article["paragraphs"]):
                if limit_docs is not None and len(docs) >= limit_docs:
                    return docs, questions
                doc_id = xquad_doc_id(a, p)
                docs.append(XquadDoc(doc_id=doc_id, title=title, text=paragraph["context"]))
                for qa in paragraph["qas"]:
                    questions.append(
                        Question(
                            question=qa["question"].strip(),
                            kind="fact",
                            expected=(Expected(source_contains=doc_id),),
                            note=f"XQuAD {qa.get('id', '')}".strip(),
                        )
                    )
    except (KeyError, TypeError, AttributeError) as e:
        raise QuestionFileError(f"{path}: artikel {a}, afsnit {p} følger ikke SQuAD v1.1 ({e!r})") from None
    return docs, questions
