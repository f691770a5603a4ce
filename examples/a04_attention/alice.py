"""alice: correct, in numpy with explicit loops over the heads (full marks)."""
import numpy as np


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention(q, k, v):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    weights = softmax(q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]))
    return weights @ v, weights


def causal_mask(m, n):
    return np.triu(np.ones((m, n), dtype=bool), k=1)


def masked_attention(q, k, v, key_padding_mask=None, causal=False):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if key_padding_mask is not None:
        scores = np.where(np.asarray(key_padding_mask)[:, None, :], -np.inf, scores)
    if causal:
        scores = np.where(causal_mask(*scores.shape[-2:]), -np.inf, scores)
    weights = softmax(scores)
    return weights @ v, weights


def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias):
    query, key, value = np.asarray(query), np.asarray(key), np.asarray(value)
    W_q, W_k, W_v = np.split(np.asarray(in_proj_weight), 3)
    b_q, b_k, b_v = np.split(np.asarray(in_proj_bias), 3)
    Q, K, V = query @ W_q.T + b_q, key @ W_k.T + b_k, value @ W_v.T + b_v
    d = Q.shape[-1] // num_heads
    heads, maps = [], []
    for j in range(num_heads):
        out, w = attention(Q[..., j * d:(j + 1) * d], K[..., j * d:(j + 1) * d], V[..., j * d:(j + 1) * d])
        heads.append(out)
        maps.append(w)
    out = np.concatenate(heads, axis=-1) @ np.asarray(out_proj_weight).T + np.asarray(out_proj_bias)
    return out, np.mean(maps, axis=0)


def plot_attention(ax, weights, query_tokens, key_tokens):
    image = ax.imshow(np.asarray(weights), cmap="Blues")
    ax.set_xticks(np.arange(len(key_tokens)))
    ax.set_xticklabels(key_tokens, rotation=60)
    ax.set_yticks(np.arange(len(query_tokens)))
    ax.set_yticklabels(query_tokens)
    ax.figure.colorbar(image, ax=ax, label="attention weight")


q_scaling = "c"
q_causal = "b"
q_complexity = "d"
q_heads = "a"
