"""The chat UI driven for real: `raadgiver serve` in a subprocess, gradio_client, headless Chromium."""

from __future__ import annotations

import os

import html
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from chat_app.answer import REFUSAL_TEXT, Answer
from chat_app.prompt import Citation
from chat_app.ui import (
    ALL_COUNCILS,
    COPY_LABEL,
    OpenBind,
    UploadRejected,
    build_app,
    chat_history,
    check_bind,
    launch,
    render_answer,
    safe_name,
    store_upload,
)
from eval.load import free_port, wait_up
from tests.conftest import REPO, Raadgiver, cli_env, stop

DEMO = REPO / "demo" / "minutes"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# gradio's queue trips pandas 3 deprecation warnings; not ours to fix.
pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]

# Fictional minutes whose text tries to inject markup into the page.
INJECTION = """FIKTIVT REFERAT – testdata til Rådgiver; personer og sager er opdigtede.

Fiktiv Kommune

Referat
Udvalg: Havneudvalget, Fiktiv Kommune
Mødedato: 3. juni 2026

Punkt 1: Vandkvalitet ved havnebadet <b>fed</b>
Sagsnr.: 26/0999

Sagsfremstilling
Udvalget drøftede vandkvaliteten ved havnebadet efter de seneste målinger af bakterier i vandet.
En borger havde i sit høringssvar om vandkvaliteten ved havnebadet skrevet <script>window.__pwned=1</script> midt i teksten.
Et andet høringssvar om vandkvaliteten ved havnebadet indeholdt <img src=x onerror="window.__pwned=2"> som billede.

Beslutning
Udvalget besluttede at lukke havnebadet, når målingerne af vandkvaliteten overskrider grænseværdien.

Punkt 2: Eventuelt
Sagsnr.: 26/1000

Beslutning
Intet.
"""


def small_minutes(council: str, day: str, title: str, case: str, text: str) -> str:
    """A one-item fictional meeting in the Digitaliseringsudvalget layout."""
    return (f"FIKTIVT REFERAT – testdata; personer og sager er opdigtede.\n\nFiktiv Kommune\n\nReferat\n"
            f"Udvalg: {council}\nMødedato: {day}\n\nPunkt 1: {title}\nSagsnr.: {case}\n\n"
            f"Sagsfremstilling\n{text}\n\nBeslutning\nGodkendt.\n")


# --------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("host", "auth", "allow_open", "ok"),
    [
        ("127.0.0.1", None, False, True),
        ("localhost", None, False, True),
        ("::1", None, False, True),
        ("0.0.0.0", None, False, False),
        ("192.168.1.20", None, False, False),
        ("0.0.0.0", ("anna", "hemmelig"), False, True),
        ("0.0.0.0", ("anna", ""), False, False),
        ("0.0.0.0", None, True, True),
    ],
)
def test_check_bind(host: str, auth: tuple[str, str] | None, allow_open: bool, ok: bool) -> None:
    if ok:
        check_bind(host, auth, allow_open)
    else:
        with pytest.raises(OpenBind, match="uden adgangskode.*--auth-user.*--insecure-no-auth"):
            check_bind(host, auth, allow_open)


def test_upload_names_sizes_and_types(tmp_path: Path) -> None:
    assert safe_name("../../evil.txt") == "evil.txt"
    assert safe_name("C:\\Users\\x\\referat æøå.pdf") == "referat æøå.pdf"
    assert safe_name("møde<script>.txt") == "møde_script_.txt"
    for bad in ("..", "../.bashrc", "mappe/", "", "uden-endelse"):
        with pytest.raises(UploadRejected):
            safe_name(bad)
    up = tmp_path / "uploads"
    src = tmp_path / "src"
    src.mkdir()
    minutes = src / "a.txt"
    minutes.write_text(small_minutes("Testudvalget", "1. maj 2026", "Cykelstier", "26/0001", "Stierne blev godkendt."))
    dest = store_upload(minutes, "../../evil.txt", up, 1024 * 1024)
    assert dest == (up / "evil.txt").resolve() and dest.read_bytes() == minutes.read_bytes()
    assert not (tmp_path / "evil.txt").exists()
    assert store_upload(minutes, "evil.txt", up, 1024 * 1024) == dest  # same content: same file, "uændret"
    other = src / "b.txt"
    other.write_text(small_minutes("Testudvalget", "2. maj 2026", "Fortove", "26/0002", "Fortovene blev godkendt."))
    assert store_upload(other, "evil.txt", up, 1024 * 1024).name == "evil-2.txt"  # never overwritten
    big = src / "big.txt"
    big.write_bytes(b"a" * (1024 * 1024 + 1))
    with pytest.raises(UploadRejected, match="filen er for stor"):
        store_upload(big, "big.txt", up, 1024 * 1024)
    fake = src / "fake.pdf"
    fake.write_bytes(b"\x00\x01\x02 ikke en pdf")
    with pytest.raises(UploadRejected, match="binær"):
        store_upload(fake, "fake.pdf", up, 1024 * 1024)
    docx_named_pdf = src / "doc.pdf"
    docx_named_pdf.write_bytes(b"PK\x03\x04" + b"x" * 100)
    with pytest.raises(UploadRejected, match="indholdet er DOCX"):
        store_upload(docx_named_pdf, "doc.pdf", up, 1024 * 1024)
    assert sorted(p.name for p in up.iterdir()) == ["evil-2.txt", "evil.txt"]


def test_render_escapes_minutes_text_and_round_trips_history() -> None:
    evil = '<script>alert(1)</script> og <img src=x onerror="alert(2)">'
    cite = Citation(council="Råd <i>x</i>", meeting_date=None, section="2.1", case_number="SAG-2025-00001",
                    title='Titel "<b>"', source="/x/referat.txt", quote=evil)
    answer = Answer(answer=f"Rådet sagde {evil} [1]\n\nAnden linje", refused=False, citations=(cite,), note=evil)
    out = render_answer(answer, {("/x/referat.txt", "2.1"): f"Hele punktet {evil}"})
    assert "<script" not in out and "<img" not in out and "<i>" not in out and "<b>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out and "onerror=&quot;alert(2)&quot;" in out
    assert "ukendt dato" in out and "Vis hele punktet" in out and COPY_LABEL in out
    assert "\n" not in out  # one HTML block: markdown must not re-interpret any of it
    assert f'value="{html.escape(cite.memo_line(), quote=True)}"' in out
    messages: list[dict[str, Any]] = [{"role": "user", "content": html.escape("Hvad med <script>?")},
                {"role": "assistant", "content": [{"type": "text", "text": out}]}]
    assert chat_history(messages) == [("Hvad med <script>?", answer.answer.strip())]


# --------------------------------------------------------------------------- one real server


def wait_until_up(url: str, proc: subprocess.Popen[str] | None, log: Path | None, timeout: float = 120) -> None:
    try:
        wait_up(url, proc, timeout, log, poll=0.3)
    except RuntimeError as exc:
        raise AssertionError(str(exc)) from None


def start_serve(raadgiver: Raadgiver, db: Path, log: Path, *args: object) -> tuple[subprocess.Popen[str], str]:
    """`raadgiver serve --model hash` on a free loopback port, its output in ``log``; returns once it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log, "w") as fh:
        proc = raadgiver.start("serve", "--port", port, "--model", "hash", *args, db=db, stdout=fh,
                               stderr=subprocess.STDOUT)
    try:
        wait_until_up(url, proc, log)
    except BaseException:
        stop(proc)
        raise
    return proc, url


@dataclass
class Served:
    url: str
    db: Path
    base: Path
    first_config: dict[str, Any]
    empty_answer: str
    first_upload: str


def component(config: dict[str, Any], elem_id: str) -> dict[str, Any]:
    return next(c["props"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)


@pytest.fixture(scope="module")
def served(raadgiver: Raadgiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`raadgiver serve` on a data folder that does not exist yet, filled through the upload endpoint."""
    from gradio_client import Client, handle_file

    base = tmp_path_factory.mktemp("ui")
    db = base / "db"
    proc, url = start_serve(raadgiver, db, base / "serve.log", "--max-upload-mb", 1)
    try:
        first_config = httpx.get(f"{url}/config").json()
        empty_answer = last_answer(ask(url, "Hvad mente rådet om open source?"))
        src = base / "src"
        src.mkdir()
        files = sorted(DEMO.glob("*.txt"))
        (src / "havneudvalget-2026-06-03.txt").write_text(INJECTION, encoding="utf-8")
        files.append(src / "havneudvalget-2026-06-03.txt")
        status = Client(url, verbose=False).predict([handle_file(str(p)) for p in files], api_name="/add_minutes")[0]
        yield Served(url, db, base, first_config, empty_answer, status)
    finally:
        stop(proc)


def ask(url: str, question: str, history: list[dict[str, Any]] | None = None, council: str = ALL_COUNCILS,
        since: str = "", until: str = "", case: str = "") -> list[dict[str, Any]]:
    from gradio_client import Client

    messages, box = Client(url, verbose=False).predict(question, history or [], council, since, until, case,
                                                       api_name="/chat")
    assert box == ""
    return messages  # type: ignore[no-any-return]


def last_answer(messages: list[dict[str, Any]]) -> str:
    m = messages[-1]
    assert m["role"] == "assistant"
    content = m["content"]
    return "".join(p.get("text", "") for p in content) if isinstance(content, list) else str(content)


def test_serve_creates_missing_index_and_says_how_to_fill_it(served: Served) -> None:
    note = component(served.first_config, "tomt-indeks")
    assert note["visible"] is True and "Indekset er tomt" in note["value"] and "raadgiver ingest MAPPE" in note["value"]
    assert (served.db / "chroma").is_dir()
    assert "Indekset er tomt" in served.empty_answer and "upload-feltet" in served.empty_answer
    lines = [line for line in served.first_upload.splitlines() if not line.startswith(" ")]
    assert len(lines) == 8 and all(line.startswith("ny ") for line in lines), served.first_upload
    # Under each file: its council and date, and where the date came from, for the user to confirm.
    assert "\n           Havneudvalget, Fiktiv Kommune, møde 2026-06-03 (fundet i referatet)" in served.first_upload
    assert sorted(p.name for p in (served.db / "uploads").iterdir()) == sorted(
        [p.name for p in DEMO.glob("*.txt")] + ["havneudvalget-2026-06-03.txt"])


SOURCE = re.compile(
    r'<li class="raad-kilde"><div class="raad-hvor">(?P<where>.*?)</div><div class="raad-titel">(?P<title>.*?)</div>'
    r"(?:<blockquote>»(?P<shown>.*?)«</blockquote>)?.*?<div class=\"raad-fil\">Fil: (?P<file>.*?)</div>"
    r'<span class="raad-citat">»(?P<quote>.*?)«</span><button type="button" class="raad-kopier" value="(?P<memo>.*?)"'
)
OPEN_SOURCE_CASES = {"SAG-2024-00311", "SAG-2025-00142", "SAG-2026-00031"}


def sources(out: str) -> list[dict[str, str]]:
    """The cited sources of a rendered answer, unescaped."""
    return [{k: html.unescape(v or "") for k, v in m.groupdict().items()} for m in SOURCE.finditer(out)]


def test_answer_cites_item_with_quote(served: Served) -> None:
    messages = ask(served.url, "Hvad mente rådet om open source?")
    assert [m["role"] for m in messages] == ["user", "assistant"]
    out = last_answer(messages)
    cited = sources(out)
    assert cited, out
    first = cited[0]
    where = re.fullmatch(r"Fiktivt It-Arkitekturråd · møde (\d{4}-\d\d-\d\d) · pkt\. (\d\.\d) · (SAG-\d{4}-\d{5})",
                         first["where"])
    assert where and where.group(3) in OPEN_SOURCE_CASES and "open source" in first["title"].lower(), first
    text = (DEMO / first["file"]).read_text(encoding="utf-8")
    assert len(first["quote"]) > 25 and first["quote"] in text  # verbatim from the cited minutes
    assert f"{where.group(2)}. {first['title']}" in text and where.group(3) in text
    assert first["memo"].endswith(f'pkt. {where.group(2)} "{first["title"]}" ({where.group(3)})')
    assert "<summary>Vis hele punktet</summary>" in out and COPY_LABEL in out


def test_follow_up_keeps_the_conversation(served: Served) -> None:
    first = ask(served.url, "Hvordan gik evalueringen af AI-assistenten i Borgerservice?")
    assert {"26/0301", "25/1045"} & {s["where"].rsplit(" · ", 1)[-1] for s in sources(last_answer(first))}
    follow = ask(served.url, "Hvad kostede den?", history=first)
    assert len(follow) == 4 and follow[:2] == first  # the conversation is kept, the new turn added
    cited = {s["where"].rsplit(" · ", 1)[-1] for s in sources(last_answer(follow))}
    assert cited & {"26/0301", "25/1045"}, last_answer(follow)  # "den" was read as the AI assistant


def test_unanswerable_question_is_refused(served: Served) -> None:
    # Nothing in the index can answer a question about meetings that have not been held; a refusal
    # for questions the minutes never discuss is checked with the real model below.
    out = last_answer(ask(served.url, "Hvad mente rådet om open source?", since="2030-01-01"))
    assert "Der er ingen referater fra 1. januar 2030 og frem i de indlæste møder; de indlæste møder er fra " \
           "12. marts 2024 til 3. juni 2026." in out and "raad-kilde" not in out


def test_who_attended_cites_the_participants_list(served: Served) -> None:
    out = last_answer(ask(served.url, "Hvem deltog i mødet den 12. marts 2024?"))
    (cited,) = sources(out)
    assert cited["where"] == "Fiktivt It-Arkitekturråd · møde 2024-03-12" and cited["title"] == "Deltagerfortegnelse"
    assert cited["memo"] == 'Fiktivt It-Arkitekturråd, møde 2024-03-12, "Deltagerfortegnelse"'
    assert cited["quote"] in (DEMO / cited["file"]).read_text(encoding="utf-8")
    assert "<summary>Vis hele deltagerlisten</summary>" in out and "Afbud: Henrik Aagaard" in out


def test_filters_and_bad_dates(served: Served) -> None:
    only_2026 = sources(last_answer(ask(served.url, "Hvad mente rådet om open source?", since="2026-01-01")))
    assert only_2026 and all(" · møde 2026-" in s["where"] for s in only_2026)
    council = "Digitaliseringsudvalget, Fiktiv Kommune"
    digi = sources(last_answer(ask(served.url, "Hvad blev der besluttet om cloud?", council=council)))
    assert digi and all(s["where"].startswith(council) for s in digi)
    by_case = sources(last_answer(ask(served.url, "Hvad besluttede rådet?", case="SAG-2025-00167")))
    assert by_case and all(s["where"].endswith("SAG-2025-00167") for s in by_case)
    from gradio_client import Client

    # A bad date leaves the conversation and the question as they were (the page marks the field);
    # the server logs one line per bad filter, no traceback.
    before = ask(served.url, "Hvad mente rådet om open source?")
    log = served.base / "serve.log"
    logged = log.read_text(encoding="utf-8").count("Ugyldigt filter: ")
    for since, until, words in (("2025-13-01", "", "ikke en dato"), ("9. maj", "", "ÅÅÅÅ-MM-DD"),
                                ("2026-01-01", "2025-01-01", "ligger efter")):
        messages, box = Client(served.url, verbose=False).predict(
            "Og om cloud?", before, ALL_COUNCILS, since, until, "", False, api_name="/chat")
        assert messages == before and box == "Og om cloud?"
        text = log.read_text(encoding="utf-8")
        assert text.count("Ugyldigt filter: ") == logged + 1 and words in text.splitlines()[-1], text[-500:]
        logged += 1
    assert "Traceback" not in log.read_text(encoding="utf-8")


def test_twenty_concurrent_questions(served: Served) -> None:
    relevant = {
        "Hvad mente rådet om open source?": OPEN_SOURCE_CASES,
        "Hvad blev der besluttet under SAG-2025-00142?": {"SAG-2025-00142"},
        "Hvad skal en exitplan i kontrakter om cloudtjenester indeholde?": {"SAG-2025-00167", "26/0388", "SAG-2026-00045"},
        "Hvad koster omlægningen af AI-assistenten i Borgerservice?": {"26/0301", "25/1045"},
        "Hvad besluttede udvalget om vandkvaliteten ved havnebadet?": {"26/0999"},
    }
    alone = {q: last_answer(ask(served.url, q)) for q in relevant}
    for q, cases in relevant.items():
        assert sources(alone[q]) and sources(alone[q])[0]["where"].rsplit(" · ", 1)[-1] in cases, (q, alone[q][:300])
    questions = list(relevant) * 4
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda q: last_answer(ask(served.url, q)), questions))
    assert time.monotonic() - started < 60
    for q, a in zip(questions, answers):
        assert a == alone[q], q  # no answer got mixed up with another under load


def test_serve_refuses_network_address_without_password(raadgiver: Raadgiver, tmp_path: Path) -> None:
    db = tmp_path / "db"
    r = raadgiver("serve", "--host", "0.0.0.0", "--model", "hash", db=db, timeout=60)
    assert r.returncode == 2 and "uden adgangskode" in r.stderr and "--insecure-no-auth" in r.stderr, r.stderr
    assert not db.exists()  # refused before anything was opened or created
    r = raadgiver("serve", "--host", "0.0.0.0", "--model", "hash", db=db, timeout=60,
                  env=cli_env(raadgiver.home, RAADGIVER_AUTH="uden-kolon"))
    assert r.returncode == 2 and "bruger:kode" in r.stderr
    r = raadgiver("serve", "--host", "0.0.0.0", "--auth-user", "anna", "--model", "hash", db=db, timeout=60)
    assert r.returncode == 2 and "både --auth-user og --auth-password" in r.stderr


def test_password_protects_the_ui(served: Served, tmp_path: Path) -> None:
    from gradio_client import Client

    from index.embed import HashEmbedder
    from index.store import open_index

    index = open_index(served.db, HashEmbedder())
    app = build_app(index, None, upload_dir=tmp_path / "up")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        launch(app, port=port, auth=("anna", "hemmelig"), block=False)
        assert httpx.get(f"{url}/config").status_code == 401
        with pytest.raises(Exception):
            Client(url, verbose=False, auth=("anna", "forkert"))
        client = Client(url, verbose=False, auth=("anna", "hemmelig"))
        messages, _ = client.predict("Hvad mente rådet om open source?", [], ALL_COUNCILS, "", "", "", api_name="/chat")
        assert "SAG-2024-00311" in last_answer(messages)
    finally:
        app.close()
        index.close()


# --------------------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser: Any, url: str, height: int = 1000) -> Any:
    ctx = browser.new_context(viewport={"width": 1400, "height": height}, locale="da-DK")
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = ctx.new_page()
    page.goto(url)
    page.locator("#spoergsmaal textarea").wait_for()
    return page


def ask_in_page(page: Any, question: str) -> None:
    before = page.locator("#samtale .raad-svar").count()
    box = page.locator("#spoergsmaal textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => { const a = document.querySelectorAll('#samtale .raad-svar');"
        " return a.length > n && a[a.length - 1].querySelector('.raad-tekst'); }", arg=before, timeout=30_000)


def test_browser_chat_shows_sources_full_item_and_copies_citation(served: Served, browser: Any,
                                                                    tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, served.url, height=1250)
    expect(page.locator("#tomt-indeks")).to_be_hidden()  # the index was filled after the server started
    expect(page.get_by_text("Hvad blev der besluttet under SAG-2025-00142?")).to_be_visible()  # examples
    ask_in_page(page, "Hvad mente rådet om open source?")
    first = page.locator("#samtale .raad-kilde").first
    expect(first.locator(".raad-hvor")).to_contain_text(re.compile(r"· pkt\. \d\.\d · SAG-\d{4}-\d{5}$"))
    where = first.locator(".raad-hvor").inner_text()
    assert where.rsplit(" · ", 1)[-1] in OPEN_SOURCE_CASES
    # The answer states the quote; the source below does not repeat it word for word.
    expect(page.locator("#samtale .raad-tekst").last).to_contain_text("»")
    expect(first.locator("blockquote")).to_have_count(0)
    full = first.locator(".raad-punkt")
    expect(full).to_be_hidden()
    first.get_by_text("Vis hele punktet").click()
    expect(full).to_be_visible()
    expect(full).to_contain_text("Sekretariatet indstiller")
    first.get_by_role("button", name=COPY_LABEL).click()
    expect(first.get_by_role("button", name="Kopieret ✓")).to_be_visible()
    council, day, section, case = where.split(" · ")
    title = first.locator(".raad-titel").inner_text()
    memo = f'{council}, {day}, {section} "{title}" ({case})'
    quote = first.locator(".raad-citat").text_content() or ""
    assert quote.startswith("»") and quote.endswith("«")
    assert quote[1:-1].replace("[", "(").replace("]", ")") in page.locator("#samtale .raad-tekst").last.inner_text()
    # The quote and the memo line, ready to paste: two lines as text, two paragraphs for Word/Outlook.
    flavours = page.evaluate(CLIPBOARD_FLAVOURS)
    assert flavours["text/plain"] == f"{quote}\n{memo}"
    assert re.sub(r"^<meta[^>]*>", "", flavours["text/html"]) == f"<p>{html.escape(quote, quote=False)}</p><p>{html.escape(memo, quote=False)}</p>"
    page.wait_for_timeout(1600)  # let the button say its own name again before the picture
    page.locator("#samtale .message-row").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / "screenshot.png"))
    (REPO / "docs").mkdir(exist_ok=True)
    if os.environ.get("RAADGIVER_UPDATE_SCREENSHOT"):  # the README's picture; a test run leaves the tree clean
        page.screenshot(path=str(REPO / "docs" / "screenshot.png"))
    assert (tmp_path / "screenshot.png").stat().st_size > 20_000
    page.context.close()


CLIPBOARD_FLAVOURS = """async () => {
  const out = {};
  for (const item of await navigator.clipboard.read())
    for (const type of item.types) out[type] = await (await item.getType(type)).text();
  return out;
}"""


def fonts_of(page: Any, selector: str) -> list[str]:
    """The fonts Chromium actually drew the first match's text with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return [f["postScriptName"] for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]]


def test_browser_bold_source_header_is_one_font(served: Served, browser: Any) -> None:
    # gradio's own Source Sans Pro SemiBold holds only "A" and "B": bold text came out in two fonts.
    page = open_page(browser, served.url)
    ask_in_page(page, "Hvad mente rådet om open source?")
    header = page.locator("#samtale .raad-hvor").first
    assert "It-Arkitekturråd" in header.inner_text()
    assert header.evaluate("e => getComputedStyle(e).fontWeight") == "600"
    assert fonts_of(page, "#samtale .raad-hvor") == ["SourceSans3-Bold"]
    assert fonts_of(page, "#samtale .raad-titel") == ["SourceSans3-Regular"]  # italic: synthesised
    page.context.close()


def test_browser_minutes_cannot_inject_markup(served: Served, browser: Any) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, served.url)
    page.get_by_text("Hvad blev der besluttet under SAG-2025-00142?").click()  # an example question
    expect(page.locator("#samtale .raad-kilde").first).to_contain_text("SAG-2025-00142", timeout=30_000)
    # The meeting example: the council's latest meeting, item by item, one source per item.
    page.get_by_role("button", name="Ny samtale").click()
    page.get_by_text("Hvad blev der besluttet på rådets seneste møde?").click()
    expect(page.locator("#samtale")).to_contain_text("møde 10. marts 2026: 7 punkter på dagsordenen", timeout=30_000)
    expect(page.locator("#samtale .raad-kilde")).to_have_count(7)
    page.get_by_role("button", name="Ny samtale").click()
    expect(page.locator("#samtale .raad-svar")).to_have_count(0)
    ask_in_page(page, "Hvad besluttede udvalget om vandkvaliteten ved havnebadet?")
    source = page.locator("#samtale .raad-kilde", has_text="Havneudvalget").first
    expect(source).to_contain_text("26/0999")
    source.get_by_text("Vis hele punktet").click()
    chat = page.locator("#samtale")
    expect(chat).to_contain_text("<script>window.__pwned=1</script>")
    expect(chat).to_contain_text('<img src=x onerror="window.__pwned=2">')
    expect(chat).to_contain_text("Vandkvalitet ved havnebadet <b>fed</b>")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert chat.locator("img[src='x']").count() == 0 and chat.locator("script").count() == 0
    assert chat.locator("b", has_text="fed").count() == 0
    page.context.close()


# --------------------------------------------------------------------------- streaming from a model server


class ScriptedModel(BaseHTTPRequestHandler):
    """A local OpenAI-compatible server that streams a fixed reply slowly, like a small local model."""

    pieces = ["Rådet ", "godkendte ", "skabelonen ", "til exitplaner ", "[1]", "."]
    received: list[list[dict[str, str]]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append(body["messages"])
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in self.pieces:
            chunk = {"choices": [{"delta": {"content": piece}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            time.sleep(0.4)
        self.wfile.write(b"data: [DONE]\n\n")

    def log_message(self, *args: Any) -> None:
        pass


def test_streams_model_text_then_cited_answer(served: Served, tmp_path: Path) -> None:
    from gradio_client import Client

    from chat_app.generate import OpenAICompatible
    from index.embed import HashEmbedder
    from index.store import open_index

    model = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedModel)
    threading.Thread(target=model.serve_forever, daemon=True).start()
    generator = OpenAICompatible(f"http://127.0.0.1:{model.server_port}/v1", "skript")
    index = open_index(served.db, HashEmbedder())  # a second reader beside the server: shared lock
    app = build_app(index, generator, upload_dir=tmp_path / "up")
    port = free_port()
    try:
        launch(app, port=port, block=False)
        job = Client(f"http://127.0.0.1:{port}", verbose=False).submit(
            "Hvad skal en exitplan i kontrakter om cloudtjenester indeholde?", [], ALL_COUNCILS, "", "", "",
            api_name="/chat")
        messages = job.result(timeout=60)[0]
        final = last_answer(messages)
        partial = [last_answer(out[0]) for out in job.outputs() if "raad-skriver" in last_answer(out[0])]
        client = Client(f"http://127.0.0.1:{port}", verbose=False)
        client.predict("Og hvem skal godkende den?", messages, ALL_COUNCILS, "", "", "", api_name="/chat")
    finally:
        app.close()
        index.close()
        model.shutdown()
    assert len(partial) >= 3, partial  # text arrived piece by piece
    assert "Rådet godkendte" in partial[0] or "Rådet" in partial[0]
    assert "Rådet godkendte skabelonen til exitplaner [1]." in final and "raad-skriver" not in final
    assert final.count('<li class="raad-kilde">') == 1
    first, follow_up = ScriptedModel.received[-2:]
    assert [m["role"] for m in first] == ["system", "user"]
    assert "Kilde [1]" in first[-1]["content"] and "exitplan" in first[-1]["content"]
    # The follow-up reaches the model with the earlier turn: the question and the checked answer text.
    assert [m["role"] for m in follow_up] == ["system", "user", "assistant", "user"]
    assert follow_up[1]["content"] == "Hvad skal en exitplan i kontrakter om cloudtjenester indeholde?"
    assert follow_up[2]["content"] == "Rådet godkendte skabelonen til exitplaner [1]."
    assert follow_up[3]["content"].endswith("Spørgsmål: Og hvem skal godkende den?")


# --------------------------------------------------------------------------- uploads


def call_api(url: str, api: str, data: list[Any]) -> list[Any]:
    """Gradio's plain HTTP API (what curl users get): start the call, read the event stream."""
    event = httpx.post(f"{url}/gradio_api/call/{api}", json={"data": data}).json()["event_id"]
    stream = httpx.get(f"{url}/gradio_api/call/{api}/{event}", timeout=60).text
    kind = ""
    for line in stream.splitlines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and kind == "complete":
            return json.loads(line[5:])  # type: ignore[no-any-return]
    raise AssertionError(stream)


def test_upload_rejects_oversized_binary_and_escaping_names(served: Served) -> None:
    evil = small_minutes("Kulturudvalget, Fiktiv Kommune", "5. maj 2026", "Bibliotekernes åbningstider",
                         "26/2001", "Udvalget godkendte længere åbningstider på bibliotekerne om søndagen.")
    uploads = [
        ("../../evil.txt", evil.encode(), "text/plain"),
        ("stor.txt", b"Referat\n" + b"tekst " * 200_000, "text/plain"),  # 1.2 MB, limit is 1 MB
        ("scanning.pdf", b"\x00\x01\x02\x03 ikke en pdf" * 50, "application/pdf"),
        ("program.exe", b"MZ\x90\x00", "application/octet-stream"),
    ]
    paths = httpx.post(f"{served.url}/gradio_api/upload", files=[("files", u) for u in uploads]).json()
    data = [{"path": p, "orig_name": name, "meta": {"_type": "gradio.FileData"}} for p, (name, _, _) in zip(paths, uploads)]
    status = call_api(served.url, "add_minutes", [data, "", ""])[0]
    lines = status.splitlines()
    assert lines[0] == "fejl       stor.txt: filen er for stor (1,1 MB; grænsen er 1 MB)", status
    assert lines[1] == "fejl       scanning.pdf: filen er binær og ikke et dokument", status
    assert lines[2].startswith("fejl       program.exe: ukendt filtype '.exe' – understøttede typer: .docx"), status
    assert lines[3].startswith("ny         evil.txt (1 punkter"), status
    assert (served.db / "uploads" / "evil.txt").read_text(encoding="utf-8") == evil
    assert not (served.base / "evil.txt").exists() and not (served.db / "evil.txt").exists()
    assert sorted(p.name for p in (served.db / "uploads").glob("[eps]*")) == ["evil.txt"]  # rejected: not kept
    out = last_answer(ask(served.url, "Hvad besluttede udvalget om bibliotekernes åbningstider?"))
    assert "26/2001" in out and "Kulturudvalget, Fiktiv Kommune" in out


def test_upload_while_another_process_reads_says_try_again(served: Served, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    from index.embed import HashEmbedder
    from index.store import open_index

    f = tmp_path / "idraet.txt"
    f.write_text(small_minutes("Idrætsudvalget, Fiktiv Kommune", "6. maj 2026", "Kunstgræsbaner", "26/3001",
                               "Udvalget godkendte to nye kunstgræsbaner ved skolen."), encoding="utf-8")
    client = Client(served.url, verbose=False)
    reader = open_index(served.db, HashEmbedder())  # e.g. `raadgiver ask` in another terminal
    try:
        busy = client.predict([handle_file(str(f))], api_name="/add_minutes")[0]
    finally:
        reader.close()
    assert busy == "fejl       idraet.txt: indekset var optaget af en anden proces – prøv igen"
    again = client.predict([handle_file(str(f))], api_name="/add_minutes")[0]
    assert again.startswith("ny         idraet.txt"), again
    assert "26/3001" in last_answer(ask(served.url, "Hvad godkendte udvalget om kunstgræsbaner?"))


def test_browser_upload_reports_each_file(served: Served, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    good = tmp_path / "miljoe-referat.txt"
    good.write_text(small_minutes("Miljøudvalget, Fiktiv Kommune", "7. maj 2026", "Affaldssortering", "26/4001",
                                  "Udvalget godkendte sortering af madaffald i alle etageboliger."), encoding="utf-8")
    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"\x00" * 2000)
    page = open_page(browser, served.url)
    expect(page.locator("#upload")).to_contain_text("Træk filer hertil")  # gradio's own words in Danish too
    page.locator("#upload input[type=file]").set_input_files([str(good), str(bad)])
    status = page.locator("#upload-status textarea")
    expect(status).to_have_value(re.compile("scan.pdf"), timeout=30_000)
    text = status.input_value()
    assert "fejl       scan.pdf: filen er binær og ikke et dokument" in text
    assert "ny         miljoe-referat.txt (1 punkter" in text
    expect(page.get_by_text("1 af 2 filer kunne ikke indlæses")).to_be_visible()
    page.locator("#raad input").click()
    expect(page.get_by_role("option", name="Miljøudvalget, Fiktiv Kommune")).to_be_visible()
    page.keyboard.press("Escape")
    ask_in_page(page, "Hvad godkendte udvalget om sortering af madaffald?")
    expect(page.locator("#samtale .raad-kilde", has_text="26/4001").first).to_be_visible()
    page.context.close()


def test_browser_bad_date_marks_the_field_and_keeps_the_chat(served: Served, browser: Any) -> None:
    from playwright.sync_api import expect

    log = served.base / "serve.log"
    logged = log.read_text(encoding="utf-8").count("Ugyldigt filter: ")
    page = open_page(browser, served.url)
    ask_in_page(page, "Hvad mente rådet om open source?")
    answer = page.locator("#samtale .raad-svar").last.inner_text()
    since = page.locator("#fra")
    since.locator("textarea, input").first.fill("2025-13-40")
    box = page.locator("#spoergsmaal textarea")
    box.click()  # leaving the field marks it
    expect(since).to_have_class(re.compile(r"\braad-ugyldig\b"))
    expect(since).to_contain_text("Fra-datoen '2025-13-40' er ikke en dato. Skriv den som ÅÅÅÅ-MM-DD")
    box.fill("Og hvad med cloud?")
    box.press("Enter")
    toast = page.locator("[data-testid='toast-body']").first
    expect(toast).to_contain_text("er ikke en dato")
    assert toast.locator(".toast-title").evaluate("e => getComputedStyle(e, '::before').content") == '"Advarsel"'
    assert toast.locator(".toast-title").evaluate("e => getComputedStyle(e).fontSize") == "0px"  # "Warning" unseen
    page.wait_for_timeout(500)
    assert page.locator("#samtale .raad-svar").count() == 1 and page.locator("#samtale .raad-svar").last.inner_text() == answer
    assert box.input_value() == "Og hvad med cloud?"  # the question waits for the corrected date
    for part in ("#samtale", "#spoergsmaal"):  # no red error pills over the chat or the question box
        assert "Fejl" not in page.locator(part).inner_text() and page.locator(f"{part} .error").count() == 0
    text = log.read_text(encoding="utf-8")
    assert text.count("Ugyldigt filter: ") == logged + 1 and "Traceback" not in text
    since.locator("textarea, input").first.fill("2024-01-01")
    box.press("Enter")
    expect(since).not_to_have_class(re.compile(r"\braad-ugyldig\b"))
    expect(page.locator("#samtale .raad-svar")).to_have_count(2, timeout=30_000)
    page.context.close()


def test_browser_upload_progress_moves_once_and_names_the_file(served: Served, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    files = []
    for n in range(8):  # long items: over a hundred passages, so embedding runs in several steps
        text = " ".join(f"Udvalget drøftede vejbelysning på strækning {n}.{k} og lyskildernes levetid." for k in range(120))
        f = tmp_path / f"vejudvalget-{n}.txt"
        f.write_text(small_minutes(f"Vejudvalget {n}, Fiktiv Kommune", f"{n + 1}. april 2026", f"Vejbelysning {n}",
                                   f"26/70{n:02d}", text), encoding="utf-8")
        files.append(str(f))
    page = open_page(browser, served.url)
    # The page's own load event (council list, summary) may still be queued; the upload starts after it.
    page.wait_for_function("() => !document.querySelector('.progress-text, .eta-bar, .progress-level-inner')",
                           timeout=30_000)
    # Every progress text the page shows, and where: recorded as the DOM changes.
    page.evaluate("""() => { window.seen = []; new MutationObserver(() => {
        for (const e of document.querySelectorAll('.progress-level-inner, .eta-bar, .progress-text'))
          window.seen.push([e.closest('[id]') ? e.closest('[id]').id : '', e.className, e.innerText]);
      }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
    page.locator("#upload input[type=file]").set_input_files(files)
    expect(page.locator("#upload-status textarea")).to_have_value(re.compile("vejudvalget-7.txt"), timeout=60_000)
    seen = page.evaluate("window.seen")
    assert {where for where, _, _ in seen} == {"upload-status"}, [x for x in seen if x[0] != "upload-status"][:20]
    texts = [t for _, cls, t in seen if "progress-level-inner" in cls]
    assert any("vejudvalget-" in t for t in texts), texts  # the bar names the file(s) it works on
    # The page samples progress as the server sends it; on a busy machine it may skip a step, so the
    # per-step reports are checked in test_first_hour (ingest_files' callback) and here only that the
    # bar says what it embeds and moves forward.
    assert any(t.startswith(("Indlejrer tekststykke ", "Gemmer ")) for t in texts), texts  # past reading the files
    percents = [float(m.group(1)) for t in texts if (m := re.search(r" - ([\d.]+)%$", t))]
    assert len(set(percents)) >= 2 and percents == sorted(percents), percents
    page.context.close()


KL_UNDATED = small_minutes("Fiktivt Arkitekturråd", "", "Fælles standard for digitale postkasser", "SAG-2025-09001",
                           "Rådet drøftede en fælles standard for digitale postkasser i kommunerne.").replace(
                               "Mødedato: \n", "")


def test_browser_undated_meeting_is_counted_included_and_dated(served: Served, browser: Any, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file
    from playwright.sync_api import expect

    kl = tmp_path / "kl-referat.txt"  # like KL's minutes: no date printed anywhere
    kl.write_text(KL_UNDATED, encoding="utf-8")
    status = Client(served.url, verbose=False).predict([handle_file(str(kl))], "", "", api_name="/add_minutes")[0]
    assert status.startswith("ny         kl-referat.txt (1 punkter")
    assert "Fiktivt Arkitekturråd, mødedato ukendt – skriv den i feltet Mødedato og upload filen igen" in status
    page = open_page(browser, served.url)
    page.locator("#fra textarea, #fra input").first.fill("2025-01-01")
    ask_in_page(page, "Hvad er standarden for digitale postkasser?")
    last = page.locator("#samtale .raad-svar").last
    expect(last).to_contain_text("1 møde uden kendt dato er ikke med i datofilteret. Sæt flueben i »Medtag møder uden dato«")
    assert "SAG-2025-09001" not in last.inner_text()
    page.locator("#udaterede input[type=checkbox]").check()
    ask_in_page(page, "Hvad er standarden for digitale postkasser?")
    last = page.locator("#samtale .raad-svar").last
    expect(last.locator(".raad-kilde").first).to_contain_text("Fiktivt Arkitekturråd · møde ukendt dato · pkt. 1 · SAG-2025-09001")
    assert "uden kendt dato er ikke med" not in last.inner_text()
    # The same file again, now with council and date in the upload box: re-cited, not re-embedded.
    page.locator("#upload-raad textarea, #upload-raad input").first.fill("KL's It-Arkitekturråd")
    page.locator("#upload-dato textarea, #upload-dato input").first.fill("2025-03-04")
    page.locator("#upload input[type=file]").set_input_files([str(kl)])
    status_box = page.locator("#upload-status textarea")
    expect(status_box).to_have_value(re.compile("uændret +kl-referat.txt"), timeout=30_000)
    assert "KL's It-Arkitekturråd, møde 2025-03-04 (som angivet)" in status_box.input_value()
    page.locator("#udaterede input[type=checkbox]").uncheck()
    ask_in_page(page, "Hvad er standarden for digitale postkasser?")
    expect(page.locator("#samtale .raad-svar").last.locator(".raad-kilde").first).to_contain_text(
        "KL's It-Arkitekturråd · møde 2025-03-04 · pkt. 1 · SAG-2025-09001")
    page.context.close()


# --------------------------------------------------------------------------- the real model


@pytest.mark.slow
def test_real_model_in_the_ui(real_embedder: Any, tmp_path: Path) -> None:
    from gradio_client import Client

    from index.build import ingest_file
    from index.store import open_index

    db = tmp_path / "db"
    with open_index(db, real_embedder, create=True, write=True) as index:
        for name in ("fiktivt-raad-referat-04.txt", "fiktiv-kommune-digitaliseringsudvalget-02.txt"):
            shutil.copy(DEMO / name, tmp_path / name)
            assert ingest_file(index, tmp_path / name).status == "ny"
    index = open_index(db, real_embedder)
    app = build_app(index, None, upload_dir=db / "uploads")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        launch(app, port=port, block=False)
        client = Client(url, verbose=False)

        def answer(q: str) -> str:
            return last_answer(client.predict(q, [], ALL_COUNCILS, "", "", "", api_name="/chat")[0])

        exit_plan = answer("Hvad skal en exitplan i kontrakter om cloudtjenester indeholde?")
        assert "pkt. 2.2 · SAG-2025-00167" in exit_plan and '<span class="raad-citat">»' in exit_plan
        assert "møde 2025-09-09" in exit_plan
        assert REFUSAL_TEXT in answer("Hvem vandt fodboldkampen i går?")
    finally:
        app.close()
        index.close()
