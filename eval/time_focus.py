"""The time focus swept on one half of the question sets: hybrid hit@1/hit@3 per weight.

    python -m eval.time_focus --split dev --db real=/tmp/realdb --db demo=.demo-db [--out docs/eval/time-focus-dev.md]

Each ``--db NAME=DIR`` is an index built from the minutes the set NAME asks about. For every weight, every
answerable question of the half is searched (hybrid, with the case-number and section routing, as
``raadgiver eval``); "med tid" counts the questions that name a date or a year (index/when.py time_focus).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import index.store as store
from eval.run import evaluate, sweep_sets
from index.embed import load_embedder
from index.when import time_focus

WEIGHTS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 1.0)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=("dev", "test"), required=True)
    ap.add_argument("--db", action="append", required=True, help="NAME=MAPPE, f.eks. real=/tmp/realdb")
    ap.add_argument("--weights", default=",".join(map(str, WEIGHTS)))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    embedder = load_embedder(None)
    sets = sweep_sets(args.db, args.split, embedder)
    names = " | ".join(f"{n} hybrid | {n} med tid" for n, _, _ in sets)
    lines = [f"# Tidsfokus, {args.split}-halvdelen", "",
             "hybrid hit@1 / hit@3 over alle besvarbare spørgsmål; med tid: hit@1 blandt dem, der nævner en dato "
             "eller et år (antal). Vægt 0 er uden tidsfokus.", "",
             f"Genskabes med `python -m eval.time_focus --split {args.split} "
             + " ".join(f"--db {spec}" for spec in args.db) + "`.", "",
             f"| vægt | {names} |", "|---:|" + "---:|" * (2 * len(sets))]
    saved = store.TIME_WEIGHT
    try:
        for w in [float(x) for x in args.weights.split(",")]:
            store.TIME_WEIGHT = w
            cells = []
            for name, ix, qs in sets:
                (hybrid,) = evaluate(ix, qs, name, modes=("hybrid",), answers=False).modes
                timed = [q for q in qs if time_focus(q.question)]
                (t,) = evaluate(ix, timed, name, modes=("hybrid",), answers=False).modes if timed else (None,)
                cells += [f"{hybrid.summary.hit1:.2f} / {hybrid.summary.hit3:.2f}",
                          f"{round(t.summary.hit1 * t.summary.n)}/{t.summary.n}" if t else "0/0"]
            lines.append(f"| {w:g} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    finally:
        store.TIME_WEIGHT = saved
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
