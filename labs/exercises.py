"""Write a lab's answer template: ``python -m labs.exercises <lab> [--out FILE] [--force]``.

Each lab carries its exercises (``EXERCISES`` in ``labs/catalogue/<lab>.py``); grade a
filled-in file with ``python -m pytest --answers=<file or folder>``.

>>> sorted(EXERCISES)[:2], sum(len(v) for v in EXERCISES.values()) >= 20
(['additive_vs_dot', 'attention_basic'], True)
"""

import argparse
import sys
from pathlib import Path

from .catalogue import LABS
from .config.errors import suggest
from .grading import template

EXERCISES = {lab: module.EXERCISES for lab, module in LABS.items()}


def all_exercises():
    """Every exercise of every lab, in catalogue order."""
    return [exercise for exercises in EXERCISES.values() for exercise in exercises]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m labs.exercises", description=__doc__.splitlines()[0])
    parser.add_argument("lab", nargs="?", help=f"one of: {', '.join(EXERCISES)}")
    parser.add_argument("--out", help="where to write the template (default: answers/<lab>.txt)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument("--list", action="store_true", help="list the labs that have exercises")
    args = parser.parse_args(argv)
    if args.list or args.lab is None:
        for lab, exercises in EXERCISES.items():
            count, points = len(exercises), sum(e.points for e in exercises)
            print(f"{lab}: {count} exercise{'s' * (count != 1)}, {points} point{'s' * (points != 1)}")
        return 0
    if args.lab not in EXERCISES:
        print(f"error: no lab named '{args.lab}' has exercises{suggest(args.lab, list(EXERCISES))}; "
              f"choose one of: {', '.join(EXERCISES)}", file=sys.stderr)
        return 2
    out = Path(args.out or f"answers/{args.lab}.txt")
    if out.exists() and not args.force:
        print(f"error: {out} exists (your answers?); pass --force to overwrite it", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(template(args.lab, EXERCISES[args.lab]))
    print(f"wrote {out}: fill in the answers, then run  python -m pytest --answers={out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
