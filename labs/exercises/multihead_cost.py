"""Exercises of multihead_cost: counting the multiply-adds of attention (AIAYN §3.2.2)."""

from ..grading import Exercise, exact

LAB = "multihead_cost"

EXERCISES = [
    Exercise(LAB, "scores_cost", "How many multiply-adds does Q K^T cost for n = 10 tokens and keys of size 64?",
             exact(6400, "the count"), "6400", also=("10*10*64",), wrong={"640": "not right"},
             hint="an (a x b) by (b x c) product costs a b c.", source="AIAYN §3.2.2"),
    Exercise(LAB, "heads_scores_cost", "Same n = 10, but h = 8 heads of size 8 (d_model = 64): total multiply-adds "
             "of the h products Q_j K_j^T?", exact(6400, "the count"), "6400", wrong={"800": "not right"},
             hint="h times a smaller product.", source="AIAYN §3.2.2"),
]
