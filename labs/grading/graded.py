"""The graded tests that ``pytest --answers=...`` runs, wherever it is run (see labs.grading.pytest_plugin).

One test per exercise of the labs the answers cover, and one for the answers file itself:
it fails, worth no points, when the file could not be read or has lines the grader
cannot use, so that such a run never looks clean.
"""

import pytest

from labs.exercises import all_exercises

EXERCISE_LIST = all_exercises()


def test_answers_file(answers):
    if answers.problems:
        pytest.fail("; ".join(answers.problems), pytrace=False)


@pytest.mark.grading
@pytest.mark.parametrize("exercise", EXERCISE_LIST, ids=[ex.name for ex in EXERCISE_LIST])
def test_exercise(exercise, grade_answer):
    verdict = grade_answer(exercise)
    if not verdict.passed:  # the feedback alone: no traceback, no locals
        pytest.fail(f"{exercise.name} (0 of {exercise.points} points): {verdict.feedback}", pytrace=False)
