"""Lab ``paper_lab``: the reproduction target of 001 §7, in R^d.

1. choose three value vectors in R^d; 2. choose one query and three keys; 3. compute
attention weights; 4. form the weighted sum explicitly; 5. verify that the output lies
in the span of the values. Inputs are drawn from a seed as small rationals (so the
exact path stays exact), or given explicitly.
"""

import numpy as np

from vecmix import VecmixError

from . import walkthrough
from .inputs import check_pairs, check_query_size, random_rationals, read_positive_int, read_vector, read_vectors
from .markdown import cite
from .report import LabResult

TITLE = "Paper lab: attention as a weighted vector mixture, reproduced in R^d"


def run(params):
    """Draw (or read) the inputs and run the five steps.

    >>> r = run({"d": 4, "m": 3, "seed": 0, "query": None, "keys": None, "values": None, "d_k": None})
    >>> r.reproduced, r.values[2].to_json()["exact"][0]
    (True, ['1/2', '0', '1/2', '2'])
    """
    q, K, V, d_k, drawn = read_inputs(params)
    w = walkthrough.walk(q, K, V, d_k)
    figures, note = walkthrough.figures(w)
    how = (f"The inputs {', '.join(drawn)} were drawn with seed {params['seed']} as small rationals $n/2$ with "
           "$|n| \\le 4$ (`lab.seed`); the same seed gives the same numbers." if drawn else
           "All inputs were given in the config.")
    intro = (f"*Reproduces* the tiny reproduction target of {cite('001', 7)}: three value vectors in "
             f"$\\mathbb{{R}}^{{{V.cols}}}$, one query and three keys, the weights, the explicit weighted sum, and an "
             f"exact check that the output lies in the span of the values. {how}")
    return LabResult("paper_lab", TITLE, intro, walkthrough.sections(w, note), walkthrough.claims(w),
                     walkthrough.values(w), figures, [])


def read_inputs(params):
    """(q, K, V, d_k, names of the drawn inputs): explicit vectors where given, else drawn from lab.seed."""
    d = read_positive_int(params["d"], "lab.d")
    m = read_positive_int(params["m"], "lab.m")
    if isinstance(params["seed"], bool) or not isinstance(params["seed"], int) or params["seed"] < 0:
        raise VecmixError(f"lab.seed = {params['seed']!r} must be a nonnegative integer")
    rng = np.random.default_rng(params["seed"])
    drawn = {"query": random_rationals(rng, (1, d)).T, "keys": random_rationals(rng, (m, d)),
             "values": random_rationals(rng, (m, d))}  # always drawn, so a given input leaves the others unchanged
    q = drawn["query"] if params.get("query") is None else read_vector(params["query"], "lab.query")  # (d, 1)
    K = drawn["keys"] if params.get("keys") is None else read_vectors(params["keys"], "lab.keys")  # (m, d)
    V = drawn["values"] if params.get("values") is None else read_vectors(params["values"], "lab.values")  # (m, d)
    check_query_size(q.rows, K)
    check_pairs(K, V)
    d_k = K.cols if params.get("d_k") is None else read_positive_int(params["d_k"], "lab.d_k")
    return q, K, V, d_k, [k for k in drawn if params.get(k) is None]
