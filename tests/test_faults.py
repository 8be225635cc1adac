"""Faults: concurrent writers leave one complete report, and sweep folders never collide.

(A run that dies after its figures are written is in test_lab_attention_basic.py.)
"""

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

from hydra import compose, initialize_config_dir

from labs.config.schema import register
from labs.report.writer import write_folder
from labs.reproduce import CONFIG_DIR

ROOT = Path(__file__).resolve().parent.parent


def folder(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_concurrent_writers_leave_one_complete_report(tmp_path):
    target = tmp_path / "report"
    errors = []

    def writer(name):
        try:
            for i in range(30):
                tag = f"{name}-{i}".encode()
                write_folder(target, {"results.json": tag, "report.md": tag, "figures/a.svg": tag, "figures/b.svg": tag})
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("A", "B", "C")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    files = folder(target)
    assert sorted(files) == ["figures/a.svg", "figures/b.svg", "report.md", "results.json"]
    assert len(set(files.values())) == 1  # every file from the same write: never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no staging or old folders left


def test_two_processes_running_the_same_lab_leave_one_consistent_report(tmp_path):
    out = tmp_path / "out"
    runs = [subprocess.Popen([sys.executable, "-m", "labs.reproduce", "lab=attention_basic", override,
                              f"hydra.run.dir={out}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for override in ("lab.d_k=1", "lab.d_k=4")]
    for p in runs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-1000:]
    command = json.loads((out / "results.json").read_text())["command"]
    assert command in (out / "report.md").read_text()  # report and results from the same run
    assert command.split()[-1] in (out / ".hydra" / "overrides.yaml").read_text()


def sweep_dir():
    register()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name="config", return_hydra_config=True).hydra.sweep.dir


def test_sweep_folders_differ_even_within_one_second():
    first, second = sweep_dir(), sweep_dir()
    assert re.fullmatch(r"reports/multirun/\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_[0-9a-f]{6}", first)
    assert first != second


def test_two_sweeps_started_together_get_separate_folders(tmp_path):
    runs = [subprocess.Popen([sys.executable, "-m", "labs.reproduce", "-m", "lab=negative_weights,redundant_values"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in runs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err.decode()[-1000:]
    sweeps = sorted((tmp_path / "reports" / "multirun").iterdir())
    assert len(sweeps) == 2
    for sweep in sweeps:  # each sweep keeps all of its jobs together
        assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0_negative_weights", "1_redundant_values"]
