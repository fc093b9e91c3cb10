"""Centring and whitening of the e5 vectors, swept on one half of the question sets: hit@1/hit@3.

    python -m eval.whitening --split dev --db real=/tmp/realdb --db demo=.demo-db [--out docs/eval/whitening-dev.md]

e5's vectors share a large common direction (every cosine between Danish texts is 0.75-0.90). Centring
subtracts ``alpha`` times the mean of the index's sentence vectors from every vector (query, passage,
sentence); whitening also scales the directions of the index's sentence covariance by
1 / sqrt(eigenvalue + lambda * mean eigenvalue) (BERT-whitening, Su et al. 2021, with shrinkage). Vectors
are re-normalised and the hubness recomputed; every answerable question of the half is then searched
(dense and hybrid, with the case-number and section routing, as ``raadgiver eval``). Nothing in the
product uses this: it lost on dev (docs/eval/whitening-dev.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import index.store as store
from eval.run import evaluate, sweep_sets
from index.embed import load_embedder

# (lambda, alpha): lambda None centres only; (None, 0) is the product as it is.
CONFIGS: tuple[tuple[float | None, float], ...] = (
    (None, 0.0), (None, 0.5), (None, 1.0), (10.0, 1.0), (3.0, 1.0), (1.0, 1.0), (0.3, 1.0), (0.1, 1.0))


def whitener(stats: np.ndarray, lam: float | None, alpha: float) -> Callable[[np.ndarray], np.ndarray]:
    """x -> (x - alpha * mean) @ W, unit length; W the shrunk inverse square root of the covariance of
    ``stats`` (rows are vectors), or the identity when ``lam`` is None."""
    mu = stats.mean(axis=0)
    if lam is None:
        w = np.eye(stats.shape[1], dtype=np.float64)
    else:
        values, vectors = np.linalg.eigh(np.cov((stats - mu).T))
        values = np.clip(values, 0.0, None)
        w = (vectors / np.sqrt(values + lam * values.mean())) @ vectors.T

    def apply(x: np.ndarray) -> np.ndarray:
        y = (np.asarray(x, dtype=np.float64) - alpha * mu) @ w
        return (y / np.linalg.norm(y, axis=-1, keepdims=True)).astype(np.float32)

    return apply


class _Transformed:
    """An embedder whose vectors pass through ``f`` (queries and passages alike)."""

    def __init__(self, inner: Any, f: Callable[[np.ndarray], np.ndarray]) -> None:
        self.inner, self.f = inner, f
        self.dimension, self.name = inner.dimension, inner.name

    def embed(self, texts: Sequence[str], kind: Any) -> np.ndarray:
        return self.f(self.inner.embed(texts, kind))


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=("dev", "test"), required=True)
    ap.add_argument("--db", action="append", required=True, help="NAME=MAPPE, f.eks. real=/tmp/realdb")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    embedder = load_embedder(None)
    sets = []
    for (name, ix, qs), spec in zip(sweep_sets(args.db, args.split, embedder), args.db):
        folder = spec.split("=", 1)[1]
        d = ix.derived()
        if d.vectors is None or d.sentence_vectors is None or d.row_items is None or d.sentence_bounds is None:
            raise SystemExit(f"{folder}: indekset har ingen sætningsvektorer; byg det igen med ingest --rebuild")
        sets.append((name, ix, qs, np.array(d.vectors), np.array(d.sentence_vectors)))
    names = " | ".join(f"{n} dense | {n} hybrid | {n} omskrevet" for n, *_ in sets)
    lines = [f"# Centrering og whitening af vektorerne, {args.split}-halvdelen", "",
             "hit@1 / hit@3; omskrevet: hybrid hit@1 / hit@3. λ – og α 0 er Rådgiver, som den er.", "",
             f"Genskabes med `python -m eval.whitening --split {args.split} "
             + " ".join(f"--db {spec}" for spec in args.db) + "`.", "",
             f"| λ | α | {names} |", "|---|---:|" + "---:|" * (3 * len(sets))]
    for lam, alpha in CONFIGS:
        cells = []
        for name, ix, qs, passages, sentences in sets:
            f = whitener(sentences, lam, alpha)
            d = ix.derived()
            nv, ns = f(passages), f(sentences)
            object.__setattr__(d, "vectors", nv)
            object.__setattr__(d, "sentence_vectors", ns)
            assert d.row_items is not None and d.sentence_bounds is not None  # checked when opened
            object.__setattr__(d, "hub", store._hub(nv, d.row_items, ns, d.sentence_bounds))
            ix._qcache.clear()
            ix._scache.clear()
            ix.embedder = _Transformed(embedder, f)
            dense, hybrid = evaluate(ix, qs, name, modes=("dense", "hybrid"), answers=False).modes
            para = hybrid.per_kind.get("paraphrase")
            cells += [f"{dense.summary.hit1:.2f} / {dense.summary.hit3:.2f}",
                      f"{hybrid.summary.hit1:.2f} / {hybrid.summary.hit3:.2f}",
                      f"{para.hit1:.2f} / {para.hit3:.2f}" if para else "–"]
        lines.append(f"| {'–' if lam is None else f'{lam:g}'} | {alpha:g} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
