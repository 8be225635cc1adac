"""What several test files need: a lab's results from one run, and exact vectors read back from results.json."""

import json

import sympy as sp

from labs.reproduce import build, compose_lab


def lab_results(lab, overrides=()):
    """(results.json as a dict, LabResult, {path: bytes}) of one run of ``lab`` with ``overrides``."""
    files, result = build(compose_lab(lab, list(overrides)), list(overrides))
    return json.loads(files["results.json"]), result, files


def exact_column(doc, name):
    """The exact rational vector stored under ``values[name]`` in results.json."""
    return sp.Matrix([sp.Rational(x) for x in doc["values"][name]["exact"]])
