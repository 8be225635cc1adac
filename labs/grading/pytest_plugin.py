"""The pytest plugin that grades exercises: ``--answers FILE_OR_FOLDER`` and ``--grade-json PATH``.

Registered through the ``pytest11`` entry point in pyproject.toml, so the options exist
wherever vecmix is installed (a conftest in tests/ would be loaded too late for them).

With ``--answers``, only the exercise tests run: one per exercise of the labs that the
answers cover, each worth its points, with feedback on failure and a score at the end.
Without it, the same tests prove that every exercise is solvable and every checker
tells right from wrong.
"""

from pathlib import Path

import pytest

from .checks import read_answers, write_gradescope

GRADES = pytest.StashKey[list]()  # (Exercise, Verdict) for each graded answer
ANSWERS = pytest.StashKey[dict]()  # {exercise name: answer text or None}


def pytest_addoption(parser):
    group = parser.getgroup("vecmix grading")
    group.addoption("--answers", metavar="PATH",
                    help="grade the answers in this file, or in every *.txt file of this folder "
                         "(write a template with: python -m labs.exercises <lab>)")
    group.addoption("--grade-json", metavar="PATH", help="also write the grades as Gradescope-style JSON")


def pytest_configure(config):
    config.stash[GRADES] = []
    config.addinivalue_line("markers", "grading: an exercise test; with --answers only these run")


@pytest.fixture(scope="session")
def answers(pytestconfig):
    """{exercise name: answer text or None} from --answers, or None when not grading."""
    return _read(pytestconfig)


def _read(config):
    path = config.getoption("--answers")
    if path is None:
        return None
    if ANSWERS not in config.stash:
        config.stash[ANSWERS] = _read_path(Path(path))
    return config.stash[ANSWERS]


def _read_path(path):
    files = sorted(path.glob("*.txt")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        raise pytest.UsageError(f"--answers {path}: no answers file there (write one with python -m labs.exercises <lab>)")
    found = {}
    for file in files:
        found.update(read_answers(file.read_text(encoding="utf-8", errors="replace")))
    return found


def pytest_collection_modifyitems(config, items):
    answers = _read(config)
    if answers is None:
        return
    labs = {name.split(".", 1)[0] for name in answers}  # the labs these answers are for
    keep = [item for item in items if item.get_closest_marker("grading")
            and getattr(item, "callspec", None) and item.callspec.params["exercise"].lab in labs]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


@pytest.fixture
def record_grade(pytestconfig):
    """Record (exercise, verdict) for the score summary and the JSON."""
    return lambda exercise, verdict: pytestconfig.stash[GRADES].append((exercise, verdict))


def pytest_terminal_summary(terminalreporter, config):
    grades = config.stash[GRADES]
    if not grades:
        return
    score = sum(ex.points for ex, v in grades if v.passed)
    total = sum(ex.points for ex, _ in grades)
    terminalreporter.section("vecmix grades")
    for ex, verdict in grades:
        mark = "ok  " if verdict.passed else "FAIL"
        terminalreporter.write_line(f"{mark} {ex.name}: {ex.points if verdict.passed else 0}/{ex.points}"
                                    + ("" if verdict.passed else f"  {verdict.feedback}"))
    terminalreporter.write_line(f"score: {score}/{total}")
    if config.getoption("--grade-json"):
        write_gradescope(grades, config.getoption("--grade-json"))
        terminalreporter.write_line(f"grades written to {config.getoption('--grade-json')}")
