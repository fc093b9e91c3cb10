"""The hubness penalty swept on one half of the question sets: hit@1/hit@3 per weight and neighbourhood.

    python -m eval.hubness --split dev --db real=/tmp/realdb --db demo=.demo-db [--out docs/eval/hubness-dev.md]

Each ``--db NAME=DIR`` is an index built from the minutes the set NAME (eval/questions/NAME.jsonl) asks
about. For every (k, weight) the passages' hubness is recomputed in memory and every answerable question of
the half is searched (dense and hybrid, with the case-number and section routing, as ``raadgiver eval``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import index.store as store
from eval.run import evaluate, sweep_sets
from index.embed import load_embedder

WEIGHTS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0)
KS = (3, 10, 20, 30, 50)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=("dev", "test"), required=True)
    ap.add_argument("--db", action="append", required=True, help="NAME=MAPPE, f.eks. real=/tmp/realdb")
    ap.add_argument("--weights", default=",".join(map(str, WEIGHTS)))
    ap.add_argument("--ks", default=",".join(map(str, KS)))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    embedder = load_embedder(None)
    sets = sweep_sets(args.db, args.split, embedder)
    names = " | ".join(f"{n} dense | {n} hybrid | {n} omskrevet" for n, _, _ in sets)
    lines = [f"# Hubness-straf, {args.split}-halvdelen", "",
             "hit@1 / hit@3; omskrevet: hybrid hit@1 (antal). Vægt 0 er uden straf.", "",
             f"Genskabes med `python -m eval.hubness --split {args.split} "
             + " ".join(f"--db {spec}" for spec in args.db) + "`.", "",
             f"| k | vægt | {names} |", "|---|---:|" + "---:|" * (3 * len(sets))]
    saved = store.HUB_WEIGHT, store.HUB_K
    try:
        for k in [int(x) for x in args.ks.split(",")]:
            store.HUB_K = k
            for _, ix, _ in sets:
                d = ix.derived()
                if d.vectors is not None and d.row_items is not None and d.sentence_vectors is not None \
                        and d.sentence_bounds is not None:
                    object.__setattr__(d, "hub", store._hub(d.vectors, d.row_items, d.sentence_vectors,
                                                             d.sentence_bounds))
            for w in [float(x) for x in args.weights.split(",")]:
                if w == 0.0 and k != int(args.ks.split(",")[0]):
                    continue
                store.HUB_WEIGHT = w
                cells = []
                for name, ix, qs in sets:
                    dense, hybrid = evaluate(ix, qs, name, modes=("dense", "hybrid"), answers=False).modes
                    para = hybrid.per_kind.get("paraphrase")
                    cells += [f"{dense.summary.hit1:.2f} / {dense.summary.hit3:.2f}",
                              f"{hybrid.summary.hit1:.2f} / {hybrid.summary.hit3:.2f}",
                              f"{round(para.hit1 * para.n) if para else 0}/{para.n if para else 0}"]
                lines.append(f"| {k if w else '–'} | {w:g} | " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
    finally:
        store.HUB_WEIGHT, store.HUB_K = saved
    text = "\n".join(lines) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
