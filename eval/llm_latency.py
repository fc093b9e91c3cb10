"""Answer latency through a local language model versus the extractive answer, on demo questions.

    python eval/llm_latency.py                    # real embedder, starts tests/llm_server.py (Qwen2.5-Coder-0.5B)
    python eval/llm_latency.py --model hash -n 3  # quicker plumbing run
    python eval/llm_latency.py --no-schema        # the free-text fallback (server refuses response_format)
    python eval/llm_latency.py --llm-url http://127.0.0.1:11434/v1 --llm-model qwen2.5:7b   # your own server

Indexes the fictional demo minutes in a temporary folder, then asks each question twice: without a model
(extractive answer) and through ``OpenAICompatible`` (the path of ``raadgiver ask --llm-url``; structured
claims unless the server refuses them). Prints one row per question: seconds to the extractive answer, to
the model's first token and first streamed text and to the checked answer, the model's prompt and reply
tokens and speeds (from the test server's ``/stats``: llama.cpp's own timings), how many claims were kept
and dropped by the check, and what the product did with the reply (cited / fallback to extractive /
declined). Run by hand; the numbers depend on the machine and on whatever else runs on it (the load
average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.llm_server import wait_ready  # noqa: E402  (the server prints the READY line this reads)

DEMO = REPO / "demo" / "minutes"
FIRST = "Hvad mente rådet om open source?"


def demo_questions(n: int) -> list[str]:
    """The open-source question, then the first answerable fact questions of eval/questions/demo.jsonl."""
    from eval.dataset import load_questions

    qs = [FIRST] + [q.question for q in load_questions(REPO / "eval" / "questions" / "demo.jsonl")
                    if q.kind == "fact" and q.expected and q.question != FIRST]
    return qs[:n]


def _get(url: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as resp:
        return json.loads(resp.read())


def start_server(max_new_tokens: int, threads: int, batch_threads: int) -> tuple[subprocess.Popen[str], str, float]:
    """tests/llm_server.py on a free port; returns (process, /v1 url, seconds until it answered)."""
    env = dict(os.environ)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "llm_server.py"), "--port", "0",
                             "--max-new-tokens", str(max_new_tokens), "--threads", str(threads),
                             "--batch-threads", str(batch_threads)],
                            stdout=subprocess.PIPE, stderr=sys.stderr, text=True, env=env, cwd=REPO)
    port, line = wait_ready(proc, timeout=300)
    if port is None:
        proc.kill()
        raise SystemExit(f"the test model server did not start (exit {proc.poll()}, stdout {line!r})")
    return proc, f"http://127.0.0.1:{port}/v1", time.perf_counter() - t0


def outcome(answer: Any) -> str:
    from chat_app.llm_answer import NO_CITATIONS_NOTE, NONE_SUPPORTED_NOTE

    if answer.refused:
        return "declined" if answer.generator != "ekstraktiv" else "refused"
    if answer.generator != "ekstraktiv":
        return f"cited ({len(answer.citations)})"
    if answer.note.startswith((NO_CITATIONS_NOTE, NONE_SUPPORTED_NOTE)):
        return "fallback"
    return "model failed" if answer.note else "extractive"


def kept_claims(answer: Any) -> int:
    """Claims shown: sentences of the model's answer ending in a citation mark."""
    import re

    return 0 if answer.generator == "ekstraktiv" or answer.refused else len(re.findall(r"(?:\[\d+\])+[.!?]", answer.answer))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="LLM answer latency versus extractive answers on the demo minutes.")
    ap.add_argument("--model", default=None, help="embedder: 'hash' (quick) or a folder; default: the built-in e5")
    ap.add_argument("-n", "--questions", type=int, default=5)
    ap.add_argument("--llm-url", default=None, help="use this OpenAI-compatible server instead of starting one")
    ap.add_argument("--llm-model", default="qwen")
    ap.add_argument("--max-new-tokens", type=int, default=120, help="cap of the started test server")
    ap.add_argument("--threads", type=int, default=1, help="generation threads of the started test server")
    ap.add_argument("--batch-threads", type=int, default=2, help="prompt threads of the started test server")
    ap.add_argument("--no-schema", action="store_true",
                    help="started server refuses response_format: measures the free-text fallback")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args(argv)

    from chat_app.answer import Answer, answer_question, stream_answer
    from chat_app.generate import OpenAICompatible
    from index.build import ingest_paths
    from index.embed import load_embedder
    from index.store import open_index

    proc = None
    load_s = None
    url = args.llm_url
    if url is None:
        proc, url, ready_s = start_server(args.max_new_tokens, args.threads, args.batch_threads)
        load_s = _get(url[: -len("/v1")] + "/stats")["load_s"]
        if args.no_schema:
            url = url.removesuffix("/v1") + "/no-schema/v1"
        print(f"test model server ready in {ready_s:.1f} s (model load {load_s:.1f} s)", file=sys.stderr)
    stats_url = url.rstrip("/").removesuffix("/v1").removesuffix("/no-schema") + "/stats"
    rows: list[dict[str, Any]] = []
    try:
        embedder = load_embedder(args.model)
        generator = OpenAICompatible(url, args.llm_model)
        with tempfile.TemporaryDirectory() as tmp:
            with open_index(Path(tmp), embedder, create=True, write=True) as index:
                ingest_paths(index, [DEMO])
            with open_index(Path(tmp), embedder) as index:
                # One throw-away request, so the first row does not carry one-off start-up costs.
                list(generator.generate([{"role": "user", "content": "Hej"}]))
                for q in demo_questions(args.questions):
                    t0 = time.perf_counter()
                    answer_question(index, q)
                    extractive_s = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    first_s = None
                    final: Answer | None = None
                    for part in stream_answer(index, q, generator=generator):
                        if isinstance(part, Answer):
                            final = part
                        elif first_s is None:
                            first_s = time.perf_counter() - t0
                    llm_s = time.perf_counter() - t0
                    assert final is not None
                    try:
                        timings = _get(stats_url).get("last", {})
                    except (OSError, ValueError):
                        timings = {}
                    rows.append({"question": q, "extractive_s": round(extractive_s, 2),
                                 "llm_first_token_s": timings.get("first_token_s"),
                                 "llm_first_text_s": round(first_s, 2) if first_s is not None else None,
                                 "llm_total_s": round(llm_s, 2), "outcome": outcome(final),
                                 "structured": timings.get("structured"),
                                 "claims_kept": kept_claims(final),
                                 "claims_dropped": len(final.unsupported_claims),
                                 "unsupported_claims": list(final.unsupported_claims),
                                 "answer": final.answer,
                                 "removed_citations": list(final.removed_citations),
                                 "prompt_tokens": timings.get("prompt_tokens"),
                                 "completion_tokens": timings.get("completion_tokens"),
                                 "prompt_tokens_per_s": timings.get("prompt_tokens_per_s"),
                                 "decode_tokens_per_s": timings.get("decode_tokens_per_s")})
                    print(f"{len(rows)}: {outcome(final)} in {llm_s:.1f} s", file=sys.stderr)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"embedder": args.model or "default", "llm_url": args.llm_url or "tests/llm_server.py",
                          "model_load_s": load_s, "loadavg": load, "rows": rows}, ensure_ascii=False, indent=2))
        return 0
    served = args.llm_url or (f"tests/llm_server.py (Qwen2.5-Coder-0.5B Q4_K_M, llama.cpp via xllamacpp, CPU, "
                              f"{args.threads}+{args.batch_threads} threads{', no schema' if args.no_schema else ''})")
    print(f"embedder: {args.model or 'default (e5-small)'}; model: {served}; "
          f"load average {load[0]:.1f} on {os.cpu_count()} cores")
    print()
    print("| # | spørgsmål | uddrag (s) | LLM første token (s) | LLM svar (s) | prompt-tokens | prompt tok/s "
          "| svar-tokens | svar tok/s | påstande vist/udeladt | udfald |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for i, r in enumerate(rows, start=1):
        q = r["question"] if len(r["question"]) <= 60 else r["question"][:57] + "..."
        first = r["llm_first_token_s"] if r["llm_first_token_s"] is not None else "–"
        print(f"| {i} | {q} | {r['extractive_s']:.2f} | {first} | {r['llm_total_s']:.1f} | "
              f"{r['prompt_tokens'] or '–'} | {r['prompt_tokens_per_s'] or '–'} | {r['completion_tokens'] or '–'} | "
              f"{r['decode_tokens_per_s'] or '–'} | {r['claims_kept']}/{r['claims_dropped']} | {r['outcome']} |")
    if rows:
        print()
        print(f"median: extractive {statistics.median(r['extractive_s'] for r in rows):.2f} s, "
              f"LLM {statistics.median(r['llm_total_s'] for r in rows):.1f} s; "
              f"cited {sum(r['outcome'].startswith('cited') for r in rows)}/{len(rows)}, "
              f"fallback {sum(r['outcome'] == 'fallback' for r in rows)}/{len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
