"""Dense retrieval variants on an evaluation set: is the model or the way we use it the limit?

Every variant scores each agenda item for each answerable question with the same embedder; only
how items are cut, what is embedded and how passage scores become an item score change. No
case-number or section routing here (that is exact and lifts every variant alike), so the
figures are lower than `raadgiver eval`'s.

    python -m eval.variants --questions eval/questions/real.jsonl FILE... [--out docs/eval/variants.md]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.dataset import Question, load_questions, matches
from index.build import embedding_text
from index.embed import Embedder, load_embedder
from ingest.chunk import ChunkSettings, chunk_meeting
from ingest.parse import parse_meeting
from ingest.read import read_document
from ingest.records import AgendaItem, Chunk, Meeting


@dataclass(frozen=True)
class VariantResult:
    name: str
    hit1: float
    hit3: float
    mrr: float


class Scorer:
    """Item scores (questions × items) for the variants, embedding each distinct text once."""

    def __init__(self, embedder: Embedder, meetings: Sequence[Meeting], questions: Sequence[Question]) -> None:
        self.embedder = embedder
        self.meetings = meetings
        self.items: list[tuple[Meeting, AgendaItem]] = [(m, it) for m in meetings for it in m.items]
        self._item_index = {(str(m.source), it.section): j for j, (m, it) in enumerate(self.items)}
        self.questions = questions
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self.q = self.embed([q.question for q in questions], "query")
        self.relevant = np.array([[self._relevant(q, m, it) for m, it in self.items] for q in questions])

    def embed(self, texts: Sequence[str], kind: str) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (t, kind) not in self._cache))
        if missing:
            for text, vec in zip(missing, self.embedder.embed(missing, kind)):  # type: ignore[arg-type]
                self._cache[(text, kind)] = vec
        return np.array([self._cache[(t, kind)] for t in texts])

    @staticmethod
    def _relevant(q: Question, m: Meeting, it: AgendaItem) -> bool:
        return any(matches(e, council=m.council, meeting_date=m.meeting_date, section=it.section,
                           case_number=it.case_number, source=str(m.source)) for e in q.expected)

    def passages(self, settings: ChunkSettings, text: Callable[[str, str], str] = embedding_text,
                 agg: str = "max", query: np.ndarray | None = None, hub_weight: float = 0.0) -> np.ndarray:
        """Item score from its passages' cosines: the best one, or best + 0.3 × second best. With
        ``hub_weight``, each passage's cosine is first lowered by that much of its hubness (as the index)."""
        chunks = [c for m in self.meetings for c in chunk_meeting(m, settings)]
        vecs = self.embed([text(c.title, c.text) for c in chunks], "passage")
        sims = (self.q if query is None else query) @ vecs.T
        if hub_weight:
            sims = sims - hub_weight * self.hubness(chunks, vecs)[None, :]
        scores = np.full((len(self.questions), len(self.items)), -1.0)
        groups: dict[int, list[int]] = {}
        for n, c in enumerate(chunks):
            groups.setdefault(self.item_of(c), []).append(n)
        for j, rows in groups.items():
            s = -np.sort(-sims[:, rows], axis=1)
            scores[:, j] = s[:, 0] if agg == "max" or s.shape[1] == 1 else s[:, 0] + 0.3 * s[:, 1]
        return scores

    def whole_items(self, title_only: bool = False) -> np.ndarray:
        texts = [it.title if title_only else embedding_text(it.title, it.text) for _, it in self.items]
        return self.q @ self.embed(texts, "passage").T

    def second_vector(self, which: str) -> np.ndarray:
        """One more vector per item: its title with its first part, or a summary of its positions (the
        decision and the council's own statements, as the extractive answer picks them)."""
        from chat_app.positions import item_sentences

        texts = []
        for _, it in self.items:
            if which == "first_part":
                first = it.parts[0].text if it.parts else it.text
                texts.append(embedding_text(it.title, first[:1500]))
            else:
                pos = [x.text for x in item_sentences(it.text) if x.role in ("decision", "council")]
                texts.append(embedding_text(it.title, " ".join(pos)[:1500] or it.text[:1500]))
        return self.q @ self.embed(texts, "passage").T

    def sentences(self, agg: str = "max") -> np.ndarray:
        """Item score from its sentences' cosines (each embedded as "title: sentence"): the best one,
        or the mean of the best two (``top2``); 0 for an item without any. The sentences are those the
        index embeds (``index_sentences``)."""
        texts, rows = self.index_sentences()
        sims = self.q @ self.embed(texts, "passage").T
        scores = np.zeros((len(self.questions), len(self.items)))  # no sentence: nothing added (as the index)
        for j in range(len(self.items)):
            cols = np.flatnonzero(rows == j)
            if len(cols):
                best = -np.sort(-sims[:, cols], axis=1)
                scores[:, j] = best[:, 0] if agg == "max" else best[:, :2].mean(axis=1)
        return scores

    def item_of(self, chunk: Chunk) -> int:
        """The position in ``items`` of the item a chunk belongs to."""
        return self._item_index[(str(chunk.source), chunk.section)]

    def index_sentences(self) -> tuple[list[str], np.ndarray]:
        """The sentences the index embeds ("title: sentence"), and the item of each."""
        from ingest.sentences import index_sentences

        texts, owner = [], []
        for j, (_, it) in enumerate(self.items):
            for text in index_sentences(it.title, it.text):
                texts.append(text)
                owner.append(j)
        return texts, np.array(owner, dtype=np.int64)

    def hubness(self, chunks: Sequence[Chunk], vecs: np.ndarray) -> np.ndarray:
        """Each passage's hubness against the sentences the index embeds, with the index's neighbourhood."""
        from index.fuse import hubness
        from index.store import HUB_K

        texts, owner = self.index_sentences()
        items = np.array([self.item_of(c) for c in chunks])
        return hubness(vecs, items, self.embed(texts, "passage"), owner, HUB_K)

    def feedback(self, k: int, beta: float) -> np.ndarray:
        """Pseudo-relevance feedback: the query moved towards its top ``k`` passages, then searched again."""
        chunks = [c for m in self.meetings for c in chunk_meeting(m)]
        vecs = self.embed([embedding_text(c.title, c.text) for c in chunks], "passage")
        top = np.argsort(-(self.q @ vecs.T), axis=1)[:, :k]
        moved = self.q + beta * vecs[top].mean(axis=1)
        moved /= np.linalg.norm(moved, axis=1, keepdims=True)
        return self.passages(ChunkSettings(), query=moved)

    def result(self, name: str, scores: np.ndarray) -> VariantResult:
        ranks = []
        for i in range(len(self.questions)):
            order = np.argsort(-scores[i], kind="stable")
            ranks.append(next(r for r, j in enumerate(order, 1) if self.relevant[i, j]))
        r = np.array(ranks)
        return VariantResult(name, float(np.mean(r == 1)), float(np.mean(r <= 3)), float(np.mean(1 / r)))


def run_variants(scorer: Scorer) -> list[VariantResult]:
    from index.store import HUB_WEIGHT

    s = scorer
    sizes = {n: s.passages(ChunkSettings(n, max(80, n // 8))) for n in (400, 600, 800, 1200, 2000)}
    item, title = s.whole_items(), s.whole_items(title_only=True)
    sent = s.sentences()
    out = [s.result("passager à 1.200 tegn, bedste passage (Rådgivers valg før sætningsvektorerne)", sizes[1200])]
    out += [s.result(f"passager à {n} tegn", sizes[n]) for n in (400, 600, 800, 2000)]
    out += [
        s.result("1.200 tegn, bedste + 0,3 × næstbedste passage", s.passages(ChunkSettings(), agg="top2")),
        s.result("passage uden punktets titel", s.passages(ChunkSettings(), text=lambda title, text: text)),
        s.result("hele punktet som én vektor (afkortet ved 512 tokens)", item),
        s.result("kun punktets titel", title),
        s.result("maks. over 600 og 1.200 tegn", np.maximum(sizes[600], sizes[1200])),
        s.result("gennemsnit af 400 og 600 tegn", (sizes[400] + sizes[600]) / 2),
        s.result("1.200 tegn + 0,5 × hele punktet", sizes[1200] + 0.5 * item),
        s.result("1.200 tegn + 0,3 × titel", sizes[1200] + 0.3 * title),
        s.result("maks. over passage og titel + første del", np.maximum(sizes[1200], first := s.second_vector("first_part"))),
        s.result("1.200 tegn + 0,5 × titel + første del", sizes[1200] + 0.5 * first),
        s.result("maks. over passage og resumé af holdninger/beslutning", np.maximum(sizes[1200], summ := s.second_vector("positions"))),
        s.result("1.200 tegn + 0,5 × resumé af holdninger/beslutning", sizes[1200] + 0.5 * summ),
        s.result("bedste sætning (titel: sætning)", sent),
        s.result("middel af de to bedste sætninger", s.sentences("top2")),
        s.result("1.200 tegn + 0,5 × bedste sætning (Rådgivers valg før hubness)", sizes[1200] + 0.5 * sent),
        *(s.result(f"1.200 tegn − {w:g} × passagens hubness + 0,5 × bedste sætning"
                   + (" (Rådgivers valg)" if w == HUB_WEIGHT else ""),
                   s.passages(ChunkSettings(), hub_weight=w) + 0.5 * sent) for w in (0.1, HUB_WEIGHT, 0.5)),
        s.result("1.200 tegn + 1,0 × bedste sætning", sizes[1200] + 1.0 * sent),
        *(s.result(f"1.200 tegn + 0,5 × bedste vindue à {n} tegn (i stedet for sætninger)",
                   sizes[1200] + 0.5 * s.passages(ChunkSettings(n, n // 6))) for n in (200, 300)),
        s.result("1.200 tegn + 0,5 × bedste vindue à 400 tegn (i stedet for sætninger)", sizes[1200] + 0.5 * sizes[400]),
        s.result("1.200 tegn + 0,5 × bedste sætning + 0,5 × hele punktet", sizes[1200] + 0.5 * sent + 0.5 * item),
        s.result("pseudo-relevans-feedback (1 passage, 0,6)", s.feedback(1, 0.6)),
        s.result("pseudo-relevans-feedback (3 passager, 0,3)", s.feedback(3, 0.3)),
    ]
    return out


def to_markdown(results: Sequence[VariantResult], embedder: str, n_questions: int, n_items: int) -> str:
    lines = [
        "# Varianter af semantisk søgning", "",
        f"Model: {embedder}. {n_questions} besvarbare spørgsmål, {n_items} dagsordenspunkter. Uden direkte opslag "
        "på sagsnummer/punktnummer, derfor lavere end `raadgiver eval`.", "",
        "Genskabes med `python -m eval.variants --questions eval/questions/real.jsonl "
        "../shared/corpus/it-arkitekturraadet-referat.txt ../shared/corpus/aarhus/teknisk_udvalg_referat_2025-10-01.html "
        "--out docs/eval/variants.md`.", "",
        "| variant | hit@1 | hit@3 | MRR |", "|---|---:|---:|---:|",
    ]
    lines += [f"| {r.name} | {r.hit1:.3f} | {r.hit3:.3f} | {r.mrr:.3f} |" for r in results]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--kind", default=None, help="Kun denne spørgsmålstype (f.eks. paraphrase).")
    parser.add_argument("--split", choices=["dev", "test"], default=None, help="Kun denne halvdel.")
    args = parser.parse_args(argv)
    meetings = [parse_meeting(read_document(f)) for f in args.files]
    questions = [q for q in load_questions(args.questions) if q.expected and (args.kind is None or q.kind == args.kind)
                 and (args.split is None or q.split == args.split)]
    embedder = load_embedder(args.model)
    scorer = Scorer(embedder, meetings, questions)
    text = to_markdown(run_variants(scorer), embedder.name, len(questions), len(scorer.items))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
