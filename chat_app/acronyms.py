"""What an abbreviation stands for, as the minutes spell it out: pure functions.

Minutes spell an abbreviation out once, before it in parentheses: "Fællesoffentlig Digitaliseringsstrategi
(FODS)", "Udvalget for Arkitektur og Standarder (UAS)". "Hvad står FODS for?" is answered by that sentence,
not by the council's statements in the item that uses the abbreviation. answer.py wires this to the index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "Hvad står FODS for?", "Hvad betyder OSPO?", "Hvad dækker UAS over?", "Hvad er UAS?", "What does FDA stand for?"
_ASKED = (
    re.compile(r"\bhvad\s+(?:står|stod)\s+([A-ZÆØÅ]{2,8})\s+for\b", re.I),
    re.compile(r"\bhvad\s+(?:betyder|dækker)\s+(?:forkortelsen\s+)?([A-ZÆØÅ]{2,8})\b", re.I),
    re.compile(r"\bwhat\s+does\s+([A-Z]{2,8})\s+(?:stand\s+for|mean)\b", re.I),
)
# "Hvad er UAS?" asks for the spelling-out only as the whole question; "Hvad er UAS' holdning …?" does not.
_ASKED_WHOLE = re.compile(r"\W*(?:hvad\s+er|what\s+is)\s+(?:en\s+|an?\s+)?([A-ZÆØÅ]{2,8})\W*", re.I)
_WORD = re.compile(r"[^\W\d_][\w-]*")


def asked_acronym(question: str) -> str | None:
    """The abbreviation the question asks to have spelled out, as written in capitals; None if none."""
    for m in (*(pattern.search(question) for pattern in _ASKED), _ASKED_WHOLE.fullmatch(question)):
        if m and m.group(1).isupper():
            return m.group(1)
    return None


@dataclass(frozen=True)
class Expansion:
    """Where a sentence spells an abbreviation out: the words before "(ABBR)" that spell it."""

    words: str  # verbatim, e.g. "Fællesoffentlig Digitaliseringsstrategi"
    proper: bool  # starts with a capital: a name, not a description ("det fællesoffentlige … samarbejde")
    spelled: bool = True  # the words hold its letters; False: a Danish word for it ("konsekvensanalyse")

    def rank(self) -> int:
        """Which spelling-out to prefer: a name, then a description holding the letters, then a Danish word."""
        return 0 if self.spelled and self.proper else 1 if self.spelled else 2


def expansion(sentence: str, acronym: str) -> Expansion | None:
    """The words before "(ACRONYM)" in ``sentence`` that spell it: the shortest run of words ending at the
    parenthesis whose first word starts with the acronym's first letter and whose letters hold the acronym's
    letters in order (Danish compounds: "Fællesoffentlig" gives the F and the O of FODS)."""
    at = sentence.find(f"({acronym})")
    if at < 0:
        return None
    before = re.split(r"[.;:!?()\[\]«»\"]", sentence[:at])[-1]
    words = list(_WORD.finditer(before))
    letters = acronym.lower()
    for start in range(len(words) - 1, max(-1, len(words) - 9), -1):
        run = words[start:]
        if run[0].group().lower()[0] != letters[0]:
            continue
        text = before[run[0].start(): run[-1].end()]
        if _holds_in_order(text.lower(), letters):
            return Expansion(text, text[0].isupper())
    # A Danish word for it, not its letters: "en konsekvensanalyse (DPIA)".
    if words and before.rstrip().endswith(words[-1].group()) and words[-1].group().islower() \
            and len(words[-1].group()) >= 6:
        return Expansion(words[-1].group(), False, spelled=False)
    return None


def _holds_in_order(text: str, letters: str) -> bool:
    it = iter(text)
    return all(ch in it for ch in letters)
