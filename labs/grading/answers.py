"""Read a learner's answer (untrusted text) into SymPy, without ever evaluating it as Python.

``sympify`` and ``parse_expr`` call ``eval``. Here the text is parsed by Python's own
parser into a syntax tree, every node is checked against an allow-list (numbers, the
exercise's names, a few functions, arithmetic, vectors, matrices, sets), and the SymPy
object is built node by node by this module. Nothing else runs: no attribute access, no
subscripts, no lambdas, comprehensions or keywords, no names with underscores. Lengths,
the size of numbers and of powers are bounded, so that ``9**9**9**9`` is refused at once.
"""

import ast
import signal
import threading
from contextlib import contextmanager
from fractions import Fraction

import sympy as sp

MAX_LENGTH = 400  # characters in one answer
MAX_DIGITS = 60  # digits in one number literal
MAX_EXPONENT = 1000  # |n| in x**n when both sides are numbers
MAX_NODES = 400  # syntax-tree nodes in one answer
FUNCTIONS = {"exp": sp.exp, "sqrt": sp.sqrt, "log": sp.log, "sin": sp.sin, "cos": sp.cos}
CONSTANTS = {"E": sp.E, "e": sp.E, "pi": sp.pi}
OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
             ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}


class AnswerError(ValueError):
    """An answer that cannot be read; the message says why, for the learner."""


def parse_answer(text, symbols=()):
    """The SymPy value of an answer: a number or expression, a vector (column), a matrix, or a set.

    ``symbols`` are the names the exercise allows besides E, e, pi and exp, sqrt, log, sin, cos.

    >>> parse_answer("exp(2)/(1 + E + exp(2))")
    exp(2)/(1 + E + exp(2))
    >>> parse_answer("[1/5, 0.2]").T
    Matrix([[1/5, 1/5]])
    >>> parse_answer("q*k1 + v1", symbols=["q", "k1", "v1"])
    k1*q + v1
    >>> parse_answer("__import__('os').system('echo pwned')")
    Traceback (most recent call last):
    ...
    labs.grading.answers.AnswerError: names with underscores are not allowed: __import__
    """
    if not isinstance(text, str):
        raise AnswerError("the answer must be text")
    text = text.strip()
    if not text:
        raise AnswerError("the answer is empty")
    if len(text) > MAX_LENGTH:
        raise AnswerError(f"the answer is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise AnswerError(f"the answer is not a well-formed expression ({exc.msg} at character {exc.offset})") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise AnswerError(f"the answer has more than {MAX_NODES} parts; write it more simply")
    for node in nodes:
        if isinstance(node, ast.Name) and "_" in node.id:
            raise AnswerError(f"names with underscores are not allowed: {node.id}")
    for node in nodes:
        if isinstance(node, ast.Attribute):
            raise AnswerError(f"attribute access ({_describe(node)}) is not allowed in an answer")
    names = {name: sp.Symbol(name) for name in symbols}
    value = _Builder(names).build(tree.body)
    parts = list(value) if isinstance(value, (sp.MatrixBase, sp.FiniteSet)) else [value]
    if any(p.has(sp.zoo, sp.oo, -sp.oo, sp.nan) for p in parts):
        raise AnswerError("the answer is infinite or undefined (a division by zero?)")
    return value


@contextmanager
def time_limit(seconds):
    """Raise AnswerError if the block runs longer than ``seconds`` (main thread, Unix; else no limit).

    >>> with time_limit(1):
    ...     1 + 1
    2
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise AnswerError(f"checking this answer took longer than {seconds} s; write it more simply")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Builder:
    """Builds SymPy objects from an allow-listed syntax tree, refusing everything else."""

    def __init__(self, names):
        self.names = names

    def build(self, node):
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise AnswerError(f"{_describe(node)} is not allowed in an answer")
        return method(node)

    def _Constant(self, node):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AnswerError(f"{value!r} is not a number")
        literal = repr(value)
        if len(literal.replace("-", "").replace(".", "")) > MAX_DIGITS:
            raise AnswerError(f"a number with more than {MAX_DIGITS} digits is not allowed")
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                raise AnswerError("nan and infinity are not numbers here")
            return sp.Rational(Fraction(literal).numerator, Fraction(literal).denominator)
        return sp.Integer(value)

    def _Name(self, node):
        name = node.id
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in self.names:
            return self.names[name]
        if name in FUNCTIONS:
            raise AnswerError(f"{name} is a function: write {name}(...)")
        allowed = ", ".join(sorted({*CONSTANTS, *self.names}))
        raise AnswerError(f"unknown name '{name}'; the names allowed here are {allowed}")

    def _UnaryOp(self, node):
        operand = self.build(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise AnswerError(f"{_describe(node)} is not allowed in an answer")

    def _BinOp(self, node):
        op = OPERATORS.get(type(node.op))
        if op is None:
            raise AnswerError(f"the operator in {_describe(node)} is not allowed (use + - * / ** only)")
        left, right = self.build(node.left), self.build(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        try:
            return op(left, right)
        except (TypeError, ValueError, sp.ShapeError, sp.NonSquareMatrixError) as exc:
            raise AnswerError(f"cannot combine these parts: {exc}") from None
        except ZeroDivisionError:
            raise AnswerError("the answer divides by zero") from None

    def _Call(self, node):
        if not isinstance(node.func, ast.Name):
            raise AnswerError(f"{_describe(node.func)} cannot be called in an answer")
        name = node.func.id
        if name not in FUNCTIONS:
            raise AnswerError(f"{name}(...) is not allowed; the functions allowed here are "
                              f"{', '.join(sorted(FUNCTIONS))}")
        if node.keywords or len(node.args) != 1 or any(isinstance(a, ast.Starred) for a in node.args):
            raise AnswerError(f"{name}(...) takes exactly one argument")
        argument = self.build(node.args[0])
        if isinstance(argument, (sp.MatrixBase, sp.FiniteSet)):
            raise AnswerError(f"{name}(...) takes a number or an expression, not a vector")
        if name == "exp" and argument.is_number and abs(sp.N(argument, 5)) > 10 ** 6:
            raise AnswerError("exp(...) of a number beyond 10^6 is not allowed")
        return FUNCTIONS[name](argument)

    def _List(self, node):
        items = [self.build(item) for item in node.elts]
        if not items:
            raise AnswerError("an empty list is not an answer")
        if all(isinstance(i, sp.MatrixBase) and i.cols == 1 for i in items):
            lengths = {i.rows for i in items}
            if len(lengths) != 1:
                raise AnswerError("the rows of this matrix have different lengths")
            return sp.Matrix([list(i) for i in items])  # rows
        if any(isinstance(i, (sp.MatrixBase, sp.FiniteSet)) for i in items):
            raise AnswerError("a vector mixes numbers and lists; write [a, b] or [[a, b], [c, d]]")
        return sp.Matrix(items)  # a column vector

    _Tuple = _List

    def _Set(self, node):
        items = [self.build(item) for item in node.elts]
        return sp.FiniteSet(*[sp.Tuple(*i) if isinstance(i, sp.MatrixBase) else i for i in items])


def _check_power(base, exponent):
    """Refuse powers that would compute astronomically large numbers (9**9**9**9)."""
    if isinstance(base, sp.MatrixBase) or isinstance(exponent, sp.MatrixBase):
        raise AnswerError("powers of vectors are not allowed")
    if exponent.is_number and (not exponent.is_real or abs(sp.N(exponent, 5)) > MAX_EXPONENT):
        raise AnswerError(f"an exponent beyond {MAX_EXPONENT} is not allowed")
    if base.is_Integer and exponent.is_Integer and abs(base) > 1 and \
            abs(int(exponent)) * len(str(abs(int(base)))) > 4 * MAX_DIGITS:
        raise AnswerError("this power is too large a number")


def _describe(node):
    try:
        return f"'{ast.unparse(node)[:40]}'"
    except Exception:  # noqa: BLE001 - only used for a message
        return f"a {type(node).__name__} expression"
