"""The scaling lab: common random numbers, the footnote's assumptions as inputs, and checks that can fail."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from labs.catalogue import scaling
from labs.claims.faults import FAULTS, injected
from labs.reproduce import build, compose_lab
from vecmix import VecmixError

ROOT = Path(__file__).resolve().parent.parent
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


def test_the_default_scale_is_read_back_pair_by_pair_not_as_a_second_variance_test():
    # The old claim default-scale-unit-variance was monte-carlo's variance test divided by d_k on the same sample.
    result = run()
    c = claims(result)
    assert "default-scale-unit-variance" not in c and c["default-scale"].holds and "standard error" not in \
        c["default-scale"].observed
    assert claims(run(variance=2))["default-scale"].holds  # a law that changes the variance does not touch it
    assert claims(run(correlation="9/10"))["default-scale"].holds  # scores up to ~30: log(a1) - log(a2) still reads
    for name, factor in (("scale-missing", 4.0), ("scale-over-d_k", 1 / 4)):  # 1 and 1/16 instead of 1/sqrt(16)
        with injected(FAULTS[name]):
            faulty = run()
        assert not claims(faulty)["default-scale"].holds
        assert values(faulty)["default_scale_score_variance"] == pytest.approx(
            factor**2 * values(result)["default_scale_score_variance"], rel=1e-2)  # stored to 3 digits


def test_monte_carlo_is_compared_with_the_derivation_not_with_the_footnotes_constants():
    # The old claim expected mean 0 and variance d_k whatever the law, so it failed exactly when the derivation held.
    for law in ({"variance": 2}, {"mean": "1/2"}, {"correlation": "1/2"}, {"mean": "1/4", "variance": "3/2",
                                                                            "correlation": "1/5"}):
        c = claims(run(**law))["monte-carlo"]
        assert c.holds, (law, c.observed)
    assert claims(run(variance=2))["monte-carlo"].expected.endswith("variance within 4 of 64")  # d_k sigma^4, not d_k
    with injected(FAULTS["moments-cross-terms-as-diagonal"]):  # a wrong derivation (d_k^2 at the footnote's law)
        faulty = claims(run())
    assert not faulty["monte-carlo"].holds and not faulty["variance-d_k"].holds


def test_the_jacobian_norm_loses_no_digits_when_one_weight_is_nearly_1():
    a = np.array([[1 - 3e-12, 1e-12, 2e-12], [0.5, 0.25, 0.25]])
    exact_a = [[1 - sp.Rational(3, 10**12), sp.Rational(1, 10**12), sp.Rational(2, 10**12)],
               [sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 4)]]
    for row, norm in zip(exact_a, scaling.jacobian_norms(a)):
        alpha = sp.Matrix(row)
        J = sp.diag(*row) - alpha * alpha.T
        assert norm == pytest.approx(float(sp.sqrt(sum(x**2 for x in J))), rel=1e-12)


def test_float32_scores_past_exp_overflow_show_a_softmax_without_its_max_shift():
    params = {**SMALL, "trials": 200, "n_keys": 16}
    result = claims(scaling.run(params))
    assert result["float32-finite"].holds and result["unscaled-saturates"].holds
    with injected(FAULTS["softmax-no-max-shift"]):
        faulty = claims(scaling.run(params))
    assert not faulty["float32-finite"].holds and "not finite" in faulty["float32-finite"].observed
    assert not claims(run(variance="1/10000"))["float32-finite"].holds  # scores near 0: nothing to overflow


def test_the_caption_and_the_numbers_follow_the_run():
    # The old caption said "softmax collapses onto one key" beside a table without collapse, and the Monte Carlo
    # line printed "mean 0.000 (standard error 0.000)" for tiny components.
    report = "\n".join(run(variance="1/10000").sections)
    assert "collapses onto one key" not in report and "does not collapse" in report
    assert "mean 0.000" not in report and "is 0.0," not in report
    assert "collapses onto one key" in "\n".join(run().sections)


@pytest.mark.parametrize("env", [{"OPENBLAS_CORETYPE": "Prescott"},
                                 {"NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"}])
def test_results_are_the_same_bytes_under_another_blas_kernel_or_without_avx(env):
    # The old scaling lab computed its Jacobian norms in float32 and stored 6 digits: the Prescott kernel changed them.
    labs = ("scaling", "efficient_variants")  # the two that mix floats through BLAS into stored numbers
    here = {lab: build(compose_lab(lab))[0] for lab in labs}
    script = ("import hashlib, sys; from labs.reproduce import build, compose_lab\n"
              "for lab in sys.argv[1:]:\n"
              "    files, _ = build(compose_lab(lab))\n"
              "    print(lab, hashlib.sha256(files['results.json'] + files['report.md']).hexdigest())\n")
    proc = subprocess.run([sys.executable, "-c", script, *labs], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr[-2000:]
    there = dict(line.split() for line in proc.stdout.splitlines())
    assert there == {lab: hashlib.sha256(f["results.json"] + f["report.md"]).hexdigest() for lab, f in here.items()}


def test_breaking_the_footnotes_assumptions_breaks_its_conclusions():
    correlated = claims(run(correlation="1/2"))
    assert correlated["variance-d_k"].observed == "d_k*(d_k + 3)/4" and not correlated["variance-d_k"].holds
    assert not claims(run(mean="1/2"))["mean-zero"].holds
    assert not claims(run(correlation="9/10"))["scaled-stays"].holds  # scaling by sqrt(d_k) no longer suffices
    assert not claims(run(variance="1/10000"))["unscaled-saturates"].holds


def test_the_lab_cites_the_paper_and_002_not_the_paper_lab():
    result = run()
    assert "001" not in result.intro and "002_7fa86cbe478c569d.txt` §2" in result.intro
    assert {c.id: c.source for c in result.claims}["default-scale"] == "vecmix (policy)"


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


