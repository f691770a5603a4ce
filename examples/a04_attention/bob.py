"""bob: classic mistakes, each named in the feedback: no 1/√d_k, the padding mask applied after the softmax, the
causal mask's diagonal masked, no output projection, a transposed heatmap without a colorbar, two wrong answers."""
import torch


def attention(q, k, v):
    weights = torch.softmax(q @ k.transpose(-2, -1), dim=-1)  # forgot / sqrt(d_k)
    return weights @ v, weights


def causal_mask(m, n):
    return torch.ones(m, n, dtype=torch.bool).triu()  # diagonal=0: a token cannot see itself


def masked_attention(q, k, v, key_padding_mask=None, causal=False):
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if causal:
        scores = scores.masked_fill(causal_mask(q.shape[1], k.shape[1]), float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if key_padding_mask is not None:
        weights = weights.masked_fill(key_padding_mask[:, None, :], 0.0)  # zeroed after the softmax
    return weights @ v, weights


def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias):
    B, m, E = query.shape
    d = E // num_heads
    W_q, W_k, W_v = in_proj_weight.chunk(3)
    b_q, b_k, b_v = in_proj_bias.chunk(3)
    split = lambda x: x.reshape(B, x.shape[1], num_heads, d).transpose(1, 2)
    q, k, v = split(query @ W_q.T + b_q), split(key @ W_k.T + b_k), split(value @ W_v.T + b_v)
    w = torch.softmax(q @ k.transpose(-2, -1) / d ** 0.5, dim=-1)
    out = (w @ v).transpose(1, 2).reshape(B, m, E)
    return out, w.mean(dim=1)  # no output projection


def plot_attention(ax, weights, query_tokens, key_tokens):
    ax.imshow(weights.T)  # transposed, and no colorbar
    ax.set_xticks(range(len(key_tokens)), labels=key_tokens)
    ax.set_yticks(range(len(query_tokens)), labels=query_tokens)


q_scaling = "a"   # the softmax already normalises the rows
q_causal = "b"
q_complexity = "a"
q_heads = "a"
