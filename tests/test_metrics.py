"""Retrieval metrics against numbers worked out by hand, and the report written from a hand-made result."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from eval.metrics import Ranking, Summary, hit_at_k, mean, ndcg_at_k, percentile, reciprocal_rank, summarize
from eval.report import AnswerFigures, EvalResult, ModeResult, Worst, to_json, write_report

T, F = True, False
# Discounts by rank, worked out once: 1/log2(1+1) = 1, 1/log2(3) = 0.630930, 1/log2(4) = 0.5, 1/log2(5) = 0.430677
D1, D2, D3, D4 = 1.0, 0.6309297535714575, 0.5, 0.43067655807339306


def test_hit_at_k() -> None:
    assert hit_at_k([F, T, F], 1) == 0.0  # first hit is at rank 2
    assert hit_at_k([F, T, F], 2) == 1.0
    assert hit_at_k([F, T, F], 3) == 1.0
    assert hit_at_k([F, F], 5) == 0.0  # k beyond the list is fine
    assert hit_at_k([], 3) == 0.0
    with pytest.raises(ValueError):
        hit_at_k([T], 0)


def test_reciprocal_rank() -> None:
    assert reciprocal_rank([T, F]) == 1.0
    assert reciprocal_rank([F, F, T]) == pytest.approx(1 / 3)  # first hit at rank 3
    assert reciprocal_rank([F, T, T]) == 0.5  # only the first hit counts
    assert reciprocal_rank([F, F]) == 0.0
    assert reciprocal_rank([]) == 0.0


def test_ndcg_two_relevant() -> None:
    # Hits at ranks 2 and 4: DCG = 0.630930 + 0.430677 = 1.061606.
    # Ideal puts both first: IDCG = 1 + 0.630930 = 1.630930.  nDCG = 1.061606 / 1.630930 = 0.650921.
    assert ndcg_at_k([F, T, F, T], 2, 10) == pytest.approx(0.650921, abs=1e-6)
    assert (D2 + D4) / (D1 + D2) == pytest.approx(0.650921, abs=1e-6)


def test_ndcg_single_relevant() -> None:
    assert ndcg_at_k([T, F, F], 1, 3) == 1.0
    # One relevant item at rank 3: DCG = 1/log2(4) = 0.5, IDCG = 1.
    assert ndcg_at_k([F, F, T], 1, 3) == pytest.approx(D3)
    # ... but cut off at k = 2 it is not seen.
    assert ndcg_at_k([F, F, T], 1, 2) == 0.0


def test_ndcg_ideal_is_capped_at_k() -> None:
    # Five relevant items but k = 2: the ideal is two hits, so two hits are perfect.
    assert ndcg_at_k([T, T, F], 5, 2) == 1.0
    # Hit at rank 1 only, three relevant, k = 2: DCG = 1, IDCG = 1 + 0.630930 -> 0.613147.
    assert ndcg_at_k([T, F], 3, 2) == pytest.approx(1 / (D1 + D2))
    assert 1 / (D1 + D2) == pytest.approx(0.613147, abs=1e-6)


def test_ndcg_edge_cases() -> None:
    assert ndcg_at_k([F, F], 0, 10) == 0.0  # nothing to find
    assert ndcg_at_k([], 2, 10) == 0.0
    with pytest.raises(ValueError, match="dedupe"):
        ndcg_at_k([T, T], 1, 10)  # two hits but only one relevant item: a repeated item
    with pytest.raises(ValueError):
        ndcg_at_k([T], 1, 0)


def test_mean() -> None:
    assert mean([1.0, 2.0, 4.0]) == pytest.approx(7 / 3)
    assert mean(x for x in [0.5]) == 0.5
    with pytest.raises(ValueError):
        mean([])


def test_percentile_by_hand() -> None:
    # [1, 2, 3, 4], p50: rank = 0.5 * 3 = 1.5 -> halfway between 2 and 3 = 2.5.
    assert percentile([1, 2, 3, 4], 50) == 2.5
    # [10..50], p95: rank = 0.95 * 4 = 3.8 -> 40 + 0.8 * (50 - 40) = 48.
    assert percentile([50, 10, 40, 20, 30], 95) == pytest.approx(48.0)
    # [0.8, 1.2, 3.0], p95: rank = 0.95 * 2 = 1.9 -> 1.2 + 0.9 * (3.0 - 1.2) = 2.82.
    assert percentile([3.0, 0.8, 1.2], 95) == pytest.approx(2.82)
    assert percentile([3, 1, 2], 0) == 1
    assert percentile([3, 1, 2], 100) == 3
    assert percentile([7.5], 95) == 7.5
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_percentile_agrees_with_numpy() -> None:
    rng = random.Random(7)
    for _ in range(50):
        values = [rng.uniform(0, 10) for _ in range(rng.randint(1, 30))]
        p = rng.uniform(0, 100)
        assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_summarize_by_hand() -> None:
    rankings = [
        Ranking([T, F, F], 1),  # hit1 1, hit3 1, RR 1,   nDCG 1
        Ranking([F, F, T, F], 2),  # hit1 0, hit3 1, RR 1/3, nDCG 0.5 / 1.630930 = 0.306574
        Ranking([F, F, F, F], 1),  # all 0
        Ranking([F, F], 0),  # unanswerable: skipped
    ]
    s = summarize(rankings)
    assert s.n == 3
    assert s.hit1 == pytest.approx(1 / 3)
    assert s.hit3 == pytest.approx(2 / 3)
    assert s.mrr == pytest.approx((1 + 1 / 3) / 3)  # 4/9 = 0.444444
    assert s.ndcg10 == pytest.approx((1 + 0.306574) / 3, abs=1e-6)  # 0.435525
    # Plain (flags, n_relevant) tuples work as well as Ranking.
    assert summarize([([T], 1)]) == Summary(hit1=1.0, hit3=1.0, mrr=1.0, ndcg10=1.0, n=1)


def test_summarize_nothing_answerable() -> None:
    s = summarize([([F], 0)])
    assert s.n == 0
    assert all(math.isnan(x) for x in (s.hit1, s.hit3, s.mrr, s.ndcg10))


# --------------------------------------------------------------------------- report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _result(answers: AnswerFigures | None) -> EvalResult:
    nan = float("nan")
    dense = Summary(hit1=0.5, hit3=0.75, mrr=0.6, ndcg10=0.6812, n=4)
    lexical = Summary(hit1=0.25, hit3=0.5, mrr=0.375, ndcg10=0.4321, n=4)
    hybrid = Summary(hit1=0.75, hit3=1.0, mrr=0.875, ndcg10=0.9123, n=4)
    empty = Summary(hit1=nan, hit3=nan, mrr=nan, ndcg10=nan, n=0)
    return EvalResult(
        dataset="eval/questions/real.jsonl",
        index_desc="2 møder, 15 punkter, multilingual-e5-small",
        modes=(
            ModeResult("dense", dense, {"fact": dense, "paraphrase": Summary(0.0, 0.5, 0.25, 0.3, 2), "unanswerable": empty}),
            ModeResult("lexical", lexical, {"fact": lexical, "paraphrase": Summary(0.0, 0.0, 0.1, 0.05, 2), "unanswerable": empty}),
            ModeResult("hybrid", hybrid, {"fact": hybrid, "paraphrase": Summary(0.5, 1.0, 0.75, 0.8, 2), "unanswerable": empty}),
        ),
        worst=(Worst("Hvad med | rør?", "paraphrase", "2.2 (it-arkitekturraadet)", "2.5 | 2.7"),),
        answers=answers,
        command="python -m eval.run eval/questions/real.jsonl --out rapport",
    )


def test_write_report(tmp_path: Path) -> None:
    answers = AnswerFigures(
        citation_valid_share=0.9, refusal_rate_unanswerable=0.875, false_refusal_rate=0.05,
        n_answerable=20, n_unanswerable=8, latency_p50_s=1.24, latency_p95_s=3.51,
    )
    out = tmp_path / "rapport"
    path = write_report(_result(answers), out)
    assert path == out / "report.md"
    text = path.read_text(encoding="utf-8")
    pngs = sorted(out.glob("*.png"))
    assert [p.name for p in pngs] == ["kinds.png", "modes.png"]
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_MAGIC
        assert f"]({png.name})" in text  # the Markdown links each chart
    assert text.index("python -m eval.run eval/questions/real.jsonl --out rapport") < text.index("## Genfinding")
    for heading in ("## Genfinding pr. tilstand", "## Pr. spørgsmålstype", "## Svar", "## Dårligste spørgsmål"):
        assert heading in text
    # Decimal comma, two places: dense row, hybrid nDCG, per-kind "hit@3 / MRR".
    assert "| semantisk (dense) | 0,50 | 0,75 | 0,60 | 0,68 | 4 |" in text
    assert "0,91" in text
    assert "1,00 / 0,75" in text
    assert "| omskrevet | 0,50 / 0,25 | 0,00 / 0,10 | 1,00 / 0,75 | 2 |" in text
    assert "| ubesvarbart |" not in text  # no answerable questions of that kind: nothing to rank
    assert "nan" not in text
    assert "90 %" in text and "88 %" in text and "5 %" in text
    assert "1,2 s" in text and "3,5 s" in text
    assert "Hvad med \\| rør?" in text  # a pipe in a cell is escaped


def test_write_report_without_answers(tmp_path: Path) -> None:
    text = write_report(_result(None), tmp_path).read_text(encoding="utf-8")
    assert "Svar blev ikke genereret" in text


def test_to_json_stable_keys() -> None:
    data = to_json(_result(None))
    assert list(data) == ["dataset", "index", "command", "modes", "worst", "answers"]
    assert list(data["modes"]) == ["dense", "lexical", "hybrid"]
    assert data["modes"]["hybrid"]["mrr"] == 0.875
    assert data["modes"]["dense"]["per_kind"]["unanswerable"]["hit1"] is None  # NaN -> null
    assert data["answers"] is None
    json.dumps(data, allow_nan=False)  # valid JSON, no NaN
