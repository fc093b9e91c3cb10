"""Rank fusion and grouping: pure functions over ids."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import numpy as np

from index.when import DateRef

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


def with_item_best(scores: Sequence[tuple[K, float]], item_of: dict[K, int], item_best: dict[int, float],
                   weight: float, missing: float | None = None) -> list[tuple[K, float]]:
    """Each candidate's score plus ``weight`` times the best sentence cosine of its item, best first (ties
    keep their order). A candidate whose item has no sentence vector counts ``missing`` instead, or, when
    that is None, its own score."""
    out = [(key, s + weight * item_best.get(item_of[key], s if missing is None else missing)) for key, s in scores]
    return sorted(out, key=lambda kv: -kv[1])


def hubness(passages: np.ndarray, passage_items: np.ndarray, sentences: np.ndarray, sentence_items: np.ndarray,
            k: int, block: int = 4096) -> np.ndarray:
    """Each passage's hubness: the mean of its ``k`` highest cosines to the sentences of *other* items (fewer
    when fewer exist; 0 when none do). Vectors are unit length, so a dot product is the cosine.

    A passage that resembles sentences from many items ("Siden sidst", a dialogue with the board that
    touches every theme) comes close to any question on those themes and takes first place from the item
    that treats it; CSLS (Conneau et al. 2018) subtracts this neighbourhood density. Computed in blocks
    of passages, so memory stays ``block`` × sentences floats.
    """
    out = np.zeros(len(passages), dtype=np.float32)
    if not len(passages) or not len(sentences) or k <= 0:
        return out
    s = np.asarray(sentences, dtype=np.float32)
    s_items = np.asarray(sentence_items)
    for start in range(0, len(passages), block):
        p = np.asarray(passages[start:start + block], dtype=np.float32)
        sims = p @ s.T
        own = np.asarray(passage_items[start:start + block])[:, None] == s_items[None, :]
        sims[own] = -np.inf
        others = (~own).sum(axis=1)
        n = min(k, sims.shape[1])
        top = -np.partition(-sims, n - 1, axis=1)[:, :n] if n < sims.shape[1] else sims
        top = np.where(np.isfinite(top), top, 0.0)
        counted = np.minimum(others, n)
        out[start:start + len(p)] = np.where(counted > 0, top.sum(axis=1) / np.maximum(counted, 1), 0.0)
    return out


def minus_hubness(scores: Sequence[tuple[K, float]], hub: dict[K, float], weight: float) -> list[tuple[K, float]]:
    """Each candidate's score minus ``weight`` times its hubness (missing: 0), best first (ties keep their order)."""
    out = [(key, s - weight * hub.get(key, 0.0)) for key, s in scores]
    return sorted(out, key=lambda kv: -kv[1])


def with_time_focus(scores: Sequence[tuple[K, float]], dates: dict[K, date | None], focus: Sequence[DateRef],
                    weight: float) -> list[tuple[K, float]]:
    """Each candidate's score plus ``weight`` when its meeting date matches a date or year in ``focus``
    (undated candidates never match), best first (ties keep their order)."""
    if not focus or not weight:
        return list(scores)
    out = [(key, s + weight * any(ref.matches(d) for ref in focus)) if (d := dates.get(key)) else (key, s)
           for key, s in scores]
    return sorted(out, key=lambda kv: -kv[1])


def segment_max(values: np.ndarray, lengths: Sequence[int]) -> list[float]:
    """The maximum of each consecutive segment of ``values`` (segment lengths given, each at least 1)."""
    if not len(lengths):
        return []
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    return [float(v) for v in np.maximum.reduceat(values, starts)]


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


@dataclass(frozen=True)
class QueryFeatures:
    """What a query says about how much to trust exact words: its rarest matched term's IDF,
    scaled to 0..1 (log(N/df) / log N), how many names and numbers it holds, and the IDF-weighted
    share of its words that the best BM25 document holds (0..1)."""

    max_idf: float = 0.0
    names: int = 0
    numbers: int = 0
    coverage: float = 0.0


@dataclass(frozen=True)
class AdaptiveFusion:
    """The lexical weight as a function of the query: ``base`` for a plain-language question,
    lifted by a rare term (IDF above ``idf_floor``), a name and a number, at most ``cap``."""

    base: float = 0.01
    idf_gain: float = 0.0
    idf_floor: float = 0.5
    name_gain: float = 0.0
    number_gain: float = 0.0
    coverage_gain: float = 0.0
    coverage_floor: float = 0.5
    cap: float = 0.2

    @property
    def fixed(self) -> bool:
        """No gain set: the weight is ``base`` whatever the query (no features need computing)."""
        return not (self.idf_gain or self.name_gain or self.number_gain or self.coverage_gain)


def adaptive_weight(features: QueryFeatures, params: AdaptiveFusion) -> float:
    """base + idf_gain·max(0, max_idf − idf_floor) + name_gain·[names > 0] + number_gain·[numbers > 0]
    + coverage_gain·max(0, coverage − coverage_floor), at most cap."""
    w = (params.base + params.idf_gain * max(0.0, features.max_idf - params.idf_floor)
         + params.name_gain * (features.names > 0) + params.number_gain * (features.numbers > 0)
         + params.coverage_gain * max(0.0, features.coverage - params.coverage_floor))
    return min(w, params.cap)
