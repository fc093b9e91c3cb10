"""Local language-model backends: ``generate(messages)`` streams text; ``generate_json`` asks for a JSON schema."""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import queue
import secrets
import shutil
import socket
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlparse


class Generator(Protocol):
    """A language model that turns chat messages into streamed text."""

    name: str

    def generate(self, messages: Sequence[dict[str, str]]) -> Iterator[str]: ...


@runtime_checkable
class StructuredGenerator(Generator, Protocol):
    """A model server that can constrain its reply to a JSON schema (llama.cpp, vLLM, Ollama do)."""

    def generate_json(self, messages: Sequence[dict[str, str]], schema: dict[str, object]) -> Iterator[str]: ...


class RemoteNotAllowed(Exception):
    """The model server is on a public address and the user did not allow that."""


class GeneratorFailed(Exception):
    """The model server or model file could not produce an answer."""


class StructuredOutputRejected(GeneratorFailed):
    """The server refused ``response_format``/``json_schema``: ask again for free text with [n] markers."""


# Explicit ranges: ipaddress' is_private also covers documentation and benchmark ranges
# (203.0.113.0/24, 198.18.0.0/15 …) that are routed somewhere else in practice.
LOCAL_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
              "::1/128", "fc00::/7", "fe80::/10")
)


def is_local_address(host: str) -> bool:
    """Loopback or private (RFC 1918, link-local, ULA) addresses only; names are resolved first."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    addrs = {ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos}
    return bool(addrs) and all(any(a in net for net in LOCAL_NETWORKS) for a in addrs)


def check_llm_url(url: str, allow_remote: bool = False) -> str:
    """Refuse a public model server unless explicitly allowed: the minutes would leave the network."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise RemoteNotAllowed(f"'{url}' er ikke en gyldig adresse (f.eks. http://127.0.0.1:11434/v1).")
    if not allow_remote and not is_local_address(parsed.hostname):
        raise RemoteNotAllowed(
            f"Modelserveren {parsed.hostname} er ikke en lokal eller privat adresse. Spørgsmål og uddrag af "
            "referaterne ville forlade jeres netværk. Brug en server på jeres egen maskine/netværk, eller angiv "
            "--allow-remote-llm, hvis det er tilsigtet."
        )
    return url.rstrip("/")


def _response_format(schema: dict[str, object]) -> dict[str, object]:
    return {"type": "json_schema", "json_schema": {"name": "svar", "schema": schema, "strict": True}}


# A 400/422 that names one of these is about response_format, not about the prompt: remember it.
_FORMAT_WORDS = ("response_format", "json_schema", "schema", "grammar", "format")


class OpenAICompatible:
    """Any OpenAI-compatible chat server the user runs (Ollama, llama.cpp server, vLLM)."""

    def __init__(self, url: str, model: str, allow_remote: bool = False, timeout: float = 120.0,
                 temperature: float = 0.1, max_tokens: int = 700) -> None:
        self.url = check_llm_url(url, allow_remote)
        self.model = model
        self.name = f"openai:{model}"
        self.timeout = timeout
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.structured = True  # set False once the server has refused response_format

    def _endpoint(self) -> str:
        base = self.url if self.url.endswith("/v1") else f"{self.url}/v1"
        return f"{base}/chat/completions"

    def generate(self, messages: Sequence[dict[str, str]]) -> Iterator[str]:
        return self._stream({"messages": list(messages)})

    def generate_json(self, messages: Sequence[dict[str, str]], schema: dict[str, object]) -> Iterator[str]:
        """The reply constrained to ``schema``; raises StructuredOutputRejected where the server cannot."""
        if not self.structured:
            raise StructuredOutputRejected(f"Modelserveren på {self.url} understøtter ikke response_format.")
        return self._stream({"messages": list(messages), "response_format": _response_format(schema)})

    def _stream(self, request: dict[str, Any]) -> Iterator[str]:
        body = json.dumps({"model": self.model, "stream": True, "temperature": self.temperature,
                           "max_tokens": self.max_tokens, **request}).encode()
        req = urllib.request.Request(self._endpoint(), data=body, headers={"Content-Type": "application/json"})
        try:
            # No proxy from the environment: the checked address is the one that gets the prompt.
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(req, timeout=self.timeout) as resp:  # noqa: S310 (checked above)
                for raw in resp:
                    line = raw.decode("utf-8", errors="replace").strip()
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                    except (json.JSONDecodeError, KeyError, IndexError):
                        continue
                    if delta:
                        yield delta
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", errors="replace")[:300]
            if "response_format" in request and exc.code in (400, 422, 501):
                if any(w in detail.lower() for w in _FORMAT_WORDS):
                    self.structured = False
                raise StructuredOutputRejected(f"Modelserveren afviste response_format ({exc.code}: {detail})") from exc
            raise GeneratorFailed(f"Modelserveren på {self.url} svarede {exc.code} ({detail}).") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise GeneratorFailed(f"Modelserveren på {self.url} svarer ikke ({exc}). Kører den?") from exc


def _private_socket_dir() -> str:
    """A fresh folder only this user can enter (mkdtemp makes it 0700), removed at exit."""
    folder = tempfile.mkdtemp(prefix="raadgiver-llama-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


class LlamaCpp:
    """In-process llama.cpp with a GGUF file, through xllamacpp's prebuilt wheel (pip install 'raadgiver[llama]').

    xllamacpp's ``Server`` always opens llama.cpp's HTTP listener; it cannot be switched off. It is bound to a
    Unix socket in a private folder (no TCP port, nothing reachable from the network) and guarded by a random
    API key that is never written anywhere; requests go in-process through ``handle_chat_completions``.
    """

    def __init__(self, gguf: Path, n_ctx: int = 4096, max_tokens: int = 700, threads: int | None = None,
                 batch_threads: int | None = None, temperature: float = 0.1) -> None:
        if not gguf.is_file():
            raise GeneratorFailed(f"GGUF-filen findes ikke: {gguf}")
        try:
            import xllamacpp as xlc  # type: ignore[import-untyped]
        except ImportError as exc:
            raise GeneratorFailed(
                "xllamacpp er ikke installeret. Installér med `pip install 'raadgiver[llama]'` (færdigbygget, "
                "ingen kompilering), eller brug en modelserver med --llm-url."
            ) from exc
        params = xlc.CommonParams()
        params.model.path = str(gguf)
        params.n_ctx = n_ctx
        params.n_parallel = 1
        params.verbosity = -1
        if threads:
            params.cpuparams.n_threads = threads
        if batch_threads or threads:
            params.cpuparams_batch.n_threads = batch_threads or threads  # type: ignore[assignment]
        params.hostnames = [os.path.join(_private_socket_dir(), "llama.sock")]
        params.api_keys = [secrets.token_urlsafe(32)]
        self.name = f"llama.cpp:{gguf.name}"
        self.max_tokens = max_tokens
        self.temperature = temperature
        try:
            self.server = xlc.Server(params)
        except (RuntimeError, ValueError) as exc:
            raise GeneratorFailed(f"llama.cpp kunne ikke indlæse {gguf.name} ({exc}).") from exc
        self.listening_address = str(self.server.listening_address)  # unix:///…/llama.sock

    def chat(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """llama.cpp's own ``chat.completion.chunk`` objects for a streamed OpenAI-shaped request."""
        chunks: queue.Queue[Any] = queue.Queue()
        done = object()

        def on_chunk(chunk: Any) -> bool:
            chunks.put(chunk)
            return False  # keep going

        def run() -> None:
            try:
                self.server.handle_chat_completions({**request, "stream": True}, on_chunk)
            except BaseException as exc:  # noqa: BLE001 (handed to the reading thread)
                chunks.put(exc)
            finally:
                chunks.put(done)

        # llama.cpp releases the GIL while it computes, so a worker thread lets the pieces stream.
        threading.Thread(target=run, daemon=True).start()
        while (chunk := chunks.get()) is not done:
            if isinstance(chunk, ValueError) and "response_format" in request:
                raise StructuredOutputRejected(f"llama.cpp afviste JSON-skemaet ({chunk}).") from chunk
            if isinstance(chunk, BaseException):
                raise GeneratorFailed(f"llama.cpp fejlede ({chunk}).") from chunk
            if isinstance(chunk, dict) and "error" in chunk:
                raise GeneratorFailed(f"llama.cpp fejlede ({chunk['error']}).")
            yield chunk

    def _text(self, request: dict[str, Any]) -> Iterator[str]:
        body = {"temperature": self.temperature, "max_tokens": self.max_tokens, **request}
        for chunk in self.chat(body):
            choices = chunk.get("choices") or [{}]
            delta = (choices[0].get("delta") or {}).get("content")
            if delta:
                yield delta

    def generate(self, messages: Sequence[dict[str, str]]) -> Iterator[str]:
        return self._text({"messages": list(messages)})

    def generate_json(self, messages: Sequence[dict[str, str]], schema: dict[str, object]) -> Iterator[str]:
        return self._text({"messages": list(messages), "response_format": _response_format(schema)})
