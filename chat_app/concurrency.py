"""Sharing one index between many answers and an occasional upload, inside one server process."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from chat_app.generate import Generator
from index.embed import Embedder, Kind

# A local model server (Ollama, llama.cpp) serves a handful of requests at once at best; more in
# flight only queue there, each holding a connection and a timeout. Waiting here is fairer.
LLM_IN_FLIGHT = 2


class ReadWriteLock:
    """Many readers or one writer; a waiting writer goes before newly arriving readers.

    Writer preference keeps an upload from waiting forever behind a steady stream of questions.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @property
    def writer_active(self) -> bool:
        """An upload is writing or waiting to write (a new reader would wait)."""
        with self._cond:
            return self._writing or self._writers_waiting > 0

    def acquire_read(self, blocking: bool = True) -> bool:
        with self._cond:
            if not blocking and (self._writing or self._writers_waiting):
                return False
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
            return True

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True

    def release_write(self) -> None:
        with self._cond:
            self._writing = False
            self._cond.notify_all()

    @contextmanager
    def read(self) -> Iterator[None]:
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def write(self) -> Iterator[None]:
        self.acquire_write()
        try:
            yield
        finally:
            self.release_write()


def step(gate: ReadWriteLock, parts: Iterator[object]) -> object | None:
    """The next part of an answer stream, read under the shared lock (None at the end).

    Per step, so a slow language model never holds up an upload for a whole answer.
    """
    with gate.read():
        return next(parts, None)


class SerialEmbedder:
    """One model call at a time: a fast tokenizer is not safe to call from several threads at once
    ("Already borrowed"), and the model already uses every core for one call."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dimension = inner.dimension
        # The index checks which engine made a query vector against the one that made its passages.
        self.engine = getattr(inner, "engine", "torch")
        self.quantization = getattr(inner, "quantization", "none")
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        with self._lock:
            return self.inner.embed(texts, kind)


class BoundedGenerator:
    """A language model called with at most ``limit`` requests in flight; the rest wait their turn."""

    def __init__(self, inner: Generator, limit: int = LLM_IN_FLIGHT) -> None:
        self.inner = inner
        self.name = inner.name
        self.limit = limit
        # A Semaphore, not a Lock: the web server may step one answer's stream on different threads.
        self._slots = threading.BoundedSemaphore(limit)
        self._count_lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0  # most requests in flight at once, for tests and the bench

    def generate(self, messages: Sequence[dict[str, str]]) -> Iterator[str]:
        self._slots.acquire()
        with self._count_lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            yield from self.inner.generate(messages)
        finally:
            with self._count_lock:
                self.in_flight -= 1
            self._slots.release()
