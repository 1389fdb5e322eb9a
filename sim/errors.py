"""The one exception type for mistakes a user can fix."""


class UserError(Exception):
    """A problem in the user's configuration or input, reported as one line with its fix."""
