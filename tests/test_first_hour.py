"""A new user's first hour on the command line (issue 13): Danish help, early errors, correcting a meeting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Raadgiver

ENGLISH = ("Show this message", "Usage:", "Options:", "Commands:", "[OPTIONS]", "COMMAND [ARGS]", "Missing argument",
           "No such option", "Error:", "Try '", "TEXT", "INTEGER", "default:", "is not a valid")


def english_in(text: str) -> list[str]:
    return [w for w in ENGLISH if w in text]


def test_help_and_usage_errors_are_danish(raadgiver: Raadgiver) -> None:
    top = raadgiver("--help", timeout=60)
    assert top.returncode == 0 and english_in(top.stdout) == [], top.stdout
    assert "Brug: " in top.stdout and "Tilvalg:" in top.stdout and "Kommandoer:" in top.stdout
    assert "Vis denne hjælp og afslut." in top.stdout
    sub = raadgiver("search", "--help", timeout=60)
    assert sub.returncode == 0 and english_in(sub.stdout) == [], sub.stdout
    assert re.search(r"-k HELTAL\s+Antal punkter\.\s+\[standard: 5\]", sub.stdout), sub.stdout
    missing = raadgiver("ask", timeout=60)
    assert missing.returncode == 2 and english_in(missing.stderr) == [], missing.stderr
    assert "Fejl: Der mangler et argument 'SPØRGSMÅL'." in missing.stderr
    assert "Skriv '" in missing.stderr and "ask --help' for at få hjælp." in missing.stderr
    unknown = raadgiver("search", "x", "--nope", timeout=60)
    assert unknown.returncode == 2 and "Fejl: Tilvalget '--nope' findes ikke." in unknown.stderr, unknown.stderr
    bad = raadgiver("search", "x", "-k", "fem", timeout=60)
    assert bad.returncode == 2 and "'fem' er ikke et gyldigt heltal" in bad.stderr, bad.stderr
    typo = raadgiver("serch", timeout=60)
    assert typo.returncode == 2 and "Kommandoen 'serch' findes ikke." in typo.stderr and "Mente du" in typo.stderr


@pytest.mark.parametrize("command", ["ask", "search"])
def test_no_index_is_said_before_the_model_loads(raadgiver: Raadgiver, tmp_path: Path, command: str) -> None:
    # A model that does not exist: loading it first would fail on the model, not on the missing index.
    r = raadgiver(command, "Hvad mente rådet om open source?", "--model", tmp_path / "ingen-model",
                  db=tmp_path / "db", timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("Fejl: Der er intet indeks i ") and "raadgiver ingest STI" in r.stderr, r.stderr
    assert "Modellen" not in r.stderr and not (tmp_path / "db").exists()
