"""A shared index on a real Chroma server (`chroma run` on loopback), driven through the CLI."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import ingest  # noqa: F401  (telemetry off in the environment the server inherits)

DEMO = Path(__file__).resolve().parents[1] / "demo" / "minutes"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = Path(sys.executable).parent / "chroma"
    if not binary.exists():
        pytest.skip("chromadb's `chroma` command is not installed beside this Python")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(binary), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("chroma run did not start") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _cli(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "XDG_DATA_HOME": str(cwd)}
    return subprocess.run([sys.executable, "-m", "chat_app.cli", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_two_clients_share_one_server_index(chroma_url: str, tmp_path: Path) -> None:
    files = sorted(DEMO.glob("fiktivt-raad*.txt"))[:2]
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    alice.mkdir()
    bob.mkdir()
    r = _cli("ingest", *files, "--chroma-url", chroma_url, "--db", alice / "db", "--model", "hash", cwd=alice)
    assert r.returncode == 0, r.stderr
    assert "2 nye" in r.stdout
    # Another user with no local index sees the same items and finds them.
    items = json.loads(_cli("items", "--json", "--chroma-url", chroma_url, "--db", bob / "db", cwd=bob).stdout)
    assert {Path(i["source"]).name for i in items} == {f.name for f in files}
    assert all(set(i) == {"section", "title", "case_number", "meeting_date", "council", "source", "agenda"} for i in items)
    hits = json.loads(_cli("search", "open source", "--json", "--chroma-url", chroma_url, "--db", bob / "db",
                           "--model", "hash", "--mode", "lexical", cwd=bob).stdout)
    assert hits and "open source" in (hits[0]["title"] + hits[0]["text"]).lower()
    # Re-ingesting the same files through the server embeds nothing.
    again = _cli("ingest", *files, "--chroma-url", chroma_url, "--db", alice / "db", "--model", "hash", cwd=alice)
    assert again.returncode == 0 and "2 uændrede" in again.stdout


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    r = _cli("items", "--chroma-url", f"http://127.0.0.1:{_free_port()}", "--db", tmp_path / "db", cwd=tmp_path)
    assert r.returncode == 2
    assert "chroma run" in r.stderr and "Traceback" not in r.stderr
