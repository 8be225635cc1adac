"""The README's Python examples run as written, and its quick start is what CI runs."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
ROOT = README.parent


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("code", blocks("python"))
def test_python_examples_run(code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # examples that write a report write it here
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_ci_runs_the_second_quick_start_command():
    commands = [b.strip() for b in blocks("bash") if "pytest" in b]
    assert commands, "README has no test command"
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[0] in ci.splitlines()
