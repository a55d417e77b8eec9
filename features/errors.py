"""Errors that a user can fix, as opposed to defects in the code."""


class UserError(Exception):
    """Bad input or configuration: shown as one clear message, never as a traceback."""
