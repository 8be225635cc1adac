"""One line for every mistake a user can make on the command line, with the closest valid name.

:func:`explain` turns the exceptions that bad input raises (Hydra's composition errors,
OmegaConf's validation errors, vecmix's own) into a single line that names the key or
value at fault and what was expected. Anything else is a bug, and keeps its traceback.
"""

import dataclasses
import difflib
import os
import sys

from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from vecmix import VecmixError

from ..report.writer import ReportFolderError

OVERRIDE_GRAMMAR = "https://hydra.cc/docs/1.2/advanced/override_grammar/basic"


def explain(exc):
    """A one-line explanation of a user error, or None when ``exc`` is not one (a bug).

    >>> explain(VecmixError("lab.d_k = 0 must be a positive integer"))
    'lab.d_k = 0 must be a positive integer'
    >>> explain(RuntimeError("a bug")) is None
    True
    """
    if isinstance(exc, (VecmixError, ReportFolderError)):
        return _first_line(str(exc))
    if isinstance(exc, MissingConfigException) and exc.options is not None:
        group, _, name = (exc.missing_cfg_file or "").rpartition("/")
        options = sorted(exc.options)
        return (f"there is no {group or 'config'} named '{name}'{suggest(name, options)}; "
                f"choose one of: {', '.join(options)}")
    if isinstance(exc, OverrideParseException):
        return f"cannot read an override: {_first_line(str(exc))} (grammar: {OVERRIDE_GRAMMAR})"
    if isinstance(exc, ConfigCompositionException):
        cause = exc.__cause__
        if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and cause.full_key:
            parent, _, key = cause.full_key.rpartition(".")
            valid = [f.name for f in dataclasses.fields(cause.object_type)] if dataclasses.is_dataclass(
                cause.object_type) else []
            where = f"{parent}." if parent else ""
            return (f"{cause.full_key} is not a config key{suggest(key, valid, where)}; the keys "
                    f"{'of ' + parent + ' ' if parent else ''}are: {', '.join(where + v for v in valid)}")
        if isinstance(cause, OmegaConfBaseException) and getattr(cause, "full_key", None):
            return f"{cause.full_key}: {_first_line(cause.msg)}"
        return _first_line(str(exc))
    return None


def suggest(name, valid, prefix=""):
    """' (did you mean X?)' for the closest valid name, or '' when none is close.

    >>> suggest("d_kk", ["query", "keys", "values", "d_k"], "lab.")
    ' (did you mean lab.d_k?)'
    >>> suggest("zzz", ["query"])
    ''
    """
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return f" (did you mean {prefix}{close[0]}?)" if close else ""


def _first_line(text):
    return text.strip().splitlines()[0] if text.strip() else text


_TRACE = "VECMIX_FULL_ERROR"  # the user's own HYDRA_FULL_ERROR, remembered before run_cli sets it


def run_cli(main):
    """Run a Hydra main function with one line (and exit status 2) for every user error.

    Hydra is asked to raise instead of printing its own multi-line report, so that
    :func:`explain` can word the error; a bug keeps its traceback, and HYDRA_FULL_ERROR=1
    set by the user shows the full trace for everything.
    """
    os.environ.setdefault(_TRACE, os.environ.get("HYDRA_FULL_ERROR", "0"))
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except Exception as exc:
        exit_if_user_error(exc)
        raise


def exit_if_user_error(exc):
    """Print one line and exit with status 2 when exc is a user error (unless full traces were asked for)."""
    line = explain(exc)
    if line is not None and os.environ.get(_TRACE) != "1":
        print(f"error: {line}", file=sys.stderr)
        sys.exit(2)
