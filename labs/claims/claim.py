"""A claim (a check with a verdict) and its counter-case (how that check could fail)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Claim:
    """One checked statement: what the source says, what we observed, and whether they agree.

    ``observed`` is computed from what the lab did; ``holds`` is the outcome of the check;
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
class CounterCase:
    """What makes a claim say "not reproduced": other inputs, an injected fault, or both.

    ``overrides`` are config overrides in Hydra's syntax (``lab.values=[[1,0],[2,0]]``);
    ``fault`` names an entry of :data:`labs.claims.faults.FAULTS`, injected while the lab
    runs. ``why`` says in one line what the counter-case shows.
    """

    why: str
    overrides: tuple = ()
    fault: str | None = None

    def to_json(self):
        """The counter-case as results.json stores it beside its claim.

        >>> inputs("a target off the plane", "lab.target=[0,0,1]").to_json()
        {'fault': None, 'overrides': ['lab.target=[0,0,1]'], 'why': 'a target off the plane'}
        """
        return {"fault": self.fault, "overrides": list(self.overrides), "why": self.why}

    def describe(self):
        """One line of Markdown for the report.

        >>> inputs("a target off the plane", "lab.target=[0,0,1]").describe()
        'a target off the plane: `lab.target=[0,0,1]`'
        """
        parts = [self.why]
        if self.overrides:
            parts.append(" ".join(f"`{o}`" for o in self.overrides))
        if self.fault:
            parts.append(f"fault `{self.fault}`")
        return parts[0] + (": " + ", ".join(parts[1:]) if len(parts) > 1 else "")


def inputs(why, *overrides):
    """A counter-case made of config overrides only.

    >>> inputs("no negative weight", "lab.weights=[0.2,0.5,0.3]").overrides
    ('lab.weights=[0.2,0.5,0.3]',)
    """
    return CounterCase(why, tuple(overrides))


def fault(name, *overrides):
    """A counter-case that injects the named fault (with overrides where the fault needs other inputs to show).

    >>> fault("softmax-unnormalised").why
    'the numeric softmax forgets to divide by the sum of the exponentials'
    """
    from .faults import FAULTS

    if name not in FAULTS:
        raise KeyError(f"no fault named {name!r} in labs.claims.faults")
    return CounterCase(FAULTS[name].description, tuple(overrides), name)
