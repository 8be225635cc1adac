"""The scaling lab: common random numbers, the footnote's assumptions as inputs, and checks that can fail."""

import numpy as np
import pytest
import sympy as sp

from labs.catalogue import scaling
from labs.claims.faults import FAULTS, injected
from labs.reproduce import build, compose_lab
from vecmix import VecmixError

SMALL = {"d_k": 16, "n_keys": 8, "samples": 4000, "trials": 60, "seed": 0, "mean": 0, "variance": 1,
         "correlation": 0}


def run(**overrides):
    return scaling.run({**SMALL, **overrides})


def values(result):
    return {v.name: v.numeric for v in result.values}


def claims(result):
    return {c.id: c for c in result.claims}


def test_at_d_k_1_the_scale_is_1_so_both_curves_agree():
    # The old lab drew the scaled and the unscaled curves from separate random numbers.
    v = values(run())
    assert v["largest_weight_unscaled"][0] == v["largest_weight_scaled"][0]
    assert v["jacobian_norm_unscaled"][0] == v["jacobian_norm_scaled"][0]
    assert v["largest_weight_unscaled"][-1] > v["largest_weight_scaled"][-1]  # and they part as d_k grows


def test_the_derivation_in_known_cases():
    _, _, variance = scaling.moments()
    mu, s2, rho, d = scaling.mu, scaling.sigma2, scaling.rho, scaling.d
    assert sp.expand(variance.subs({mu: 0, s2: 1, rho: 0}) - d) == 0  # the footnote
    assert sp.expand(variance.subs({mu: 0, s2: 1, rho: 1}) - d**2) == 0  # q = x (1..1), k = y (1..1): q . k = d x y
    assert sp.expand(variance.subs(rho, 0) - d * (s2**2 + 2 * s2 * mu**2)) == 0  # independent terms, mean mu


def test_monte_carlo_agrees_with_the_derivation_for_another_law():
    law = (sp.Rational(1, 2), sp.Integer(2), sp.Rational(1, 4))
    mean, _, variance = scaling.moments()
    at = {scaling.mu: law[0], scaling.sigma2: law[1], scaling.rho: law[2], scaling.d: 8}
    rng = np.random.default_rng(7)
    dots = np.einsum("sd,sd->s", scaling.draw(rng, (200_000, 8), law), scaling.draw(rng, (200_000, 8), law))
    assert dots.mean() == pytest.approx(float(mean.subs(at)), rel=0.02)
    assert dots.var() == pytest.approx(float(variance.subs(at)), rel=0.02)


def test_the_scores_vecmix_uses_by_default_are_read_back_and_faults_show():
    # The old claim scaled-variance-one compared d_k / d_k with 1 and could not fail.
    result = run()
    assert "scaled-variance-one" not in claims(result)
    assert claims(result)["default-scale-unit-variance"].holds
    for name, variance in (("scale-missing", 16), ("scale-over-d_k", 1 / 16)):
        with injected(FAULTS[name]):
            faulty = run()
        assert values(faulty)["default_scale_score_variance"] == pytest.approx(variance, rel=0.1)
        assert not claims(faulty)["default-scale-unit-variance"].holds


def test_float32_scores_past_exp_overflow_show_a_softmax_without_its_max_shift():
    params = {**SMALL, "trials": 200, "n_keys": 16}
    assert claims(scaling.run(params))["unscaled-saturates"].holds
    with injected(FAULTS["softmax-no-max-shift"]):
        assert not claims(scaling.run(params))["unscaled-saturates"].holds


def test_breaking_the_footnotes_assumptions_breaks_its_conclusions():
    correlated = claims(run(correlation="1/2"))
    assert correlated["variance-d_k"].observed == "d_k*(d_k + 3)/4" and not correlated["variance-d_k"].holds
    assert not claims(run(mean="1/2"))["mean-zero"].holds
    assert not claims(run(correlation="9/10"))["scaled-stays"].holds  # scaling by sqrt(d_k) no longer suffices
    assert not claims(run(variance="1/10000"))["unscaled-saturates"].holds


def test_report_keeps_we_suspect_and_states_the_assumptions():
    files, result = build(compose_lab("scaling"))
    report = files["report.md"].decode()
    assert "We suspect" in report and "independent random variables with mean 0 and variance 1" in report
    assert result.reproduced


def test_a_law_that_is_not_one_is_refused_by_name():
    with pytest.raises(VecmixError, match="lab.correlation = 2 must lie between 0 and 1"):
        run(correlation=2)
    with pytest.raises(VecmixError, match="lab.variance"):
        run(variance=0)


