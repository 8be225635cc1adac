"""Read a learner's answer (untrusted text) into SymPy, without ever evaluating it as Python.

``sympify`` and ``parse_expr`` call ``eval``. Here the text is parsed by Python's own
parser into a syntax tree, every node is checked against an allow-list (numbers, the
exercise's names, a few functions, arithmetic, vectors, matrices, sets), and the SymPy
object is built node by node by this module. Nothing else runs: no attribute access, no
subscripts, no lambdas, comprehensions or keywords, no names with underscores. Lengths,
the size of numbers and of powers are bounded before anything is computed, so that
``9**9**9**9`` and ``((3/2)**1000)**1000`` are refused at once. A decimal is the exact
number it spells (``0.25000000000000001`` is not 1/4), and answers are real: complex
numbers are refused.
"""

import ast
import re
from fractions import Fraction

import sympy as sp

MAX_LENGTH = 400  # characters in one answer
MAX_DIGITS = 60  # digits in one number literal
MAX_DECIMAL_EXPONENT = 400  # |n| in a literal 1.5e-n
MAX_BITS = 4000  # bits in the numerator or denominator of any exact number an answer builds (about 1200 digits)
MAX_EXPONENT = 1000  # |n| in x**n when both sides are numbers
MAX_ARGUMENT = 10 ** 6  # |x| in exp(x), sin(x) and cos(x) for a number x
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
    control = re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)
    if control:
        raise AnswerError(f"the answer holds a control character (U+{ord(control.group()):04X}) at character "
                          f"{control.start() + 1}")
    if not text:
        raise AnswerError("the answer is empty")
    if len(text) > MAX_LENGTH:
        raise AnswerError(f"the answer is {len(text)} characters long; the limit is {MAX_LENGTH}")
    source = text.replace("^", "**")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        where = f" at character {exc.offset}" if exc.offset else ""
        raise AnswerError(f"the answer is not a well-formed expression ({exc.msg}{where})") from None
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
    value = _Builder(names, source).build(tree.body)
    parts = list(value) if isinstance(value, (sp.MatrixBase, sp.FiniteSet)) else [value]
    parts = [x for p in parts for x in (p if isinstance(p, sp.Tuple) else [p])]
    if any(p.has(sp.zoo, sp.oo, -sp.oo, sp.nan) for p in parts):
        raise AnswerError("the answer is infinite or undefined (a division by zero?)")
    if any(p.has(sp.I) or (p.is_number and p.is_extended_real is False) for p in parts):
        raise AnswerError("the answer is a complex number (a square root or log of a negative number?); "
                          "the vectors here are real")
    return value


class _Builder:
    """Builds SymPy objects from an allow-listed syntax tree, refusing everything else."""

    def __init__(self, names, source):
        self.names = names
        self.source = source

    def build(self, node):
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise AnswerError(f"{_describe(node)} is not allowed in an answer")
        return _bounded(method(node))

    def _Constant(self, node):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AnswerError(f"{value!r} is not a number")
        literal = ast.get_source_segment(self.source, node) or repr(value)
        if "_" in literal:
            raise AnswerError(f"write the number {literal} without underscores")
        mantissa, _, exponent = literal.lower().partition("e")
        if len(mantissa.replace(".", "").lstrip("0")) > MAX_DIGITS:
            raise AnswerError(f"a number with more than {MAX_DIGITS} digits is not allowed")
        if exponent and abs(int(exponent)) > MAX_DECIMAL_EXPONENT:
            raise AnswerError(f"a decimal exponent beyond {MAX_DECIMAL_EXPONENT} (as in {literal}) is not allowed")
        if isinstance(value, float):
            exact = Fraction(literal)  # the decimal as written, not the binary float nearest to it
            return sp.Rational(exact.numerator, exact.denominator)
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
        if name in ("exp", "sin", "cos") and argument.is_number and abs(sp.N(argument, 5)) > MAX_ARGUMENT:
            raise AnswerError(f"{name}(...) of a number beyond 10^{len(str(MAX_ARGUMENT)) - 1} is not allowed")
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
    """Refuse, before computing them, powers whose exact value would be astronomically long (9**9**9**9)."""
    if isinstance(base, (sp.MatrixBase, sp.FiniteSet)) or isinstance(exponent, (sp.MatrixBase, sp.FiniteSet)):
        raise AnswerError("powers of vectors are not allowed")
    if exponent.is_number and (not exponent.is_real or abs(sp.N(exponent, 5)) > MAX_EXPONENT):
        raise AnswerError(f"an exponent beyond {MAX_EXPONENT} is not allowed")
    if base.is_Rational and exponent.is_Rational and base not in (0, 1, -1):
        bits = abs(int(exponent.p)) * max(int(base.p).bit_length(), int(base.q).bit_length())
        if bits > MAX_BITS:
            raise AnswerError(f"this power is an exact number of about {int(bits * 0.30103)} digits; "
                              f"the limit is {int(MAX_BITS * 0.30103)}")


def _bounded(value):
    """value, after checking that no exact rational in it is longer than MAX_BITS."""
    parts = value if isinstance(value, (sp.MatrixBase, sp.FiniteSet, sp.Tuple)) else [value]
    for part in parts:
        for r in ([part] if isinstance(part, sp.Rational) else part.atoms(sp.Rational)):
            if max(int(r.p).bit_length(), int(r.q).bit_length()) > MAX_BITS:
                raise AnswerError(f"the answer holds an exact number of more than {int(MAX_BITS * 0.30103)} "
                                  "digits; the limit is there to keep checking fast")
    return value


def _describe(node):
    try:
        return f"'{ast.unparse(node)[:40]}'"
    except Exception:  # noqa: BLE001 - only used for a message
        return f"a {type(node).__name__} expression"
