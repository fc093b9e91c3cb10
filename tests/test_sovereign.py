"""Nothing leaves the machine: telemetry off before any library loads, no connection but loopback.

Two independent barriers, both real:

* a socket guard (``tests/netguard/sitecustomize.py``, first on the subprocess's PYTHONPATH) that logs
  and refuses every Python-level attempt to reach another machine, including DNS lookups; ingest,
  search, ask and `serve` (asked a question from this process) must succeed *and* leave the log empty,
  which shows they did not even try;
* a network namespace without a network (``unshare -n``, root only) for what Python cannot see
  (chromadb's Rust core, native code): ingest and ask with the real multilingual model must work there.
  `serve` is not run in the namespace: this process could not reach it there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from chat_app.generate import RemoteNotAllowed, check_llm_url, is_local_address
from tests.conftest import REPO, Raadgiver, cli_command, cli_env, stop
from tests.test_ui import free_port, wait_until_up

GUARD = REPO / "tests" / "netguard"
DEMO = REPO / "demo" / "minutes"
SMALL = DEMO / "fiktiv-kommune-digitaliseringsudvalget-02.txt"  # one meeting, 8 passages
# Written out here, not imported from ingest.sovereign: a key dropped there must fail this test.
OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "DO_NOT_TRACK": "1",
}
HEAVY = ("chromadb", "gradio", "sentence_transformers", "transformers", "torch", "huggingface_hub")
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


# --------------------------------------------------------------------------- environments


def _is_telemetry_var(key: str) -> bool:
    k = key.upper()
    return (k.startswith(("HF_", "HUGGINGFACE", "GRADIO_", "TRANSFORMERS_", "CHROMA_", "SENTENCE_TRANSFORMERS"))
            or k in {"ANONYMIZED_TELEMETRY", "DO_NOT_TRACK", "TOKENIZERS_PARALLELISM"}
            or k.endswith("_PROXY"))


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """cli_env without any telemetry, hub or proxy setting from the shell that runs the tests."""
    env = {k: v for k, v in cli_env(home).items() if not _is_telemetry_var(k)}
    env.update(extra)
    return env


@dataclass
class Guard:
    """A log of refused network attempts and a record of which processes had the guard."""

    log: Path
    armed: Path

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        env = clean_env(home, RAADGIVER_NETGUARD_LOG=str(self.log), RAADGIVER_NETGUARD_ARMED=str(self.armed))
        env["PYTHONPATH"] = os.pathsep.join([str(GUARD), env["PYTHONPATH"]])
        env.update(extra)
        return env

    def attempts(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def armed_pids(self) -> set[int]:
        text = self.armed.read_text(encoding="utf-8") if self.armed.exists() else ""
        return {int(line.split()[1]) for line in text.splitlines() if line.startswith("armed ")}


def new_guard(folder: Path) -> Guard:
    folder.mkdir(parents=True, exist_ok=True)
    return Guard(folder / "netguard.log", folder / "netguard.armed")


def run_all(runs: Sequence[tuple[list[str], dict[str, str]]], cwd: Path,
            timeout: float = 240) -> list[subprocess.CompletedProcess[str]]:
    """Start every command at once (readers, or writers to different folders), then collect them."""
    procs = [(argv, subprocess.Popen(argv, env=env, cwd=cwd, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)) for argv, env in runs]
    done = []
    for argv, p in procs:
        out, err = p.communicate(timeout=timeout)
        done.append(subprocess.CompletedProcess(argv, p.returncode, out, err))
    return done


def cli(*args: Any, db: Path) -> list[str]:
    return cli_command() + [str(a) for a in args] + ["--db", str(db)]


# --------------------------------------------------------------------------- the guard itself

GUARD_PROBE = """
import asyncio, json, socket, urllib.request, _socket
out = {}
def attempt(name, fn):
    try:
        fn()
        out[name] = "ok"
    except Exception as exc:
        out[name] = type(exc).__name__
attempt("connect", lambda: socket.socket().connect(("203.0.113.5", 80)))
out["connect_ex"] = socket.socket().connect_ex(("203.0.113.5", 81))
attempt("create_connection", lambda: socket.create_connection(("203.0.113.6", 80), timeout=2))
attempt("dns", lambda: socket.getaddrinfo("example.org", 443))
attempt("urllib", lambda: urllib.request.urlopen("http://203.0.113.7:8000/v1", timeout=2))
import httpx
attempt("httpx", lambda: httpx.get("https://api.gradio.app/pkg-version", timeout=2))
async def opener():
    await asyncio.wait_for(asyncio.open_connection("203.0.113.8", 80), 2)
attempt("asyncio", lambda: asyncio.run(opener()))
attempt("c_socket", lambda: _socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("203.0.113.9", 80)))
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("203.0.113.10", 53)))
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
attempt("loopback", lambda: socket.create_connection(server.getsockname(), timeout=2).close())
attempt("localhost", lambda: socket.getaddrinfo("localhost", 80))
attempt("literal", lambda: socket.getaddrinfo("203.0.113.11", 80))
try:
    import uvloop  # noqa: F401
    out["uvloop"] = "importable"
except ImportError:
    out["uvloop"] = "hidden"
print(json.dumps(out))
"""


def test_guard_refuses_and_logs_every_way_out(tmp_path: Path) -> None:
    guard = new_guard(tmp_path)
    r = subprocess.run([sys.executable, "-c", GUARD_PROBE], env=guard.env(tmp_path), check=False, capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out == {
        "connect": "OSError", "connect_ex": 101, "create_connection": "OSError", "dns": "gaierror",
        "urllib": "URLError", "httpx": "ConnectError", "asyncio": "OSError", "c_socket": "OSError",
        "udp": "OSError", "loopback": "ok", "localhost": "ok", "literal": "ok", "uvloop": "hidden",
    }
    lines = guard.attempts().splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["connect", "203.0.113.5", "80"], ["connect_ex", "203.0.113.5", "81"],
        ["create_connection", "203.0.113.6", "80"], ["getaddrinfo", "example.org", "443"],
        ["create_connection", "203.0.113.7", "8000"], ["create_connection", "api.gradio.app", "443"],
        ["connect", "203.0.113.8", "80"], ["socket.connect", "203.0.113.9", "80"],
        ["socket.sendto", "203.0.113.10", "53"],
    ]
    assert guard.armed_pids() == {int(lines[0].split("pid=")[1].split()[0])}


# --------------------------------------------------------------------------- settings before imports

IMPORT_PROBE = """
import json, os, sys
KEYS = {keys!r}
HEAVY = {heavy!r}
first_import = {{}}

class Spy:
    # Sees every import request first: the environment at the moment each library starts loading.
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in HEAVY and top not in first_import:
            first_import[top] = {{k: os.environ.get(k) for k in KEYS}}
        return None

sys.meta_path.insert(0, Spy())
import chat_app.cli
from click.testing import CliRunner
helps = [CliRunner().invoke(chat_app.cli.main, args).exit_code
         for args in (["--help"], ["ingest", "--help"], ["ask", "--help"], ["serve", "--help"], ["search", "--help"])]
result = {{"env": {{k: os.environ.get(k) for k in KEYS}}, "helps": helps,
          "loaded_by_cli_and_help": sorted(m for m in HEAVY if m in sys.modules)}}
if {deep!r}:
    from pathlib import Path
    from index.embed import HashEmbedder
    from index.store import open_index
    with open_index(Path(sys.argv[1]), HashEmbedder(), create=True, write=True) as index:
        settings = index.store._client.get_settings()
        result["chroma_telemetry"] = settings.anonymized_telemetry
    from chat_app.ui import build_app
    with open_index(Path(sys.argv[1]), HashEmbedder(), create=True) as index:
        result["app_analytics"] = build_app(index, None, upload_dir=Path(sys.argv[1]) / "up").analytics_enabled
        # The app's own choice, not only the environment's: even with the variable turned on.
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "True"
        result["app_analytics_env_on"] = build_app(index, None, upload_dir=Path(sys.argv[1]) / "up").analytics_enabled
    result["log_before_control"] = os.path.getsize(os.environ["RAADGIVER_NETGUARD_LOG"]) \\
        if os.path.exists(os.environ["RAADGIVER_NETGUARD_LOG"]) else 0
    # Control: a gradio app that does allow analytics phones home at once, and the guard sees it.
    import threading, gradio as gr
    gr.Blocks(analytics_enabled=True)
    for t in threading.enumerate():
        if t is not threading.current_thread() and not t.daemon:
            t.join(10)
result["first_import"] = first_import
print(json.dumps(result))
"""


def import_probe(deep: bool) -> str:
    return IMPORT_PROBE.format(keys=sorted(OFFLINE), heavy=list(HEAVY), deep=deep)


@pytest.mark.parametrize("shell", ["clean", "hostile"])
def test_cli_import_forces_offline_settings_and_loads_no_library(tmp_path: Path, shell: str) -> None:
    # "hostile": the user's shell turns everything on; the program's settings win all the same.
    extra = {} if shell == "clean" else {"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
                                         "GRADIO_ANALYTICS_ENABLED": "True", "ANONYMIZED_TELEMETRY": "True",
                                         "DO_NOT_TRACK": "0", "HF_HUB_DISABLE_TELEMETRY": "0"}
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-c", import_probe(deep=False)], env=clean_env(tmp_path, **extra),
                       check=False, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["env"] == OFFLINE
    assert out["helps"] == [0, 0, 0, 0, 0]
    assert out["loaded_by_cli_and_help"] == [], "--help must not load these (and must be instant)"
    assert out["first_import"] == {}
    assert elapsed < 15, elapsed  # seconds, as a sanity bound; loading chromadb/gradio/torch would show


def test_libraries_load_after_the_settings_and_are_told_no_telemetry(tmp_path: Path) -> None:
    guard = new_guard(tmp_path / "guard")
    r = subprocess.run([sys.executable, "-c", import_probe(deep=True), str(tmp_path / "db")],
                       env=guard.env(tmp_path), check=False, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"chromadb", "gradio", "huggingface_hub"} <= set(out["first_import"]), out["first_import"]
    for library, env in out["first_import"].items():
        assert env == OFFLINE, library  # already in place when the library began to load
    assert out["chroma_telemetry"] is False
    assert out["app_analytics"] is False and out["app_analytics_env_on"] is False
    assert out["log_before_control"] == 0, guard.attempts()
    # The control reached for gradio's server; so the empty log above means it was never asked.
    assert "api.gradio.app" in guard.attempts()


# --------------------------------------------------------------------------- ingest, search, ask, serve guarded


class ScriptedModel(BaseHTTPRequestHandler):
    """A local OpenAI-compatible model server with a fixed cited reply."""

    reply = "Forsøget med AI-assistenten gøres permanent [1]."
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunk = {"choices": [{"delta": {"content": self.reply}}]}
        self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def local_model() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedModel)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()


QUESTION = "Hvad blev der besluttet om AI-assistenten i Borgerservice?"


@dataclass
class LlmRuns:
    guards: dict[str, Guard]  # one guard log per run, so each run's attempts are its own
    runs: dict[str, subprocess.CompletedProcess[str]]


LLM_PLANS = {
    "public-203": ["--llm-url", "http://203.0.113.5:8000/v1"],
    "public-8": ["--llm-url", "http://8.8.8.8:8000/v1"],
    "allowed": ["--llm-url", "http://203.0.113.5:8000/v1", "--allow-remote-llm"],
    "local": ["--llm-url", "LOCAL"],
    "local-behind-proxy": ["--llm-url", "LOCAL"],
}
PROXY = "http://203.0.113.9:3128"


@dataclass
class Guarded:
    guard: Guard
    db: Path
    ingest: subprocess.CompletedProcess[str]
    readers: dict[str, subprocess.CompletedProcess[str]]
    server_pid: int
    config: dict[str, Any]
    page: str
    answer: str
    serve_log: str
    llm: LlmRuns


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, raadgiver: Raadgiver, local_model: str) -> Guarded:
    """Every command of a normal day under the guard; the UI asked a question from this process.

    `ask` against public and local model servers runs meanwhile, each run with a guard log of its own.
    """
    from gradio_client import Client

    root = tmp_path_factory.mktemp("guarded")
    guard = new_guard(root / "guard")
    env = guard.env(raadgiver.home)
    db = root / "db"
    files = [DEMO / "fiktivt-raad-referat-04.txt", DEMO / "fiktivt-raad-referat-05.txt", SMALL]
    ingest = run_all([(cli("ingest", *files, "--model", "hash", db=db), env)], cwd=raadgiver.home)[0]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "serve.log"
    with open(log, "w") as fh:
        server = subprocess.Popen(cli("serve", "--port", port, "--model", "hash", db=db), env=env, cwd=raadgiver.home,
                                  stdout=fh, stderr=subprocess.STDOUT, text=True)
    try:
        # Readers share the index with the server, so they run while it starts.
        names = ["search", "ask"]
        llm_guards = {name: new_guard(root / name) for name in LLM_PLANS}
        llm_runs = []
        for name, args in LLM_PLANS.items():
            extra = {"http_proxy": PROXY, "HTTP_PROXY": PROXY} if name == "local-behind-proxy" else {}
            args = [local_model if a == "LOCAL" else a for a in args]
            llm_runs.append((cli("ask", QUESTION, "--model", "hash", *args, db=db),
                             llm_guards[name].env(raadgiver.home, **extra)))
        done = run_all([
            (cli("search", "open source", "--model", "hash", "--json", db=db), env),
            (cli("ask", "Hvad mente rådet om open source?", "--model", "hash", "--json", db=db), env),
            *llm_runs,
        ], cwd=raadgiver.home)
        readers, llm = done[:2], LlmRuns(llm_guards, dict(zip(LLM_PLANS, done[2:])))
        wait_until_up(url, server, log)
        config = httpx.get(f"{url}/config").json()
        page = httpx.get(url).text
        messages, _ = Client(url, verbose=False).predict(
            "Hvad mente rådet om open source?", [], "Alle råd og udvalg", "", "", "", api_name="/chat")
        content = messages[-1]["content"]
        answer = "".join(p.get("text", "") for p in content) if isinstance(content, list) else str(content)
        time.sleep(1)  # a phone-home thread started at launch would have made its attempt by now
    finally:
        stop(server)
    return Guarded(guard, db, ingest, dict(zip(names, readers)), server.pid, config, page, answer, log.read_text(), llm)


def test_guarded_cli_commands_work_and_try_no_connection(guarded: Guarded) -> None:
    assert guarded.ingest.returncode == 0, guarded.ingest.stderr
    assert "I alt: 3 nye" in guarded.ingest.stdout
    for name, r in guarded.readers.items():
        assert r.returncode == 0, (name, r.stderr)
    assert json.loads(guarded.readers["search"].stdout)[0]["case_number"] in {"SAG-2026-00031", "SAG-2024-00311"}
    answer = json.loads(guarded.readers["ask"].stdout)
    assert not answer["refused"] and answer["citations"]
    assert guarded.guard.attempts() == ""
    assert len(guarded.guard.armed_pids()) >= 4  # ingest, both readers and the server all had the guard


def test_guarded_ui_answers_and_does_not_phone_home(guarded: Guarded) -> None:
    assert "raad-kilde" in guarded.answer and "SAG-20" in guarded.answer, guarded.answer[:500]
    assert guarded.server_pid in guarded.guard.armed_pids()
    assert guarded.guard.attempts() == "", guarded.guard.attempts()
    assert guarded.config["analytics_enabled"] is False
    assert "Traceback" not in guarded.serve_log
    # The page the browser loads pulls nothing from other hosts (fonts, scripts, styles).
    for attr in ("src", "href"):
        for value in re.findall(rf'{attr}="([^"]*)"', guarded.page):
            assert not value.startswith(("http://", "https://", "//")) or value.startswith("http://127.0.0.1"), value


# --------------------------------------------------------------------------- the model server address


@pytest.mark.parametrize("host", [
    "127.0.0.1", "::1", "localhost", "10.0.0.5", "192.168.1.2", "172.16.3.4", "fd00::1",
])
def test_local_addresses(host: str) -> None:
    assert is_local_address(host) is True


@pytest.mark.parametrize("host", [
    "8.8.8.8",
    "1.1.1.1",
    "2001:4860:4860::8888",
    "203.0.113.5",
    "198.51.100.7",
])
def test_public_addresses(host: str) -> None:
    assert is_local_address(host) is False


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/v1", "127.0.0.1:11434/v1", "http:///v1"])
def test_llm_url_must_be_http(url: str) -> None:
    with pytest.raises(RemoteNotAllowed, match="ikke en gyldig adresse"):
        check_llm_url(url)


@pytest.fixture(scope="module")
def llm_runs(guarded: Guarded) -> LlmRuns:
    return guarded.llm


@pytest.mark.parametrize("name", [
    "public-203",
    "public-8",
])
def test_public_model_server_is_refused_before_any_connection(llm_runs: LlmRuns, name: str) -> None:
    r = llm_runs.runs[name]
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("Fejl: Modelserveren") and "ikke en lokal eller privat adresse" in r.stderr
    assert "--allow-remote-llm" in r.stderr and "Traceback" not in r.stderr and r.stdout == ""
    assert llm_runs.guards[name].attempts() == ""
    assert llm_runs.guards[name].armed_pids(), "the guard was not in place"


def test_allowed_remote_model_server_is_tried_then_falls_back(llm_runs: LlmRuns) -> None:
    r = llm_runs.runs["allowed"]
    attempts = llm_runs.guards["allowed"].attempts().splitlines()
    assert [line.split()[:3] for line in attempts] == [["create_connection", "203.0.113.5", "8000"]]
    assert r.returncode == 0, r.stderr
    assert "svarer ikke" in r.stderr and "viser uddrag i stedet" in r.stderr and "Traceback" not in r.stderr
    assert "Kilder (til notat):" in r.stdout and "(26/0301)" in r.stdout  # the extractive answer instead


def test_local_model_server_is_used_without_leaving_the_machine(llm_runs: LlmRuns) -> None:
    r = llm_runs.runs["local"]
    assert r.returncode == 0, r.stderr
    assert llm_runs.guards["local"].attempts() == "" and llm_runs.guards["local"].armed_pids()
    assert "Forsøget med AI-assistenten gøres permanent [1]." in r.stdout and "(26/0301)" in r.stdout
    assert any(QUESTION in m["messages"][-1]["content"] for m in ScriptedModel.received)


def test_local_model_server_is_reached_directly_even_with_a_proxy_set(llm_runs: LlmRuns) -> None:
    r = llm_runs.runs["local-behind-proxy"]
    assert llm_runs.guards["local-behind-proxy"].attempts() == ""
    assert r.returncode == 0 and "Forsøget med AI-assistenten gøres permanent [1]." in r.stdout, r.stderr


# --------------------------------------------------------------------------- a machine without a network


def netns_available() -> str | None:
    """None if this process may create a network namespace with a loopback device, else why not."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return "unshare or ip is not installed"
    try:
        r = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], check=False, capture_output=True, text=True,
                           timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if r.returncode == 0 else f"unshare -n failed (needs root): {r.stderr.strip()}"


def in_netns(argv: list[str]) -> list[str]:
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv]


REAL_MODEL_TEST = "test_real_model_works_in_a_namespace_without_network"


class OfflineJob:
    """The real model's runs in a namespace without network, in a thread: they take a minute of CPU,
    so they start with this module and overlap the other tests; the test at the end waits for them."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home
        self.guard = new_guard(root / "guard")
        self.db = root / "db"
        self.runs: dict[str, subprocess.CompletedProcess[str]] = {}
        self.error: BaseException | None = None
        self._procs: list[subprocess.Popen[str]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stopping = False

    def start(self) -> None:
        self._thread.start()

    def _one(self, name: str, argv: list[str], guarded: bool = True) -> None:
        if self._stopping:
            return
        p = subprocess.Popen(argv, env=self.guard.env(self.home) if guarded else None, cwd=self.home, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._procs.append(p)
        out, err = p.communicate(timeout=600)
        self.runs[name] = subprocess.CompletedProcess(argv, p.returncode, out, err)

    def _run(self) -> None:
        try:
            shutil.copy(SMALL, self.root / SMALL.name)
            self._one("probe", in_netns([sys.executable, "-c",
                                         "import socket; socket.create_connection(('1.1.1.1', 53), 3)"]), guarded=False)
            self._one("ingest", in_netns(cli("ingest", self.root / SMALL.name, db=self.db)))
            self._one("ask", in_netns(cli("ask", "Hvorfor skal AI-assistenten flyttes til en lokalt driftet sprogmodel?",
                                          "--json", db=self.db)))
            self._one("search", in_netns(cli("search", "exitplan for cloudkontrakter", "--mode", "lexical", "--json",
                                             db=self.db)))
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            self.error = exc

    def result(self, timeout: float = 600) -> dict[str, subprocess.CompletedProcess[str]]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the offline runs did not finish"
        if self.error:
            raise self.error
        return self.runs

    def stop(self) -> None:
        self._stopping = True
        for p in self._procs:
            if p.poll() is None:
                p.kill()
        self._thread.join(30)


@pytest.fixture(scope="module", autouse=True)
def offline_job(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                raadgiver: Raadgiver) -> Iterator[OfflineJob | str]:
    """Started only when the real-model test is among the tests to run; else the reason it cannot run."""
    if not any(item.name == REAL_MODEL_TEST for item in request.session.items):
        yield "not selected"
        return
    why = netns_available()
    if why:
        yield f"no network namespace: {why}"
        return
    job = OfflineJob(tmp_path_factory.mktemp("offline"), raadgiver.home)
    job.start()
    try:
        yield job
    finally:
        job.stop()


@pytest.mark.slow
def test_real_model_works_in_a_namespace_without_network(offline_job: OfflineJob | str) -> None:
    if isinstance(offline_job, str):
        pytest.skip(offline_job)
    runs = offline_job.result()
    # The namespace really has no way out.
    assert runs["probe"].returncode != 0 and "Network is unreachable" in runs["probe"].stderr
    ingest, ask, search = runs["ingest"], runs["ask"], runs["search"]
    assert ingest.returncode == 0, ingest.stderr
    assert "I alt: 1 nye" in ingest.stdout
    manifest = json.loads((offline_job.db / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["embedding_model"] == "multilingual-e5-small-q4" and manifest["dimension"] == 384
    assert ask.returncode == 0, ask.stderr
    answer = json.loads(ask.stdout)
    assert not answer["refused"] and answer["citations"][0]["case_number"] == "26/0301", answer
    assert " ".join(answer["citations"][0]["quote"].split()) in " ".join(SMALL.read_text(encoding="utf-8").split())
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)[0]["case_number"] == "26/0388"
    assert "Traceback" not in ingest.stderr + ask.stderr + search.stderr
    assert offline_job.guard.attempts() == "" and len(offline_job.guard.armed_pids()) >= 3
