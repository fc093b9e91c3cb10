"""What sentence vectors cost at ingest: the same files ingested with and without them, in turn.

    python -m eval.sentence_cost [FILE|FOLDER ...] [--rounds 3]

Both ways run in one process on one loaded embedder, alternating, so the machine's load hits both
alike; the median of the rounds is printed. Without arguments: the real minutes and the demo minutes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import index.build as build
from index.build import ingest_paths
from index.embed import load_embedder
from index.store import open_index

REPO = Path(__file__).resolve().parents[1]
DEFAULT = [REPO.parent / "shared" / "corpus" / "it-arkitekturraadet-referat.txt",
           REPO.parent / "shared" / "corpus" / "aarhus" / "teknisk_udvalg_referat_2025-10-01.html",
           REPO / "demo" / "build" / "minutes"]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--model", default=None)
    args = ap.parse_args(argv)
    paths = args.paths or [p for p in DEFAULT if p.exists()]
    embedder = load_embedder(args.model)
    embedder.embed(["opvarmning"], "passage")
    with_sentences = build.meeting_sentences
    times: dict[str, list[float]] = {"uden sætninger": [], "med sætninger": []}
    counts: dict[str, tuple[int, int]] = {}
    for _ in range(args.rounds):
        for way in times:
            build.meeting_sentences = with_sentences if way == "med sætninger" else (lambda meeting: ())  # type: ignore[assignment]
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                with open_index(Path(tmp) / "db", embedder, create=True, write=True) as index:
                    results = ingest_paths(index, paths)
                    counts[way] = (sum(r.chunks for r in results), sum(m.sentences or 0 for m in index.manifest.meetings))
                times[way].append(time.perf_counter() - start)
    build.meeting_sentences = with_sentences
    for way, ts in times.items():
        passages, sentences = counts[way]
        median = statistics.median(ts)
        print(f"{way}: {passages} passager, {sentences} sætninger, median {median:.1f} s "
              f"({passages / median:.1f} passager/s) over {len(ts)} runder")


if __name__ == "__main__":
    main()
