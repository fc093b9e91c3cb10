"""Rådgiver's ranking against the 60-line baseline of issue 11, per question kind, dev and test apart.

The baseline is what a short script does with the same model: each agenda item cut into 700-character
chunks, BM25 over them with the Danish Snowball stemmer (bm25s), the same e5 vectors, plain reciprocal
rank fusion (k = 60), and each item ranked by its best chunk. It gets Rådgiver's items (the parser's
split), so the comparison measures the ranking alone: a regex item split could only lose more.

    python -m eval.baseline --db real=/tmp/realdb --db demo=.demo-db --split test --out docs/eval/baseline-test.md

``--db NAME=FOLDER`` pairs an index with the question set NAME (real, demo).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.dataset import Question
from eval.run import ItemRef, item_ref, relevant, sweep_sets
from index.fuse import reciprocal_rank_fusion
from index.embed import load_embedder
from index.store import Index

CHUNK_CHARS = 700
RRF_K = 60
DEPTH = 50  # chunks taken from each side before fusion


@dataclass(frozen=True)
class Baseline:
    """The 60-line script's index: 700-character chunks of each item, BM25 and e5 vectors over them."""

    items: tuple[ItemRef, ...]
    chunk_item: tuple[int, ...]  # chunk position -> item position
    vectors: np.ndarray
    bm25: object
    tokenize: Callable[[str], list[list[str]]]

    def ranked(self, index: Index, question: str, k: int = 10) -> list[ItemRef]:
        """The ``k`` best items: RRF of the BM25 and cosine rankings of the chunks, best chunk per item."""
        qvec = index.query_vector(question)
        dense = list(np.argsort(-(self.vectors @ qvec))[:DEPTH])
        docs, scores = self.bm25.retrieve(self.tokenize(question), k=min(DEPTH, len(self.chunk_item)),  # type: ignore[attr-defined]
                                          show_progress=False)
        lexical = [int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]
        fused = reciprocal_rank_fusion([[int(p) for p in dense], lexical], k=RRF_K)
        out: list[int] = []
        for pos, _ in fused:
            if self.chunk_item[pos] not in out:
                out.append(self.chunk_item[pos])
        return [self.items[i] for i in out[:k]]


def build_baseline(index: Index) -> Baseline:
    """The baseline over the items of ``index``, embedded with the index's own model."""
    import bm25s  # type: ignore[import-untyped]
    import Stemmer  # type: ignore[import-not-found]
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    assert index.embedder is not None, "the baseline needs the index's embedding model"
    committed = index.manifest.committed()
    stored = [i for i in index.store.get_items() if committed.get(i.source) == i.content_hash]
    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_CHARS, chunk_overlap=0)
    texts: list[str] = []
    chunk_item: list[int] = []
    for n, item in enumerate(stored):
        for piece in splitter.split_text(f"{item.section} {item.title}\n{item.text}"):
            texts.append(piece)
            chunk_item.append(n)
    stemmer = Stemmer.Stemmer("danish")

    def tokenize(text: str | list[str]) -> list[list[str]]:
        return bm25s.tokenize(text, stopwords="da", stemmer=stemmer, return_ids=False, show_progress=False)

    bm25 = bm25s.BM25()
    bm25.index(tokenize(texts), show_progress=False)
    items = tuple(ItemRef(i.council, i.meeting_date, i.section, i.case_number, i.source) for i in stored)
    return Baseline(items, tuple(chunk_item), index.embedder.embed(texts, "passage"), bm25, tokenize)


@dataclass(frozen=True)
class Ranks:
    """The rank of each question's first relevant item (0: not in the first 10), per system."""

    kind: str
    question: str
    baseline: int
    raadgiver: int


def first_relevant(q: Question, refs: Sequence[ItemRef]) -> int:
    return next((i + 1 for i, r in enumerate(refs) if relevant(q, r)), 0)


def compare(index: Index, questions: Sequence[Question]) -> list[Ranks]:
    """Both systems' ranks for every answerable question."""
    base = build_baseline(index)
    out = []
    for q in questions:
        if q.must_refuse or not q.expected:
            continue
        ours = [item_ref(h) for h in index.search(q.question, k=10, mode="hybrid")]
        out.append(Ranks(q.kind, q.question, first_relevant(q, base.ranked(index, q.question)), first_relevant(q, ours)))
    return out


def figures(ranks: Sequence[int]) -> tuple[float, float]:
    r = np.array(ranks)
    return float(np.mean(r == 1)), float(np.mean((r >= 1) & (r <= 3)))


def report(per_set: dict[str, list[Ranks]], split: str) -> str:
    """A Markdown table: hit@1 and hit@3 per kind and set, baseline against Rådgiver."""
    lines = [f"# Rådgiver mod grundlinjen (issue 11), {split}", "",
             "hit@1 / hit@3; grundlinjen: 700-tegns stykker, BM25 (dansk Snowball), samme e5-vektorer, RRF k=60.", "",
             "| sæt | type | spørgsmål | grundlinje | Rådgiver | forskel hit@1 |", "|---|---|---:|---:|---:|---:|"]
    every: list[Ranks] = []
    for name, rows in per_set.items():
        every += rows
        for kind in sorted({r.kind for r in rows}) + ["alle"]:
            sel = [r for r in rows if kind in ("alle", r.kind)]
            b, o = figures([r.baseline for r in sel]), figures([r.raadgiver for r in sel])
            lines.append(f"| {name} | {kind} | {len(sel)} | {b[0]:.2f} / {b[1]:.2f} | {o[0]:.2f} / {o[1]:.2f} "
                         f"| {o[0] - b[0]:+.2f} |")
    b, o = figures([r.baseline for r in every]), figures([r.raadgiver for r in every])
    lines += [f"| alle sæt | alle | {len(every)} | {b[0]:.2f} / {b[1]:.2f} | {o[0]:.2f} / {o[1]:.2f} "
              f"| {o[0] - b[0]:+.2f} |", "", "## Hvor de er uenige om hit@1", "",
              "| sæt | type | spørgsmål | grundlinje | Rådgiver |", "|---|---|---|---:|---:|"]
    for name, rows in per_set.items():
        for r in rows:
            if (r.baseline == 1) != (r.raadgiver == 1):
                lines.append(f"| {name} | {r.kind} | {r.question} | {r.baseline or '>10'} | {r.raadgiver or '>10'} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", action="append", required=True, metavar="NAME=FOLDER")
    ap.add_argument("--split", choices=("dev", "test"), required=True)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    per_set = {name: compare(index, questions)
               for name, index, questions in sweep_sets(args.db, args.split, load_embedder(None))}
    text = report(per_set, args.split)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
