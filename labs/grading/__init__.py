"""Exercises, graded by meaning: exact equivalence, a tolerance where a decimal is asked, or a property.

An instructor adds an exercise in a few lines::

    Exercise("attention_basic", "scores", "Give the scores s as a vector [s1, s2, s3].",
             exact([1, 0, -1]), solution="[1, 0, -1]", wrong={"[1, 0, 1]": "entry 3"}, points=1)

A learner writes answers in a plain file (``python -m labs.exercises <lab>`` writes the
template) and grades it with ``python -m pytest --answers=<file or folder>``. Feedback says
what is wrong and gives a hint, never the solution.
"""

from .answers import AnswerError, parse_answer
from .checks import (
    VISIBILITIES,
    AnswerFile,
    Exercise,
    Verdict,
    Wrong,
    decimal,
    equivalent,
    exact,
    grade,
    read_answer_file,
    read_answers,
    same,
    satisfies,
    sign,
    template,
    vector,
    write_gradescope,
    zero,
)

__all__ = ["VISIBILITIES", "AnswerError", "AnswerFile", "read_answer_file", "Exercise", "Verdict", "Wrong", "decimal", "equivalent", "exact", "grade",
           "parse_answer", "read_answers", "same", "satisfies", "sign", "template", "vector", "write_gradescope",
           "zero"]
