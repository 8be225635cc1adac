"""Read a lab's config values into exact SymPy objects, naming the config key at fault."""

from numbers import Integral

import numpy as np
import sympy as sp

from vecmix import VecmixError, as_exact, exact_number

LARGEST = sp.Integer(10) ** 100  # config numbers lie within 1e-100 .. 1e100 in size (or are 0): float64 squares
SMALLEST = 1 / LARGEST           # and multiplies them in the numeric path, and must neither overflow nor flush to 0
LARGEST_INT = 2**53  # counts, sizes and offsets: beyond it float64 (sqrt(d_k), angles) cannot hold them exactly


def read_vector(value, key):
    """A list of numbers as an exact column vector.

    >>> read_vector([0.5, "1/3"], "lab.query").T
    Matrix([[1/2, 1/3]])
    >>> read_vector([[1, 0]], "lab.query")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.query must be a list of numbers such as [1, 0], got [[1, 0]]
    """
    if not isinstance(value, (list, tuple)) or any(isinstance(v, (list, tuple)) for v in value):
        raise VecmixError(f"{key} must be a list of numbers such as [1, 0], got {value!r}")
    return _in_range(as_exact(value, key), key)


def read_vectors(value, key):
    """A list of vectors (lists of numbers) as an exact matrix whose rows are the vectors.

    >>> read_vectors([[1, 0], [0.5, 2]], "lab.values")
    Matrix([
    [  1, 0],
    [1/2, 2]])
    >>> read_vectors([1, 0], "lab.values")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.values must be a list of vectors such as [[1, 0], [0, 1]], got [1, 0]
    """
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (list, tuple)) for v in value):
        raise VecmixError(f"{key} must be a list of vectors such as [[1, 0], [0, 1]], got {value!r}")
    if not value:
        raise VecmixError(f"{key} is empty: expected at least one vector")
    return _in_range(as_exact(value, key), key)


def read_number(value, key):
    """One number, exact, within the range a lab computes with.

    >>> read_number("1/3", "lab.shift")
    1/3
    >>> read_number("1e400", "lab.shift")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.shift = '1e400' is too large: a lab's numbers are 0 or between 1e-100 and 1e100 in size, so that float64 can square and multiply them
    """
    return _in_range(sp.Matrix([[exact_number(value, key)]]), key, [value])[0]


def _in_range(M, key, given=None):
    """M, after refusing an entry that float64 would overflow or flush to zero once squared (naming its index)."""
    for (i, j), x in np.ndenumerate(np.array(M.tolist(), dtype=object)):
        if x != 0 and not SMALLEST <= abs(x) <= LARGEST:
            where = key if given is not None else (f"{key}[{i}]" if M.cols == 1 else f"{key}[{i}][{j}]")
            shown = repr(given[0]) if given is not None else _shown(x)
            raise VecmixError(f"{where} = {shown} is too {'large' if abs(x) > 1 else 'small'}: a lab's numbers are 0 "
                              "or between 1e-100 and 1e100 in size, so that float64 can square and multiply them")
    return M


def read_positive_int(value, key, maximum=None, reason=""):
    """A positive integer such as a dimension, at most ``maximum`` when one is given (``reason`` says why).

    >>> read_positive_int(0, "lab.d_k")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.d_k = 0 must be a positive integer
    >>> read_positive_int(10**30, "lab.d_ff", maximum=64)
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.d_ff = 1000000000000000000000000000000 is too large for this lab: at most 64
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value <= 0:
        raise VecmixError(f"{key} = {value!r} must be a positive integer")
    if maximum is not None and value > maximum:
        raise VecmixError(f"{key} = {value!r} is too large for this lab: at most {maximum}"
                          + (f" ({reason})" if reason else ""))
    if value > LARGEST_INT:
        raise VecmixError(f"{key} = {_shown(value)} is too large: a lab's counts and sizes are at most 2^53 = "
                          f"{LARGEST_INT}, the largest integer that float64 holds exactly")
    return int(value)


def read_seed(value, key="lab.seed"):
    """A seed for numpy's random generator: an integer from 0.

    >>> read_seed(-1)
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.seed = -1 must be a nonnegative integer
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
        raise VecmixError(f"{key} = {value!r} must be a nonnegative integer")
    if value > LARGEST:
        raise VecmixError(f"{key} = {_shown(value)} is too large: a lab's numbers are at most 1e100")
    return int(value)


def read_labels(value, key, count):
    """A list of ``count`` token labels (strings).

    >>> read_labels(["i", "love", "sushi"], "lab.tokens", 3)
    ['i', 'love', 'sushi']
    >>> read_labels(["i"], "lab.tokens", 3)
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.tokens has 1 labels but there are 3 vectors: one label per vector
    """
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (str, int, float)) for v in value):
        raise VecmixError(f"{key} must be a list of labels such as [the, cat, sat], got {value!r}")
    if len(value) != count:
        raise VecmixError(f"{key} has {len(value)} labels but there are {count} vectors: one label per vector")
    return [str(v) for v in value]


def random_rationals(rng, shape, numerators=4, denominator=2):
    """A reproducible matrix of small rationals n / denominator with |n| <= numerators.

    ``rng`` is a seed or a ``numpy.random.Generator``. Small rationals keep the exact path
    exact and fast; the same seed gives the same matrix.

    >>> random_rationals(0, (2, 2))
    Matrix([
    [3/2, 1/2],
    [  0,  -1]])
    """
    n = np.random.default_rng(rng).integers(-numerators, numerators + 1, size=shape)
    return sp.Matrix(shape[0], shape[1], [sp.Rational(int(x), denominator) for x in n.ravel()])  # (rows, cols)


MAX_PAIRS = 16  # the walkthrough's exact span and hull tests: about 20 seconds for 16 pairs in two dimensions


def check_pairs(K, V, keys="lab.keys", values="lab.values"):
    """Keys and values come in pairs: as many rows in K as in V, at most :data:`MAX_PAIRS` of them.

    >>> check_pairs(sp.ones(3, 2), sp.ones(2, 2))
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.keys has 3 vectors but lab.values has 2: keys and values come in pairs
    """
    if K.rows != V.rows:
        raise VecmixError(f"{keys} has {K.rows} vectors but {values} has {V.rows}: keys and values come in pairs")
    if K.rows > MAX_PAIRS:
        raise VecmixError(f"{keys} and {values} have {K.rows} pairs, more than this lab takes: at most {MAX_PAIRS} "
                          f"(the exact span and hull tests grow quickly with the number of pairs; {MAX_PAIRS} take "
                          "about 20 seconds)")


def check_query_size(size, K, query="lab.query", keys="lab.keys"):
    """A query (or each of several) has as many numbers as each key.

    >>> check_query_size(3, sp.ones(2, 2))
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.query has 3 numbers but each key in lab.keys has 2: the query and the keys must have the same dimension
    """
    if size != K.cols:
        raise VecmixError(f"{query} has {size} numbers but each key in {keys} has {K.cols}: "
                          "the query and the keys must have the same dimension")


def _shown(x):
    """A number for a message: as written when short, else in scientific notation (1.00e+400)."""
    text = str(x)
    return text if len(text) <= 20 else sp.sstr(sp.Float(x, 3))
