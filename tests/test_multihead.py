"""Multi-head attention: per-head mixtures, exact twin, spans of each head's values."""

import numpy as np
import pytest

from vecmix import VecmixError, attention, exact_multihead_attention, in_span, multihead_attention, to_numeric


def small_rationals(rng, shape):
    return (rng.integers(-4, 5, size=shape) / 2).tolist()


@pytest.mark.parametrize("seed", range(3))
def test_numeric_equals_exact_and_per_head_loop(seed):
    rng = np.random.default_rng(seed)
    n, d_model, h, d_k, d_v, d_out = 4, 4, 2, 2, 3, 3
    X = small_rationals(rng, (n, d_model))
    W_q, W_k = small_rationals(rng, (h, d_model, d_k)), small_rationals(rng, (h, d_model, d_k))
    W_v, W_o = small_rationals(rng, (h, d_model, d_v)), small_rationals(rng, (h * d_v, d_out))
    Y, Z, A = multihead_attention(X, X, W_q, W_k, W_v, W_o, causal=True, weights=True)
    Y_x, Z_x, A_x, V_x = exact_multihead_attention(X, X, W_q, W_k, W_v, W_o, causal=True)
    np.testing.assert_allclose(Y, to_numeric(Y_x), rtol=0, atol=1e-12)
    Xn = np.array(X)
    for j in range(h):  # each head is ordinary attention on its own projections
        Z_j, A_j = attention(Xn @ np.array(W_q[j]), Xn @ np.array(W_k[j]), Xn @ np.array(W_v[j]), causal=True,
                             weights=True)
        np.testing.assert_allclose(Z[j], Z_j, rtol=0, atol=1e-14)
        np.testing.assert_allclose(A[j], to_numeric(A_x[j]), rtol=0, atol=1e-12)
        for t in range(n):  # and its output lies in the span of its own projected values
            assert in_span(V_x[j], Z_x[j].row(t).T)
    np.testing.assert_allclose(Y, np.concatenate(list(Z), axis=1) @ np.array(W_o), rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"W_o": np.ones((5, 2))}, r"W_o must have h \* d_v = 2 \* 2 = 4 rows"),
        ({"W_k": np.ones((2, 3, 3))}, "share the head size d_k"),
        ({"W_v": np.ones((3, 3, 2))}, "same number of heads"),
        ({"W_q": np.ones((2, 4, 2))}, "maps from dimension 4"),
    ],
)
def test_projection_shapes_are_checked(change, message):
    args = {"W_q": np.ones((2, 3, 2)), "W_k": np.ones((2, 3, 2)), "W_v": np.ones((2, 3, 2)), "W_o": np.ones((4, 2))}
    args.update(change)
    with pytest.raises(VecmixError, match=message):
        multihead_attention(np.ones((2, 3)), np.ones((2, 3)), args["W_q"], args["W_k"], args["W_v"], args["W_o"])
