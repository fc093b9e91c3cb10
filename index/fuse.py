"""Rank fusion and grouping: pure functions over ids."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]], k: int = 60, weights: Sequence[float] | None = None
) -> list[tuple[K, float]]:
    """Fuse rankings: score(d) = sum over rankings of weight / (k + rank), rank starting at 1."""
    scores: dict[K, float] = {}
    first_seen: dict[K, int] = {}
    for i, ranking in enumerate(rankings):
        w = weights[i] if weights is not None else 1.0
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + w / (k + rank)
            first_seen.setdefault(key, len(first_seen))
    return sorted(scores.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))


def group_best(ranked: Sequence[tuple[K, float]], group_of: dict[K, str]) -> list[tuple[str, K, float]]:
    """Collapse a ranking of passages into one entry per group, keeping each group's best passage."""
    seen: set[str] = set()
    out: list[tuple[str, K, float]] = []
    for key, score in ranked:
        group = group_of[key]
        if group not in seen:
            seen.add(group)
            out.append((group, key, score))
    return out


def score_fusion(
    dense: dict[K, float], lexical: dict[K, float], lexical_weight: float
) -> list[tuple[K, float]]:
    """Fuse by score: cosine similarity plus ``lexical_weight`` times BM25 scaled to the best BM25.

    ``dense`` must hold the cosine of every candidate (lexical-only ones included). Cosines of
    e5 models sit in a narrow band, so BM25 acts as a measured tie-breaker, not a second vote
    that can outweigh a clearly better semantic match (rank fusion did that; see README).
    """
    top = max(lexical.values(), default=0.0)
    fused = {key: cos + (lexical_weight * lexical.get(key, 0.0) / top if top > 0 else 0.0) for key, cos in dense.items()}
    return sorted(fused.items(), key=lambda kv: -kv[1])
