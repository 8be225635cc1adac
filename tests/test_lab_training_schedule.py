"""Lab training_schedule: the schedule's shape for any d_model and warmup, label smoothing for any epsilon and K."""

import math

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from labs.catalogue.training_schedule import learning_rate, run, smoothed_target
from labs.reproduce import build, compose_lab
from vecmix import VecmixError


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4096), st.integers(1, 20000), st.integers(1, 10**6))
def test_the_rate_rises_to_its_peak_at_warmup_then_halves_every_fourfold(d_model, warmup, s):
    peak = learning_rate(warmup, d_model, warmup)
    assert sp.simplify(peak - 1 / sp.sqrt(d_model * warmup)) == 0
    rate = learning_rate(s, d_model, warmup)
    assert float(rate) <= float(peak) * (1 + 1e-12)
    if s >= warmup:
        assert sp.nsimplify(learning_rate(4 * s, d_model, warmup) / rate) == sp.Rational(1, 2)
    else:
        assert sp.simplify(rate - s / (sp.sqrt(d_model) * warmup ** sp.Rational(3, 2))) == 0


@settings(max_examples=40, deadline=None)
@given(st.fractions(0, 1).filter(lambda e: e < 1), st.integers(2, 10**6))
def test_the_smoothed_target_is_a_distribution(epsilon, K):
    true_class, other = smoothed_target(sp.Rational(epsilon.numerator, epsilon.denominator), K)
    assert true_class + (K - 1) * other == 1 and other >= 0 and true_class >= other


def test_the_best_prediction_is_less_sure_the_more_the_target_is_smoothed():
    tops = []
    for e in ("0", "0.05", "0.1", "0.2"):
        result = run({"d_model": 512, "warmup_steps": 4000, "steps": [1], "smoothing": e, "vocabulary": 37000})
        claims = {c.id: c for c in result.claims}
        assert claims["smoothing-caps-confidence"].holds == (e != "0")
        tops.append(dict((v.name, v.exact) for v in result.values)["smoothed_true_class"])
    assert tops == sorted(tops, reverse=True) and tops[0] == 1
    assert tops[2] == sp.Rational(333001, 370000)  # 1 - 1/10 + 1/370000


def test_the_peak_at_the_papers_values():
    values = {v.name: v for v in run({"d_model": 512, "warmup_steps": 4000, "steps": [1], "smoothing": "0.1",
                                      "vocabulary": 37000}).values}
    assert values["peak"].exact == sp.sqrt(5) / 3200 and math.isclose(values["peak"].numeric, 6.98771e-4, rel_tol=1e-5)


@pytest.mark.parametrize("overrides, message", [
    (["lab.smoothing=-1/10"], r"lab.smoothing = -1/10 must lie in \[0, 1\)"),
    (["lab.vocabulary=1"], "lab.vocabulary = 1 leaves nothing to smooth over"),
    (["lab.steps=[]"], "lab.steps is empty"),
    (["lab.warmup_steps=0"], "lab.warmup_steps = 0 must be a positive integer"),
    (["lab.steps=[1,2000000000]"], r"lab.steps\[1\] = 2000000000 is too large for this lab"),
])
def test_bad_values_are_refused_by_name(overrides, message):
    with pytest.raises(VecmixError, match=message):
        build(compose_lab("training_schedule", overrides))
