"""The exercises: graded from --answers, or else proved solvable and able to tell right from wrong."""

import pytest

from labs.exercises import EXERCISES, all_exercises
from labs.grading import VISIBILITIES, grade

EXERCISE_LIST = all_exercises()


@pytest.mark.grading
@pytest.mark.parametrize("exercise", EXERCISE_LIST, ids=[ex.name for ex in EXERCISE_LIST])
def test_exercise(exercise, answers, record_grade):
    if answers is None:  # no learner: the exercise itself is under test
        assert grade(exercise, exercise.solution).passed, grade(exercise, exercise.solution).feedback
        for text in exercise.also:
            assert grade(exercise, text).passed, f"{text!r} is right too: {grade(exercise, text).feedback}"
        for text, feedback in exercise.wrong.items():
            verdict = grade(exercise, text)
            assert not verdict.passed and feedback in verdict.feedback, (text, verdict)
        return
    verdict = grade(exercise, answers.get(exercise.name))
    record_grade(exercise, verdict)
    if not verdict.passed:  # the feedback alone: no traceback, no locals
        pytest.fail(f"{exercise.name} (0 of {exercise.points} points): {verdict.feedback}", pytrace=False)


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
