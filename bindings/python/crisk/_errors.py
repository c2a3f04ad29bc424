"""The exception crisk raises for every failure the C library reports."""


class CriskError(Exception):
    """A failure reported by the crisk C library.

    ``code`` is the negative CRISK_E_* value, ``name`` its symbolic name
    (e.g. ``"CRISK_E_FORMAT"``) and ``message`` says what went wrong and where.
    """

    def __init__(self, code: int, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.code = code
        self.name = name
        self.message = message
