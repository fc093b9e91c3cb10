"""A start-up-light encoder for one-shot commands: the same BERT weights, run with plain torch.

``raadgiver search`` is one question in a fresh process. Importing sentence-transformers (and
with it transformers and scikit-learn) costs ~11 s of that on two cores, loading the model ~3 s;
the forward pass itself takes milliseconds. This module reads a sentence-transformers folder of
the plain shape Transformer(BertModel) → mean Pooling → Normalize, and computes what
sentence-transformers computes (same tokenizer file, same prompts, same ops; tests hold the two
to 1e-5) with only torch, tokenizers and safetensors imported. Any other model shape is left to
``SentenceTransformerEmbedder``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embed import Kind, _check_texts, _choose_prefixes

if TYPE_CHECKING:
    import torch

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


def slim_compatible(folder: Path) -> bool:
    """Whether ``folder`` is a model this encoder reproduces exactly (else use sentence-transformers)."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        types = [m["type"] for m in modules]
        if types not in ([_TRANSFORMER, _POOLING, _NORMALIZE], [_TRANSFORMER, _POOLING]) or modules[0]["path"]:
            return False
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        only_mean = pooling.get("pooling_mode_mean_tokens") and not any(
            v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
        return bool(
            only_mean
            and pooling.get("include_prompt", True)
            and config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and (folder / "tokenizer.json").is_file()
            and (folder / "model.safetensors").is_file()
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return False


class SlimBertEmbedder:
    """Embedder over a BERT sentence-transformers folder without importing sentence-transformers."""

    engine = "slim"
    quantization = "none"

    def __init__(self, folder: Path, name: str, batch_size: int = 32) -> None:
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.source = folder
        self.name = name
        self.batch_size = batch_size
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        st_config = _read_json(folder / "sentence_bert_config.json")
        self.max_length = int(min(st_config.get("max_seq_length") or 512, config["max_position_embeddings"]))
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.layers = int(config["num_hidden_layers"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length)
        self.pad_id = int(config.get("pad_token_id") or 0)
        self.w: dict[str, torch.Tensor] = load_file(str(folder / "model.safetensors"))
        self.dimension = int(config["hidden_size"])
        prompts = _read_json(folder / "config_sentence_transformers.json").get("prompts")
        self.prefixes: dict[Kind, str] = _choose_prefixes(prompts, name, folder)
        self._torch = torch

    def embed(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        """Embed ``texts`` as queries or passages into unit-length float32 rows."""
        items = _check_texts(texts)
        out = np.zeros((len(items), self.dimension), np.float32)
        if not items:
            return out
        encodings = self.tokenizer.encode_batch([self.prefixes[kind] + t for t in items])
        # Longest first, like sentence-transformers: batches of similar length pad little.
        order = sorted(range(len(items)), key=lambda i: -len(encodings[i].ids))
        with self._torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = self._encode([encodings[i].ids for i in rows])
        return out

    def _encode(self, batch: list[list[int]]) -> np.ndarray:
        torch = self._torch
        F = torch.nn.functional
        w = self.w
        length = max(len(ids) for ids in batch)
        ids = torch.full((len(batch), length), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), length), dtype=torch.bool)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = True
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = F.layer_norm(x, x.shape[-1:], w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        attn_mask = mask[:, None, None, :]
        bsz, hidden = x.shape[0], x.shape[-1]
        head_dim = hidden // self.heads
        for n in range(self.layers):
            p = f"encoder.layer.{n}."

            def heads(t: torch.Tensor) -> torch.Tensor:
                return t.view(bsz, length, self.heads, head_dim).transpose(1, 2)

            q = heads(F.linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"]))
            k = heads(F.linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"]))
            v = heads(F.linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"]))
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
            ctx = ctx.transpose(1, 2).reshape(bsz, length, hidden)
            x = F.layer_norm(F.linear(ctx, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"]) + x,
                             (hidden,), w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"],
                             self.eps)
            h = F.gelu(F.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
            x = F.layer_norm(F.linear(h, w[p + "output.dense.weight"], w[p + "output.dense.bias"]) + x,
                             (hidden,), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        m = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
        # Unit-length rows whether or not the folder has a Normalize module, as SentenceTransformerEmbedder.
        pooled = F.normalize(pooled, p=2, dim=1)
        return pooled.numpy().astype(np.float32)

    def __repr__(self) -> str:
        return f"SlimBertEmbedder(name={self.name!r}, dimension={self.dimension}, source='{self.source}')"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
