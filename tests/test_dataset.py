"""Question files: loading, Danish errors with line numbers, matching, XQuAD, and the real question set."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from eval.dataset import (
    KINDS,
    MUST_REFUSE_KINDS,
    NO_ITEM_KINDS,
    Expected,
    Question,
    QuestionFileError,
    contains_fact,
    load_questions,
    load_xquad,
    matches,
    normalise_text,
    xquad_doc_id,
)
from index.cases import asked_case

REPO = Path(__file__).resolve().parents[1]
REAL_QUESTIONS = REPO / "eval" / "questions" / "real.jsonl"
DEMO_QUESTIONS = REPO / "eval" / "questions" / "demo.jsonl"
DEMO_MINUTES = REPO / "demo" / "minutes"
# Third-party data beside the repository, read in place and never copied into it.
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
KL = CORPUS / "it-arkitekturraadet-referat.txt"
TU = CORPUS / "aarhus" / "teknisk_udvalg_referat_2025-10-01.html"
XQUAD = SHARED / "bench" / "xquad.da.json"


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- loading


def test_load_questions(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '{"question": " Hvad mente rådet om open source? ", "kind": "fact", '
        '"expected": [{"section": "2.2"}, {"case_number": "SAG-2025-00718"}], "note": "valgfri"}',
        "",
        '{"question": "Hvornår?", "kind": "change", "expected": [{"meeting_date": "2025-10-01", "section": 2, '
        '"council": "Teknisk Udvalg", "source_contains": "aarhus"}]}',
        '{"question": "Hundeskat?", "kind": "unanswerable", "expected": []}',
        '{"question": "Vindmøller?", "kind": "unanswerable"}',
    )
    qs = load_questions(path)
    assert qs[0] == Question(
        question="Hvad mente rådet om open source?",
        kind="fact",
        expected=(Expected(section="2.2"), Expected(case_number="SAG-2025-00718")),
        note="valgfri",
    )
    # An integer section is read as text; the date is parsed.
    assert qs[1].expected == (
        Expected(council="Teknisk Udvalg", meeting_date=date(2025, 10, 1), section="2", source_contains="aarhus"),
    )
    assert qs[2].expected == () and qs[3].expected == ()


def test_load_questions_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes('{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}]}\n'.encode("utf-8-sig"))
    assert load_questions(path)[0].question == "Q?"


GOOD = '{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}]}'


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ('{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}]', "ugyldig JSON"),
        ('["Q?"]', "JSON-objekt"),
        ('{"question": "Q?", "kind": "faktum", "expected": [{"section": "1"}]}', "ukendt eller manglende 'kind'"),
        ('{"question": "Q?", "expected": [{"section": "1"}]}', "ukendt eller manglende 'kind'"),
        ('{"kind": "fact", "expected": [{"section": "1"}]}', "'question' mangler"),
        ('{"question": "  ", "kind": "fact", "expected": [{"section": "1"}]}', "'question' mangler"),
        ('{"question": "Q?", "kind": "fact"}', "'expected' mangler"),
        ('{"question": "Q?", "kind": "fact", "expected": []}', "'expected' er tom"),
        ('{"question": "Q?", "kind": "unanswerable", "expected": [{"section": "1"}]}', "tom 'expected'-liste"),
        ('{"question": "Q?", "kind": "fact", "expected": {"section": "1"}}', "skal være en liste"),
        ('{"question": "Q?", "kind": "fact", "expected": [{"sektion": "1"}]}', "ukendt nøgle 'sektion'"),
        ('{"question": "Q?", "kind": "fact", "expected": [{}]}', "matcher alt"),
        ('{"question": "Q?", "kind": "fact", "expected": ["2.2"]}', "skal være et objekt"),
        ('{"question": "Q?", "kind": "fact", "expected": [{"section": 2.10}]}', "anførselstegn"),
        ('{"question": "Q?", "kind": "fact", "expected": [{"meeting_date": "1/10/2025"}]}', "ÅÅÅÅ-MM-DD"),
        ('{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}], "noter": "x"}', "ukendt felt 'noter'"),
        ('{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}], "split": "train"}', "\"dev\" eller \"test\""),
        ('{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}], "must_contain": "12"}', "liste af ikke-tomme tekster"),
        ('{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}], "must_contain": [12]}', "liste af ikke-tomme tekster"),
        ('{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}], "must_contain": [" "]}', "liste af ikke-tomme tekster"),
        ('{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}], "must_contain": ["12|"]}', "tomt alternativ"),
        ('{"question": "Q?", "kind": "off_domain", "must_contain": ["x"]}', "'must_contain' giver ingen mening"),
        ('{"question": "Q?", "kind": "near_domain", "expected": [{"section": "1"}]}', "tom 'expected'-liste"),
        ('{"question": "Q?", "kind": "missing_ref", "absent": "sag-2019-00001"}', "liste af ikke-tomme tekster"),
        ('{"question": "Q?", "kind": "fact", "expected": [{"section": "1"}], "absent": ["x"]}', "'absent' bruges kun"),
        ('{"question": "Q?", "kind": "person", "expected": []}', "'expected' er tom"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, bad: str, words: str) -> None:
    path = _write(tmp_path, GOOD, "", bad)  # the bad object is on line 3
    with pytest.raises(QuestionFileError) as err:
        load_questions(path)
    assert f"{path}, linje 3" in str(err.value)
    assert words in str(err.value)


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match="findes ikke"):
        load_questions(tmp_path / "mangler.jsonl")
    with pytest.raises(QuestionFileError, match="ingen spørgsmål"):
        load_questions(_write(tmp_path, "", "  "))
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"question": "Hvad mente rådet?", "kind": "fact", "expected": [{"section": "1"}]}'.encode("latin-1"))
    with pytest.raises(QuestionFileError, match="UTF-8"):
        load_questions(latin1)


def test_kinds() -> None:
    assert KINDS == (
        "fact", "paraphrase", "english", "case_number", "change", "unanswerable",
        "person", "typo", "folded", "part", "nuance", "off_domain", "near_domain", "missing_ref", "meeting", "period", "attendance",
        "first", "position",
    )
    assert MUST_REFUSE_KINDS == {"unanswerable", "off_domain", "near_domain", "missing_ref"}
    assert MUST_REFUSE_KINDS <= set(KINDS)


def test_period_field(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"question": "Hvad siden 2025?", "kind": "period", "expected": [{"section": "2.2"}], '
                            '"split": "dev", "period": ["2025-01-01", null]}')
    (q,) = load_questions(path)
    assert q.period == (date(2025, 1, 1), None)
    assert q.in_period(date(2025, 1, 1)) and not q.in_period(date(2024, 12, 31)) and not q.in_period(None)
    for line, says in (('{"question": "x?", "kind": "period", "expected": [{"section": "2.2"}]}', "skal have feltet 'period'"),
                       ('{"question": "x?", "kind": "fact", "expected": [{"section": "2.2"}], "period": ["2025-01-01", null]}',
                        "kun til spørgsmål af typen 'period'"),
                       ('{"question": "x?", "kind": "period", "expected": [{"section": "2.2"}], "period": [null, null]}',
                        "null for en åben ende"),
                       ('{"question": "x?", "kind": "period", "expected": [{"section": "2.2"}], "period": ["1.1.2025", null]}',
                        "ÅÅÅÅ-MM-DD"),
                       ('{"question": "x?", "kind": "period", "expected": [{"section": "2.2"}], '
                        '"period": ["2026-01-01", "2025-01-01"]}', "slutter før den begynder")):
        with pytest.raises(QuestionFileError, match=re.escape(says)):
            load_questions(_write(tmp_path, line))


def test_attendance_questions_have_facts_and_no_items(tmp_path: Path) -> None:
    (q,) = load_questions(_write(tmp_path, '{"question": "Hvem deltog?", "kind": "attendance", "split": "dev", '
                                           '"must_contain": ["Pia Færch"]}'))
    assert q.expected == () and not q.must_refuse and q.must_contain == (("Pia Færch",),)
    for line, says in (('{"question": "Hvem deltog?", "kind": "attendance", "must_contain": ["Pia"], '
                        '"expected": [{"section": "1"}]}', "besvares ikke fra et dagsordenspunkt"),
                       ('{"question": "Hvem deltog?", "kind": "attendance"}', "måles på sine fakta")):
        with pytest.raises(QuestionFileError, match=re.escape(says)):
            load_questions(_write(tmp_path, line))


def test_new_fields(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '{"question": "Hvor lang varsling?", "kind": "typo", "expected": [{"section": "3.1"}], "split": "dev", '
        '"must_contain": [" 12 måneder|tolv måneder ", "2027"]}',
        '{"question": "Hvem vandt?", "kind": "off_domain", "split": "test", "absent": ["håndbold", " vm "]}',
        '{"question": "SAG-2019-00001?", "kind": "missing_ref", "expected": [], "split": "dev"}',
    )
    typo, off, missing = load_questions(path)
    assert typo.split == "dev" and typo.must_contain == (("12 måneder", "tolv måneder"), ("2027",))
    assert not typo.must_refuse and typo.absent == ()
    assert off == Question("Hvem vandt?", "off_domain", (), split="test", absent=("håndbold", "vm"))
    assert off.must_refuse and missing.must_refuse and missing.expected == ()
    # Fields left out keep their defaults: an ad-hoc file needs none of them.
    plain = load_questions(_write(tmp_path, GOOD))[0]
    assert (plain.split, plain.must_contain, plain.absent) == (None, (), ())


def test_split_on_all_lines_or_none(tmp_path: Path) -> None:
    with_split = GOOD[:-1] + ', "split": "test"}'
    path = _write(tmp_path, with_split, "", GOOD)
    with pytest.raises(QuestionFileError) as err:
        load_questions(path)
    assert f"{path}, linje 3" in str(err.value) and "'split' mangler" in str(err.value)
    assert [q.split for q in load_questions(_write(tmp_path, with_split, with_split))] == ["test", "test"]


@pytest.mark.parametrize(
    ("text", "alternatives", "ok"),
    [
        ("Perioden er 12 måneder.", ("12 måneder",), True),
        ("Perioden er 12\n  MÅNEDER.", ("12 måneder",), True),  # case and whitespace are no difference
        ("Perioden er tolv måneder.", ("12 måneder", "tolv måneder"), True),  # any alternative will do
        ("Perioden er seks måneder.", ("12 måneder", "tolv måneder"), False),
        ("Strategien 2026–2030 og KL’s rolle", ("2026-2030", "KL's"), True),  # typographic dash/apostrophe
        ("Strategien 2026–2030", ("2026-2031",), False),
        ("12måneder", ("12 måneder",), False),  # a missing space is a different text
    ],
)
def test_contains_fact(text: str, alternatives: tuple[str, ...], ok: bool) -> None:
    assert contains_fact(text, alternatives) is ok


def test_normalise_text() -> None:
    assert normalise_text("  Rådet\u00a0GODKENDTE\n\tplanen – KL’s ") == "rådet godkendte planen - kl's"


# --------------------------------------------------------------------------- matching

ITEM = dict(
    council="Teknisk Udvalg",
    meeting_date=date(2025, 10, 1),
    section="2",
    case_number="EMN-2025-009242",
    source="/data/aarhus/teknisk_udvalg_referat_2025-10-01.html",
)


@pytest.mark.parametrize(
    ("expected", "ok"),
    [
        (Expected(section="2"), True),
        (Expected(section="2."), True),  # a printed trailing dot is no difference
        (Expected(section="2.2"), False),
        (Expected(council="teknisk udvalg"), True),  # council is case-insensitive
        (Expected(council="Økonomiudvalget"), False),
        (Expected(meeting_date=date(2025, 10, 1)), True),
        (Expected(meeting_date=date(2025, 10, 8)), False),
        (Expected(case_number="emn-2025-009242"), True),
        (Expected(case_number="EMN-2025-009243"), False),
        (Expected(source_contains="teknisk_udvalg"), True),
        (Expected(source_contains="Aarhus/"), True),
        (Expected(source_contains="it-arkitekturraadet"), False),
        (Expected(section="2", source_contains="teknisk_udvalg"), True),
        (Expected(section="2", source_contains="it-arkitekturraadet"), False),  # every given key must agree
        (Expected(), True),  # no keys: nothing to disagree with (the loader refuses this)
    ],
)
def test_matches(expected: Expected, ok: bool) -> None:
    assert matches(expected, **ITEM) is ok  # type: ignore[arg-type]


def test_matches_item_without_case_number_or_date() -> None:
    item = {**ITEM, "case_number": None, "meeting_date": None, "section": "5"}
    assert not matches(Expected(case_number="EMN-2025-009242"), **item)  # type: ignore[arg-type]
    assert not matches(Expected(meeting_date=date(2025, 10, 1)), **item)  # type: ignore[arg-type]
    assert matches(Expected(section="5"), **item)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- XQuAD


def _squad(tmp_path: Path) -> Path:
    data = {
        "version": "1.1",
        "data": [
            {
                "title": "Nikola_Tesla",
                "paragraphs": [
                    {"context": "Tesla blev født i 1856.", "qas": [{"id": "a1", "question": "Hvornår blev Tesla født?", "answers": []}]},
                    {"context": "Han døde i 1943.", "qas": [{"id": "a2", "question": "Hvornår døde han?", "answers": []},
                                                              {"id": "a3", "question": "Hvor døde han?", "answers": []}]},
                ],
            },
            {"title": "Rhinen", "paragraphs": [{"context": "Rhinen løber mod nord.", "qas": [{"id": "b1", "question": "Hvor løber Rhinen?", "answers": []}]}]},
        ],
    }
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_load_xquad(tmp_path: Path) -> None:
    docs, qs = load_xquad(_squad(tmp_path))
    assert [d.doc_id for d in docs] == ["xquad-000-000", "xquad-000-001", "xquad-001-000"]
    assert docs[0].title == "Nikola Tesla" and docs[2].text == "Rhinen løber mod nord."
    assert len(qs) == 4
    assert qs[1] == Question("Hvornår døde han?", "fact", (Expected(source_contains="xquad-000-001"),), "XQuAD a2")
    assert all(q.expected[0].source_contains for q in qs)


def test_load_xquad_limit(tmp_path: Path) -> None:
    docs, qs = load_xquad(_squad(tmp_path), limit_docs=2)
    assert [d.doc_id for d in docs] == ["xquad-000-000", "xquad-000-001"]
    assert [q.note for q in qs] == ["XQuAD a1", "XQuAD a2", "XQuAD a3"]
    with pytest.raises(ValueError):
        load_xquad(_squad(tmp_path), limit_docs=0)


def test_xquad_ids_do_not_contain_each_other() -> None:
    # source_contains is a substring test, so no id may be a substring of another.
    ids = [xquad_doc_id(a, p) for a in range(50) for p in range(30)]
    assert not any(x != y and x in y for x in ids[:200] for y in ids)


def test_load_xquad_errors(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match="findes ikke"):
        load_xquad(tmp_path / "mangler.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "1.1"}', encoding="utf-8")
    with pytest.raises(QuestionFileError, match="SQuAD"):
        load_xquad(bad)
    bad.write_text('{"data": [{"title": "X", "paragraphs": [{"qas": []}]}]}', encoding="utf-8")
    with pytest.raises(QuestionFileError, match="artikel 0, afsnit 0"):
        load_xquad(bad)


@pytest.mark.skipif(not XQUAD.exists(), reason="XQuAD (da) not on this machine")
def test_load_real_xquad() -> None:
    docs, qs = load_xquad(XQUAD)
    assert (len(docs), len(qs)) == (240, 1190)
    ids = {d.doc_id for d in docs}
    assert len(ids) == 240
    assert all(q.expected[0].source_contains in ids for q in qs)
    few, few_qs = load_xquad(XQUAD, limit_docs=10)
    assert len(few) == 10 and {q.expected[0].source_contains for q in few_qs} <= {d.doc_id for d in few}


# --------------------------------------------------------------------------- the project's question sets

SETS = {"real": REAL_QUESTIONS, "demo": DEMO_QUESTIONS}
NEW_KINDS = ("person", "typo", "folded", "part", "nuance", "off_domain", "near_domain", "missing_ref")


def test_real_question_set_counts() -> None:
    qs = load_questions(REAL_QUESTIONS)
    counts: Counter[str] = Counter(q.kind for q in qs)
    assert len(qs) >= 50
    minimum = {"fact": 18, "paraphrase": 16, "english": 8, "case_number": 5, "change": 3, "unanswerable": 6}
    minimum.update({kind: 5 for kind in NEW_KINDS})
    for kind, n in minimum.items():
        assert counts[kind] >= n, (kind, counts[kind])
    assert len({q.question for q in qs}) == len(qs), "duplicate questions"
    for q in qs:
        if q.kind == "case_number":  # as printed, or typed loosely ("sag-2025-2439")
            assert any(e.case_number and (found := asked_case(q.question, {e.case_number})) and found.known
                       for e in q.expected), q.question
        # "2" exists in both minutes, so a section alone is ambiguous.
        for e in q.expected:
            assert e.case_number or e.source_contains, q.question


def test_demo_question_set_counts() -> None:
    qs = load_questions(DEMO_QUESTIONS)
    counts: Counter[str] = Counter(q.kind for q in qs)
    for kind in NEW_KINDS:
        assert counts[kind] >= 5, (kind, counts[kind])
    assert counts["paraphrase"] >= 12
    assert len({q.question for q in qs}) == len(qs), "duplicate questions"
    for q in qs:
        for e in q.expected:  # seven meetings of two councils: a section needs its meeting
            assert e.council and e.meeting_date and e.section, q.question


def test_issue_minimums_over_both_sets() -> None:
    qs = [q for path in SETS.values() for q in load_questions(path)]
    counts: Counter[str] = Counter(q.kind for q in qs)
    for kind in ("person", "typo", "folded", "part", "nuance"):
        assert counts[kind] >= 10, (kind, counts[kind])
    for kind in ("off_domain", "near_domain", "missing_ref"):
        assert counts[kind] >= 8, (kind, counts[kind])
    assert sum(counts[k] for k in MUST_REFUSE_KINDS) >= 30
    answerable = [q for q in qs if q.kind in ("fact", "person", "part", "typo", "folded", "change")]
    assert sum(bool(q.must_contain) for q in answerable) >= 0.8 * len(answerable)
    assert all(q.must_contain for q in qs if q.kind in ("person", "typo", "folded", "part", "nuance"))
    # Every refusal names the words of its topic, so the corpus check below covers it.
    assert all(q.absent for q in qs if q.must_refuse)


@pytest.mark.parametrize("name", sorted(SETS))
def test_split_alternates_within_each_kind(name: str) -> None:
    # The documented rule: per file and kind, dev, test, dev, test ... in file order.
    by_kind: dict[str, list[str | None]] = {}
    for q in load_questions(SETS[name]):
        by_kind.setdefault(q.kind, []).append(q.split)
    for kind, splits in by_kind.items():
        assert splits == [("dev", "test")[i % 2] for i in range(len(splits))], (name, kind)
        if len(splits) >= 2:
            assert {"dev", "test"} <= set(splits), (name, kind)


def _meetings() -> list[tuple[str, object]]:
    """(set name, Meeting) for every minutes file a question set is written for."""
    from ingest.parse import parse_meeting
    from ingest.read import read_document

    # Without the real minutes (third-party, not in the repository) only the demo checks can run.
    out: list[tuple[str, object]] = [("real", parse_meeting(read_document(path))) for path in (KL, TU) if path.exists()]
    out += [("demo", parse_meeting(read_document(path))) for path in sorted(DEMO_MINUTES.glob("*.txt"))]
    return out


def _matching_texts(name: str, q: Question) -> list[str]:
    """Title and text of every item of the set's minutes that matches one of the question's matchers; for a
    question answered from no item (who attended), every line of the set's participants lists."""
    texts = []
    for set_name, meeting in _meetings_cached():
        if set_name != name:
            continue
        if q.kind in NO_ITEM_KINDS:
            texts += [line.text for line in meeting.roster]  # type: ignore[attr-defined]
            continue
        for item in meeting.items:  # type: ignore[attr-defined]
            fields = dict(council=meeting.council, meeting_date=meeting.meeting_date,  # type: ignore[attr-defined]
                          section=item.section, case_number=item.case_number, source=meeting.source)  # type: ignore[attr-defined]
            if any(matches(e, **fields) for e in q.expected):  # type: ignore[arg-type]
                texts.append(f"{item.title}\n{item.text}")
    return texts


_CACHE: list[tuple[str, object]] = []


def _meetings_cached() -> list[tuple[str, object]]:
    if not _CACHE:
        _CACHE.extend(_meetings())
    return _CACHE


needs_corpus = pytest.mark.skipif(not (KL.exists() and TU.exists()), reason="real minutes not on this machine")


def _items() -> dict[tuple[str, str], tuple[dict[str, object], str]]:
    """Every agenda item of the two real minutes: (file key, section) -> (match fields, title and text)."""
    out: dict[tuple[str, str], tuple[dict[str, object], str]] = {}
    for (name, meeting), key in zip(_meetings_cached()[:2], ("it-arkitekturraadet", "teknisk_udvalg")):
        assert name == "real"
        for item in meeting.items:  # type: ignore[attr-defined]
            fields: dict[str, object] = dict(
                council=meeting.council, meeting_date=meeting.meeting_date,  # type: ignore[attr-defined]
                section=item.section, case_number=item.case_number, source=meeting.source,  # type: ignore[attr-defined]
            )
            out[(key, item.section)] = (fields, f"{item.title}\n{item.text}")
    return out


@needs_corpus
def test_probe_questions_point_at_items_of_the_kl_minutes() -> None:
    # The probe set is measured on the KL minutes alone; every answerable one names an item there.
    items = _items()
    probe = load_questions(REPO / "eval" / "questions" / "probe-kl.jsonl")
    assert len(probe) >= 20 and {q.split for q in probe} == {"test"}
    for q in probe:
        for e in q.expected:
            assert [k for k, (f, _) in items.items() if k[0] == "it-arkitekturraadet" and matches(e, **f)], q.question  # type: ignore[arg-type]
    assert sum(not q.expected for q in probe) >= 10


@needs_corpus
def test_real_expected_items_exist() -> None:
    items = _items()
    for q in load_questions(REAL_QUESTIONS):
        for e in q.expected:
            hits = [k for k, (fields, _) in items.items() if matches(e, **fields)]  # type: ignore[arg-type]
            assert hits, f"no item matches {e} for {q.question!r}"
    # The shared case numbers resolve to every item that carries them.
    shared = Expected(case_number="SAG-2024-04074")
    assert sorted(k[1] for k, (f, _) in items.items() if matches(shared, **f)) == ["1.1", "2.1", "2.8"]  # type: ignore[arg-type]


def test_demo_expected_items_exist() -> None:
    for q in load_questions(DEMO_QUESTIONS):
        for e in q.expected:
            assert _matching_texts("demo", Question(q.question, q.kind, (e,))), f"no item matches {e} for {q.question!r}"


def test_demo_probe_points_at_demo_items_and_is_all_test() -> None:
    # The demo probe (held out, never used to choose anything) is measured on the demo index.
    probe = load_questions(REPO / "eval" / "questions" / "probe-demo.jsonl")
    assert len(probe) >= 20 and {q.split for q in probe} == {"test"}
    for q in probe:
        for e in q.expected:
            assert _matching_texts("demo", Question(q.question, q.kind, (e,))), f"no item matches {e} for {q.question!r}"
    assert sum(not q.expected for q in probe) >= 10 and sum(bool(q.expected) for q in probe) >= 10


def _sets_available() -> list[str]:
    return [name for name in sorted(SETS) if name == "demo" or (KL.exists() and TU.exists())]


@pytest.mark.parametrize("name", _sets_available())
def test_must_contain_occurs_in_an_expected_item(name: str) -> None:
    # A right answer quotes the minutes, so every fact must be there to be quoted.
    for q in load_questions(SETS[name]):
        if not q.must_contain:
            continue
        texts = _matching_texts(name, q)
        for fact in q.must_contain:
            assert any(contains_fact(t, fact) for t in texts), f"{'|'.join(fact)!r} not in the items for {q.question!r}"


@pytest.mark.parametrize("name", _sets_available())
def test_person_names_occur_in_their_items(name: str) -> None:
    for q in load_questions(SETS[name]):
        if q.kind != "person":
            continue
        # The capitalised words after the first one are the name (and perhaps a place).
        names = [w for w in re.findall(r"[A-ZÆØÅ][\wæøå-]+", q.question)[1:] if w not in ("Hvad", "Hvorfor")]
        texts = _matching_texts(name, q)
        assert names and any(all(w in t for w in names[:2]) for t in texts), (q.question, names)


# Danish stopwords (Snowball's list) plus question words: words that carry no topic.
STOPWORDS = set(
    """og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har om vi min havde
    ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle vil blev kunne ind
    når være dog noget ville jo deres efter ned skulle denne end dette mit også under have dig anden hende
    mine alt meget sit sine vor mod disse hvis din nogle hos blive mange ad bliver hendes været thi jer sådan
    hvilke hvilken hvilket hvordan hvorfor hvornår hvem kan får få gør mere mest må bør så ved""".split()
)


@pytest.mark.parametrize("name", _sets_available())
def test_paraphrases_share_no_content_word_with_their_items(name: str) -> None:
    stemmer = pytest.importorskip("Stemmer").Stemmer("danish")

    def stems(text: str) -> set[str]:
        words = re.findall(r"[a-zæøåé0-9]+", text.lower())
        return {stemmer.stemWord(w) for w in words if w not in STOPWORDS}

    for q in load_questions(SETS[name]):
        if q.kind != "paraphrase":
            continue
        for e in q.expected:
            for text in _matching_texts(name, Question(q.question, q.kind, (e,))):
                shared = stems(q.question) & stems(text)
                assert not shared, f"{q.question!r} shares {sorted(shared)} with {e}"


def _all_minutes() -> list[Path]:
    # The whole corpus folder, the byråd agenda included, and the demo minutes: a runner may index all of it.
    paths = [p for p in sorted(CORPUS.rglob("*")) if p.suffix in (".txt", ".html")]
    return paths + sorted(DEMO_MINUTES.glob("*.txt"))


@pytest.mark.skipif(not CORPUS.exists(), reason="real minutes not on this machine")
def test_refusal_topics_are_absent_from_every_file() -> None:
    refusals = [q for path in SETS.values() for q in load_questions(path) if q.must_refuse]
    texts = {p.name: normalise_text(p.read_text(encoding="utf-8", errors="replace")) for p in _all_minutes()}
    assert len(texts) >= 10
    for q in refusals:
        assert q.absent, f"{q.question!r} names no absent topic"
        for word in q.absent:
            for name, text in texts.items():
                assert normalise_text(word) not in text, f"{word!r} ({q.question!r}) appears in {name}"


@needs_corpus
def test_refusal_dates_are_no_meeting_date() -> None:
    from ingest.parse import parse_date

    dates = {m.meeting_date for _, m in _meetings_cached()}  # type: ignore[attr-defined]
    dated = 0
    for path in SETS.values():
        for q in load_questions(path):
            when = parse_date(q.question)
            if q.must_refuse and when is not None:
                dated += 1
                assert when not in dates, q.question
    assert dated >= 4
