"""Retrieval metrics as pure functions over ranked relevance flags (True = relevant item at that rank)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def hit_at_k(ranked_relevance: Sequence[bool], k: int) -> float:
    """1.0 if a relevant item is among the first k, else 0.0."""
    _check_k(k)
    return 1.0 if any(ranked_relevance[:k]) else 0.0


def reciprocal_rank(ranked_relevance: Sequence[bool]) -> float:
    """1/rank of the first relevant item, 0.0 if none is retrieved."""
    for i, relevant in enumerate(ranked_relevance):
        if relevant:
            return 1.0 / (i + 1)
    return 0.0


def ndcg_at_k(ranked_relevance: Sequence[bool], n_relevant: int, k: int) -> float:
    """Binary-gain nDCG@k with a log2(rank+1) discount; the ideal ranks min(n_relevant, k) hits first."""
    _check_k(k)
    top = ranked_relevance[:k]
    if sum(top) > n_relevant:
        # More hits than relevant items means the ranking repeats an item (e.g. two chunks of one
        # agenda item); nDCG would exceed 1. The caller must rank distinct items.
        raise ValueError(f"{sum(top)} relevant results in the top {k} but n_relevant={n_relevant}; dedupe items first")
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(n_relevant, k)))
    if ideal == 0.0:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, relevant in enumerate(top) if relevant)
    return dcg / ideal


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean; raises ValueError on no values rather than inventing one."""
    vals = list(values)
    if not vals:
        raise ValueError("mean of no values")
    return math.fsum(vals) / len(vals)


def percentile(values: Iterable[float], p: float) -> float:
    """The p-th percentile (0–100) with linear interpolation between order statistics (numpy's default)."""
    vals = sorted(values)
    if not vals:
        raise ValueError("percentile of no values")
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"p must be within 0..100, got {p}")
    rank = p / 100.0 * (len(vals) - 1)
    lo = math.floor(rank)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (rank - lo)


class Ranking(NamedTuple):
    """One question's ranked relevance flags and how many relevant items exist in the index."""

    relevance: Sequence[bool]
    n_relevant: int


@dataclass(frozen=True)
class Summary:
    """Mean retrieval figures over the answerable questions of a set; n counts them."""

    hit1: float
    hit3: float
    mrr: float
    ndcg10: float
    n: int


def summarize(rankings: Iterable[tuple[Sequence[bool], int]]) -> Summary:
    """Average hit@1, hit@3, MRR and nDCG@10; questions with n_relevant == 0 are skipped, NaN if none remain."""
    # Unanswerable questions have nothing to find; refusal measures them, not retrieval.
    answerable = [Ranking(list(rel), n) for rel, n in rankings if n > 0]
    if not answerable:
        nan = float("nan")
        return Summary(hit1=nan, hit3=nan, mrr=nan, ndcg10=nan, n=0)
    return Summary(
        hit1=mean(hit_at_k(r.relevance, 1) for r in answerable),
        hit3=mean(hit_at_k(r.relevance, 3) for r in answerable),
        mrr=mean(reciprocal_rank(r.relevance) for r in answerable),
        ndcg10=mean(ndcg_at_k(r.relevance, r.n_relevant, 10) for r in answerable),
        n=len(answerable),
    )
