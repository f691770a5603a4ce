"""Quality-gate data for a04_attention: one wrong solution per named mistake, and other correct styles."""
from tests.mutants import Mutant, Style

MUTANTS = [
    # 1. attention
    Mutant("attention", " / math.sqrt(d_k)", "", "the scores not scaled"),
    Mutant("attention", " / math.sqrt(d_k)", " / d_k", "the scores divided by d_k instead of √d_k"),
    Mutant("attention", "torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=-2)",
           "a softmax over the queries (dim=-2) instead of over the keys (dim=-1)"),
    Mutant("attention", "q @ k.transpose(-2, -1)", "q @ k", "Q K instead of Q Kᵀ (K not transposed)"),
    Mutant("attention", "q @ k.transpose(-2, -1)", "q.transpose(-2, -1) @ k", "Qᵀ K instead of Q Kᵀ"),
    Mutant("attention", "return weights @ v, weights", "return weights @ v, scores",
           "the weights returned before the softmax (the scaled scores)"),
    # 2. masks
    Mutant("causal_mask", "diagonal=1", "diagonal=0", "the diagonal masked too (triu with diagonal=0)"),
    Mutant("causal_mask", "diagonal=1", "diagonal=2", "one future key left visible (triu with diagonal=2)"),
    Mutant("causal_mask", "return torch.ones", "return ~torch.ones", "the mask inverted: True where a query may attend"),
    Mutant("causal_mask", ".triu(diagonal=1)", ".tril(diagonal=-1)",
           "the past masked instead of the future (tril instead of triu)"),
    Mutant("causal_mask", "dtype=torch.bool", "dtype=torch.float64", "return a bool tensor"),
    Mutant("masked_attention",
           '''        scores = scores.masked_fill(key_padding_mask[:, None, :], float("-inf"))  # the same keys for every query
    if causal:
        future = causal_mask(scores.shape[-2], scores.shape[-1]).to(scores.device)
        scores = scores.masked_fill(future, float("-inf"))
    weights = torch.softmax(scores, dim=-1)''',
           '''        pass
    if causal:
        future = causal_mask(scores.shape[-2], scores.shape[-1]).to(scores.device)
        scores = scores.masked_fill(future, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if key_padding_mask is not None:
        weights = weights.masked_fill(key_padding_mask[:, None, :], 0.0)''',
           "the mask applied after the softmax: masked weights set to 0 but the rows not renormalised"),
    Mutant("masked_attention", "masked_fill(key_padding_mask[:, None, :]", "masked_fill(~key_padding_mask[:, None, :]",
           "the padding mask inverted (True kept instead of ignored)"),
    Mutant("masked_attention", 'key_padding_mask[:, None, :], float("-inf")', "key_padding_mask[:, None, :], 0.0",
           "masked scores set to 0 instead of −∞ before the softmax"),
    Mutant("masked_attention", "key_padding_mask[:, None, :]", "key_padding_mask[:, :, None]",
           "the padding mask applied to the queries (rows) instead of the keys (columns)"),
    Mutant("masked_attention", 'key_padding_mask[:, None, :], float("-inf")', "key_padding_mask[:, :, None], -1e9",
           "the padding mask applied to the queries (rows) instead of the keys (columns)"),
    Mutant("masked_attention", "    if causal:", "    if False:", "the causal flag ignored: no causal mask applied"),
    # 3. multi-head attention
    Mutant("multi_head_attention", "x.reshape(B, length, num_heads, d).transpose(1, 2)", "x.reshape(B, num_heads, length, d)",
           "heads split along the wrong axis"),
    Mutant("multi_head_attention", "heads.transpose(1, 2).reshape(B, m, E)", "heads.reshape(B, m, E)",
           "heads concatenated in the wrong order"),
    Mutant("multi_head_attention", "return concat @ out_proj_weight.T + out_proj_bias,", "return concat,",
           "no output projection"),
    Mutant("multi_head_attention", "attention(q_h, k_h, v_h)", "attention(q_h * (d / E) ** 0.5, k_h, v_h)",
           "the scores scaled by √E (the model width) instead of √d (the head width E / h)"),
    Mutant("multi_head_attention", "b_q, b_k, b_v = in_proj_bias.chunk(3)", "b_q = b_k = b_v = 0.0",
           "the in-projection biases left out"),
    Mutant("multi_head_attention", "W_q, W_k, W_v = in_proj_weight.chunk(3)",
           "W_q, W_k, W_v = (w.T for w in in_proj_weight.chunk(3))",
           "the projection weights not transposed (x W instead of x Wᵀ)"),
    Mutant("multi_head_attention", "weights.mean(dim=1)", "weights.sum(dim=1)",
           "the weights summed over the heads instead of averaged"),
    Mutant("multi_head_attention", "weights.mean(dim=1)", "weights[:, 0]",
           "the weights of the first head only instead of the average over the heads"),
    Mutant("multi_head_attention", "weights.mean(dim=1)", "weights", "one map per head"),
    # 4. heatmap
    Mutant("plot_attention", "ax.imshow(np.asarray(weights)", "ax.imshow(np.asarray(weights).T",
           "the weights drawn transposed (keys on the y axis)"),
    Mutant("plot_attention",
           '''    ax.set_xticks(range(len(key_tokens)), labels=key_tokens, rotation=45, ha="right")
    ax.set_yticks(range(len(query_tokens)), labels=query_tokens)''',
           '''    ax.set_xticks(range(len(query_tokens)), labels=query_tokens, rotation=45, ha="right")
    ax.set_yticks(range(len(key_tokens)), labels=key_tokens)''',
           "the query and key tokens swapped between the axes"),
    Mutant("plot_attention", "    ax.figure.colorbar(image, ax=ax)\n", "", "the figure has no colorbar"),
    Mutant("plot_attention", "image = ax.imshow(", "import matplotlib.pyplot as plt\n    plt.figure()\n    image = plt.imshow(",
           "draw on the `ax` you are given"),
    Mutant("plot_attention", '''    ax.set_yticks(range(len(query_tokens)), labels=query_tokens)\n''', "",
           "the y tick labels are"),
]

STYLES = [
    Style("numpy, with its own stable softmax and loops over the heads", {
        "attention": '''
import numpy as np

def attention(q, k, v):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    scores = np.matmul(q, np.swapaxes(k, -1, -2)) / np.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return np.matmul(weights, v), weights
''',
        "causal_mask": '''
def causal_mask(m, n):
    return np.array([[j > i for j in range(n)] for i in range(m)])
''',
        "masked_attention": '''
def masked_attention(q, k, v, key_padding_mask=None, causal=False):
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    scores = q @ np.swapaxes(k, 1, 2) / np.sqrt(q.shape[-1])
    masked = np.zeros(scores.shape, dtype=bool)
    if key_padding_mask is not None:
        masked |= np.asarray(key_padding_mask)[:, None, :]
    if causal:
        masked |= np.asarray(causal_mask(scores.shape[1], scores.shape[2]))
    scores = np.where(masked, -np.inf, scores)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = e / e.sum(axis=-1, keepdims=True)
    return weights @ v, weights
''',
        "multi_head_attention": '''
def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias):
    query, key, value = np.asarray(query), np.asarray(key), np.asarray(value)
    W, b = np.asarray(in_proj_weight), np.asarray(in_proj_bias)
    E = query.shape[-1]
    d = E // num_heads
    Q = query @ W[:E].T + b[:E]
    K = key @ W[E:2 * E].T + b[E:2 * E]
    V = value @ W[2 * E:].T + b[2 * E:]
    outs, maps = [], []
    for j in range(num_heads):
        cols = slice(j * d, (j + 1) * d)
        o, w = attention(Q[..., cols], K[..., cols], V[..., cols])
        outs.append(o)
        maps.append(w)
    concat = np.concatenate(outs, axis=-1)
    out = concat @ np.asarray(out_proj_weight).T + np.asarray(out_proj_bias)
    return out, sum(maps) / num_heads
''',
        "plot_attention": '''
import matplotlib.pyplot as plt

def plot_attention(ax, weights, query_tokens, key_tokens):
    plt.sca(ax)
    image = plt.imshow(np.asarray(weights), cmap="magma", aspect="auto")
    plt.xticks(range(len(key_tokens)), key_tokens, rotation=90)
    plt.yticks(np.arange(len(query_tokens)), query_tokens)
    plt.colorbar(image, ax=ax)
''',
        "concepts": 'q_scaling, q_causal = " C ", "(b)"\nq_complexity = "D"\nq_heads = "a"\n',
    }),
    Style("torch in float32, einsum, F.scaled_dot_product_attention for the masks, matshow", {
        "attention": '''
import torch

def attention(q, k, v):
    q, k, v = q.float(), k.float(), v.float()
    scores = torch.einsum("...md,...nd->...mn", q, k) / q.shape[-1] ** 0.5
    weights = scores.softmax(dim=-1)
    return torch.einsum("...mn,...nd->...md", weights, v), weights
''',
        "causal_mask": '''
def causal_mask(m, n):
    i = torch.arange(m)[:, None]
    j = torch.arange(n)[None, :]
    return j > i
''',
        "masked_attention": '''
import torch.nn.functional as F

def masked_attention(q, k, v, key_padding_mask=None, causal=False):
    B, m, n = q.shape[0], q.shape[1], k.shape[1]
    allowed = torch.ones(B, m, n, dtype=torch.bool)
    if key_padding_mask is not None:
        allowed &= ~key_padding_mask.unsqueeze(1)
    if causal:
        allowed &= ~causal_mask(m, n)
    bias = torch.zeros(B, m, n, dtype=q.dtype).masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(q @ k.mT / q.shape[-1] ** 0.5 + bias, dim=-1)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), weights
''',
        "multi_head_attention": '''
def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias):
    B, m, E = query.shape
    d = E // num_heads
    q, k, v = (torch.nn.functional.linear(x, w, b) for x, w, b in
               zip((query, key, value), in_proj_weight.split(E), in_proj_bias.split(E)))
    q, k, v = (x.unflatten(-1, (num_heads, d)).permute(0, 2, 1, 3) for x in (q, k, v))
    out, weights = attention(q, k, v)
    out = out.permute(0, 2, 1, 3).flatten(2)  # float32 from attention: the output stays float32
    return torch.nn.functional.linear(out, out_proj_weight.float(), out_proj_bias.float()), weights.mean(1)
''',
        "plot_attention": '''
def plot_attention(ax, weights, query_tokens, key_tokens):
    im = ax.matshow(weights.detach().cpu().numpy())
    ax.set_xticks(list(range(len(key_tokens))))
    ax.set_xticklabels(key_tokens)
    ax.set_yticks(list(range(len(query_tokens))))
    ax.set_yticklabels(query_tokens)
    ax.get_figure().colorbar(im)
''',
        "concepts": 'q_scaling = "c"\nq_causal = "b"\nq_complexity = "d"\nq_heads = "A"\n',
    }),
]

# The tasks whose tests use each answer cell (the quality gate grades a mutant on those only).
CELL_TASKS = {
    "attention": ("attention", "masks", "multi_head"), "causal_mask": ("masks",), "masked_attention": ("masks",),
    "multi_head_attention": ("multi_head",), "plot_attention": ("heatmap",),
}
