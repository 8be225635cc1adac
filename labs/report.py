"""What a lab returns, and how it becomes ``report.md`` and ``results.json``.

A lab computes; it hands back a :class:`LabResult` (prose sections, claims with
verdicts, named values, figures). This module turns that into the two files, with no
timestamps and no absolute paths, so that the same config gives the same bytes.
"""

import json
import re
import platform
from dataclasses import dataclass, field
from importlib import metadata

import sympy as sp

from .markdown import table

PACKAGES = ("vecmix", "numpy", "sympy", "matplotlib", "hydra-core", "omegaconf")
NUMERIC_DIGITS = 12  # significant digits kept in results.json: stable across BLAS builds


@dataclass(frozen=True)
class Claim:
    """One checked statement: what the source says, what we observed, and whether they agree.

    ``exact`` tells whether the check was exact (SymPy) or numeric (a tolerance).
    """

    id: str
    statement: str
    source: str
    expected: str
    observed: str
    holds: bool
    exact: bool

    @property
    def verdict(self):
        """'reproduced' when the observation agrees with the expectation."""
        return "reproduced" if self.holds else "not reproduced"

    def to_json(self):
        """The claim as results.json stores it.

        >>> Claim("c1", "2 + 2 = 4", "none", "4", "4", True, True).to_json()["verdict"]
        'reproduced'
        """
        return {
            "id": self.id,
            "statement": self.statement,
            "source": self.source,
            "expected": self.expected,
            "observed": self.observed,
            "verdict": self.verdict,
            "exact": self.exact,
        }


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

    @property
    def reproduced(self):
        """True when every claim is reproduced."""
        return all(c.holds for c in self.claims)


def environment():
    """Versions of Python and of the packages that produced a report.

    >>> sorted(environment())[:2]
    ['hydra-core', 'matplotlib']
    """
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def render_markdown(result, command, env):
    """The report: front matter, title, the lab's sections, claims, deviations, environment, command.

    >>> r = LabResult("demo", "Demo", "An intro.", ["## Body"], [Claim("c", "s", "000 §1", "1", "1", True, True)], [])
    >>> md = render_markdown(r, "python -m labs.reproduce lab=demo", {"python": "3.11"})
    >>> md.splitlines()[:3], "1 of 1 claims reproduced." in md
    (['---', 'title: "Demo"', 'lab: demo'], True)
    """
    counted = sum(c.holds for c in result.claims)
    claims_table = table(
        ["claim", "source", "expected", "observed", "verdict"],
        [[c.statement, c.source, c.expected, c.observed, c.verdict if c.holds else f"**{c.verdict}**"]
         for c in result.claims],
    )
    deviations = "\n".join(f"- {d}" for d in result.deviations) or "None."
    parts = [
        "---",
        f"title: {json.dumps(result.title)}",
        f"lab: {result.lab}",
        "---",
        "",
        f"# {result.title}",
        "",
        result.intro,
        *(s.strip("\n") + "\n" for s in [""] + result.sections),
        "## Checks",
        "",
        f"{counted} of {len(result.claims)} claims reproduced.",
        "",
        claims_table,
        "",
        "## Deviations from the source",
        "",
        deviations,
        "",
        "## Environment",
        "",
        table(["package", "version"], sorted(env.items())),
        "",
        "## Regenerate",
        "",
        "```bash",
        command,
        "```",
        "",
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(parts))


def render_json(result, command, config, env):
    """results.json: the machine-readable twin of the report, with sorted keys.

    >>> r = LabResult("demo", "Demo", "", [], [], [Value("z", [0.5], [sp.Rational(1, 2)])])
    >>> json.loads(render_json(r, "cmd", {}, {}))["values"]
    {'z': {'exact': ['1/2'], 'numeric': [0.5]}}
    """
    doc = {
        "lab": result.lab,
        "title": result.title,
        "command": command,
        "config": config,
        "claims": [c.to_json() for c in result.claims],
        "values": {v.name: v.to_json() for v in result.values},
        "environment": env,
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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
