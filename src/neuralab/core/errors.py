"""The one error type for bad user input: the CLI prints its message on one line and exits 2."""


class UserError(Exception):
    """A bad file, flag, shape or number supplied by the user.

    The message must say what is wrong and where (file name, flag), in one line.
    """


def one_line(message: str) -> str:
    """A message as one printable line: a control character (a newline in a file's name) is shown
    escaped, as Python writes it, never acted on."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
