"""Errors the CLI and the UI report as one line, never as a traceback."""


class MastowizardError(Exception):
    """Base for errors the CLI reports as one line."""


class InputError(MastowizardError):
    """Bad input: names the field and the fix. Exit status 2."""

    def __init__(self, field: str, message: str, fix: str = ""):
        self.field, self.message, self.fix = field, message, fix
        super().__init__(f"{field}: {message}" + (f" ({fix})" if fix else ""))


class TargetError(MastowizardError):
    """The target (bucket, host, server) cannot be used at all. Exit status 2."""

    def __init__(self, what: str, message: str, fix: str = ""):
        self.field, self.message, self.fix = what, message, fix
        super().__init__(f"{what}: {message}" + (f" ({fix})" if fix else ""))
