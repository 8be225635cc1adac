"""Grading: hostile and garbled answers fail cleanly and never run, and the learner flow works end to end."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labs.exercises import EXERCISES, all_exercises
from labs.exercises import main as write_template
from labs.grading import AnswerError, grade, parse_answer, read_answers

ROOT = Path(__file__).resolve().parent.parent


def hostile(canary):
    """Answers that would do harm (touch the canary file) or take forever, if anything evaluated them."""
    return [
        f"__import__('os').system('touch {canary}')",
        f"(lambda: __import__('os').system('touch {canary}'))()",
        "().__class__.__mro__[1].__subclasses__()",
        f"open('{canary}', 'w')",
        f"exec(\"open('{canary}', 'w')\")",
        "eval('1')",
        "getattr(1, 'real')",
        "[x for x in range(10)]",
        "{x: 1 for x in [1]}",
        "lambda: 1",
        "exp.__globals__",
        "a_b + 1",
        "9**9**9**9",
        "10**10**10",
        "2**(2**(2**30))",
        "factorial(10**6)",
        "exp(exp(exp(100)))",
        "E**(10**6)",
        "1" * 5000,
        "+".join(["1"] * 300),
        "(" * 300 + "1" + ")" * 300,
        "[" * 60 + "]" * 60,
        "1 if 1 else 0",
        "1 < 2",
        "'a string'",
        "b'bytes'",
        "{1: 2}",
        "x[0]",
        "*[1, 2]",
        "1; 2",
        "\x00",
        "sqrt(",
        "[1, 2",
        "∑",
        "1/0",
        "log(0)",
    ]


def test_hostile_answers_never_run_and_fail_cleanly_and_quickly(tmp_path):
    canary = tmp_path / "pwned"
    for exercise in all_exercises()[::3]:
        for text in hostile(canary):
            start = time.perf_counter()
            verdict = grade(exercise, text)
            assert not verdict.passed and verdict.feedback and "\n" not in verdict.feedback, (text, verdict)
            assert time.perf_counter() - start < 3, f"{text[:40]!r} took too long"  # a hang guard
    assert not canary.exists()


@pytest.mark.parametrize("text, message", [
    ("__import__('os')", "names with underscores are not allowed"),
    ("().__class__", "attribute access"),
    ("lambda: 1", "is not allowed in an answer"),
    ("[x for x in y]", "is not allowed in an answer"),
    ("9**9**9**9", "an exponent beyond 1000 is not allowed"),
    ("factorial(10**6)", r"factorial\(\.\.\.\) is not allowed"),
    ("1" * 500, "the limit is 400"),
    ("1/0", "infinite or undefined"),
])
def test_refusals_say_why(text, message):
    with pytest.raises(AnswerError, match=message):
        parse_answer(text)


def test_answers_are_judged_by_meaning():
    ex = EXERCISES["attention_basic"][1]  # the exact weights
    for spelling in ("[exp(2), E, 1]/(1 + E + exp(2))", "[E/(E + 1 + exp(-1)), 1/(E + 1 + exp(-1)), "
                     "exp(-1)/(E + 1 + exp(-1))]", "[e^2, e, 1]/(e^2 + e + 1)"):
        assert grade(ex, spelling).passed, spelling


def test_read_answers_takes_the_first_equals_sign_and_ignores_comments():
    assert read_answers("a.b = [1, 2] # not a comment here\n# a.c = 3\n") == {"a.b": "[1, 2] # not a comment here"}


def run_pytest(*args):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_exercises.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_learner_flow_template_answer_grade_json(tmp_path, capsys):
    answers = tmp_path / "answers" / "masking.txt"
    assert write_template(["masking", "--out", str(answers)]) == 0
    text = answers.read_text()
    assert "masking.causal_mask =" in text and "# masking.causal_mask (1 point, 002 §7)" in text
    assert write_template(["masking", "--out", str(answers)]) == 2  # never overwrites answers
    assert "exists" in capsys.readouterr().err
    filled = text.replace("masking.causal_mask =", "masking.causal_mask = [[1,0,0,0],[1,1,0,0],[1,1,1,0],[1,1,1,1]]")
    filled = filled.replace("masking.future_weight =", "masking.future_weight = 0.001")
    answers.write_text(filled)
    grades = tmp_path / "grades.json"
    proc = run_pytest(f"--answers={answers}", f"--grade-json={grades}")
    assert proc.returncode == 1  # some answers are wrong
    assert "score: 1/6" in proc.stdout and "not exact" in proc.stdout
    doc = json.loads(grades.read_text())
    assert set(doc) == {"score", "max_score", "tests"} and (doc["score"], doc["max_score"]) == (1, 6)
    for test in doc["tests"]:
        assert set(test) == {"name", "score", "max_score", "output", "visibility"}
        assert isinstance(test["score"], int) and 0 <= test["score"] <= test["max_score"]
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert [t["name"] for t in doc["tests"]] == [ex.name for ex in EXERCISES["masking"]]


def test_a_file_of_hostile_answers_through_pytest(tmp_path):
    canary = tmp_path / "pwned"
    payloads = hostile(canary)
    lines = [f"{ex.name} = {payloads[i % len(payloads)]}" for i, ex in enumerate(EXERCISES["attention_basic"])]
    answers = tmp_path / "hostile.txt"
    answers.write_text("\n".join(lines) + "\n")
    proc = run_pytest(f"--answers={answers}")
    assert proc.returncode == 1 and "INTERNALERROR" not in proc.stdout + proc.stderr
    assert f"score: 0/{sum(ex.points for ex in EXERCISES['attention_basic'])}" in proc.stdout
    assert not canary.exists()


def test_a_folder_grades_every_lab_it_covers(tmp_path):
    for lab in ("vector_mixture", "identifiability"):
        ex = EXERCISES[lab][0]
        (tmp_path / f"{lab}.txt").write_text(f"{ex.name} = {ex.solution}\n")
    proc = run_pytest(f"--answers={tmp_path}")
    graded = sum(ex.points for lab in ("vector_mixture", "identifiability") for ex in EXERCISES[lab])
    first = EXERCISES["vector_mixture"][0].points + EXERCISES["identifiability"][0].points
    assert f"score: {first}/{graded}" in proc.stdout


def test_a_missing_answers_file_is_a_usage_error(tmp_path):
    proc = run_pytest(f"--answers={tmp_path / 'nothing.txt'}")
    assert proc.returncode == 4 and "no answers file there" in proc.stderr


def test_an_unknown_lab_gets_a_suggestion(capsys):
    assert write_template(["attention_basik"]) == 2
    assert "did you mean attention_basic?" in capsys.readouterr().err
