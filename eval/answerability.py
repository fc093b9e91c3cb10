"""Fit and check the refusal rule: features of every question on indexes of three sizes, dev vs test.

    python -m eval.answerability --out docs/eval/answerability [--fit]

Builds three indexes (the KL minutes alone; all real minutes; real + demo minutes), answers every
question of both sets on each, and records the ``Support`` features. A question is answerable on an
index when its expected items are in it; must-refuse kinds, and answerable questions whose items
the index lacks, must be refused there. ``--fit`` fits the logistic weights and the threshold on the
dev rows only (false refusals ≤ 10 % on dev, then as many refusals as possible) and prints the
constants for ``chat_app/answer.py``; the report gives dev and test side by side.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chat_app.answer import (
    ENGLISH_FEATURES,
    SUPPORT_FEATURES,
    SUPPORT_RULE,
    SupportRule,
    answer_question,
    is_english,
    support_score,
)
from eval.dataset import MUST_REFUSE_KINDS as MUST_REFUSE, NO_ITEM_KINDS, Question, load_questions
from eval.run import QUESTION_SETS, all_items, relevant

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"


@dataclass(frozen=True)
class Row:
    """One question answered on one index."""

    index: str
    question: str
    kind: str
    split: str
    answerable: bool
    refused_by_rule: bool  # refused before the score: a missing date, council, section or case
    features: dict[str, float] | None
    direct: bool


def index_files() -> dict[str, list[Path]]:
    demo = REPO / "demo" / "build" / "minutes"
    kl = CORPUS / "it-arkitekturraadet-referat.txt"
    real = [kl, CORPUS / "aarhus" / "teknisk_udvalg_referat_2025-10-01.html",
            CORPUS / "aarhus" / "aarhus_byraad_dagsorden_2025-10-08.html"]
    return {"kl": [kl], "real": real, "real+demo": real + sorted(demo.iterdir())}


def collect(embedder: object, sets: Sequence[tuple[str, list[Question]]], dbs: dict[str, Path]) -> list[Row]:
    from index.build import ingest_files
    from index.store import open_index

    rows: list[Row] = []
    for name, files in index_files().items():
        db = dbs[name]
        with open_index(db, embedder, create=True, write=True) as ix:  # type: ignore[arg-type]
            for _ in ingest_files(ix, files):  # unchanged files are skipped when --db is reused
                pass
        print(f"{name}: indeks klar", file=sys.stderr, flush=True)
        with open_index(db, embedder) as ix:  # type: ignore[arg-type]
            items = all_items(ix)
            for set_name, qs in sets:
                for q in qs:
                    if q.kind in NO_ITEM_KINDS:
                        continue  # who attended: answered from the participants list, no score decides
                    has = any(relevant(q, it) for it in items)
                    answerable = q.kind not in MUST_REFUSE and has
                    if q.kind not in MUST_REFUSE and not has and set_name == "demo" and name != "real+demo":
                        continue  # demo questions belong on the index with the demo minutes
                    a = answer_question(ix, q.question)
                    s = a.support
                    rows.append(Row(name, q.question, q.kind if answerable or q.kind in MUST_REFUSE else "absent_item",
                                    getattr(q, "split", "") or "", answerable, s is None and a.refused,
                                    s.features() if s else None, bool(s and s.direct)))
                    if len(rows) % 25 == 0:
                        print(f"{name}: {len(rows)} svar", file=sys.stderr, flush=True)
    return rows


def answers(rule: SupportRule, row: Row) -> bool:
    """True when the rule answers (does not refuse) the row."""
    if row.refused_by_rule or row.features is None:
        return False
    return row.direct or rule.passes(row.features, is_english(row.question))


def figures(rows: Sequence[Row], rule: SupportRule) -> dict[str, float]:
    ans = [r for r in rows if r.answerable]
    ref = [r for r in rows if not r.answerable]
    false_ref = sum(not answers(rule, r) for r in ans) / len(ans) if ans else math.nan
    refused = sum(not answers(rule, r) for r in ref) / len(ref) if ref else math.nan
    return {"false_refusal": false_ref, "refused_must_refuse": refused, "n_answerable": len(ans), "n_refuse": len(ref)}


def fit_rule(rows: Sequence[Row], max_false_refusal: float = 0.10) -> SupportRule:
    """The Danish score on the Danish rows (all features), the English one on the English rows (dense and names)."""
    english = [r for r in rows if is_english(r.question)]
    danish = [r for r in rows if not is_english(r.question)]
    weights, threshold = fit(danish, max_false_refusal)
    weights_en, threshold_en = fit(english, max_false_refusal, features=ENGLISH_FEATURES)
    return SupportRule(weights, threshold, weights_en, threshold_en, SUPPORT_RULE.english_needs_a_known_word)


def fit(rows: Sequence[Row], max_false_refusal: float = 0.10, l2: float = 0.01,
        features: Sequence[str] = SUPPORT_FEATURES) -> tuple[dict[str, float], float]:
    """Logistic regression (plain gradient descent) on the scorable rows, then a threshold."""
    names = tuple(features)
    data = [r for r in rows if r.features is not None and not r.direct and not r.refused_by_rule]
    x = np.array([[r.features[k] for k in names] for r in data], dtype=np.float64)  # type: ignore[index]
    y = np.array([1.0 if r.answerable else 0.0 for r in data])
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    w = np.zeros(z.shape[1])
    b = 0.0
    pos = max(y.sum(), 1.0)
    neg = max(len(y) - y.sum(), 1.0)
    cw = np.where(y > 0, len(y) / (2 * pos), len(y) / (2 * neg))  # classes weighed equally
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = (p - y) * cw
        w -= 0.1 * (z.T @ g / len(y) + l2 * w)
        b -= 0.1 * g.mean()
    # Back to raw feature units: score = bias + sum w_k * feature_k.
    raw = {k: float(w[i] / sd[i]) for i, k in enumerate(names)}
    raw["bias"] = float(b - sum(w[i] * mu[i] / sd[i] for i in range(len(names))))
    scores = sorted(support_score(r.features, raw) for r in data if r.answerable)  # type: ignore[arg-type]
    # The highest threshold that still answers ≥ 90 % of the answerable dev rows.
    cut = scores[int(math.floor(max_false_refusal * len(scores)))] if scores else 0.0
    return raw, cut - 1e-6


def _table(rows: Sequence[Row], rule: SupportRule) -> list[str]:
    out = ["| index | split | besvarbare | fejlagtigt afvist | skal afvises | afvist |", "|---|---|---:|---:|---:|---:|"]
    for name in ["kl", "real", "real+demo", "alle"]:
        for split in ("dev", "test"):
            sel = [r for r in rows if (name == "alle" or r.index == name) and r.split == split]
            f = figures(sel, rule)
            out.append(f"| {name} | {split} | {f['n_answerable']} | {_pct(f['false_refusal'])} | {f['n_refuse']} | "
                       f"{_pct(f['refused_must_refuse'])} |")
    out += ["", "| slags | split | n | svaret korrekt (besvarbar) / afvist (skal afvises) |", "|---|---|---:|---:|"]
    for kind in sorted({r.kind for r in rows}):
        for split in ("dev", "test"):
            sel = [r for r in rows if r.kind == kind and r.split == split]
            if sel:
                ok = sum(answers(rule, r) == r.answerable for r in sel) / len(sel)
                out.append(f"| {kind} | {split} | {len(sel)} | {_pct(ok)} |")
    return out


def _pct(x: float) -> str:
    return "–" if x != x else f"{100 * x:.0f} %"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path("reports/answerability"))
    ap.add_argument("--rows", type=Path, default=None, help="Genbrug målte træk (rows.json) i stedet for at måle.")
    ap.add_argument("--fit", action="store_true", help="Tilpas vægte og tærskel på dev.")
    ap.add_argument("--max-false-refusal", type=float, default=0.10,
                    help="Højst så stor en andel fejlagtige afvisninger på dev, når tærsklen vælges.")
    ap.add_argument("--db", type=Path, default=None, help="Mappe til de tre indeks (genbruges, hvis de findes).")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.rows:
        rows = [Row(**r) for r in json.loads(args.rows.read_text(encoding="utf-8"))]
    else:
        from index.embed import load_embedder

        embedder = load_embedder(None)
        sets = [(name, load_questions(path)) for name, path in QUESTION_SETS.items()]
        with tempfile.TemporaryDirectory() as tmp:
            root = args.db or Path(tmp)
            rows = collect(embedder, sets, {n: root / n.replace("+", "_") for n in index_files()})
        (args.out / "rows.json").write_text(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1),
                                            encoding="utf-8")
    rule = SUPPORT_RULE
    if args.fit:
        rule = fit_rule([r for r in rows if r.split == "dev"], args.max_false_refusal)
        print("SUPPORT_WEIGHTS =", {k: round(v, 3) for k, v in rule.weights.items()})
        print("SUPPORT_THRESHOLD =", round(rule.threshold, 3))
        print("SUPPORT_WEIGHTS_EN =", {k: round(v, 3) for k, v in rule.weights_en.items()})
        print("SUPPORT_THRESHOLD_EN =", round(rule.threshold_en, 3))
    lines = ["# Afvisning: dev og test", "",
             f"Dansk: vægte `{ {k: round(v, 3) for k, v in rule.weights.items()} }`, tærskel {rule.threshold:.3f}.",
             f"Engelsk (tætte træk og navne): vægte `{ {k: round(v, 3) for k, v in rule.weights_en.items()} }`, "
             f"tærskel {rule.threshold_en:.3f}"
             + ("; et engelsk spørgsmål uden ét ord, som indekset kender, afvises." if rule.english_needs_a_known_word
                else "."), "", *_table(rows, rule), ""]
    (args.out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
