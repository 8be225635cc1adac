"""Lab ``attention_basic``: one query against m key-value pairs, exactly and numerically.

Reproduces the worked walkthrough of 002 §5 along the five steps of 001 §7. Any inputs
work (any dimension d, any number m of pairs); the numbers the seed prints are compared
only when the inputs are the seed's.
"""

import sympy as sp

from vecmix import is_zero

from . import walkthrough
from .inputs import check_pairs, check_query_size, read_positive_int, read_vector, read_vectors
from .markdown import cite
from .report import Claim, LabResult

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


def run(params):
    """Run the lab on ``params`` (query, keys, values, d_k) and return its :class:`LabResult`.

    >>> result = run(SEED_INPUTS)
    >>> result.reproduced, [c.id for c in result.claims][-2:]
    (True, ['seed-output-exact', 'seed-output-printed'])
    """
    q, K, V, d_k = read_inputs(params)
    w = walkthrough.walk(q, K, V, d_k)
    is_seed = (d_k, q, K, V) == (SEED_INPUTS["d_k"], *read_inputs(SEED_INPUTS)[:3])
    claims = walkthrough.claims(w) + (seed_claims(w) if is_seed else [])
    figures, note = walkthrough.figures(w)
    intro = (f"*Reproduces* the worked walkthrough of {cite('002', 5)}, following the five reproduction steps "
             f"of {cite('001', 7)}.")
    return LabResult("attention_basic", TITLE, intro, walkthrough.sections(w, note), claims,
                     walkthrough.values(w), figures, deviations(params, is_seed))


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
    """The numbers 002 §5 prints, and their exact forms, compared with ours."""
    def exact_equal(got, want):
        return all(is_zero(g - x) for g, x in zip(got, want))

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


def deviations(params, is_seed):
    """How this run departs from the source page."""
    if not is_seed:
        changed = [f"`lab.{k}`" for k in SEED_INPUTS if params.get(k) != SEED_INPUTS[k]]
        return [f"The inputs differ from the worked example of {WALKTHROUGH} (changed: {', '.join(changed)}), so the "
                "numbers printed there are not compared; the other claims hold for any inputs."]
    return ["The source prints the weights and the output rounded to three decimals, and forms z from the "
            "rounded weights. Here every number is exact first and rounded only for display; the exact results "
            "round to the printed ones (the claims above)."]
