"""The package metadata builds without a single setuptools warning (a newcomer reads them as errors)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO


def test_wheel_builds_without_setuptools_warnings(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for package in ("ingest", "index", "chat_app", "eval"):
        shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    # No build isolation: the venv's setuptools, so the test needs no network.
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
                        "-w", str(tmp_path / "out"), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    log = r.stdout + r.stderr
    warnings = [line for line in log.splitlines()
                if re.search(r"Warning\b|^\s*warning:", line) and "byte-compiling is disabled" not in line]
    assert warnings == [], "\n".join(warnings)
    wheel = next((tmp_path / "out").glob("raadgiver-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {"eval/questions/demo.jsonl", "eval/questions/real.jsonl"} <= set(names)  # the question sets ship
    assert "License-Expression: MIT" in metadata
