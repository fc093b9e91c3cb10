"""References a question makes to meetings, dates and councils: pure functions.

A question about "mødet 3. juni 2023" or "Økonomiudvalget" can only be answered if the index holds
that meeting or council; otherwise the honest answer is that the minutes are not there, however
similar some other item reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date

from index.when import MONTH_NAMES, MONTHS, DateRef, named_dates

__all__ = ["MONTHS", "MONTH_NAMES", "DateRef", "named_dates", "missing_date", "missing_council", "named_councils",
           "asked_council", "council_word"]

# Council names: one word ending in -udvalg/-råd (Økonomiudvalget, Ældrerådet, Byrådet) or
# "Teknisk Udvalg"-style two words; the bare "rådet"/"udvalget" means whichever council is asked.
_COUNCIL_WORD = re.compile(
    r"\b((?:[A-ZÆØÅ]\w*-\s+og\s+)?[A-ZÆØÅa-zæøå][\w-]*?(?:udvalg|råd|bestyrelse|styrelse|repræsentation))(?:et|en|ets|ens|s)?\b")
_COUNCIL_TWO = re.compile(r"\b([A-ZÆØÅ]\w+)\s+(Udvalg|Råd)(?:et|ets)?\b")
_GENERIC = {"råd", "udvalg", "rådgiv", "bestyrelse", "styrelse", "fagudvalg", "udvalg", "underudvalg"}
# Words that end in "råd" without naming a council: "område" (it-området, ældreområdet: common in
# questions, and read as a council they refused the question), "forråd", and the verbs fraråde/tilråde.
_NOT_COUNCIL = ("områd", "forråd", "fraråd", "tilråd")


def missing_date(question: str, meeting_dates: Iterable[date | None]) -> DateRef | None:
    """A date the question names that no meeting in the index has (undated meetings never match)."""
    dates = [d for d in meeting_dates if d is not None]
    for ref in named_dates(question):
        if not any(ref.matches(d) for d in dates):
            return ref
    return None


def _norm(name: str) -> str:
    n = name.lower().replace("-", "").replace(" ", "")
    for suffix in ("ets", "ens", "et", "en", "s"):
        if n.endswith(suffix) and n[: -len(suffix)].endswith(("udvalg", "råd", "bestyrelse", "styrelse", "repræsentation")):
            return n[: -len(suffix)]
    return n


def named_councils(question: str) -> list[str]:
    """Council names in the question, as written (not the bare "rådet"/"udvalget")."""
    found: list[str] = []
    for m in _COUNCIL_TWO.finditer(question):
        if m.group(1).lower() not in ("det", "dette", "hvilket", "hvilke", "samme", "hvad"):
            found.append(f"{m.group(1)} {m.group(2)}")
    for m in _COUNCIL_WORD.finditer(question):
        word = m.group(1)
        if word.lower().endswith(_NOT_COUNCIL):
            continue
        if _norm(word) not in _GENERIC and not any(word in f for f in found):
            found.append(word)
    return found


def missing_council(question: str, councils: Iterable[str],
                    mentioned: Callable[[str], bool] = lambda name: False) -> str | None:
    """A council the question names that is neither a council of the index nor mentioned in it."""
    known = {_norm(c) for c in councils}
    for name in named_councils(question):
        n = _norm(name)
        if any(n == k or n in k or k.endswith(n) for k in known) or mentioned(name):
            continue
        return name
    return None


def asked_council(question: str, councils: Iterable[str]) -> str | None:
    """The index's council the question names ("Hvad besluttede Teknisk Udvalg …?"), if it names exactly one."""
    known = {c: _norm(c) for c in councils}
    hits = {c for name in named_councils(question) for c, k in known.items()
            if (n := _norm(name)) == k or n in k or k.endswith(n)}
    return hits.pop() if len(hits) == 1 else None


_SWITCH = re.compile(r"\W*(?:og\s+|men\s+)?(?:hvad\s+med|hvad\s+mente|hvad\s+sagde|og|what\s+about|and)\s+"
                     r"(?P<word>rådet|udvalget|the\s+council|the\s+committee)(?:\s+om\s+det)?\W*", re.I)


def switched_council(question: str, councils: Iterable[str]) -> str | None:
    """The council a follow-up turns to with only "Hvad med udvalget?" / "Og rådet?": the index's one council
    of that kind; None when the question says more, or the index has several or none of that kind."""
    m = _SWITCH.fullmatch(question)
    if m is None:
        return None
    kind = "råd" if m.group("word").lower() in ("rådet", "the council") else "udvalg"
    theirs = [c for c in councils if kind in c.lower()]
    return theirs[0] if len(theirs) == 1 else None


def council_word(question: str) -> str | None:
    """ "råd" or "udvalg" when the question says only "rådet(s)" or only "udvalget(s)": which kind of council it
    means, where an index holds both."""
    says_council = bool(re.search(r"\brådets?\b", question, re.I))
    says_committee = bool(re.search(r"\budvalgets?\b", question, re.I))
    if says_council == says_committee:
        return None
    return "råd" if says_council else "udvalg"
