"""The masking lab: vecmix's own causal=True, both directions of every mask, a refusal that can fail."""

import json
import re

import numpy as np
import pytest
from omegaconf import OmegaConf

from labs.catalogue import masking
from labs.claims.faults import FAULTS, injected
from labs.reproduce import build, compose_lab
from vecmix import VecmixError


def params(overrides=()):
    return OmegaConf.to_container(compose_lab("masking", list(overrides)).lab, resolve=True)


def verdicts(result):
    return {c.id: c.holds for c in result.claims}


@pytest.fixture(scope="module")
def default():
    files, result = build(compose_lab("masking"))
    return json.loads(files["results.json"]), result, files


@pytest.mark.parametrize("name, claim", [
    ("causal-shifted", "causal-triangle"),  # the old lab built its own triangle and never asked vecmix for one
    ("exact-causal-shifted", "causal-span"),
    ("exact-causal-shifted", "causal-blocks-the-leak"),
    ("mask-ignored", "padding-zero-real-positive"),
    ("mask-inverted", "padding-zero-real-positive"),
    ("mask-ignored", "fully-masked-row"),  # the refusal check can fail: no row is refused when the mask is ignored
    ("mask-after-softmax", "rows-sum-to-one"),
    ("exact-mask-after-softmax", "rows-sum-to-one"),
    ("exact-scale-missing", "matrix-form-equals-sums"),  # vecmix's default scale, against the lab's own formula
    ("scale-missing", "numeric-agrees"),
    ("online-no-rescale", "numeric-agrees"),  # blocks of 2 keys exercise the online rescaling
    ("online-unnormalised", "numeric-agrees"),
    ("in-span-always", "causal-span"),  # the span check probes a non-member too
])
def test_faults_are_noticed(name, claim):
    with injected(FAULTS[name]):
        result = masking.run(params())
    assert not verdicts(result)[claim]


def test_weights_are_a_softmax_over_the_visible_keys_only(default):
    doc, _, _ = default
    X = np.array(doc["values"]["embeddings"]["numeric"])
    n, d_k = X.shape
    L = doc["values"]["valid_length"]["numeric"]
    S = X @ X.T / np.sqrt(d_k)  # (n, n) scores, computed here independently of vecmix
    for name, visible in (("no_mask", np.ones((n, n), bool)),
                          ("padding", np.broadcast_to(np.arange(n) < L, (n, n))),
                          ("causal_padding", np.tri(n, dtype=bool) & (np.arange(n) < L))):
        A = np.array(doc["values"][f"weights_{name}"]["numeric"])
        want = np.where(visible, np.exp(S), 0.0)
        want /= want.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(A, want, rtol=0, atol=1e-11)
        assert (A[~visible] == 0).all() and (A[visible] > 0).all()
        np.testing.assert_allclose(np.array(doc["values"][f"outputs_{name}"]["numeric"]), A @ X, atol=1e-11)


def test_exact_and_numeric_values_agree(default):
    import sympy as sp

    doc, _, _ = default
    for name in ("weights_causal_padding", "outputs_padding"):
        exact = np.array([[float(sp.sympify(x)) for x in row] for row in doc["values"][name]["exact"]])
        np.testing.assert_allclose(exact, doc["values"][name]["numeric"], rtol=0, atol=1e-11)


def test_report_shows_queries_keys_values_and_d_k_with_positions_from_1(default):
    _, _, files = default
    report = files["report.md"].decode()
    assert "Q = K = V = X" in report and "$d_k = 4$" in report and r"1/\sqrt{4} = \frac{1}{2}" in report
    assert "| 1 `the` |" in report and "| 0 `the` |" not in report
    assert "position 5 is padding" in report
    assert not re.search(r"\\[,;!:]", report)  # GitHub's Markdown parser eats these escapes before MathJax
    assert "numbers rows from 0" not in report or "row $t$ is position $t + 1$" in report


def test_without_padding_the_lab_refuses_by_name():
    with pytest.raises(VecmixError, match=r"lab.valid_length = 5 leaves no padding among the 5 tokens"):
        masking.run(params(["lab.valid_length=5"]))
    with pytest.raises(Exception, match="valid_length"):  # null: Hydra refuses it (the key is not optional)
        masking.run(params(["lab.valid_length=null"]))


def test_one_real_token_has_nothing_to_leak():
    result = masking.run(params(["lab.valid_length=1"]))
    claims = {c.id: c for c in result.claims}
    leak = claims["causal-blocks-the-leak"]
    assert not leak.holds and "nothing can leak" in leak.observed
    assert claims["padding-zero-real-positive"].holds and claims["fully-masked-row"].holds


def test_same_config_gives_the_same_bytes(default):
    _, _, first = default
    second, _ = build(compose_lab("masking"))
    assert first["report.md"] == second["report.md"] and first["results.json"] == second["results.json"]
