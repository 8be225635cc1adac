"""Exact twins: numbers read exactly, exact weights, and agreement with the numeric path."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from vecmix import (
    VecmixError,
    as_exact,
    attention,
    exact_attention,
    exact_number,
    exact_scores,
    exact_softmax,
    is_nonnegative,
    is_zero,
    to_numeric,
)


@pytest.mark.parametrize(
    "x, want",
    [
        (0.2, sp.Rational(1, 5)),
        (0.1 + 0.2, sp.Rational(3, 10) + sp.Rational(4, 10**17)),  # the float 0.30000000000000004, as printed
        ("1/3", sp.Rational(1, 3)),
        (" -2.5e-3 ", sp.Rational(-1, 400)),
        (Fraction(2, 7), sp.Rational(2, 7)),
        (np.float32(0.2), sp.Rational(1, 5)),
        (np.int64(-4), sp.Integer(-4)),
        (sp.Rational(5, 3), sp.Rational(5, 3)),
        (3, sp.Integer(3)),
    ],
)
def test_numbers_are_read_as_the_decimals_they_spell(x, want):
    assert exact_number(x) == want


@pytest.mark.parametrize(
    "x, message",
    [
        ("nan", "is not a finite number"),
        (float("inf"), "is not a finite number"),
        ("1e999999", "exponent beyond"),
        ("1/0", "divides by zero"),
        (True, "truth value"),
        ("__import__('os')", "is not a number"),
        (None, "is not a number"),
        (sp.sqrt(2), "is not a number"),
    ],
)
def test_non_numbers_are_refused_by_name(x, message):
    with pytest.raises(VecmixError, match=message):
        exact_number(x, name="lab.query[0]")


def test_ragged_and_empty_inputs_are_refused():
    with pytest.raises(VecmixError, match="rows of different lengths"):
        as_exact([[1, 2], [3]], "K")
    with pytest.raises(VecmixError, match="is empty"):
        as_exact([], "V")
    with pytest.raises(VecmixError, match="mixes numbers and lists"):
        as_exact([1, [2]], "V")


def test_exact_softmax_sums_to_one_and_is_positive():
    s = [sp.Rational(1, 3), -2, sp.sqrt(2), 0]
    alpha = exact_softmax(s)
    assert sp.cancel(sum(alpha)) == 1
    assert all(is_nonnegative(a) and not is_zero(a) for a in alpha)
    np.testing.assert_allclose(to_numeric(alpha).ravel(), np.exp(np.array(s, float)) / np.exp(np.array(s, float)).sum())


def test_exact_softmax_masked_entries_are_exactly_zero():
    alpha = exact_softmax([1, 2, 3], mask=[True, False, True])
    assert alpha[1] == 0 and sp.cancel(alpha[0] + alpha[2]) == 1
    with pytest.raises(VecmixError, match="every key masked"):
        exact_softmax([1, 2], mask=[False, False])


def random_rationals(rng, shape, denominator=4):
    """Small rationals like 3/4 as strings, so the exact path stays exact."""
    return [[f"{int(n)}/{denominator}" for n in row] for row in rng.integers(-8, 9, size=shape)]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("causal", [False, True])
def test_numeric_path_equals_exact_path_on_rational_inputs(seed, causal):
    rng = np.random.default_rng(seed)
    n_q, n_k, d_k, d_v = 3, 4, int(rng.integers(1, 4)), 2
    Q, K, V = (random_rationals(rng, s) for s in ((n_q, d_k), (n_k, d_k), (n_k, d_v)))
    mask = rng.random((n_q, n_k)) < 0.7
    mask[:, 0] = True
    Z_exact, A_exact = exact_attention(Q, K, V, mask=mask, causal=causal)
    Q_num, K_num, V_num = (to_numeric(as_exact(x)) for x in (Q, K, V))
    Z, A = attention(Q_num, K_num, V_num, mask=mask, causal=causal, weights=True)
    np.testing.assert_allclose(A, to_numeric(A_exact), rtol=0, atol=1e-12)
    np.testing.assert_allclose(Z, to_numeric(Z_exact), rtol=0, atol=1e-12)
    for t in range(n_q):  # every exact row is a distribution over its visible keys
        assert sp.cancel(sum(A_exact.row(t))) == 1
        visible = mask[t] & (np.arange(n_k) <= t if causal else True)
        assert all(A_exact[t, i] == 0 for i in range(n_k) if not visible[i])


def test_the_seed_walkthrough_exactly():
    e = sp.E
    Z, A = exact_attention([[1, 0]], [[1, 0], [0, 0], [-1, 0]], [[1, 0], [0, 1], [1, 1]], scale=1)
    assert exact_scores([[1, 0]], [[1, 0], [0, 0], [-1, 0]], scale=1) == sp.Matrix([[1, 0, -1]])
    want_alpha = [e**2 / (1 + e + e**2), e / (1 + e + e**2), 1 / (1 + e + e**2)]
    want_z = [(1 + e**2) / (1 + e + e**2), (1 + e) / (1 + e + e**2)]
    assert all(is_zero(a - w) for a, w in zip(A, want_alpha))
    assert all(is_zero(a - w) for a, w in zip(Z, want_z))


def test_default_scale_is_exactly_one_over_sqrt_d_k():
    assert exact_scores([[1, 1]], [[1, 1]]) == sp.Matrix([[sp.sqrt(2)]])
    with pytest.raises(VecmixError, match="must be a finite real number"):
        exact_scores([[1]], [[1]], scale=sp.Symbol("t"))


def test_is_zero_decides_both_ways():
    e = sp.E
    assert is_zero(e**2 / (1 + e) - e**2 / (1 + e))
    assert is_zero(sp.exp(sp.Rational(1, 2)) ** 2 - e)
    assert not is_zero(e - sp.Rational(271828182845904523536, 10**20))
    assert not is_nonnegative(1 - e)


def test_exact_inputs_are_not_mutated():
    K = sp.Matrix([[1, 0], [0, 1]])
    before = K.copy()
    exact_attention([[1, 0]], K, K)
    assert K == before


def test_without_python_flint_mpmath_intervals_decide_the_same_signs():
    import subprocess
    import sys

    script = ("import sys; sys.modules['flint'] = None\n"
              "import sympy as sp\nfrom vecmix import decide, exact_sign\nassert decide.flint is None\n"
              "cases = [sp.exp(-300), -sp.exp(-100), sp.pi - sp.Rational(314159, 100000), sp.sin(1)**2 + sp.cos(1)**2 - 1,"
              " sp.E - sp.Rational(2718, 1000)]\nprint([exact_sign(c) for c in cases])\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert proc.stdout.strip() == "[1, -1, 1, 0, 1]", proc.stderr[-2000:]
