"""Grader for a04_attention: scaled dot-product attention, causal and padding masks, multi-head attention as
nn.MultiheadAttention computes it, an attention heatmap, and concept questions (lecture: Deep Learning 2,
"Self-attention mechanism", "Multi-head attention").

Inputs are drawn here from the seeded `rng`; expected values come from reference.attention and from
torch.nn.MultiheadAttention in float64; known-wrong variants are computed from the same inputs and named in the
feedback. The heatmap runs in the sandbox through a harness that returns only plain data (the image array, the tick
labels and positions, the number of axes).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grader.compare import Mismatch, Mistake, assert_choice, assert_close, matches
from reference import attention as ref

SUBMISSION_NAMES = ("attention", "causal_mask", "masked_attention", "multi_head_attention", "plot_attention",
                    "q_scaling", "q_causal", "q_complexity", "q_heads")

NEG_INF = float("-inf")

# What a NaN or infinity in the weights most likely means here (assert_close's own message names no cause).
SOFTMAX_NAN_HINT = ("the weights are a softmax of the scores: if you wrote that softmax yourself, subtract each row's "
                    "maximum before exp (or use torch.softmax)")


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(a)


def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.normal(size=shape)


def pair(got, name: str) -> tuple:
    """The student's (output, weights), or a Mismatch that says what came back instead."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        what = f"a {type(got).__name__}" + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        raise Mismatch(f"`{name}` should return a pair `(output, weights)`, but it returned {what}")
    return got[0], got[1]


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    return torch.softmax(x, dim=dim)


def scores_of(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])


def right_padding(rng: np.random.Generator, batch: int, n: int, low: int, high: int) -> np.ndarray:
    """(batch, n) bool, True = padding: each sequence has a length in [low, high] and padding after it."""
    lengths = rng.integers(low, high + 1, size=batch)
    return np.arange(n)[None, :] >= lengths[:, None]


def same_nan_pattern(actual, variant: torch.Tensor) -> bool:
    """True when `actual` is NaN exactly where `variant` is NaN and close to it elsewhere."""
    a = np.asarray(actual, dtype=np.float64) if isinstance(actual, np.ndarray) else None
    v = variant.numpy()
    if a is None or a.shape != v.shape:
        return False
    nan = np.isnan(v)
    return bool(nan.any()) and bool((np.isnan(a) == nan).all()) and matches(np.where(nan, 0.0, a), np.where(nan, 0.0, v))


# ============================================================================================= 1. attention
def attention_mistakes(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[list[Mistake], list[Mistake]]:
    """Known-wrong variants of (output, weights) that have the right shape for these inputs."""
    d = q.shape[-1]
    m, n = q.shape[-2], k.shape[-2]
    raw = q @ k.transpose(-2, -1)
    variants = {
        "the scores not scaled: softmax(Q Kᵀ) without the 1/√d_k": softmax(raw),
        "the scores divided by d_k instead of √d_k": softmax(raw / d),
        "a softmax over the queries (dim=-2) instead of over the keys (dim=-1)": softmax(raw / math.sqrt(d), dim=-2),
    }
    hint_axis = {"a softmax over the queries (dim=-2) instead of over the keys (dim=-1)":
                 "Each query's weights over the keys must sum to 1: softmax along the last axis."}
    if d == n:  # only then does the product without the transpose have a shape at all
        variants["Q K instead of Q Kᵀ (K not transposed)"] = softmax(q @ k / math.sqrt(d))
    if m == n == d:
        variants["Qᵀ K instead of Q Kᵀ"] = softmax(q.transpose(-2, -1) @ k / math.sqrt(d))
    out_m = [Mistake(name, w @ v, hint_axis.get(name, "")) for name, w in variants.items()]
    w_m = [Mistake(name, w, hint_axis.get(name, "")) for name, w in variants.items()]
    before = raw / math.sqrt(d)
    w_m.append(Mistake("the weights returned before the softmax (the scaled scores)", before,
                       "Return softmax(scores), the weights that multiply V."))
    out_m.append(Mistake("the weights returned before the softmax (the scaled scores)", before @ v))
    return out_m, w_m


def check_attention(got, q, k, v, fn: str) -> None:
    out, weights = pair(got, fn)
    expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v)
    out_m, w_m = attention_mistakes(q, k, v)
    assert_close(actual=out, expected=expected_out, name=f"{fn}(q, k, v)[0] (the output)", mistakes=out_m,
                 nan_hint=SOFTMAX_NAN_HINT)
    assert_close(actual=weights, expected=expected_w, name=f"{fn}(q, k, v)[1] (the weights)", mistakes=w_m,
                 nan_hint=SOFTMAX_NAN_HINT)


@pytest.mark.task("attention")
@pytest.mark.points(2)
def test_attention_on_a_batch_of_self_attention_inputs(submission, rng):
    """attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V and its weights, batch of 2, m = n = d_k = 4"""
    q, k, v = (t(normal(rng, 2, 4, 4)), t(normal(rng, 2, 4, 4)), t(normal(rng, 2, 4, 3)))
    check_attention(submission.call("attention", q.numpy(), k.numpy(), v.numpy()), q, k, v, "attention")


@pytest.mark.task("attention")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_attention_with_more_keys_than_queries(submission, rng):
    """cross-attention shapes: m = 3 queries, n = 5 keys, d_k = 6, d_v = 2 (output (B, m, d_v), weights (B, m, n))"""
    q, k, v = (t(normal(rng, 3, 3, 6)), t(normal(rng, 3, 5, 6)), t(normal(rng, 3, 5, 2)))
    check_attention(submission.call("attention", q.numpy(), k.numpy(), v.numpy()), q, k, v, "attention")


@pytest.mark.task("attention")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_attention_with_extra_leading_axes(submission, rng):
    """attention works with any leading axes, e.g. (batch, heads, m, d_k) as multi-head attention needs"""
    q, k, v = (t(normal(rng, 2, 3, 4, 5)), t(normal(rng, 2, 3, 6, 5)), t(normal(rng, 2, 3, 6, 3)))
    check_attention(submission.call("attention", q.numpy(), k.numpy(), v.numpy()), q, k, v, "attention")


# ============================================================================================= 2. masks
def causal_mistakes(m: int, n: int) -> list[Mistake]:
    ones = torch.ones(m, n, dtype=torch.bool)
    return [
        Mistake("the diagonal masked too (triu with diagonal=0)", ones.triu(diagonal=0),
                "A query may attend to itself: mask only the keys j > i (torch.triu(..., diagonal=1))."),
        Mistake("one future key left visible (triu with diagonal=2)", ones.triu(diagonal=2),
                "Query i may see keys 0..i only: use diagonal=1."),
        Mistake("the mask inverted: True where a query may attend", ~ones.triu(diagonal=1),
                "In this notebook True means ignore (as nn.MultiheadAttention's masks): True for the future keys j > i."),
        Mistake("the past masked instead of the future (tril instead of triu)", ones.tril(diagonal=-1),
                "Row i is query i, column j is key j: the future is above the diagonal (j > i)."),
    ]


def check_causal_mask(submission, m: int, n: int) -> None:
    got = submission.call("causal_mask", m, n)
    if isinstance(got, np.ndarray) and got.shape == (m, n) and got.dtype != np.bool_:
        raise Mismatch(f"`causal_mask({m}, {n})` has dtype {got.dtype}: return a bool tensor (True = masked), "
                       "for example with dtype=torch.bool")
    assert_close(actual=got, expected=ref.causal_mask(m, n), name=f"causal_mask({m}, {n})",
                 mistakes=causal_mistakes(m, n))


@pytest.mark.task("masks")
@pytest.mark.points(1)
def test_causal_mask_square(submission, rng):
    """causal_mask(m, m): True exactly where key j is in the future of query i (j > i)"""
    m = int(rng.integers(4, 7))
    check_causal_mask(submission, m, m)


@pytest.mark.task("masks")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_causal_mask_rectangular(submission, rng):
    """causal_mask(m, n) with m ≠ n, aligned at the top left: True where j > i"""
    m = int(rng.integers(2, 4))
    check_causal_mask(submission, m, m + 3)
    check_causal_mask(submission, m + 3, m)


def masked_variants(q, k, v, mask: torch.Tensor | None, causal: bool) -> dict[str, torch.Tensor]:
    """Wrong weights for the given masks: each as a student would compute them."""
    s = scores_of(q, k)
    m, n = s.shape[-2], s.shape[-1]
    full = torch.zeros_like(s, dtype=torch.bool)
    if mask is not None:
        full = full | mask[:, None, :]
    if causal:
        full = full | ref.causal_mask(m, n)
    causal_part = ref.causal_mask(m, n) if causal else torch.zeros(m, n, dtype=torch.bool)
    padding_part = mask[:, None, :] if mask is not None else torch.zeros(m, n, dtype=torch.bool)
    variants = {}
    if mask is not None:
        variants["the mask applied after the softmax: masked weights set to 0 but the rows not renormalised"] = (
            softmax(s.masked_fill(causal_part, NEG_INF)).masked_fill(full, 0.0))
        variants["the padding mask inverted (True kept instead of ignored)"] = softmax(
            s.masked_fill(~padding_part | causal_part, NEG_INF))
        variants["masked scores set to 0 instead of −∞ before the softmax"] = softmax(s.masked_fill(full, 0.0))
        if m == n and not causal:
            variants["the padding mask applied to the queries (rows) instead of the keys (columns)"] = softmax(
                s.masked_fill(mask[:, :, None], -1e9))
    if causal:
        variants["the causal flag ignored: no causal mask applied"] = softmax(s.masked_fill(padding_part, NEG_INF))
        future = torch.ones(m, n, dtype=torch.bool).triu(diagonal=2)
        variants["one future key left visible (triu with diagonal=2)"] = softmax(s.masked_fill(future | padding_part, NEG_INF))
    return {k_: w for k_, w in variants.items() if w is not None and torch.isfinite(w).all()}


def check_masked(got, q, k, v, mask: torch.Tensor | None, causal: bool) -> None:
    out, weights = pair(got, "masked_attention")
    expected_out, expected_w = ref.scaled_dot_product_attention(q, k, v, mask, causal)
    if mask is not None and not causal and q.shape[-2] == k.shape[-2]:
        on_queries = softmax(scores_of(q, k).masked_fill(mask[:, :, None], NEG_INF))  # NaN rows for padded queries
        if same_nan_pattern(weights, on_queries):
            raise Mismatch("`masked_attention(...)[1] (the weights)` is wrong: it looks like the padding mask applied to "
                           "the queries (rows) instead of the keys (columns); the padded queries' rows became NaN. "
                           "The mask (B, n) marks keys: broadcast it as key_padding_mask[:, None, :].")
    if isinstance(weights, np.ndarray) and weights.shape == tuple(expected_w.shape) and np.isnan(weights).any():
        rows = sorted({int(i) for i in np.argwhere(np.isnan(weights).any(axis=-1))[:, 1]})
        raise Mismatch(f"`masked_attention(...)[1] (the weights)` has NaN in the rows of queries {rows[:8]}: a softmax over a "
                       "row whose scores are all −∞ is 0/0. No query of this test has all its keys masked, so a mask "
                       "covers too much: the causal mask must keep the diagonal (query i sees keys 0..i), and the "
                       "padding mask marks keys (columns) with True = padding.")
    variants = masked_variants(q, k, v, mask, causal)
    hint = {"the mask applied after the softmax: masked weights set to 0 but the rows not renormalised":
            "Set masked scores to −∞ before the softmax, so the remaining weights still sum to 1."}
    assert_close(actual=weights, expected=expected_w, name="masked_attention(...)[1] (the weights)",
                 mistakes=[Mistake(name, w, hint.get(name, "")) for name, w in variants.items()])
    assert_close(actual=out, expected=expected_out, name="masked_attention(...)[0] (the output)",
                 mistakes=[Mistake(name, w @ v) for name, w in variants.items()])


@pytest.mark.task("masks")
@pytest.mark.points(1)
def test_padding_mask_ignores_padded_keys(submission, rng):
    """key_padding_mask (True = padding key): padded keys get weight exactly 0, the other weights still sum to 1"""
    B, n = 3, 5
    q, k, v = t(normal(rng, B, n, 4)), t(normal(rng, B, n, 4)), t(normal(rng, B, n, 3))
    mask = t(right_padding(rng, B, n, 2, 4))
    got = submission.call("masked_attention", q.numpy(), k.numpy(), v.numpy(), key_padding_mask=mask.numpy())
    check_masked(got, q, k, v, mask, False)


@pytest.mark.task("masks")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_causal_attention_sees_only_the_past(submission, rng):
    """causal=True: query i attends to keys 0..i only (self-attention of 6 tokens)"""
    q, k, v = t(normal(rng, 2, 6, 4)), t(normal(rng, 2, 6, 4)), t(normal(rng, 2, 6, 2))
    got = submission.call("masked_attention", q.numpy(), k.numpy(), v.numpy(), causal=True)
    check_masked(got, q, k, v, None, True)


@pytest.mark.task("masks")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_padding_and_causal_masks_together(submission, rng):
    """padding and causal masks combined, and padding in cross-attention (m ≠ n)"""
    B, n = 3, 6
    q, k, v = t(normal(rng, B, n, 3)), t(normal(rng, B, n, 3)), t(normal(rng, B, n, 4))
    mask = t(right_padding(rng, B, n, 2, 5))  # right padding: query 0 always keeps key 0
    got = submission.call("masked_attention", q.numpy(), k.numpy(), v.numpy(), key_padding_mask=mask.numpy(), causal=True)
    check_masked(got, q, k, v, mask, True)
    q2 = t(normal(rng, B, 3, 3))
    got = submission.call("masked_attention", q2.numpy(), k.numpy(), v.numpy(), key_padding_mask=mask.numpy())
    check_masked(got, q2, k, v, mask, False)


# ============================================================================================= 3. multi-head
def random_module(rng: np.random.Generator, E: int, heads: int) -> torch.nn.MultiheadAttention:
    """nn.MultiheadAttention(E, heads, batch_first=True) in float64 with random weights and biases from `rng`."""
    mha = torch.nn.MultiheadAttention(E, heads, batch_first=True, dtype=torch.float64).eval()
    with torch.no_grad():
        for p in mha.parameters():
            p.copy_(t(rng.normal(0.0, 0.5, size=tuple(p.shape))))
    return mha


def mha_variant(query, key, value, h, Wi, bi, Wo, bo, *, split=True, merge=True, out_proj=True, head_scale=True,
                in_bias=True, transpose_w=True):
    """Multi-head attention with one part done wrongly: (output, head-averaged weights, per-head weights)."""
    B, m, E = query.shape
    n, d = key.shape[1], E // h
    ws = Wi.chunk(3)
    bs = bi.chunk(3) if in_bias else (0.0, 0.0, 0.0)

    def heads(x, w, b, length):
        y = x @ (w.T if transpose_w else w) + b
        return y.view(B, length, h, d).transpose(1, 2) if split else y.reshape(B, h, length, d)

    Q, K, V = heads(query, ws[0], bs[0], m), heads(key, ws[1], bs[1], n), heads(value, ws[2], bs[2], n)
    w = softmax(Q @ K.transpose(-2, -1) / math.sqrt(d if head_scale else E))
    o = w @ V
    o = o.transpose(1, 2).reshape(B, m, E) if merge else o.reshape(B, m, E)
    return (o @ Wo.T + bo if out_proj else o), w.mean(dim=1), w


MHA_OUT_MISTAKES = {
    "heads split along the wrong axis (reshape to (B, h, m, d) instead of (B, m, h, d) then transpose)": {"split": False},
    "heads concatenated in the wrong order (reshape (B, h, m, d) to (B, m, E) without transposing back)": {"merge": False},
    "no output projection (concat(head_1..head_h) returned without W_o, b_o)": {"out_proj": False},
    "the scores scaled by √E (the model width) instead of √d (the head width E / h)": {"head_scale": False},
    "the in-projection biases left out": {"in_bias": False},
    "the projection weights not transposed (x W instead of x Wᵀ)": {"transpose_w": False},
}


def check_mha(submission, rng, B: int, m: int, n: int, E: int, heads: int, self_attention: bool) -> None:
    mha = random_module(rng, E, heads)
    query = t(normal(rng, B, m, E))
    key, value = (query, query) if self_attention else (t(normal(rng, B, n, E)), t(normal(rng, B, n, E)))
    with torch.no_grad():
        expected, expected_w = mha(query, key, value, need_weights=True, average_attn_weights=True)
    params = [mha.in_proj_weight.detach(), mha.in_proj_bias.detach(), mha.out_proj.weight.detach(), mha.out_proj.bias.detach()]
    got = submission.call("multi_head_attention", query.numpy(), key.numpy(), value.numpy(), heads,
                          *[p.numpy() for p in params])
    out, weights = pair(got, "multi_head_attention")
    args = (query, key, value, heads, *params)
    assert_close(actual=out, expected=expected, name="multi_head_attention(...)[0] (the output)",
                 mistakes=[Mistake(name, mha_variant(*args, **kw)[0]) for name, kw in MHA_OUT_MISTAKES.items()])
    per_head = mha_variant(*args)[2]  # (B, h, m, n)
    if isinstance(weights, np.ndarray) and weights.shape == tuple(per_head.shape) and heads > 1:
        raise Mismatch(f"`multi_head_attention(...)[1] (the weights)` has shape {weights.shape}, one map per head: "
                       f"return their average over the heads, shape {tuple(expected_w.shape)} (as nn.MultiheadAttention "
                       "does with average_attn_weights=True)")
    assert_close(actual=weights, expected=expected_w, name="multi_head_attention(...)[1] (the weights averaged over heads)",
                 mistakes=[Mistake("the weights summed over the heads instead of averaged", per_head.sum(dim=1)),
                           Mistake("the weights of the first head only instead of the average over the heads", per_head[:, 0])]
                 + [Mistake(name, mha_variant(*args, **kw)[1]) for name, kw in MHA_OUT_MISTAKES.items()
                    if not {"merge", "out_proj"} & set(kw)])  # those two leave the weights right


@pytest.mark.task("multi_head")
@pytest.mark.points(2)
def test_multi_head_self_attention_matches_nn_multiheadattention(submission, rng):
    """self-attention, E = 8, h = 2 heads: output and head-averaged weights equal nn.MultiheadAttention's (float64)"""
    check_mha(submission, rng, B=2, m=5, n=5, E=8, heads=2, self_attention=True)


@pytest.mark.task("multi_head")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_multi_head_cross_attention_matches_nn_multiheadattention(submission, rng):
    """cross-attention: 3 queries, 6 keys and values, E = 12, h = 3 heads, against nn.MultiheadAttention"""
    check_mha(submission, rng, B=2, m=3, n=6, E=12, heads=3, self_attention=False)


@pytest.mark.task("multi_head")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_multi_head_attention_with_narrow_heads(submission, rng):
    """h = 4 heads of width 2 (E = 8), and h = 1 (a single head of width E), against nn.MultiheadAttention"""
    check_mha(submission, rng, B=3, m=4, n=4, E=8, heads=4, self_attention=True)
    check_mha(submission, rng, B=1, m=4, n=5, E=6, heads=1, self_attention=False)


# ============================================================================================= 4. the heatmap
def plot_harness(student, weights, query_tokens, key_tokens):
    """Runs in the sandbox: draw with the student's plot_attention on a fresh Agg figure, return plain data."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    if hasattr(weights, "cpu"):  # a tensor on the grading device: imshow needs it in host memory
        weights = weights.cpu()
    plt.close("all")
    fig, ax = plt.subplots()
    student.plot_attention(ax, weights, list(query_tokens), list(key_tokens))
    fig.canvas.draw()
    images = list(ax.images)

    def drawn_ticks(positions, labels, limits):
        # a locator returns ticks beyond the view limits too (MultipleLocator one on each side); those are never
        # drawn, so only the ticks inside the view are what the reader sees
        low, high = min(limits), max(limits)
        kept = [(float(p), str(label.get_text())) for p, label in zip(positions, labels)
                if low - 1e-9 <= float(p) <= high + 1e-9]
        return [p for p, _ in kept], [label for _, label in kept]

    xticks, xlabels = drawn_ticks(ax.get_xticks(), ax.get_xticklabels(), ax.get_xlim())
    yticks, ylabels = drawn_ticks(ax.get_yticks(), ax.get_yticklabels(), ax.get_ylim())
    data = np.array(np.ma.getdata(images[0].get_array()), dtype=np.float64) if images else None
    result = {
        "image": data,
        # the colours each cell is painted with, through the image's own norm and colour map
        "colours": np.array(images[0].to_rgba(images[0].get_array())[..., :3], dtype=np.float64) if images else None,
        "clim": [float(c) for c in images[0].get_clim()] if images else None,
        "n_images": len(images),
        "xticks": xticks,
        "yticks": yticks,
        "xlabels": xlabels,
        "ylabels": ylabels,
        "n_axes": len(fig.axes),
        "other_images": sum(len(a.images) for num in plt.get_fignums() for a in plt.figure(num).axes if a is not ax),
    }
    plt.close("all")
    return result


ENGLISH = ["the", "cat", "sat", "on", "mat", "dog", "ran", "home", "a", "bird", "sang", "today", "it", "was", "tired"]
FRENCH = ["le", "chat", "est", "assis", "sur", "tapis", "chien", "court", "maison", "un", "oiseau", "chante", "il", "fatigué"]


def drawing(submission, weights: np.ndarray, query_tokens: list[str], key_tokens: list[str]) -> dict:
    result = submission.run(plot_harness, weights, query_tokens, key_tokens)
    if not isinstance(result, dict):
        raise Mismatch("the plot could not be read back")
    if result["n_images"] == 0:
        where = (" (there is an image on another Axes: draw on the `ax` you are given, not with plt.imshow on a new figure)"
                 if result["other_images"] else "")
        raise Mismatch(f"there is no image on the Axes you were given: draw the weights with ax.imshow(weights){where}")
    return result


def check_image(result: dict, weights: np.ndarray) -> None:
    image = result["image"]
    m, n = weights.shape
    if isinstance(image, np.ndarray) and image.shape == (n, m) and m != n:
        raise Mismatch(f"the image has shape {image.shape}, expected {weights.shape}: it looks like the weights drawn "
                       "transposed (keys on the y axis). Draw `weights` as it is: row i = query i, column j = key j.")
    assert_close(actual=image, expected=weights, name="the image drawn by imshow",
                 mistakes=[Mistake("the weights drawn transposed (keys on the y axis)", weights.T,
                                   "Draw `weights` as it is: row i = query i (y axis), column j = key j (x axis).")])


# Weights that differ by this fraction of their range, and by at least DISTINCT_GAP, must be painted in different
# colours. matplotlib's colour maps have 256 levels, one level being 1/256 ≈ 0.004 of the colour scale: on any scale
# that holds the weights' range [0, 1], weights 0.02 apart are 5 levels apart, so a correct heatmap separates them,
# while a scale that clips the data (vmin=1, say) paints them in one colour.
DISTINCT_FRACTION = 0.1
DISTINCT_GAP = 0.02


def check_colours(result: dict, weights: np.ndarray) -> None:
    """What is drawn shows the data: weights far apart are not painted in one colour (a clipping vmin or vmax)."""
    colours = result.get("colours")
    if not (isinstance(colours, np.ndarray) and colours.shape == weights.shape + (3,)):
        raise Mismatch("the colours of the image could not be read back: draw the weights with ax.imshow(weights)")
    w = weights.reshape(-1)
    c = colours.reshape(-1, 3)
    gap = np.abs(w[:, None] - w[None, :])
    far = gap >= max(DISTINCT_FRACTION * (w.max() - w.min()), DISTINCT_GAP)
    alike = np.all(np.abs(c[:, None, :] - c[None, :, :]) < 1e-12, axis=-1)
    bad = np.argwhere(far & alike)
    if len(bad):
        i, j = bad[0]
        low, high = result.get("clim") or (float("nan"), float("nan"))
        raise Mismatch(f"{len(bad) // 2} pair(s) of weights that differ are drawn in the same colour (e.g. {w[i]:.3g} "
                       f"and {w[j]:.3g}): the colour scale runs from vmin={low:.3g} to vmax={high:.3g}, so weights "
                       "outside it are clipped to one colour. The weights lie in [0, 1]: leave vmin and vmax out, "
                       "or use vmin=0, vmax=1.")


def check_labels(result: dict, query_tokens: list[str], key_tokens: list[str]) -> None:
    xl, yl = result["xlabels"], result["ylabels"]
    if xl == query_tokens and yl == key_tokens and query_tokens != key_tokens:
        raise Mismatch("the query and key tokens swapped between the axes: the keys go on the x axis (columns), "
                       "the queries on the y axis (rows)")
    for axis, got, tokens, ticks in (("x", xl, key_tokens, result["xticks"]), ("y", yl, query_tokens, result["yticks"])):
        if got != tokens:
            shown = got if len(got) <= 12 else got[:12] + ["..."]
            raise Mismatch(f"the {axis} tick labels are {shown}, expected the {'key' if axis == 'x' else 'query'} "
                           f"tokens {tokens}: set one tick per token, e.g. ax.set_{axis}ticks(range({len(tokens)}), labels=...)")
        if not np.allclose(ticks, np.arange(len(tokens))):
            raise Mismatch(f"the {axis} ticks are at {ticks}: put token i at position i (ax.set_{axis}ticks(range({len(tokens)}), ...)), "
                           "so each label sits on its row or column of the image")


def check_colorbar(result: dict) -> None:
    if result["n_axes"] < 2:
        raise Mismatch("the figure has no colorbar: add one with ax.figure.colorbar(image, ax=ax), where image is what "
                       "ax.imshow returned")


def redraw(result: dict, weights: np.ndarray, query_tokens: list[str], key_tokens: list[str]):
    """The student's drawing, redrawn here from the plain data it returned, beside the expected heatmap."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.2))
    for ax, image, title, xl, yl in (
        (fig.add_subplot(1, 2, 1), result["image"], "your plot_attention", result["xlabels"], result["ylabels"]),
        (fig.add_subplot(1, 2, 2), weights, "expected", key_tokens, query_tokens),
    ):
        if isinstance(image, np.ndarray) and image.ndim == 2:
            shown = ax.imshow(image, cmap="viridis", vmin=0.0, vmax=1.0)
            fig.colorbar(shown, ax=ax, fraction=0.046)
        ax.set_title(title, fontsize=9)
        if len(xl) == (image.shape[1] if isinstance(image, np.ndarray) and image.ndim == 2 else -1):
            ax.set_xticks(range(len(xl)), labels=xl, rotation=45, fontsize=7)
        if len(yl) == (image.shape[0] if isinstance(image, np.ndarray) and image.ndim == 2 else -1):
            ax.set_yticks(range(len(yl)), labels=yl, fontsize=7)
    fig.tight_layout()
    return fig


def random_weights(rng: np.random.Generator, m: int, n: int) -> np.ndarray:
    return ref.scaled_dot_product_attention(t(normal(rng, m, 3)), t(normal(rng, n, 3)), t(normal(rng, n, 1)))[1].numpy()


@pytest.mark.task("heatmap")
@pytest.mark.points(1)
def test_heatmap_draws_the_weights(submission, rng):
    """plot_attention draws the (m, n) weights as they are (row i = query i, column j = key j), in distinct colours"""
    tokens = [str(w) for w in rng.choice(ENGLISH, size=5, replace=False)]
    weights = random_weights(rng, 5, 5)
    result = drawing(submission, weights, tokens, tokens)
    check_image(result, weights)
    check_colours(result, weights)


@pytest.mark.task("heatmap")
@pytest.mark.points(1)
def test_heatmap_labels_keys_on_x_and_queries_on_y(submission, rng, figure):
    """cross-attention heatmap: key tokens label the x axis, query tokens the y axis, one tick per token"""
    queries, keys = [str(w) for w in rng.choice(FRENCH, size=4, replace=False)], [str(w) for w in rng.choice(ENGLISH, size=6, replace=False)]
    weights = random_weights(rng, 4, 6)
    result = drawing(submission, weights, queries, keys)
    figure("your attention heatmap (left, redrawn from what your plot_attention drew) and the expected one", redraw(result, weights, queries, keys))
    check_labels(result, queries, keys)


@pytest.mark.task("heatmap")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_heatmap_has_a_colorbar_and_handles_rectangular_weights(submission, rng):
    """a colorbar is drawn, and a rectangular (m ≠ n) map has the right image and labels"""
    queries, keys = [str(w) for w in rng.choice(ENGLISH, size=3, replace=False)], [str(w) for w in rng.choice(FRENCH, size=5, replace=False)]
    weights = random_weights(rng, 3, 5)
    result = drawing(submission, weights, queries, keys)
    check_colorbar(result)
    check_image(result, weights)
    check_labels(result, queries, keys)


# ============================================================================================= 5. concepts
@pytest.mark.task("concepts")
@pytest.mark.points(1)
def test_q_scaling(submission):
    """why the scores are divided by √d_k"""
    assert_choice(actual=submission.get("q_scaling"), correct="c", name="q_scaling", explanations={
        "a": "the softmax already makes every row sum to 1, whatever the scale of the scores",
        "b": "dividing by a constant costs one extra operation and saves nothing; the cost is the n×n products",
        "d": "the output's width is d_v, set by V; a scalar factor on the scores changes no shape",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
def test_q_causal(submission):
    """what the causal mask prevents"""
    assert_choice(actual=submission.get("q_causal"), correct="b", name="q_causal", explanations={
        "a": "ignoring padding is the key padding mask's job; the causal mask depends only on positions",
        "c": "the diagonal stays visible: query i may attend to key i (only j > i is masked)",
        "d": "masking changes which keys are used, not the size of the gradients",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_q_complexity(submission):
    """how self-attention's cost grows with the sequence length n"""
    assert_choice(actual=submission.get("q_complexity"), correct="d", name="q_complexity", explanations={
        "a": "every query is compared with every key: Q Kᵀ has n × n entries, so the cost is not linear in n",
        "b": "d² per token is the cost of the projections; the score matrix adds n² work that grows with n",
        "c": "Q Kᵀ is (n×d)(d×n): n² d multiplications, not n³ (and the weights take n², not n³, memory)",
    })


@pytest.mark.task("concepts")
@pytest.mark.points(1)
@pytest.mark.hidden
def test_q_heads(submission):
    """what several heads buy over one head of the same total width"""
    assert_choice(actual=submission.get("q_heads"), correct="a", name="q_heads", explanations={
        "b": "in_proj_weight is (3E, E) and out_proj (E, E) whatever h is: splitting E into h heads adds no parameter",
        "c": "each head still compares all n queries with all n keys: the cost stays quadratic in n",
        "d": "each head has its own softmax over the keys; heads change what is attended to, not whether weights sum to 1",
    })
