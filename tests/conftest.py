"""Shared fixtures: the CLI as a real subprocess, the real corpus (skipped when absent), embedders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
# Third-party minutes, read in place and never copied into the repository.
REAL = Path(__file__).resolve().parents[2] / "shared" / "corpus"
IT_ARK = REAL / "it-arkitekturraadet-referat.txt"
AARHUS_TU = REAL / "aarhus" / "teknisk_udvalg_referat_2025-10-01.html"
AARHUS_BR = REAL / "aarhus" / "aarhus_byraad_dagsorden_2025-10-08.html"

needs_real = pytest.mark.skipif(
    not (IT_ARK.is_file() and AARHUS_TU.is_file() and AARHUS_BR.is_file()),
    reason=f"the real corpus of third-party minutes is not on this machine ({REAL})",
)


def cli_command() -> list[str]:
    """The installed ``raadgiver`` script of this interpreter if there is one, else ``python -m``."""
    script = shutil.which("raadgiver", path=str(Path(sys.executable).parent)) or shutil.which("raadgiver")
    return [script] if script else [sys.executable, "-m", "chat_app.cli"]


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI run: this checkout first on the path, no user settings, no user data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAADGIVER_")}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["XDG_DATA_HOME"] = str(home)  # a run that forgets --db must not touch the user's index
    env.update(extra)
    return env


class Raadgiver:
    """Runs ``raadgiver`` in a subprocess; ``db`` adds ``--db``. Several runs can go at once."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.command = cli_command()

    def argv(self, args: Sequence[Any], db: Path | None) -> list[str]:
        return self.command + [str(a) for a in args] + (["--db", str(db)] if db is not None else [])

    def __call__(self, *args: Any, db: Path | None = None, timeout: float = 240,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(args, db), capture_output=True, text=True, timeout=timeout,
                              env=env or cli_env(self.home), cwd=self.home)

    def start(self, *args: Any, db: Path | None = None, **popen: Any) -> subprocess.Popen[str]:
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
        popen.setdefault("env", cli_env(self.home))
        return subprocess.Popen(self.argv(args, db), text=True, cwd=self.home, **popen)

    def many(self, runs: Sequence[tuple[Sequence[Any], Path | None]],
             timeout: float = 240) -> list[subprocess.CompletedProcess[str]]:
        """Run independent commands concurrently (readers, or writers to different folders)."""
        procs = [(self.argv(args, db), self.start(*args, db=db)) for args, db in runs]
        done = []
        for argv, p in procs:
            out, err = p.communicate(timeout=timeout)
            done.append(subprocess.CompletedProcess(argv, p.returncode, out, err))
        return done

    def json(self, *args: Any, db: Path | None = None) -> Any:
        """Run a ``--json`` command that must succeed and return its parsed output."""
        r = self(*args, "--json", db=db)
        assert r.returncode == 0, f"{args} failed ({r.returncode}):\n{r.stderr}"
        return json.loads(r.stdout)


@pytest.fixture(scope="session")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="session")
def raadgiver(cli_home: Path) -> Raadgiver:
    """``raadgiver(*args, db=...)`` -> CompletedProcess of the real command line."""
    return Raadgiver(cli_home)


@pytest.fixture(scope="session")
def hash_embedder() -> Any:
    from index.embed import HashEmbedder

    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> Any:
    """multilingual-e5-small, loaded once for the whole session."""
    from index.embed import load_embedder

    return load_embedder(None)


def stop(proc: subprocess.Popen[str], timeout: float = 15) -> None:
    """Stop a server process, killing it if it does not stop within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
