"""Question in, Answer out: retrieve items, decide whether they support an answer, cite them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from chat_app.generate import Generator
from chat_app.prompt import Citation, citation_for, sentences
from index.lexical import tokenize
from index.store import SECTION_REF, Hit, Index
from index.vector import Where
from ingest.parse import CASE_NUMBER

# Chosen from measurements on both evaluation sets (eval/questions/real.jsonl and demo.jsonl, see
# README "Afvisning"): e5 cosine similarities are compressed (0.75–0.93), so the absolute level says
# little; how far the best item stands out from the next nine does. Every unanswerable question had
# a margin ≤ 0.021, every plainly worded answerable one ≥ 0.022 or most of its words in the item.
MIN_MARGIN = 0.022
MIN_COVERAGE = 0.6
CHANGE_QUESTION = re.compile(
    r"udvikl|ændret|ændre[ts]?\b|over tid|tidligere|hidtil|skiftet|forandr|holdning.*(nu|i dag|siden)|"
    r"changed?|evolv|over time|develop",
    re.I,
)
REFUSAL_TEXT = (
    "Jeg kan ikke finde noget i referaterne, der besvarer spørgsmålet. "
    "Prøv at omformulere det, eller søg efter et sagsnummer eller et punkt."
)


@dataclass(frozen=True)
class Answer:
    """A Danish answer where every claim is cited, or a plain refusal."""

    answer: str
    refused: bool
    citations: tuple[Citation, ...]
    generator: str = "ekstraktiv"
    removed_citations: tuple[int, ...] = ()
    note: str = ""
    prompt: str | None = None
    unsupported_claims: tuple[str, ...] = ()  # the model's claims left out: not borne out by the items they cite

    def to_json(self) -> dict[str, object]:
        return {
            "answer": self.answer,
            "refused": self.refused,
            "citations": [
                {"council": c.council, "meeting_date": c.meeting_date.isoformat() if c.meeting_date else None,
                 "section": c.section, "case_number": c.case_number, "title": c.title, "source": c.source,
                 "quote": c.quote}
                for c in self.citations
            ],
            "generator": self.generator,
            "note": self.note,
            "removed_citations": list(self.removed_citations),
            "unsupported_claims": list(self.unsupported_claims),
        }


def coverage(question: str, text: str) -> float:
    """Share of the question's content words (stemmed) that occur in ``text``."""
    q = set(tokenize(question))
    return len(q & set(tokenize(text))) / len(q) if q else 0.0


@dataclass(frozen=True)
class Support:
    """How well the index supports answering a question."""

    margin: float  # best dense similarity minus the mean of the next nine items'
    coverage: float  # share of the question's words found in the best hybrid item
    direct: bool  # the question names a case number or a section

    @property
    def answerable(self) -> bool:
        return self.direct or self.margin >= MIN_MARGIN or self.coverage >= MIN_COVERAGE


def measure_support(index: Index, query: str, hits: Sequence[Hit], where: Where = Where()) -> Support:
    """Margin of the dense ranking and word coverage of the best hits."""
    dense = index.search(query, k=10, mode="dense", where=where) if index.embedder is not None else []
    sims = [h.similarity for h in dense]
    if len(sims) >= 3:
        margin = sims[0] - float(np.mean(sims[1:]))
    else:
        margin = sims[0] - 0.80 if sims else 0.0  # too few items to compare: fall back to the level
    cov = max((coverage(query, f"{h.chunk.title} {h.chunk.text}") for h in hits[:3]), default=0.0)
    return Support(margin=margin, coverage=cov, direct=is_direct(query))


def retrieval_query(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A short follow-up ("hvad med i 2026?") is searched together with the previous question."""
    if history and len(question.split()) < 8:
        return f"{history[-1][0]} {question}"
    return question


def is_direct(question: str) -> bool:
    return bool(CASE_NUMBER.search(question) or re.search(r"\b(?:punkt|pkt\.?)\s*\d", question, re.I))


def _quotes(index: Index, question: str, hits: Sequence[Hit], per_item: int = 1) -> list[str]:
    """For each hit, its sentence(s) closest to the question (verbatim from the passage)."""
    cands = [[s for s in sentences(h.chunk.text) if len(s) > 25][:14] or [h.chunk.text.strip()] for h in hits]
    if index.embedder is None:
        return [c[0] for c in cands]
    flat = [s for c in cands for s in c]
    qv = index.query_vector(question)
    sv = index.embedder.embed(flat, "passage")
    scores = sv @ qv
    out, pos = [], 0
    for c in cands:
        part = scores[pos : pos + len(c)]
        order = np.argsort(-part)[:per_item]
        out.append(" … ".join(c[i] for i in sorted(order)) if per_item > 1 else c[int(order[0])])
        pos += len(c)
    return out


def _where_label(c: Citation) -> str:
    return f"{c.council}, møde {c.meeting_date.isoformat() if c.meeting_date else 'ukendt dato'}, pkt. {c.section} \"{c.title}\""


def _shown(quote: str) -> str:
    # Square brackets in the minutes must not read as source numbers in the answer; the
    # citation's own quote stays verbatim.
    return quote.replace("[", "(").replace("]", ")")


def extractive(index: Index, question: str, hits: Sequence[Hit], change: bool) -> Answer:
    """An answer built from the most relevant sentences of the best items, each cited."""
    quotes = _quotes(index, question, hits)
    cites = [citation_for(h.chunk, q) for h, q in zip(hits, quotes)]
    if change:
        order = sorted(range(len(cites)), key=lambda i: (cites[i].meeting_date is not None, cites[i].meeting_date), reverse=True)
        cites = [cites[i] for i in order]
        lines = ["Sådan har rådets behandling af emnet udviklet sig (nyeste først):", ""]
        for n, c in enumerate(cites, start=1):
            mark = " – seneste holdning" if n == 1 else ""
            lines.append(f"{n}. {_where_label(c)}{mark}: »{_shown(c.quote)}« [{n}]")
    else:
        lines = [f"Referaterne omtaler emnet i {len(cites)} punkt{'er' if len(cites) != 1 else ''}:" if len(cites) > 1
                 else "Referaterne omtaler emnet her:", ""]
        for n, c in enumerate(cites, start=1):
            lines.append(f"{n}. {_where_label(c)}: »{_shown(c.quote)}« [{n}]")
    return Answer(answer="\n".join(lines), refused=False, citations=tuple(cites))


def _refusal() -> Answer:
    return Answer(answer=REFUSAL_TEXT, refused=True, citations=())


def stream_answer(
    index: Index,
    question: str,
    *,
    generator: Generator | None = None,
    where: Where = Where(),
    history: Sequence[tuple[str, str]] = (),
    k: int = 5,
) -> Iterator[str | Answer]:
    """Yield text as an LLM produces it, then the checked Answer (always last)."""
    query = retrieval_query(question, history)
    change = bool(CHANGE_QUESTION.search(question))
    hits = index.search(query, k=8 if change else k, where=where)
    support = measure_support(index, query, hits, where)
    named = CASE_NUMBER.search(question)
    case = where.case_number or (named.group(1) if named else None)
    if case:
        # A question about one case is answered from that case's items only.
        hits = [h for h in hits if h.chunk.case_number == case]
        if not hits:
            yield replace(_refusal(), answer=f"Sagsnummeret {case} findes ikke i de indlæste referater.")
            return
        support = replace(support, direct=True)
    section = SECTION_REF.search(question)
    if section and not case:
        hits = [h for h in hits if h.chunk.section == section.group(1)] or hits
    if not hits or not support.answerable:
        yield _refusal()
        return
    best = hits[0].similarity
    # Cite the items close to the best one; a change question wants every meeting that touched it.
    spread = 0.03 if change else 0.02
    good = [h for h in hits if support.direct or h.similarity >= best - spread or h.rank == 1]
    good = good[: (6 if change else 3)]
    if generator is None:
        yield extractive(index, query, good, change)
        return
    from chat_app.llm_answer import llm_answer  # imports Answer from here

    yield from llm_answer(question, good, generator, history, fallback=lambda: extractive(index, query, good, change))


def answer_question(index: Index, question: str, **kw: object) -> Answer:
    """The final Answer of ``stream_answer``."""
    final: Answer | None = None
    for part in stream_answer(index, question, **kw):  # type: ignore[arg-type]
        if isinstance(part, Answer):
            final = part
    assert final is not None
    return final


def show_prompt(question: str, hits: Sequence[Hit], history: Sequence[tuple[str, str]] = ()) -> str:
    """Exactly the text an LLM would receive for these hits (structured output asked for)."""
    from chat_app.claims import claims_schema
    from chat_app.llm_answer import messages_for, prompt_text

    return prompt_text(messages_for(question, hits, history), claims_schema(len(hits)))
