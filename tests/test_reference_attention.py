"""Does the reference attention match PyTorch's scaled_dot_product_attention and nn.MultiheadAttention?"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from reference import attention

TOL = {"rtol": 1e-10, "atol": 1e-12}


def rand(gen, device, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64).to(device)


def padding(device):
    mask = torch.zeros(2, 6, dtype=torch.bool, device=device)
    mask[0, 4:] = True  # the first sequence has two padding positions
    return mask


@pytest.mark.parametrize("use_padding, causal", [(False, False), (True, False), (False, True), (True, True)])
def test_attention_matches_pytorch(gen, device, use_padding, causal):
    """Does softmax(QKᵀ/√d_k)V with padding and causal masks equal F.scaled_dot_product_attention?"""
    q, k, v = rand(gen, device, 2, 3, 6, 4), rand(gen, device, 2, 3, 6, 4), rand(gen, device, 2, 3, 6, 5)
    mask = padding(device) if use_padding else None
    out, weights = attention.scaled_dot_product_attention(q, k, v, mask, causal)
    allowed = torch.ones(2, 1, 6, 6, dtype=torch.bool, device=device)
    if use_padding:
        allowed = allowed & ~mask[:, None, None, :]
    if causal:
        allowed = allowed & ~attention.causal_mask(6, 6, device)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), **TOL)
    torch.testing.assert_close(weights.sum(-1), torch.ones_like(weights.sum(-1)), **TOL)
    assert (weights.masked_select(~allowed.expand_as(weights)) == 0).all()


def test_fully_masked_rows_give_zeros_not_nan(device):
    """When every key of a sequence is padding, are its weights and output zero rather than NaN?"""
    q = k = v = torch.ones(1, 3, 2, dtype=torch.float64, device=device)
    out, weights = attention.scaled_dot_product_attention(q, k, v, torch.ones(1, 3, dtype=torch.bool, device=device))
    assert torch.isfinite(out).all() and (out == 0).all() and (weights == 0).all()


def test_the_scale_matters(gen, device):
    """Would forgetting the 1/√d_k give a different answer (so a grader can detect it)?"""
    q, k, v = rand(gen, device, 1, 4, 16), rand(gen, device, 1, 4, 16), rand(gen, device, 1, 4, 3)
    out, _ = attention.scaled_dot_product_attention(q, k, v)
    unscaled = torch.softmax(q @ k.transpose(-2, -1), dim=-1) @ v
    rescaled, _ = attention.scaled_dot_product_attention(q * math.sqrt(16), k, v)
    torch.testing.assert_close(rescaled, unscaled, **TOL)
    assert not torch.allclose(out, unscaled, rtol=1e-3)


@pytest.mark.parametrize("use_padding, causal", [(False, False), (True, False), (False, True)])
def test_multi_head_attention_matches_module(gen, device, use_padding, causal):
    """Given nn.MultiheadAttention's weights, is our output and head-averaged weight matrix the module's?"""
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True).double().to(device).eval()
    query, key, value = rand(gen, device, 2, 6, 8), rand(gen, device, 2, 6, 8), rand(gen, device, 2, 6, 8)
    mask = padding(device) if use_padding else None
    expected, expected_w = mha(query, key, value, key_padding_mask=mask, need_weights=True, average_attn_weights=True,
                               attn_mask=attention.causal_mask(6, 6, device) if causal else None)
    out, weights = attention.multi_head_attention(
        query, key, value, 2, mha.in_proj_weight.detach(), mha.in_proj_bias.detach(),
        mha.out_proj.weight.detach(), mha.out_proj.bias.detach(), key_padding_mask=mask, causal=causal,
    )
    torch.testing.assert_close(out, expected.detach(), **TOL)
    torch.testing.assert_close(weights, expected_w.detach(), **TOL)
