"""The one exception type the package raises for bad input."""


class LTError(ValueError):
    """Bad input, with a message that says what was wrong and what to do.

    The command line prints the message without a traceback and exits with status 2.
    """
