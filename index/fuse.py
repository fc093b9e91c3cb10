"""Rank fusion and grouping: pure functions over ids."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[K]], k: int = 60) -> list[tuple[K, float]]:
    """Fuse rankings: score(d) = sum over rankings of 1 / (k + rank), rank starting at 1."""
    scores: dict[K, float] = {}
    first_seen: dict[K, int] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
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
