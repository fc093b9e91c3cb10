"""The Gradio chat: parse the input, make one library call, render the result. The only gradio import."""

from __future__ import annotations

import html
import ipaddress
import re
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ingest  # noqa: F401  (telemetry off before gradio loads)
from chat_app.answer import Answer, stream_answer
from chat_app.concurrency import BoundedGenerator, ReadWriteLock, SerialEmbedder
from chat_app.prompt import Citation
from index.build import FileResult, file_sha256, ingest_files, read_again
from index.store import Index, IndexBusy, MeetingEntry, open_index
from index.vector import Where
from ingest.chunk import ChunkSettings
from ingest.read import ReadError, sniff_format

if TYPE_CHECKING:
    import gradio as gr

    from chat_app.generate import Generator
    from index.embed import Embedder

ALL_COUNCILS = "Alle råd og udvalg"
EXAMPLES = (
    "Hvad mente rådet om open source?",
    "Hvordan har rådets holdning til cloud udviklet sig?",
    "Hvad blev der besluttet under SAG-2025-00142?",
    "Hvad blev der besluttet på rådets seneste møde?",
    "Hvad har rådet sagt om open source siden 2025?",
    "Hvem deltog i rådets seneste møde?",
)
DATE_INFO = "ÅÅÅÅ-MM-DD, f.eks. 2025-09-09"
EMPTY_NOTE = (
    "**Indekset er tomt.** Træk referater (PDF, DOCX, TXT, HTML) ind i upload-feltet, "
    "eller kør `raadgiver ingest MAPPE`."
)
COPY_LABEL = "Kopiér citat og kildehenvisning"
INCLUDE_UNDATED = "Medtag møder uden dato"
HISTORY_TURNS = 3  # the prompt uses the last three turns; retrieval the last one
SAFE_CHARS = re.compile(r"[^A-Za-zÆØÅæøå0-9._\- ]")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

# A delegated listener, so the copy buttons in chat messages need no inline JavaScript (which the
# chat's HTML sanitiser strips, as it strips data-* attributes: the memo line rides in ``value``,
# the quote is read from the source's blockquote). Falls back to execCommand where the page is not
# a secure context (plain http on a LAN address), where navigator.clipboard does not exist.
COPY_JS = """
<script>
document.addEventListener("click", async (ev) => {
  const b = ev.target.closest && ev.target.closest("button.raad-kopier");
  if (!b) return;
  ev.preventDefault();
  // The verbatim quote (with its » «) and the memo line, as plain text and as HTML, so Word and
  // Outlook paste two clean paragraphs and a plain editor gets two lines.
  const q = b.closest("li.raad-kilde") && b.closest("li.raad-kilde").querySelector(".raad-citat");
  const quote = q ? q.textContent.trim() : "";
  const memo = b.value || "";
  const text = quote ? quote + "\\n" + memo : memo;
  const esc = (s) => s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
  const html = (quote ? "<p>" + esc(quote).replace(/\\n/g, "<br>") + "</p>" : "") + "<p>" + esc(memo) + "</p>";
  try {
    await navigator.clipboard.write([new ClipboardItem({
      "text/plain": new Blob([text], {type: "text/plain"}), "text/html": new Blob([html], {type: "text/html"})})]);
  } catch (e) {
    const onCopy = (c) => { c.clipboardData.setData("text/plain", text); c.clipboardData.setData("text/html", html);
                            c.preventDefault(); };
    const t = document.createElement("textarea"); t.value = text; document.body.appendChild(t); t.select();
    document.addEventListener("copy", onCopy);
    try { document.execCommand("copy"); } finally { document.removeEventListener("copy", onCopy); t.remove(); }
  }
  const label = b.textContent;
  b.textContent = "Kopieret ✓"; setTimeout(() => { b.textContent = label; }, 1500);
});
</script>
"""
# gradio's bundled Source Sans Pro SemiBold (the theme's weight 600) holds only "A", "B" and some
# Cyrillic, so all bold text mixed those two letters into the system font's bold ("It-ARkitekturråd").
# The same family from gradio's complete Regular and Bold files (still served by this server),
# under a name of our own so the theme's broken face is never chosen.
CSS = """
.raad-citat { display: none; }
@font-face { font-family: "Raadgiver Sans"; font-weight: 100 500; font-style: normal;
             src: url("static/fonts/SourceSansPro/SourceSansPro-Regular.woff2") format("woff2"); }
@font-face { font-family: "Raadgiver Sans"; font-weight: 501 900; font-style: normal;
             src: url("static/fonts/SourceSansPro/SourceSansPro-Bold.woff2") format("woff2"); }
:root:root { --font: "Raadgiver Sans", "Source Sans Pro", ui-sans-serif, system-ui, sans-serif; }
.raad-kilder { margin-top: .8em; border-top: 1px solid var(--border-color-primary); padding-top: .5em; }
.raad-kilder ol { padding-left: 1.4em; }
.raad-kilde { margin-bottom: .8em; }
.raad-hvor { font-weight: 600; }
.raad-titel { font-style: italic; }
.raad-kilde blockquote { margin: .3em 0; padding: .2em .7em; border-left: 3px solid var(--color-accent); }
.raad-kilde details { margin: .3em 0; }
.raad-punkt { max-height: 24em; overflow-y: auto; font-size: .92em; padding: .3em .6em;
              background: var(--background-fill-secondary); border-radius: 4px; }
button.raad-kopier { font-size: .85em; padding: .1em .6em; border: 1px solid var(--border-color-primary);
                     border-radius: 4px; background: var(--background-fill-primary); cursor: pointer; }
.raad-note { font-size: .9em; color: var(--body-text-color-subdued); }
.raad-fil { font-size: .85em; color: var(--body-text-color-subdued); }
/* gradio 6 titles every toast with its English type ("Warning"), ignoring title= and i18n. */
.toast-title { font-size: 0 !important; }
.toast-title::before { font-size: var(--text-md); }
.toast-title.error::before { content: "Fejl"; }
.toast-title.warning::before { content: "Advarsel"; }
.toast-title.info::before { content: "Bemærk"; }
.toast-title.success::before { content: "Udført"; }
.raad-ugyldig textarea, .raad-ugyldig input { border-color: var(--error-border-color, #dc2626) !important; }
.raad-ugyldig [data-testid="block-info"] { color: var(--error-text-color, #b91c1c); }
"""


# gradio's own words (upload box, buttons, queue) in Danish. gradio ships no Danish and falls back to
# English for a Danish browser, so the same words stand in for English too: the app is Danish throughout.
GRADIO_DANISH = {
    "upload_text.drop_file": "Træk filer hertil",
    "upload_text.click_to_upload": "Klik for at vælge filer",
    "common.or": "eller",
    "common.clear": "Ryd",
    "common.error": "Fejl",
    "common.loading": "Indlæser",
    "common.remove": "Fjern",
    "common.download": "Hent",
    "common.submit": "Send",
    "chatbot.clear": "Ryd samtalen",
    "chatbot.copy_message": "Kopiér svaret",
    "chatbot.copied_message": "Svaret er kopieret",
    "errors.use_via_api": "Brug via API",
    "status.queue_position": "I kø: {position} af {size}",
}


class OpenBind(Exception):
    """The UI would listen on a network address without a password."""


class UploadRejected(Exception):
    """An uploaded file was refused before ingesting; the message is Danish and names the reason."""


class BadFilter(Exception):
    """A filter field (a date) could not be read; the message is Danish."""


# --------------------------------------------------------------------------- pure helpers


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and the name localhost; everything else is reachable from the network."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, auth: tuple[str, str] | None, allow_open: bool) -> None:
    """Refuse to serve the minutes on a network address without a password, unless asked explicitly."""
    if is_loopback(host) or allow_open:
        return
    if auth is not None and auth[0] and auth[1]:
        return
    raise OpenBind(
        f"Brugerfladen ville være åben for alle, der kan nå {host}, uden adgangskode. Angiv "
        "--auth-user og --auth-password (eller RAADGIVER_AUTH=bruger:kode), eller --insecure-no-auth, "
        "hvis det er tilsigtet. Uden disse lytter Rådgiver kun på 127.0.0.1."
    )


def parse_date(value: str | None, label: str) -> date | None:
    """A YYYY-MM-DD field; empty means no limit."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadFilter(f"{label} '{text}' er ikke en dato. Skriv den som ÅÅÅÅ-MM-DD, f.eks. 2025-09-09.") from None


def parse_where(council: str | None, since: str | None, until: str | None, case_number: str | None,
                include_undated: bool = False) -> Where:
    """The filter fields as a Where."""
    start = parse_date(since, "Fra-datoen")
    end = parse_date(until, "Til-datoen")
    if start and end and start > end:
        raise BadFilter(f"Fra-datoen {start.isoformat()} ligger efter til-datoen {end.isoformat()}.")
    return Where(
        council=council if council and council != ALL_COUNCILS else None,
        since=start,
        until=end,
        case_number=(case_number or "").strip() or None,
        include_undated=bool(include_undated),
    )


def date_problems(since: str | None, until: str | None) -> tuple[str, str]:
    """A Danish problem for each date field ('' when it is fine), to show under the field."""
    problems = []
    for value, label in ((since, "Fra-datoen"), (until, "Til-datoen")):
        try:
            parse_date(value, label)
            problems.append("")
        except BadFilter as exc:
            problems.append(str(exc))
    if not any(problems):
        try:
            parse_where(None, since, until, None)
        except BadFilter as exc:
            problems[1] = str(exc)
    return problems[0], problems[1]


def undated_note(left_out: int) -> str:
    """What a date filter left out, and how to take it in."""
    if not left_out:
        return ""
    which = "1 møde uden kendt dato er" if left_out == 1 else f"{left_out} møder uden kendt dato er"
    return f"{which} ikke med i datofilteret. Sæt flueben i »{INCLUDE_UNDATED}« for at tage dem med."


def safe_name(name: str) -> str:
    """The file name without directories, limited to letters, digits, space and ``._-``."""
    base = re.split(r"[\\/]", name)[-1].strip()
    base = SAFE_CHARS.sub("_", base).strip(" ")
    if not base or base.startswith(".") or not Path(base).suffix:
        raise UploadRejected(f"filnavnet '{name}' kan ikke bruges – giv filen et navn som referat.pdf")
    stem, suffix = Path(base).stem, Path(base).suffix
    while len((stem + suffix).encode()) > 120:  # file systems stop at 255 bytes; keep room for "-2"
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def store_upload(src: Path, original_name: str, upload_dir: Path, max_bytes: int) -> Path:
    """Copy an uploaded file into ``upload_dir`` after checking name, size and type (by content).

    The same content uploaded again lands on the same path (so it is "uændret"); another file with
    the same name gets "-2" added, so no earlier upload is ever overwritten.
    """
    name = safe_name(original_name)
    size = src.stat().st_size
    if size > max_bytes:
        mb = f"{size / 1024 / 1024:.1f}".replace(".", ",")
        raise UploadRejected(f"filen er for stor ({mb} MB; grænsen er {max_bytes / 1024 / 1024:.0f} MB)")
    if size == 0:
        raise UploadRejected("filen er tom")
    with open(src, "rb") as fh:
        head = fh.read(8192)
    try:
        sniff_format(head, Path(name).suffix)
    except ReadError as exc:
        raise UploadRejected(str(exc)) from None
    upload_dir.mkdir(parents=True, exist_ok=True)
    root = upload_dir.resolve()
    stem, suffix = Path(name).stem, Path(name).suffix
    digest = file_sha256(src)
    for n in range(1, 1000):
        dest = root / (name if n == 1 else f"{stem}-{n}{suffix}")
        if dest.resolve().parent != root:  # cannot happen after safe_name; checked all the same
            raise UploadRejected(f"filnavnet '{original_name}' peger uden for upload-mappen")
        if not dest.exists():
            shutil.copyfile(src, dest)
            return dest
        if file_sha256(dest) == digest:
            return dest
    raise UploadRejected(f"der findes allerede for mange filer med navnet '{name}'")


def chat_history(messages: Sequence[dict[str, Any]] | None) -> list[tuple[str, str]]:
    """Earlier (question, answer text) pairs from the chat's messages, for follow-up questions."""
    pairs: list[tuple[str, str]] = []
    question: str | None = None
    for m in messages or []:
        text = _message_text(m.get("content"))
        if m.get("role") == "user":
            question = html.unescape(text)
        elif m.get("role") == "assistant" and question is not None:
            found = re.search(r'<p class="raad-tekst">(.*?)</p>', text, re.S)
            body = re.sub(r"<br\s*/?>", "\n", found.group(1) if found else text)
            pairs.append((question, html.unescape(re.sub(r"<[^>]+>", "", body)).strip()))
            question = None
    return pairs[-HISTORY_TURNS:]


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return "".join(_message_text(c) for c in content)
    return ""


# --------------------------------------------------------------------------- rendering (all escaped)


def _lines(text: str) -> str:
    """Minutes or model text as HTML: escaped, newlines as <br>. No blank lines may reach the
    markdown renderer, or it would treat what follows as markdown instead of one HTML block."""
    return "<br>".join(_indent(html.escape(line)) for line in text.strip().split("\n"))


def _indent(line: str) -> str:
    """Leading spaces kept (HTML collapses them): a list's lines stand indented under the bullet citing them."""
    body = line.lstrip(" ")
    return "&emsp;" * ((len(line) - len(body) + 1) // 2) + body


def render_question(question: str) -> str:
    return html.escape(question)


def render_partial(text: str) -> str:
    """An answer being streamed by the language model."""
    return f'<div class="raad-svar"><p class="raad-tekst">{_lines(text)}</p><span class="raad-skriver">▌</span></div>'


def render_empty() -> str:
    return ('<div class="raad-svar"><p class="raad-tekst">Indekset er tomt, så der er intet at søge i endnu. Træk '
            "referater (PDF, DOCX, TXT, HTML) ind i upload-feltet, eller kør raadgiver ingest MAPPE.</p></div>")


def render_waiting() -> str:
    return '<div class="raad-svar"><p class="raad-note">Søger i referaterne …</p></div>'


def render_busy() -> str:
    """Shown while an upload holds the index: the question waits for it, and says so."""
    return ('<div class="raad-svar"><p class="raad-note">Der indlæses referater lige nu. Svaret kommer, så snart '
            "indlæsningen er færdig …</p></div>")


def render_answer(answer: Answer, items: dict[tuple[str, str], str], filter_note: str = "") -> str:
    """The answer text, notes if any, then each source with quote, full item and a copy button."""
    parts = [f'<div class="raad-svar"><p class="raad-tekst">{_lines(answer.answer)}</p>']
    for note in (answer.note, filter_note):
        if note:
            parts.append(f'<p class="raad-note">{html.escape(note)}</p>')
    if answer.citations:
        parts.append('<div class="raad-kilder"><p><strong>Kilder</strong></p><ol>')
        for c in answer.citations:
            # The answer states the quote; the source list says where it is and has the full item.
            parts.append(render_citation(c, items.get((c.source, c.section)), quoted=f"»{_shown(c.quote)}«" in answer.answer))
        parts.append("</ol></div>")
    parts.append("</div>")
    return "".join(parts)


def _shown(quote: str) -> str:
    return quote.replace("[", "(").replace("]", ")")  # as the answer text shows quotes (chat_app.answer)


def render_citation(c: Citation, full_text: str | None, quoted: bool = False) -> str:
    when = c.meeting_date.isoformat() if c.meeting_date else "ukendt dato"
    where = " · ".join(
        [html.escape(c.council), f"{c.meeting} {when}"] + ([html.escape(c.pkt)] if c.pkt else [])
        + ([html.escape(c.case_number)] if c.case_number else [])
    )
    out = [
        '<li class="raad-kilde">',
        f'<div class="raad-hvor">{where}</div>',
        f'<div class="raad-titel">{html.escape(c.title)}</div>',
    ]
    if not quoted:
        out.append(f"<blockquote>»{_lines(c.quote)}«</blockquote>")
    if full_text:
        what = "punktet" if c.section else "deltagerlisten"
        out.append(f'<details><summary>Vis hele {what}</summary><div class="raad-punkt">{_lines(full_text)}</div></details>')
    out.append(f'<div class="raad-fil">Fil: {html.escape(Path(c.source).name)}</div>')
    memo = html.escape(c.memo_line(), quote=True)
    # The quote travels with the copy button (the page's sanitiser keeps classes, not data- attributes).
    out.append(f'<span class="raad-citat">»{html.escape(c.quote)}«</span>')
    out.append(f'<button type="button" class="raad-kopier" value="{memo}" title="{memo}">{COPY_LABEL}</button></li>')
    return "".join(out)


def render_results(results: Sequence[FileResult | tuple[str, str]], meetings: dict[str, MeetingEntry] | None = None,
                   given_date: date | None = None) -> str:
    """One line per uploaded file: status, name, and what it gave or why it failed; then, for each
    meeting read, its council and date and where the date came from, for the user to confirm."""
    lines = []
    for r in results:
        if isinstance(r, tuple):
            lines.append(f"fejl       {r[0]}: {r[1]}")
        elif r.status == "fejl":
            lines.append(f"fejl       {r.path.name}: {r.message}")
        else:
            lines.append(f"{r.status:10} {r.path.name} ({r.items} punkter, {r.chunks} passager)"
                         + (f" – {r.message}" if r.message else ""))
            entry = (meetings or {}).get(str(r.path.resolve()))
            if entry is not None:
                lines.append("           " + meeting_line(entry, given_date))
    return "\n".join(lines)


def meeting_line(entry: MeetingEntry, given_date: date | None) -> str:
    if entry.meeting_date is None:
        return (f"{entry.council}, mødedato ukendt – skriv den i feltet Mødedato og upload filen igen, "
                "ellers kommer mødet ikke med i datofiltre")
    whence = "som angivet" if given_date and entry.meeting_date == given_date.isoformat() else "fundet i referatet"
    return f"{entry.council}, møde {entry.meeting_date} ({whence})"


def index_summary(index: Index) -> str:
    counts = index.manifest.counts
    councils = councils_of(index)
    older = index.manifest.read_by_older_version
    return (f"Indekset har {counts.get('meetings', 0)} møder og {counts.get('items', 0)} punkter fra "
            f"{len(councils)} råd/udvalg."
            + (f" {older} {'møde' if older == 1 else 'møder'} er læst af en ældre version af Rådgiver: upload "
               "de kunne ikke læses igen (filen er væk, kan ikke læses, eller indekset var optaget ved start), så de "
               "citeres, som de blev læst." if older else ""))


def councils_of(index: Index) -> list[str]:
    return sorted({m.council for m in index.manifest.meetings})


# --------------------------------------------------------------------------- the index, shared


def full_items(index: Index, citations: Sequence[Citation]) -> dict[tuple[str, str], str]:
    """Each cited item's full text, keyed by (source, section); committed versions only."""
    if not citations:
        return {}
    committed = index.manifest.committed()
    items = index.store.get_items(Where(sources=tuple(sorted({c.source for c in citations}))))
    out = {(i.source, i.section): i.text for i in items if committed.get(i.source) == i.content_hash}
    # A participants list (cited with no section): the whole list, heading by heading.
    cited = {c.source for c in citations if not c.section}
    for m in index.manifest.meetings:
        if m.source in cited and m.roster:
            out[(m.source, "")] = "\n".join(f"{r.group}: {r.text}" for r in m.roster)
    return out


# --------------------------------------------------------------------------- the app


MEMO_SESSIONS = 500  # last answers kept for the Word button; the oldest session is forgotten first
# gradio keeps a copy of every upload and memo it serves; files older than this go, every this often.
CACHE_MAX_AGE_S = 3600


def build_app(index: Index, generator: Generator | None, *, upload_dir: Path, max_upload_mb: int = 50,
              gate: ReadWriteLock | None = None) -> gr.Blocks:
    """The chat, its filters, the example questions and the upload box."""
    # gradio takes seconds to import, so only here (check_bind and the helpers stay instant for the
    # CLI). Module-global, because gradio finds event-data parameters by resolving their annotations.
    global gr
    import gradio as gr
    # chromadb and the BM25 cache are not safe across an ingest: answers read the index together,
    # an upload has it alone. Shared with the /v1 routes when they are served beside the page.
    gate = gate or ReadWriteLock()
    last_answers: OrderedDict[str, tuple[str, Answer]] = OrderedDict()  # session -> its last answer
    # One memo per session, the latest; the folder goes with the session and the whole of it with the app.
    memo_dir = Path(tempfile.mkdtemp(prefix="raadgiver-notater-"))
    memo_lock = threading.Lock()

    def session_folder(session: str) -> Path:
        return memo_dir / re.sub(r"[^A-Za-z0-9_-]", "_", session or "x")

    def remember(request: gr.Request | None, question: str, answer: Answer) -> None:
        if request is None or not request.session_hash:
            return
        with memo_lock:
            last_answers[request.session_hash] = (question, answer)
            last_answers.move_to_end(request.session_hash)
            while len(last_answers) > MEMO_SESSIONS:
                forgotten, _ = last_answers.popitem(last=False)
                shutil.rmtree(session_folder(forgotten), ignore_errors=True)

    def memo_button(request: gr.Request) -> Any:
        """The Word memo of this session's last answer, behind the download button."""
        from chat_app.memo import memo_filename, write_memo

        with memo_lock:
            last = last_answers.get(request.session_hash or "")
        if last is None or last[1].refused:
            return gr.update(value=None, visible=False)
        question, answer = last
        folder = session_folder(request.session_hash or "")
        shutil.rmtree(folder, ignore_errors=True)  # the session's earlier memo (gradio serves its own copy)
        path = write_memo(question, answer, folder / memo_filename(question, date.today()))
        return gr.update(value=str(path), visible=True)

    def respond(message: str, messages: list[dict[str, Any]] | None, council: str, since: str, until: str,
                case_number: str, include_undated: bool = False,
                request: gr.Request = None,  # type: ignore[assignment]  # gradio fills it in
                ) -> Iterator[tuple[list[dict[str, Any]], str]]:
        # A question that cannot be asked leaves the chat and the box as they were (an error would
        # mark both red until the next question) and says why in a Danish toast.
        question = (message or "").strip()
        if not question:
            gr.Warning("Skriv et spørgsmål først.", title="Intet spørgsmål")
            yield list(messages or []), message or ""
            return
        try:
            where = parse_where(council, since, until, case_number, include_undated)
        except BadFilter as exc:
            print(f"Ugyldigt filter: {exc}", file=sys.stderr, flush=True)
            gr.Warning(str(exc), title="Ugyldig dato")
            yield list(messages or []), message
            return
        filter_note = undated_note(index.undated_left_out(where))
        history = chat_history(messages)
        shown = list(messages or []) + [{"role": "user", "content": render_question(question)}]
        if not index.manifest.meetings:  # nothing to search (and BM25 cannot be built over nothing)
            yield shown + [{"role": "assistant", "content": render_empty()}], ""
            return
        yield shown + [{"role": "assistant", "content": render_waiting()}], ""
        parts = stream_answer(index, question, generator=generator, where=where, history=history)
        streamed = ""
        while True:
            if not gate.acquire_read(blocking=False):  # an upload is running: say so, then wait for it
                yield shown + [{"role": "assistant", "content": render_busy()}], ""
                gate.acquire_read()
            try:  # per step, so a slow model never holds up an upload for a whole answer
                part = next(parts, None)
                rendered = (render_answer(part, full_items(index, part.citations), filter_note)
                            if isinstance(part, Answer) else None)
            finally:
                gate.release_read()
            if part is None:
                return
            if rendered is not None:
                remember(request, question, part)  # type: ignore[arg-type]
                yield shown + [{"role": "assistant", "content": rendered}], ""
                return
            streamed += str(part)
            yield shown + [{"role": "assistant", "content": render_partial(streamed)}], ""

    def add_minutes(files: list[str] | None, given_council: str | None = None, given_date: str | None = None,
                    progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        paths = [Path(f) for f in files or []]
        results: list[FileResult | tuple[str, str]] = []
        stored: list[Path] = []
        try:
            meeting_date = parse_date(given_date, "Mødedatoen")
        except BadFilter as exc:
            print(f"Ugyldig mødedato ved upload: {exc}", file=sys.stderr, flush=True)
            gr.Warning(f"{exc} Filerne er ikke indlæst.", title="Ugyldig mødedato")
            return (render_results([(p.name, "ikke indlæst – ret mødedatoen først") for p in paths]), *overview(), None)
        council_given = (given_council or "").strip() or None
        for p in paths:
            try:
                stored.append(store_upload(p, p.name, upload_dir, max_upload_mb * 1024 * 1024))
            except (UploadRejected, OSError) as exc:
                results.append((p.name, str(exc)))
        if stored:
            try:
                with gate.write(), index.writable():
                    def moved(files_done: float, desc: str) -> None:
                        progress(files_done / len(stored), desc=desc)

                    for result in ingest_files(index, stored, council=council_given, meeting_date=meeting_date,
                                               progress=moved):
                        results.append(result)
                        if result.status == "uændret" and (council_given or meeting_date):
                            fill_in(result.path, council_given, meeting_date)
            except IndexBusy:
                gr.Warning("Indekset bruges lige nu af en anden proces (f.eks. `raadgiver ingest`). Prøv igen om lidt.",
                           title="Indekset er optaget")
                results += [(d.name, "indekset var optaget af en anden proces – prøv igen") for d in stored]
        failed = sum(1 for r in results if isinstance(r, tuple) or r.status == "fejl")
        if failed:
            gr.Warning(f"{failed} af {len(results)} filer kunne ikke indlæses – se status under upload-feltet.",
                       title="Ikke alle filer blev indlæst")
        meetings = {m.source: m for m in index.manifest.meetings}
        return (render_results(results, meetings, meeting_date), *overview(), None)

    def fill_in(path: Path, council: str | None, meeting_date: date | None) -> None:
        """An unchanged file uploaded again with council/date: what a fresh ingest with them would give
        (the council replaces, a date fills in only where the minutes have none), without re-embedding."""
        entry = next((m for m in index.manifest.meetings if m.source == str(path.resolve())), None)
        if entry is None:
            return
        new_council = council or entry.council
        new_date = meeting_date if meeting_date and entry.meeting_date is None else None
        if new_council != entry.council or new_date is not None:
            index.set_meeting(entry.source, council=new_council, meeting_date=new_date)

    def mark_dates(since: str, until: str) -> tuple[Any, Any]:
        """A bad date is said under its field (and the field marked), not over the whole page."""
        first, second = (gr.update(info=p or DATE_INFO, elem_classes=["raad-ugyldig"] if p else [])
                         for p in date_problems(since, until))
        return first, second

    def overview() -> tuple[Any, Any, str]:
        """Council choices, the empty-index note and the summary as the index is now (not at start)."""
        return (gr.update(choices=[ALL_COUNCILS] + councils_of(index)),
                gr.update(visible=not index.manifest.meetings), index_summary(index))

    def example(evt: gr.SelectData) -> str:
        return str(evt.value.get("text", "")) if isinstance(evt.value, dict) else str(evt.value)

    with gr.Blocks(title="Rådgiver", analytics_enabled=False,
                   delete_cache=(CACHE_MAX_AGE_S, CACHE_MAX_AGE_S)) as app:
        gr.Markdown("# Rådgiver\nSpørg i referaterne fra råd og udvalg. Svarene bygger kun på referaterne og viser "
                    "kilderne – alt kører på denne maskine.")
        empty_note = gr.Markdown(EMPTY_NOTE, visible=not index.manifest.meetings, elem_id="tomt-indeks")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Samtale",
                    height="68vh",
                    min_height=420,
                    examples=[{"text": q} for q in EXAMPLES],
                    latex_delimiters=[],
                    sanitize_html=True,
                    feedback_options=None,
                    buttons=[],  # "copy all" would copy the HTML; each source has its own copy button
                    placeholder="Stil et spørgsmål om referaterne – eller vælg et eksempel.",
                    elem_id="samtale",
                )
                with gr.Row():
                    msg = gr.Textbox(placeholder="Skriv dit spørgsmål …", show_label=False, scale=5,
                                     elem_id="spoergsmaal", autofocus=True)
                    send = gr.Button("Spørg", variant="primary", scale=1, elem_id="spoerg")
                with gr.Row():
                    new = gr.Button("Ny samtale", size="sm")
                    memo = gr.DownloadButton("Hent som Word-notat", size="sm", visible=False, elem_id="hent-notat")
            with gr.Column(scale=1):
                with gr.Accordion("Filtre", open=True):
                    # Custom values allowed: gradio checks a value against the choices of the page as
                    # built at start, and councils added by uploads since then must still be accepted.
                    council = gr.Dropdown([ALL_COUNCILS] + councils_of(index), value=ALL_COUNCILS,
                                          label="Råd/udvalg", elem_id="raad", allow_custom_value=True)
                    since = gr.Textbox(label="Fra dato", placeholder="ÅÅÅÅ-MM-DD", elem_id="fra", info=DATE_INFO)
                    until = gr.Textbox(label="Til dato", placeholder="ÅÅÅÅ-MM-DD", elem_id="til", info=DATE_INFO)
                    include_undated = gr.Checkbox(label=INCLUDE_UNDATED, value=False, elem_id="udaterede")
                    case_number = gr.Textbox(label="Sagsnummer", placeholder="f.eks. SAG-2025-00142", elem_id="sag")
                with gr.Accordion("Tilføj referater", open=True):
                    # Same meaning as `raadgiver ingest --council/--meeting-date`: they fill in what the text lacks.
                    up_council = gr.Textbox(label="Råd/udvalg (hvis det ikke står i referatet)", elem_id="upload-raad")
                    up_date = gr.Textbox(label="Mødedato (hvis den ikke står i referatet)", placeholder="ÅÅÅÅ-MM-DD",
                                         elem_id="upload-dato")
                    # No file_types: gradio would refuse other types in English; store_upload says why in Danish.
                    files = gr.File(label=f"Referater (PDF, DOCX, TXT, HTML; højst {max_upload_mb} MB pr. fil)",
                                    file_count="multiple", elem_id="upload")
                    upload_status = gr.Textbox(label="Indlæsning", lines=6, interactive=False, elem_id="upload-status")
                info = gr.Markdown(index_summary(index), elem_id="indeks-info")

        inputs = [msg, chatbot, council, since, until, case_number, include_undated]
        msg.submit(respond, inputs, [chatbot, msg], api_name="chat").success(
            memo_button, None, memo, api_visibility="private", trigger_mode="multiple")
        send.click(respond, inputs, [chatbot, msg], api_visibility="private").success(
            memo_button, None, memo, api_visibility="private", trigger_mode="multiple")
        chatbot.example_select(example, None, msg, api_visibility="private").then(
            respond, inputs, [chatbot, msg], api_visibility="private").success(
            memo_button, None, memo, api_visibility="private", trigger_mode="multiple")
        new.click(lambda: ([], "", gr.update(value=None, visible=False)), None, [chatbot, msg, memo],
                  api_visibility="private")
        # Progress on the status box only (gradio shows it on every output by default).
        files.upload(add_minutes, [files, up_council, up_date], [upload_status, council, empty_note, info, files],
                     api_name="add_minutes", show_progress_on=[upload_status])
        for box in (since, until):
            for event in (box.blur, box.submit):
                event(mark_dates, [since, until], [since, until], queue=False, show_progress="hidden",
                      api_visibility="private")
        # The page a browser loads was built at start; uploads since then must show on every load.
        app.load(overview, None, [council, empty_note, info], api_visibility="private", show_progress="hidden")
    weakref.finalize(app, shutil.rmtree, memo_dir, True)  # also at exit
    return app


# Questions answered at once by the page (the /v1 routes have the web server's thread pool). Each is
# mostly waiting on the model or the index; more than this only shares two cores more thinly.
PAGE_CONCURRENCY = 16


def launch(app: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None,
           max_upload_mb: int = 50, block: bool = True, routes: Sequence[Any] = ()) -> None:
    """Start the web server: local by default, never a share link, no analytics.

    ``routes`` (the /v1 routes) go into gradio's own FastAPI app, ahead of its routes, before it starts:
    one process, one port.
    """
    import gradio as gr

    app.queue(default_concurrency_limit=PAGE_CONCURRENCY).launch(
        server_name=host,
        server_port=port,
        share=False,
        auth=auth,
        auth_message="Rådgiver: log ind for at søge i referaterne." if auth else None,
        ssr_mode=False,
        quiet=True,
        prevent_thread_lock=not block,
        # Our own Danish size message covers the configured limit; gradio's cap only stops
        # runaway uploads from filling the disk.
        max_file_size=f"{2 * max_upload_mb + 1}mb",
        css=CSS,
        head=COPY_JS,
        footer_links=["api"],
        i18n=gr.I18n(en=GRADIO_DANISH, da=GRADIO_DANISH),
        app_kwargs={"routes": list(routes)} if routes else None,
    )


def serve(
    db_dir: Path,
    embedder: Embedder,
    generator: Generator | None,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: tuple[str, str] | None = None,
    allow_open: bool = False,
    *,
    max_upload_mb: int = 50,
    api_key: str | None = None,
) -> None:
    """Open (or create) the index read-only for the server's lifetime and serve the chat and /v1."""
    from chat_app.openai_api import check_api_bind, routes

    check_bind(host, auth, allow_open)
    check_api_bind(host, api_key, allow_open)
    embedder = SerialEmbedder(embedder)  # type: ignore[assignment]
    generator = BoundedGenerator(generator) if generator is not None else None
    index = open_index(db_dir, embedder, create=True)
    wanted = ChunkSettings(index.manifest.chunk_size, index.manifest.chunk_overlap)
    if wanted != index.chunking:  # uploads must chunk the way the index was built
        index.close()
        index = open_index(db_dir, embedder, create=True, chunking=wanted)
    try:
        if index.manifest.read_by_older_version:  # after an upgrade: the new reading, before the first question
            print(f"Læser {index.manifest.read_by_older_version} møder igen med denne version af Rådgiver …",
                  flush=True)
            try:
                with index.writable():
                    results = read_again(index)
                print(f"Læst igen: {sum(r.status != 'fejl' for r in results)} møder"
                      + "".join(f"; fejl i {r.path.name}: {r.message}" for r in results if r.status == "fejl"),
                      flush=True)
            except IndexBusy:  # another process reads or writes it: serve the earlier reading this time
                print("Indekset bruges af en anden proces; møderne læses igen ved næste start.", flush=True)
        gate = ReadWriteLock()
        app = build_app(index, generator, upload_dir=db_dir / "uploads", max_upload_mb=max_upload_mb, gate=gate)
        print(f"Rådgiver kører på http://{host}:{port}  (stop med Ctrl+C)", flush=True)
        print(f"OpenAI-kompatibel adresse: http://{host}:{port}/v1  (model: raadgiver"
              f"{', nøgle krævet' if api_key else ''})", flush=True)
        launch(app, host=host, port=port, auth=auth, max_upload_mb=max_upload_mb, block=False,
               routes=routes(index, generator, gate, api_key))
        wait_for_stop(app)
    finally:
        index.close()


def wait_for_stop(app: gr.Blocks) -> None:
    """Serve until Ctrl+C or SIGTERM (systemd, docker stop), then close the server so its files go with it."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)
    try:
        while app.is_running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    print("Rådgiver stopper.", flush=True)
    app.close()
