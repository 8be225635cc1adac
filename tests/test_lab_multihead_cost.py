"""The multihead_cost lab: counts recorded from vecmix.multihead_attention as it runs, not typed by hand."""

import importlib

import numpy as np
import pytest

from labs.catalogue import multihead_cost
from labs.catalogue._products import recording
from vecmix import VecmixError

DEFAULT = {"d_model": 512, "heads": 8, "n": 128, "head_size": "reduced"}


def claims(**overrides):
    return {c.id: c for c in multihead_cost.run({**DEFAULT, **overrides}).claims}


@pytest.mark.parametrize("n, d_model, h", [(5, 12, 3), (7, 96, 12), (600, 8, 2)])
def test_the_recorded_products_are_the_ones_of_multi_head_attention(n, d_model, h):
    log = multihead_cost.traced_run(n, d_model, h)
    d_k = d_model // h
    shapes = {where.split(": ")[1]: shapes for where, shapes, _, _ in log.table()}
    assert shapes["Q = X_q @ W_q"] == [((n, d_model), (h, d_model, d_k))]
    assert shapes["Y = concat @ W_o"] == [((n, h * d_k), (h * d_k, d_model))]
    assert log.multiply_adds() == 4 * n * d_model**2 + 2 * n**2 * d_model  # the same for every h
    assert log.score_exponentials() == h * n**2  # one per score, however the keys are blocked


def test_the_full_weights_path_does_the_same_work_as_the_blocked_one():
    rng = np.random.default_rng(1)
    Q, K, V = rng.standard_normal((6, 4)), rng.standard_normal((9, 4)), rng.standard_normal((9, 3))
    attention = importlib.import_module("vecmix.attention").attention
    counts = []
    for weights in (False, True):
        with recording("vecmix.attention") as log:
            attention(Q, K, V, weights=weights)
        counts.append((log.multiply_adds(), log.score_exponentials()))
    assert counts[0] == counts[1] == (6 * 9 * 4 + 6 * 9 * 3, 6 * 9)


def test_heads_of_full_size_cost_h_times_one_head():
    # The old lab typed its shape list by hand, so no input could change what it counted.
    c = claims(head_size="full")
    assert c["same-multiply-adds"].observed.startswith("h heads: 4*d_model**2*h*n + 2*d_model*h*n**2")
    assert not c["same-multiply-adds"].holds and not c["same-here"].holds
    assert c["exponentials-grow"].holds


def test_one_head_computes_no_more_exponentials_than_one_head():
    c = claims(heads=1)
    assert not c["exponentials-grow"].holds and c["same-multiply-adds"].holds


def test_the_default_reproduces_and_says_what_is_not_counted():
    result = multihead_cost.run(DEFAULT)
    assert result.reproduced and len(result.claims) == 3
    assert "not counted" in result.deviations[0]


def test_heads_that_do_not_divide_d_model_are_refused_only_when_reduced():
    with pytest.raises(VecmixError, match="lab.d_model = 512 is not divisible by lab.heads = 7"):
        multihead_cost.run({**DEFAULT, "heads": 7})
    assert claims(heads=7, n=5, head_size="full")["exponentials-grow"].holds




def test_no_intent_read_into_the_paper_and_the_paper_lab_cited_for_what_it_covers():
    # The old docstring said "which is why the paper says *similar*", and the intro read the cost "through" 001.
    assert "which is why the paper" not in multihead_cost.__doc__ and "one reason" in multihead_cost.__doc__
    result = multihead_cost.run({**DEFAULT, "n": 5})
    assert "read through" not in result.intro and "cost is not discussed there" in result.intro
    assert {c.id: c.source for c in result.claims} == {"same-multiply-adds": "AIAYN §3.2.2", "same-here": "AIAYN §3.2.2",
                                                       "exponentials-grow": "follows from AIAYN §3.2.2"}
