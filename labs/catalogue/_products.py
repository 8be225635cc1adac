"""Count the work a computation does from the computation itself: its matrix products and exponentials.

A multiply-add count typed by hand proves nothing about the code that runs. Inside
:func:`recording`, every array that enters the named modules through ``np.asarray`` (and
every array the lab marks with :func:`traced`) is a :class:`Traced` array, an ndarray that
reports each matrix product it takes part in (``@``, ``np.matmul``) with the shapes of its
operands and the line of code that asked for it, and each ``np.exp`` with the number of
entries exponentiated. A product of an (a x b) and a (b x c) matrix costs a b c
multiply-adds; a batch of them costs that times the batch size.

>>> import importlib
>>> with recording("vecmix.attention") as log:
...     _ = importlib.import_module("vecmix.attention").attention(np.ones((3, 2)), np.ones((4, 2)), np.ones((4, 5)))
>>> [(p.shapes, p.multiply_adds) for p in log.products]
[(((3, 2), (2, 4)), 24), (((3, 4), (4, 5)), 60)]
>>> log.score_exponentials()  # one per entry of the (3, 4) score matrix
12
"""

import importlib
import linecache
import math
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.polys.matrices import DomainMatrix

_LOGS = []  # the recordings in progress, innermost last


@dataclass(frozen=True)
class Product:
    """One matrix product that ran: where (``module.function: code``) and the shapes of its two operands."""

    where: str
    shapes: tuple

    @property
    def multiply_adds(self):
        """a b c for (a, b) @ (b, c), times the broadcast batch size; a vector operand counts as one row or column.

        >>> Product("x", ((2, 3, 4), (4, 5))).multiply_adds, Product("x", ((3, 3), (3,))).multiply_adds
        (120, 9)
        """
        left, right = self.shapes
        a, b = (1, *left)[-2:]  # (b,) is one row
        c = right[-1] if len(right) > 1 else 1  # (b,) is one column
        batch = np.broadcast_shapes(tuple(left[:-2]), tuple(right[:-2]))
        return math.prod(batch) * a * b * c


@dataclass
class Recording:
    """What ran inside :func:`recording`: products, and exponentials as (where, count, of a product's entries)."""

    products: list = field(default_factory=list)
    exponentials: list = field(default_factory=list)

    def multiply_adds(self, where=None):
        """Total multiply-adds, of every product or of those whose ``where`` passes the test ``where``."""
        return sum(p.multiply_adds for p in self.products if where is None or where(p.where))

    def score_exponentials(self):
        """Exponentials taken of the entries of a product's result (a softmax of scores Q K^T)."""
        return sum(count for _, count, of_product in self.exponentials if of_product)

    def other_exponentials(self):
        """Exponentials of anything else (the online softmax's rescaling factors e^(m_old - m_new))."""
        return sum(count for _, count, of_product in self.exponentials if not of_product)

    def table(self):
        """One row per line of code: (where, the distinct operand shapes, how many times it ran, multiply-adds)."""
        rows = {}
        for p in self.products:
            shapes, times, total = rows.get(p.where, ([], 0, 0))
            rows[p.where] = (shapes + [p.shapes] * (p.shapes not in shapes), times + 1, total + p.multiply_adds)
        return [(where, shapes, times, total) for where, (shapes, times, total) in rows.items()]

    def _product(self, inputs):
        self.products.append(Product(_caller(), tuple(tuple(np.shape(x)) for x in inputs)))

    def _exp(self, x, where):
        count = int(np.size(x) if where is None else np.count_nonzero(np.broadcast_to(where, np.shape(x))))
        self.exponentials.append((_caller(), count, bool(getattr(x, "from_product", False))))


class Traced(np.ndarray):
    """An ndarray that reports its matrix products and exponentials to the recording in progress.

    ``from_product`` marks the result of a product and what is computed from it entry by entry
    (same shape: S * scale, S - m), so that exponentials of scores can be told from others.
    """

    from_product = False

    def __array_finalize__(self, obj):
        self.from_product = getattr(obj, "from_product", False)  # views (S.T, S[rows]) keep the mark

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        plain = [x.view(np.ndarray) if isinstance(x, Traced) else x for x in inputs]
        if out is not None:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, Traced) else o for o in out)
        result = getattr(ufunc, method)(*plain, **kwargs)
        if out is not None:
            result = out[0] if len(out) == 1 else out  # the caller's own arrays, updated in place
        elif isinstance(result, np.ndarray):
            result = result.view(Traced)
            result.from_product = method == "__call__" and (ufunc is np.matmul or any(
                getattr(x, "from_product", False) and np.shape(x) == result.shape for x in inputs))
        if _LOGS and method == "__call__" and ufunc is np.matmul:
            _LOGS[-1]._product(inputs)
        elif _LOGS and method == "__call__" and ufunc is np.exp:
            _LOGS[-1]._exp(inputs[0], kwargs.get("where"))
        return result


def traced(x):
    """x as a :class:`Traced` array (a view: nothing is copied).

    >>> with recording() as log:
    ...     _ = traced(np.ones((2, 3))) @ np.ones(3)
    >>> log.products[0].shapes, log.multiply_adds()
    (((2, 3), (3,)), 6)
    """
    return np.asarray(x).view(Traced)


class _TracingNumpy:
    """numpy as a module sees it while recording: arrays it reads in become :class:`Traced`."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def asarray(a, *args, **kwargs):
        return np.asarray(a, *args, **kwargs).view(Traced)

    @staticmethod
    def broadcast_to(a, shape, subok=False):
        return np.broadcast_to(a, shape, subok=True)


@contextmanager
def recording(*module_names):
    """Record the products and exponentials of the named modules (and of :func:`traced` arrays) while the block runs.

    vecmix reads its array arguments in ``vecmix._checks``, which is traced whenever a vecmix module is named.
    """
    if any(name.startswith("vecmix.") for name in module_names):
        module_names = (*module_names, "vecmix._checks")
    modules = [importlib.import_module(name) for name in module_names]
    log = Recording()
    _LOGS.append(log)
    for module in modules:
        module.np = _TracingNumpy()
    try:
        yield log
    finally:
        for module in modules:
            module.np = np
        _LOGS.remove(log)


def polynomial_through(count, variables, grid):
    """The polynomial in ``variables`` that takes the value ``count(*point)`` at every point of the grid, exactly.

    ``grid`` gives, for each variable, the values it takes; the monomials are the products
    of powers below the number of values, so the fit is exact interpolation (a count of
    higher degree would be mistaken for a wrong polynomial: check it at another size).

    >>> n, d = sp.symbols("n d")
    >>> polynomial_through(lambda a, b: 2 * a**2 * b + a, (n, d), ([1, 2, 3], [1, 2]))
    2*d*n**2 + n
    """
    points = [()]
    for values in grid:
        points = [p + (v,) for p in points for v in values]
    powers = [()]
    for values in grid:
        powers = [e + (k,) for e in powers for k in range(len(values))]
    rows = [[sp.Integer(math.prod(v**k for v, k in zip(p, e))) for e in powers] for p in points]
    counts = DomainMatrix.from_Matrix(sp.Matrix([count(*p) for p in points])).convert_to(sp.QQ)
    coefficients = DomainMatrix.from_Matrix(sp.Matrix(rows)).convert_to(sp.QQ).lu_solve(counts).to_Matrix()
    return sp.expand(sum(c * sp.Mul(*(x**k for x, k in zip(variables, e))) for c, e in zip(coefficients, powers)))


def _caller():
    """'module.function: code' for the line outside numpy and this module that asked for the operation."""
    frame = sys._getframe(1)
    while frame.f_globals.get("__name__", "").startswith(("numpy", __name__)):
        frame = frame.f_back
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).split("  #")[0].strip()
    return f"{frame.f_globals.get('__name__')}.{frame.f_code.co_name}: {code}"
