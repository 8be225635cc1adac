"""The identifiability lab: same output (a) is kept apart from producible by a query (b), exactly."""

import json
import re

import numpy as np
import pytest
import sympy as sp
from omegaconf import OmegaConf

from labs.catalogue import identifiability as lab
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
    assert "So in 003's setting the output does determine the attention distribution" in report
    assert "$\\gamma$ does not: no query produces it" in report
    assert not re.search(r"\\[,;!:]", report)  # GitHub's Markdown parser eats these escapes before MathJax


def test_words_are_numbered_from_1_and_the_source_s_numbering_is_explained(default):
    doc, _, report = default
    assert "$q = v_{2}$ (003's $v^{<1>}$; 003 numbers words from 0, this report from 1)" in report
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
