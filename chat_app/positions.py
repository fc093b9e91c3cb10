"""What an agenda item says the council decided or thought: sentences by role, pure functions.

An item's text holds its parts under their headings (Indstilling, Drøftelse, Beslutning …). A memo
writer wants the council's own position first: the decision, then what the council itself said in
the discussion. What the administration proposed (Indstilling) and earlier meetings' steps
(Sagsforløb) are shown as what they are, never as the decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from chat_app.refs import MONTHS
from ingest.parse import BULLET
from ingest.sentences import part_sentences

Role = Literal["decision", "council", "proposal", "history", "discussion"]
# Order of preference when choosing what opens an item's part of the answer.
ROLE_RANK: dict[Role, int] = {"decision": 0, "council": 1, "discussion": 2, "proposal": 3, "history": 4}
ROLE_LABEL: dict[Role, str] = {
    "decision": "Beslutning",
    "council": "Drøftelse",
    "discussion": "Fra drøftelsen",
    "proposal": "Indstilling (forslaget til rådet/udvalget)",
    "history": "Tidligere forløb",
}
# Parts whose talk is the meeting's discussion; text under any other heading (Resume, Sagsfremstilling …) is
# labelled by that heading, so a case summary is not presented as something said at the meeting.
_DISCUSSION_PARTS = ("", "drøftelse", "behandling", "referat")
_DECISION_PARTS = ("beslutning", "beslutninger", "konklusion")
_PROPOSAL_PARTS = ("indstilling", "indstillinger", "beslutningspunkter", "forslag")
_HISTORY_PARTS = ("sagsforløb", "tidligere beslutninger")
# A sentence in which the council (not a presenter) is the subject: "Rådet tilsluttede sig …",
# "Udvalget besluttede …", "It-Arkitekturrådet bakkede op …", "Rådet var enigt i …".
_COUNCIL_SUBJECT = re.compile(
    r"^(?:Samtidig |Desuden |Endelig |Derudover |Afslutningsvis )?(?:[A-ZÆØÅ][\w-]*\s)?"
    r"(?:[\w-]*rådet|[\w-]*udvalget|Udvalget|Rådet|Byrådet|Kommunalbestyrelsen|Bestyrelsen|Direktionen)\b",
)
_DECIDED = re.compile(r"\b(?:besluttede|vedtog|godkendte|godkendt|vedtaget|tiltrådt|tiltrådte|bevilgede)\b", re.I)


@dataclass(frozen=True)
class Sentence:
    """One verbatim sentence of an item with the part it stands in and its role."""

    text: str
    part: str  # the heading it stands under ("" before any heading)
    role: Role
    agenda: bool = False  # from an agenda, written before the meeting


def item_sentences(text: str, agenda: bool = False) -> list[Sentence]:
    """The item's sentences in order, each with its part and role."""
    return [Sentence(s, part, role_of(s, part, agenda), agenda) for part, s in part_sentences(text)]


def role_of(sentence: str, part: str, agenda: bool = False) -> Role:
    """What the sentence is: the decision, the council's own statement, a proposal, history, or talk.

    An agenda holds no decision and no statement of the council at its meeting: "Byrådet godkender …" there is
    the proposal's wording, and its text before any heading is the case, not a discussion."""
    p = part.lower()
    if p in _DECISION_PARTS and not agenda:
        return "decision"
    if p in _PROPOSAL_PARTS:
        return "proposal"
    if p in _HISTORY_PARTS:
        return "history"
    if agenda:
        return "discussion"
    # "Således Byrådet godkender …" in a case summary is the administration describing, not the council speaking.
    if p in _DISCUSSION_PARTS and _COUNCIL_SUBJECT.match(sentence):
        return "decision" if _DECIDED.search(sentence) and p in ("", "drøftelse", "behandling") else "council"
    return "discussion"


def label_of(s: Sentence) -> str:
    """How the answer introduces the sentence: its role, or for talk outside the discussion, its part. An
    agenda's text before any heading is "Fra dagsordenen": nothing was discussed yet."""
    if s.role == "discussion" and (s.agenda or s.part.lower() not in _DISCUSSION_PARTS):
        return f"Fra afsnittet »{s.part}«" if s.part else "Fra dagsordenen"
    return ROLE_LABEL[s.role]


def substantive(s: Sentence) -> bool:
    """Worth quoting: not a bare list stub, a signature, a one-word line or the title of an attachment."""
    t = s.text.strip("-•* ")
    return len(t) >= 25 and not t.endswith(":") and s.part.lower() != "bilag"


def pick(scored: list[tuple[Sentence, float]], n: int = 2, role_bonus: float = 0.02) -> list[Sentence]:
    """The sentences to open an item's answer with: the council's position first.

    ``scored`` pairs each sentence with its relevance to the question (cosine). The most relevant
    decision or council statement comes first (a decision gets ``role_bonus``). The second sentence is
    whichever answers the question better: the next position, or the most relevant sentence of the
    discussion (a fact a presenter gave must not be hidden behind "Rådet tog … til efterretning").
    Without any position the most relevant sentence is shown, labelled by its role; the discussion is
    preferred to a proposal or an earlier step of about the same relevance.
    """
    cands = [(s, r) for s, r in scored if substantive(s)]
    if not cands:
        return []
    positions = sorted(((s, r) for s, r in cands if s.role in ("decision", "council")),
                       key=lambda sr: -(sr[1] + (role_bonus if sr[0].role == "decision" else 0.0)))
    talk = max((sr for sr in cands if sr[0].role == "discussion"), key=lambda sr: sr[1], default=None)
    if not positions:
        best_any = max(cands, key=lambda sr: sr[1])
        lead = talk if talk is not None and talk[1] >= best_any[1] - role_bonus else best_any
        return [lead[0]]
    chosen = [positions[0]]
    rest = ([positions[1]] if len(positions) > 1 else []) + ([talk] if talk is not None else [])
    if rest and n > 1:
        chosen.append(max(rest, key=lambda sr: sr[1]))
    order = {id(s): i for i, (s, _) in enumerate(cands)}
    return [s for s, _ in sorted(chosen, key=lambda sr: (ROLE_RANK[sr[0].role], order[id(sr[0])]))]


# A question that names a part asks for it: "Hvad indstillede sekretariatet …?" wants the proposal, "Hvordan er
# sagen forløbet …?" and "Hvor mange gange …?" the earlier steps. Its best sentence is shown first.
_ASKS_DECISION = re.compile(r"\bbesluttede\b|\bbesluttet\b|\bbeslutning\w*|\bvedt[oa]g\w*|\bdecid\w*|\bdecision", re.I)
_ASKS_PROPOSAL = re.compile(r"\bindstill\w*|\bforesl[åa]\w*|\bproposed?\b|\brecommend\w*", re.I)
_ASKS_HISTORY = re.compile(r"\bsagsforløb\w*|\bforløb\w*|\bhvor mange gange\b|\btidligere\b|\bhow many times\b", re.I)


def asked_roles(question: str, change: bool = False) -> tuple[Role, ...]:
    """The roles the question asks for by name; a question about change over time asks for the history too."""
    roles: list[Role] = []
    if _ASKS_DECISION.search(question):
        roles.append("decision")
    if _ASKS_PROPOSAL.search(question):
        roles.append("proposal")
    if change or _ASKS_HISTORY.search(question):
        roles.append("history")
    return tuple(roles)


def best_of_role(scored: list[tuple[Sentence, float]], role: Role) -> Sentence | None:
    """The most relevant substantive sentence with ``role`` (None if the item has none)."""
    cands = [(s, r) for s, r in scored if s.role == role and substantive(s)]
    return max(cands, key=lambda sr: sr[1])[0] if cands else None


MAX_LIST_LINES = 6


def with_followers(facts: list[Sentence], sentences: list[Sentence], taken: set[str], max_chars: int) -> list[Sentence]:
    """Each of ``facts`` up to ``max_chars`` long followed by the next sentence of ``sentences`` (the item's, in
    order) when that is quotable talk of the same part and not in ``taken`` (texts already shown)."""
    pos = {id(s): k for k, s in enumerate(sentences)}
    seen = set(taken) | {f.text for f in facts}
    out: list[Sentence] = []
    for f in facts:
        out.append(f)
        k = pos.get(id(f), len(sentences)) + 1
        if len(f.text) <= max_chars and k < len(sentences):
            nxt = sentences[k]
            if nxt.part == f.part and nxt.role == "discussion" and substantive(nxt) and nxt.text not in seen:
                out.append(nxt)
                seen.add(nxt.text)
    return out


def announces(sentences: list[Sentence], i: int) -> bool:
    """Whether sentence ``i`` announces the list after it ("… arbejdes der med flere storskala-projekter:"):
    on its own a stub, with its list the answer to "which …?"."""
    s = sentences[i]
    return (s.text.rstrip().endswith(":") and i + 1 < len(sentences)
            and bool(BULLET.match(sentences[i + 1].text)) and sentences[i + 1].part == s.part)


def list_run(sentences: list[Sentence], i: int) -> tuple[int, int]:
    """First and last position of the list lines around line ``i`` (same part); ``i`` must be a list line."""
    part = sentences[i].part
    lo = hi = i
    while lo > 0 and BULLET.match(sentences[lo - 1].text) and sentences[lo - 1].part == part:
        lo -= 1
    while hi + 1 < len(sentences) and BULLET.match(sentences[hi + 1].text) and sentences[hi + 1].part == part:
        hi += 1
    return lo, hi


_NUMBERED = re.compile(r"^(\d{1,2})[.)]\s+")
# How many sentences of prose may stand between two numbered list lines that still make one list: "1. Kortlægning
# af kritiske systemer" and its paragraph, then "2. Nødprocedurer …" with two sentences, then "3. …".
NUMBERED_GAP = 3


def list_lines(sentences: list[Sentence], i: int) -> list[int]:
    """Positions of the list line ``i`` stands in: its run of adjacent list lines, and for a numbered list the
    runs numbered on from it (or up to it) across a few sentences of prose each (a numbered heading with its
    paragraph). The prose between is not part of it."""
    lo, hi = list_run(sentences, i)
    out = list(range(lo, hi + 1))

    def number(k: int) -> int | None:
        m = _NUMBERED.match(sentences[k].text)
        return int(m.group(1)) if m and sentences[k].part == sentences[i].part else None

    for step in (1, -1):
        edge = hi if step == 1 else lo
        while (n := number(edge)) is not None:
            want, found = n + step, None
            for k in range(edge + step, edge + step * (NUMBERED_GAP + 2), step):
                if not 0 <= k < len(sentences) or sentences[k].part != sentences[i].part:
                    break
                if number(k) == want:
                    found = k
                    break
                if BULLET.match(sentences[k].text):
                    break  # another list between: not this one's continuation
            if found is None:
                break
            a, b = list_run(sentences, found)
            out += range(a, b + 1)
            edge = b if step == 1 else a
    return sorted(set(out))


def with_lists(chosen: list[Sentence], sentences: list[Sentence], proposals: bool = False) -> list[Sentence]:
    """``chosen`` with the rest of each list a chosen list line stands in: the question "which tracks …?" is
    answered by the whole list, not by the one line that read closest. ``sentences`` in the item's order;
    at most ``MAX_LIST_LINES`` lines of one list, each sentence once. The proposal's list ("- tager … til
    efterretning") is what the administration asked for, not the answer: expanded only with ``proposals``."""
    out: list[Sentence] = []
    seen: set[int] = set()
    index = {id(s): i for i, s in enumerate(sentences)}
    for s in chosen:
        i = index.get(id(s))
        opens = i is not None and announces(sentences, i)
        if i is None or not (opens or BULLET.match(s.text)) or (s.role == "proposal" and not proposals):
            if id(s) not in seen:
                out.append(s)
                seen.add(id(s))
            continue
        if opens:  # the announcement, then its list from the top
            if id(s) not in seen:
                out.append(s)
                seen.add(id(s))
            i += 1
        where = list_lines(sentences, i)
        lo = where[0]
        run = [sentences[k] for k in where]
        if opens:
            run = run[:MAX_LIST_LINES]
        elif len(run) > MAX_LIST_LINES:  # the lines nearest the chosen one
            start = min(max(0, where.index(i) - MAX_LIST_LINES // 2), len(run) - MAX_LIST_LINES)
            run = run[start : start + MAX_LIST_LINES]
        if lo > 0 and announces(sentences, lo - 1) and run and run[0] is sentences[lo]:
            run = [sentences[lo - 1], *run]  # the sentence that announces the list comes first
        for x in run:
            if id(x) not in seen:
                out.append(x)
                seen.add(id(x))
    return out


# What kind of answer a question asks for, and whether a sentence holds one: "Hvor mange …?" and "Hvad koster …?"
# want a number, "Hvornår …?" a date. A sentence that holds no number cannot answer "how many".
# "Hvor mange gange …?" counts events (the case history answers it), it does not ask for a number in the text.
_ASKS_NUMBER = re.compile(r"\bhvor (?:mange|meget|stor|store|længe)\b(?! gange)|\bhvad (?:koster|kostede|beløb)|"
                          r"\bhow (?:many|much|long)\b(?! times)|\bwhat (?:does|did) .* cost\b|\bantal\b", re.I)
_ASKS_DATE = re.compile(r"\bhvornår\b|\bwhen\b|\bwhich date\b|\bhvilken dato\b", re.I)
_NUMBER = re.compile(r"\d|\b(?:to|tre|fire|fem|seks|syv|otte|ni|ti|elleve|tolv|halvdelen|dobbelt)\b", re.I)
# A year, a week or quarter number, or a month (with or without its day).
_DATE = re.compile(r"\b(?:19|20)\d{2}\b|\b(?:uge|kvartal)\s*\d|\b(?:" + "|".join(MONTHS) + r")\b", re.I)


# "Hvilke kommuner …?" wants the municipalities by name: "Lindholt og Stenvig Kommuner", "Region Nordjylland".
# Dev answer recall without / with: real 0.89 / 0.89, demo 0.80 / 0.82 (test: 0.69 / 0.69 and 0.78 / 0.78).
_ASKS_PLACE = re.compile(r"\bhvilke(?:n)? (?:kommuner?|regioner?)\b|\bwhich (?:municipalit|region)", re.I)
_PLACE = re.compile(r"\b[A-ZÆØÅ][a-zæøå]+s? (?:og [A-ZÆØÅ][a-zæøå]+s? )?(?:Kommuner?|Regioner?)\b|"
                    r"\bRegion [A-ZÆØÅ]|\b[A-ZÆØÅ][a-zæøå]+ Kommunes?\b")


def answer_type(question: str) -> str:
    """"number", "date", "place" or "" for the answer the question asks for."""
    if _ASKS_DATE.search(question):
        return "date"
    if _ASKS_PLACE.search(question):
        return "place"
    if _ASKS_NUMBER.search(question):
        return "number"
    return ""


def holds_answer_type(sentence: str, kind: str) -> bool:
    """Whether the sentence holds what a question of ``kind`` asks for (True when it asks for nothing)."""
    if kind == "date":
        return bool(_DATE.search(sentence))
    if kind == "number":
        return bool(_NUMBER.search(sentence))
    if kind == "place":
        return bool(_PLACE.search(sentence))
    return True
