"""Exercises of positional_encoding: a fixed offset is a rotation (AIAYN §3.5)."""

import sympy as sp

from ..grading import Exercise, exact

LAB = "positional_encoding"
k, w = sp.symbols("k w")

EXERCISES = [
    Exercise(LAB, "rotation", "For one frequency w and an offset k, (sin((p + k) w), cos((p + k) w)) = "
             "R (sin(p w), cos(p w)) for every position p. Give the 2 x 2 matrix R, in k and w.",
             exact(sp.Matrix([[sp.cos(k * w), sp.sin(k * w)], [-sp.sin(k * w), sp.cos(k * w)]]), "R"),
             "[[cos(k*w), sin(k*w)], [-sin(k*w), cos(k*w)]]",
             also=("[[cos(w*k), sin(w*k)], [sin(-k*w), cos(-k*w)]]",),
             wrong={"[[cos(k*w), -sin(k*w)], [sin(k*w), cos(k*w)]]": "not right", "[[1, 0], [0, 1]]": "not right"},
             symbols=("k", "w"), hint="expand sin(a + b) and cos(a + b).", points=2, source="AIAYN §3.5"),
    Exercise(LAB, "frequency", "With d_model = 4 and base 10000, what is the frequency w_1 = base^(-2/d_model) of the "
             "second pair of dimensions?", exact(sp.Rational(1, 100), "w_1"), "1/100", also=("10000^(-1/2)",),
             wrong={"1/10000": "not right"}, source="AIAYN §3.5"),
]
