"""Does the reference attention match PyTorch's scaled_dot_product_attention, the explicit softmax formula and
nn.MultiheadAttention, with padding and causal masks?"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from reference import attention

TOL = {"rtol": 1e-10, "atol": 1e-12}
B, HEADS, N = 3, 2, 6  # batch, heads, keys


def rand(gen, device, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(device)


def padding(device, n=N):
    """(B, n) bool, True = padding: no padding, right padding, and left padding (which, with a causal mask,
    leaves the first queries with no key at all)."""
    mask = torch.zeros(B, n, dtype=torch.bool, device=device)
    mask[1, n - 2:] = True
    mask[2, :2] = True
    return mask


def allowed_keys(m, n, mask, causal, device):
    """(B, 1, m, n) bool, True = may attend: F.scaled_dot_product_attention's boolean attn_mask convention."""
    allowed = torch.ones(B, 1, m, n, dtype=torch.bool, device=device)
    if mask is not None:
        allowed = allowed & ~mask[:, None, None, :]
    if causal:
        allowed = allowed & ~attention.causal_mask(m, n, device)
    return allowed


CASES = [(False, False), (True, False), (False, True), (True, True)]


@pytest.mark.parametrize("use_padding, causal", CASES)
def test_attention_matches_pytorch(gen, device, use_padding, causal):
    """Does softmax(QKᵀ/√d_k)V with padding and causal masks equal F.scaled_dot_product_attention on rows with a key?"""
    m = N if causal else 4  # cross-attention shapes (m ≠ n) when there is no causal mask
    q, k, v = rand(gen, device, B, HEADS, m, 3), rand(gen, device, B, HEADS, N, 3), rand(gen, device, B, HEADS, N, 5)
    mask = padding(device) if use_padding else None
    out, weights = attention.scaled_dot_product_attention(q, k, v, mask, causal)
    allowed = allowed_keys(m, N, mask, causal, device)
    rows = allowed.any(-1).expand(B, HEADS, m)  # queries with at least one key
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    assert out.shape == (B, HEADS, m, 5) and weights.shape == (B, HEADS, m, N)
    torch.testing.assert_close(out[rows], expected[rows], **TOL)
    assert (weights.masked_select(~allowed.expand_as(weights)) == 0).all()
    if causal and not use_padding:
        torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True), **TOL)


@pytest.mark.parametrize("use_padding, causal", CASES)
def test_attention_matches_the_explicit_formula(gen, device, use_padding, causal):
    """Are the weights softmax(QKᵀ/√d_k + mask) with −∞ on masked keys, rows summing to 1, and the output weights·V?"""
    q, k, v = rand(gen, device, B, N, 4), rand(gen, device, B, N, 4), rand(gen, device, B, N, 2)
    mask = padding(device) if use_padding else None
    out, weights = attention.scaled_dot_product_attention(q, k, v, mask, causal)
    allowed = allowed_keys(N, N, mask, causal, device)[:, 0]  # (B, m, n): no head axis here
    rows = allowed.any(-1)
    scores = (q @ k.transpose(-2, -1) / math.sqrt(4)).masked_fill(~allowed, float("-inf"))
    expected_w = torch.softmax(scores, dim=-1)
    torch.testing.assert_close(weights[rows], expected_w[rows], **TOL)
    torch.testing.assert_close(out[rows], (expected_w @ v)[rows], **TOL)
    sums = weights.sum(-1)[rows]
    torch.testing.assert_close(sums, torch.ones_like(sums), **TOL)


def test_fully_masked_rows_give_zeros_not_nan(device):
    """When a query has no key to attend to (all padding, or causal with left padding), are its weights and output
    zero rather than NaN?"""
    q = k = v = torch.ones(2, 3, 2, dtype=torch.float64, device=device)
    out, weights = attention.scaled_dot_product_attention(q, k, v, torch.ones(2, 3, dtype=torch.bool, device=device))
    assert torch.isfinite(out).all() and (out == 0).all() and (weights == 0).all()
    left = torch.tensor([[True, False, False], [False, False, False]], device=device)
    out, weights = attention.scaled_dot_product_attention(q, k, v, left, causal=True)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    assert (out[0, 0] == 0).all() and (weights[0, 0] == 0).all()  # query 0 may see only key 0, which is padding
    torch.testing.assert_close(weights[0, 1], torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64, device=device), **TOL)


def test_the_scale_matters(gen, device):
    """Would forgetting the 1/√d_k give a different answer (so a grader can detect it)?"""
    d_k = 16
    q, k, v = rand(gen, device, 1, 4, d_k), rand(gen, device, 1, 4, d_k), rand(gen, device, 1, 4, 3)
    out, _ = attention.scaled_dot_product_attention(q, k, v)
    unscaled = torch.softmax(q @ k.transpose(-2, -1), dim=-1) @ v
    rescaled, _ = attention.scaled_dot_product_attention(q * math.sqrt(d_k), k, v)
    torch.testing.assert_close(rescaled, unscaled, **TOL)
    assert not torch.allclose(out, unscaled, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("use_padding", [False, True])
@pytest.mark.parametrize("causal", ["none", "attn_mask", "is_causal"])
@pytest.mark.parametrize("self_attention", [False, True])
def test_multi_head_attention_matches_module(gen, device, use_padding, causal, self_attention):
    """Given nn.MultiheadAttention's weights (random biases too), are our output and head-averaged weights the module's?"""
    E, heads = 12, 3
    mha = torch.nn.MultiheadAttention(E, heads, batch_first=True).double()
    with torch.no_grad():
        for p in mha.parameters():
            p.copy_(0.4 * torch.randn(p.shape, generator=gen, dtype=torch.float64))
    mha = mha.to(device).eval()
    m = N if causal != "none" or self_attention else 4
    query = rand(gen, device, B, m, E)
    key, value = (query, query) if self_attention else (rand(gen, device, B, N, E), rand(gen, device, B, N, E))
    mask = padding(device) if use_padding else None
    if mask is not None and causal != "none":
        mask[2] = False  # left padding would leave query 0 without keys, where the module gives NaN
    kwargs = {} if causal == "none" else {"attn_mask": attention.causal_mask(m, N, device), "is_causal": causal == "is_causal"}
    expected, expected_w = mha(query, key, value, key_padding_mask=mask, need_weights=True, average_attn_weights=True, **kwargs)
    out, weights = attention.multi_head_attention(
        query, key, value, heads, mha.in_proj_weight.detach(), mha.in_proj_bias.detach(),
        mha.out_proj.weight.detach(), mha.out_proj.bias.detach(), key_padding_mask=mask, causal=causal != "none",
    )
    assert out.shape == (B, m, E) and weights.shape == (B, m, N)
    torch.testing.assert_close(out, expected.detach(), **TOL)
    torch.testing.assert_close(weights, expected_w.detach(), **TOL)


def test_multi_head_attention_with_a_fully_padded_sequence(gen, device):
    """If one sequence is all padding, is its output the output bias alone (zero attention), with no NaN anywhere?"""
    E = 4
    w = {"in_proj_weight": rand(gen, device, 3 * E, E), "in_proj_bias": rand(gen, device, 3 * E),
         "out_proj_weight": rand(gen, device, E, E), "out_proj_bias": rand(gen, device, E)}
    x = rand(gen, device, 2, 3, E)
    mask = torch.tensor([[False, False, True], [True, True, True]], device=device)
    out, weights = attention.multi_head_attention(x, x, x, 2, **w, key_padding_mask=mask)
    assert torch.isfinite(out).all() and torch.isfinite(weights).all()
    torch.testing.assert_close(out[1], w["out_proj_bias"].expand(3, E), **TOL)
    assert (weights[1] == 0).all()


def test_multi_head_attention_rejects_heads_not_dividing_the_width(gen, device):
    """Does multi-head attention refuse an embedding width that the heads cannot split evenly?"""
    x = rand(gen, device, 1, 2, 6)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        attention.multi_head_attention(x, x, x, 4, rand(gen, device, 18, 6), rand(gen, device, 18),
                                       rand(gen, device, 6, 6), rand(gen, device, 6))
