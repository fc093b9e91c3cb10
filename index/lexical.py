"""BM25 over the chunks with Danish stemming and stop words; case numbers stay whole.

Three switchable ways to forgive what people type (``LexicalOptions``), each measured on its own
by ``eval/lexical_variants.py``:

- ``fold``: æ/ø/å and ae/oe/aa are one letter: text and query are both folded to ASCII digraphs
  (æ→ae, ø→oe, å→aa) before stemming, so "aeldreomraadet" finds "ældreområdet" and back.
- ``fuzzy``: a query word that is not in the index vocabulary also matches its nearest vocabulary
  terms (Levenshtein distance 1 from 5 characters, 2 from 9; rapidfuzz), weighted down.
- ``compound``: two adjacent query words whose join (directly or with a linking -s-/-e-) is in the
  vocabulary also match the joined word ("digitaliserings strategi" → "digitaliseringsstrategi");
  a query word not in the vocabulary that splits into two vocabulary words matches those (the reverse).

With ``fold`` on, a query word typed without the marks (å as a, ø as o, æ as a or e: "radet", "born",
"ovelsen", "suverenitet") that the vocabulary does not hold matches the words it is spelled as, fully:
it is that word, typed on a keyboard without æ/ø/å (``Bm25.unmarked``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from index.fuse import QueryFeatures

# Bump when tokenize() changes: saved BM25 indexes of another version are rebuilt.
# 2: optional æ/ø/å folding (the options are part of the saved index's key as well).
TOKENIZER_VERSION = 2

# Case numbers (SAG-2025-03105, EMN-2025-003383, 24/1234) and section numbers (2.7) are one token.
TOKEN = re.compile(
    r"[A-ZÆØÅa-zæøå]{2,6}-\d{4}-\d{3,8}|\d{2}/\d{3,6}|\d+(?:\.\d+)+|[0-9a-zæøåäöüéèáàóòúçñ]+(?:-[0-9a-zæøåäöüé]+)*",
    re.IGNORECASE,
)

# Tokens kept as they are: case numbers and section numbers (compiled once; tokenize runs per word).
_WHOLE = re.compile(r"[a-zæøå]{2,6}-\d{4}-\d{3,8}|\d{2}/\d{3,6}|\d+(?:\.\d+)+")

DANISH_STOP_WORDS = frozenset(
    """og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har om vi min
    havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle vil blev
    kunne ind når være dog noget ville jo deres efter ned skulle denne end dette mit også under have dig
    anden hende mine alt meget sit sine vor mod disse hvis din nogle hos blive mange ad bliver hendes
    været thi jer sådan hvilke hvilken hvordan hvornår hvem hvorfor the of and to in
    is what did how was on for about""".split()
)
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe"})
_FOLDED_STOP_WORDS = frozenset(w.translate(_FOLD) for w in DANISH_STOP_WORDS)


@dataclass(frozen=True)
class LexicalOptions:
    """Which forgiving matches BM25 uses; ``fold`` changes the index, the others only the query."""

    fold: bool = True
    fuzzy: bool = True
    compound: bool = True
    fuzzy_weight: float = 0.5  # a fuzzy match counts this much of an exact one
    compound_weight: float = 1.0  # a joined or split compound counts this much
    split_index: bool = False  # also index each compound's two vocabulary parts (measured: see eval)

    def key(self) -> str:
        """What of these options the saved index depends on."""
        return f"fold={int(self.fold)}" + (",split" if self.split_index else "")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("danish")


def fold(text: str) -> str:
    """æ/ø/å (and ä/ö) as the ASCII digraphs ae/oe/aa; lower-cased text in, lower-cased text out."""
    return text.translate(_FOLD)


# How each folded letter may be typed on a keyboard without æ/ø/å: å as a, ø as o, æ as a or e.
# Only for words of four letters or more (as stemmed): short ones collide ("do" is English, and "dø" in Danish;
# "pa", "sa", "ma"), and an English question that shares "do" with the minutes was answered.
UNMARKED_MIN = 4
_UNMARKED = {"aa": ("a",), "oe": ("o",), "ae": ("a", "e")}
_DIGRAPH = re.compile("aa|oe|ae")


def unmarked_spellings(term: str) -> set[str]:
    """The ways a folded term may be typed without the marks: "raad" -> {"rad"}, "laert" -> {"lart", "lert"}.
    Each digraph is kept or typed plainly, so a word with both kinds of letter ("moedeoevelse") is found
    whichever of them lost its mark; the term itself is left out."""
    spellings = [""]
    pos = 0
    for m in _DIGRAPH.finditer(term):
        between = term[pos:m.start()]
        spellings = [f"{s}{between}{alt}" for s in spellings for alt in (m.group(0), *_UNMARKED[m.group(0)])]
        pos = m.end()
        if len(spellings) > 64:  # a long run of digraphs: the plain spellings of the first ones only
            break
    return {f"{s}{term[pos:]}" for s in spellings} - {term}


def _lowered(text: str, folded: bool) -> Iterator[tuple[str, bool]]:
    """Each token lower-cased, with whether it is a case or section number (kept whole, never folded)."""
    for m in TOKEN.finditer(text):
        tok = m.group(0).lower()
        if _WHOLE.fullmatch(tok):
            yield tok, True
        else:
            yield (fold(tok) if folded else tok), False


def words(text: str, folded: bool = False) -> list[str | None]:
    """The text's words, lower-cased (folded if asked), case numbers whole; None marks a stop word,
    so that callers can tell adjacent words from words with a stop word between them."""
    stops = _FOLDED_STOP_WORDS if folded else DANISH_STOP_WORDS
    return [tok if whole or (tok not in stops and (len(tok) > 1 or tok.isdigit())) else None
            for tok, whole in _lowered(text, folded)]


def tokenize(text: str, folded: bool = False) -> list[str]:
    """Lowercase, keep case numbers whole, split hyphenated words into parts too, stem Danish."""
    stem = _stemmer().stemWord
    stops = _FOLDED_STOP_WORDS if folded else DANISH_STOP_WORDS
    out: list[str] = []
    for tok, whole in _lowered(text, folded):
        if whole:
            out.append(tok)
            continue
        pieces = [tok] + (tok.split("-") if "-" in tok else [])
        for piece in pieces:
            if piece and piece not in stops and (len(piece) > 1 or piece.isdigit()):
                out.append(stem(piece.replace("-", "")))
    return out


# Zipf frequency (log10 of occurrences per billion words) of the most common Danish words; wordfreq's
# small Danish list tops out near 7.5 ("og", "i"), and a word it does not hold counts as 0.
ZIPF_COMMON = 7.0


def general_rarity(text: str, folded: bool = False) -> dict[str, float]:
    """Per token of ``text`` (as ``tokenize`` gives it), how rare its word is in Danish at large: 1 for a
    word wordfreq's Danish list does not hold ("surdej", most compounds), down to 0 for the commonest.

    A small index makes everyday words look rare: in nine agenda items "laver" and "god" have a high
    IDF, so "Hvordan laver man en god surdej?" seemed to share a third of its words with the minutes.
    Weighing IDF by this keeps those words from counting as evidence. An ascii-folded word ("raadet")
    also counts as its Danish spelling. wordfreq ships its word lists inside the package (no network).
    """
    from wordfreq import zipf_frequency

    out: dict[str, float] = {}
    for word in re.findall(r"[^\W_]+(?:-[^\W_]+)*", text):
        low = word.lower()
        spellings = {low}
        if any(p in low for p in ("aa", "ae", "oe")):
            spellings.add(low.replace("aa", "å").replace("ae", "æ").replace("oe", "ø"))
        zipf = max(zipf_frequency(w, "da") for w in spellings)
        rarity = max(0.0, min(1.0, 1.0 - zipf / ZIPF_COMMON))
        for tok in tokenize(word, folded):
            out[tok] = min(out.get(tok, 1.0), rarity)
    return out


def fuzzy_distance(term: str) -> int:
    """How many edits a fuzzy match of ``term`` may take: none under 5 characters, 1 from 5, 2 from 9."""
    return 2 if len(term) >= 9 else 1 if len(term) >= 5 else 0


class SavedScores:
    """A saved bm25s index read with numpy alone, scored as bm25s scores it.

    bm25s precomputes each term's BM25 score in every document that holds it (a CSC matrix: ``data``,
    ``indices``, ``indptr``); a query's scores are the sums of its terms' columns. Importing bm25s pulls
    in scipy, about 0.1 s of every one-shot CLI search, so the query path reads the same files itself.
    """

    def __init__(self, folder: Path) -> None:
        params = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") != "lucene" or params.get("backend", "numpy") != "numpy":
            raise ValueError(f"ukendt BM25-format i {folder}: {params.get('method')}")  # rebuilt by the caller
        self.vocab_dict: dict[str, int] = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        self.scores: dict[str, Any] = {
            name: np.load(folder / f"{name}.csc.index.npy", mmap_mode="r") for name in ("data", "indices", "indptr")
        }
        self.scores["num_docs"] = int(params["num_docs"])
        self.dtype = np.dtype(params.get("dtype", "float32"))

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        """Every document's score for the query ``tokens`` (tokens outside the vocabulary add nothing)."""
        data, indices, indptr = self.scores["data"], self.scores["indices"], self.scores["indptr"]
        scores = np.zeros(self.scores["num_docs"], dtype=self.dtype)
        for tid in (self.vocab_dict[t] for t in tokens if t in self.vocab_dict):
            start, end = int(indptr[tid]), int(indptr[tid + 1])
            np.add.at(scores, indices[start:end], data[start:end])
        return scores


class Bm25:
    """A BM25 index (Lucene variant, bm25s) over a fixed list of documents."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75,
                 options: LexicalOptions = LexicalOptions()) -> None:
        import bm25s

        self.size = len(texts)
        self.options = options
        self._model = bm25s.BM25(k1=k1, b=b)
        self._vocab_list: list[str] | None = None
        self._unmarked: dict[str, tuple[str, ...]] | None = None
        if not texts:
            return  # an empty index (nothing committed yet) finds nothing
        corpus = [tokenize(t, options.fold) or ["\x00empty"] for t in texts]
        if options.split_index:
            vocab = {t: 0 for doc in corpus for t in doc}
            parts = {t: [p for pair in _splits(t, vocab) for p in pair] for t in vocab}
            corpus = [doc + [p for t in doc for p in parts[t]] for doc in corpus]
        # The vocabulary in first-seen order: bm25s numbers a token list's terms through a set, so two processes
        # (string hashing differs per process) saved the same index with different term ids, and a reader that
        # met one save's vocabulary and another's matrices scored the wrong passages.
        term_ids: dict[str, int] = {}
        ids = [[term_ids.setdefault(t, len(term_ids)) for t in doc] for doc in corpus]
        self._model.index((ids, term_ids), show_progress=False)

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (bm25s's own format: JSON and .npy files)."""
        self._model.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int, options: LexicalOptions = LexicalOptions()) -> Bm25:
        """An index saved by ``save``; its arrays are memory-mapped, not read, and bm25s is not imported."""
        bm25 = cls.__new__(cls)
        bm25.size = size
        bm25.options = options
        bm25._vocab_list = None
        bm25._unmarked = None
        bm25._model = SavedScores(folder)  # type: ignore[assignment]
        return bm25

    @property
    def vocab(self) -> dict[str, int]:
        return self._model.vocab_dict if self.size else {}

    def query_terms(self, query: str) -> list[tuple[str, float]]:
        """The vocabulary terms the query matches, each with its weight (1.0 for an exact match)."""
        opts = self.options
        stem = _stemmer().stemWord
        vocab = self.vocab
        terms: dict[str, float] = {}

        def add(term: str, weight: float) -> None:
            terms[term] = max(terms.get(term, 0.0), weight)

        for tok in tokenize(query, opts.fold):
            for term, weight in self.token_matches(tok):
                add(term, weight)
        for _, _, joined in self.joined_compounds(query):
            add(joined, opts.compound_weight)
        return list(terms.items())

    def joined_compounds(self, query: str) -> list[tuple[str, str, str]]:
        """Adjacent query words that the index holds as one compound ("blanket moderniseringen" →
        "blanketmodernisering", also with a linking -s-/-e-): each pair's two tokens and the joined term."""
        if not self.options.compound or not self.size:
            return []
        stem = _stemmer().stemWord
        vocab = self.vocab
        out: list[tuple[str, str, str]] = []
        ws = words(query, self.options.fold)
        for a, b in zip(ws, ws[1:]):
            if a is None or b is None or _WHOLE.fullmatch(a) or _WHOLE.fullmatch(b):
                continue
            for link in ("", "s", "e"):
                if link and a.endswith(link):
                    continue
                joined = stem(f"{a}{link}{b}".replace("-", ""))
                if joined in vocab:
                    out.append((stem(a.replace("-", "")), stem(b.replace("-", "")), joined))
        return out

    def token_matches(self, tok: str) -> list[tuple[str, float]]:
        """The vocabulary terms one (tokenized) query word matches: itself, else its compound parts,
        else its fuzzy neighbours, each with its weight."""
        opts = self.options
        if tok in self.vocab:
            return [(tok, 1.0)]
        if spelled := self.unmarked(tok):
            return [(t, 1.0) for t in spelled]
        if opts.compound:
            parts = [(t, opts.compound_weight) for pair in _splits(tok, self.vocab) for t in pair]
            if parts:
                return parts
        if opts.fuzzy:
            return [(term, opts.fuzzy_weight / dist) for term, dist in self._nearest(tok)]
        return []

    def unmarked(self, tok: str) -> tuple[str, ...]:
        """The vocabulary terms that ``tok`` (not in the vocabulary) is, typed without æ/ø/å's marks; only
        in a folded index, where the marked letters are digraphs that a plain letter can stand for."""
        if not self.options.fold or not self.size or len(tok) < UNMARKED_MIN or tok in self.vocab or _WHOLE.fullmatch(tok):
            return ()
        if self._unmarked is None:
            spelled: dict[str, list[str]] = {}
            for term in self.vocab:
                if _DIGRAPH.search(term):
                    for plain in unmarked_spellings(term):
                        spelled.setdefault(plain, []).append(term)
            self._unmarked = {plain: tuple(terms) for plain, terms in spelled.items()}
        return self._unmarked.get(tok, ())

    def _nearest(self, term: str) -> list[tuple[str, int]]:
        """Vocabulary terms within the fuzzy distance of ``term``, nearest first (at most three)."""
        limit = fuzzy_distance(term)
        if limit == 0 or not self.size or _WHOLE.fullmatch(term):
            return []
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        if self._vocab_list is None:
            self._vocab_list = [t for t in self.vocab if len(t) >= 4]
        got = process.extract(term, self._vocab_list, scorer=Levenshtein.distance, score_cutoff=limit, limit=3)
        return [(t, int(d)) for t, d, _ in got if d > 0]

    def features(self, query: str) -> QueryFeatures:
        """What the fusion weighs the lexical side by: the rarest term, how much of the query the best
        BM25 document holds (IDF-weighted; a word not in the vocabulary counts as rare and missing),
        names and numbers."""
        if not self.size:
            return query_features(query)
        tokens = tokenize(query, self.options.fold)
        vocab = self.vocab
        exact = list(dict.fromkeys(t for t in tokens if t in vocab))
        missing = len({t for t in tokens if t not in vocab})
        idf = coverage = 0.0
        if exact and self.size > 1:
            indptr = self._model.scores["indptr"]
            idfs = [math.log(self.size / max(int(indptr[vocab[t] + 1] - indptr[vocab[t]]), 1)) / math.log(self.size)
                    for t in exact]
            idf = max(idfs)
            best = self.search(query, 1)
            if best:
                pos = best[0][0]
                held = sum(i for t, i in zip(exact, idfs) if self._model.get_scores([t])[pos] > 0)
                total = sum(idfs) + missing
                coverage = held / total if total > 0 else 0.0
        return query_features(query, max_idf=idf, coverage=coverage)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Positions of the best ``k`` documents with their scores, best first; only positive scores."""
        if self.size == 0:
            return []
        terms = self.query_terms(query)
        if not terms:
            return []
        if all(w == 1.0 for _, w in terms):
            scores = np.asarray(self._model.get_scores([t for t, _ in terms]))
        else:
            scores = np.zeros(self.size, dtype=np.float64)
            for t, w in terms:
                scores += w * np.asarray(self._model.get_scores([t]))
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def doc_freq(self, token: str) -> int:
        """In how many documents a (tokenized) term occurs; 0 when it is not in the vocabulary."""
        if self.size == 0:
            return 0
        tid = getattr(self._model, "vocab_dict", {}).get(token)
        if tid is None:
            return 0
        indptr = self._model.scores["indptr"]
        return int(indptr[tid + 1] - indptr[tid])


def _splits(tok: str, vocab: dict[str, int]) -> list[tuple[str, str]]:
    """Ways to read ``tok`` as two vocabulary words (each ≥ 4 characters), with or without a linking
    -s-/-e- at the joint; the split with the longest first part first, at most one."""
    if len(tok) < 8 or not tok.isalpha():
        return []
    stem = _stemmer().stemWord
    for i in range(len(tok) - 4, 3, -1):
        left, right = tok[:i], tok[i:]
        right_stem = stem(right)
        if right_stem not in vocab:
            continue
        for cand in (left, left[:-1] if left[-1] in "se" else None):
            if cand and len(cand) >= 4 and stem(cand) in vocab:
                return [(stem(cand), right_stem)]
    return []


# A capitalised word that is not the first of its sentence: a name, a place, a system.
_NAME = re.compile(r"(?<![.!?:]\s)\b[A-ZÆØÅ][a-zæøåéü]+(?:[-\s][A-ZÆØÅ][a-zæøåéü]+)*")
_NUMBER = re.compile(r"\d")


def query_features(query: str, max_idf: float = 0.0, coverage: float = 0.0) -> QueryFeatures:
    """Names (capitalised words inside a sentence), numbers, and the rarest term's IDF (0–1)."""
    q = query.strip()
    names = sum(1 for m in _NAME.finditer(q) if m.start() > 0)
    numbers = sum(1 for m in TOKEN.finditer(q) if _NUMBER.search(m.group(0)))
    return QueryFeatures(max_idf=max_idf, names=names, numbers=numbers, coverage=coverage)
