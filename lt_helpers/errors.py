"""The one exception type the package raises for bad input."""


class LTError(ValueError):
    """Bad input, with a message that says what was wrong and what to do.

    The command line prints the message without a traceback and exits with status 2.
    """


class ResultsError(LTError):
    """A results folder or file that is corrupt, foreign or belongs to another experiment."""


def check_choice(kind: str, name, choices, extra: str = "") -> None:
    """Raise ``LTError("unknown <kind> <name>; choose one of <choices><extra>")`` unless
    ``name`` is one of ``choices``: the one wording for every unknown name."""
    if name not in choices:
        raise LTError(f"unknown {kind} {name!r}; choose one of {', '.join(choices)}{extra}")
