"""The forgiving lexical options and the fusion choice inside a real index (chromadb in tmp_path, real BM25)."""

from __future__ import annotations

import re

from collections.abc import Iterator
from pathlib import Path

import pytest

import index.store as store
from index.build import ingest_paths
from index.fuse import AdaptiveFusion
from index.lexical import LexicalOptions
from index.store import Index, open_index
from tests.badfiles import miljo_text
from tests.conftest import REPO, needs_real

OFF = LexicalOptions(fold=False, fuzzy=False, compound=False)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, hash_embedder: object) -> Path:
    root = tmp_path_factory.mktemp("lexstore")
    (root / "miljo.txt").write_text(miljo_text(council="Miljøudvalget"), encoding="utf-8")
    with open_index(root / "db", hash_embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
        assert [r.status for r in ingest_paths(ix, [root / "miljo.txt"])] == ["ny"]
    return root / "db"


@pytest.fixture
def index(db: Path, hash_embedder: object) -> Iterator[Index]:
    with open_index(db, hash_embedder) as ix:  # type: ignore[arg-type]
        yield ix


def _titles(ix: Index, query: str, mode: str = "lexical") -> list[str]:
    return [h.chunk.title for h in ix.search(query, k=3, mode=mode)]  # type: ignore[arg-type]


def test_typed_as_people_type_and_found_by_default(index: Index) -> None:
    assert _titles(index, "cykelstier langs aavej")[0] == "Cykelstier langs Åvej"
    assert _titles(index, "vinterbekaempelse paa stierne")[0] == "Vinterbekæmpelse på stierne"
    assert _titles(index, "madaffaldet kompostbeholdere")[0] == "Ny ordning for madaffald"  # exact still exact
    assert _titles(index, "kompostbeholdre")[0] == "Ny ordning for madaffald"  # a typo, fuzzy
    assert _titles(index, "kompost beholdere")[0] == "Ny ordning for madaffald"  # a split compound
    index.lexical_options = OFF
    assert "Cykelstier langs Åvej" not in _titles(index, "aavej")
    assert _titles(index, "kompostbeholdre") == []


def test_saved_bm25_is_keyed_by_folding_and_tokenizer_version(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    folded = index._lexical_folder()
    index.lexical_options = LexicalOptions(fuzzy=False, compound=False)
    assert index._lexical_folder() == folded  # query-side options do not change the saved index
    index.lexical_options = OFF
    assert index._lexical_folder() != folded
    index.lexical_options = LexicalOptions()
    monkeypatch.setattr(store, "TOKENIZER_VERSION", store.TOKENIZER_VERSION + 1)
    assert index._lexical_folder() != folded
    # Switching back and forth rebuilds or reloads: the folded spelling is found again.
    assert _titles(index, "aavej")[0] == "Cykelstier langs Åvej"


def test_adaptive_fusion_lifts_the_lexical_side_for_a_name(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    import index.store as store

    monkeypatch.setattr(store, "SENTENCE_WEIGHT", 0.0)  # the fusion alone: score = cosine + lexical part
    monkeypatch.setattr(store, "HUB_WEIGHT", 0.0)
    index.fusion = AdaptiveFusion(base=0.01, name_gain=0.49, cap=1.0)
    top = index.search("Sand ved Fjordparken", k=3, mode="hybrid")[0]
    # A capitalised word inside the question: weight 0.01 + 0.49; the best BM25 passage gets all of it.
    assert top.chunk.title == "Vinterbekæmpelse på stierne"
    assert top.score - top.similarity == pytest.approx(0.5, abs=1e-6)
    low = index.search("sand ved fjordparken", k=3, mode="hybrid")  # no name: the base weight only
    best = next(h for h in low if h.chunk.title == "Vinterbekæmpelse på stierne")
    assert best.score - best.similarity == pytest.approx(0.01, abs=1e-6)


def test_rank_fusion_can_still_be_chosen(index: Index) -> None:
    index.fusion = "rrf"
    hits = index.search("madaffald", k=3, mode="hybrid")
    assert hits[0].chunk.title == "Ny ordning for madaffald"
    assert hits[0].score == pytest.approx(2 / 61)  # first in both rankings: 1/61 + 1/61


def test_variant_script_reads_splits_leniently(tmp_path: Path) -> None:
    from eval.lexical_variants import load_lenient

    f = tmp_path / "q.jsonl"
    f.write_text("\n".join([
        '{"question": "a?", "kind": "typo", "split": "dev", "expected": [{"section": "2.2"}], "written": "x"}',
        '{"question": "b?", "kind": "person", "split": "test", "expected": [{"section": "1", "meeting_date": "2025-10-01"}]}',
        '{"question": "c?", "kind": "fact", "expected": [{"section": "3"}]}',
        '{"question": "d?", "kind": "unanswerable", "split": "dev", "expected": []}',
    ]), encoding="utf-8")
    assert [(q.question, q.kind) for q in load_lenient(f, "dev")] == [("a?", "typo"), ("c?", "fact")]
    assert [q.question for q in load_lenient(f, "test")] == ["b?", "c?"]
    assert [q.question for q in load_lenient(f, None)] == ["a?", "b?", "c?"]
    assert str(load_lenient(f, "test")[0].expected[0].meeting_date) == "2025-10-01"


@needs_real
def test_variant_script_end_to_end_with_the_hash_embedder(tmp_path: Path) -> None:
    from eval.lexical_variants import main

    out = tmp_path / "lex.md"
    main(["--questions", str(REPO / "eval/questions/real.jsonl"),
          "--model", "hash", "--only", "1,5,6,9", "--db", str(tmp_path / "db"), "--out", str(out)])
    text = out.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| grundlinje") or line.startswith("| alle tre")]
    # baseline and all three in both modes, RRF and one adaptive setting in hybrid: six rows.
    assert len(rows) == 6 and "| case_number |" in text and "paraphrase" in text
    from eval.lexical_variants import load_lenient

    answerable = [q for q in load_lenient(REPO / "eval/questions/real.jsonl", None) if q.expected]
    n = re.search(r"(\d+) besvarbare spørgsmål", text)
    assert n and 0.9 * len(answerable) <= int(n.group(1)) <= len(answerable)
