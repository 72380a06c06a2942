"""consentware's named errors, in the manner of itsdangerous: one class per kind of mistake,
each carrying what a caller needs to point at it.

Both are :class:`ValueError` subclasses, so code that caught ``ValueError`` keeps working.

Example::

    try:
        policy = Policy.from_toml("cookies.toml")
    except PolicyError as exc:
        print(exc.file, exc.path, exc.reason)   # cookies.toml cookies[3].category unknown ...
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "PolicyError"]


class PolicyError(ValueError):
    """A policy that does not follow the schema.

    :param reason: what is wrong, and where it helps, what to write instead.
    :param path: the bad key's path in the policy (``cookies[3].category``); ``""`` for the
        policy as a whole.
    :param file: the file the policy came from, when it came from one.
    """

    def __init__(self, reason: str, *, path: str = "", file: str | None = None) -> None:
        self.reason = reason
        self.path = path
        self.file = file
        where = ": ".join(part for part in (file, path) if part)
        super().__init__(f"{where}: {reason}" if where else reason)

    def in_file(self, file: str) -> PolicyError:
        """The same error, naming the file the policy was read from."""
        return PolicyError(self.reason, path=self.path, file=file)


class ConfigurationError(ValueError):
    """A middleware or integration option that cannot work (a secret key of the wrong type, a
    prefix that is not a path).

    :param reason: what is wrong and what to write instead.
    :param setting: the option's name as the user wrote it (``secret_key``,
        ``settings.CONSENTWARE.prefix``).
    """

    def __init__(self, reason: str, *, setting: str) -> None:
        self.reason = reason
        self.setting = setting
        super().__init__(f"{setting}: {reason}")
