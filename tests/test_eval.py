"""The quality gate on the real minutes, and `raadgiver eval` / `raadgiver bench` end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.baseline import compare, figures
from eval.dataset import load_questions
from eval.run import QUESTION_SETS, evaluate, split_of
from index.build import ingest_paths
from index.store import open_index
from index.when import time_span
from tests.conftest import AARHUS_TU, IT_ARK, REPO, Raadgiver, needs_real

DEMO = Path(__file__).resolve().parents[1] / "demo" / "minutes"

# The level reached on the TEST half of the real-minutes set (eval/questions/real.jsonl, split "test"),
# with the default model, after every rule and weight was chosen on the dev half; README "Kvalitet"
# has the dev and test figures side by side. A change that loses questions on the unseen half fails.
GATE_HYBRID_HIT1 = 0.88  # measured 0.90 (60 of 67; one question is 1.5 points)
GATE_HYBRID_HIT3 = 0.92  # measured 0.94
GATE_FACT_HIT1 = 1.0
GATE_REFUSED = 0.93  # must-refuse questions refused; measured 1.00 of 16 (0.93 before the general-rarity weighting)
GATE_FALSE_REFUSALS = 0.18  # answerable questions refused; measured 0.16, every one a paraphrase (one question is 1.5 points; target 0.10, not reached)
# Issue 11's 60-line baseline (eval/baseline.py) on the same items and vectors: measured hit@1 0.70 against
# Rådgiver's 0.90 on this half; its fact questions 0.93, so the comparison is with a baseline that works.
GATE_AHEAD_OF_BASELINE = 0.10
GATE_BASELINE_FACT_HIT1 = 0.85
GATE_ANSWER_RECALL = 0.65  # answers holding every must-contain fact; measured 0.69 (0.59 before two fact sentences, whole short decisions, announced lists, followers)


@needs_real
@pytest.mark.slow
def test_quality_gate_on_the_test_half_of_the_real_minutes(tmp_path: Path, real_embedder: Any) -> None:
    with open_index(tmp_path / "db", real_embedder, create=True, write=True) as index:
        results = ingest_paths(index, [IT_ARK, AARHUS_TU])
        assert [r.status for r in results] == ["ny", "ny"]
        questions = split_of(load_questions(QUESTION_SETS["real"]), "test")
        assert len(questions) >= 60 and {q.split for q in questions} == {"test"}
        result = evaluate(index, questions, dataset="real (test)", modes=("hybrid",))
        ranks = compare(index, questions)
    hybrid = result.modes[0]
    assert hybrid.summary.hit1 >= GATE_HYBRID_HIT1
    assert hybrid.summary.hit3 >= GATE_HYBRID_HIT3
    assert hybrid.per_kind["fact"].hit1 >= GATE_FACT_HIT1
    assert hybrid.per_kind["case_number"].hit1 == 1.0
    answers = result.answers
    assert answers is not None
    assert answers.citation_valid_share == 1.0  # every citation: a retrieved item, a verbatim quote
    assert answers.refusal_rate_unanswerable >= GATE_REFUSED
    assert answers.false_refusal_rate <= GATE_FALSE_REFUSALS
    assert answers.answer_recall >= GATE_ANSWER_RECALL
    # Ahead of the baseline overall, never behind it on case numbers, and the baseline itself finds facts.
    baseline, ours = figures([r.baseline for r in ranks]), figures([r.raadgiver for r in ranks])
    assert ours[0] == pytest.approx(hybrid.summary.hit1)  # the comparison ranks with the product's own search
    assert ours[0] >= baseline[0] + GATE_AHEAD_OF_BASELINE
    assert figures([r.baseline for r in ranks if r.kind == "fact"])[0] >= GATE_BASELINE_FACT_HIT1
    assert figures([r.raadgiver for r in ranks if r.kind == "case_number"])[0] >= \
        figures([r.baseline for r in ranks if r.kind == "case_number"])[0]


def test_eval_command_writes_report_charts_and_json(tmp_path: Path, raadgiver: Raadgiver) -> None:
    db = tmp_path / "db"
    assert raadgiver("ingest", DEMO, "--model", "hash", db=db).returncode == 0
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        "\n".join(json.dumps(q, ensure_ascii=False) for q in [
            {"question": "Hvad skete der i SAG-2025-00142?", "kind": "case_number",
             "expected": [{"case_number": "SAG-2025-00142"}]},
            {"question": "Hvad mente rådet om open source i 2024?", "kind": "fact",
             "expected": [{"council": "Fiktivt It-Arkitekturråd", "meeting_date": "2024-03-12", "section": "2.2"}]},
            {"question": "Hvad koster en ny svømmehal?", "kind": "unanswerable", "expected": []},
        ]),
        encoding="utf-8",
    )
    out = tmp_path / "report"
    r = raadgiver("eval", "--questions", questions, "--out", out, "--model", "hash", "--json", db=db)
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)["questions"]
    assert set(figures["modes"]) == {"dense", "lexical", "hybrid"}
    assert figures["modes"]["hybrid"]["per_kind"]["case_number"]["hit1"] == 1.0
    assert figures["answers"]["citation_valid_share"] == 1.0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Genfinding pr. tilstand" in report and "raadgiver eval" in report
    for png in ("modes.png", "kinds.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_question_file_is_a_danish_error(tmp_path: Path, raadgiver: Raadgiver) -> None:
    db = tmp_path / "db"
    raadgiver("ingest", DEMO / "fiktivt-raad-referat-01.txt", "--model", "hash", db=db)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "x", "kind": "vejret"}\n', encoding="utf-8")
    r = raadgiver("eval", "--questions", bad, "--model", "hash", db=db)
    assert r.returncode == 2 and "bad.jsonl" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_bench_measures_charts_and_resumes_a_kept_index(tmp_path: Path, raadgiver: Raadgiver) -> None:
    out, keep = tmp_path / "bench", tmp_path / "keep"
    r = raadgiver("bench", "--out", out, "--sizes", "60", "--model", "hash", "--keep-db", keep, timeout=600)
    assert r.returncode == 0, r.stderr
    small = json.loads(raadgiver("info", db=keep / "passager-60").stdout)
    assert small["counts"]["chunks"] >= 60
    # A larger size is grown from a copy of the smaller index; the smaller one is left as it was.
    r = raadgiver("bench", "--out", out, "--sizes", "60,120", "--model", "hash", "--keep-db", keep, timeout=600)
    assert r.returncode == 0, r.stderr
    again = json.loads(raadgiver("info", db=keep / "passager-60").stdout)
    assert again["generation"] == small["generation"]  # nothing re-embedded or re-written
    large = json.loads(raadgiver("info", db=keep / "passager-120").stdout)
    data = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    sizes = [p["passages"] for p in data["sizes"]]
    assert sizes == [small["counts"]["chunks"], large["counts"]["chunks"]] and sizes[1] >= 120
    added = large["generation"] - small["generation"]
    assert 0 < added < len(large["meetings"])  # only the new meetings were committed
    # The figures and charts of the run.
    assert data["reingest_embedded"] == 0  # unchanged meetings are not embedded again
    assert data["ingest_passages_per_s"] > 0 and data["ingest_to_raw_ratio"] > 0
    assert (out / "latency.png").read_bytes()[:4] == b"\x89PNG"
    assert "passager" in (out / "bench.md").read_text(encoding="utf-8")


def test_variant_study_scores_every_variant(tmp_path: Path) -> None:
    from eval.variants import Scorer, run_variants, to_markdown
    from index.embed import load_embedder
    from ingest.parse import parse_meeting
    from ingest.read import read_document

    meetings = [parse_meeting(read_document(p)) for p in sorted(DEMO.glob("*.txt"))]
    questions = [q for q in load_questions(REPO / "eval" / "questions" / "demo.jsonl") if q.expected]
    scorer = Scorer(load_embedder("hash"), meetings, questions)
    assert scorer.relevant.any(axis=1).all()  # every answerable question has its item in the corpus
    results = run_variants(scorer)
    assert len({r.name for r in results}) == len(results) >= 10
    for r in results:
        assert 0 <= r.hit1 <= r.hit3 <= 1 and r.hit1 <= r.mrr <= 1, r
    # The variant marked as Rådgiver's choice is what the index's dense search does: the same item first.
    chosen = [r for r in results if "(Rådgivers valg)" in r.name]
    assert len(chosen) == 1 and "bedste sætning" in chosen[0].name
    from index.store import HUB_WEIGHT, SENTENCE_WEIGHT, asked_section
    from ingest.chunk import ChunkSettings

    baseline = scorer.passages(ChunkSettings(), hub_weight=HUB_WEIGHT) + SENTENCE_WEIGHT * scorer.sentences()
    with open_index(tmp_path / "db", load_embedder("hash"), create=True, write=True) as ix:
        ingest_paths(ix, sorted(DEMO.glob("*.txt")))
        compared = 0
        for i, q in enumerate(questions):
            if ix.asked_case(q.question) or asked_section(q.question):
                continue  # the index answers these by direct lookup, the study does not
            if time_span(q.question) is not None:
                continue  # the index keeps to the period the question names, the study ranks every item
            top = ix.search(q.question, k=1, mode="dense")[0].chunk
            m, it = scorer.items[int(baseline[i].argmax())]
            assert (top.source, top.section) == (str(Path(m.source).resolve()), it.section), q.question
            compared += 1
    assert compared >= 20
    table = to_markdown(results, "hash-64", len(questions), len(scorer.items))
    assert table.count("\n| ") == len(results) + 1
