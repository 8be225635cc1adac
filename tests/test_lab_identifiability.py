"""The identifiability lab: same output (a) is kept apart from producible by a query (b), exactly."""

import json
import re

import numpy as np
import pytest
import sympy as sp
from omegaconf import OmegaConf

from labs.catalogue import identifiability as lab
from labs.report.latex import portable, safe
from labs.reproduce import build, compose_lab


def params(overrides=()):
    return OmegaConf.to_container(compose_lab("identifiability", list(overrides)).lab, resolve=True)


def claims(overrides=()):
    return {c.id: c for c in lab.run(params(overrides)).claims}


@pytest.fixture(scope="module")
def default():
    files, result = build(compose_lab("identifiability"))
    return json.loads(files["results.json"]), result, files["report.md"].decode()


def softmax(s):
    w = np.exp(np.asarray(s, dtype=float) - np.max(s))
    return w / w.sum()


def test_the_other_member_of_the_family_is_no_query_s_attention(default):
    """The old claim 'also-a-softmax' held for every positive gamma; log gamma must be affine in the keys."""
    doc, result, _ = default
    u = np.array(doc["values"]["flat_values"]["numeric"]).ravel()  # keys = values (003)
    beta = np.array(doc["values"]["flat_weights"]["numeric"])
    gamma = np.array(doc["values"]["other_weights"]["numeric"])
    assert abs(u @ beta - u @ gamma) < 1e-12 and abs(gamma.sum() - 1) < 1e-12 and (gamma > 0).all()
    lifted = np.column_stack([u, np.ones_like(u)])  # (m, 2): log alpha must lie in its column span

    def residual(p):
        coef = np.linalg.lstsq(lifted, np.log(p), rcond=None)[0]
        return np.linalg.norm(lifted @ coef - np.log(p))

    assert residual(beta) < 1e-12 and residual(gamma) > 1e-3
    assert "also-a-softmax" not in {c.id for c in result.claims}
    assert result.reproduced


def test_with_keys_equal_to_values_the_output_pins_the_distribution_down():
    """The theorem the report proves, sampled: q -> z(q) is strictly increasing for keys = values in R^1."""
    u = np.array([0.0, 0.5, 1.0])
    q = np.linspace(-30, 30, 2001)
    z = np.array([softmax(x * u) @ u for x in q])
    assert (np.diff(z) > 0).all()


def test_two_realisable_distributions_share_one_output_when_keys_differ(default):
    doc, _, _ = default
    p = params()
    u = np.array(p["flat_values"], dtype=float).ravel()
    k = np.array(p["other_keys"], dtype=float).ravel()
    alphas = [softmax(np.array(q, dtype=float) @ k[np.newaxis, :]) for q in p["other_queries"]]  # scores q k_i
    assert not np.allclose(alphas[0], alphas[1]) and abs(alphas[0] @ u - alphas[1] @ u) < 1e-12
    np.testing.assert_allclose(doc["values"]["other_keys_weights"]["numeric"], alphas, atol=1e-12)
    assert not claims(["lab.other_keys=[[0],[0.5],[1]]"])["two-queries-one-output"].holds


def test_the_report_separates_the_two_questions_and_answers_for_003(default):
    _, _, report = default
    assert "**(a)**" in report and "**(b)**" in report
    assert "## (a) When the sum forgets" in report and "## (b) Which of them can a query produce?" in report
    assert "So with keys equal to the values, the lab's reading of 003's answer, the output does determine" in report
    assert "$\\gamma$ does not: no query produces it" in report
    assert not re.search(r"\\[,;!:]", report)  # GitHub's Markdown parser eats these escapes before MathJax


def test_words_are_numbered_from_1_and_the_source_s_numbering_is_explained(default):
    doc, _, report = default
    assert portable("$q = v_{2}$ (003's $v^{<1>}$; 003 numbers words from 0, this report from 1)") in report
    assert "| 2 love |" in report and "| 1 i |" in report
    assert doc["config"]["lab"]["query_position"] == 2
    with pytest.raises(Exception, match="query_word"):  # the old 0-based key is refused, not silently reread
        compose_lab("identifiability", ["lab.query_word=1"])


def test_three_spaces_values_are_not_word_embeddings(default):
    doc, _, _ = default
    e = np.array(doc["values"]["word_embeddings"]["numeric"])
    V = np.array(doc["values"]["values"]["numeric"])
    alpha = np.array(doc["values"]["weights"]["numeric"])
    z = np.array(doc["values"]["output"]["numeric"])
    np.testing.assert_allclose(z, alpha @ V, atol=1e-12)
    assert np.linalg.norm(z - alpha @ e) > 0.1
    flipped = claims(["lab.positions=[[0,0],[0,0],[0,0]]", "lab.W_v=[[1,0],[0,1]]"])
    assert not flipped["output-mixes-values"].holds  # no positional encoding, W_v = I: v = e


def test_the_two_extremes_differ_unless_the_two_words_share_a_value(default):
    doc, _, _ = default
    V = np.array(doc["values"]["values"]["numeric"])
    ends = np.array(doc["values"]["extreme_outputs"]["numeric"])
    np.testing.assert_allclose(ends, V[[1, 2]], atol=1e-3)  # z^(2) ~ v_2, z^(3) ~ v_3
    same = claims(["lab.W_v=[[1,0],[2,0]]"])
    assert not same["extremes-differ"].holds and "the two outputs are equal" in same["extremes-differ"].observed


def test_exact_and_numeric_agree(default):
    doc, _, _ = default
    for name in ("weights", "flat_weights", "other_weights"):
        exact = [float(sp.sympify(x)) for x in doc["values"][name]["exact"]]  # our own strings, not learner input
        np.testing.assert_allclose(exact, doc["values"][name]["numeric"], atol=1e-12)


def test_affinely_independent_flat_values_are_a_valid_input_that_fails_honestly():
    result = claims(["lab.flat_values=[[0,0],[1,0],[0,1]]"])
    assert set(result) == set(lab.COUNTER_CASES)  # every claim still present
    assert not result["not-recoverable"].holds and not result["other-member-not-realisable"].holds
    assert "single point" in result["other-member-not-realisable"].observed


def test_same_config_gives_the_same_bytes(default):
    first = build(compose_lab("identifiability"))[0]
    second = build(compose_lab("identifiability"))[0]
    assert first["report.md"] == second["report.md"] and first["results.json"] == second["results.json"]


def report_of(overrides):
    files, result = build(compose_lab("identifiability", list(overrides)))
    return files["report.md"].decode(), {c.id: c for c in result.claims}


def test_z_is_a_mixture_of_the_word_embeddings_only_with_other_weights(default):
    """Review F1: 'z is not a mixture of word embeddings' was false; z = sum c_i e_i with c > 0, c != alpha."""
    doc, _, report = default
    e = np.array(doc["values"]["word_embeddings"]["numeric"])
    z = np.array(doc["values"]["output"]["numeric"])
    alpha = np.array(doc["values"]["weights"]["numeric"])
    c = np.linalg.solve(np.vstack([e.T, np.ones(3)]), np.append(z, 1))  # [e^T; 1] c = (z, 1): affine coordinates
    assert (c > 0).all() and np.linalg.norm(c - alpha) > 0.1  # z lies in the hull of the e_i, with other weights
    np.testing.assert_allclose(doc["values"]["output_on_word_embeddings"]["numeric"], c, atol=1e-12)
    assert "so $z$ is not a mixture of word" not in report and "a mixture of values rather than word" not in report
    assert "$z$ even lies in the convex hull of the word embeddings" in report
    # W_v = 3 I puts z outside the embeddings' hull: the prose must follow the coordinates, not assert either way
    outside, _ = report_of(["lab.W_v=[[3,0],[0,3]]"])
    assert "lies outside the convex hull of the word embeddings" in outside


def z_of_q(u, k, q):
    """The output U^T softmax(q k) for 1-D values u and keys k, at each query in q."""
    s = np.outer(q, k)  # (len(q), m) scores
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ u


def test_the_keys_condition_is_sufficient_not_necessary():
    """Review F2: keys (0, 1, 3) lie outside [U | 1], yet z(q) is strictly monotone: the output pins alpha down."""
    r = sp.Symbol("r", positive=True)  # r = e^q
    numerator = sp.Poly(sp.numer(sp.together(sp.diff((r / 2 + r**3) / (1 + r + r**3), r))), r)
    assert all(c >= 0 for c in numerator.all_coeffs()) and numerator.eval(0) > 0  # dz/dr > 0 for every r > 0
    u, k = np.array([0.0, 0.5, 1.0]), np.array([0.0, 1.0, 3.0])
    assert (np.diff(z_of_q(u, k, np.linspace(-6, 6, 1201))) > 0).all()
    report, found = report_of(["lab.other_keys=[[0],[1],[3]]"])
    assert "lies outside the column span of $[U \\mid 1]$" in report  # the argument does not apply...
    assert not found["two-queries-one-output"].holds  # ...and still the two queries are told apart
    assert "and not otherwise" not in report and "That condition is sufficient, not necessary." in report
    assert "these two queries are told apart by the output, although the argument above does not cover" in report


@pytest.mark.parametrize("keys", [[0, 1, 0], [0, 0.5, 1], [0, 1, 3], [1, 0, 1], [0, 2, 2], [0, 1, 2]])
def test_constant_output_along_the_curve_matches_sampling(keys):
    """The exact test behind Figure 1's caption agrees with the output sampled along the curve."""
    u = np.array([0.0, 0.5, 1.0])
    z = z_of_q(u, np.array(keys, dtype=float), np.linspace(-8, 8, 401))
    U, K = sp.Matrix([0, sp.Rational(1, 2), 1]), sp.Matrix([sp.nsimplify(x) for x in keys])
    assert lab._constant_output(U, K) == bool(np.ptp(z) < 1e-12)


@pytest.mark.parametrize("overrides", [["lab.other_keys=[[0],[0.5],[1]]"], ["lab.other_keys=[[0],[1],[3]]"]])
def test_the_keys_prose_and_caption_follow_the_numbers(default, overrides):
    """Review F3: 'two realisable distributions share one output' was printed beside two different outputs."""
    _, _, report = default
    assert "Here two realisable distributions share one output" in report
    assert "with the other keys the whole curve gives one output" in report
    other, found = report_of(overrides)
    assert not found["two-queries-one-output"].holds
    assert "Here two realisable distributions share one output" not in other
    assert "the whole curve gives one output" not in other and "the output changes along the curve" in other
    assert "The two distributions differ and so do their outputs" in other
    assert "is it *love*?" not in other


def test_extremes_check_can_fail_on_each_part():
    """Review F5: the 'near v_p' half was the triangle inequality; now it fails when it should."""
    flat = claims(["lab.extreme_score=0.001"])["extremes-differ"]  # weights ~ 1/3: not near-one-hot
    assert not flat.holds and "alpha_2 = 0.33356" in flat.observed
    far = claims(["lab.extreme_score=6", "lab.embeddings=[[1000,0],[0,1],[1,1]]"])["extremes-differ"]
    assert not far.holds  # alpha_p >= 0.99 and the outputs differ, but word 1's value is 1000 away
    V = np.array([[1000.0, 0.0], [0.0, 1.0], [2.0, 0.5]])  # v = (e + PE) W_v for those embeddings
    for p in (1, 2):
        s = np.where(np.arange(3) == p, 6.0, 0.0)
        assert softmax(s)[p] >= 0.99 and np.linalg.norm(softmax(s) @ V - V[p]) > np.linalg.norm(V[1] - V[2]) / 2
    report, _ = report_of(["lab.extreme_score=0.001"])
    assert "these are not the asker's near-one-hot extremes" in report
    assert "each output lies within half the distance" not in report


def test_whole_family_checks_positivity_on_the_interval(monkeypatch, default):
    """Review F14: 'positive for s in (lo, hi)' was never checked; a sign slip in _interval went unseen."""
    doc, _, _ = default
    beta = np.array(doc["values"]["flat_weights"]["numeric"])
    n = np.array([1.0, -2.0, 1.0])
    lo, hi = -beta[0], beta[1] / 2  # where beta + s n first loses a coordinate, on each side
    assert (beta + 0.999 * lo * n > 0).all() and (beta + 0.999 * hi * n > 0).all()
    assert abs((beta + lo * n).min()) < 1e-15 and abs((beta + hi * n).min()) < 1e-15
    assert claims()["whole-family"].holds
    interval = lab._interval
    monkeypatch.setattr(lab, "_interval", lambda b, d: tuple(2 * x for x in interval(b, d)))  # too wide
    assert not claims()["whole-family"].holds
    monkeypatch.setattr(lab, "_interval", lambda b, d: tuple(x / 2 for x in interval(b, d)))  # too narrow
    assert not claims()["whole-family"].holds


def test_realisable_needs_positive_weights():
    """Review F14: with p = (0, 0, 1) and w = (1, -2, 1), 0 = 0 passed the product test."""
    assert not lab._realisable(sp.Matrix([0, 0, 1]), [sp.Matrix([1, -2, 1])])
    third = sp.Rational(1, 3)
    assert lab._realisable(sp.Matrix([third] * 3), [sp.Matrix([1, -2, 1])])


def test_review_wording_fixes(default):
    """Review F14: a sufficient condition is not the definition; d' is not d; 003 never says keys = values."""
    doc, _, report = default
    assert "(for instance when there are more words than dimensions plus one)" in report
    assert "$" + safe("m = 3 > d' + 1 = 2") + "$ (here $" + safe("d' = 1") + "$" in report
    assert "takes the keys equal to the values (k_i = v_i). That is its interpretation" in report
    dependent, _ = report_of(["lab.flat_values=[[0,0],[1,0],[2,0]]"])  # dependent although m = d' + 1
    assert "has rank $2 \\lt m = 3$" in dependent and "$u = (0, 0), (1, 0), (2, 0)$" in dependent
    sources = {c["id"]: c["source"] for c in doc["claims"]}
    assert sources["numeric-agrees"] == "vecmix (numeric = exact)"
    assert sources["recoverable"].startswith("follows from 003")
