"""The pytest plugin that grades exercises: ``--answers FILE_OR_FOLDER`` and ``--grade-json PATH``.

Registered through the ``pytest11`` entry point in pyproject.toml, so the options exist
wherever vecmix is installed. With ``--answers``, pytest runs the grading module that
ships in the package (:mod:`labs.grading.graded`) instead of the paths on the command
line, so grading works from any folder: one test per exercise of the labs the answers
cover, each worth its points, with feedback on failure, a score at the end, and the JSON
when asked. A file that cannot be read, and lines that name no exercise, get file-level
messages; the score and the JSON are written whatever happens.

Limits: each answer is checked in a child process killed after
:data:`~labs.grading.checks.TIME_LIMIT` seconds, and a whole run shares
:data:`TOTAL_LIMIT` seconds: each answer may use its fair share of what is left, so
that a file of slow hostile answers still finishes, fully scored, within the total.
"""

import time
from pathlib import Path

import pytest

from .checks import TIME_LIMIT, read_answer_file, write_gradescope

TOTAL_LIMIT = 45  # seconds for every answer of one run together (--grade-total changes it)
MIN_LIMIT = 0.05  # seconds that every answer gets, however little of the total is left
GRADES = pytest.StashKey[list]()  # (Exercise, Verdict) for each graded answer
ANSWERS = pytest.StashKey[object]()  # the AnswerFile read from --answers
BUDGET = pytest.StashKey[object]()  # the shared time budget


def pytest_addoption(parser):
    group = parser.getgroup("vecmix grading")
    group.addoption("--answers", metavar="PATH",
                    help="grade the answers in this file, or in every *.txt file of this folder "
                         "(write a template with: python -m labs.exercises <lab>)")
    group.addoption("--grade-json", metavar="PATH", help="also write the grades as Gradescope-style JSON")
    group.addoption("--grade-total", metavar="SECONDS", type=float, default=TOTAL_LIMIT,
                    help=f"seconds for checking every answer together (default {TOTAL_LIMIT}); each answer gets a "
                         f"fair share of what is left, at most {TIME_LIMIT} s")


def pytest_configure(config):
    config.stash[GRADES] = []
    config.addinivalue_line("markers", "grading: an exercise test; with --answers only these run")
    path = config.getoption("--answers")
    if path is None:
        return
    from labs.exercises import EXERCISES  # the catalogue, loaded only when grading

    config.stash[ANSWERS] = _read_path(Path(path), EXERCISES)
    config.args[:] = [str(Path(__file__).with_name("graded.py"))]  # the graded tests, from any folder
    config.option.doctestmodules = False


def _read_path(path, exercises):
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise pytest.UsageError(f"--answers {path}: no answers file there (write one with python -m labs.exercises <lab>)")
    return read_answer_file([(f, f.read_bytes()) for f in files], exercises)


def answer_file(config):
    """The AnswerFile of --answers, or None when not grading."""
    return config.stash.get(ANSWERS, None)


class Budget:
    """The time left for the answers of one run: each gets its fair share, between MIN_LIMIT and TIME_LIMIT.

    >>> budget = Budget(50, total=45)  # 50 answers that each use all the time they are given
    >>> round(budget.next_limit(), 1), min(TIME_LIMIT, 45 / 50) == 0.9
    (0.9, True)
    """

    def __init__(self, answers, total=TOTAL_LIMIT):
        self.left, self.deadline = answers, time.monotonic() + total

    def next_limit(self):
        share = max(0.0, self.deadline - time.monotonic()) / max(1, self.left)
        self.left -= 1
        return min(TIME_LIMIT, max(MIN_LIMIT, share))


def pytest_collection_modifyitems(config, items):
    answers = answer_file(config)
    if answers is None:
        return
    keep = [item for item in items if not getattr(item, "callspec", None)
            or item.callspec.params["exercise"].lab in answers.labs]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep
    config.stash[BUDGET] = Budget(sum(1 for item in keep if getattr(item, "callspec", None)),
                                  config.getoption("--grade-total"))


@pytest.fixture(scope="session")
def answers(pytestconfig):
    """The AnswerFile from --answers, or None when not grading."""
    return answer_file(pytestconfig)


@pytest.fixture
def grade_answer(pytestconfig):
    """Grade one exercise from the answers within the run's time budget, and record the verdict."""
    from .checks import grade

    def grade_one(exercise):
        verdict = grade(exercise, answer_file(pytestconfig).answers.get(exercise.name),
                        seconds=pytestconfig.stash[BUDGET].next_limit())
        pytestconfig.stash[GRADES].append((exercise, verdict))
        return verdict

    return grade_one


def pytest_terminal_summary(terminalreporter, config):
    answers = answer_file(config)
    if answers is None:
        return
    grades = config.stash[GRADES]
    score = sum(ex.points for ex, v in grades if v.passed)
    total = sum(ex.points for ex, _ in grades)
    terminalreporter.section("vecmix grades")
    for message in answers.problems:
        terminalreporter.write_line(f"note {message}")
    for ex, verdict in grades:
        mark = "ok  " if verdict.passed else "FAIL"
        terminalreporter.write_line(f"{mark} {ex.name}: {ex.points if verdict.passed else 0}/{ex.points}"
                                    + ("" if verdict.passed else f"  {verdict.feedback}"))
    terminalreporter.write_line(f"score: {score}/{total}")
    if config.getoption("--grade-json"):
        write_gradescope(grades, config.getoption("--grade-json"), answers.problems)
        terminalreporter.write_line(f"grades written to {config.getoption('--grade-json')}")
