"""Lexical search (Danish BM25) and rank fusion, against numbers worked out by hand."""

from __future__ import annotations

import pytest

from index import fuse
from index.fuse import group_best, reciprocal_rank_fusion
from index.lexical import Bm25, tokenize


@pytest.mark.parametrize("token", ["sag-2025-03105", "emn-2025-003383", "24/1234", "2.7", "2.7.1"])
def test_case_and_section_numbers_stay_whole(token: str) -> None:
    assert token in tokenize(f"Se {token.upper()} om sagen")


def test_danish_stemming_and_letters() -> None:
    assert tokenize("kommunerne") == tokenize("kommunernes") == tokenize("kommune")
    assert tokenize("Ældreområdet")[0].startswith("ældreområd")
    assert tokenize("Øresund Åbyhøj")[0].startswith("øresund") and tokenize("Åbyhøj")[0].startswith("åbyhøj")
    assert tokenize("BØRN") == tokenize("børn")


def test_stop_words_dropped_and_hyphenated_words_split_too() -> None:
    assert tokenize("og i det at en den til") == []
    toks = tokenize("it-driftsenheder")
    assert tokenize("driftsenheder")[0] in toks and "it" in toks
    assert len(toks) == 3  # the whole word and its parts


def test_bm25_ranks_the_matching_document_first_and_only_positive() -> None:
    docs = [
        "Kommunernes fælles it-driftsenheder skal etableres regionalt.",
        "Budget for ældreområdet og hjemmeplejen.",
        "Sagen SAG-2025-02755 om driftsenheder blev drøftet.",
        "Cykelstier og vejvedligehold i kommunen.",
    ]
    bm = Bm25(docs)
    assert bm.search("SAG-2025-02755", 10) == [(2, pytest.approx(bm.search("SAG-2025-02755", 10)[0][1]))]
    hits = bm.search("driftsenheder", 10)
    assert {i for i, _ in hits} == {0, 2}
    assert all(s > 0 for _, s in hits)
    assert [i for i, _ in bm.search("hjemmeplejens budget", 2)][0] == 1
    assert bm.search("og i det", 5) == []  # stop words only: no query at all
    assert bm.search("fodbold", 5) == []


def test_bm25_empty_documents() -> None:
    bm = Bm25(["", "og", "Fjernvarme i Skejby"])
    assert bm.search("fjernvarme", 5)[0][0] == 2


def test_bm25_over_no_documents_finds_nothing() -> None:
    assert Bm25([]).search("noget", 5) == []


def test_rrf_worked_by_hand() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]], k=60))
    # a: rank 1 then rank 2 -> 1/61 + 1/62
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    # b: rank 2 then rank 1 -> 1/62 + 1/61, the same as a
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    # c: rank 3 in the first only -> 1/63 ; d: rank 3 in the second only -> 1/63
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 63)


def test_rrf_order_and_ties() -> None:
    ranked = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]], k=60)
    # a and b tie at 1/61 + 1/62 = 0.032522; the tie goes to the one seen first (a).
    # c and d tie at 1/63 = 0.015873; c was seen first.
    assert [key for key, _ in ranked] == ["a", "b", "c", "d"]
    assert ranked[0][1] == pytest.approx(0.0325224749)


def test_rrf_agreement_beats_a_single_first_place() -> None:
    # x: 1/61 = 0.016393 (first in one list only); y: 1/62 + 1/62 = 0.032258 (second in both)
    ranked = reciprocal_rank_fusion([["x", "y"], ["z", "y"]], k=60)
    assert ranked[0] == ("y", pytest.approx(2 / 62))
    assert dict(ranked)["x"] == pytest.approx(1 / 61)


def test_rrf_small_k_and_empty() -> None:
    # k=1: a = 1/2 + 1/3 = 0.8333, b = 1/3 + 1/2 = 0.8333, c = 1/4
    assert dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "a"]], k=1)) == pytest.approx(
        {"a": 5 / 6, "b": 5 / 6, "c": 0.25})
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []


def test_rrf_weights_worked_by_hand() -> None:
    if "weights" not in reciprocal_rank_fusion.__code__.co_varnames:
        pytest.skip("reciprocal_rank_fusion has no weights here")
    # weights 2 and 1: a = 2/61 + 1/62 = 0.048917, b = 2/62 + 1/61 = 0.048652, c = 2/63 = 0.031746
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a"]], k=60, weights=[2.0, 1.0])
    assert fused == [("a", pytest.approx(2 / 61 + 1 / 62)), ("b", pytest.approx(2 / 62 + 1 / 61)),
                     ("c", pytest.approx(2 / 63))]


def test_score_fusion_worked_by_hand() -> None:
    score_fusion = getattr(fuse, "score_fusion", None)
    if score_fusion is None:
        pytest.skip("no score_fusion in index/fuse.py here")
    dense = {"a": 0.80, "b": 0.70, "c": 0.75}
    lexical = {"b": 10.0, "c": 5.0}
    # BM25 is scaled to the best (10.0) and weighted 0.02:
    # a = 0.80 + 0 = 0.80 ; b = 0.70 + 0.02 * 10/10 = 0.72 ; c = 0.75 + 0.02 * 5/10 = 0.76
    assert score_fusion(dense, lexical, 0.02) == [
        ("a", pytest.approx(0.80)), ("c", pytest.approx(0.76)), ("b", pytest.approx(0.72))]
    # A big weight lets the lexical match win: b = 0.70 + 0.5 = 1.20, c = 0.75 + 0.25 = 1.00
    assert [key for key, _ in score_fusion(dense, lexical, 0.5)] == ["b", "c", "a"]
    # No lexical scores: the cosine order stands.
    assert score_fusion(dense, {}, 0.02) == [("a", 0.80), ("c", 0.75), ("b", 0.70)]


def test_group_best_keeps_the_best_passage_per_group() -> None:
    ranked = [("p3", 0.9), ("p1", 0.8), ("p4", 0.7), ("p2", 0.5), ("p5", 0.1)]
    groups = {"p1": "mødeA#2.1", "p2": "mødeA#2.1", "p3": "mødeB#1", "p4": "mødeB#1", "p5": "mødeA#2.2"}
    assert group_best(ranked, groups) == [
        ("mødeB#1", "p3", 0.9), ("mødeA#2.1", "p1", 0.8), ("mødeA#2.2", "p5", 0.1)]
    assert group_best([], {}) == []
