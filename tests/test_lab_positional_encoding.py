"""The positional_encoding lab: a solved (not typed) shift map, checks that can fail, machine-independent reports."""

import json
import re

import numpy as np
import pytest
import sympy as sp

from labs.catalogue import positional_encoding as pe
from labs.reproduce import build, compose_lab

SMALL = {"d_model": 16, "base": 10000, "positions": 40, "offsets": [1, 7], "frequencies": "per_pair"}


def claims(**overrides):
    return {c.id: c for c in pe.run({**SMALL, **overrides}).claims}


def test_the_report_and_results_hold_no_rounding_noise():
    # The old report printed the largest error (2.1e-14), whose last digits differ between CPUs.
    files, _ = build(compose_lab("positional_encoding"))
    report, results = files["report.md"].decode(), json.loads(files["results.json"])
    assert not re.search(r"\d\.\de-1[1-9]", report)
    assert results["values"]["fit_error"]["numeric"] == "below 1e-10"
    assert all(c["verdict"] == "reproduced" for c in results["claims"])


def test_the_solved_map_is_a_rotation_free_of_pos():
    M, residual = pe.solved_shift(lambda p: sp.Matrix([sp.sin(p * pe.w), sp.cos(p * pe.w)]), 2)
    assert pe.pos not in M.free_symbols and list(residual) == [0, 0]
    assert (M.T * M).applyfunc(sp.simplify) == sp.eye(2) and sp.simplify(M.det()) == 1


def test_a_pair_with_two_frequencies_has_no_shift_map():
    M, residual = pe.solved_shift(lambda p: sp.Matrix([sp.sin(p * pe.w), sp.cos(p * pe.w2)]), 2)
    at = {pe.pos: sp.Rational(3, 2), pe.k: 1, pe.w: sp.Rational(1, 2), pe.w2: sp.Rational(1, 3)}
    assert abs(residual[0].subs(at).evalf(30)) > 1e-3  # not 0: the map solved at two positions fails at a third
    c = claims(frequencies="per_dimension")
    assert not c["shift-map"].holds and not c["numeric"].holds and not c["dot-product"].holds


def test_an_odd_d_model_runs_and_its_lone_sine_breaks_linearity():
    # The old lab refused an odd d_model instead of showing why the pairs matter.
    c = claims(d_model=9)
    assert not c["shift-map"].holds and not c["numeric"].holds and not c["dot-product"].holds
    assert c["wavelengths"].holds
    assert pe.blocks(9)[-1] == [8]


def test_dot_products_depend_on_the_offset_only():
    positions = np.arange(60)
    enc, shifted = pe.encoding(positions, 16, 100.0), pe.encoding(positions + 5, 16, 100.0)
    dots = np.einsum("pj,pj->p", enc, shifted)  # (60,)
    omega = 100.0 ** (-np.arange(0, 16, 2) / 16)
    assert np.allclose(dots, np.cos(5 * omega).sum(), atol=1e-12)


@pytest.mark.parametrize("base, d_model, holds", [(10000, 512, True), (10000, 9, True), (100, 512, False),
                                                   (10**6, 512, False)])
def test_the_wavelengths_reach_10000_times_2_pi_only_with_the_papers_base(base, d_model, holds):
    assert pe._wavelengths(d_model, sp.Integer(base), "per_pair")[1] is holds
    longest = 2 * np.pi / pe.frequencies(d_model, float(base)).min()  # the encoding's own slowest frequency
    reaches = longest < 2 * np.pi * 10000 <= longest * float(base) ** (2 / d_model) * (1 + 1e-12)  # one more ratio
    assert bool(reaches) == holds


