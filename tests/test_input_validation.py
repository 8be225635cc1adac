"""Bad input to every public function, and the exact decisions that must never guess.

One error type: every public function refuses bad input with a VecmixError (a
ValueError) whose message is one line naming the argument at fault (its parameter
name: Q, K, V, mask, scale, s, z, X_q, W_q, W_o, block_size, fully_masked, expr, ...),
never a raw TypeError / ValueError / IndexError / AttributeError, never a warning and
never a silently wrong answer. A battery crosses kinds of bad input with every
argument: ragged lists, empty arrays (no rows, d = 0, a zero-size batch), NaN and
infinities, complex numbers, text, None, a scalar where an array is needed, the wrong
rank, and booleans. The numeric path (attention, softmax, multihead_attention) refuses
text, booleans and complex numbers as data; the exact path reads strings that spell a
decimal or a fraction ("1/3", "0.5") as the exact numbers they spell, but refuses a
whole string where a vector is expected. scale may be any finite real number (zero and
negative too); block_size a positive int; fully_masked one of 'raise', 'zeros', 'nan';
causal and weights booleans. Valid calls leave their inputs as they were.

Exact decisions: is_zero, is_nonnegative and exact_equal (and through them in_span and
in_hull) decide exact zeros with huge terms, tiny nonzero values such as e^-300 and
near-cancellations correctly; they may refuse only what no certified method decides.
"""

import copy
import math
import re
import warnings

import numpy as np
import pytest
import sympy as sp

from vecmix import (
    VecmixError,
    affine_solution_set,
    as_exact,
    attention,
    distance_to_span,
    eliminate,
    exact_attention,
    exact_equal,
    exact_multihead_attention,
    exact_number,
    exact_scores,
    exact_softmax,
    in_hull,
    in_span,
    is_nonnegative,
    is_zero,
    multihead_attention,
    null_space,
    one_fraction,
    softmax,
    solution_set,
    to_numeric,
)
from vecmix.exact import rational_rows


def refused(call, *names):
    """The message of the VecmixError that call() raises: one line naming one of ``names``, no warning first."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning (ComplexWarning, RuntimeWarning) is not a refusal
        with pytest.raises(VecmixError) as info:
            call()
    message = str(info.value)
    assert "\n" not in message, f"not one line: {message!r}"
    assert any(re.search(rf"\b{re.escape(name)}\b", message) for name in names), \
        f"{message!r} does not name {' or '.join(names)}"
    return message


# ---------------------------------------------------------------------------------------------------------------
# Bad kinds, built from a valid value of the argument.

def with_first(a, value):
    """a as nested lists with its first entry replaced by value."""
    lst = np.asarray(a, dtype=object).tolist()
    inner = lst
    while isinstance(inner[0], list):
        inner = inner[0]
    inner[0] = value
    return lst


def ragged(a):
    """a as nested lists with its last innermost row one entry short."""
    lst = np.asarray(a).tolist()
    inner = lst
    for _ in range(np.ndim(a) - 2):
        inner = inner[-1]
    inner[-1] = inner[-1][:-1]
    return lst


def zero_sized(a):
    """One array per axis of a, with that axis of length 0 (no rows, d = 0, no heads, ...)."""
    shape = np.shape(a)
    return [(f"axis {i} empty", np.zeros(shape[:i] + (0,) + shape[i + 1:])) for i in range(len(shape))]


def numeric_kinds(a, *, batch=False, too_low=False, too_high=False):
    """(kind, bad value) for a numeric array argument whose valid value is the float array a.

    ``batch``: leading axes are batch axes (a zero-size batch is bad, more axes are not);
    ``too_low`` / ``too_high``: one axis fewer / more is the wrong rank.
    """
    a = np.asarray(a, dtype=float)
    complex_array = a.astype(complex)
    complex_array.flat[0] = 1 + 5j
    kinds = [
        ("ragged", ragged(a)),
        ("nan", with_first(a, float("nan"))),
        ("inf", with_first(a, float("inf"))),
        ("-inf", with_first(a, -float("inf"))),
        ("complex array", complex_array),
        ("complex entry", with_first(a, 1 + 5j)),
        ("numeric strings", a.astype(str).tolist()),
        ("word entry", with_first(a, "abc")),
        ("digits string", "12"),
        ("word", "abc"),
        ("None", None),
        ("scalar", 5.0),
        ("boolean array", a > 0),
        ("boolean list", (a > 0).tolist()),
        ("empty list", []),
        *zero_sized(a),
    ]
    if batch:
        kinds.append(("zero batch", np.zeros((0, *a.shape))))
    if too_low:
        kinds.append(("rank too low", a[0]))
    if too_high:
        kinds.append(("rank too high", a[np.newaxis]))
    return kinds


def exact_kinds(a):
    """(kind, bad value) for an exact matrix (or list of matrices) argument whose valid value is a."""
    a = np.asarray(a, dtype=object)
    kinds = [
        ("ragged", ragged(a)),
        ("nan", with_first(a, float("nan"))),
        ("inf", with_first(a, float("inf"))),
        ("-inf", with_first(a, -float("inf"))),
        ("complex entry", with_first(a, 1 + 5j)),
        ("sympy I", with_first(a, sp.I)),
        ("sympy nan", with_first(a, sp.nan)),
        ("sympy oo", with_first(a, sp.oo)),
        ("sympy zoo", with_first(a, sp.zoo)),
        ("word entry", with_first(a, "abc")),
        ("digits string", "12"),
        ("word", "abc"),
        ("None", None),
        ("scalar", 5),
        ("booleans", (a != 0).tolist()),
        ("empty list", []),
        ("rank too high", [a.tolist()]),
        *zero_sized(a),
    ]
    if a.ndim == 2:
        kinds += [("sympy no rows", sp.zeros(0, a.shape[1])), ("sympy no columns", sp.zeros(a.shape[0], 0)),
                  ("sympy matrix with I", sp.Matrix(with_first(a, sp.I)))]
    return kinds


def vector_kinds(v):
    """(kind, bad value) for an exact vector argument whose valid value is the list v."""
    n = len(v)
    return [
        ("digits string", "12"),
        ("word", "abc"),
        ("None", None),
        ("scalar", 5),
        ("nan", with_first(v, float("nan"))),
        ("inf", with_first(v, float("inf"))),
        ("-inf", with_first(v, -float("inf"))),
        ("complex entry", with_first(v, 1 + 5j)),
        ("sympy I", with_first(v, sp.I)),
        ("sympy nan", with_first(v, sp.nan)),
        ("sympy oo", with_first(v, sp.oo)),
        ("sympy -oo", with_first(v, -sp.oo)),
        ("sympy zoo", with_first(v, sp.zoo)),
        ("word entry", with_first(v, "abc")),
        ("booleans", [True, False] + [True] * (n - 2)),
        ("empty list", []),
        ("ragged", [[1]] + [[0, 1]] * (n - 1)),
        ("rank too high", [[1] * n] * 2),
    ]


def mask_kinds(shape, *, exact):
    """(kind, bad value) for a boolean mask whose valid shape is ``shape``."""
    full = np.ones(shape, dtype=bool)
    kinds = [
        ("ragged", ragged(full) if len(shape) > 1 else [True, [False]] + [True] * (shape[0] - 2)),
        ("integers", np.ones(shape, dtype=int)),
        ("integer scalar", 1),
        ("floats", np.ones(shape)),
        ("nan", np.full(shape, np.nan)),
        ("complex", np.ones(shape, dtype=complex)),
        ("word", "abc"),
        ("strings", np.full(shape, "True").tolist()),
        ("wrong shape", np.ones((*shape[:-1], shape[-1] + 1), dtype=bool)),
        ("empty list", []),
    ]
    if exact:
        kinds.append(("batch axis", np.ones((2, *shape), dtype=bool)))  # the exact path has no batch
    else:
        kinds.append(("zero batch", np.ones((0, *shape), dtype=bool)))
    return kinds


NUMERIC_SCALES = [("word", "abc"), ("digits string", "2"), ("complex", 1 + 5j), ("array", np.array([1.0, 2.0])),
                  ("list", [1.0, 2.0]), ("nan", float("nan")), ("inf", float("inf")), ("-inf", -float("inf"))]
EXACT_SCALES = [("word", "abc"), ("complex", 1 + 5j), ("sympy I", sp.I), ("list", [1, 2]),
                ("array", np.array([1.0, 2.0])), ("nan", float("nan")), ("inf", float("inf")),
                ("sympy oo", sp.oo), ("sympy nan", sp.nan), ("sympy zoo", sp.zoo), ("symbol", sp.Symbol("t")),
                ("divides by zero", "1/0")]
POLICIES = [("unknown word", "ignore"), ("None", None), ("list", ["raise"]), ("array", np.array(["raise"])),
            ("array of two", np.array(["raise", "zeros"])), ("integer", 0)]
FLAGS = [("word", "no"), ("integer", 1), ("None", None), ("list", [True])]
BLOCK_SIZES = [("zero", 0), ("negative", -2), ("True", True), ("float", 2.0), ("digits string", "2"), ("None", None),
               ("list", [2])]
EXPRESSIONS = [("None", None), ("word", "abc"), ("formula string", "x + 1"), ("sympy I", sp.I),
               ("complex", 2 + 3j), ("sympy nan", sp.nan), ("sympy zoo", sp.zoo), ("sympy oo", sp.oo),
               ("float nan", float("nan")), ("float inf", float("inf")), ("symbol", sp.Symbol("t")),
               ("list", [0, 0])]

# ---------------------------------------------------------------------------------------------------------------
# Valid calls: the battery changes one argument of each.

RNG = np.random.default_rng(12)
Q, K, V = RNG.normal(size=(2, 3)), RNG.normal(size=(4, 3)), RNG.normal(size=(4, 2))
X_q, X_kv = RNG.normal(size=(2, 4)), RNG.normal(size=(3, 4))
W_q, W_k, W_v, W_o = RNG.normal(size=(2, 4, 2)), RNG.normal(size=(2, 4, 2)), RNG.normal(size=(2, 4, 3)), \
    RNG.normal(size=(6, 2))
EXACT_V = [[1, 0], [0, 1], [1, 1]]  # three values in R^2
EXACT_HEADS = dict(X_q=[[1, 0], [0, 1]], X_kv=[[1, 0], [0, 1], [1, 1]], W_q=[[[1], [0]], [[0], [1]]],
                   W_k=[[[1], [0]], [[0], [1]]], W_v=[[[0], [1]], [[1], [0]]], W_o=[[1], [1]])

VALID = {  # function: keyword arguments of a valid call
    attention: dict(Q=Q, K=K, V=V, mask=np.ones((2, 4), dtype=bool)),
    softmax: dict(s=RNG.normal(size=(2, 3)), mask=np.ones((2, 3), dtype=bool)),
    multihead_attention: dict(X_q=X_q, X_kv=X_kv, W_q=W_q, W_k=W_k, W_v=W_v, W_o=W_o, mask=np.ones((2, 3), bool)),
    exact_number: dict(x="1/3"),
    as_exact: dict(x=[[1, "1/2"], [0, 2]]),
    rational_rows: dict(x=[[1, "1/2"], [0, 2]]),
    exact_scores: dict(Q=[[1, 0]], K=[[1, 0], [0, 1]], scale=1),
    exact_softmax: dict(s=[1, "1/2", 0], mask=[True, True, False]),
    exact_attention: dict(Q=[[1, 0], [0, 1]], K=[[1, 0], [0, 1], [1, 1]], V=[[1, 0], [0, 1], [1, 1]],
                          mask=[[True, True, False], [True, True, True]]),
    exact_multihead_attention: dict(**EXACT_HEADS, mask=[[True, True, False], [True, True, True]]),
    exact_equal: dict(x=[1, "1/2"], y=[1, 0.5]),
    is_zero: dict(expr=sp.E - sp.Rational(2718, 1000)),
    is_nonnegative: dict(expr=1 - sp.E),
    one_fraction: dict(expr=sp.E / (1 + sp.E) + 1 / (1 + sp.E)),
    to_numeric: dict(M=sp.Matrix([[sp.E, sp.Rational(1, 3)]])),
    eliminate: dict(V=EXACT_V),
    null_space: dict(V=EXACT_V),
    solution_set: dict(V=EXACT_V, z=[1, 2]),
    in_span: dict(V=EXACT_V, z=[1, 2]),
    affine_solution_set: dict(V=EXACT_V, z=["1/4", "1/2"]),
    in_hull: dict(V=EXACT_V, z=["1/4", "1/2"]),
    distance_to_span: dict(V=[[1, 1, 0], [0, 0, 1]], z=[1, 0, 0]),
}


def battery():
    """(function, argument, kind, bad value) for every argument of every public function."""
    cases = []

    def add(fn, arg, kinds):
        cases.extend((fn, arg, kind, value) for kind, value in kinds)

    add(attention, "Q", numeric_kinds(Q, batch=True))  # a 1-D Q is a single query, a 3-D one a batch
    add(attention, "K", numeric_kinds(K, batch=True, too_low=True))
    add(attention, "V", numeric_kinds(V, batch=True, too_low=True))
    add(attention, "mask", mask_kinds((2, 4), exact=False))
    add(attention, "scale", NUMERIC_SCALES)
    add(attention, "fully_masked", POLICIES)
    add(attention, "causal", FLAGS)
    add(attention, "weights", FLAGS)
    add(attention, "block_size", BLOCK_SIZES)
    add(softmax, "s", numeric_kinds(VALID[softmax]["s"], batch=True))
    add(softmax, "mask", [k for k in mask_kinds((2, 3), exact=False) if k[0] != "zero batch"])
    add(softmax, "fully_masked", POLICIES)
    for arg in ("X_q", "X_kv", "W_o"):
        add(multihead_attention, arg, numeric_kinds(VALID[multihead_attention][arg], too_low=True, too_high=True))
    for arg in ("W_q", "W_k", "W_v"):
        add(multihead_attention, arg, numeric_kinds(VALID[multihead_attention][arg], too_low=True, too_high=True))
    add(multihead_attention, "mask", mask_kinds((2, 3), exact=False))
    add(multihead_attention, "fully_masked", POLICIES)
    add(multihead_attention, "causal", FLAGS)
    add(multihead_attention, "weights", FLAGS)

    for fn in (as_exact, rational_rows):
        add(fn, "x", exact_kinds(VALID[fn]["x"]))
    for arg in ("Q", "K"):
        add(exact_scores, arg, exact_kinds(VALID[exact_scores][arg]))
    add(exact_scores, "scale", EXACT_SCALES)
    add(exact_softmax, "s", vector_kinds(VALID[exact_softmax]["s"]))
    add(exact_softmax, "mask", mask_kinds((3,), exact=True))
    add(exact_softmax, "fully_masked", POLICIES)
    for arg in ("Q", "K", "V"):
        add(exact_attention, arg, exact_kinds(VALID[exact_attention][arg]))
    add(exact_attention, "mask", mask_kinds((2, 3), exact=True))
    add(exact_attention, "scale", EXACT_SCALES)
    add(exact_attention, "causal", FLAGS)
    add(exact_attention, "fully_masked", POLICIES)
    for arg, value in EXACT_HEADS.items():
        add(exact_multihead_attention, arg, exact_kinds(value))
    add(exact_multihead_attention, "mask", mask_kinds((2, 3), exact=True))
    add(exact_multihead_attention, "causal", FLAGS)
    add(exact_multihead_attention, "fully_masked", POLICIES)
    for arg in ("x", "y"):
        add(exact_equal, arg, [(kind, value) for kind, value in vector_kinds([1, "1/2"])
                               if kind not in ("empty list", "scalar", "rank too high")])
    for fn in (is_zero, is_nonnegative):  # is_zero decides an expression in symbols: zero for every value or not
        add(fn, "expr", [k for k in EXPRESSIONS if fn is not is_zero or k[0] != "symbol"])
    add(one_fraction, "expr", [("None", None), ("word", "abc"), ("sympy I", sp.I), ("complex", 2 + 3j),
                               ("ragged list", [[1], [2, 3]])])
    add(to_numeric, "M", [("None", None), ("word", "abc"), ("sympy I", sp.I), ("matrix with I", sp.Matrix([[sp.I]])),
                          ("complex", 2 + 3j), ("sympy nan", sp.nan), ("sympy oo", sp.oo), ("sympy zoo", sp.zoo),
                          ("symbol", sp.Symbol("t")), ("matrix with a symbol", sp.Matrix([[sp.Symbol("t")]])),
                          ("ragged list", [[1], [2, 3]]), ("empty matrix", sp.zeros(0, 2))])
    for fn in (eliminate, null_space, solution_set, in_span, affine_solution_set, in_hull, distance_to_span):
        add(fn, "V", exact_kinds(VALID[fn]["V"]))
    for fn in (solution_set, in_span, affine_solution_set, in_hull, distance_to_span):
        add(fn, "z", vector_kinds(VALID[fn]["z"]) + [("wrong length", [*VALID[fn]["z"], 0])])
    return cases


BATTERY = battery()


@pytest.mark.parametrize("fn, arg, kind, value", BATTERY,
                         ids=[f"{fn.__name__}-{arg}-{kind}" for fn, arg, kind, _ in BATTERY])
def test_bad_input_is_refused_in_one_line_naming_the_argument(fn, arg, kind, value):
    base = {k: v for k, v in VALID[fn].items() if k != "mask"}  # no mask: a data shape change is not a mask error
    message = refused(lambda: fn(**{**base, arg: value}), arg)
    if value is None:
        assert not re.search(r"\b(is|=) nan\b", message, re.IGNORECASE), message  # None is missing, not NaN


NUMBERS_THAT_ARE_NOT = [None, "abc", "", "1/2/3", "--1", "12abc", "1/0", "1e999", float("nan"), float("inf"),
                        -float("inf"), 1 + 5j, sp.I, sp.oo, sp.nan, sp.zoo, True, np.bool_(False), [1]]


@pytest.mark.parametrize("x", NUMBERS_THAT_ARE_NOT, ids=repr)
def test_exact_number_refuses_what_spells_no_real_number(x):
    refused(lambda: exact_number(x), "x")
    refused(lambda: exact_number(x, name="q[0]"), "q")


@pytest.mark.parametrize("text, want", [("1.5/2", sp.Rational(3, 4)), ("1e2/3", sp.Rational(100, 3)),
                                        ("1/-3", sp.Rational(-1, 3)), ("0.5", sp.Rational(1, 2)),
                                        ("1/3", sp.Rational(1, 3))])
def test_exact_number_reads_decimals_over_integers(text, want):
    assert exact_number(text) == want


# ---------------------------------------------------------------------------------------------------------------
# The cases of the bug report, one test each.

def test_d_k_zero_is_refused():
    refused(lambda: attention(np.zeros((2, 0)), np.zeros((4, 0)), V), "Q", "K")
    refused(lambda: attention(np.zeros(0), np.zeros((4, 0)), V), "Q", "K")
    refused(lambda: exact_attention(sp.zeros(2, 0), sp.zeros(3, 0), [[1], [2], [3]]), "Q", "K")
    refused(lambda: exact_scores(sp.zeros(1, 0), sp.zeros(2, 0)), "Q", "K")
    refused(lambda: multihead_attention(X_q, X_kv, np.zeros((2, 4, 0)), np.zeros((2, 4, 0)), W_v, W_o),
            "W_q", "W_k")


def test_a_zero_size_batch_is_refused():
    refused(lambda: attention(np.zeros((0, 2, 3)), np.zeros((0, 4, 3)), np.zeros((0, 4, 2))), "Q", "K", "V")
    refused(lambda: attention(Q, K, V, mask=np.ones((0, 2, 4), dtype=bool)), "mask")
    refused(lambda: softmax(np.zeros((0, 3))), "s")


def test_a_ragged_mask_is_refused():
    ragged_mask = [[True, True, False, True], [True]]
    refused(lambda: attention(Q, K, V, mask=ragged_mask), "mask")
    refused(lambda: attention(Q, K, V, mask=ragged_mask, weights=True), "mask")
    refused(lambda: exact_attention(Q.tolist(), K.tolist(), V.tolist(), mask=ragged_mask), "mask")


@pytest.mark.parametrize("scale", ["two", 1 + 5j, np.array([1.0, 2.0])], ids=repr)
def test_a_scale_that_is_a_word_complex_or_an_array_is_refused(scale):
    for kwargs in ({}, {"weights": True}):
        refused(lambda kwargs=kwargs: attention(Q, K, V, scale=scale, **kwargs), "scale")
    refused(lambda: exact_attention([[1, 0]], [[1, 0], [0, 1]], [[1], [2]], scale=scale), "scale")
    refused(lambda: exact_scores([[1, 0]], [[1, 0], [0, 1]], scale=scale), "scale")


@pytest.mark.parametrize("fn", [in_span, solution_set, in_hull, affine_solution_set, distance_to_span],
                         ids=lambda fn: fn.__name__)
@pytest.mark.parametrize("z", [5, sp.Integer(5), sp.Rational(1, 2), 0.5], ids=["int", "Integer", "Rational", "float"])
def test_a_scalar_z_is_refused(fn, z):
    refused(lambda: fn([[1, 0], [0, 1]], z), "z")
    refused(lambda: fn([[1], [2]], z), "z")  # values in R^1: a scalar is still not a vector


@pytest.mark.parametrize("V0", [sp.zeros(0, 3), np.zeros((0, 3)), []], ids=["sympy", "numpy", "list"])
def test_null_space_of_a_matrix_with_no_rows_is_refused(V0):
    refused(lambda: null_space(V0), "V")
    refused(lambda: eliminate(V0), "V")


def test_ragged_heads_are_refused_in_both_multihead_functions():
    heads = [RNG.normal(size=(4, 2)), RNG.normal(size=(4, 3))]  # two heads of different sizes
    refused(lambda: multihead_attention(X_q, X_kv, heads, W_k, W_v, W_o), "W_q")
    refused(lambda: multihead_attention(X_q, X_kv, [h.tolist() for h in heads], W_k, W_v, W_o), "W_q")
    exact_heads = [[[1], [0]], [[1, 0], [0, 1]]]  # (2, 1) and (2, 2)
    refused(lambda: exact_multihead_attention(**{**EXACT_HEADS, "W_q": exact_heads}), "W_q")
    refused(lambda: exact_multihead_attention(**{**EXACT_HEADS, "W_v": exact_heads}), "W_v")


def test_a_missing_Q_is_not_called_nan():
    for kwargs in ({}, {"weights": True}):
        message = refused(lambda kwargs=kwargs: attention(None, K, V, **kwargs), "Q")
        assert not re.search(r"\bnan\b", message, re.IGNORECASE), message
        assert re.search(r"missing|None|not an array|array of numbers", message), message


def test_exact_softmax_reads_decimal_strings_as_rationals():
    alpha = exact_softmax(["0.5", 0.25])
    assert not alpha.atoms(sp.Float)
    assert exact_equal(alpha, exact_softmax([sp.Rational(1, 2), sp.Rational(1, 4)]))
    assert exact_equal(alpha, [1 / (1 + sp.exp(sp.Rational(-1, 4))), 1 / (1 + sp.exp(sp.Rational(1, 4)))])


def test_exact_softmax_refuses_a_whole_string_and_infinite_scores():
    refused(lambda: exact_softmax("12"), "s")
    refused(lambda: exact_softmax([float("inf"), 1]), "s")
    refused(lambda: exact_softmax([sp.oo, 1]), "s")


@pytest.mark.parametrize("z", ["12", [float("nan"), 0], [float("inf"), 0], [0, sp.nan], [0, sp.oo], [0, sp.zoo]],
                         ids=repr)
def test_in_span_refuses_a_string_and_non_finite_targets(z):
    refused(lambda: in_span([[1, 0]], z), "z")


@pytest.mark.parametrize("call", [
    lambda: as_exact([[1, sp.I]]),
    lambda: exact_attention([[1, 0]], [[1, 0], [0, 1]], [[sp.I], [1]]),
    lambda: exact_softmax([sp.I, 0]),
    lambda: in_span([[1, 0]], [sp.I, 0]),
    lambda: in_hull([[0, 0], [1, 0]], [sp.I, 0]),
    lambda: exact_equal([sp.I], [1]),
    lambda: exact_scores([[1, 0]], [[1, 0]], scale=sp.I),
], ids=["as_exact", "exact_attention", "exact_softmax", "in_span", "in_hull", "exact_equal", "exact_scores"])
def test_complex_sympy_numbers_are_refused(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(VecmixError):
            call()


# ---------------------------------------------------------------------------------------------------------------
# Valid calls: scales of every sign, and inputs left as they were.

def test_negative_and_zero_scales_agree_between_the_paths():
    q, keys, values = [[1, 0], [0, 2]], [[1, 0], [0, 1], [1, 1]], [[1, 0], [0, 1], [3, -1]]
    for scale in (-1, 0):
        Z_exact, A_exact = exact_attention(q, keys, values, scale=scale)
        Z, A = attention(np.array(q, float), np.array(keys, float), np.array(values, float), scale=float(scale),
                         weights=True)
        np.testing.assert_allclose(to_numeric(A_exact), A, rtol=0, atol=1e-12)
        np.testing.assert_allclose(to_numeric(Z_exact), Z, rtol=0, atol=1e-12)
    assert exact_equal(exact_attention(q, keys, values, scale=0)[1], sp.ones(2, 3) / 3)  # zero: uniform weights
    Z_neg, _ = attention(np.array(q, float), np.array(keys, float), np.array(values, float), scale=-1.0,
                         weights=True)
    Z_pos, _ = attention(-np.array(q, float), np.array(keys, float), np.array(values, float), scale=1.0,
                         weights=True)
    np.testing.assert_allclose(Z_neg, Z_pos, rtol=0, atol=1e-12)  # a negative scale reverses the preference


def test_an_explicit_scale_of_None_is_the_default():
    np.testing.assert_array_equal(attention(Q, K, V, scale=None), attention(Q, K, V))
    assert exact_scores([[1, 1]], [[1, 0]], scale=None) == exact_scores([[1, 1]], [[1, 0]])


def same(before, after):
    """Whether after is still exactly before (arrays, SymPy matrices, nested lists)."""
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and before.dtype == after.dtype and np.array_equal(before, after)
    if isinstance(before, (list, tuple)):
        return type(before) is type(after) and len(before) == len(after) and all(map(same, before, after))
    return type(before) is type(after) and before == after


MUTABLE = {  # valid calls whose inputs are numpy arrays, nested lists and SymPy matrices
    **VALID,
    as_exact: dict(x=sp.Matrix([[1, sp.Rational(1, 2)], [0, 2]])),
    exact_attention: dict(Q=np.array([[1.0, 0.0], [0.0, 1.0]]), K=sp.Matrix([[1, 0], [0, 1], [1, 1]]),
                          V=[[1, 0], [0, 1], [1, 1]], mask=np.array([[True, True, False], [True, True, True]])),
    exact_multihead_attention: dict(**{k: np.array(v) for k, v in EXACT_HEADS.items()},
                                    mask=np.array([[True, True, False], [True, True, True]])),
    eliminate: dict(V=np.array(EXACT_V)),
    in_span: dict(V=sp.Matrix(EXACT_V), z=sp.Matrix([sp.E, 1])),
    in_hull: dict(V=np.array(EXACT_V), z=np.array([0.25, 0.5])),
    distance_to_span: dict(V=sp.Matrix([[1, 1]]), z=[1, 0]),
    exact_equal: dict(x=sp.Matrix([sp.E / (1 + sp.E), 1]), y=[1 - 1 / (1 + sp.E), "1"]),
}


@pytest.mark.parametrize("fn", list(MUTABLE), ids=lambda fn: fn.__name__)
def test_valid_calls_leave_their_inputs_as_they_were(fn):
    kwargs = MUTABLE[fn]
    before = copy.deepcopy(kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fn(**kwargs)
    for arg in kwargs:
        assert same(before[arg], kwargs[arg]), f"{fn.__name__} changed {arg}"


# ---------------------------------------------------------------------------------------------------------------
# Exact decisions: right on huge zeros, tiny nonzeros and near-cancellations.

a = sp.exp(sp.Rational(1, 100003))


def test_an_exact_zero_with_huge_terms_is_zero():
    left, right = sp.exp(300) * (1 + a) ** 2, sp.exp(300) * (1 + 2 * a + sp.exp(sp.Rational(2, 100003)))
    assert is_zero(left - right) is True
    assert exact_equal(left, right) is True


def test_tiny_nonzero_values_are_decided_not_refused():
    assert is_zero(sp.exp(-300)) is False
    assert is_nonnegative(-sp.exp(-100)) is False
    assert is_nonnegative(sp.exp(-300)) is True
    assert in_span([[1, 0]], [0, sp.exp(-100)]) is False
    assert in_hull([[0, 0], [1, 0], [0, 1]], [-sp.exp(-100), sp.Rational(1, 2)]) == (False, None)


def test_an_output_with_a_weight_near_e_to_the_minus_200_is_in_the_hull():
    values = [[1, 0], [0, 1]]
    Z, A = exact_attention([[1]], [[0], [200]], values, scale=1)  # alpha_0 = 1 / (1 + e^200)
    inside, c = in_hull(values, Z.T)
    assert inside is True
    assert exact_equal(c, A.T)


def test_near_cancellations_that_are_not_zero_have_a_sign():
    taylor = sp.exp(sp.Rational(1, 10**6)) - 1 - sp.Rational(1, 10**6) - sp.Rational(1, 2 * 10**12)  # ~ 1.7e-19
    assert is_zero(taylor) is False
    assert is_nonnegative(taylor) is True
    pi_62 = sp.pi - sp.Rational(314159265358979323846264338327950288419716939937510582097494459, 10**62)  # ~ 2.3e-63
    assert is_zero(pi_62) is False
    assert is_nonnegative(pi_62) is True
    assert is_nonnegative(-pi_62) is False


@pytest.mark.parametrize("expr", [
    sp.sin(1) ** 2 + sp.cos(1) ** 2 - 1,
    (1 + sp.sqrt(2)) * (sp.sqrt(2) - 1) - 1,
    1 / (sp.sqrt(2) - 1) - 1 - sp.sqrt(2),
], ids=["sin^2 + cos^2 - 1", "(1 + sqrt2)(sqrt2 - 1) - 1", "1/(sqrt2 - 1) - 1 - sqrt2"])
def test_algebraic_and_trigonometric_zeros_are_zero(expr):
    assert is_zero(expr) is True
    assert is_nonnegative(expr) is True


@pytest.mark.parametrize("expr", [sp.I, 2 + sp.I, "abc", "x"], ids=repr)
def test_is_zero_refuses_non_reals_and_strings(expr):
    with pytest.raises(VecmixError):
        is_zero(expr)


# ---------------------------------------------------------------------------------------------------------------
# Found by an adversarial review after the first fixes: precision kept where the float range allows it.

def test_a_masked_huge_value_does_not_erase_a_tiny_visible_one():
    assert attention([0.0], [[0.0], [0.0]], [[1e308], [1e-300]], mask=[False, True])[0] == 1e-300
    Z = attention(np.zeros((2, 1, 1)), np.zeros((2, 1, 1)), np.array([[[1e308]], [[1e-300]]]))
    assert Z[1, 0, 0] == 1e-300


def test_scores_that_overflow_elsewhere_leave_the_finite_ones_exact():
    Q = np.array([[1e300, 1e-290, 0], [0, 0, 1e158]])
    K = np.array([[1e-290, 1e300, 0], [1e-290, -1e300, 0], [0, 0, 1e157]])
    V = np.array([[1.0], [0.0], [0.0]])
    want = math.exp(2) / (math.exp(2) + 2)  # row 0 has scores 2, 0, 0
    for kwargs in ({}, {"weights": True}):
        Z = attention(Q, K, V, scale=1e-10, **kwargs)
        Z = Z[0] if kwargs else Z
        assert abs(Z[0, 0] - want) < 1e-15


def test_float32_with_a_scale_it_cannot_hold_is_computed_in_float64():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Z = attention(np.ones((1, 2), np.float32), np.ones((2, 2), np.float32), np.ones((2, 1), np.float32), scale=1e300)
    assert Z.dtype == np.float64 and Z[0, 0] == 1.0


def test_numbers_too_long_to_print_are_described_not_crashed_on():
    refused(lambda: exact_number("1" * 5000), "x")
    refused(lambda: to_numeric(sp.Integer(10) ** 5000), "M")
    refused(lambda: softmax(np.array([10 ** 5000, 1], dtype=object)), "s")
    refused(lambda: attention(np.array([[np.longdouble("1e400")]]), [[1.0], [0.0]], [[1.0], [0.0]]), "Q")


def test_an_imaginary_value_without_I_is_refused():
    refused(lambda: in_hull([[1, 0], [0, 1]], [1 - sp.sqrt(2 - sp.E), 0]), "z")
    refused(lambda: in_span([[1, 0]], [0, sp.sqrt(2 - sp.E)]), "z")


def test_membership_of_a_vector_of_symbols_is_refused():
    for fn in (in_span, in_hull, solution_set, affine_solution_set):
        refused(lambda fn=fn: fn([[1, 0], [0, 1]], [0, sp.Symbol("x")]), "z")


def test_float32_arrays_read_as_the_decimals_they_print():
    V32 = np.array([[0.1, 0.3]], np.float32)
    assert in_span(V32, [np.float32(0.1), np.float32(0.3)]) and in_span([V32[0]], ["0.1", "0.3"])
    assert in_span(V32, ["0.1", "0.3"]) and in_span([[0.1, 0.3]], np.array([0.1, 0.3], np.float32))


def test_a_sympy_number_is_a_scale():
    assert np.isclose(attention([[1.0]], [[1.0], [0.0]], [[1.0], [0.0]], scale=sp.sqrt(2))[0, 0],
                      math.exp(math.sqrt(2)) / (math.exp(math.sqrt(2)) + 1))


def test_review_findings_are_refused_by_name():
    from fractions import Fraction

    refused(lambda: attention([1e300], [[1e300], [-1e300]], [[1.0], [0.0]], scale=Fraction(1, 10 ** 400)), "scale")
    refused(lambda: is_nonnegative(sp.exp(4 * sp.sqrt(2 - sp.E))), "expr")
    refused(lambda: multihead_attention(X_q, X_kv, W_q, W_k, W_v, W_o, mask=np.ones((7, 1, 2, 3), bool)), "mask")
    refused(lambda: multihead_attention(X_q * 1e200, X_kv, W_q * 1e200, W_k, W_v, W_o), "W_q")
