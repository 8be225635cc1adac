"""The exercises are solvable and their checks tell right from wrong (graded answers: labs/grading/graded.py)."""

import pytest

from labs.exercises import EXERCISES, all_exercises
from labs.grading import VISIBILITIES, grade

EXERCISE_LIST = all_exercises()


@pytest.mark.parametrize("exercise", EXERCISE_LIST, ids=[ex.name for ex in EXERCISE_LIST])
def test_exercise(exercise):  # the exercise itself is under test (learners' answers: labs/grading/graded.py)
    assert grade(exercise, exercise.solution).passed, grade(exercise, exercise.solution).feedback
    for text in exercise.also:
        assert grade(exercise, text).passed, f"{text!r} is right too: {grade(exercise, text).feedback}"
    for text, feedback in exercise.wrong.items():
        verdict = grade(exercise, text)
        assert not verdict.passed and feedback in verdict.feedback, (text, verdict)


def test_exercises_are_well_formed():
    names = [ex.name for ex in EXERCISE_LIST]
    assert len(names) == len(set(names))
    for ex in EXERCISE_LIST:
        assert ex.points > 0 and ex.prompt and ex.wrong and ex.visibility in VISIBILITIES
        assert len(ex.solution) < 4 or ex.solution not in ex.prompt  # the prompt does not give the answer away
        for text in ex.wrong:  # feedback never states the solution
            assert ex.solution not in grade(ex, text).feedback


def test_the_labs_named_in_the_issue_have_at_least_three_more_exercises():
    for lab in ("attention_basic", "vector_mixture", "masking", "identifiability"):
        assert len(EXERCISES[lab]) >= 4, lab


def test_every_lab_carries_exercises():
    from labs.catalogue import LABS

    assert set(EXERCISES) == set(LABS)
