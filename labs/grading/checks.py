"""The checks of an exercise (exact, decimal, a property), grading with feedback, and answer files."""

import json
import random
from dataclasses import dataclass, field

import sympy as sp

from vecmix import VecmixError, is_zero

from .answers import AnswerError, parse_answer, time_limit

TIME_LIMIT = 5  # seconds to read and check one answer
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


def grade(exercise, text):
    """Grade one answer (text, or None when left blank); never raises for any text.

    >>> ex = Exercise("demo", "half", "One half?", exact(sp.Rational(1, 2)), "1/2", hint="a fraction")
    >>> grade(ex, "2/4"), grade(ex, "0.5").passed, grade(ex, "__import__('os')").feedback
    (Verdict(passed=True, feedback=''), True, 'could not read the answer: names with underscores are not allowed: __import__')
    """
    if text is None or not str(text).strip():
        return Verdict(False, "no answer was given")
    try:
        with time_limit(TIME_LIMIT):
            value = parse_answer(text, exercise.symbols)
            exercise.check(value)
    except AnswerError as exc:
        return Verdict(False, f"could not read the answer: {exc}")
    except Wrong as exc:
        return Verdict(False, f"{exc}" + (f" Hint: {exercise.hint}" if exercise.hint else ""))
    except (VecmixError, ArithmeticError, TypeError, ValueError, RecursionError) as exc:
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
            if got != want:
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

    >>> q, k = sp.symbols("q k")
    >>> equivalent(sp.exp(q * k) / (1 + sp.exp(q * k)), 1 / (1 + sp.exp(-q * k)))
    True
    """
    difference = sp.sympify(a) - sp.sympify(b)
    if not difference.free_symbols:
        try:
            return is_zero(difference)
        except VecmixError:
            return False
    if sp.expand(difference) == 0:
        return True
    rng = random.Random(1729)  # an identity between expressions holds at every point; test a few exactly
    for _ in range(6):
        point = {s: sp.Rational(rng.randint(-40, 40), rng.randint(1, 9)) for s in difference.free_symbols}
        value = sp.N(difference.subs(point), 40)
        if not value.is_number or abs(value) > sp.Float(10) ** -25:
            return False
    return True


# Answer files: "lab.exercise = answer" lines; '#' starts a comment.

def read_answers(text):
    """{exercise name: answer text or None} from an answers file.

    >>> read_answers("# a comment\\nattention_basic.scores = [1, 0, -1]\\nattention_basic.other =\\n")
    {'attention_basic.scores': '[1, 0, -1]', 'attention_basic.other': None}
    """
    answers = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        name, _, answer = stripped.partition("=")
        answers[name.strip()] = answer.strip() or None
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


def write_gradescope(results, path):
    """Write :func:`gradescope` results as JSON."""
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(gradescope(results), handle, indent=2, sort_keys=True)
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
