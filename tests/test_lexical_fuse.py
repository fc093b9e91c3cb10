"""Lexical search (Danish BM25) and rank fusion, against numbers worked out by hand."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

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


# --------------------------------------------------------------------------- forgiving matches

from index.fuse import AdaptiveFusion, QueryFeatures, adaptive_weight  # noqa: E402
from index.lexical import LexicalOptions, fold, fuzzy_distance, query_features, unmarked_spellings  # noqa: E402

OFF = LexicalOptions(fold=False, fuzzy=False, compound=False)
DOCS = [
    "Ældreområdet og hjemmeplejen i København.",
    "Kommunernes digitaliseringsstrategi blev vedtaget.",
    "Sprogmodeller i sagsbehandlingen på jobcentret.",
    "Busfremkommelighed og måltal for Skanderborgvej, SAG-2025-03105.",
]


def test_folding_is_one_way_to_ascii_digraphs_and_both_spellings_meet() -> None:
    assert fold("ældre øre år") == "aeldre oere aar"
    assert tokenize("Ældreområdet", folded=True) == tokenize("aeldreomraadet", folded=True) == ["aeldreomraad"]
    assert tokenize("København", folded=True) == tokenize("koebenhavn", folded=True)
    assert tokenize("på og når", folded=True) == []  # folded stop words are still stop words
    assert tokenize("SAG-2025-03105 om Ålborg", folded=True)[0] == "sag-2025-03105"


def test_folded_bm25_finds_either_spelling_and_the_unfolded_one_does_not() -> None:
    folded, plain = Bm25(DOCS, options=replace(OFF, fold=True)), Bm25(DOCS, options=OFF)
    for q in ("aeldreomraadet", "koebenhavn", "maaltal", "Ældreområdet"):
        assert folded.search(q, 2)[0][0] in (0, 3), q
    assert plain.search("aeldreomraadet", 2) == [] and plain.search("maaltal", 2) == []
    # Same document, same score: folding changes the spelling, not the statistics.
    assert folded.search("ældreområdet", 1) == folded.search("aeldreomraadet", 1)


def test_unmarked_spellings_of_a_folded_term() -> None:
    assert unmarked_spellings("raad") == {"rad"}  # rådet typed as "radet"
    assert unmarked_spellings("laert") == {"lart", "lert"}  # æ typed as a or e
    assert unmarked_spellings("oevels") == {"ovels"}
    # Each marked letter may lose its mark on its own: møde-øvelse typed three ways.
    assert unmarked_spellings("moedeoevels") == {"modeovels", "moedeovels", "modeoevels"}
    assert unmarked_spellings("open") == set()


def test_a_word_typed_without_the_marks_is_the_word_in_a_folded_index() -> None:
    folded = Bm25(DOCS, options=replace(OFF, fold=True))
    # "aldreomradet" (æ and å without marks), "kobenhavn", "maltal": each is its word, fully.
    assert folded.query_terms("aldreomradet") == [("aeldreomraad", 1.0)]
    assert folded.search("kobenhavn", 1) == folded.search("København", 1)
    assert folded.search("maltal", 1) == folded.search("måltal", 1)
    # A word the vocabulary holds as it is stays itself; without folding nothing is read into it.
    assert folded.unmarked("sprogmodel") == () and folded.unmarked("SAG-2025-03105".lower()) == ()
    assert Bm25(DOCS, options=OFF).unmarked("kobenhavn") == ()
    # Short words are left alone: "do" is English before it is "dø".
    assert Bm25(["Han skal dø.", "Det er på tide."], options=replace(OFF, fold=True)).unmarked("do") == ()


def test_fuzzy_distance_grows_with_the_word() -> None:
    assert [fuzzy_distance("x" * n) for n in (4, 5, 8, 9, 20)] == [0, 1, 1, 2, 2]


def test_fuzzy_match_counts_half_per_edit_of_an_exact_one() -> None:
    bm = Bm25(DOCS, options=replace(OFF, fuzzy=True))
    exact = bm.search("digitaliseringsstrategi", 1)
    # "digitaliseringstrategi" (one s missing): distance 1 -> weight 0.5 / 1 of the exact BM25 score.
    assert bm.query_terms("digitaliseringstrategi") == [("digitaliseringsstrategi", 0.5)]
    assert bm.search("digitaliseringstrategi", 1) == [(1, pytest.approx(0.5 * exact[0][1]))]
    # Two edits on a long word: weight 0.5 / 2 = 0.25.
    assert bm.query_terms("digitalisringstrategi") == [("digitaliseringsstrategi", 0.25)]
    # Short words and case numbers are never guessed at; without the option nothing is found.
    assert bm.query_terms("bux") == [] and bm.query_terms("SAG-2025-03106") == []
    assert Bm25(DOCS, options=OFF).search("digitaliseringstrategi", 1) == []


def test_split_query_words_find_the_compound_and_a_compound_finds_its_parts() -> None:
    bm = Bm25(DOCS, options=replace(OFF, compound=True))
    assert ("digitaliseringsstrategi", 1.0) in bm.query_terms("digitaliserings strategi")
    assert ("sprogmodel", 1.0) in bm.query_terms("sprog modeller")
    assert ("busfremkom", 1.0) in bm.query_terms("bus fremkommelighed")  # joined with no linking letter
    assert bm.search("kommunernes digitaliserings strategi", 1)[0][0] == 1
    assert Bm25(DOCS, options=OFF).search("digitaliserings strategi", 1) == []
    # The reverse: a compound the minutes never write, read as two words they do (linking -s- dropped).
    parts = Bm25(["Strategi for digitalisering", "Budget"], options=replace(OFF, compound=True))
    assert parts.query_terms("digitaliseringsstrategi") == [("digitalisering", 1.0), ("strategi", 1.0)]
    assert parts.search("digitaliseringsstrategi", 2)[0][0] == 0
    # A stop word between two words: no join across it.
    assert ("sprogmodel", 1.0) not in bm.query_terms("sprog og modeller")
    # The pairs themselves, as the refusal's word evidence uses them: each token and the compound.
    assert bm.joined_compounds("status på sprog modeller") == [("sprog", "model", "sprogmodel")]
    assert bm.joined_compounds("sprog og modeller") == []


def test_query_features_names_numbers_and_idf() -> None:
    assert query_features("Hvad sagde Bo Fristed om SAG-2025-03105?") == QueryFeatures(0.0, names=1, numbers=1)
    assert query_features("Hvad mente rådet om open source?") == QueryFeatures(0.0, 0, 0)
    assert query_features("Rådet besluttede. Derefter talte Anne om budget 2026") == QueryFeatures(0.0, 1, 1)
    bm = Bm25(["cykel sti", "cykel vej", "bus vej", "tog"], options=OFF)
    # N = 4; "tog" is in 1 document: log(4/1) / log 4 = 1.0; "cykel" in 2: log(4/2) / log 4 = 0.5.
    assert bm.features("tog").max_idf == pytest.approx(1.0)
    assert bm.features("cykel").max_idf == pytest.approx(0.5)
    assert bm.features("cykel tog").max_idf == pytest.approx(1.0)
    assert bm.features("fodbold").max_idf == 0.0  # no term in the index: nothing rare to trust
    # Coverage: the IDF share of the query's words that the best BM25 document holds.
    # "cykel sti": doc 0 holds both (0.5 + 1.0) / 1.5 = 1.0.
    assert bm.features("cykel sti").coverage == pytest.approx(1.0)
    # "cykel tog": the best document is "tog" (rarer, shorter): 1.0 / (0.5 + 1.0) = 2/3.
    assert bm.search("cykel tog", 1)[0][0] == 3
    assert bm.features("cykel tog").coverage == pytest.approx(2 / 3)
    # "cykel fodbold": a word not in the index counts as rare (1.0) and missing: 0.5 / (0.5 + 1.0) = 1/3.
    assert bm.features("cykel fodbold").coverage == pytest.approx(1 / 3)
    assert bm.features("fodbold").coverage == 0.0


def test_adaptive_weight_worked_by_hand() -> None:
    p = AdaptiveFusion(base=0.01, idf_gain=0.1, idf_floor=0.6, name_gain=0.03, number_gain=0.05, cap=0.1)
    # 0.01 + 0.1 * (0.9 - 0.6) + 0.03 = 0.07
    assert adaptive_weight(QueryFeatures(0.9, names=2, numbers=0), p) == pytest.approx(0.07)
    # 0.01 + 0.1 * 0.3 + 0.03 + 0.05 = 0.12, capped at 0.1
    assert adaptive_weight(QueryFeatures(0.9, names=1, numbers=1), p) == pytest.approx(0.1)
    # IDF under the floor lifts nothing: the plain-language question keeps the base weight.
    assert adaptive_weight(QueryFeatures(0.5, 0, 0), p) == pytest.approx(0.01)
    # Coverage 0.8 over a floor of 0.5 with gain 0.2: 0.01 + 0.2 * 0.3 = 0.07; under the floor nothing.
    c = AdaptiveFusion(base=0.01, coverage_gain=0.2, coverage_floor=0.5, cap=0.2)
    assert adaptive_weight(QueryFeatures(coverage=0.8), c) == pytest.approx(0.07)
    assert adaptive_weight(QueryFeatures(coverage=0.4), c) == pytest.approx(0.01)
    # The default parameters are today's fixed weight whatever the query.
    assert adaptive_weight(QueryFeatures(1.0, 3, 3, 1.0), AdaptiveFusion()) == pytest.approx(0.01)
    assert AdaptiveFusion().fixed and not c.fixed and not p.fixed


def test_index_side_split_adds_a_compounds_parts_when_both_are_words_of_the_index() -> None:
    docs = ["Kommunernes digitaliseringsstrategi", "Strategi for skoler", "Digitalisering i skolen"]
    split = Bm25(docs, options=replace(OFF, split_index=True))
    assert {i for i, _ in split.search("strategi", 3)} == {0, 1}
    assert {i for i, _ in split.search("digitalisering", 3)} == {0, 2}
    assert {i for i, _ in Bm25(docs, options=OFF).search("strategi", 3)} == {1}
    # A compound whose parts the index does not hold as words is left whole.
    assert Bm25(["Kommunernes digitaliseringsstrategi", "Budget"], options=replace(OFF, split_index=True)).search(
        "strategi", 2) == []
    assert replace(OFF, split_index=True).key() != OFF.key()


def test_a_saved_index_scores_as_bm25s_does_without_importing_it(tmp_path: Path) -> None:
    import numpy as np

    docs = [
        "Kommunernes fælles it-driftsenheder skal etableres regionalt.",
        "Budget for ældreområdet og hjemmeplejen i kommunen.",
        "Sagen SAG-2025-02755 om driftsenheder blev drøftet, og driftsenheder igen.",
        "Cykelstier og vejvedligehold i kommunen.",
        "",
    ]
    built = Bm25(docs)
    built.save(tmp_path)
    loaded = Bm25.load(tmp_path, len(docs))
    for query in ("driftsenheder", "kommunen budget", "SAG-2025-02755", "driftsenhedr", "fodbold"):
        assert loaded.search(query, 5) == built.search(query, 5), query
        assert loaded.features(query) == built.features(query), query
    terms = ["kommun", "driftsenhed", "ikke-i-ordforrådet"]
    assert np.array_equal(loaded._model.get_scores(terms), built._model.get_scores(terms))
    assert loaded.doc_freq("kommun") == built.doc_freq("kommun") == 3
    code = ("import sys; from pathlib import Path; from index.lexical import Bm25; "
            f"b = Bm25.load(Path({str(tmp_path)!r}), 5); b.search('driftsenheder', 3); "
            "print([m for m in ('bm25s', 'scipy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


def test_an_items_best_sentence_adds_to_each_of_its_passages() -> None:
    from index.fuse import with_item_best

    scores = [("a", 0.80), ("b", 0.78), ("c", 0.70)]
    # a: 0.80 + 0.5·0.60 = 1.10; b: 0.78 + 0.5·0.90 = 1.23; c (same item as b): 0.70 + 0.45 = 1.15
    got = with_item_best(scores, {"a": 0, "b": 1, "c": 1}, {0: 0.60, 1: 0.90}, 0.5)
    assert [k for k, _ in got] == ["b", "c", "a"]
    assert [v for _, v in got] == pytest.approx([1.23, 1.15, 1.10])
    # An item without sentence vectors counts the passage's own score: 0.5 + 0.5·0.5.
    assert with_item_best([("x", 0.5)], {"x": 7}, {}, 0.5) == [("x", 0.75)]
    assert with_item_best([("x", 0.5)], {"x": 7}, {}, 0.5, missing=0.0) == [("x", 0.5)]
    assert with_item_best(scores, {"a": 0, "b": 1, "c": 1}, {0: 0.6}, 0.0) == scores


def test_items_of_the_named_year_or_meeting_gain_the_time_weight() -> None:
    from datetime import date

    from index.fuse import with_time_focus
    from index.when import DateRef

    scores = [("a", 0.90), ("b", 0.85), ("c", 0.84), ("d", 0.79)]
    dates = {"a": date(2026, 3, 10), "b": date(2024, 3, 12), "c": None, "d": date(2024, 9, 10)}
    # b and d are from 2024: 0.85 + 0.1 = 0.95, 0.79 + 0.1 = 0.89; the undated c never matches.
    got = with_time_focus(scores, dates, [DateRef(2024)], 0.1)
    assert [k for k, _ in got] == ["b", "a", "d", "c"]
    assert [v for _, v in got] == pytest.approx([0.95, 0.90, 0.89, 0.84])
    # A day matches only that meeting; no focus or no weight leaves the ranking as it was.
    assert [k for k, _ in with_time_focus(scores, dates, [DateRef(2024, 9, 10)], 0.2)] == ["d", "a", "b", "c"]
    assert with_time_focus(scores, dates, [], 0.1) == scores
    assert with_time_focus(scores, dates, [DateRef(2024)], 0.0) == scores


def test_segment_max_takes_each_consecutive_segments_maximum() -> None:
    import numpy as np

    from index.fuse import segment_max

    assert segment_max(np.array([0.1, 0.5, 0.3, 0.9, 0.2]), [2, 1, 2]) == pytest.approx([0.5, 0.3, 0.9])
    assert segment_max(np.array([0.4]), [1]) == pytest.approx([0.4])
    assert segment_max(np.zeros(0), []) == []


def test_hubness_is_the_mean_of_a_passages_best_cosines_to_other_items_sentences() -> None:
    import numpy as np

    from index.fuse import hubness

    passages = np.array([[1.0, 0.0], [0.0, 1.0]])
    passage_items = np.array([0, 1])
    sentences = np.array([[1.0, 0.0], [0.6, 0.8], [0.8, 0.6], [0.0, 1.0]])
    sentence_items = np.array([0, 1, 2, 1])
    # p0 (item 0) against s1, s2, s3: 0.6, 0.8, 0.0 -> best two 0.8, 0.6 -> 0.7.
    # p1 (item 1) against s0, s2: 0.0, 0.6 -> 0.3 (its own item's 0.8 and 1.0 do not count).
    assert hubness(passages, passage_items, sentences, sentence_items, 2) == pytest.approx([0.7, 0.3])
    # k above what there is: the mean of what there is; blocks of one passage give the same.
    assert hubness(passages, passage_items, sentences, sentence_items, 5, block=1) == pytest.approx([1.4 / 3, 0.3])
    # One item alone has no neighbours: no hubness.
    assert hubness(passages[:1], passage_items[:1], sentences[:1], sentence_items[:1], 3) == pytest.approx([0.0])
    assert hubness(passages, passage_items, np.zeros((0, 2)), np.zeros(0, int), 3) == pytest.approx([0.0, 0.0])


def test_minus_hubness_lowers_a_hub_below_the_item_that_treats_the_theme() -> None:
    from index.fuse import minus_hubness

    # hub: 0.86 - 0.25·0.80 = 0.66; item: 0.84 - 0.25·0.40 = 0.74; no hubness known: 0.70.
    got = minus_hubness([("hub", 0.86), ("item", 0.84), ("other", 0.70)], {"hub": 0.80, "item": 0.40}, 0.25)
    assert [k for k, _ in got] == ["item", "other", "hub"]
    assert [v for _, v in got] == pytest.approx([0.74, 0.70, 0.66])
    assert minus_hubness([("a", 0.5), ("b", 0.4)], {"a": 1.0}, 0.0) == [("a", 0.5), ("b", 0.4)]
