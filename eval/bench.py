"""Speed and memory: ingest throughput, search latency against index size, ask latency, start-up."""

from __future__ import annotations

import json
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from chat_app.answer import answer_question
from eval.metrics import percentile
from index.build import add_meeting, embedding_text
from index.store import open_index
from ingest.chunk import chunk_meeting
from ingest.parse import parse_meeting
from ingest.read import read_document
from ingest.records import Meeting

DEMO_SOURCES = Path(__file__).resolve().parents[1] / "demo" / "minutes"
QUERIES = (
    "Hvad mente rådet om open source?",
    "Hvordan har holdningen til cloud udviklet sig?",
    "Hvilke krav stilles til exitplaner i kontrakter?",
    "Må medarbejdere bruge generativ AI med borgerdata?",
    "Hvad blev besluttet om fælles brugerstyring?",
    "What did the council say about local language models?",
    "Hvordan sikres it-beredskabet ved nedbrud?",
    "Hvilke standarder gælder for API'er?",
)
MUNICIPALITIES = ("Nordby", "Sønderå", "Vestlund", "Østerhavn", "Bakkedal", "Skovmose", "Fjordvig", "Engholm")


@dataclass(frozen=True)
class SizePoint:
    """Search latency at one index size."""

    passages: int
    inproc_p50_ms: float
    inproc_p95_ms: float
    cli_p50_s: float
    cli_p95_s: float
    cli_peak_rss_mb: float


@dataclass(frozen=True)
class BenchResult:
    """Everything one benchmark run measured."""

    model: str
    ingest_passages_per_s: float
    raw_encode_passages_per_s: float
    ingest_to_raw_ratio: float
    reingest_unchanged_s: float
    reingest_embedded: int
    startup_help_s: float
    ask_p50_s: float
    ask_p95_s: float
    sizes: tuple[SizePoint, ...]


def base_meetings() -> list[Meeting]:
    """The fictional demo minutes, parsed: the material the synthetic corpus is varied from."""
    return [parse_meeting(read_document(p)) for p in sorted(DEMO_SOURCES.glob("*.txt"))]


def vary(meeting: Meeting, n: int, rng: random.Random) -> Meeting:
    """A new fictional meeting: other municipality names, date, case numbers and sentence order."""
    town = rng.choice(MUNICIPALITIES)
    day = date(2020, 1, 1) + timedelta(days=rng.randrange(0, 2500))

    def mangle(text: str) -> str:
        text = re.sub(r"\b(Bølgeby|Fiktiv Kommune|Fiktivt)\b", town, text)
        paras = text.split("\n")
        rng.shuffle(paras)
        return "\n".join(paras)

    items = tuple(
        replace(it, text=mangle(it.text), case_number=f"SAG-{day.year}-{rng.randrange(10000, 99999)}",
                title=f"{it.title} ({town})")
        for it in meeting.items
    )
    return replace(meeting, council=f"{meeting.council} {n % 5}", meeting_date=day, items=items,
                   source=f"bench://{n:06d}", content_hash=f"bench-{n:06d}")


def synthetic(count: int, seed: int = 7) -> list[Meeting]:
    """Meetings until they hold at least ``count`` passages."""
    rng = random.Random(seed)
    base = base_meetings()
    out, total, n = [], 0, 0
    while total < count:
        m = vary(rng.choice(base), n, rng)
        total += len(chunk_meeting(m))
        out.append(m)
        n += 1
    return out


def _cli(args: Sequence[str]) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one CLI run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "chat_app.cli", *args], check=True, capture_output=True)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def run_bench(out: Path, sizes: Sequence[int] = (1000, 10000), model: str | None = None, cli_runs: int = 5) -> BenchResult:
    """Build a growing index of synthetic passages and measure at each size."""
    from index.embed import load_embedder

    embedder = load_embedder(model)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="raadgiver-bench-"))
    try:
        meetings = synthetic(max(sizes))
        # Raw encoder rate on the same passage texts, batch size as ingest uses.
        sample = [embedding_text(c.title, c.text) for m in meetings[:40] for c in chunk_meeting(m)][:512]
        start = time.perf_counter()
        embedder.embed(sample, "passage")
        raw_rate = len(sample) / (time.perf_counter() - start)

        points: list[SizePoint] = []
        ingest_time = 0.0
        ingested = 0
        db = work / "db"
        pos = 0
        for size in sorted(sizes):
            with open_index(db, embedder, create=True, write=True) as index:
                while index.manifest.counts.get("chunks", 0) < size and pos < len(meetings):
                    t = time.perf_counter()
                    _, n = add_meeting(index, meetings[pos])
                    if ingested < 2000:  # ingest rate from the first passages, like the raw rate
                        ingest_time += time.perf_counter() - t
                        ingested += n
                    pos += 1
                actual = index.manifest.counts["chunks"]
                for q in QUERIES:  # warm up: model, BM25 build
                    index.search(q)
                lat = []
                for _ in range(3):
                    for q in QUERIES:
                        index._qcache.clear()
                        t = time.perf_counter()
                        index.search(q)
                        lat.append((time.perf_counter() - t) * 1000)
            cli = [_cli(["search", QUERIES[i % len(QUERIES)], "--db", str(db), *(["--model", model] if model else [])])
                   for i in range(cli_runs)]
            walls = [w for w, _ in cli]
            points.append(SizePoint(actual, percentile(lat, 50), percentile(lat, 95), percentile(walls, 50),
                                    percentile(walls, 95), max(r for _, r in cli)))
            print(f"{actual} passager: søgning p50 {points[-1].inproc_p50_ms:.0f} ms, CLI p50 {points[-1].cli_p50_s:.1f} s",
                  file=sys.stderr)

        with open_index(db, embedder, write=True) as index:
            gen = index.manifest.generation
            t = time.perf_counter()
            for m in meetings[: min(20, pos)]:
                if index.manifest.committed().get(m.source) != m.content_hash:
                    add_meeting(index, m)
            reingest_s = time.perf_counter() - t
            reembedded = index.manifest.generation - gen
            asks = []
            for q in QUERIES:
                t = time.perf_counter()
                answer_question(index, q)
                asks.append(time.perf_counter() - t)
        helps = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "chat_app.cli", "--help"], check=True, capture_output=True)
            helps.append(time.perf_counter() - t)
        ingest_rate = ingested / ingest_time if ingest_time else float("nan")
        result = BenchResult(
            model=embedder.name, ingest_passages_per_s=ingest_rate, raw_encode_passages_per_s=raw_rate,
            ingest_to_raw_ratio=ingest_rate / raw_rate, reingest_unchanged_s=reingest_s, reingest_embedded=reembedded,
            startup_help_s=min(helps), ask_p50_s=percentile(asks, 50), ask_p95_s=percentile(asks, 95),
            sizes=tuple(points),
        )
        write_bench(result, out)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_bench(result: BenchResult, out: Path) -> None:
    """bench.json, bench.md (a table) and latency.png (latency against index size)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (out / "bench.json").write_text(json.dumps(asdict(result), ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [
        "# Rådgiver – hastighed og hukommelse", "",
        f"Genskabes med `raadgiver bench --out {out} --sizes {','.join(str(p.passages) for p in result.sizes)}`.", "",
        f"- Model: {result.model}",
        f"- Indlæsning: {result.ingest_passages_per_s:.1f} passager/s; rå `SentenceTransformer.encode`: "
        f"{result.raw_encode_passages_per_s:.1f} passager/s; forhold {result.ingest_to_raw_ratio:.0%}",
        f"- Genindlæsning af uændrede møder: {result.reingest_unchanged_s:.2f} s, {result.reingest_embedded} indlejret",
        f"- `raadgiver --help`: {result.startup_help_s:.2f} s",
        f"- `ask` (ekstraktivt, i processen): p50 {result.ask_p50_s:.2f} s, p95 {result.ask_p95_s:.2f} s", "",
        "| passager | søgning p50 (ms) | søgning p95 (ms) | CLI p50 (s) | CLI p95 (s) | CLI maks. RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for p in result.sizes:
        lines.append(f"| {p.passages} | {p.inproc_p50_ms:.0f} | {p.inproc_p95_ms:.0f} | {p.cli_p50_s:.2f} | "
                     f"{p.cli_p95_s:.2f} | {p.cli_peak_rss_mb:.0f} |")
    lines += ["", "![Svartid mod indeksstørrelse](latency.png)", ""]
    (out / "bench.md").write_text("\n".join(lines), encoding="utf-8")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    xs = [p.passages for p in result.sizes]
    ax.plot(xs, [p.inproc_p50_ms for p in result.sizes], "o-", label="søgning p50 (ms, i processen)")
    ax.plot(xs, [p.inproc_p95_ms for p in result.sizes], "o--", label="søgning p95 (ms, i processen)")
    ax.set_xscale("log")
    ax.set_xlabel("passager i indekset")
    ax.set_ylabel("ms")
    ax.legend(fontsize=8)
    ax.set_title("Søgetid mod indeksstørrelse")
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=120)
    plt.close(fig)
