"""vecmix: an attention output is a weighted mixture of value vectors.

    s_i = q . k_i / sqrt(d_k),    alpha = softmax(s),    z = sum_i alpha_i v_i

Numeric functions take and return numpy arrays; their exact twins take the same
numbers and return SymPy matrices. Nothing here reads or writes files, prints or plots.

>>> import vecmix
>>> z = vecmix.attention([1.0, 0.0], [[1, 0], [0, 0], [-1, 0]], [[1, 0], [0, 1], [1, 1]], scale=1.0)
>>> z.round(3)
array([0.755, 0.335])
"""

from .attention import attention, softmax
from .decide import exact_equal, exact_sign, is_nonnegative, is_zero, one_fraction
from .errors import VecmixError
from .exact import as_exact, exact_attention, exact_number, exact_scores, exact_softmax, exact_value, to_numeric
from .hull import affine_coordinates, affine_dependencies, affine_rank, affine_solution_set, distance_to_span, in_hull
from .multihead import exact_multihead_attention, multihead_attention
from .span import Elimination, SolutionSet, eliminate, in_span, null_space, solution_set

__version__ = "0.1.0"

__all__ = [
    "Elimination",
    "SolutionSet",
    "VecmixError",
    "affine_coordinates",
    "affine_dependencies",
    "affine_rank",
    "affine_solution_set",
    "as_exact",
    "attention",
    "distance_to_span",
    "eliminate",
    "exact_attention",
    "exact_equal",
    "exact_multihead_attention",
    "exact_number",
    "exact_scores",
    "exact_sign",
    "exact_softmax",
    "exact_value",
    "in_hull",
    "in_span",
    "is_nonnegative",
    "is_zero",
    "multihead_attention",
    "null_space",
    "one_fraction",
    "softmax",
    "solution_set",
    "to_numeric",
]
