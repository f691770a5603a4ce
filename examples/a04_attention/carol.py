"""carol: partly done: attention and the causal mask are right, the padding mask is inverted, multi-head attention
and the heatmap are not written yet, one question answered."""
import math

import torch


def attention(q, k, v):
    scores = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


def causal_mask(m, n):
    return torch.triu(torch.ones(m, n), diagonal=1).bool()


def masked_attention(q, k, v, key_padding_mask=None, causal=False):
    scores = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])
    if key_padding_mask is not None:
        scores = scores.masked_fill(~key_padding_mask[:, None, :], float("-inf"))  # True = keep? no: True = padding
    if causal:
        scores = scores.masked_fill(causal_mask(scores.shape[1], scores.shape[2]), float("-inf"))
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias):
    raise NotImplementedError()


def plot_attention(ax, weights, query_tokens, key_tokens):
    raise NotImplementedError()


q_causal = "b"
