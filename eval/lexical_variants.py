"""Lexical and fusion variants, each switched on its own: what folding, fuzzy matching, compounds and
adaptive fusion move, per question kind, in lexical and hybrid mode, and on XQuAD-da.

The index (real minutes + the rendered demo minutes, one chromadb) and the query vectors are made
once with the real embedder; the variants only change the BM25 side (index.lexical.LexicalOptions)
and the fusion (index.fuse.AdaptiveFusion or "rrf"), so a run costs minutes, not an hour.

    python -m eval.lexical_variants --questions eval/questions/real.jsonl eval/questions/demo.jsonl \\
        [--split dev] [--xquad ../shared/bench/xquad.da.json --xquad-docs 240] [--db /tmp/lexdb] --out out/lex.md

Question files are read leniently: unknown fields and kinds are kept (a line's ``split`` is "dev" or
"test"; with ``--split`` only those lines count, lines without one always count); unanswerable lines
(no ``expected``) are skipped.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np

from eval.dataset import Expected, load_xquad
from eval.run import ItemRef, index_xquad
from index.fuse import AdaptiveFusion
from index.lexical import LexicalOptions
from index.store import Index, SearchMode, open_index

ROOT = Path(__file__).resolve().parent.parent
# The real minutes beside the repository (never copied into it), as the tests find them.
REAL = (ROOT.parent / "shared/corpus/it-arkitekturraadet-referat.txt",
        ROOT.parent / "shared/corpus/aarhus/teknisk_udvalg_referat_2025-10-01.html")

Fusion = AdaptiveFusion | Literal["rrf"]
OFF = LexicalOptions(fold=False, fuzzy=False, compound=False)
FIXED = AdaptiveFusion(base=0.01)


@dataclass(frozen=True)
class Q:
    question: str
    kind: str
    expected: tuple[Expected, ...]
    file: str
    split: str | None = None


@dataclass(frozen=True)
class Variant:
    name: str
    options: LexicalOptions
    fusion: Fusion = FIXED
    modes: tuple[SearchMode, ...] = ("lexical", "hybrid")


@dataclass
class Scores:
    ranks: dict[str, list[int]] = field(default_factory=dict)  # kind -> rank of first relevant (0 = none in top k)

    def add(self, kind: str, rank: int) -> None:
        self.ranks.setdefault(kind, []).append(rank)
        self.ranks.setdefault("alle", []).append(rank)

    @staticmethod
    def figures(ranks: Sequence[int]) -> tuple[float, float, float]:
        r = np.array(ranks)
        return (float(np.mean(r == 1)), float(np.mean((r >= 1) & (r <= 3))),
                float(np.mean(np.where(r > 0, 1.0 / np.maximum(r, 1), 0.0))))


def load_lenient(path: Path, split: str | None) -> list[Q]:
    """Answerable questions of a JSONL file; unknown fields ignored, kinds kept as written."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        obj = json.loads(line)
        if split and obj.get("split") not in (None, split):
            continue
        expected = tuple(Expected(**{k: (v if k != "meeting_date" else _date(v)) for k, v in m.items()
                                     if k in Expected.__dataclass_fields__}) for m in obj.get("expected") or ())
        if expected:
            out.append(Q(obj["question"].strip(), str(obj.get("kind", "?")), expected, path.name, obj.get("split")))
    return out


def _date(v: object):  # type: ignore[no-untyped-def]
    from datetime import date

    return date.fromisoformat(str(v))


def _relevant(q: Q, ref: ItemRef) -> bool:
    from eval.dataset import matches

    return any(matches(e, council=ref.council, meeting_date=ref.meeting_date, section=ref.section,
                       case_number=ref.case_number, source=ref.source) for e in q.expected)


def variants(adaptive: Sequence[AdaptiveFusion]) -> list[Variant]:
    all_on = LexicalOptions()
    out = [
        Variant("grundlinje (intet til)", OFF),
        Variant("+ foldning æ/ø/å", replace(OFF, fold=True)),
        Variant("+ fuzzy", replace(OFF, fuzzy=True)),
        Variant("+ sammensatte ord", replace(OFF, compound=True)),
        Variant("alle tre", all_on),
        Variant("alle tre, RRF", all_on, "rrf", ("hybrid",)),
    ]
    out += [Variant(f"alle tre, adaptiv {_short(a)}", all_on, a, ("hybrid",)) for a in adaptive]
    # Each lexical option again under a fusion that lets BM25 count (at 0.01 it barely moves hybrid).
    lift = LIFTING
    out += [Variant(f"{name}, adaptiv {_short(lift)}", opts, lift, ("hybrid",)) for name, opts in (
        ("intet til", OFF), ("+ foldning", replace(OFF, fold=True)), ("+ fuzzy", replace(OFF, fuzzy=True)),
        ("+ sammensatte ord", replace(OFF, compound=True)))]
    out += [Variant("alle tre + sammensatte ord delt i indekset", replace(all_on, split_index=True)),
            Variant(f"alle tre + delt i indekset, adaptiv {_short(lift)}", replace(all_on, split_index=True), lift,
                    ("hybrid",))]
    return out


def _short(a: AdaptiveFusion) -> str:
    parts = [f"grund {a.base:g}"]
    parts += [f"idf {a.idf_gain:g}>{a.idf_floor:g}"] if a.idf_gain else []
    parts += [f"dækning {a.coverage_gain:g}>{a.coverage_floor:g}"] if a.coverage_gain else []
    parts += [f"navn {a.name_gain:g}"] if a.name_gain else []
    parts += [f"tal {a.number_gain:g}"] if a.number_gain else []
    return "(" + ", ".join(parts) + f", loft {a.cap:g})"


ADAPTIVE_GRID = (
    AdaptiveFusion(base=0.01, idf_gain=0.1, idf_floor=0.6, cap=0.1),
    AdaptiveFusion(base=0.01, name_gain=0.03, number_gain=0.03, cap=0.1),
    AdaptiveFusion(base=0.01, coverage_gain=0.05, coverage_floor=0.5, cap=0.1),
    AdaptiveFusion(base=0.01, coverage_gain=0.1, coverage_floor=0.5, cap=0.1),
    AdaptiveFusion(base=0.01, coverage_gain=0.2, coverage_floor=0.5, cap=0.2),
    AdaptiveFusion(base=0.01, name_gain=0.03, number_gain=0.03, coverage_gain=0.1, coverage_floor=0.5, cap=0.1),
    AdaptiveFusion(base=0.01, name_gain=0.03, number_gain=0.03, coverage_gain=0.1, coverage_floor=0.3, cap=0.1),
)

# The adaptive setting the per-option rows above are measured under.
LIFTING = AdaptiveFusion(base=0.01, coverage_gain=0.2, coverage_floor=0.5, cap=0.2)


def run(routed: Sequence[tuple[Index, Sequence[Q]]], vs: Sequence[Variant], k: int = 10,
        log: Callable[[str], None] = lambda s: None) -> dict[tuple[str, str], dict[str, Scores]]:
    """(variant, mode) -> question file -> ranks per kind; each question asked of its own index."""
    for index, questions in routed:
        vecs = embed_queries(index, questions)
        index.query_vector = vecs.__getitem__  # type: ignore[method-assign,assignment]  # vectors made once, in one batch
    out: dict[tuple[str, str], dict[str, Scores]] = {}
    for v in vs:
        for index, _ in routed:
            index.lexical_options, index.fusion = v.options, v.fusion
        for mode in v.modes:
            t = time.perf_counter()
            per_file: dict[str, Scores] = {}
            for index, q in ((i, q) for i, qs in routed for q in qs):
                hits = index.search(q.question, k=k, mode=mode)
                rank = next((i + 1 for i, h in enumerate(hits)
                             if _relevant(q, ItemRef(h.chunk.council, h.chunk.meeting_date, h.chunk.section,
                                                     h.chunk.case_number, h.chunk.source))), 0)
                per_file.setdefault(q.file, Scores()).add(q.kind, rank)
            out[(v.name, mode)] = per_file
            log(f"{v.name} / {mode}: {time.perf_counter() - t:.1f} s")
    return out


def embed_queries(index: Index, questions: Sequence[Q]) -> dict[str, np.ndarray]:
    assert index.embedder is not None
    texts = list(dict.fromkeys(q.question for q in questions))
    return dict(zip(texts, index.embedder.embed(texts, "query")))


def build_minutes_indexes(db: Path, embedder) -> list[Index]:  # type: ignore[no-untyped-def]
    """Two indexes, as `raadgiver eval` measures them: the real minutes, and the rendered demo minutes."""
    from index.build import ingest_paths

    demo = db / "demo-files"
    if not demo.is_dir():
        subprocess.run([sys.executable, str(ROOT / "demo/render.py"), str(ROOT / "demo/minutes"), str(demo)], check=True)
    real = list(REAL)
    out = []
    for name, files in (("real", real), ("demo", [demo])):
        fresh = not (db / name / "chroma" / "chroma.sqlite3").exists()
        index = open_index(db / name, embedder, create=True, write=True)
        if fresh:
            bad = [r for r in ingest_paths(index, files) if r.status == "fejl"]
            if bad:
                raise SystemExit(f"Kunne ikke indlæse: {bad}")
        out.append(index)
    return out


def route(indexes: Sequence[Index], questions: Sequence[Q]) -> list[tuple[Index, list[Q]]]:
    """Each question to the index that holds an item it expects (the first such); none: left out."""
    from eval.run import all_items

    items = [all_items(i) for i in indexes]
    routed: list[tuple[Index, list[Q]]] = [(i, []) for i in indexes]
    for q in questions:
        j = next((j for j, its in enumerate(items) if any(_relevant(q, it) for it in its)), None)
        if j is not None:
            routed[j][1].append(q)
    return routed


def table(results: dict[tuple[str, str], dict[str, Scores]], title: str) -> list[str]:
    files = sorted({f for per_file in results.values() for f in per_file})
    lines: list[str] = []
    for f in files:
        kinds = sorted({kd for per_file in results.values() for kd in per_file.get(f, Scores()).ranks},
                       key=lambda s: (s == "alle", s))
        if len(kinds) == 2:
            kinds = ["alle"]
        ns = next(per_file[f].ranks for per_file in results.values() if f in per_file)
        lines += [f"### {title}: {f}", "",
                  "hit@1 / hit@3 / MRR pr. spørgsmålstype (n = " + ", ".join(f"{kd} {len(ns[kd])}" for kd in kinds) + ")", "",
                  "| variant | tilstand | " + " | ".join(kinds) + " |",
                  "|---|---|" + "---:|" * len(kinds)]
        for (name, mode), per_file in results.items():
            sc = per_file.get(f)
            if sc is None:
                continue
            cells = []
            for kd in kinds:
                h1, h3, mrr = Scores.figures(sc.ranks[kd]) if kd in sc.ranks else (float("nan"),) * 3
                cells.append(f"{h1:.3f} / {h3:.3f} / {mrr:.3f}")
            lines.append(f"| {name} | {mode} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, nargs="+", required=True)
    parser.add_argument("--split", choices=("dev", "test"), default=None)
    parser.add_argument("--xquad", type=Path, default=None)
    parser.add_argument("--xquad-docs", type=int, default=None)
    parser.add_argument("--db", type=Path, default=None, help="keep the minutes index here (reused when present)")
    parser.add_argument("--model", default=None)
    parser.add_argument("--only", default=None, help="comma-separated variant numbers (1-based) to run")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731

    from index.embed import load_embedder

    questions = [q for f in args.questions for q in load_lenient(f, args.split)]
    embedder = load_embedder(args.model)
    vs = variants(ADAPTIVE_GRID)
    if args.only:
        vs = [vs[int(i) - 1] for i in args.only.split(",")]
    lines = ["# Leksikalske varianter og fusion", "",
             f"Model {embedder.name}. To indeks som i `raadgiver eval`: de rigtige referater (KL + Aarhus TU) og de "
             "renderede demo-referater; hvert spørgsmål stilles til det indeks, der har dets forventede punkt. "
             f"Split: {args.split or 'alle linjer'}. Genskabes med `python -m eval.lexical_variants "
             + " ".join(sys.argv[1:] if argv is None else argv) + "`.", ""]
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "db"
        t = time.perf_counter()
        indexes = build_minutes_indexes(db, embedder)
        log(f"minutes indexes ready: {time.perf_counter() - t:.0f} s")
        routed = route(indexes, questions)
        lost = len(questions) - sum(len(qs) for _, qs in routed)
        lines += [f"{sum(len(qs) for _, qs in routed)} besvarbare spørgsmål"
                  + (f" ({lost} uden et forventet punkt i indekserne er udeladt)" if lost else "") + ".", ""]
        lines += table(run(routed, vs, log=log), "Referater")
        for index in indexes:
            index.close()
        if args.xquad is not None:
            docs, xqs = load_xquad(args.xquad, limit_docs=args.xquad_docs)
            xq = [Q(q.question, "xquad", q.expected, "XQuAD-da") for q in xqs]
            xdb = (args.db or Path(tmp)) / f"xquad-{len(docs)}"
            fresh = not (xdb / "chroma" / "chroma.sqlite3").exists()
            with open_index(xdb, embedder, create=True, write=True) as xi:
                t = time.perf_counter()
                if fresh:
                    index_xquad(xi, docs)
                log(f"xquad index ready: {time.perf_counter() - t:.0f} s")
                lines += table(run([(xi, xq)], vs, log=log), f"XQuAD-da ({len(docs)} afsnit)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
