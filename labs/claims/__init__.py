"""Claims: checked statements with verdicts, and the counter-cases that show each check can fail.

A lab returns :class:`Claim` objects; its module also names, in ``COUNTER_CASES``, one
:class:`CounterCase` per claim: config overrides under which the claim says "not
reproduced", or, for an identity that holds for every valid input, a fault from
:mod:`labs.claims.faults` (a plausible wrong version of a vecmix function) that it
notices. ``python -m labs.falsify`` runs them all.
"""

from .claim import Claim, CounterCase, fault, inputs

__all__ = ["Claim", "CounterCase", "fault", "inputs"]
