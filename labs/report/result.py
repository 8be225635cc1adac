"""What a lab returns: prose sections, claims with verdicts, named values and figures.

A lab computes and hands back a :class:`LabResult`; :mod:`labs.report.render` turns it into
``report.md`` and ``results.json``.
"""

from dataclasses import dataclass, field

import sympy as sp

NUMERIC_DIGITS = 12  # significant digits kept in results.json: stable across BLAS builds


@dataclass(frozen=True)
class Value:
    """A named result: its numeric value (from numpy) and, where one exists, its exact twin."""

    name: str
    numeric: object
    exact: object = None

    def to_json(self):
        """``{"numeric": ..., "exact": ...}`` with floats kept to 12 significant digits.

        >>> Value("third", 1 / 3, sp.Rational(1, 3)).to_json()
        {'numeric': 0.333333333333, 'exact': '1/3'}
        """
        out = {"numeric": _rounded(self.numeric)}
        if self.exact is not None:
            out["exact"] = _exact_string(self.exact)
        return out


@dataclass
class LabResult:
    """Everything a lab run produced; rendering and writing happen elsewhere."""

    lab: str
    title: str
    intro: str
    sections: list
    claims: list
    values: list
    figures: dict = field(default_factory=dict)  # file name -> matplotlib Figure
    deviations: list = field(default_factory=list)
    counter_cases: dict = field(default_factory=dict)  # claim id -> CounterCase, from the lab's module

    @property
    def reproduced(self):
        """True when every claim is reproduced."""
        return all(c.holds for c in self.claims)


def _rounded(x):
    """Floats (also nested in lists, dicts and arrays) to 12 significant digits."""
    if hasattr(x, "tolist"):
        x = x.tolist()
    if isinstance(x, dict):
        return {key: _rounded(v) for key, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_rounded(v) for v in x]
    if isinstance(x, float):
        return float(f"{x:.{NUMERIC_DIGITS}g}")
    return x


def _exact_string(x):
    """SymPy's string for an exact value; a vector or matrix as nested lists of strings."""
    if isinstance(x, sp.MatrixBase):
        rows = [[sp.sstr(v) for v in x.row(i)] for i in range(x.rows)]
        return [r[0] for r in rows] if x.cols == 1 else rows
    if isinstance(x, (list, tuple)):
        return [_exact_string(v) for v in x]
    return sp.sstr(x)
