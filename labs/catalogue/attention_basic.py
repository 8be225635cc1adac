"""Lab ``attention_basic``: one query against m key-value pairs, exactly and numerically.

Reproduces the worked walkthrough of 002 §5 along the five steps of 001 §7. Any inputs
work (any dimension d, any number m of pairs); the numbers the seed prints are compared
only when the inputs are the seed's.
"""

from dataclasses import dataclass
from typing import Any, List, Optional

import sympy as sp
from omegaconf import MISSING

from vecmix import exact_equal, exact_softmax

from ..claims import Claim, fault, inputs
from ..config.inputs import check_pairs, check_query_size, read_positive_int, read_vector, read_vectors
from ..grading import Exercise, decimal, equivalent, exact, same, satisfies, sign, vector
from ..report import LabResult
from ..report.markdown import cite
from . import _walkthrough as walkthrough

TITLE = "Attention as a weighted mixture of value vectors"
WALKTHROUGH = "002 §5"

# The worked example of 002 §5, and the numbers it prints (rounded there to three decimals).
SEED_INPUTS = {"query": [1, 0], "keys": [[1, 0], [0, 0], [-1, 0]], "values": [[1, 0], [0, 1], [1, 1]], "d_k": 1}
_e = sp.E
SEED_SCORES = [1, 0, -1]
SEED_WEIGHTS = [_e**2 / (1 + _e + _e**2), _e / (1 + _e + _e**2), 1 / (1 + _e + _e**2)]
SEED_WEIGHTS_PRINTED = (0.665, 0.245, 0.090)
SEED_OUTPUT = [(1 + _e**2) / (1 + _e + _e**2), (1 + _e) / (1 + _e + _e**2)]
SEED_OUTPUT_PRINTED = (0.755, 0.335)


@dataclass
class Config:
    """attention_basic: one query against m key-value pairs."""

    name: str = "attention_basic"
    query: List[Any] = MISSING  # q, a list of d_k numbers
    keys: List[List[Any]] = MISSING  # k_1..k_m, each a list of d_k numbers
    values: List[List[Any]] = MISSING  # v_1..v_m, each a list of d numbers
    d_k: Optional[int] = None  # the d_k in 1/sqrt(d_k); None: the dimension of the keys


def run(params):
    """Run the lab on ``params`` (query, keys, values, d_k) and return its :class:`LabResult`.

    >>> result = run(SEED_INPUTS)
    >>> result.reproduced, [c.id for c in result.claims][-2:]
    (True, ['seed-output-exact', 'seed-output-printed'])
    """
    q, K, V, d_k = read_inputs(params)
    w = walkthrough.walk(q, K, V, d_k)
    is_seed = (q, K, V) == read_inputs(SEED_INPUTS)[:3]  # the page's vectors; its numbers also need d_k = 1
    claims = walkthrough.claims(w) + (seed_claims(w) if is_seed else [])
    figures, note = walkthrough.figures(w)
    intro = (f"*Reproduces* the worked walkthrough of {cite('002', 5)}, following the five reproduction steps "
             f"of {cite('001', 7)}.")
    return LabResult("attention_basic", TITLE, intro, walkthrough.sections(w, note), claims,
                     walkthrough.values(w), figures, deviations(params, is_seed, d_k))


def read_inputs(params):
    """The inputs as exact matrices q (d_k x 1), K (m x d_k), V (m x d) and d_k, naming the key at fault.

    >>> read_inputs({"query": [1, 0], "keys": [[1, 0]], "values": [[2], [3]], "d_k": None})
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.keys has 1 vectors but lab.values has 2: keys and values come in pairs
    """
    q = read_vector(params["query"], "lab.query")  # (d_k, 1)
    K = read_vectors(params["keys"], "lab.keys")  # (m, d_k)
    V = read_vectors(params["values"], "lab.values")  # (m, d)
    check_query_size(q.rows, K)
    check_pairs(K, V)
    d_k = K.cols if params.get("d_k") is None else read_positive_int(params["d_k"], "lab.d_k")
    return q, K, V, d_k


def seed_claims(w):
    """The numbers 002 §5 prints for its vectors (with its d_k = 1), and their exact forms, compared with ours."""
    def printed(got, want):
        return tuple(round(float(g), 3) for g in got) == want

    def show(xs):
        return "(" + ", ".join(sp.sstr(x) if isinstance(x, sp.Basic) else f"{x:.3f}" for x in xs) + ")"

    return [
        Claim("seed-scores", "the scores are s = (1, 0, -1), exactly", WALKTHROUGH, "(1, 0, -1)", show(w.s),
              exact_equal(w.s, SEED_SCORES), True),
        Claim("seed-weights-exact", "alpha = (e^2, e, 1) / (1 + e + e^2), exactly", WALKTHROUGH,
              "(e^2, e, 1)/(1 + e + e^2)", show(w.alpha), exact_equal(w.alpha, SEED_WEIGHTS), True),
        Claim("seed-weights-printed", "alpha = (0.665, 0.245, 0.090) to three decimals", WALKTHROUGH,
              "(0.665, 0.245, 0.090)", show(w.alpha_num), printed(w.alpha_num, SEED_WEIGHTS_PRINTED), False),
        Claim("seed-output-exact", "z = ((1 + e^2), (1 + e)) / (1 + e + e^2), exactly", WALKTHROUGH,
              "((1 + e^2)/(1 + e + e^2), (1 + e)/(1 + e + e^2))", show(w.z), exact_equal(w.z, SEED_OUTPUT), True),
        Claim("seed-output-printed", "z = (0.755, 0.335) to three decimals", WALKTHROUGH, "(0.755, 0.335)",
              show(w.z_num), printed(w.z_num, SEED_OUTPUT_PRINTED), False),
    ]


def deviations(params, is_seed, d_k):
    """How this run departs from the source page."""
    if not is_seed:
        changed = [f"`lab.{k}`" for k in ("query", "keys", "values") if params.get(k) != SEED_INPUTS[k]]
        return [f"The inputs differ from the worked example of {WALKTHROUGH} (changed: {', '.join(changed)}), so the "
                "numbers printed there are not compared; the other claims are checked on these inputs."]
    notes = ["The source prints the weights and the output rounded to three decimals, and forms z from the "
             "rounded weights. Here every number is exact first and rounded only for display; the claims compare "
             "the exact results with the printed ones."]
    if d_k == 1:
        notes.append("The source sets d_k = 1 although its keys have two coordinates; in \"Attention Is All You "
                     "Need\" d_k is the keys' dimension, here 2, which would divide every score by sqrt(2) and give "
                     "the weights (0.576, 0.284, 0.140) and the output (0.716, 0.424). The lab follows the page.")
    else:
        notes.append(f"The source sets d_k = 1 although its keys have two coordinates; this run uses d_k = {d_k}, "
                     f"which divides every score by sqrt({d_k}), so the page's numbers are not reproduced "
                     "(the seed-* claims).")
    return notes


# Every claim can fail: other inputs, or (for an identity) the implementation fault it guards against.
COUNTER_CASES = {
    "scores": fault("exact-scale-missing", "lab.d_k=null"),
    "weights-distribution": fault("exact-softmax-unnormalised"),
    "weights-see-differences": fault("softmax-no-max-shift"),
    "explicit-sum": fault("exact-mixes-keys"),
    "numeric-agrees": inputs("scores 10^16 and 10^16 + 1, which float64 cannot tell apart", "lab.query=[1]",
                             "lab.keys=[[10000000000000000],[10000000000000001]]", "lab.values=[[1,0],[0,1]]"),
    "in-span": fault("exact-mixes-keys", "lab.values=[[0,1],[0,2],[0,3]]"),
    "in-hull": fault("hull-ignores-signs"),
    "weights-on-solution-set": fault("null-space-sign"),
    "changing-scores": inputs("the query 0 scores every key 0, and so does 2q: nothing changes", "lab.query=[0,0]"),
    **{claim: inputs("the page's own d_k = 1 replaced by the keys' dimension 2", "lab.d_k=2")
       for claim in ("seed-scores", "seed-weights-exact", "seed-weights-printed", "seed-output-exact",
                     "seed-output-printed")},
}


# Exercises: graded by pytest (python -m labs.exercises attention_basic)

LAB = "attention_basic"
E = sp.E
K = sp.Matrix([[1, 0], [0, 0], [-1, 0]])
V = sp.Matrix([[1, 0], [0, 1], [1, 1]])
SETUP = "q = (1, 0); keys k1 = (1, 0), k2 = (0, 0), k3 = (-1, 0); values v1 = (1, 0), v2 = (0, 1), v3 = (1, 1); d_k = 1."


def weight_on_key3(q):
    """alpha_3 for the query q (a 2-vector), exactly."""
    return exact_softmax(list(K * q))[2]  # (3, 2) (2, 1) -> (3, 1) scores


EXERCISES = [
    Exercise(LAB, "scores", f"{SETUP}\nGive the scores s = (s1, s2, s3) as a vector.", exact([1, 0, -1], "s"),
             "[1, 0, -1]", wrong={"[1, 0, 1]": "entry 3", "[1, 0]": "shape 2 x 1"},
             hint="s_i = q . k_i / sqrt(d_k).", source="002 §5"),
    Exercise(LAB, "weights_exact", f"{SETUP}\nGive the exact attention weights alpha as a vector.",
             exact(sp.Matrix([E**2, E, 1]) / (1 + E + E**2), "alpha"), "[exp(2), E, 1]/(1 + E + exp(2))",
             also=("[E/(E + 1 + exp(-1)), 1/(E + 1 + exp(-1)), exp(-1)/(E + 1 + exp(-1))]",
                   "[1/(1 + exp(-1) + exp(-2)), 1/(E + 1 + exp(-1)), 1/(exp(2) + E + 1)]"),
             wrong={"[0.665, 0.245, 0.090]": "not exact", "[E, 1, exp(-1)]": "not right"},
             hint="softmax divides each e^(s_i) by the sum of all of them.", points=2, source="002 §5"),
    Exercise(LAB, "weights_decimal", f"{SETUP}\nGive the weights alpha to three decimals.",
             decimal([0.665, 0.245, 0.090], 3, "alpha"), "[0.665, 0.245, 0.090]",
             also=("[0.6652, 0.2447, 0.0900]",), wrong={"[0.66, 0.25, 0.09]": "off by more than 0.0005"},
             source="002 §5"),
    Exercise(LAB, "output_exact", f"{SETUP}\nGive the exact output z = alpha1 v1 + alpha2 v2 + alpha3 v3.",
             exact(sp.Matrix([1 + E**2, 1 + E]) / (1 + E + E**2), "z"),
             "[(1 + exp(2))/(1 + E + exp(2)), (1 + E)/(1 + E + exp(2))]",
             wrong={"[0.755, 0.335]": "not exact", "[1, 1]": "not right"},
             hint="add the value vectors, each scaled by its weight.", points=2, source="002 §5"),
    Exercise(LAB, "output_decimal", f"{SETUP}\nGive the output z to three decimals.",
             decimal([0.755, 0.335], 3, "z"), "[0.755, 0.335]", wrong={"[0.75, 0.33]": "off by more than"},
             source="002 §5"),
    Exercise(LAB, "weights_for_query_zero", f"{SETUP}\nNow take q = (0, 0). Give the exact weights.",
             exact([sp.Rational(1, 3)] * 3, "alpha"), "[1/3, 1/3, 1/3]", wrong={"[0, 1, 0]": "not right"},
             hint="what are the scores when q is zero?"),
    Exercise(LAB, "weights_making_v2", f"{SETUP}\nGive weights (nonnegative, summing to 1) for which the mixture "
             "of the values is exactly v2 = (0, 1).",
             satisfies(vector(3, "the weights"), (lambda c: all(sign(x) >= 0 for x in c), "every weight must be "
                       "nonnegative, as attention weights are."),
                       (lambda c: equivalent(sum(c), 1), "the weights must sum to 1."),
                       (lambda c: same(V.T * c, sp.Matrix([0, 1])), "these weights do not give v2.")),
             "[0, 1, 0]", wrong={"[1, 0, 0]": "do not give v2", "[-1, 0, 1]": "nonnegative",
                                 "[0, 2, 0]": "sum to 1"}, hint="which values lie on the segment to v2?"),
    Exercise(LAB, "query_for_key3", f"{SETUP}\nGive a query q = (q1, q2) that puts at least 0.9 of the weight on "
             "key 3 (same keys, d_k = 1).",
             satisfies(vector(2, "the query"), (lambda q: sign(weight_on_key3(q) - sp.Rational(9, 10)) >= 0,
                                                "with this query key 3 gets less than 0.9 of the weight.")),
             "[-3, 0]", also=("[-10, 5]",), wrong={"[3, 0]": "less than 0.9", "[-1, 0]": "less than 0.9"},
             hint="the score of key 3 is -q1; make it much larger than the others.", points=2,
             visibility="after_published"),
]
