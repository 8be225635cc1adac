"""Lab ``paper_lab``: the reproduction target of 001 §7, in R^d.

1. choose three value vectors in R^d; 2. choose one query and three keys; 3. compute
attention weights; 4. form the weighted sum explicitly; 5. verify that the output lies
in the span of the values. Inputs are drawn from a seed as small rationals (so the
exact path stays exact), or given explicitly.
"""

from dataclasses import dataclass
from typing import Any, List, Optional

import numpy as np
import sympy as sp

from ..claims import fault, inputs
from ..config.inputs import (
    check_pairs,
    check_query_size,
    random_rationals,
    read_positive_int,
    read_seed,
    read_vector,
    read_vectors,
)
from ..grading import Exercise, equivalent, exact, satisfies, vector, zero
from ..report import LabResult
from ..report.markdown import cite
from . import _walkthrough as walkthrough

TITLE = "Paper lab: attention as a weighted vector mixture, reproduced in R^d"


@dataclass
class Config:
    """paper_lab: 001 §7 in R^d, inputs drawn from a seed unless given."""

    name: str = "paper_lab"
    d: int = 4  # dimension of the query, keys and values
    m: int = 3  # number of key-value pairs
    seed: int = 0  # draws the inputs that are not given
    query: Optional[List[Any]] = None
    keys: Optional[List[List[Any]]] = None
    values: Optional[List[List[Any]]] = None
    d_k: Optional[int] = None  # the d_k in 1/sqrt(d_k); None: the dimension of the keys


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
    intro = (f"*Reproduces* the tiny reproduction target of {cite('001', 7)}: {_count(V.rows)} value vectors in "
             f"$\\mathbb{{R}}^{{{V.cols}}}$, one query and {_count(V.rows)} keys, the weights, the explicit weighted "
             f"sum, and an exact check that the output lies in the span of the values. {how}")
    deviations = [] if V.rows == 3 else [f"001 §7 asks for three value vectors and three keys; this run has {V.rows} "
                                         "(`lab.m` or the given vectors)."]
    return LabResult("paper_lab", TITLE, intro, walkthrough.sections(w, note), walkthrough.claims(w),
                     walkthrough.values(w), figures, deviations)


def _count(m):
    return {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}.get(m, str(m))


EXACT = "every weight, output and span test is computed exactly; this size takes about 20 seconds"


def read_inputs(params):
    """(q, K, V, d_k, names of the drawn inputs): explicit vectors where given, else drawn from lab.seed."""
    d = read_positive_int(params["d"], "lab.d", maximum=512, reason=EXACT)
    m = read_positive_int(params["m"], "lab.m", maximum=8, reason="the exact span and hull tests grow quickly with the "
                          "number of values; this size takes about 30 seconds")
    rng = np.random.default_rng(read_seed(params["seed"]))
    drawn = {"query": random_rationals(rng, (1, d)).T, "keys": random_rationals(rng, (m, d)),
             "values": random_rationals(rng, (m, d))}  # always drawn, so a given input leaves the others unchanged
    q = drawn["query"] if params.get("query") is None else read_vector(params["query"], "lab.query")  # (d, 1)
    K = drawn["keys"] if params.get("keys") is None else read_vectors(params["keys"], "lab.keys")  # (m, d)
    V = drawn["values"] if params.get("values") is None else read_vectors(params["values"], "lab.values")  # (m, d)
    check_query_size(q.rows, K)
    check_pairs(K, V)
    d_k = K.cols if params.get("d_k") is None else read_positive_int(params["d_k"], "lab.d_k")
    return q, K, V, d_k, [k for k in drawn if params.get(k) is None]


# Every claim can fail: other inputs, or (for an identity) the implementation fault it guards against.
COUNTER_CASES = {
    "scores": fault("exact-scale-missing"),
    "weights-distribution": fault("exact-softmax-unnormalised"),
    "weights-see-differences": fault("softmax-no-max-shift"),
    "explicit-sum": fault("exact-mixes-keys"),
    "numeric-agrees": inputs("scores 5 10^15 and 5 10^15 + 1/2, which float64 cannot tell apart",
                             "lab.query=[1,0,0,0]",
                             "lab.keys=[[10000000000000000,0,0,0],[10000000000000001,0,0,0],[0,0,0,0]]"),
    "in-span": fault("in-span-always"),
    "in-hull": fault("hull-ignores-signs"),
    "weights-on-solution-set": fault("null-space-sign", "lab.m=5"),
    "changing-scores": inputs("the query 0 scores every key 0, and so does 2q: nothing changes",
                              "lab.query=[0,0,0,0]"),
}


# Exercises: graded by pytest (python -m labs.exercises paper_lab)

LAB = "paper_lab"
E = sp.E
V = sp.Matrix([[1, 0, 0], [0, 1, 0], [1, 1, 0]])
ALPHA = sp.Matrix([1, 1, E]) / (2 + E)
Z = V.T * ALPHA
SETUP = ("Steps 1-2: values v1 = (1, 0, 0), v2 = (0, 1, 0), v3 = (1, 1, 0) in R^3; keys k1 = (1, 0, 0, 0), "
         "k2 = (0, 1, 0, 0), k3 = (0, 0, 1, 0) and query q = (0, 0, 2, 0) in R^4, so d_k = 4.")

EXERCISES = [
    Exercise(LAB, "step3_scores", f"{SETUP}\nGive the scores s_i = q . k_i / sqrt(d_k).", exact([0, 0, 1], "s"),
             "[0, 0, 1]", wrong={"[0, 0, 2]": "entry 3"}, hint="do not forget sqrt(d_k) = 2.", source="001 §7"),
    Exercise(LAB, "step3_weights", f"{SETUP}\nStep 3: give the exact attention weights.", exact(ALPHA, "alpha"),
             "[1, 1, E]/(2 + E)", also=("[exp(-1), exp(-1), 1]/(1 + 2*exp(-1))",),
             wrong={"[0.212, 0.212, 0.576]": "not exact", "[0, 0, 1]": "not right"}, points=2, source="001 §7"),
    Exercise(LAB, "step4_output", f"{SETUP}\nStep 4: form the weighted sum z explicitly (exactly).", exact(Z, "z"),
             "[(1 + E)/(2 + E), (1 + E)/(2 + E), 0]", wrong={"[1, 1, 0]": "not right"}, points=2, source="001 §7"),
    Exercise(LAB, "step5_other_coefficients", f"{SETUP}\nStep 5: z is in the span of the values. Give coefficients c, "
             "different from the attention weights, with c1 v1 + c2 v2 + c3 v3 = z.",
             satisfies(vector(3, "c"), (lambda c: all(equivalent(x, 0) for x in V.T * c - Z),
                                        "these coefficients do not give z."),
                       (lambda c: not all(equivalent(a, b) for a, b in zip(c, ALPHA)), "those are the attention "
                        "weights themselves; find another combination.")),
             "[(1 + E)/(2 + E), (1 + E)/(2 + E), 0]", wrong={"[1, 1, E]/(2 + E)": "attention weights themselves",
                                                              "[1, 1, 0]": "do not give z"},
             hint="v3 = v1 + v2.", points=2, source="001 §7"),
    Exercise(LAB, "step5_complement", f"{SETUP}\nStep 5: give a nonzero vector n orthogonal to every value (so that "
             "n . z = 0 certifies z is in their span).",
             satisfies(vector(3, "n"), (lambda n: not zero(n), "n must not be zero."),
                       (lambda n: zero(V * n), "n is not orthogonal to every value.")),
             "[0, 0, 1]", also=("[0, 0, -5]",), wrong={"[1, 0, 0]": "not orthogonal"}, source="001 §7"),
]
