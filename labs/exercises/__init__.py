"""Each lab's exercises: ``EXERCISES[lab]`` is a list of :class:`labs.grading.Exercise`.

Write a lab's answer template with ``python -m labs.exercises <lab>``; grade a filled-in
file with ``python -m pytest --answers=<file or folder>``.

>>> sorted(EXERCISES)[:2], sum(len(v) for v in EXERCISES.values()) >= 20
(['attention_basic', 'cost_per_layer'], True)
"""

from . import (
    attention_basic,
    cost_per_layer,
    efficient_variants,
    identifiability,
    masking,
    missing_direction,
    multihead,
    multihead_cost,
    negative_weights,
    paper_lab,
    positional_encoding,
    redundant_values,
    scaling,
    vector_mixture,
    weights_vs_importance,
)

EXERCISES = {module.LAB: module.EXERCISES for module in (
    attention_basic, vector_mixture, negative_weights, redundant_values, missing_direction, paper_lab, masking,
    multihead, identifiability, weights_vs_importance, scaling, multihead_cost, positional_encoding,
    efficient_variants, cost_per_layer)}


def all_exercises():
    """Every exercise of every lab, in catalogue order."""
    return [exercise for exercises in EXERCISES.values() for exercise in exercises]
