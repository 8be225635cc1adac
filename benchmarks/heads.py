"""The heads experiment's time: ``python -m benchmarks.heads [--quick] [--out PATH]``.

Issue 18's goal: the lab heads_ablation (Table 3 row (A) at lab scale: one model per head count
and seed, trained in torch) runs in under 5 minutes on 2 cores. Its default experiment is timed
end to end, as `python -m labs.reproduce lab=heads_ablation` runs it (one torch thread; the
process's memo of trained models cleared each round), beside the same trainings done one seed
at a time instead of the seeds of a head count side by side: the ratio is what stacking the
seeds saves. Medians of interleaved rounds. Writes ``benchmarks/HEADS.md`` (``--quick``: one
round of a small experiment, a temporary file unless ``--out`` is given). Needs torch.
"""

import argparse
import sys
import tempfile
from pathlib import Path

from omegaconf import OmegaConf

from .timing import machine, medians

GOAL = 300.0  # seconds for the default experiment on 2 cores
QUICK = ["lab.heads=[1,2]", "lab.base=2", "lab.seeds=[0,1]", "lab.steps=20", "lab.d_model=8"]


def contenders(overrides):
    """{name: callable} running the experiment with its seeds stacked (the lab) and one seed at a time."""
    from labs.catalogue import heads_ablation as lab
    from labs.reproduce import compose_lab

    params = OmegaConf.to_container(compose_lab("heads_ablation", overrides).lab, resolve=True)
    settings = lab._settings(params)

    def end_to_end():
        lab._trained.cache_clear()
        return lab.run(params)

    def trainings(stacked):  # the lab's training function itself, uncached (it sets and restores torch's threads)
        train = lab._trained.__wrapped__
        key = lab.training_key(settings)
        if stacked:
            return [train(key, h, settings["seeds"], lab.head_width) for h in settings["heads"]]
        return [train(key, h, (seed,), lab.head_width) for h in settings["heads"] for seed in settings["seeds"]]

    return {"the lab, end to end (lab.run: training, scoring, figure)": end_to_end,
            "its trainings, the seeds of each h side by side (as the lab trains)": lambda: trainings(True),
            "the same trainings, one seed at a time": lambda: trainings(False)}, settings


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heads", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round of a small experiment, a temporary file")
    parser.add_argument("--out", help="where to write the results (default: benchmarks/HEADS.md)")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else 3
    out = Path(args.out) if args.out else (Path(tempfile.mkdtemp()) / "HEADS.md" if args.quick
                                           else Path(__file__).with_name("HEADS.md"))
    candidates, s = contenders(QUICK if args.quick else [])
    print(f"heads_ablation: {len(s['heads'])} head counts x {len(s['seeds'])} seeds, {s['steps']} steps, "
          f"{rounds} round(s) of each way", file=sys.stderr, flush=True)
    times = medians(candidates, rounds, warmup=False, pause=0.1)
    ours, stacked, alone = times.values()
    lines = ["# Heads experiment benchmark", "",
             f"Written by `python -m benchmarks.heads{' --quick' if args.quick else ''}`; medians of {rounds} "
             "interleaved round(s). Absolute times depend on the machine; the ratio was measured in the same run.",
             "", "## Machine", "", "| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in machine().items()), "",
             "## The default experiment of heads_ablation", "",
             f"h = {', '.join(map(str, s['heads']))}; seeds {', '.join(map(str, s['seeds']))}; {s['steps']} steps of "
             f"{s['batch']} sequences of {s['length']} tokens; d_model = {s['d_model']}; torch in {s['threads']} "
             "thread(s).", "",
             "| way | median |", "|---|---|", *(f"| {name} | {t:.1f} s |" for name, t in times.items()), "",
             f"Training the seeds of each h side by side takes {stacked / alone:.2f}x the time of training them one "
             "at a time.", "",
             "| target | measured | goal | met |", "|---|---|---|---|",
             f"| the heads experiment, end to end | {ours:.1f} s | < {GOAL:g} s | "
             f"{'yes' if ours < GOAL else '**no**'} |", ""]
    out.write_text("\n".join(lines))
    print(f"results: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
