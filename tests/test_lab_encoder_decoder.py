"""Lab encoder_decoder: for random small layers, cross-attention mixes the encoder's values, the exact layer agrees
with a numeric one written as a loop, and each output position reads exactly the targets before it."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from labs.catalogue.encoder_decoder import decoder_layer, run
from labs.reproduce import build, compose_lab
from vecmix import VecmixError, to_numeric

small = st.integers(-2, 2)


def matrices(rows, cols):
    return st.lists(st.lists(small, min_size=cols, max_size=cols), min_size=rows, max_size=rows)


@st.composite
def layers(draw):
    d, n, m = draw(st.integers(2, 3)), draw(st.integers(2, 4)), draw(st.integers(1, 3))
    return {"memory": draw(matrices(m, d)), "targets": draw(matrices(n, d)), "start": draw(matrices(1, d))[0],
            "W_Q": draw(matrices(d, d)), "W_K": draw(matrices(d, d)), "W_V": draw(matrices(d, d)), "shift": True}


def numeric_layer(p):
    """The same layer in floats, with explicit loops over positions and keys."""
    H, Y, start = (np.array(p[k], dtype=float) for k in ("memory", "targets", "start"))
    X = np.vstack([start, Y[:-1]]) if p["shift"] else Y
    W_Q, W_K, W_V = (np.array(p[k], dtype=float) for k in ("W_Q", "W_K", "W_V"))

    def attend(Q, K, V, causal):
        out = np.zeros((len(Q), V.shape[1]))
        for t, q in enumerate(Q):
            keys = range(t + 1) if causal else range(len(K))
            s = [q @ K[j] / math.sqrt(K.shape[1]) for j in keys]
            e = [math.exp(x - max(s)) for x in s]
            out[t] = sum(e[i] / sum(e) * V[j] for i, j in enumerate(keys))
        return out

    D = X + attend(X, X, X, True)
    return D + attend(D @ W_Q, H @ W_K, H @ W_V, False)


@settings(max_examples=12, deadline=None)
@given(layers())
def test_the_exact_layer_agrees_with_a_loop_and_cross_attention_mixes_the_encoders_values(p):
    H, Y, start = sp.Matrix(p["memory"]), sp.Matrix(p["targets"]), sp.Matrix([p["start"]])
    W_Q, W_K, W_V = (sp.Matrix(p[k]) for k in ("W_Q", "W_K", "W_V"))
    X, D, Z, O, A_self, A_cross = decoder_layer(H, Y, start, W_Q, W_K, W_V)
    assert np.allclose(to_numeric(O), numeric_layer(p), atol=1e-9)
    A = to_numeric(A_cross)
    assert A.shape == (Y.rows, H.rows) and (A > 0).all() and np.allclose(A.sum(axis=1), 1, atol=1e-13)
    assert np.allclose(to_numeric(Z), A @ to_numeric(H * W_V), atol=1e-12)
    assert np.all(np.triu(to_numeric(A_self), 1) == 0)  # the mask: weight exactly 0 on later positions


@settings(max_examples=6, deadline=None)
@given(layers())
def test_no_position_reads_a_target_at_or_after_it(p):
    depends = {v.name: v.numeric for v in run(p).values}["depends_on"]
    assert len(depends) == len(p["targets"])
    for t, read in enumerate(depends, start=1):  # O_t may read y_s only for s < t (whether it does is generic)
        assert all(s < t for s in read)


def test_without_the_shift_a_position_reads_its_own_target():
    p = {"memory": [[1, 0, 0], [0, 1, 0], [1, 1, 0]], "targets": [[1, 0, 1], [0, 1, 1], [1, 1, 1]],
         "start": [0, 0, 1], "W_Q": np.eye(3, dtype=int).tolist(), "W_K": np.eye(3, dtype=int).tolist(),
         "W_V": np.eye(3, dtype=int).tolist()}
    shifted = {c.id: c for c in run(dict(p, shift=True)).claims}["strictly-before"]
    unshifted = {c.id: c for c in run(dict(p, shift=False)).claims}["strictly-before"]
    assert shifted.holds and shifted.observed == "O_1: none; O_2: y_1; O_3: y_1, y_2"
    assert not unshifted.holds and unshifted.observed == "O_1: y_1; O_2: y_1, y_2; O_3: y_1, y_2, y_3"


@pytest.mark.parametrize("overrides, message", [
    (["lab.targets=[[1,0],[0,1]]"], "lab.memory has vectors of size 3, lab.targets of size 2"),
    (["lab.W_V=[[1,0],[0,1]]"], "lab.W_V is 2 x 2: it must be 3 x 3"),
    (["lab.W_K=[[1,0],[0,1],[0,0]]"], "lab.W_Q is 3 x 3 and lab.W_K 3 x 2: both must be 3 x d_k with the same d_k"),
    (["lab.start=[0,nan,1]"], r"lab.start\[1\] = .*nan.* is not a finite number"),
    (["lab.start=[0,0,1e101]"], r"lab.start\[2\] = 1.00e\+101 is too large"),
    (["lab.memory=[]"], "lab.memory is empty"),
    (["lab.targets=[[1,0,0],[0,1,0],[0,0,1],[1,1,1],[1,0,0],[0,1,0]]"],
     "lab.targets is 6 x 3; this exact lab takes at most 5 rows of at most 4 entries"),
])
def test_bad_values_are_refused_by_name(overrides, message):
    with pytest.raises(VecmixError, match=message):
        build(compose_lab("encoder_decoder", overrides))


def test_a_shift_that_is_not_a_truth_value_is_refused():
    params = {"memory": [[1, 0]], "targets": [[1, 0], [0, 1]], "start": [0, 0], "W_Q": [[1, 0], [0, 1]],
              "W_K": [[1, 0], [0, 1]], "W_V": [[1, 0], [0, 1]], "shift": "yes"}
    with pytest.raises(VecmixError, match="lab.shift = 'yes' must be true or false"):
        run(params)
