"""ONNX Runtime engine (``--engine onnx`` / ``onnx-int8``): the model folder exported once, run without torch.

Not the default: interleaved on the same batches the fused graph embeds at 0.82x torch here (the unfused
one 0.5-0.7x), though a single query takes half torch's time; int8 of the fused graph lost 4.0 points of
dense hit@1 on the real minutes (README). It stays for machines where it measures faster.

sentence-transformers' own ONNX backend (``backend="onnx"``) needs ``optimum-onnx``, whose only
release pins ``transformers<4.58``; sentence-transformers 6 needs ``transformers>=5``, so the two
cannot be installed together. This module does the same work by hand: ``torch.onnx.export`` of the
folder's BERT (once, cached beside the model folder, progress on stderr), optionally
``onnxruntime.quantization.quantize_dynamic`` to int8 (the settings of sentence-transformers'
``export_dynamic_quantized_onnx_model(model, "avx2")``: uint8 weights, per channel, no reduced range),
and at run time only onnxruntime + tokenizers + numpy: tokenise, run, mean-pool, normalise, as
sentence-transformers does for the Transformer → mean Pooling → Normalize folders of ``index.slim``.

onnxruntime is already installed with chromadb. Exporting needs torch and transformers (present);
int8 additionally needs the ``onnx`` package. Where a step is missing, ``load_embedder`` falls back
to sentence-transformers with torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from index.embed import Kind, _check_texts, _choose_prefixes
from index.slim import _read_json  # the folder configs are read as by the torch engine

Quantisation = Literal["none", "int8"]

EXPORT_FORMAT = 2
"""Bump when the exported graph changes on purpose; the cache key includes it.
2: eager attention exported and fused by onnxruntime's BERT optimiser (Attention, SkipLayerNorm, BiasGelu)."""


class ExportFailed(RuntimeError):
    """The model folder could not be exported to ONNX here (torch, transformers or onnx missing or failing)."""


def _cache_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "raadgiver" / "models"


def onnx_dir(folder: Path, quantisation: Quantisation) -> Path:
    """Where the ONNX export of ``folder`` lives: beside the converted models, keyed by the weights."""
    weights = folder / "model.safetensors"
    stat = weights.stat()
    key = hashlib.sha256(
        f"{folder.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{EXPORT_FORMAT}|{quantisation}".encode()
    ).hexdigest()[:12]
    return _cache_root() / f"{folder.name}-onnx-{quantisation}-{key}"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def export_onnx(folder: Path, quantisation: Quantisation = "none") -> Path:
    """The cached ``model.onnx`` of ``folder`` (int8 when asked), building it first if needed."""
    target = onnx_dir(folder, quantisation)
    model_file = target / "model.onnx"
    if (target / "done.json").is_file() and model_file.is_file():
        return model_file
    try:
        import onnx  # noqa: F401  (torch.onnx.export and the quantiser both need it)
    except ImportError as exc:
        raise ExportFailed("pakken onnx er ikke installeret") from exc
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-", dir=_make_parent(target)))
    try:
        fp32 = onnx_dir(folder, "none") / "model.onnx"
        if quantisation == "none" or not fp32.is_file():
            _say(f"Bygger ONNX-udgave af modellen (én gang, ca. 1 minut): {target}")
            _export_fp32(folder, tmp / "model.onnx")
        if quantisation == "int8":
            _say("Kvantiserer ONNX-modellen til int8 (én gang, ca. 1 minut) …")
            _quantise(fp32 if fp32.is_file() else tmp / "model.onnx", tmp / "model.int8.onnx")
            (tmp / "model.int8.onnx").replace(tmp / "model.onnx")
        (tmp / "done.json").write_text(json.dumps({"source": str(folder.resolve()), "quantisation": quantisation,
                                                   "format": EXPORT_FORMAT}), encoding="utf-8")
        tmp.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        tmp.replace(target)
        _say("ONNX-modellen er klar.")
        return model_file
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _make_parent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent


def _export_fp32(folder: Path, out: Path) -> None:
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ExportFailed(f"torch/transformers mangler ({exc})") from exc

    class LastHidden(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    try:
        # Eager attention exports as the MatMul/Softmax pattern onnxruntime's optimiser fuses into one
        # Attention node; the SDPA export does not fuse (measured on batches: 0.5-0.7x torch unfused, 0.82x fused).
        model = AutoModel.from_pretrained(str(folder), local_files_only=True, attn_implementation="eager").eval()
        ids = torch.ones((2, 16), dtype=torch.long)
        axes = {0: "batch", 1: "tokens"}
        import warnings

        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(LastHidden(model), (ids, torch.ones_like(ids)), str(out),
                              input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                              dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
                              opset_version=17, dynamo=False)
        _fuse(out, int(model.config.num_attention_heads), int(model.config.hidden_size))
    except Exception as exc:  # the exporter raises many types; all mean "no ONNX here"
        raise ExportFailed(f"{type(exc).__name__}: {exc}") from exc


def _fuse(path: Path, heads: int, hidden: int) -> None:
    """Fuse the exported BERT graph in place with onnxruntime's transformer optimiser (CPU, no GPU ops)."""
    from onnxruntime.transformers.optimizer import optimize_model  # type: ignore[import-untyped]

    fused = optimize_model(str(path), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=1,
                           use_gpu=False)
    fused.save_model_to_file(str(path))


def _quantise(src: Path, out: Path) -> None:
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped]
    except ImportError as exc:  # onnxruntime.quantization imports the onnx package
        raise ExportFailed(f"int8 kræver pakken onnx ({exc})") from exc
    import logging

    logging.getLogger().setLevel(logging.ERROR)  # a "consider pre-processing" warning per run
    # The fused nodes come from onnxruntime's own domain, which ONNX shape inference cannot type.
    quantize_dynamic(str(src), str(out), weight_type=QuantType.QUInt8, per_channel=True, reduce_range=False,
                     extra_options={"DefaultTensorType": 1})  # 1 = onnx.TensorProto.FLOAT


def _threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


class OnnxEmbedder:
    """Embedder over the ONNX export of a mean-pooled BERT folder (``index.slim.slim_compatible``)."""

    def __init__(self, folder: Path, name: str, batch_size: int = 32, quantisation: Quantisation = "none",
                 num_threads: int | None = None) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]
        from tokenizers import Tokenizer

        model_file = export_onnx(folder, quantisation)
        self.source = folder
        self.name = name
        self.batch_size = batch_size
        self.engine = "onnx" if quantisation == "none" else "onnx-int8"
        self.quantization = "none" if quantisation == "none" else "int8-dynamic-avx2"
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        st_config = _read_json(folder / "sentence_bert_config.json")
        max_length = int(min(st_config.get("max_seq_length") or 512, config["max_position_embeddings"]))
        self.dimension = int(config["hidden_size"])
        self.pad_id = int(config.get("pad_token_id") or 0)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        prompts = _read_json(folder / "config_sentence_transformers.json").get("prompts")
        self.prefixes: dict[Kind, str] = _choose_prefixes(prompts, name, folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads or _threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Embed ``texts`` as queries or passages into unit-length float32 rows."""
        items = _check_texts(texts)
        out = np.zeros((len(items), self.dimension), np.float32)
        if not items:
            return out
        encodings = self.tokenizer.encode_batch([self.prefixes[kind] + t for t in items])
        # Longest first, like sentence-transformers: batches of similar length pad little.
        order = sorted(range(len(items)), key=lambda i: -len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            length = max(len(encodings[i].ids) for i in rows)
            ids = np.full((len(rows), length), self.pad_id, np.int64)
            mask = np.zeros((len(rows), length), np.int64)
            for r, i in enumerate(rows):
                seq = encodings[i].ids
                ids[r, : len(seq)] = seq
                mask[r, : len(seq)] = 1
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

    def __repr__(self) -> str:
        return f"OnnxEmbedder(name={self.name!r}, engine={self.engine!r}, source='{self.source}')"
