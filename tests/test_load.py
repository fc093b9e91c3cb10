"""A team server: answers side by side, uploads alone, a language model with a bounded number in flight."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat_app.concurrency import BoundedGenerator, ReadWriteLock
from eval.load import LOAD_QUESTIONS, figures, run_load
from tests.conftest import REPO, Raadgiver, stop
from tests.test_ui import free_port, small_minutes, start_serve

DEMO = REPO / "demo" / "minutes"
KEY = "belastning-1234"
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


# --------------------------------------------------------------------------- the lock


def test_readers_share_and_a_writer_is_alone() -> None:
    gate = ReadWriteLock()
    gate.acquire_read()
    assert gate.acquire_read(blocking=False)  # two readers at once
    wrote = threading.Event()

    def writer() -> None:
        with gate.write():
            wrote.set()

    t = threading.Thread(target=writer)
    t.start()
    while not gate.writer_active:  # the writer is waiting for the two readers
        time.sleep(0.01)
    assert not gate.acquire_read(blocking=False)  # a waiting writer goes before new readers
    assert not wrote.is_set()
    gate.release_read()
    assert not wrote.is_set()  # one reader left
    gate.release_read()
    t.join(10)
    assert wrote.is_set() and not gate.writer_active
    assert gate.acquire_read(blocking=False)
    gate.release_read()


# --------------------------------------------------------------------------- a model server, bounded


class CountingModel(BaseHTTPRequestHandler):
    """A local OpenAI-compatible server that streams slowly and counts requests in flight."""

    lock = threading.Lock()
    in_flight = 0
    peak = 0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        with CountingModel.lock:
            CountingModel.in_flight += 1
            CountingModel.peak = max(CountingModel.peak, CountingModel.in_flight)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in ("Rådet ", "godkendte ", "det [1]."):
                self.wfile.write(f"data: {json.dumps({'choices': [{'delta': {'content': piece}}]})}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.15)
        finally:
            # Leave the count before the last line: once the client reads [DONE] it frees its slot and may send
            # the next request at once, which must not find this one still counted.
            with CountingModel.lock:
                CountingModel.in_flight -= 1
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: Any) -> None:
        pass


def test_model_server_gets_a_bounded_number_of_requests() -> None:
    from chat_app.generate import OpenAICompatible

    server = ThreadingHTTPServer(("127.0.0.1", 0), CountingModel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bounded = BoundedGenerator(OpenAICompatible(f"http://127.0.0.1:{server.server_port}/v1", "m"), limit=2)
        with ThreadPoolExecutor(max_workers=6) as pool:
            texts = list(pool.map(lambda _: "".join(bounded.generate([{"role": "user", "content": "x"}])), range(6)))
    finally:
        server.shutdown()
    assert texts == ["Rådet godkendte det [1]."] * 6
    assert CountingModel.peak == 2 and bounded.peak == 2  # parallel, but never more than the limit
    assert bounded.in_flight == 0 and bounded.name == "openai:m"


# --------------------------------------------------------------------------- an upload holds the index


def test_question_during_upload_says_so_then_answers(tmp_path: Path, hash_embedder: Any) -> None:
    from gradio_client import Client

    from chat_app.openai_api import routes
    from chat_app.ui import ALL_COUNCILS, build_app, launch
    from index.build import ingest_files
    from index.store import open_index

    db = tmp_path / "db"
    with open_index(db, hash_embedder, create=True, write=True) as index:
        list(ingest_files(index, sorted(DEMO.glob("*.txt"))))
    index = open_index(db, hash_embedder)
    gate = ReadWriteLock()
    app = build_app(index, None, upload_dir=tmp_path / "up", gate=gate)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        launch(app, port=port, block=False, routes=routes(index, None, gate, None))
        gate.acquire_write()  # as an upload does
        try:
            job = Client(url, verbose=False).submit("Hvad blev der besluttet under SAG-2025-00142?", [],
                                                    ALL_COUNCILS, "", "", "", api_name="/chat")
            with ThreadPoolExecutor(max_workers=1) as pool:
                api = pool.submit(httpx.post, f"{url}/v1/chat/completions", timeout=60, json={
                    "messages": [{"role": "user", "content": "Hvad blev der besluttet under SAG-2025-00142?"}]})
                deadline = time.monotonic() + 30
                while not any("indlæses referater lige nu" in str(o) for o in job.outputs()):
                    assert time.monotonic() < deadline, job.outputs()
                    time.sleep(0.1)
                assert not job.done() and not api.done()  # both wait for the upload …
                gate.release_write()
                reply = api.result(timeout=60)
        finally:
            if gate.writer_active:
                gate.release_write()
        final = str(job.result(timeout=60)[0][-1]["content"])
        assert "SAG-2025-00142" in final and "raad-kilde" in final  # … and then answer
        assert reply.status_code == 200 and reply.json()["raadgiver"]["citations"][0]["case_number"] == "SAG-2025-00142"
    finally:
        app.close()
        index.close()


# --------------------------------------------------------------------------- 20 clients and an upload


def test_twenty_clients_and_an_upload(raadgiver: Raadgiver, tmp_path: Path) -> None:
    """20 clients × 5 questions, half through /v1 and half through the page, while a file is uploaded."""
    from gradio_client import Client, handle_file

    db = tmp_path / "db"
    r = raadgiver("ingest", DEMO, "--model", "hash", db=db)
    assert r.returncode == 0, r.stderr
    before = raadgiver.json("items", db=db)
    new = tmp_path / "miljoe-2026-05-07.txt"
    new.write_text(small_minutes("Miljøudvalget, Fiktiv Kommune", "7. maj 2026", "Sortering af madaffald",
                                 "26/4001", "Udvalget godkendte sortering af madaffald i alle etageboliger."),
                   encoding="utf-8")
    log = tmp_path / "serve.log"
    proc, url = start_serve(raadgiver, db, log, "--api-key", KEY)
    try:

        def upload() -> str:
            return str(Client(url, verbose=False).predict([handle_file(str(new))], api_name="/add_minutes")[0])

        replies, fig, status = run_load(url, list(LOAD_QUESTIONS), clients=20, per_client=5, api_key=KEY,
                                        during=upload)
        after = last_case(url, "Hvad godkendte udvalget om sortering af madaffald?")
    finally:
        stop(proc)
    assert fig.answers == 100 and fig.errors == 0, [r.error for r in replies if r.error][:3]
    assert {r.kind for r in replies} == {"openai", "gradio"}
    for r in replies:
        assert not r.refused and r.cases and r.cases[0] in LOAD_QUESTIONS[r.question], r
    assert status.startswith("ny         miljoe-2026-05-07.txt (1 punkter"), status
    assert after == "26/4001"
    # The index is whole afterwards: the old items and exactly the new one, counts as the manifest says.
    items = raadgiver.json("items", db=db)
    assert len(items) == len(before) + 1 and [i for i in items if i not in before][0]["case_number"] == "26/4001"
    info = json.loads(raadgiver("info", db=db).stdout)
    assert info["counts"]["items"] == len(items) and info["counts"]["meetings"] == len({i["source"] for i in items})
    assert "Traceback" not in log.read_text()


def last_case(url: str, question: str) -> str:
    r = httpx.post(f"{url}/v1/chat/completions", headers={"Authorization": f"Bearer {KEY}"}, timeout=60,
                   json={"messages": [{"role": "user", "content": question}]})
    return str(r.json()["raadgiver"]["citations"][0]["case_number"])


def test_figures_are_plain_arithmetic() -> None:
    from eval.load import Reply

    replies = [Reply("openai", "q", s, ("A",), False) for s in (1.0, 2.0, 3.0, 4.0)] + [
        Reply("gradio", "q", 9.0, (), False, "fejl")]
    fig = figures(replies, clients=2, seconds=2.0)
    assert (fig.answers, fig.errors, fig.answers_per_s) == (4, 1, 2.0)
    assert fig.p50_s == 2.5 and fig.p95_s == pytest.approx(3.85)  # numpy's linear percentile: 3 + 0.85


@pytest.mark.slow
def test_bench_load_reports_the_figures(raadgiver: Raadgiver, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    r = raadgiver("bench", "--sizes", "", "--load", "2", "--model", "hash", "--out", out, timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads((out / "load.json").read_text(encoding="utf-8"))
    (level,) = data["levels"]
    assert level["clients"] == 2 and level["answers"] == 10 and level["errors"] == 0
    assert level["first_citation_right"] == 1.0 and level["p95_s"] >= level["p50_s"] > 0
    assert "| 2 | 10 | 0 |" in r.stdout and not (out / "bench.md").exists()  # only the load was measured
