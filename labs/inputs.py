"""Read a lab's config values into exact SymPy objects, naming the config key at fault."""

from numbers import Integral

from vecmix import VecmixError, as_exact


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
    return as_exact(value, key)


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
    return as_exact(value, key)


def read_positive_int(value, key):
    """A positive integer such as a dimension.

    >>> read_positive_int(0, "lab.d_k")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: lab.d_k = 0 must be a positive integer
    """
    if isinstance(value, bool) or not isinstance(value, Integral) or value <= 0:
        raise VecmixError(f"{key} = {value!r} must be a positive integer")
    return int(value)
