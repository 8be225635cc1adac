"""The one error type of vecmix."""

__all__ = ["VecmixError"]


class VecmixError(ValueError):
    """Bad input to a vecmix function.

    The message is one line that names the argument at fault and echoes the shapes or
    values involved, so that it can be shown to a user as it is.

    >>> raise VecmixError("K has 3 rows but V has 2: keys and values come in pairs")
    Traceback (most recent call last):
    ...
    vecmix.errors.VecmixError: K has 3 rows but V has 2: keys and values come in pairs
    """
