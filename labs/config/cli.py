"""Running a command: Hydra's app behind one-line errors, composed once, the schemas it needs stored first.

:func:`run_cli` is what ``labs.reproduce`` and ``labs.read`` call: the command line is
checked before Hydra reads a file (:func:`labs.config.errors.check_choices`), Hydra
composes the config once instead of twice (:func:`one_composition`), and every user error
becomes one line and exit status 2 (:func:`labs.config.errors.exit_if_user_error`).
:func:`run_command` wraps it for a process that ends with the command.
"""

import contextlib
import gc
import os
import sys
import warnings

from .errors import TRACE, check_choices, check_flags, exit_if_user_error


def shows_or_reads_other_configs(args):
    """Whether the command line asks Hydra to show its configs (help, --cfg, --info, completion) or to read configs
    other than conf/ (then every schema must be known before Hydra composes).

    >>> shows_or_reads_other_configs(check_flags(["--help"])), shows_or_reads_other_configs(check_flags(["lab=x"]))
    (True, False)
    """
    return bool(args.help or args.hydra_help or args.cfg or args.info or args.shell_completion or args.config_name
                or args.config_dir or args.config_path or args.experimental_rerun)


def run_cli(main, group, options, prepare=None):
    """Run a Hydra main function with one line (and exit status 2) for every user error.

    Hydra is asked to raise instead of printing its own multi-line report, so that
    :func:`labs.config.errors.explain` can word the error; a bug keeps its traceback, and
    HYDRA_FULL_ERROR=1 set by the user shows the full trace for everything. The command
    line is checked first (:func:`labs.config.errors.check_choices`, with the ``options``
    of ``group``), and ``prepare(args, chosen)`` is called with what that returns before
    Hydra starts. Hydra composes the config once (:func:`one_composition`).
    """
    saved = {name: os.environ.get(name) for name in (TRACE, "HYDRA_FULL_ERROR")}
    os.environ.setdefault(TRACE, os.environ.get("HYDRA_FULL_ERROR", "0"))
    os.environ["HYDRA_FULL_ERROR"] = "1"
    warnings.filterwarnings("ignore", module="omegaconf")  # ${oc.deprecated:...} warns; its error is worded below
    try:
        args, chosen = check_choices(sys.argv[1:], group, options)
        if prepare is not None:
            prepare(args, chosen)
        with one_composition(args):
            main()
    except Exception as exc:
        exit_if_user_error(exc)
        raise
    finally:  # a caller in the same process (a test, a notebook) gets its environment back
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_command(cli):
    """``cli()`` as the process's command (``python -m labs.<name>``), with the garbage collector told what lives as
    long as the process.

    What exists when the command starts, the modules its imports made, is moved out of the
    collector's sight (``gc.freeze``), so that its collections during the run skip it; so is
    everything at the end, so that the collection at exit skips it all (the report is
    written and closed by then). Together that saves a lab's start-up about a quarter of a
    second (benchmarks/startup.py). Only for a process that ends with the command: anything
    frozen is never collected.
    """
    gc.freeze()
    try:
        cli()
    finally:
        gc.freeze()


@contextlib.contextmanager
def one_composition(args):
    """Hydra's run and multirun compose the config twice: once only to read ``hydra.mode``, then for the run.

    vecmix's configs never set ``hydra.mode`` (tests/test_configs.py checks it), so the first
    composition can only find it on the command line; this skips it (Hydra's ``get_mode``
    answers None, as it does for a config without a mode, and Hydra picks the mode from
    ``-m``) unless an override names ``hydra.mode`` or the command line (``args``, Hydra's
    parsed flags) reads other configs, which may set it.
    """
    from hydra._internal.hydra import Hydra

    composing = Hydra.get_mode
    other_configs = shows_or_reads_other_configs(args)

    def get_mode(self, config_name, overrides):
        may_set = other_configs or any("hydra.mode" in override for override in overrides)
        return composing(self, config_name, overrides) if may_set else None

    Hydra.get_mode = get_mode
    try:
        yield
    finally:
        Hydra.get_mode = composing
