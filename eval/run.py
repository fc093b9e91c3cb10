"""Run a question set against an index: retrieval per mode and kind, answers, the worst misses."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from chat_app.answer import Answer, answer_question
from eval.dataset import Question, XquadDoc, contains_fact, load_questions, matches
from eval.metrics import percentile, summarize
from eval.report import AnswerFigures, EvalResult, ModeResult, Worst
from index.build import add_meeting
from index.embed import Embedder
from index.store import Hit, Index, SearchMode, open_index
from ingest.records import AgendaItem, Meeting, Part

MODES: tuple[SearchMode, ...] = ("dense", "lexical", "hybrid")
QUESTION_SETS = {name: Path(__file__).parent / "questions" / f"{name}.jsonl" for name in ("demo", "real")}


@dataclass(frozen=True)
class ItemRef:
    """The citation fields of an item, enough to match it against a question's expectations."""

    council: str
    meeting_date: date | None
    section: str
    case_number: str | None
    source: str

    def label(self) -> str:
        return (f"{self.council} {self.meeting_date or 'ukendt dato'} pkt. {self.section} "
                f"({self.case_number or '–'}) {Path(self.source).name}")


def relevant(q: Question, ref: ItemRef) -> bool:
    return any(matches(e, council=ref.council, meeting_date=ref.meeting_date, section=ref.section,
                       case_number=ref.case_number, source=ref.source) for e in q.expected)


def item_ref(h: Hit) -> ItemRef:
    c = h.chunk
    return ItemRef(c.council, c.meeting_date, c.section, c.case_number, c.source)


def all_items(index: Index) -> list[ItemRef]:
    committed = index.manifest.committed()
    return [ItemRef(i.council, i.meeting_date, i.section, i.case_number, i.source)
            for i in index.store.get_items() if committed.get(i.source) == i.content_hash]


def evaluate(index: Index, questions: Sequence[Question], dataset: str, *, k: int = 10,
             modes: Sequence[SearchMode] = MODES, answers: bool = True, command: str = "") -> EvalResult:
    """Retrieval figures per mode (and kind), answer figures, and the worst hybrid misses."""
    items = all_items(index)
    n_rel = {q.question: sum(relevant(q, it) for it in items) for q in questions}
    mode_results = []
    worst: list[Worst] = []
    for mode in modes:
        per_q: list[tuple[Question, list[bool], list[Hit]]] = []
        for q in questions:
            hits = index.search(q.question, k=k, mode=mode)
            per_q.append((q, [relevant(q, item_ref(h)) for h in hits], hits))
        overall = summarize((rel, n_rel[q.question]) for q, rel, _ in per_q)
        kinds = sorted({q.kind for q in questions})
        per_kind = {kind: summarize((rel, n_rel[q.question]) for q, rel, _ in per_q if q.kind == kind) for kind in kinds}
        mode_results.append(ModeResult(mode=mode, summary=overall, per_kind=per_kind))
        if mode == "hybrid":
            for q, rel, hits in per_q:
                if n_rel[q.question] and not (rel and rel[0]):
                    first = item_ref(hits[0]).label() if hits else "(intet)"
                    found_at = next((i + 1 for i, r in enumerate(rel) if r), None)
                    expected = "; ".join(
                        ", ".join(f"{k}={v}" for k, v in vars(e).items() if v is not None) for e in q.expected
                    )
                    worst.append(Worst(q.question, q.kind, expected,
                                       f"{first} (rigtigt svar på plads {found_at or '>' + str(k)})"))
    figures = answer_figures(index, questions) if answers else None
    desc = (f"{index.manifest.counts.get('meetings', 0)} møder, {index.manifest.counts.get('items', 0)} punkter, "
            f"{index.manifest.counts.get('chunks', 0)} passager; model {index.manifest.embedding_model}")
    return EvalResult(dataset=dataset, index_desc=desc, modes=tuple(mode_results), worst=tuple(worst[:15]),
                      answers=figures, command=command or "raadgiver eval")


def citation_valid(index: Index, q: Question, answer: Answer, retrieved: set[tuple[str, str]]) -> list[bool]:
    """Per citation: points at an item retrieved for the question (or looked up: a case number, a section, a
    whole meeting), and its quote is verbatim in that item."""
    out = []
    texts = {(i.source, i.section): i.text for i in index.store.get_items()}
    # A participants list is cited with no section; its quote is one of the list's lines.
    for m in index.manifest.meetings:
        texts[(m.source, "")] = "\n".join([r.text for r in m.roster] or [*m.participants, *m.absent])
    looked_up = bool(answer.support and answer.support.direct)
    for c in answer.citations:
        key = (c.source, c.section)
        out.append((looked_up or key in retrieved) and c.quote in texts.get(key, ""))
    return out


def answer_figures(index: Index, questions: Sequence[Question]) -> AnswerFigures:
    """Refusal rates, answer recall, citation validity and latency of the extractive answerer."""
    latencies: list[float] = []
    valid: list[bool] = []
    refused_unans = refused_ans = n_unans = n_ans = 0
    recall: dict[str, list[bool]] = {}
    refusal: dict[str, list[bool]] = {}
    in_period: list[bool] = []
    first: list[bool] = []
    newest: list[bool] = []
    for q in questions:
        start = time.perf_counter()
        answer = answer_question(index, q.question)
        latencies.append(time.perf_counter() - start)
        retrieved = {(h.chunk.source, h.chunk.section) for h in index.search(q.question, k=10)}
        valid += citation_valid(index, q, answer, retrieved)
        if q.must_refuse:
            n_unans += 1
            refused_unans += answer.refused
            refusal.setdefault(q.kind, []).append(answer.refused)
        else:
            n_ans += 1
            refused_ans += answer.refused
            if q.period is not None and not answer.refused:
                in_period.append(all(q.in_period(c.meeting_date) for c in answer.citations))
            lead = answer.citations[0] if answer.citations and not answer.refused else None
            if q.kind == "first":  # ``expected`` is the earliest item on the topic; the answer must lead with it
                first.append(lead is not None and relevant(q, ItemRef(lead.council, lead.meeting_date, lead.section,
                                                                      lead.case_number, lead.source)))
            if q.kind == "position":  # ``expected`` is the topic's items; the newest (the position now) must lead
                now = max(q.expected, key=lambda e: e.meeting_date or date.min)
                newest.append(lead is not None and matches(now, council=lead.council, meeting_date=lead.meeting_date,
                                                           section=lead.section, case_number=lead.case_number,
                                                           source=lead.source))
            facts = q.must_contain
            if facts:
                recall.setdefault(q.kind, []).append(
                    not answer.refused and all(contains_fact(answer.answer, f) for f in facts))
    every = [x for v in recall.values() for x in v]
    return AnswerFigures(
        citation_valid_share=sum(valid) / len(valid) if valid else float("nan"),
        refusal_rate_unanswerable=refused_unans / n_unans if n_unans else float("nan"),
        false_refusal_rate=refused_ans / n_ans if n_ans else float("nan"),
        n_answerable=n_ans,
        n_unanswerable=n_unans,
        latency_p50_s=percentile(latencies, 50),
        latency_p95_s=percentile(latencies, 95),
        answer_recall=sum(every) / len(every) if every else float("nan"),
        answer_recall_per_kind={k: sum(v) / len(v) for k, v in sorted(recall.items())},
        refusal_per_kind={k: sum(v) / len(v) for k, v in sorted(refusal.items())},
        n_with_facts=len(every),
        in_period=sum(in_period) / len(in_period) if in_period else float("nan"),
        n_period=len(in_period),
        first_source=sum(first) / len(first) if first else float("nan"),
        n_first=len(first),
        newest_source=sum(newest) / len(newest) if newest else float("nan"),
        n_newest=len(newest),
    )


def sweep_sets(specs: Sequence[str], split: str, embedder: Embedder) -> list[tuple[str, Index, list[Question]]]:
    """For a sweep over ``NAME=FOLDER`` specs (``real=/tmp/realdb``): each set's name, its opened index and
    the answerable questions of ``split``."""
    out = []
    for spec in specs:
        name, folder = spec.split("=", 1)
        qs = [q for q in load_questions(QUESTION_SETS[name]) if q.split == split and not q.must_refuse]
        out.append((name, open_index(Path(folder), embedder), qs))
    return out


def split_of(questions: Sequence[Question], split: str | None) -> list[Question]:
    """The dev or test half of a set (all questions for None)."""
    return [q for q in questions if split is None or q.split == split]


def index_xquad(index: Index, docs: Sequence[XquadDoc]) -> None:
    """Each XQuAD paragraph becomes a one-item meeting whose source is its doc id."""
    for doc in docs:
        item = AgendaItem(section="1", title=doc.title, case_number=None, responsible=(),
                          parts=(Part("", doc.text),), text=doc.text)
        add_meeting(index, Meeting(council="XQuAD", meeting_date=None, title=doc.title, source=doc.doc_id,
                                   content_hash=doc.doc_id, items=(item,)))
