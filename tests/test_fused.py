"""The compiled step of the online softmax (vecmix._fused, the [fast] extra) against numpy's, and the threads.

numpy's step (``vecmix.attention._fold``) is the reference: the compiled one must give the
same running maximum, sums, mixtures and weights to 1e-12 relative in float64, whatever
the scores (masked entries, rows with nothing visible yet, gaps beyond the float range),
and attention must give the same outputs whichever step and however many threads run it.
"""

import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import vecmix
from vecmix import VecmixError, attention
from vecmix.attention import FUSED_MIN_SCORES, _fold

fused = pytest.importorskip("vecmix._fused", reason="the [fast] extra (numba) is not installed")

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def state(rng, b_q, b_k, d_v, dtype, spread=3.0):
    """Scores S with masked entries and a fully masked row, and a running state (m, l, acc) mid-way."""
    S = (rng.standard_normal((b_q, b_k)) * spread).astype(dtype)
    S[rng.random((b_q, b_k)) < 0.2] = -np.inf  # masked
    S[0] = -np.inf  # a row that sees nothing in this block
    m = (rng.standard_normal(b_q) * spread).astype(dtype)
    m[1] = -np.inf  # a row that has seen nothing before this block
    m[2] = 1000 if dtype == np.float64 else 100  # earlier keys far above these: exp of the gap is 0
    l = np.where(np.isfinite(m), rng.random(b_q) + 1, 0).astype(dtype)
    acc = np.where(np.isfinite(m)[:, None], rng.standard_normal((b_q, d_v)), 0).astype(dtype)
    return S, m, l, acc


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(3, 1, 1), (3, 7, 2), (17, 9, 5), (64, 515, 8)])
@pytest.mark.parametrize("seed", range(3))
def test_compiled_step_agrees_with_numpy(dtype, shape, seed):
    b_q, b_k, d_v = shape
    rng = np.random.default_rng(seed)
    want = state(rng, b_q, b_k, d_v, dtype)
    got = tuple(x.copy() for x in want)
    masked = np.isneginf(want[0])
    want = (want[0], _fold(*want), *want[2:])
    got = (got[0], fused.fold(*got), *got[2:])
    for name, w, g in zip(("S", "m", "l", "acc"), want, got):
        assert g.dtype == dtype, name
        # below the cut-off the compiled exp gives 0 where numpy's gives a subnormal number (< 16 tiny)
        np.testing.assert_allclose(g, w, rtol=TOLERANCE[dtype], atol=16 * np.finfo(dtype).tiny, err_msg=name)
    assert (got[0][masked] == 0).all()  # masked means exactly zero weight


@pytest.mark.parametrize("dtype, cut", [(np.float64, -708.39), (np.float32, -87.33)])
def test_the_compiled_exponential_is_accurate_over_its_whole_range(dtype, cut):
    x = np.linspace(cut + 1e-3, 0, 200_001).astype(dtype)[np.newaxis, :]  # one row of gaps s - m <= 0
    S, m, l, acc = x.copy(), np.zeros(1, dtype), np.zeros(1, dtype), np.zeros((1, 1), dtype)
    fused.fold(S, m, l, acc)
    want = np.exp(x.astype(np.float64))
    ulp = np.finfo(dtype).eps
    assert np.max(np.abs(S / want - 1)) < 4 * ulp  # measured: 2.3 ulp in float64, 0.9 in float32
    assert np.all(S >= np.finfo(dtype).tiny / 2)  # down to the cut the weights are (nearly) normal numbers
    below = np.array([[cut - 0.01, -1e300 if dtype == np.float64 else -1e30, -np.inf, -0.0, 0.0]], dtype)
    fused.fold(below, np.zeros(1, dtype), np.zeros(1, dtype), np.zeros((1, 1), dtype))
    assert below.tolist() == [[0.0, 0.0, 0.0, 1.0, 1.0]]  # beyond the cut-off: exactly 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["plain", "mask", "causal", "batch", "huge"])
def test_attention_agrees_across_steps_and_threads(dtype, case):
    """Large enough for threads and for backend='auto' to pick the compiled step."""
    rng = np.random.default_rng(1)
    batch = (2,) if case == "batch" else ()
    n, d = 1100, 24
    Q, K, V = (rng.standard_normal((*batch, n, d)).astype(dtype) for _ in range(3))
    if case == "huge":
        Q *= 30  # scores in the hundreds: the running maximum moves between blocks
    kwargs = {"mask": rng.random((n, n)) < 0.5} if case == "mask" else {"causal": case == "causal"}
    reference = attention(Q, K, V, backend="numpy", **kwargs)
    with threadpool_limits(1):  # one thread: the blocks run one after another
        single = attention(Q, K, V, backend="numba", **kwargs)
    threaded = attention(Q, K, V, backend="numba", **kwargs)
    auto = attention(Q, K, V, **kwargs)
    np.testing.assert_array_equal(threaded, single)  # threads change nothing, bit for bit
    np.testing.assert_array_equal(auto, threaded)  # 'auto' took the compiled step at this size
    scale = np.max(np.abs(reference))
    assert np.max(np.abs(threaded - reference)) <= TOLERANCE[dtype] * scale
    if dtype == np.float64:
        full = attention(Q, K, V, weights=True, **kwargs)[0]
        assert np.max(np.abs(threaded - full)) <= 1e-12 * scale


def test_auto_keeps_numpy_below_the_threshold():
    """Labs' small problems never load numba: their reports are the same bytes with or without the extra."""
    rng = np.random.default_rng(2)
    Q, K, V = (rng.standard_normal((8, 4)) for _ in range(3))
    assert 8 * 8 < FUSED_MIN_SCORES
    np.testing.assert_array_equal(attention(Q, K, V), attention(Q, K, V, backend="numpy"))


def test_errors_inside_threads_are_raised_by_name():
    Q = np.full((600, 4), 1e200)
    with pytest.raises(VecmixError, match="overflow"):
        attention(Q, Q, np.ones((600, 1)), backend="numba")
    mask = np.ones((1200, 1200), dtype=bool)
    mask[700] = False
    with pytest.raises(VecmixError, match="query row 700 has every key masked"):
        attention(np.ones((1200, 4)), np.ones((1200, 4)), np.ones((1200, 2)), mask=mask)


@pytest.mark.parametrize("backend", ["fast", "", None, 1])
def test_a_bad_backend_is_refused(backend):
    with pytest.raises(VecmixError, match="backend = .* must be one of 'auto', 'numpy', 'numba'"):
        attention([[1.0]], [[1.0]], [[1.0]], backend=backend)


def test_numba_without_the_extra_is_refused_by_name_and_auto_falls_back(monkeypatch):
    monkeypatch.setitem(sys.modules, "vecmix._fused", None)  # as if numba were not installed
    with pytest.raises(VecmixError, match=r"backend='numba' needs numba: install it with pip install 'vecmix\[fast\]'"):
        attention([[1.0]], [[1.0]], [[1.0]], backend="numba")
    rng = np.random.default_rng(3)
    Q, K, V = (rng.standard_normal((1100, 8)) for _ in range(3))
    np.testing.assert_array_equal(attention(Q, K, V), attention(Q, K, V, backend="numpy"))


def test_a_kernel_that_cannot_load_falls_back_or_is_refused_by_name(monkeypatch):
    def broken(*args):
        raise RuntimeError("cannot cache function '_fold_float64': no locator available")

    monkeypatch.setattr(fused, "fold", broken)
    rng = np.random.default_rng(4)
    Q, K, V = (rng.standard_normal((1100, 8)) for _ in range(3))
    np.testing.assert_array_equal(attention(Q, K, V), attention(Q, K, V, backend="numpy"))
    with pytest.raises(VecmixError, match="backend='numba' could not load its kernel .RuntimeError: cannot cache"):
        attention(Q, K, V, backend="numba")


def test_threads_keep_the_callers_errstate_and_stop_at_the_first_error():
    from vecmix._parallel import map_blocks

    seen = []

    def block(b):
        seen.append(np.geterr()["over"])
        if b == 0:
            raise VecmixError("block 0 failed")

    with np.errstate(over="ignore"), pytest.raises(VecmixError, match="block 0 failed"):
        map_blocks(block, range(200), work=1 << 30)
    assert seen and set(seen) == {"ignore"} and len(seen) < 200  # the rest were cancelled


def test_vecmix_does_not_load_numba_until_asked():
    import subprocess

    code = ("import sys, vecmix; vecmix.attention([[1.0]], [[1.0]], [[1.0]]); "
            "print('numba' in sys.modules, 'vecmix._fused' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_multihead_attention_passes_the_backend_on():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((40, 12))
    W = [rng.standard_normal((3, 12, 4)) for _ in range(3)]
    W_o = rng.standard_normal((12, 5))
    Y_numpy, _ = vecmix.multihead_attention(X, X, *W, W_o, backend="numpy")
    Y_numba, _ = vecmix.multihead_attention(X, X, *W, W_o, backend="numba")
    np.testing.assert_allclose(Y_numba, Y_numpy, rtol=1e-12, atol=1e-12)
    with pytest.raises(VecmixError, match="backend = 'jit' must be one of"):
        vecmix.multihead_attention(X, X, *W, W_o, backend="jit")
