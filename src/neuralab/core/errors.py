"""The one error type for bad user input: the CLI prints its message on one line and exits 2."""


class UserError(Exception):
    """A bad file, flag, shape or number supplied by the user.

    The message must say what is wrong and where (file name, flag), in one line.
    """
