"""An OpenAI-compatible /v1 for chat front ends (Open WebUI): an adapter over ``stream_answer``.

The last user message is the question, earlier user/assistant turns are the history, system messages
are ignored (our own prompt governs). The reply is the checked Answer as Markdown with a numbered
source list; the ``raadgiver`` field carries ``Answer.to_json()`` so scripts need not parse Markdown.
"""

from __future__ import annotations

import hmac
import json
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import Request  # resolved by name in the route signatures

from chat_app.answer import Answer, stream_answer
from chat_app.concurrency import ReadWriteLock, step
from chat_app.generate import Generator
from chat_app.memo import danish_date
from chat_app.prompt import Citation
from index.store import Index

MODEL_NAME = "raadgiver"
MAX_BODY_BYTES = 1024 * 1024  # a conversation of text; more is a mistake or an attack
MAX_MESSAGE_CHARS = 20_000  # the question is embedded in 512 tokens anyway; history is cut to 3 turns
MAX_MESSAGES = 200
ROLES = {"system", "developer", "user", "assistant", "tool"}
SOURCES_HEADING = "**Kilder**"
EMPTY_TEXT = ("Indekset er tomt, så der er intet at søge i endnu. Tilføj referater i Rådgivers upload-felt, "
              "eller kør raadgiver ingest MAPPE.")


class BadRequest(Exception):
    """The request body is not a chat completion request we can answer; the message is Danish."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class OpenApi(Exception):
    """The /v1 routes would listen on a network address without an API key."""


# --------------------------------------------------------------------------- pure parts


def check_api_bind(host: str, api_key: str | None, allow_open: bool) -> None:
    """Refuse to serve /v1 beyond loopback without a key, as the page is refused without a password."""
    from chat_app.ui import is_loopback

    if is_loopback(host) or allow_open or api_key:
        return
    raise OpenApi(
        f"OpenAI-adressen /v1 ville være åben for alle, der kan nå {host}, uden nøgle. Angiv --api-key "
        "(eller RAADGIVER_API_KEY), eller --insecure-no-auth, hvis det er tilsigtet."
    )


def key_matches(header: str | None, key: str) -> bool:
    """``Authorization: Bearer KEY``, compared in constant time."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return hmac.compare_digest(token.strip().encode(), key.encode())


def error_body(message: str, kind: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    """The error object OpenAI's clients parse."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def parse_request(body: bytes) -> tuple[str, list[tuple[str, str]], bool]:
    """(question, history, stream) from a chat completion request body, or BadRequest."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"Forespørgslen er for stor (grænsen er {MAX_BODY_BYTES // 1024} KB).")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Forespørgslen er ikke gyldig JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("Forespørgslen skal være et JSON-objekt med feltet 'messages'.")
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("Feltet 'messages' mangler eller er tomt: send mindst én besked med role 'user'.", "messages")
    if len(messages) > MAX_MESSAGES:
        raise BadRequest(f"For mange beskeder (højst {MAX_MESSAGES}).", "messages")
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise BadRequest("Feltet 'stream' skal være true eller false.", "stream")
    turns: list[tuple[str, str]] = []
    for n, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise BadRequest(f"Besked {n} skal have role 'user', 'assistant' eller 'system'.", f"messages[{n}].role")
        content = m.get("content")
        if content is None and m["role"] != "user":
            content = ""
        if not isinstance(content, str):
            raise BadRequest(f"Besked {n}: 'content' skal være tekst (billeder og filer understøttes ikke).",
                             f"messages[{n}].content")
        if len(content) > MAX_MESSAGE_CHARS:
            raise BadRequest(f"Besked {n} er for lang ({len(content)} tegn; grænsen er {MAX_MESSAGE_CHARS}).",
                             f"messages[{n}].content")
        if m["role"] in ("user", "assistant"):
            turns.append((m["role"], content))
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise BadRequest("Den sidste besked skal være et spørgsmål med role 'user'.", "messages")
    history: list[tuple[str, str]] = []
    question: str | None = None
    for role, text in turns[:-1]:
        if role == "user":
            question = text.strip()
        elif question is not None:
            history.append((question, answer_text(text)))
            question = None
    return turns[-1][1].strip(), history, stream


def answer_text(content: str) -> str:
    """An earlier reply of ours without its source list: the part a follow-up question refers to."""
    return content.split(f"\n\n{SOURCES_HEADING}", 1)[0].strip()


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def md(text: str) -> str:
    """Minutes text as literal Markdown: no links, emphasis or HTML from the minutes."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def render_markdown(answer: Answer) -> str:
    """The answer, a note if any, and the numbered sources with their verbatim quotes."""
    lines = [re.sub(r"\\\[(\d+)\\\]", r"[\1]", _MD_SPECIAL.sub(r"\\\1", line)) for line in answer.answer.split("\n")]
    parts = ["\n".join(lines).strip()]
    if answer.note:
        parts.append(f"*{md(answer.note)}*")
    if answer.citations:
        parts.append(SOURCES_HEADING)
        parts.append("\n".join(source_line(n, c) for n, c in enumerate(answer.citations, start=1)))
    return "\n\n".join(parts)


def source_line(n: int, c: Citation) -> str:
    case = f", {md(c.case_number)}" if c.case_number else ""
    pkt = f", {md(c.pkt)}" if c.pkt else ""
    return (f"{n}. {md(c.council)}, {c.meeting} {danish_date(c.meeting_date)}{pkt}{case}: "
            f"*{md(c.title)}*\n   > »{md(c.quote)}«\n   \n   Fil: {md(Path(c.source).name)}")


def completion(answer: Answer, request_id: str, created: int) -> dict[str, Any]:
    """A non-streamed ``chat.completion``."""
    return {
        "id": request_id, "object": "chat.completion", "created": created, "model": MODEL_NAME,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": render_markdown(answer)},
                     "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "raadgiver": answer.to_json(),
    }


def chunk(request_id: str, created: int, delta: dict[str, str], finish: str | None = None,
          extra: dict[str, Any] | None = None) -> str:
    """One server-sent event of a streamed ``chat.completion.chunk``."""
    body: dict[str, Any] = {"id": request_id, "object": "chat.completion.chunk", "created": created,
                            "model": MODEL_NAME,
                            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
    if extra:
        body.update(extra)
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def events(answer_parts: Iterator[object], request_id: str, created: int) -> Iterator[str]:
    """The answer as server-sent events, ending in ``data: [DONE]``.

    A language model's raw text is not passed on while it streams: a client cannot take text back,
    and only the checked answer (invalid citations removed, numbers matched to the sources) may reach
    a memo. Comment lines keep the connection alive meanwhile.
    """
    yield chunk(request_id, created, {"role": "assistant", "content": ""})
    final: Answer | None = None
    for part in answer_parts:
        if isinstance(part, Answer):
            final = part
            break
        yield ": skriver\n\n"
    assert final is not None
    text = render_markdown(final)
    for piece in re.split(r"(?<=\n)", text):  # line by line, as a model would stream it
        yield chunk(request_id, created, {"content": piece})
    yield chunk(request_id, created, {}, "stop", {"raadgiver": final.to_json()})
    yield "data: [DONE]\n\n"


def empty_answer() -> Answer:
    # Nothing to search (and BM25 cannot be built over nothing): said plainly, as the page says it.
    return Answer(answer=EMPTY_TEXT, refused=True, citations=())


# --------------------------------------------------------------------------- the routes


def routes(index: Index, generator: Generator | None, gate: ReadWriteLock, api_key: str | None) -> list[Any]:
    """The /v1 routes, ready for ``FastAPI(routes=...)`` (gradio's ``app_kwargs``)."""
    from fastapi import APIRouter
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.concurrency import run_in_threadpool

    router = APIRouter(prefix="/v1")

    def denied(request: Request) -> JSONResponse | None:
        if api_key is None or key_matches(request.headers.get("authorization"), api_key):
            return None
        return JSONResponse(error_body("Ugyldig eller manglende API-nøgle. Send 'Authorization: Bearer NØGLE' "
                                       "med nøglen fra raadgiver serve --api-key.", "invalid_request_error",
                                       code="invalid_api_key"), status_code=401)

    def bad(exc: BadRequest) -> JSONResponse:
        return JSONResponse(error_body(str(exc), "invalid_request_error", exc.param), status_code=400)

    def parts(question: str, history: Sequence[tuple[str, str]]) -> Iterator[object]:
        """The answer stream, each step under the shared lock (uploads take it exclusively)."""
        if not index.manifest.meetings:
            yield empty_answer()
            return
        stream = stream_answer(index, question, generator=generator, history=history)
        while (part := step(gate, stream)) is not None:
            yield part

    def model_card() -> dict[str, Any]:
        return {"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "raadgiver"}

    @router.get("/models")
    async def list_models(request: Request) -> Any:
        return denied(request) or {"object": "list", "data": [model_card()]}

    @router.get("/models/{model}")
    async def get_model(model: str, request: Request) -> Any:
        if (refused := denied(request)) is not None:
            return refused
        if model != MODEL_NAME:
            return JSONResponse(error_body(f"Modellen '{model}' findes ikke; brug '{MODEL_NAME}'.",
                                           "invalid_request_error", "model", "model_not_found"), status_code=404)
        return model_card()

    @router.post("/chat/completions")
    async def chat_completions(request: Request) -> Any:
        if (refused := denied(request)) is not None:
            return refused  # before the body is read: nothing of it reaches the index
        try:
            declared = int(request.headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        try:
            if declared > MAX_BODY_BYTES:
                raise BadRequest(f"Forespørgslen er for stor (grænsen er {MAX_BODY_BYTES // 1024} KB).")
            body = bytearray()
            async for piece in request.stream():
                body += piece
                if len(body) > MAX_BODY_BYTES:
                    raise BadRequest(f"Forespørgslen er for stor (grænsen er {MAX_BODY_BYTES // 1024} KB).")
            question, history, stream = parse_request(bytes(body))
        except BadRequest as exc:
            return bad(exc)
        request_id = f"chatcmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if stream:
            return StreamingResponse(events(parts(question, history), request_id, created),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

        def final() -> Answer:
            out = [p for p in parts(question, history) if isinstance(p, Answer)]
            return out[-1]

        return completion(await run_in_threadpool(final), request_id, created)

    return list(router.routes)
