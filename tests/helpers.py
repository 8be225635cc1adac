"""What several test files need: a lab's results from one run, its verdicts under an injected fault, and exact
vectors read back from results.json."""

import json

import sympy as sp
from omegaconf import OmegaConf

from labs.catalogue import LABS
from labs.claims.faults import FAULTS, injected
from labs.reproduce import build, compose_lab


def lab_results(lab, overrides=()):
    """(results.json as a dict, LabResult, {path: bytes}) of one run of ``lab`` with ``overrides``."""
    files, result = build(compose_lab(lab, list(overrides)), list(overrides))
    return json.loads(files["results.json"]), result, files


def verdicts_under_fault(lab, fault):
    """{claim id: holds} of ``lab``'s default run with the fault named ``fault`` injected into vecmix."""
    params = OmegaConf.to_container(compose_lab(lab).lab, resolve=True)
    with injected(FAULTS[fault]):
        claims = LABS[lab].run(params).claims
    return {c.id: c.holds for c in claims}


def exact_column(doc, name):
    """The exact rational vector stored under ``values[name]`` in results.json."""
    return sp.Matrix([sp.Rational(x) for x in doc["values"][name]["exact"]])
