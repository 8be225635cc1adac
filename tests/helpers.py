"""What several test files need: a lab's results from one run, its verdicts under an injected fault, exact
vectors read back from results.json, and attention read literally (a naive loop)."""

import json
import math

import numpy as np
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


def naive_attention(Q, K, V, scale, visible):
    """The formula read literally, one query and one key at a time: Q (n_q, d_k), K (n_k, d_k), V (n_k, d_v).

    ``visible`` (n_q, n_k) says which keys each query sees; a row that sees none gets
    zero weights and a zero output (fully_masked='zeros').
    """
    n_q, n_k, d_k, d_v = Q.shape[0], K.shape[0], K.shape[1], V.shape[1]
    Z, A = np.zeros((n_q, d_v)), np.zeros((n_q, n_k))
    for t in range(n_q):
        s = [sum(Q[t, j] * K[i, j] for j in range(d_k)) * scale for i in range(n_k)]
        seen = [i for i in range(n_k) if visible[t, i]]
        if not seen:
            continue
        top = max(s[i] for i in seen)
        e = {i: math.exp(s[i] - top) for i in seen}
        total = sum(e.values())
        for i in seen:
            A[t, i] = e[i] / total
            for c in range(d_v):
                Z[t, c] += A[t, i] * V[i, c]
    return Z, A
