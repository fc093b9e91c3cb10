"""BM25 over the chunks with Danish stemming and stop words; case numbers stay whole."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

# Bump when tokenize() changes: saved BM25 indexes of another version are rebuilt.
TOKENIZER_VERSION = 1

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


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("danish")


def tokenize(text: str) -> list[str]:
    """Lowercase, keep case numbers whole, split hyphenated words into parts too, stem Danish."""
    stem = _stemmer().stemWord
    out: list[str] = []
    for m in TOKEN.finditer(text):
        tok = m.group(0).lower()
        if _WHOLE.fullmatch(tok):
            out.append(tok)
            continue
        pieces = [tok] + (tok.split("-") if "-" in tok else [])
        for piece in pieces:
            if piece and piece not in DANISH_STOP_WORDS and (len(piece) > 1 or piece.isdigit()):
                out.append(stem(piece.replace("-", "")))
    return out


class Bm25:
    """A BM25 index (Lucene variant, bm25s) over a fixed list of documents."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        import bm25s

        self.size = len(texts)
        self._model = bm25s.BM25(k1=k1, b=b)
        if not texts:
            return  # an empty index (nothing committed yet) finds nothing
        corpus = [tokenize(t) or ["\x00empty"] for t in texts]
        self._model.index(corpus, show_progress=False)

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (bm25s's own format: JSON and .npy files)."""
        self._model.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> Bm25:
        """An index saved by ``save``; its arrays are memory-mapped, not read."""
        import bm25s

        bm25 = cls.__new__(cls)
        bm25.size = size
        bm25._model = bm25s.BM25.load(str(folder), mmap=True)
        return bm25

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Positions of the best ``k`` documents with their scores, best first; only positive scores."""
        tokens = tokenize(query)
        if not tokens or self.size == 0:
            return []
        scores = np.asarray(self._model.get_scores(tokens))
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
