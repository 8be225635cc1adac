"""The checks of an exercise (exact, decimal, a property), grading with feedback, and answer files."""

import json
from dataclasses import dataclass, field

import sympy as sp

from vecmix import VecmixError, exact_sign, is_zero

from .answers import AnswerError, parse_answer
from .sandbox import TimeLimit, run_limited

TIME_LIMIT = 5  # seconds to read and check one answer (a run shares a total budget: see pytest_plugin)
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class Wrong(Exception):
    """Raised by a check: the answer is wrong, and the message says how."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of grading one answer."""

    passed: bool
    feedback: str = ""


@dataclass(frozen=True)
class Exercise:
    """One exercise of a lab: a prompt, a check of the parsed answer, and what proves the check works.

    ``solution`` and every spelling in ``also`` must pass, and every key of ``wrong`` must
    fail with feedback containing its value; the test suite proves all three for every
    exercise.
    """

    lab: str
    id: str
    prompt: str
    check: object  # callable: parsed answer -> None, or raises Wrong
    solution: str
    wrong: dict = field(default_factory=dict)
    also: tuple = ()
    points: int = 1
    symbols: tuple = ()
    hint: str = ""
    source: str = ""
    visibility: str = "visible"

    @property
    def name(self):
        return f"{self.lab}.{self.id}"

    def __repr__(self):  # never the solution: test reports print their arguments
        return f"Exercise({self.name})"


def grade(exercise, text, seconds=TIME_LIMIT):
    """Grade one answer (text, or None when left blank); never raises for any text.

    The answer is read and checked in a child process that is killed after ``seconds``
    (see :mod:`labs.grading.sandbox`), so no answer can hold the grader longer.

    >>> ex = Exercise("demo", "half", "One half?", exact(sp.Rational(1, 2)), "1/2", hint="a fraction")
    >>> grade(ex, "2/4"), grade(ex, "0.5").passed, grade(ex, "__import__('os')").feedback
    (Verdict(passed=True, feedback=''), True, 'could not read the answer: names with underscores are not allowed: __import__')
    """
    if text is None or not str(text).strip():
        return Verdict(False, "no answer was given")
    try:
        return run_limited(lambda: _grade_here(exercise, text), seconds)
    except TimeLimit:
        return Verdict(False, f"checking this answer took longer than {seconds:.3g} s; write it more simply")
    except MemoryError:
        return Verdict(False, "checking this answer needed too much memory; write it more simply")


def _grade_here(exercise, text):
    """grade() inside the limits: read the answer, run the check, turn every outcome into a Verdict."""
    try:
        value = parse_answer(text, exercise.symbols)
        exercise.check(value)
    except AnswerError as exc:
        return Verdict(False, f"could not read the answer: {exc}")
    except Wrong as exc:
        return Verdict(False, f"{exc}" + (f" Hint: {exercise.hint}" if exercise.hint else ""))
    except (VecmixError, ArithmeticError, TypeError, ValueError, RecursionError, MemoryError) as exc:
        return Verdict(False, f"this answer could not be checked ({type(exc).__name__}): write it more simply")
    return Verdict(True)


# Checks. Each returns a function of the parsed answer that raises Wrong with a message.

def exact(expected, what="the answer"):
    """Exactly equal to ``expected`` (a number, expression, vector, matrix or set), whatever the spelling.

    >>> exact([1, 0])(sp.Matrix([1, sp.Rational(0)]))
    >>> exact(sp.E)(sp.Rational(2718, 1000))
    Traceback (most recent call last):
    ...
    labs.grading.checks.Wrong: the answer is close to the right value but not exact: give the exact expression (fractions, exp(...), sqrt(...)) rather than a rounded decimal.
    """
    want = _as_value(expected)

    def check(value):
        got = _same_shape(value, want, what)
        if isinstance(want, sp.FiniteSet):
            if not (all(any(same(g, w) for g in got) for w in want) and all(any(same(g, w) for w in want) for g in got)):
                raise Wrong(f"{what} is not the right set.")
            return
        wrong = [i for i, (g, w) in enumerate(zip(_entries(got), _entries(want))) if not equivalent(g, w)]
        if not wrong:
            return
        if all(i not in wrong or _close(g, w) for i, (g, w) in enumerate(zip(_entries(got), _entries(want)))):
            raise Wrong(f"{what} is close to the right value but not exact: give the exact expression (fractions, "
                        "exp(...), sqrt(...)) rather than a rounded decimal.")
        where = "" if not isinstance(want, sp.MatrixBase) else f" (entry {', '.join(str(i + 1) for i in wrong)})"
        raise Wrong(f"{what} is not right{where}.")

    return check


def decimal(expected, places=3, what="the answer"):
    """Within half a unit of the last asked decimal place of ``expected`` (numbers or vectors).

    >>> decimal([0.665, 0.245])(sp.Matrix([sp.Rational(6652, 10000), sp.Rational(245, 1000)]))
    """
    want = _as_value(expected)
    tolerance = sp.Rational(1, 2 * 10 ** places)

    def check(value):
        got = _same_shape(value, want, what)
        far = [i for i, (g, w) in enumerate(zip(_entries(got), _entries(want)))
               if not g.is_number or abs(sp.N(g - w, 30)) > tolerance]
        if far:
            where = "" if not isinstance(want, sp.MatrixBase) else f" (entry {', '.join(str(i + 1) for i in far)})"
            raise Wrong(f"{what} is off by more than {float(tolerance):g}{where}; give {places} decimals.")

    return check


def satisfies(*conditions):
    """All ``conditions`` hold; each is (predicate of the answer, the message when it does not).

    >>> check = satisfies((lambda c: sum(c) == 1, "the weights must sum to 1"))
    >>> check(sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2)]))
    """
    def check(value):
        for predicate, message in conditions:
            if not predicate(value):
                raise Wrong(message)

    return check


def vector(n, what="the answer"):
    """A condition: the answer is a vector of n entries (for use in :func:`satisfies`)."""
    return (lambda v: isinstance(v, sp.MatrixBase) and v.shape == (n, 1),
            f"{what} must be a vector of {n} numbers, written [a, b, ...].")


def equivalent(a, b):
    """Whether two exact values are equal: exactly for numbers, and as functions for expressions with symbols.

    The decision is vecmix's (:func:`vecmix.is_zero`): exact simplification, then interval
    arithmetic that proves a difference nonzero. An identity in named variables must be
    exact: a difference of 10^-30 q is a difference.

    >>> q, k = sp.symbols("q k")
    >>> equivalent(sp.exp(q * k) / (1 + sp.exp(q * k)), 1 / (1 + sp.exp(-q * k))), equivalent(q, q + q / 10**30)
    (True, False)
    >>> equivalent(sp.sin(1)**2 + sp.cos(1)**2, 1), equivalent(1 / (sp.sqrt(2) - 1), 1 + sp.sqrt(2))
    (True, True)
    """
    return is_zero(sp.sympify(a) - sp.sympify(b))


def same(a, b):
    """Whether two numbers, vectors or matrices are equal by value (a shape mismatch is not equal).

    >>> same(sp.Matrix([(sp.E - 1) / sp.E, 1]), sp.Matrix([1 - 1 / sp.E, 1]))
    True
    """
    a, b = (sp.Matrix(x) if isinstance(x, sp.Tuple) else x for x in (a, b))  # a vector inside a set
    if isinstance(a, sp.MatrixBase) or isinstance(b, sp.MatrixBase):
        if not (isinstance(a, sp.MatrixBase) and isinstance(b, sp.MatrixBase)) or a.shape != b.shape:
            return False
        return all(equivalent(x, y) for x, y in zip(a, b))
    return equivalent(a, b)


def zero(x):
    """Whether a number, vector or matrix is zero by value.

    >>> zero(sp.Matrix([0, (1 + sp.sqrt(2)) * (sp.sqrt(2) - 1) - 1])), zero(sp.Matrix([0, 1]))
    (True, False)
    """
    return all(equivalent(v, 0) for v in _entries(x))


def sign(x):
    """The sign of a number (-1, 0 or 1), decided exactly.

    >>> sign(1 - 1 / sp.E), sign(sp.sin(1)**2 + sp.cos(1)**2 - 1)
    (1, 0)
    """
    return exact_sign(x)


# Answer files: "lab.exercise = answer" lines; '#' starts a comment.

MAX_FILE_BYTES = 1_000_000  # an answers file larger than this is refused as a whole


@dataclass(frozen=True)
class AnswerFile:
    """What a set of answers files holds: the answers, the labs to grade, and file-level problems."""

    answers: dict  # {exercise name: answer text or None}
    labs: frozenset  # the labs whose exercises are graded
    problems: tuple  # one message per file or line the grader could not use


def read_answers(text):
    """{exercise name: answer text or None} from the text of an answers file.

    >>> read_answers("# a comment\\nattention_basic.scores = [1, 0, -1]\\nattention_basic.other =\\n")
    {'attention_basic.scores': '[1, 0, -1]', 'attention_basic.other': None}
    """
    return _read_lines("answers", text, None, [])


def read_answer_file(files, exercises):
    """An :class:`AnswerFile` from ``files``, a list of (path, bytes); ``exercises`` is {lab: [Exercise]}.

    Text is UTF-8, with or without a byte-order mark, or UTF-16 with one. A file named after
    a lab (``attention_basic.txt``) grades that lab even when it holds no answer.

    >>> from labs.exercises import EXERCISES
    >>> found = read_answer_file([("a.txt", b"attention_basic.score = 1\\nmasking.causal_mask: 1\\n")], EXERCISES)
    >>> for problem in found.problems:
    ...     print(problem)
    a.txt:1: no exercise named 'attention_basic.score' (did you mean attention_basic.scores?)
    a.txt:2: no '=' in 'masking.causal_mask: 1'; write <lab>.<exercise> = <answer>
    a.txt: holds no answers (lines such as attention_basic.scores = [1, 0, -1])
    """
    from labs.config.errors import suggest

    known = {ex.name: ex.lab for lab in exercises.values() for ex in lab}
    answers, labs, problems = {}, set(), []
    for path, data in files:
        name = getattr(path, "name", str(path))
        text, problem = _decode(data)
        if problem:
            problems.append(f"{name}: {problem}")
        stem = getattr(path, "stem", "")
        if stem in exercises:
            labs.add(stem)
        found = _read_lines(name, text, known, problems, suggest)
        if not found and not problem:
            problems.append(f"{name}: holds no answers (lines such as attention_basic.scores = [1, 0, -1])")
        answers.update(found)
    labs |= {known[n] for n in answers}
    return AnswerFile(answers, frozenset(labs), tuple(problems))


def _decode(data):
    """(text, problem or None): UTF-8 (a byte-order mark is dropped) or UTF-16 with its byte-order mark."""
    if len(data) > MAX_FILE_BYTES:
        return "", f"is {len(data)} bytes long; an answers file may hold at most {MAX_FILE_BYTES}"
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        else:
            text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "", "is not UTF-8 or UTF-16 text (a binary file?); save it as UTF-8"
    if "\x00" in text:
        return "", "holds NUL bytes, so it is not a text file (UTF-16 without a byte-order mark?); save it as UTF-8"
    return text, None


def _read_lines(name, text, known, problems, suggest=None):
    """{exercise: answer} from the lines of one file; lines it cannot use are added to ``problems``."""
    answers = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "=" not in stripped:
            problems.append(f"{name}:{number}: no '=' in {stripped[:60]!r}; write <lab>.<exercise> = <answer>")
            continue
        exercise, _, answer = stripped.partition("=")
        exercise = exercise.strip()
        if known is not None and exercise not in known:
            problems.append(f"{name}:{number}: no exercise named {exercise[:60]!r}{suggest(exercise, list(known))}")
            continue
        if exercise in answers:
            problems.append(f"{name}:{number}: {exercise} is answered again; this later answer counts")
        answers[exercise] = answer.strip() or None
    return answers


def template(lab, exercises):
    """The answers file a learner fills in: each prompt as comments, then a blank for the answer."""
    lines = [f"# vecmix exercises for the lab {lab} (report: reports/{lab}/report.md)",
             "# Write each answer after its '='. Math is text: numbers, fractions 1/3, exp(...), E, sqrt(...),",
             "# vectors [a, b], matrices [[a, b], [c, d]], sets {1, 2}. Grade with:",
             f"#   python -m pytest --answers=answers/{lab}.txt", ""]
    for ex in exercises:
        points = f"{ex.points} point{'s' if ex.points != 1 else ''}"
        lines.append(f"# {ex.name} ({points}{', ' + ex.source if ex.source else ''})")
        lines += [f"#   {line}" for line in ex.prompt.splitlines()]
        if ex.symbols:
            lines.append(f"#   You may use the names {', '.join(ex.symbols)}.")
        lines += [f"{ex.name} =", ""]
    return "\n".join(lines)


def gradescope(results):
    """Gradescope-style results: {score, max_score, tests: [{name, score, max_score, output, visibility}]}.

    ``results`` is a list of (Exercise, Verdict).

    >>> ex = Exercise("demo", "one", "1?", exact(1), "1", points=2)
    >>> gradescope([(ex, Verdict(True))])["score"]
    2
    """
    tests = [{"name": ex.name, "score": ex.points if v.passed else 0, "max_score": ex.points,
              "output": "correct" if v.passed else v.feedback, "visibility": ex.visibility} for ex, v in results]
    return {"score": sum(t["score"] for t in tests), "max_score": sum(t["max_score"] for t in tests), "tests": tests}


def write_gradescope(results, path, problems=()):
    """Write :func:`gradescope` results as JSON; file-level ``problems`` go to its top-level "output"."""
    doc = gradescope(results)
    if problems:
        doc["output"] = "\n".join(problems)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(doc, handle, indent=2, sort_keys=True)
        handle.write("\n")


def _as_value(x):
    if isinstance(x, (sp.MatrixBase, sp.FiniteSet, sp.Basic)):
        return x
    if isinstance(x, (set, frozenset)):
        return sp.FiniteSet(*x)
    if isinstance(x, (list, tuple)):
        return sp.Matrix([[_as_value(v) for v in row] for row in x]) if x and isinstance(x[0], (list, tuple)) \
            else sp.Matrix([_as_value(v) for v in x])
    if isinstance(x, float):
        return sp.Rational(str(x))
    return sp.sympify(x)


def _entries(x):
    return list(x) if isinstance(x, sp.MatrixBase) else [x]


def _same_shape(value, want, what):
    if isinstance(want, sp.FiniteSet):
        if not isinstance(value, sp.FiniteSet):
            raise Wrong(f"{what} must be a set, written {{a, b, ...}}.")
        return value
    if isinstance(want, sp.MatrixBase):
        if not isinstance(value, sp.MatrixBase):
            kind = "a vector" if want.cols == 1 else "a matrix"
            raise Wrong(f"{what} must be {kind} of shape {want.rows} x {want.cols}, written with brackets.")
        if value.shape != want.shape:
            raise Wrong(f"{what} has shape {value.rows} x {value.cols}, but the exercise asks for "
                        f"{want.rows} x {want.cols}.")
        return value
    if isinstance(value, sp.MatrixBase) and value.shape == (1, 1):
        return value[0]  # [5/4] means 5/4
    if isinstance(value, (sp.MatrixBase, sp.FiniteSet)):
        raise Wrong(f"{what} must be a single number or expression, not a vector or set.")
    return value


def _close(got, want):
    """Near enough that rounding would explain the difference (never between two integers)."""
    if not (got.is_number and want.is_number) or (got.is_Integer and want.is_Integer):
        return False
    return abs(sp.N(got - want, 30)) <= sp.Rational(1, 200) * max(1, abs(sp.N(want, 30)))
