"""The answer a language model writes: short sources in, claims out, every claim checked against its item.

    hits ──excerpt──▶ prompt ──generate_json (or generate)──▶ reply ──parse_reply──▶ claims
         ──check_claims──▶ supported claims ──render_claims──▶ Answer (or the extractive fallback)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from chat_app.answer import REFUSAL_TEXT, Answer
from chat_app.claims import (
    CheckedClaim,
    check_claims,
    claim_texts,
    claims_schema,
    parse_reply,
    render_claims,
    unsupported_reason,
)
from chat_app.generate import Generator, GeneratorFailed, StructuredGenerator, StructuredOutputRejected
from chat_app.prompt import (CLAIMS_SYSTEM_PROMPT, SYSTEM_PROMPT, build_prompt, citation_for, excerpt, meeting_word,
                             render_prompt)
from index.store import Hit
from ingest.records import Chunk

# Prompt tokens dominate on a small CPU (~25-140 tokens/s here): each source is its best passage, not the item.
SOURCE_CHARS = 600
NO_CITATIONS_NOTE = "Sprogmodellens svar havde ingen gyldige kildehenvisninger; viser uddrag i stedet."
NONE_SUPPORTED_NOTE = "Ingen af sprogmodellens påstande kunne bekræftes i de kilder, de henviste til; viser uddrag i stedet."
REMOVED_NOTE = "Fjernede henvisninger til kilder, der ikke fandtes"
DROPPED_NOTE = "Udeladte påstande, som de citerede kilder ikke bekræfter"


def messages_for(question: str, hits: Sequence[Hit], history: Sequence[tuple[str, str]] = (), *,
                 structured: bool = True, source_chars: int = SOURCE_CHARS) -> list[dict[str, str]]:
    """The chat messages for these hits: each source shortened to the passage that matches the question."""
    chunks = [replace(h.chunk, text=excerpt(h.chunk.text, question, source_chars)) for h in hits]
    return build_prompt(question, chunks, history, system=CLAIMS_SYSTEM_PROMPT if structured else SYSTEM_PROMPT)


def prompt_text(messages: Sequence[dict[str, str]], schema: dict[str, object] | None) -> str:
    """What the model gets, as text: the messages, and the JSON schema its reply is held to."""
    text = render_prompt(messages)
    if schema is not None:
        text += "\n\n### response_format (json_schema)\n" + json.dumps(schema, ensure_ascii=False)
    return text


def _header(c: Chunk) -> str:
    when = c.meeting_date.isoformat() if c.meeting_date else "ukendt dato"
    return f'{c.council}, {meeting_word(c.agenda)} {when}, pkt. {c.section} "{c.title}" ({c.case_number or "intet sagsnr."})'


def _shown(stream: Iterator[str], parts: list[str]) -> Iterator[str]:
    """Pass the model's text on as it comes; a JSON reply is shown claim by claim as each one completes."""
    shown = 0
    for piece in stream:
        parts.append(piece)
        reply = "".join(parts).lstrip()
        if not reply.startswith(("{", "`")):
            yield piece
            continue
        texts = claim_texts(reply)
        for text in texts[shown:]:
            yield text.strip() + " "
        shown = len(texts)


def _note(removed: Sequence[int], dropped: Sequence[CheckedClaim]) -> str:
    parts = []
    if removed:
        parts.append(f"{REMOVED_NOTE}: {list(dict.fromkeys(removed))}")
    if dropped:
        listed = "; ".join(f"»{c.claim.text.rstrip('. ')}« ({unsupported_reason(c)})" for c in dropped)
        parts.append(f"{DROPPED_NOTE}: {listed}")
    return ". ".join(parts)


def llm_answer(question: str, hits: Sequence[Hit], generator: Generator, history: Sequence[tuple[str, str]] = (),
               fallback: Callable[[], Answer] = lambda: Answer(answer=REFUSAL_TEXT, refused=True, citations=()),
               ) -> Iterator[str | Answer]:
    """Yield the model's text as it streams, then the checked Answer (always last).

    Structured output where the generator offers it; free text with [n] markers where it does not, or where
    the server refuses the schema. Only claims whose numbers, dates, names and case numbers occur in a cited
    item are kept; when none is left, ``fallback()`` (the extractive answer) is given instead, with a note.
    """
    structured = isinstance(generator, StructuredGenerator)
    schema = claims_schema(len(hits))
    messages = messages_for(question, hits, history, structured=structured)
    parts: list[str] = []
    try:
        if structured:
            try:
                yield from _shown(generator.generate_json(messages, schema), parts)  # type: ignore[attr-defined]
            except StructuredOutputRejected:
                if parts:
                    raise
                structured = False
                messages = messages_for(question, hits, history, structured=False)
        if not structured:
            yield from _shown(generator.generate(messages), parts)
    except GeneratorFailed as exc:
        yield replace(fallback(), note=f"Sprogmodellen fejlede ({exc}); viser uddrag i stedet.",
                      prompt=prompt_text(messages, schema if structured else None))
        return
    prompt = prompt_text(messages, schema if structured else None)
    parsed = parse_reply("".join(parts), len(hits))
    checked = check_claims(parsed.claims, [(_header(h.chunk), h.chunk.text) for h in hits])
    kept = [c for c in checked if c.supported]
    dropped = [c for c in checked if not c.supported]
    unsupported = tuple(c.claim.text for c in dropped)
    if parsed.not_found and not kept:
        yield Answer(answer=REFUSAL_TEXT, refused=True, citations=(), generator=generator.name,
                     removed_citations=parsed.removed, prompt=prompt, unsupported_claims=unsupported)
        return
    if not kept:
        first = NONE_SUPPORTED_NOTE if any(c.quotes for c in checked) else NO_CITATIONS_NOTE
        detail = _note((), dropped)
        yield replace(fallback(), removed_citations=parsed.removed, prompt=prompt, unsupported_claims=unsupported,
                      note=f"{first} {detail}." if detail else first)
        return
    text, cites = render_claims(kept)
    citations = tuple(citation_for(hits[n - 1].chunk, quote) for n, quote in cites)
    yield Answer(answer=text, refused=False, citations=citations, generator=generator.name,
                 removed_citations=parsed.removed, note=_note(parsed.removed, dropped), prompt=prompt,
                 unsupported_claims=unsupported)
