"""An independent oracle: vecmix against PyTorch, an implementation nobody here wrote.

scaled_dot_product_attention takes a boolean mask with True = may attend (vecmix's
convention); nn.MultiheadAttention takes the opposite (True = may NOT attend), so its
masks are inverted here. Everything runs in float64 and must agree to 1e-12. Skipped,
with the reason shown, when the optional [torch] extra is not installed; CI installs
torch==2.13.0 first so that these run.
"""

import os

import numpy as np
import pytest

from vecmix import attention, multihead_attention

if os.environ.get("CI") == "true":
    import torch  # CI installs torch before the suite: there, a missing torch fails instead of skipping
else:
    torch = pytest.importorskip("torch", reason="the [torch] extra is not installed: pip install torch==2.13.0")
F = torch.nn.functional

CASES = [  # (batch shape, n_q, n_k, d_k, d_v)
    ((), 1, 1, 1, 1),
    ((2,), 5, 7, 3, 4),
    ((2, 3), 6, 6, 8, 2),
    ((1, 2), 9, 4, 5, 5),
]


def to_torch(*arrays):
    return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("seed", range(3))
def test_attention_matches_torch_sdpa_with_boolean_masks_and_scales(case, seed):
    batch, n_q, n_k, d_k, d_v = case
    rng = np.random.default_rng(seed)
    Q, K, V = (rng.normal(size=(*batch, n, d)) for n, d in ((n_q, d_k), (n_k, d_k), (n_k, d_v)))
    mask = rng.random((*batch, n_q, n_k)) < 0.6
    mask[..., 0] = True
    scale = float(rng.uniform(0.1, 2.0))
    Zt = F.scaled_dot_product_attention(*to_torch(Q, K, V), attn_mask=torch.from_numpy(mask), scale=scale)
    for kwargs in ({}, {"block_size": 3}, {"weights": True}):
        Z = attention(Q, K, V, mask=mask, scale=scale, **kwargs)
        np.testing.assert_allclose(Z[0] if kwargs.get("weights") else Z, Zt.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_causal_attention_matches_torch_is_causal(case):
    batch, n_q, n_k, d_k, d_v = case
    rng = np.random.default_rng(7)
    Q, K, V = (rng.normal(size=(*batch, n, d)) for n, d in ((n_q, d_k), (n_k, d_k), (n_k, d_v)))
    Zt = F.scaled_dot_product_attention(*to_torch(Q, K, V), is_causal=True)  # top-left aligned, as vecmix
    np.testing.assert_allclose(attention(Q, K, V, causal=True, weights=True)[0], Zt.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(attention(Q, K, V, causal=True, block_size=2), Zt.numpy(), rtol=0, atol=1e-12)


def test_fully_masked_rows_match_torch_when_asked_for_zeros():
    rng = np.random.default_rng(3)
    Q, K, V = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    mask = rng.random((4, 5)) < 0.5
    mask[1] = False  # a query that may see nothing
    mask[[0, 2, 3], 0] = True
    Zt = F.scaled_dot_product_attention(*to_torch(Q, K, V), attn_mask=torch.from_numpy(mask))
    np.testing.assert_allclose(attention(Q, K, V, mask=mask, fully_masked="zeros"), Zt.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("heads, d_model, n_q, n_k", [(1, 4, 3, 3), (2, 6, 5, 4), (4, 8, 6, 6)])
@pytest.mark.parametrize("masking", ["none", "boolean", "causal"])
def test_multihead_matches_torch_multihead_attention(heads, d_model, n_q, n_k, masking):
    torch.manual_seed(heads * 100 + d_model)
    mha = torch.nn.MultiheadAttention(d_model, heads, bias=False, batch_first=True).double()
    rng = np.random.default_rng(heads)
    X_q, X_kv = rng.normal(size=(n_q, d_model)), rng.normal(size=(n_k, d_model))
    allowed = np.ones((n_q, n_k), dtype=bool)
    if masking == "boolean":
        allowed = rng.random((n_q, n_k)) < 0.6
        allowed[:, 0] = True
    elif masking == "causal":
        allowed = np.tri(n_q, n_k, dtype=bool)
    with torch.no_grad():
        Yt, At = mha(*to_torch(X_q[None], X_kv[None], X_kv[None]), attn_mask=torch.from_numpy(~allowed),  # True = blocked
                     need_weights=True, average_attn_weights=False)
    # nn.MultiheadAttention computes x W^T with W = [W_q; W_k; W_v] stacked, heads side by side in each.
    W_in = mha.in_proj_weight.detach().numpy()  # (3 d_model, d_model)
    hd = d_model // heads
    W_q, W_k, W_v = ([W_in[i * d_model:(i + 1) * d_model].T[:, h * hd:(h + 1) * hd] for h in range(heads)]
                     for i in range(3))  # each a list of h (d_model, hd) matrices
    W_o = mha.out_proj.weight.detach().numpy().T  # (heads * hd, d_model)
    Y, _, A = multihead_attention(X_q, X_kv, np.array(W_q), np.array(W_k), np.array(W_v), W_o, mask=allowed,
                                  weights=True)
    np.testing.assert_allclose(Y, Yt[0].numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(A, At[0].numpy(), rtol=0, atol=1e-12)
