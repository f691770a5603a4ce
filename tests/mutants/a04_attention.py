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
    # a colour scale that clips the data: every weight below 1 painted in one colour
    Mutant("plot_attention", 'cmap="viridis", vmin=0.0', 'cmap="viridis", vmin=1.0', "drawn in the same colour"),
    Mutant("plot_attention", 'cmap="viridis", vmin=0.0', 'cmap="viridis", vmax=0.05', "drawn in the same colour"),
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

# The attention-plot idiom copied most (the PyTorch seq2seq tutorial's showAttention): matshow, tick labels with a
# leading '' for the tick the locator puts before the first cell, one tick per cell from MultipleLocator(1).
TUTORIAL_HEATMAP = '''
import matplotlib.ticker as ticker

def plot_attention(ax, weights, query_tokens, key_tokens):
    cax = ax.matshow(weights.numpy(), cmap="bone")
    ax.figure.colorbar(cax)
    ax.set_xticklabels([""] + key_tokens, rotation=90)
    ax.set_yticklabels([""] + query_tokens)
    ax.xaxis.set_major_locator(ticker.MultipleLocator(1))
    ax.yaxis.set_major_locator(ticker.MultipleLocator(1))
'''

# d2l's convention: batched matrix products on (B·h, n, d) after folding the heads into the batch, masked scores
# replaced by a large negative number (-1e6) instead of -inf
D2L_CELLS = {
    "attention": '''
import math
import torch

def attention(q, k, v):
    scores = torch.einsum("...md,...nd->...mn", q, k) / math.sqrt(q.shape[-1])
    weights = torch.nn.functional.softmax(scores, dim=-1)
    return torch.einsum("...mn,...nv->...mv", weights, v), weights
''',
    "causal_mask": '''
import torch

def causal_mask(m, n):
    return torch.arange(n)[None, :] > torch.arange(m)[:, None]
''',
    "masked_attention": '''
import math
import torch

def masked_attention(q, k, v, key_padding_mask=None, causal=False):
    scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(q.shape[-1])
    keep = torch.ones_like(scores, dtype=torch.bool)
    if key_padding_mask is not None:
        keep = keep & ~key_padding_mask.unsqueeze(1)
    if causal:
        keep = keep & ~causal_mask(scores.shape[1], scores.shape[2]).to(scores.device)
    scores = torch.where(keep, scores, torch.full_like(scores, -1e6))
    weights = torch.softmax(scores, dim=-1)
    return torch.bmm(weights, v), weights
''',
    "multi_head_attention": '''
import torch

def transpose_qkv(X, num_heads):
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1).permute(0, 2, 1, 3)
    return X.reshape(-1, X.shape[2], X.shape[3])

def transpose_output(X, num_heads):
    X = X.reshape(-1, num_heads, X.shape[1], X.shape[2]).permute(0, 2, 1, 3)
    return X.reshape(X.shape[0], X.shape[1], -1)

def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias):
    E = query.shape[-1]
    q = torch.nn.functional.linear(query, in_proj_weight[:E], in_proj_bias[:E])
    k = torch.nn.functional.linear(key, in_proj_weight[E:2 * E], in_proj_bias[E:2 * E])
    v = torch.nn.functional.linear(value, in_proj_weight[2 * E:], in_proj_bias[2 * E:])
    out, weights = attention(transpose_qkv(q, num_heads), transpose_qkv(k, num_heads), transpose_qkv(v, num_heads))
    out = torch.nn.functional.linear(transpose_output(out, num_heads), out_proj_weight, out_proj_bias)
    return out, weights.reshape(query.shape[0], num_heads, *weights.shape[1:]).mean(dim=1)
''',
    "plot_attention": TUTORIAL_HEATMAP,
}

# numpy with loops over the batch, the heads and the queries; the heatmap with pyplot's object API and fixed limits
NUMPY_LOOPS_CELLS = {
    "attention": '''
import numpy as np

def attention(q, k, v):
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    shifted = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(shifted)
    weights /= weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights
''',
    "causal_mask": '''
import numpy as np

def causal_mask(m, n):
    mask = np.zeros((m, n), dtype=bool)
    for i in range(m):
        for j in range(n):
            mask[i, j] = j > i
    return mask
''',
    "masked_attention": '''
import numpy as np

def masked_attention(q, k, v, key_padding_mask=None, causal=False):
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    B, m, d = q.shape
    n = k.shape[1]
    out, weights = np.zeros((B, m, v.shape[2])), np.zeros((B, m, n))
    for b in range(B):
        for i in range(m):
            allowed = [j for j in range(n) if not (key_padding_mask is not None and bool(key_padding_mask[b, j]))
                       and not (causal and j > i)]
            s = np.array([q[b, i] @ k[b, j] for j in allowed]) / np.sqrt(d)
            e = np.exp(s - s.max())
            weights[b, i, allowed] = e / e.sum()
            out[b, i] = weights[b, i] @ v[b]
    return out, weights
''',
    "multi_head_attention": '''
import numpy as np

def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias):
    query, key, value = (np.asarray(a, dtype=np.float64) for a in (query, key, value))
    W, b = np.asarray(in_proj_weight), np.asarray(in_proj_bias)
    E = query.shape[-1]
    d = E // num_heads
    Q, K, V = query @ W[:E].T + b[:E], key @ W[E:2 * E].T + b[E:2 * E], value @ W[2 * E:].T + b[2 * E:]
    heads, maps = [], []
    for h in range(num_heads):
        cols = slice(h * d, (h + 1) * d)
        out_h, w_h = attention(Q[..., cols], K[..., cols], V[..., cols])
        heads.append(out_h)
        maps.append(w_h)
    concat = np.concatenate(heads, axis=-1)
    return concat @ np.asarray(out_proj_weight).T + np.asarray(out_proj_bias), np.mean(maps, axis=0)
''',
    "plot_attention": '''
import numpy as np

def plot_attention(ax, weights, query_tokens, key_tokens):
    im = ax.imshow(np.asarray(weights), cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks(np.arange(len(key_tokens)))
    ax.set_yticks(np.arange(len(query_tokens)))
    ax.set_xticklabels(key_tokens)
    ax.set_yticklabels(query_tokens)
    ax.tick_params(axis="x", labelrotation=60)
    cbar = ax.figure.colorbar(im, ax=ax, shrink=0.8)
    cbar.set_label("attention weight")
''',
}

# float32 throughout: softmax by hand, heads split with unflatten and combined with einsum; the heatmap with
# annotated cells and ticks from a FixedLocator/FixedFormatter pair
FLOAT32_CELLS = {
    "attention": '''
import torch

def attention(q, k, v):
    q, k, v = q.float(), k.float(), v.float()
    scores = (q * q.shape[-1] ** -0.5) @ k.mT
    e = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    weights = e / e.sum(dim=-1, keepdim=True)
    return weights @ v, weights
''',
    "masked_attention": '''
import torch

def masked_attention(q, k, v, key_padding_mask=None, causal=False):
    q, k, v = q.float(), k.float(), v.float()
    scores = q @ k.mT / q.shape[-1] ** 0.5
    mask = torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)
    if key_padding_mask is not None:
        mask |= key_padding_mask.bool()[:, None, :]
    if causal:
        mask |= torch.triu(torch.ones(scores.shape[-2:], dtype=torch.bool, device=scores.device), 1)
    weights = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
    return weights @ v, weights
''',
    "multi_head_attention": '''
import torch

def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias):
    W_q, W_k, W_v = in_proj_weight.float().chunk(3, dim=0)
    b_q, b_k, b_v = in_proj_bias.float().chunk(3)
    heads = lambda x: x.unflatten(-1, (num_heads, -1)).transpose(1, 2)  # (B, h, L, d)
    q, k, v = heads(query.float() @ W_q.T + b_q), heads(key.float() @ W_k.T + b_k), heads(value.float() @ W_v.T + b_v)
    weights = torch.softmax(torch.einsum("bhmd,bhnd->bhmn", q, k) / q.shape[-1] ** 0.5, dim=-1)
    out = torch.einsum("bhmn,bhnd->bmhd", weights, v).flatten(2)
    return out @ out_proj_weight.float().T + out_proj_bias.float(), weights.mean(dim=1)
''',
    "plot_attention": '''
import matplotlib.ticker as mticker
import numpy as np

def plot_attention(ax, weights, query_tokens, key_tokens):
    w = np.asarray(weights, dtype=np.float32)
    im = ax.imshow(w, cmap="Reds", aspect="equal", origin="upper")
    ax.xaxis.set_major_locator(mticker.FixedLocator(range(len(key_tokens))))
    ax.xaxis.set_major_formatter(mticker.FixedFormatter(key_tokens))
    ax.yaxis.set_major_locator(mticker.FixedLocator(range(len(query_tokens))))
    ax.yaxis.set_major_formatter(mticker.FixedFormatter(query_tokens))
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            ax.text(j, i, f"{w[i, j]:.2f}", ha="center", va="center", fontsize=6)
    ax.figure.colorbar(im, ax=ax)
''',
}

STYLES += [
    Style("d2l's batched matrix products and -1e6 masking, the PyTorch tutorial's matshow heatmap", D2L_CELLS),
    Style("numpy with loops over the batch, heads and queries, fixed colour limits", NUMPY_LOOPS_CELLS),
    Style("float32 with heads by unflatten and einsum, an annotated heatmap with fixed tick locators", FLOAT32_CELLS),
]

# The tasks whose tests use each answer cell (the quality gate grades a mutant on those only).
CELL_TASKS = {
    "attention": ("attention", "masks", "multi_head"), "causal_mask": ("masks",), "masked_attention": ("masks",),
    "multi_head_attention": ("multi_head",), "plot_attention": ("heatmap",),
}
