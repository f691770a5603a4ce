"""Attention (lecture: Deep Learning 2, "Self-attention mechanism", "Multi-head attention").

    Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V,   Q ∈ R^{m×d_k}, K ∈ R^{n×d_k}, V ∈ R^{n×d_v}

Masks are boolean with True meaning "ignore this key", PyTorch's key_padding_mask convention (the opposite of
F.scaled_dot_product_attention's boolean attn_mask, where True means "may attend").
"""
from __future__ import annotations

import math

import torch

Tensor = torch.Tensor


def causal_mask(m: int, n: int, device: torch.device | None = None) -> Tensor:
    """(m, n) bool mask, True where j > i: query i may attend to keys 0..i only (aligned at the top left, as
    PyTorch's is_causal does when m ≠ n).

    Inputs: m queries, n keys, the device of the mask.
    Returns: (m, n) bool.
    """
    return torch.ones(m, n, dtype=torch.bool, device=device).triu(diagonal=1)


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, key_padding_mask: Tensor | None = None,
                                 causal: bool = False) -> tuple[Tensor, Tensor]:
    """softmax(Q Kᵀ / √d_k) V with optional padding and causal masks.

    Dividing by √d_k keeps the scores' variance near 1 whatever d_k is, so the softmax does not saturate.
    Masked scores become −∞ before a max-shifted softmax, so masked keys get weight exactly 0.
    A query whose keys are all masked gets all-zero weights and a zero output: a plain softmax of a row of −∞ is
    0/0 = NaN (nn.MultiheadAttention returns NaN there), and a NaN would spread into every later layer and loss.

    Inputs: q (B, ..., m, d_k), k (B, ..., n, d_k), v (B, ..., n, d_v);
            key_padding_mask (B, n) bool, True = padding key to ignore, or None; causal masks keys j > i.
    Returns: out (B, ..., m, d_v), weights (B, ..., m, n).
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, ..., m, n)
    masked = torch.zeros_like(scores, dtype=torch.bool)
    if key_padding_mask is not None:
        # (B, n) -> (B, 1, ..., 1, n): the same keys are padding for every head and every query
        view = key_padding_mask.shape[:1] + (1,) * (scores.dim() - 2) + key_padding_mask.shape[1:]
        masked = masked | key_padding_mask.view(view)
    if causal:
        masked = masked | causal_mask(scores.shape[-2], scores.shape[-1], scores.device)
    scores = scores.masked_fill(masked, float("-inf"))
    top = scores.amax(dim=-1, keepdim=True)  # (B, ..., m, 1)
    top = torch.where(torch.isfinite(top), top, torch.zeros_like(top))  # −∞ − (−∞) would be NaN
    e = torch.exp(scores - top)  # exp(−∞) = 0 for masked keys
    total = e.sum(dim=-1, keepdim=True)  # ≥ 1 unless every key of the row is masked
    weights = e / torch.where(total > 0, total, torch.ones_like(total))
    return weights @ v, weights


def multi_head_attention(query: Tensor, key: Tensor, value: Tensor, num_heads: int, in_proj_weight: Tensor,
                         in_proj_bias: Tensor, out_proj_weight: Tensor, out_proj_bias: Tensor,
                         key_padding_mask: Tensor | None = None, causal: bool = False) -> tuple[Tensor, Tensor]:
    """Multi-head attention as nn.MultiheadAttention(E, num_heads, batch_first=True) computes it (no dropout):

        head_j = Attention(Q W_qʲᵀ + b_qʲ, K W_kʲᵀ + b_kʲ, V W_vʲᵀ + b_vʲ),   j = 1..h, each of width d = E / h
        out = concat(head_1, ..., head_h) W_oᵀ + b_o

    Each head attends with its own d-wide slice of the projections; the heads are concatenated and projected again.

    Inputs: query (B, m, E), key and value (B, n, E), num_heads h dividing E; in_proj_weight (3E, E) stacking W_q, W_k,
            W_v; in_proj_bias (3E,); out_proj_weight (E, E); out_proj_bias (E,); key_padding_mask (B, n) bool or None
            (True = padding); causal masks keys j > i.
    Returns: out (B, m, E), attention weights averaged over the heads (B, m, n).
    """
    B, m, E = query.shape
    if E % num_heads != 0:
        raise ValueError(f"embed_dim {E} must be divisible by num_heads {num_heads}")
    n, d = key.shape[1], E // num_heads
    w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q, b_k, b_v = in_proj_bias.chunk(3)

    def heads(x: Tensor, w: Tensor, b: Tensor, length: int) -> Tensor:
        return (x @ w.T + b).view(B, length, num_heads, d).transpose(1, 2)  # (B, h, length, d)

    out, weights = scaled_dot_product_attention(
        heads(query, w_q, b_q, m), heads(key, w_k, b_k, n), heads(value, w_v, b_v, n), key_padding_mask, causal
    )  # (B, h, m, d), (B, h, m, n)
    out = out.transpose(1, 2).reshape(B, m, E)  # concatenate the heads
    return out @ out_proj_weight.T + out_proj_bias, weights.mean(dim=1)
