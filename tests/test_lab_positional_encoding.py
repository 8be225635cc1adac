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


def pair(p):
    return sp.Matrix([sp.sin(p * pe.w), sp.cos(p * pe.w)])


def test_the_solved_map_is_a_rotation_free_of_pos():
    M, residual, det = pe.solved_shift(pair, 2)
    assert pe.pos not in M.free_symbols and list(residual) == [0, 0]
    assert (M.T * M).applyfunc(sp.simplify) == sp.eye(2) and sp.simplify(M.det()) == 1
    assert det == -sp.sin(pe.w)  # the solve needs sin(w) != 0: true for every w_i in (0, 1]


def test_the_dot_product_comes_from_antisymmetry_and_unit_norm_not_from_orthogonality():
    # The old report said "each block satisfies R^T R = I, so PE(pos) . PE(pos + k) = sum_i cos(k w_i)".
    M, _, _ = pe.solved_shift(pair, 2)
    c, J = pe.rotation_parts(M)
    assert J.T == -J and (c * sp.eye(2) + sp.sin(pe.k * pe.w) * J - M).applyfunc(sp.simplify) == sp.zeros(2, 2)
    assert sp.simplify(pair(pe.pos).dot(M * pair(pe.pos))) == sp.cos(pe.k * pe.w)  # g^T R g = cos(k w), any pos
    F = sp.diag(1, -1)  # orthogonal too, yet g^T F g depends on pos
    assert F.T * F == sp.eye(2) and sp.simplify(pair(pe.pos).dot(F * pair(pe.pos)) + sp.cos(2 * pe.pos * pe.w)) == 0
    files, _ = build(compose_lab("positional_encoding"))
    report = files["report.md"].decode()
    assert "J^\\top = -J" in report and "R^\\top R = I$, so" not in report


def test_a_pair_with_two_frequencies_has_no_shift_map():
    _, residual, _ = pe.solved_shift(lambda p: sp.Matrix([sp.sin(p * pe.w), sp.cos(p * pe.w2)]), 2)
    at = {pe.pos: sp.Rational(3, 2), pe.k: 1, pe.w: sp.Rational(1, 2), pe.w2: sp.Rational(1, 3)}
    assert abs(residual[0].subs(at).evalf(30)) > 1e-3  # not 0: the map solved at two positions fails at a third
    c = claims(frequencies="per_dimension")
    assert not c["shift-map"].holds and not c["numeric"].holds and not c["dot-product"].holds


def test_an_odd_d_model_runs_and_its_lone_sine_breaks_linearity():
    # The old lab refused an odd d_model instead of showing why the pairs matter.
    c = claims(d_model=9)
    assert not c["shift-map"].holds and not c["numeric"].holds and not c["dot-product"].holds
    assert pe.blocks(9)[-1] == [8]
    report = pe.run({**SMALL, "d_model": 9}).sections[1]
    assert "no block-wise linear map" in report and "linearly independent" in report  # not "no single map" from
    # block-local solves alone


def test_dot_products_depend_on_the_offset_only():
    positions = np.arange(60)
    enc, shifted = pe.encoding(positions, 16, 100.0), pe.encoding(positions + 5, 16, 100.0)
    dots = np.einsum("pj,pj->p", enc, shifted)  # (60,)
    omega = 100.0 ** (-np.arange(0, 16, 2) / 16)
    assert np.allclose(dots, np.cos(5 * omega).sum(), atol=1e-12)


@pytest.mark.parametrize("base, d_model, holds", [(10000, 512, True), (10000, 1024, True), (10000, 9, False),
                                                   (10000, 2, False), (5000, 7, False), (100, 512, False),
                                                   (10**6, 512, False)])
def test_the_wavelengths_are_read_from_the_encoding_and_can_fail(base, d_model, holds):
    # The old check was "last < 10000 * 2 pi <= last * ratio", true for base 10000 whatever d_model (even 2).
    claim = pe._wavelengths(pe.encoding(np.array([1]), d_model, float(base))[0])  # what the lab reads back
    assert claim["holds"] is holds
    w = pe.frequencies(d_model, float(base))[0::2]  # the sines' frequencies, from the formula
    last = 1 / w[-1]  # the longest wavelength over 2 pi
    assert bool(abs(last / 10000 - 1) <= 0.05 and len(w) > 1) is holds
    if len(w) > 1:
        assert f"to 2 pi * {last:.6g}" in claim["observed"]


def test_the_wavelengths_come_from_the_encoding_not_from_the_config(monkeypatch):
    right = pe.encoding
    def base_100(positions, d_model, base, per="per_pair"):
        return right(positions, d_model, 100.0, per)

    monkeypatch.setattr(pe, "encoding", base_100)
    assert not claims(d_model=512)["wavelengths"].holds  # base 10000 configured, base 100 encoded: noticed
    assert not claims(d_model=2)["wavelengths"].holds  # one wavelength, 2 pi: no progression to 10000 * 2 pi


def test_the_report_numbers_tokens_and_dimensions_from_1_and_cites_the_paper_alone():
    result = pe.run({**SMALL, "positions": 40})
    for ax in result.figures["encodings.svg"].axes[:2]:  # the sines of the pairs, then their cosines
        left, right, bottom, top = ax.images[0].get_extent()
        assert (left + 0.5, right - 0.5, top + 0.5, bottom - 0.5) == (1, 40, 1, 8)  # pixel centres at 1..n, pairs 1..8
    text = "\n".join(result.sections)
    assert "tokens 1 to 40" in text and "001" not in result.intro
    assert "sin w != 0" in {c.id: c for c in result.claims}["shift-map"].statement
    sources = {c.id: c.source for c in result.claims}
    assert sources == {"shift-map": "AIAYN §3.5", "numeric": "vecmix (numeric = exact)",
                       "dot-product": "follows from AIAYN §3.5", "wavelengths": "AIAYN §3.5"}


def test_the_rotation_figure_draws_the_fitted_map_landing_on_the_next_point_only_when_it_is_the_rotation():
    def crosses_and_points(frequencies):
        ax = pe.run({**SMALL, "frequencies": frequencies}).figures["rotation.svg"].axes[0]
        points, crosses = (next(line.get_xydata() for line in ax.lines if line.get_marker() == m) for m in "ox")
        return crosses, points[1:]

    crosses, following = crosses_and_points("per_pair")
    assert len(crosses) >= 1 and np.max(np.abs(crosses - following)) < 1e-9
    crosses, following = crosses_and_points("per_dimension")
    assert np.max(np.abs(crosses - following)) > 1e-3
