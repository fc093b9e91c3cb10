"""A team server under load: many clients at once through /v1 and the Gradio page, timed per answer.

``run_load`` drives a running ``raadgiver serve``; ``run_load_bench`` starts one over the demo minutes
and reports answers per second and p50/p95 latency at 1, 5 and 20 concurrent clients (``raadgiver bench --load``).
"""

from __future__ import annotations

import html
import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

Kind = Literal["openai", "gradio"]
REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo" / "minutes"
# Questions over the fictional demo minutes, each with the case numbers a right answer cites first.
LOAD_QUESTIONS: dict[str, frozenset[str]] = {
    "Hvad mente rådet om open source?": frozenset({"SAG-2024-00311", "SAG-2025-00142", "SAG-2026-00031"}),
    "Hvad blev der besluttet under SAG-2025-00142?": frozenset({"SAG-2025-00142"}),
    "Hvad skal en exitplan i kontrakter om cloudtjenester indeholde?": frozenset(
        {"SAG-2025-00167", "26/0388", "SAG-2026-00045"}),
    "Hvad koster omlægningen af AI-assistenten i Borgerservice?": frozenset({"26/0301", "25/1045"}),
}
CASE_IN_PAGE = re.compile(r'<div class="raad-hvor">[^<]*? · ([^<·]+?)</div>')


@dataclass(frozen=True)
class Reply:
    """One answer as a client got it."""

    kind: Kind
    question: str
    seconds: float
    cases: tuple[str, ...]  # case numbers cited, in order
    refused: bool
    error: str | None = None


@dataclass(frozen=True)
class LoadFigures:
    """Throughput and latency at one level of concurrency."""

    clients: int
    answers: int
    errors: int
    seconds: float
    answers_per_s: float
    p50_s: float
    p95_s: float


def figures(replies: Sequence[Reply], clients: int, seconds: float) -> LoadFigures:
    lat = [r.seconds for r in replies if r.error is None]
    return LoadFigures(
        clients=clients, answers=len(lat), errors=sum(1 for r in replies if r.error is not None), seconds=seconds,
        answers_per_s=len(lat) / seconds if seconds > 0 else 0.0,
        p50_s=float(np.percentile(lat, 50)) if lat else float("nan"),
        p95_s=float(np.percentile(lat, 95)) if lat else float("nan"),
    )


def ask_openai(url: str, question: str, api_key: str | None = None, timeout: float = 300) -> Reply:
    """One non-streamed chat completion through /v1 (plain HTTP: what any OpenAI client sends)."""
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    start = time.perf_counter()
    try:
        r = httpx.post(f"{url}/v1/chat/completions", headers=headers, timeout=timeout,
                       json={"model": "raadgiver", "messages": [{"role": "user", "content": question}]})
        seconds = time.perf_counter() - start
        if r.status_code != 200:
            return Reply("openai", question, seconds, (), False, f"HTTP {r.status_code}: {r.text[:200]}")
        body = r.json()["raadgiver"]
        cases = tuple(c["case_number"] or "" for c in body["citations"])
        return Reply("openai", question, seconds, cases, bool(body["refused"]))
    except Exception as exc:  # a load test reports failures, it does not stop at the first
        return Reply("openai", question, time.perf_counter() - start, (), False, f"{type(exc).__name__}: {exc}")


def ask_gradio(client: Any, question: str) -> Reply:
    """One question through the page's /chat endpoint (gradio_client)."""
    start = time.perf_counter()
    try:
        messages, _ = client.predict(question, [], "Alle råd og udvalg", "", "", "", api_name="/chat")
        seconds = time.perf_counter() - start
        content = messages[-1]["content"]
        text = "".join(p.get("text", "") for p in content) if isinstance(content, list) else str(content)
        cases = tuple(html.unescape(m.group(1)).strip() for m in CASE_IN_PAGE.finditer(text))
        return Reply("gradio", question, seconds, cases, "raad-kilde" not in text)
    except Exception as exc:
        return Reply("gradio", question, time.perf_counter() - start, (), False, f"{type(exc).__name__}: {exc}")


def run_load(url: str, questions: Sequence[str], clients: int, per_client: int, *, api_key: str | None = None,
             kinds: Sequence[Kind] = ("openai", "gradio"), during: Callable[[], Any] | None = None,
             ) -> tuple[list[Reply], LoadFigures, Any]:
    """``clients`` threads asking ``per_client`` questions each, all starting together.

    Client i uses ``kinds[i % len(kinds)]``; ``during`` (e.g. an upload) runs beside them once the first
    answers are in, and its result is returned third.
    """
    from gradio_client import Client

    gradio_clients = {i: Client(url, verbose=False) for i in range(clients) if kinds[i % len(kinds)] == "gradio"}
    replies: list[list[Reply]] = [[] for _ in range(clients)]
    start_line = threading.Barrier(clients + 1)
    first_answer = threading.Event()
    side: dict[str, Any] = {}

    def client(i: int) -> None:
        start_line.wait()
        for j in range(per_client):
            q = questions[(i + j) % len(questions)]
            r = ask_gradio(gradio_clients[i], q) if i in gradio_clients else ask_openai(url, q, api_key)
            replies[i].append(r)
            first_answer.set()

    def beside() -> None:
        first_answer.wait(timeout=300)
        side["result"] = during() if during is not None else None

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    extra = threading.Thread(target=beside) if during is not None else None
    for t in threads:
        t.start()
    if extra is not None:
        extra.start()
    start_line.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - began
    if extra is not None:
        extra.join()
    flat = [r for rs in replies for r in rs]
    return flat, figures(flat, clients, seconds), side.get("result")


# --------------------------------------------------------------------------- the bench


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[str] | None, timeout: float = 300, log: Path | None = None,
            poll: float = 0.5) -> None:
    """Return once ``raadgiver serve`` at ``url`` answers; fail when it stops or does not answer in time
    (with its output from ``log``, when given)."""
    import httpx

    def output() -> str:
        return f":\n{log.read_text(encoding='utf-8', errors='replace')}" if log else ""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"raadgiver serve stoppede ({proc.returncode}){output()}")
        try:
            if httpx.get(f"{url}/config", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(poll)
    raise RuntimeError(f"raadgiver serve svarede ikke på {url} inden for {timeout:.0f} s{output()}")


def run_load_bench(out: Path, model: str | None = None, levels: Sequence[int] = (1, 5, 20),
                   per_client: int = 5) -> list[LoadFigures]:
    """Serve the demo minutes on loopback and measure answers/s and p50/p95 at each level; writes load.md/.json."""
    cli = [sys.executable, "-m", "chat_app.cli"]
    model_args = ["--model", model] if model else []
    questions = list(LOAD_QUESTIONS)
    results: list[LoadFigures] = []
    correct: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="raadgiver-load-") as tmp:
        db = Path(tmp) / "db"
        subprocess.run(cli + ["ingest", str(DEMO), "--db", str(db)] + model_args, check=True, capture_output=True,
                       cwd=REPO)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(cli + ["serve", "--db", str(db), "--port", str(port)] + model_args,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
        try:
            wait_up(url, proc)
            run_load(url, questions, 1, 2)  # warm up: the model's first calls, the BM25 cache
            for n in levels:
                replies, fig, _ = run_load(url, questions, n, per_client)
                results.append(fig)
                correct[n] = sum(1 for r in replies if r.error is None and r.cases and r.cases[0] in
                                 LOAD_QUESTIONS[r.question]) / max(1, len(replies))
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    out.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(f), "first_citation_right": correct[f.clients]} for f in results]
    (out / "load.json").write_text(json.dumps({"model": model or "multilingual-e5-small (standard)",
                                               "per_client": per_client, "levels": rows}, indent=2), encoding="utf-8")
    lines = [f"# Belastning: {per_client} spørgsmål pr. klient, halvdelen via /v1, halvdelen via Gradio-siden",
             "", f"Model: {model or 'multilingual-e5-small (standard)'}; demo-referaterne; ekstraktive svar.", "",
             "| klienter samtidig | svar | fejl | svar/s | p50 | p95 | første kilde rigtig |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['clients']} | {r['answers']} | {r['errors']} | {_da(r['answers_per_s'], 2)} | "
                     f"{_da(r['p50_s'], 2)} s | {_da(r['p95_s'], 2)} s | {r['first_citation_right']:.0%} |")
    (out / "load.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return results


def _da(x: float, digits: int) -> str:
    return f"{x:.{digits}f}".replace(".", ",")
