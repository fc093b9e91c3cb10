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


def item_sentences(text: str) -> list[Sentence]:
    """The item's sentences in order, each with its part and role."""
    return [Sentence(s, part, role_of(s, part)) for part, s in part_sentences(text)]


def role_of(sentence: str, part: str) -> Role:
    """What the sentence is: the decision, the council's own statement, a proposal, history, or talk."""
    p = part.lower()
    if p in _DECISION_PARTS:
        return "decision"
    if p in _PROPOSAL_PARTS:
        return "proposal"
    if p in _HISTORY_PARTS:
        return "history"
    if _COUNCIL_SUBJECT.match(sentence):
        return "decision" if _DECIDED.search(sentence) and p in ("", "drøftelse", "behandling") else "council"
    return "discussion"


def substantive(s: Sentence) -> bool:
    """Worth quoting: not a bare list stub, a signature or a one-word line."""
    t = s.text.strip("-•* ")
    return len(t) >= 25 and not t.endswith(":")


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
