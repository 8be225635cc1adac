"""How a :class:`LabResult` becomes ``report.md`` and ``results.json``.

No timestamps and no absolute paths: the same config gives the same bytes.
"""

import json
import platform
import re
from importlib import metadata

from .latex import portable
from .markdown import literal, table

PACKAGES = ("vecmix", "numpy", "sympy", "matplotlib", "hydra-core", "omegaconf")


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

    Its math is made portable (:func:`labs.report.latex.portable`).

    >>> from labs.claims import Claim
    >>> from labs.report import LabResult
    >>> r = LabResult("demo", "Demo", "An intro.", ["## Body"], [Claim("c", "s", "000 §1", "1", "1", True, True)], [])
    >>> md = render_markdown(r, "python -m labs.reproduce lab=demo", {"python": "3.11"})
    >>> md.splitlines()[:3], "1 of 1 claims reproduced." in md
    (['---', 'title: "Demo"', 'lab: demo'], True)
    """
    counted = sum(c.holds for c in result.claims)
    claims_table = table(
        ["id", "claim", "source", "expected", "observed", "verdict"],
        [[f"`{c.id}`", c.statement, c.source, literal(c.expected), literal(c.observed),
          c.verdict if c.holds else f"**{c.verdict}**"] for c in result.claims],
    )
    counters = [f"- `{c.id}`: {result.counter_cases[c.id].describe()}" for c in result.claims
                if c.id in result.counter_cases]
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
        *(["### How each check can fail", "",
           "Every check above could have come out the other way. These inputs (or, for an identity that holds "
           "for every input, this fault in the implementation) make it say \"not reproduced\""
           + ("" if result.reproduced else " (or, for a claim not reproduced here, \"reproduced\")") + "; "
           f"`python -m labs.falsify lab={result.lab}` runs them all.", "", *counters, ""] if counters else []),
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
    return portable(re.sub(r"\n{3,}", "\n\n", "\n".join(parts)))


def render_json(result, command, config, env):
    """results.json: the machine-readable twin of the report, with sorted keys.

    >>> import sympy as sp
    >>> from labs.report import LabResult, Value
    >>> r = LabResult("demo", "Demo", "", [], [], [Value("z", [0.5], [sp.Rational(1, 2)])])
    >>> json.loads(render_json(r, "cmd", {}, {}))["values"]
    {'z': {'exact': ['1/2'], 'numeric': [0.5]}}
    """
    doc = {
        "lab": result.lab,
        "title": result.title,
        "command": command,
        "config": config,
        "claims": [{**c.to_json(), **({"counter_case": result.counter_cases[c.id].to_json()}
                                      if c.id in result.counter_cases else {})} for c in result.claims],
        "values": {v.name: v.to_json() for v in result.values},
        "environment": env,
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
