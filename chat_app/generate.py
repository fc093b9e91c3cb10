"""Local language-model backends behind one method: ``generate(messages)`` streams text."""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse


class Generator(Protocol):
    """A language model that turns chat messages into streamed text."""

    name: str

    def generate(self, messages: Sequence[dict[str, str]]) -> Iterator[str]: ...


class RemoteNotAllowed(Exception):
    """The model server is on a public address and the user did not allow that."""


class GeneratorFailed(Exception):
    """The model server or model file could not produce an answer."""


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

    def _endpoint(self) -> str:
        base = self.url if self.url.endswith("/v1") else f"{self.url}/v1"
        return f"{base}/chat/completions"

    def generate(self, messages: Sequence[dict[str, str]]) -> Iterator[str]:
        body = json.dumps({"model": self.model, "messages": list(messages), "stream": True,
                           "temperature": self.temperature, "max_tokens": self.max_tokens}).encode()
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
        except (urllib.error.URLError, OSError) as exc:
            raise GeneratorFailed(f"Modelserveren på {self.url} svarer ikke ({exc}). Kører den?") from exc


class LlamaCpp:
    """In-process llama.cpp with a GGUF file (optional extra: pip install 'raadgiver[llama]')."""

    def __init__(self, gguf: Path, n_ctx: int = 4096, max_tokens: int = 700) -> None:
        if not gguf.is_file():
            raise GeneratorFailed(f"GGUF-filen findes ikke: {gguf}")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise GeneratorFailed(
                "llama-cpp-python er ikke installeret. Installér med `pip install 'raadgiver[llama]'` "
                "(kompilerer i ca. 10 minutter), eller brug en modelserver med --llm-url."
            ) from exc
        self.name = f"llama.cpp:{gguf.name}"
        self.max_tokens = max_tokens
        self._llm = Llama(model_path=str(gguf), n_ctx=n_ctx, verbose=False)

    def generate(self, messages: Sequence[dict[str, str]]) -> Iterator[str]:
        for part in self._llm.create_chat_completion(messages=list(messages), stream=True, temperature=0.1,
                                                     max_tokens=self.max_tokens):
            delta = part["choices"][0].get("delta", {}).get("content")  # type: ignore[index,union-attr]
            if delta:
                yield delta
