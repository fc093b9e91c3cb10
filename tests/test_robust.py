"""Nothing lost, nothing half-done, and hostile input handled: the CLI and the server, for real.

Every failure must reach the user as one Danish line that says what to do, with a non-zero exit
status and no Python traceback. (kill -9 during ingest is in test_crash.py.)
"""

from __future__ import annotations

import json

import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chat_app.ui import UploadRejected, store_upload
from tests.badfiles import HOSTILE_MINUTES, generated_minutes
from tests.conftest import REPO, Raadgiver, stop
from tests.test_ui import free_port, wait_until_up

DEMO = REPO / "demo" / "minutes"
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]



def one_danish_line(r: subprocess.CompletedProcess[str], *fix: str) -> None:
    """Failed with one line on stderr, 'Fejl: …' naming the fix, and no traceback."""
    assert r.returncode != 0, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Fejl: "), r.stderr
    for words in fix:
        assert words in lines[0], (words, lines[0])


def listing(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` with its bytes (None for folders)."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


@dataclass
class Demo:
    db: Path
    files: list[Path]
    hostile: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, raadgiver: Raadgiver) -> Demo:
    """Two fictional meetings and one whose minutes try to instruct the model, indexed with --model hash."""
    root = tmp_path_factory.mktemp("robust")
    hostile = root / "in" / "driftsudvalget-2026-06-04.txt"
    hostile.parent.mkdir()
    hostile.write_text(HOSTILE_MINUTES, encoding="utf-8")
    files = [DEMO / "fiktiv-kommune-digitaliseringsudvalget-01.txt",
             DEMO / "fiktiv-kommune-digitaliseringsudvalget-02.txt", hostile]
    r = raadgiver("ingest", *files, "--model", "hash", db=root / "db")
    assert r.returncode == 0, r.stderr
    return Demo(root / "db", files, hostile)


def copy_db(demo: Demo, to: Path) -> Path:
    shutil.copytree(demo.db, to)
    (to / ".lock").unlink(missing_ok=True)
    return to


# --------------------------------------------------------------------------- the server and the CLI at once


@dataclass
class Busy:
    ingest: subprocess.CompletedProcess[str]
    rebuild: subprocess.CompletedProcess[str]
    before: tuple[Any, ...]
    during: tuple[Any, ...]
    answers: list[str]
    errors: list[str]
    after: subprocess.CompletedProcess[str]
    sources_after: set[str]
    serve_log: str
    refused: subprocess.CompletedProcess[str]  # serve --host 0.0.0.0 without a password
    open_port: int  # serve --host 0.0.0.0 --insecure-no-auth, on an empty index
    open_up: bool
    open_log: str


def snapshot(db: Path) -> tuple[Any, ...]:
    """What the index holds, read beside the server (a reader shares the lock): manifest and items."""
    from index.store import open_index

    with open_index(db, None) as index:
        items = sorted((i.source, i.section, i.content_hash, i.text) for i in index.store.get_items())
        return index.manifest.to_json(), items, index.store.count(), (db / "manifest.json").read_bytes()


@pytest.fixture(scope="module")
def busy(demo: Demo, raadgiver: Raadgiver, tmp_path_factory: pytest.TempPathFactory) -> Busy:
    """`raadgiver serve` answering questions while `raadgiver ingest` tries the same data folder.

    Meanwhile (the servers take seconds to start) a second server listens on 0.0.0.0 with an explicit
    opt-out from the password, on an empty index: nothing to see for anyone else in those seconds.
    """
    from gradio_client import Client

    root = tmp_path_factory.mktemp("busy")
    db = copy_db(demo, root / "db")
    new = DEMO / "fiktivt-raad-referat-04.txt"
    port, open_port = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    log, open_log = root / "serve.log", root / "open.log"
    with open(log, "w") as fh, open(open_log, "w") as ofh:
        server = raadgiver.start("serve", "--port", port, "--model", "hash", db=db, stdout=fh, stderr=subprocess.STDOUT)
        opened = raadgiver.start("serve", "--host", "0.0.0.0", "--insecure-no-auth", "--port", open_port, "--model",
                                 "hash", db=root / "open", stdout=ofh, stderr=subprocess.STDOUT)
    answers: list[str] = []
    errors: list[str] = []
    asking = threading.Event()
    try:
        refused = raadgiver("serve", "--host", "0.0.0.0", "--model", "hash", db=root / "refused", timeout=60)
        wait_until_up(url, server, log)
        before = snapshot(db)

        def keep_asking() -> None:
            client = Client(url, verbose=False)
            while asking.is_set():
                try:
                    messages, _ = client.predict("Hvad besluttede udvalget om kommunens servere?", [],
                                                 "Alle råd og udvalg", "", "", "", api_name="/chat")
                    content = messages[-1]["content"]
                    answers.append("".join(p.get("text", "") for p in content) if isinstance(content, list)
                                   else str(content))
                except Exception as exc:  # noqa: BLE001  (any failure of the server is a finding)
                    errors.append(repr(exc))

        asking.set()
        asker = threading.Thread(target=keep_asking, daemon=True)
        asker.start()
        ingest, rebuild = raadgiver.many([(("ingest", new, "--model", "hash"), db),
                                          (("ingest", "--rebuild", new, "--model", "hash"), db)])
        while not answers and not errors and asker.is_alive():
            time.sleep(0.2)  # the server was asked throughout; wait for at least one answer
        asking.clear()
        asker.join(60)
        during = snapshot(db)
        wait_until_up(f"http://127.0.0.1:{open_port}", opened, open_log)
        open_up = opened.poll() is None
    finally:
        stop(server)
        stop(opened)
    after = raadgiver("ingest", new, "--model", "hash", db=db)
    return Busy(ingest, rebuild, before, during, answers, errors, after,
                {Path(item[0]).name for item in snapshot(db)[1]}, log.read_text(), refused, open_port, open_up,
                open_log.read_text())


def test_ingest_while_serving_is_turned_away(busy: Busy) -> None:
    for r in (busy.ingest, busy.rebuild):
        assert r.returncode == 2
        one_danish_line(r, "bruges af en anden proces", "raadgiver serve", "upload-feltet")
        assert r.stdout == ""


def test_index_unchanged_and_server_kept_answering(busy: Busy) -> None:
    assert busy.during == busy.before  # neither the items, the passages nor the committed manifest moved
    assert busy.errors == [] and busy.answers
    assert all("26/0777" in a and "raad-kilde" in a for a in busy.answers), busy.answers[0][:400]
    assert "Traceback" not in busy.serve_log


def test_ingest_works_once_the_server_stopped(busy: Busy) -> None:
    assert busy.after.returncode == 0, busy.after.stderr
    assert busy.after.stdout.startswith("ny ")
    assert "fiktivt-raad-referat-04.txt" in busy.sources_after and len(busy.sources_after) == 4


def test_serve_on_a_network_address_needs_a_password_or_an_explicit_opt_out(busy: Busy) -> None:
    assert busy.refused.returncode == 2
    one_danish_line(busy.refused, "uden adgangskode", "--auth-user", "--insecure-no-auth")
    assert busy.open_up, busy.open_log
    assert f"Rådgiver kører på http://0.0.0.0:{busy.open_port}" in busy.open_log
    assert "Traceback" not in busy.open_log


# --------------------------------------------------------------------------- broken data folders and models


@dataclass
class Broken:
    runs: dict[str, subprocess.CompletedProcess[str]]
    dirs: dict[str, Path]
    before: dict[str, dict[str, bytes | None]]
    after: dict[str, dict[str, bytes | None]]
    fixed: dict[str, subprocess.CompletedProcess[str]]


def default_model_folder() -> Path | None:
    from index.e5_convert import default_model_dir, is_complete

    folder = default_model_dir()
    return folder if is_complete(folder) else None


@pytest.fixture(scope="module")
def broken(demo: Demo, raadgiver: Raadgiver, tmp_path_factory: pytest.TempPathFactory) -> Broken:
    root = tmp_path_factory.mktemp("broken")
    garbage = copy_db(demo, root / "garbage")
    (garbage / "chroma" / "chroma.sqlite3").write_bytes(b"dette er ikke en database\n" * 4000)
    garbage_w = root / "garbage-w"  # the writer gets its own copy: it would lock the readers out
    shutil.copytree(garbage, garbage_w)
    foreign = root / "foreign"
    foreign.mkdir()
    (foreign / "noter.txt").write_text("Indkøbsliste: mælk, brød.\n", encoding="utf-8")
    (foreign / "billede.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    foreign_chroma = root / "foreign-chroma"
    (foreign_chroma / "chroma").mkdir(parents=True)
    (foreign_chroma / "chroma" / "andet-program.txt").write_text("ikke vores\n", encoding="utf-8")
    a_file = root / "en-fil.txt"
    a_file.write_text("ikke en mappe\n", encoding="utf-8")
    no_weights = root / "model-uden-vaegte"
    model = default_model_folder()
    if model is not None:
        shutil.copytree(model, no_weights, ignore=shutil.ignore_patterns("model.safetensors"))
    new = demo.files[0]
    q = "Hvad besluttede udvalget om kommunens servere?"
    plan: dict[str, tuple[Sequence[Any], Path | None]] = {
        "garbage-search": (("search", q, "--model", "hash"), garbage),
        "garbage-ask": (("ask", q, "--model", "hash"), garbage),
        "garbage-ingest": (("ingest", new, "--model", "hash"), garbage_w),
        "foreign-items": (("items",), foreign),
        "foreign-ask": (("ask", q, "--model", "hash"), foreign),
        "foreign-chroma-search": (("search", q, "--mode", "lexical"), foreign_chroma),
        "file-items": (("items",), a_file),
        "file-search": (("search", q, "--model", "hash"), a_file),
        "file-ingest": (("ingest", new, "--model", "hash"), a_file),
        "nomodel-ingest": (("ingest", new, "--model", "/does/not/exist"), root / "nomodel-db"),
        "nomodel-ask": (("ask", q, "--model", "/does/not/exist"), demo.db),
    }
    if model is not None:
        plan["noweights-ingest"] = (("ingest", new, "--model", no_weights), root / "noweights-db")
    dirs = {"garbage": garbage, "garbage-w": garbage_w, "foreign": foreign, "foreign-chroma": foreign_chroma}
    before = {name: listing(d) for name, d in dirs.items()}
    runs = dict(zip(plan, raadgiver.many(list(plan.values()))))
    after = {name: listing(d) for name, d in dirs.items()}
    # Doing what the message says: move the folder away and ingest again; or --rebuild.
    shutil.move(str(garbage), str(root / "garbage.old"))
    fixed = dict(zip(["moved", "rebuild"], raadgiver.many([(("ingest", new, "--model", "hash"), garbage),
                                                          (("ingest", "--rebuild", new, "--model", "hash"), garbage_w)])))
    return Broken(runs, {**dirs, "root": root}, before, after, fixed)


def test_corrupted_index_says_rebuild(broken: Broken) -> None:
    for name, db in (("garbage-search", broken.dirs["garbage"]), ("garbage-ask", broken.dirs["garbage"]),
                     ("garbage-ingest", broken.dirs["garbage-w"])):
        r = broken.runs[name]
        assert r.returncode == 2, name
        one_danish_line(r, f"Indekset i {db} kan ikke åbnes", "flyt mappen væk", f"raadgiver ingest STI --db {db}")
        assert r.stdout == "", name
    # Nothing was written into the broken index, not even by the ingest (beside the lock file it takes).
    for name in ("garbage", "garbage-w"):
        assert {k: v for k, v in broken.after[name].items() if k != ".lock"} == broken.before[name], name


def test_following_the_advice_repairs_a_corrupted_index(broken: Broken) -> None:
    for name, r in broken.fixed.items():
        assert r.returncode == 0, (name, r.stderr)
        assert "I alt: 1 nye" in r.stdout and "Indekset har nu 1 møder" in r.stdout, name


def test_folder_of_other_files_is_not_an_index(broken: Broken) -> None:
    folder = broken.dirs["foreign"]
    for name in ("foreign-items", "foreign-ask"):
        r = broken.runs[name]
        assert r.returncode == 2, name
        one_danish_line(r, f"Der er intet indeks i {folder}", f"raadgiver ingest STI --db {folder}")
    assert broken.after["foreign"] == broken.before["foreign"]  # reading created nothing there


def test_foreign_chroma_folder_is_left_alone_and_named(broken: Broken) -> None:
    folder = broken.dirs["foreign-chroma"]
    r = broken.runs["foreign-chroma-search"]
    assert r.returncode == 2
    one_danish_line(r, f"--db {folder}")
    assert broken.after["foreign-chroma"] == broken.before["foreign-chroma"]


def test_ingest_into_a_file_says_use_a_folder(broken: Broken) -> None:
    r = broken.runs["file-ingest"]
    assert r.returncode == 2
    one_danish_line(r, "er en fil, ikke en mappe", "angiv en mappe med --db")
    assert (broken.dirs["root"] / "en-fil.txt").read_text(encoding="utf-8") == "ikke en mappe\n"


@pytest.mark.parametrize("command", ["items", "search"])
def test_reading_from_a_file_says_use_a_folder(broken: Broken, command: str) -> None:
    r = broken.runs[f"file-{command}"]
    assert r.returncode == 2
    one_danish_line(r, "er en fil, ikke en mappe", "angiv en mappe med --db")


def test_missing_model_says_use_model_option(broken: Broken) -> None:
    for name in ("nomodel-ingest", "nomodel-ask"):
        r = broken.runs[name]
        assert r.returncode == 2, name
        one_danish_line(r, "Modellen findes ikke: /does/not/exist", "--model", "standardmodellen")
    assert not (broken.dirs["root"] / "nomodel-db").exists()  # refused before anything was created


def test_model_folder_without_weights_says_use_model_option(broken: Broken) -> None:
    if "noweights-ingest" not in broken.runs:
        pytest.skip("the default model has not been built on this machine (~/.cache/raadgiver/models)")
    r = broken.runs["noweights-ingest"]
    folder = broken.dirs["root"] / "model-uden-vaegte"
    assert r.returncode == 2
    one_danish_line(r, f"Modellen i {folder} kunne ikke indlæses", "--model")
    assert not (broken.dirs["root"] / "noweights-db").exists()


# --------------------------------------------------------------------------- a full disk


N_FULL = 45  # fictional meetings; a 2 MB disk holds about 20 of them


@dataclass
class Full:
    first: subprocess.CompletedProcess[str]
    read_while_full: subprocess.CompletedProcess[str]
    after_freeing: dict[str, list[str]]
    again: subprocess.CompletedProcess[str]
    final: dict[str, list[str]]
    hits_final: set[tuple[str, str]]
    expected: dict[str, list[str]]


def committed_sections(db: Path) -> dict[str, list[str]]:
    """Sections of each committed meeting, in document order, as `raadgiver items` lists them."""
    from index.store import open_index

    with open_index(db, None) as index:
        committed = index.manifest.committed()
        out: dict[str, list[str]] = {}
        for i in index.store.get_items():
            if committed.get(i.source) == i.content_hash:
                out.setdefault(i.source, []).append(i.section)
    return {k: sorted(v, key=lambda s: tuple(int(x) for x in s.split("."))) for k, v in out.items()}


@pytest.fixture(scope="module")
def full(raadgiver: Raadgiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Full]:
    """Ingest into a 2 MB tmpfs until the disk is full, then make room and carry on."""
    root = tmp_path_factory.mktemp("full")
    disk = root / "disk"
    disk.mkdir()
    if not shutil.which("mount"):
        pytest.skip("no mount command")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=False,
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        folder = root / "in"
        folder.mkdir()
        expected = {}
        for name, text, items in generated_minutes(N_FULL, seed=7):
            (folder / name).write_text(text, encoding="utf-8")
            expected[str((folder / name).resolve())] = [it.section for it in items]
        db = disk / "db"
        # Small batches: several commits land before the disk fills (a batch is committed whole).
        first = raadgiver("ingest", folder, "--model", "hash", "--embed-batch", "10", db=db)
        read_while_full = raadgiver("items", "--json", db=db)
        grown = subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=False, capture_output=True,
                               text=True)
        assert grown.returncode == 0, grown.stderr
        after_freeing = committed_sections(db)
        again = raadgiver("ingest", folder, "--model", "hash", db=db)
        final = committed_sections(db)
        from index.embed import HashEmbedder
        from index.store import open_index

        with open_index(db, HashEmbedder()) as index:
            hits = {(h.chunk.source, h.chunk.section) for h in index.search("godkendt", k=1000)}
        yield Full(first, read_while_full, after_freeing, again, final, hits, expected)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False, capture_output=True)


def test_full_disk_stops_the_ingest(full: Full) -> None:
    # The disk really filled: the ingest did not get through all the files.
    assert full.first.returncode != 0
    added = [line for line in full.first.stdout.splitlines() if line.startswith("ny ")]
    assert 0 < len(added) < N_FULL, full.first.stdout


def test_full_disk_gives_one_danish_line(full: Full) -> None:
    one_danish_line(full.first, "disken er fuld", "Frigør plads")


def test_reading_while_the_disk_is_full_works_or_gives_one_danish_line(full: Full) -> None:
    # chromadb sometimes needs to write (compact its log) to read; either the read succeeds or it
    # says what to do, never a traceback.
    r = full.read_while_full
    if r.returncode == 0:
        assert isinstance(json.loads(r.stdout), list) and "Traceback" not in r.stderr
    else:
        one_danish_line(r, "disken er fuld")


def test_nothing_lost_or_half_done_after_a_full_disk(full: Full) -> None:
    reported = {line.split(None, 1)[1].rsplit(" (", 1)[0] for line in full.first.stdout.splitlines()
                if line.startswith("ny ")}
    after = full.after_freeing
    # Every meeting the failed run reported as added is there, whole; nothing else is.
    assert {str(Path(p).resolve()) for p in reported} == set(after)
    for source, sections in after.items():
        assert sections == full.expected[source], source
    assert full.again.returncode == 0, full.again.stderr
    assert full.final == full.expected
    assert full.hits_final == {(s, sec) for s, secs in full.expected.items() for sec in secs}


# --------------------------------------------------------------------------- minutes that instruct the model


def test_extractive_answer_cites_only_real_items_verbatim(demo: Demo, raadgiver: Raadgiver) -> None:
    from index.store import open_index

    answer = raadgiver.json("ask", "Hvad besluttede udvalget om driften af kommunens servere?", "--model", "hash",
                            db=demo.db)
    with open_index(demo.db, None) as index:
        real = {(i.source, i.section): i for i in index.store.get_items()}
    assert not answer["refused"] and answer["citations"]
    for c in answer["citations"]:
        item = real[(c["source"], c["section"])]  # a committed item, not one the minutes made up
        assert (c["title"], c["case_number"], c["council"]) == (item.title, item.case_number, item.council)
        # Verbatim: the quote is the file's own words (the parser joins a paragraph's lines with spaces).
        words = " ".join(Path(c["source"]).read_text(encoding="utf-8").split())
        assert " ".join(c["quote"].split()) in words, c["quote"]
    assert answer["citations"][0]["case_number"] == "26/0777"
    assert "26/9999" not in {c["case_number"] for c in answer["citations"]}  # the forged source is no source
    # Outside the quoted words, every [n] points at a citation in the list.
    marks = [int(n) for n in re.findall(r"\[(\d+)\]", re.sub(r"»[^«]*«", "", answer["answer"]))]
    assert marks and set(marks) == set(range(1, len(answer["citations"]) + 1))


# --------------------------------------------------------------------------- uploads: what test_ui leaves out


def test_upload_size_limit_is_exact(tmp_path: Path) -> None:
    text = "Referat\nUdvalg: Testudvalget\n" + "x" * 10_000
    exact = tmp_path / "exact.txt"
    exact.write_bytes(text.encode()[:4096])
    over = tmp_path / "over.txt"
    over.write_bytes(text.encode()[:4097])
    assert store_upload(exact, "exact.txt", tmp_path / "up", 4096).name == "exact.txt"
    with pytest.raises(UploadRejected, match=r"filen er for stor"):
        store_upload(over, "over.txt", tmp_path / "up", 4096)
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["exact.txt"]


@pytest.mark.parametrize(("content", "name", "words"), [
    (b"%PDF-1.7\n1 0 obj", "referat.txt", "indholdet er PDF"),
    (b"PK\x03\x04" + b"x" * 64, "referat.html", "indholdet er DOCX"),
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, "referat.pdf", "binær"),
    (b"<html><body><script>alert(1)</script></body></html>", "referat.pdf", "men filen hedder '.pdf'"),
    (b"Referat\n", "referat.sh", "ukendt filtype '.sh'"),
])
def test_upload_type_is_decided_by_content(tmp_path: Path, content: bytes, name: str, words: str) -> None:
    src = tmp_path / "src"
    src.write_bytes(content)
    with pytest.raises(UploadRejected, match=re.escape(words)):
        store_upload(src, name, tmp_path / "up", 1 << 20)
    assert not (tmp_path / "up").exists() or not any((tmp_path / "up").iterdir())


@pytest.mark.parametrize(("name", "stored"), [
    ("uploads/../../x.txt", "x.txt"),
    ("..\\..\\..\\Windows\\x.txt", "x.txt"),
    ("%2e%2e%2fx.txt", "_2e_2e_2fx.txt"),
    ("/etc/cron.d/x.txt", "x.txt"),
    ("x\u202etxt.html.txt", "x_txt.html.txt"),  # right-to-left override: no disguised extension
])
def test_upload_names_cannot_leave_the_upload_folder(tmp_path: Path, name: str, stored: str) -> None:
    src = tmp_path / "src.txt"
    src.write_text("Referat\nUdvalg: Testudvalget\nMødedato: 1. maj 2026\n", encoding="utf-8")
    up = tmp_path / "a" / "up"
    dest = store_upload(src, name, up, 1 << 20)
    assert dest == (up / stored).resolve() and dest.read_bytes() == src.read_bytes()
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == {src, dest}


@pytest.mark.parametrize("name", ["a" * 300 + ".txt", "ø" * 130 + ".txt"])
def test_upload_with_a_very_long_name_is_refused_in_danish_or_shortened(tmp_path: Path, name: str) -> None:
    src = tmp_path / "src.txt"
    src.write_text("Referat\nUdvalg: Testudvalget\n", encoding="utf-8")
    try:
        dest = store_upload(src, name, tmp_path / "up", 1 << 20)
    except UploadRejected as exc:
        assert "filnavn" in str(exc)
    else:
        assert len(dest.name.encode()) <= 255 and dest.suffix == ".txt"
