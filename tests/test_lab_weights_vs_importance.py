"""The weights_vs_importance lab: the effect of removing a key is its odds times the distance, simplified."""

import json
import re

import numpy as np
import pytest
import sympy as sp
from omegaconf import OmegaConf

from labs.catalogue import weights_vs_importance as lab
from labs.claims.faults import FAULTS, injected
from labs.reproduce import build, compose_lab


def params(overrides=()):
    return OmegaConf.to_container(compose_lab("weights_vs_importance", list(overrides)).lab, resolve=True)


@pytest.fixture(scope="module")
def default():
    files, result = build(compose_lab("weights_vs_importance"))
    return json.loads(files["results.json"]), result, files["report.md"].decode()


def test_the_effect_is_odds_times_distance_not_weight_times_distance(default):
    doc, _, report = default
    alpha = np.array(doc["values"]["weights"]["numeric"])
    z = np.array(doc["values"]["output"]["numeric"])
    V = np.array(params()["values"], dtype=float)
    distance = np.linalg.norm(V - z, axis=1)
    effect = np.array(doc["values"]["effect"]["numeric"])
    np.testing.assert_allclose(effect, alpha / (1 - alpha) * distance, atol=1e-12)
    assert not np.allclose(effect, alpha * distance)  # the old lesson: weight times distance
    np.testing.assert_allclose(doc["values"]["odds"]["numeric"], alpha / (1 - alpha), atol=1e-12)
    assert "odds" in report and "not its weight times that distance" in report
    assert "weight times how far" not in lab.__doc__ and "weight times how far" not in report


def test_leave_one_out_by_a_naive_loop(default):
    doc, _, _ = default
    p = params()
    q, K, V = (np.array(p[k], dtype=float) for k in ("query", "keys", "values"))
    for i, move in enumerate(doc["values"]["moves"]["numeric"]):
        def z_of(keep):
            s = np.array([q @ K[j] for j in keep])  # d_k = 1: no scaling
            w = np.exp(s - s.max())
            return sum(w_j * V[j] for w_j, j in zip(w / w.sum(), keep))
        everything = list(range(len(K)))
        np.testing.assert_allclose(move, z_of(everything) - z_of([j for j in everything if j != i]), atol=1e-12)


def test_exact_effects_are_printed_simplified(default):
    doc, _, report = default
    effects = [sp.sympify(e) for e in doc["values"]["effect"]["exact"]]
    assert effects[3] == 10 / (1 + sp.E) ** 2  # not sqrt(100/(1 + 4e + 6e^2 + 4e^3 + e^4))
    assert r"\frac{10}{\left(1 + e\right)^{2}}" in report
    assert r"\sqrt{1 + 4 e" not in report and r"\sqrt{4 + 4 e" not in report


def test_report_shows_the_query_keys_and_d_k(default):
    _, _, report = default
    assert "$q = (1)$ with $d_k = 1$" in report and "| $k_i$ |" in report
    assert not re.search(r"\\[,;!:]", report)  # GitHub's Markdown parser eats these escapes before MathJax


def test_a_faulty_softmax_does_not_stop_the_lab():
    with injected(FAULTS["exact-softmax-unnormalised"]):  # a weight of exactly 1 once broke the odds
        result = lab.run(params())
    assert not {c.id: c.holds for c in result.claims}["leave-one-out-formula"]


@pytest.mark.parametrize("name", ["online-unnormalised", "softmax-unnormalised", "exact-softmax-negated"])
def test_faults_are_noticed(name):
    with injected(FAULTS[name]):
        result = lab.run(params())
    assert not all(c.holds for c in result.claims)


def test_d_k_other_than_the_key_dimension_scales_the_scores():
    doc = build(compose_lab("weights_vs_importance", ["lab.d_k=4"]), ["lab.d_k=4"])[0]
    alpha = json.loads(doc["results.json"])["values"]["weights"]["numeric"]
    s = np.array([2, 1, 1, 0, 0]) / 2.0  # q . k_i / sqrt(4)
    np.testing.assert_allclose(alpha, np.exp(s) / np.exp(s).sum(), atol=1e-12)
