"""Evaluation results as records, a JSON form for scripts, and a Danish Markdown report with charts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.dataset import KINDS
from eval.metrics import Summary
from index.store import SearchMode

METRICS: tuple[tuple[str, str], ...] = (
    ("hit1", "hit@1"),
    ("hit3", "hit@3"),
    ("mrr", "MRR"),
    ("ndcg10", "nDCG@10"),
)
KIND_LABELS: dict[str, str] = {
    "fact": "fakta",
    "paraphrase": "omskrevet",
    "english": "engelsk",
    "case_number": "sagsnummer",
    "change": "ændring",
    "unanswerable": "ubesvarbart",
    "person": "person",
    "typo": "tastefejl",
    "folded": "aa/ae/oe",
    "part": "del af punkt",
    "nuance": "nuance",
    "off_domain": "uden for emnet",
    "near_domain": "nær emnet",
    "missing_ref": "ukendt møde/sag",
    "meeting": "helt møde",
    "period": "tidsrum",
    "attendance": "deltagere",
    "first": "første gang",
    "position": "holdning",
}
MODE_LABELS: dict[str, str] = {"dense": "semantisk (dense)", "lexical": "ord (BM25)", "hybrid": "hybrid"}


@dataclass(frozen=True)
class ModeResult:
    """Retrieval figures for one retrieval mode, overall and per question kind."""

    mode: SearchMode
    summary: Summary
    per_kind: dict[str, Summary]


@dataclass(frozen=True)
class Worst:
    """A question retrieval got wrong, with what was expected and what came back, as display text."""

    question: str
    kind: str
    expected: str
    got: str


@dataclass(frozen=True)
class AnswerFigures:
    """Figures for generated answers: citations, refusals and latency."""

    citation_valid_share: float  # share of citations that point at a retrieved item
    refusal_rate_unanswerable: float  # wanted: high
    false_refusal_rate: float  # refusals on answerable questions; wanted: low
    n_answerable: int
    n_unanswerable: int
    latency_p50_s: float
    latency_p95_s: float
    answer_recall: float = float("nan")  # share of answers holding every must-contain fact
    answer_recall_per_kind: dict[str, float] = field(default_factory=dict)
    refusal_per_kind: dict[str, float] = field(default_factory=dict)  # must-refuse kinds: share refused
    n_with_facts: int = 0
    # "period" questions answered: share whose every citation lies in the period the question asks about
    in_period: float = float("nan")
    n_period: int = 0
    first_source: float = float("nan")  # "first" questions: the answer's first source is the earliest item
    n_first: int = 0
    newest_source: float = float("nan")  # "position" questions: the answer's first source is the newest item
    n_newest: int = 0


@dataclass(frozen=True)
class EvalResult:
    """Everything one evaluation run produced."""

    dataset: str
    index_desc: str
    modes: tuple[ModeResult, ...]
    worst: tuple[Worst, ...]
    answers: AnswerFigures | None
    command: str = "python -m eval.run"  # printed at the top so the report can be regenerated


def _num(x: float | None) -> float | None:
    # NaN (no answerable questions) is not valid JSON.
    return None if x is None or math.isnan(x) else x


def _summary_json(s: Summary) -> dict[str, Any]:
    return {"hit1": _num(s.hit1), "hit3": _num(s.hit3), "mrr": _num(s.mrr), "ndcg10": _num(s.ndcg10), "n": s.n}


def to_json(result: EvalResult) -> dict[str, Any]:
    """The result as a JSON-ready dict with stable keys (for ``--json``); NaN becomes null."""
    return {
        "dataset": result.dataset,
        "index": result.index_desc,
        "command": result.command,
        "modes": {
            m.mode: {**_summary_json(m.summary), "per_kind": {k: _summary_json(s) for k, s in m.per_kind.items()}}
            for m in result.modes
        },
        "worst": [{"question": w.question, "kind": w.kind, "expected": w.expected, "got": w.got} for w in result.worst],
        "answers": None
        if result.answers is None
        else {
            "citation_valid_share": _num(result.answers.citation_valid_share),
            "refusal_rate_unanswerable": _num(result.answers.refusal_rate_unanswerable),
            "false_refusal_rate": _num(result.answers.false_refusal_rate),
            "n_answerable": result.answers.n_answerable,
            "n_unanswerable": result.answers.n_unanswerable,
            "latency_p50_s": _num(result.answers.latency_p50_s),
            "latency_p95_s": _num(result.answers.latency_p95_s),
            "answer_recall": _num(result.answers.answer_recall),
            "answer_recall_per_kind": {k: _num(v) for k, v in result.answers.answer_recall_per_kind.items()},
            "refusal_per_kind": {k: _num(v) for k, v in result.answers.refusal_per_kind.items()},
            "n_with_facts": result.answers.n_with_facts,
            "in_period": _num(result.answers.in_period),
            "n_period": result.answers.n_period,
            "first_source": _num(result.answers.first_source),
            "n_first": result.answers.n_first,
            "newest_source": _num(result.answers.newest_source),
            "n_newest": result.answers.n_newest,
        },
    }


def fmt(x: float, digits: int = 2) -> str:
    """A number as a Danish reader writes it (decimal comma); NaN as a dash."""
    if math.isnan(x):
        return "–"
    return f"{x:.{digits}f}".replace(".", ",")


def fmt_share(x: float) -> str:
    """A share 0..1 as a Danish percentage, e.g. ``83 %``."""
    if math.isnan(x):
        return "–"
    return f"{x * 100:.0f} %"


def _cell(text: str) -> str:
    # A pipe or newline inside a cell would break the Markdown table.
    return " ".join(text.split()).replace("|", "\\|")


def _kinds_present(result: EvalResult) -> list[str]:
    # Kinds without answerable questions (unanswerable) have nothing to rank; "Svar" covers them.
    seen = {k for m in result.modes for k, s in m.per_kind.items() if s.n > 0}
    return [k for k in KINDS if k in seen] + sorted(seen - set(KINDS))


def write_report(result: EvalResult, out_dir: Path) -> Path:
    """Write report.md and its PNG charts into out_dir; return the path of report.md."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = _write_charts(result, out_dir)
    path = out_dir / "report.md"
    path.write_text(_markdown(result, charts), encoding="utf-8")
    return path


def _markdown(result: EvalResult, charts: dict[str, str]) -> str:
    lines: list[str] = [
        "# Evaluering af Rådgiver",
        "",
        "Genskab rapporten med:",
        "",
        "```",
        result.command,
        "```",
        "",
        f"- Spørgsmål: `{result.dataset}`",
        f"- Indeks: {result.index_desc}",
        "",
        "## Genfinding pr. tilstand",
        "",
        "Andel spørgsmål med et rigtigt punkt øverst (hit@1) og blandt de tre første (hit@3), "
        "gennemsnitlig reciprok rang (MRR) og nDCG@10. Ubesvarbare spørgsmål tæller ikke med her.",
        "",
        "| tilstand | hit@1 | hit@3 | MRR | nDCG@10 | spørgsmål |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for m in result.modes:
        s = m.summary
        lines.append(
            f"| {MODE_LABELS.get(m.mode, m.mode)} | {fmt(s.hit1)} | {fmt(s.hit3)} | {fmt(s.mrr)} "
            f"| {fmt(s.ndcg10)} | {s.n} |"
        )
    if "modes" in charts:
        lines += ["", f"![Genfinding pr. tilstand]({charts['modes']})"]

    lines += ["", "## Pr. spørgsmålstype", ""]
    kinds = _kinds_present(result)
    if kinds and result.modes:
        lines += [
            "hit@3 / MRR pr. spørgsmålstype og tilstand. Ubesvarbare spørgsmål måles under »Svar«.",
            "",
            "| type | " + " | ".join(MODE_LABELS.get(m.mode, m.mode) for m in result.modes) + " | spørgsmål |",
            "|---|" + "---:|" * len(result.modes) + "---:|",
        ]
        for kind in kinds:
            cells = []
            n = 0
            for m in result.modes:
                ks = m.per_kind.get(kind)
                cells.append("–" if ks is None else f"{fmt(ks.hit3)} / {fmt(ks.mrr)}")
                n = max(n, 0 if ks is None else ks.n)
            lines.append(f"| {KIND_LABELS.get(kind, kind)} | " + " | ".join(cells) + f" | {n} |")
        if "kinds" in charts:
            lines += ["", f"![Pr. spørgsmålstype]({charts['kinds']})"]
    else:
        lines.append("Ingen tal pr. spørgsmålstype.")

    lines += ["", "## Svar", ""]
    a = result.answers
    if a is None:
        lines.append("Svar blev ikke genereret i denne kørsel (kun genfinding).")
    else:
        lines += [
            "| mål | værdi |",
            "|---|---:|",
            f"| gyldige kildehenvisninger | {fmt_share(a.citation_valid_share)} |",
            f"| afviste ubesvarbare spørgsmål ({a.n_unanswerable}) | {fmt_share(a.refusal_rate_unanswerable)} |",
            f"| fejlagtigt afviste besvarbare spørgsmål ({a.n_answerable}) | {fmt_share(a.false_refusal_rate)} |",
            f"| svar med alle forventede fakta ({a.n_with_facts}) | {fmt_share(a.answer_recall)} |",
            *([f"| tidsrum: svar, der kun citerer møder i tidsrummet ({a.n_period}) | {fmt_share(a.in_period)} |"]
              if a.n_period else []),
            *([f"| første gang: svar, hvis første kilde er det første punkt om emnet ({a.n_first}) | "
               f"{fmt_share(a.first_source)} |"] if a.n_first else []),
            *([f"| holdning: svar, hvis første kilde er det nyeste punkt om emnet ({a.n_newest}) | "
               f"{fmt_share(a.newest_source)} |"] if a.n_newest else []),
            f"| svartid, median | {fmt(a.latency_p50_s, 1)} s |",
            f"| svartid, 95-percentil | {fmt(a.latency_p95_s, 1)} s |",
        ]

        if a.answer_recall_per_kind or a.refusal_per_kind:
            lines += ["", "| type | svar med forventede fakta | afvist |", "|---|---:|---:|"]
            for kind, v in a.answer_recall_per_kind.items():
                lines.append(f"| {KIND_LABELS.get(kind, kind)} | {fmt_share(v)} | |")
            for kind, v in a.refusal_per_kind.items():
                lines.append(f"| {KIND_LABELS.get(kind, kind)} | | {fmt_share(v)} |")

    lines += ["", "## Dårligste spørgsmål", ""]
    if result.worst:
        lines += ["| spørgsmål | type | forventet | fundet |", "|---|---|---|---|"]
        for w in result.worst:
            lines.append(
                f"| {_cell(w.question)} | {KIND_LABELS.get(w.kind, w.kind)} | {_cell(w.expected)} | {_cell(w.got)} |"
            )
    else:
        lines.append("Ingen – alle spørgsmål fandt et rigtigt punkt øverst.")
    return "\n".join(lines) + "\n"


def _write_charts(result: EvalResult, out_dir: Path) -> dict[str, str]:
    if not result.modes:
        return {}
    # Imported here: matplotlib is slow to import and only the report needs it; Agg needs no display.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    comma = FuncFormatter(lambda v, _pos: fmt(v, 1))
    charts: dict[str, str] = {}
    modes = [m.mode for m in result.modes]
    width = 0.8 / len(modes)

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, m in enumerate(result.modes):
        values = [_zero_nan(getattr(m.summary, key)) for key, _ in METRICS]
        xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(METRICS))]
        bars = ax.bar(xs, values, width, label=MODE_LABELS.get(m.mode, m.mode))
        ax.bar_label(bars, labels=[fmt(v) for v in values], fontsize=7, padding=2)
    ax.set_xticks(range(len(METRICS)), [label for _, label in METRICS])
    ax.set_ylim(0, 1.1)
    ax.yaxis.set_major_formatter(comma)
    ax.set_title("Genfinding pr. tilstand")
    # Below the axes: inside, it would cover the bars it explains.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(modes), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(out_dir / "modes.png", dpi=110)
    plt.close(fig)
    charts["modes"] = "modes.png"

    kinds = _kinds_present(result)
    if kinds:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
        for ax, (key, label) in zip(axes, (("hit3", "hit@3"), ("mrr", "MRR"))):
            for i, m in enumerate(result.modes):
                values = [_zero_nan(getattr(m.per_kind[k], key)) if k in m.per_kind else 0.0 for k in kinds]
                xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(kinds))]
                ax.bar(xs, values, width, label=MODE_LABELS.get(m.mode, m.mode))
            ax.set_xticks(range(len(kinds)), [KIND_LABELS.get(k, k) for k in kinds], rotation=30, ha="right")
            ax.set_ylim(0, 1.05)
            ax.yaxis.set_major_formatter(comma)
            ax.set_title(label)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=len(modes), fontsize=8, frameon=False)
        fig.suptitle("Pr. spørgsmålstype")
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        fig.savefig(out_dir / "kinds.png", dpi=110)
        plt.close(fig)
        charts["kinds"] = "kinds.png"
    return charts


def _zero_nan(x: float) -> float:
    # A kind with no answerable questions draws as an empty bar, not a crash.
    return 0.0 if math.isnan(x) else x


def split_markdown(results: dict[str, EvalResult]) -> str:
    """Dev and test halves side by side: what was tuned on, and what it says about unseen questions."""
    names = list(results)
    lines = ["# Evaluering: dev og test side om side", "",
             "Regler, tærskler og vægte er valgt på dev-halvdelen; test-halvdelen er ikke brugt til at vælge noget.",
             "", "```", next(iter(results.values())).command if results else "", "```", "",
             "| mål | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    modes = [m.mode for m in next(iter(results.values())).modes] if results else []
    for mode in modes:
        for key, label in (("hit1", "hit@1"), ("hit3", "hit@3")):
            cells = [fmt(getattr(next(m for m in r.modes if m.mode == mode).summary, key)) for r in results.values()]
            lines.append(f"| {MODE_LABELS.get(mode, mode)} {label} | " + " | ".join(cells) + " |")
    kinds = sorted({k for r in results.values() for m in r.modes if m.mode == "hybrid" for k in m.per_kind})
    for kind in kinds:
        cells = []
        for r in results.values():
            ks = next(m for m in r.modes if m.mode == "hybrid").per_kind.get(kind)
            cells.append("–" if ks is None or ks.n == 0 else f"{fmt(ks.hit1)} / {fmt(ks.hit3)} ({ks.n})")
        lines.append(f"| hybrid hit@1 / hit@3: {KIND_LABELS.get(kind, kind)} | " + " | ".join(cells) + " |")
    if all(r.answers for r in results.values()):
        ans = [r.answers for r in results.values() if r.answers]
        lines += [
            "| gyldige kildehenvisninger | " + " | ".join(fmt_share(a.citation_valid_share) for a in ans) + " |",
            "| svar med forventede fakta | " + " | ".join(fmt_share(a.answer_recall) for a in ans) + " |",
            "| afviste (skal afvises) | " + " | ".join(f"{fmt_share(a.refusal_rate_unanswerable)} ({a.n_unanswerable})" for a in ans) + " |",
            "| fejlagtigt afviste | " + " | ".join(f"{fmt_share(a.false_refusal_rate)} ({a.n_answerable})" for a in ans) + " |",
        ]
        if any(a.n_period for a in ans):
            lines.append("| tidsrum: kun kilder i tidsrummet | "
                         + " | ".join(f"{fmt_share(a.in_period)} ({a.n_period})" for a in ans) + " |")
        if any(a.n_first for a in ans):
            lines.append("| første gang: første kilde er det første punkt | "
                         + " | ".join(f"{fmt_share(a.first_source)} ({a.n_first})" for a in ans) + " |")
        if any(a.n_newest for a in ans):
            lines.append("| holdning: første kilde er det nyeste punkt | "
                         + " | ".join(f"{fmt_share(a.newest_source)} ({a.n_newest})" for a in ans) + " |")
        for kind in sorted({k for a in ans for k in a.answer_recall_per_kind}):
            lines.append(f"| fakta i svar: {KIND_LABELS.get(kind, kind)} | "
                         + " | ".join(fmt_share(a.answer_recall_per_kind.get(kind, float("nan"))) for a in ans) + " |")
        for kind in sorted({k for a in ans for k in a.refusal_per_kind}):
            lines.append(f"| afvist: {KIND_LABELS.get(kind, kind)} | "
                         + " | ".join(fmt_share(a.refusal_per_kind.get(kind, float("nan"))) for a in ans) + " |")
    return "\n".join(lines) + "\n"
