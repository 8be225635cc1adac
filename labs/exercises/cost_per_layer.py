"""Exercises of cost_per_layer: Table 1 of AIAYN, counted."""

from ..grading import Exercise, exact

LAB = "cost_per_layer"

EXERCISES = [
    Exercise(LAB, "attention_cost", "Multiply-adds of Q K^T and A V together for n = 100 tokens of dimension d = 50?",
             exact(1_000_000, "the count"), "1000000", also=("2*100**2*50",), wrong={"500000": "not right"},
             hint="each product costs n * n * d.", source="AIAYN Table 1"),
    Exercise(LAB, "crossover", "For d = 512, what is the largest sequence length n at which self-attention "
             "(2 n^2 d) still costs strictly less than a recurrent layer (2 n d^2)?", exact(511, "n"), "511",
             wrong={"512": "not right"}, hint="2 n^2 d < 2 n d^2 means n < d.", source="AIAYN Table 1"),
]
