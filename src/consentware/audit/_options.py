"""What one audit is asked to do: the command line's options, checked once.

Example::

    options = AuditOptions(target="examples.wsgi_app:app", paths=("/",), crawl=20)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from consentware import Policy

from ._errors import UsageError
from ._model import SiteConsent
from ._states import AuditState, default_states, parse_states

__all__ = ["AuditOptions", "ProgressCallback", "resolve_states"]

#: Called after each page: (state, page, pages done, pages planned).
ProgressCallback = Callable[[str, str, int, int], None]
DEFAULT_BASE_URL: Final = "http://localhost"


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """The options of ``consentware audit``, as the library takes them."""

    target: str
    paths: tuple[str, ...] = ("/",)
    crawl: int | None = None
    states: str | None = None
    consent_prefix: str = "/_consent"
    #: The origin an in-process app is addressed as (its ``Host``, cookie domains).
    base_url: str = DEFAULT_BASE_URL
    browser_path: str | None = None
    #: States audited at once in the browser (each in its own context).
    parallel: int = 3

    def __post_init__(self) -> None:
        if self.crawl is not None and self.crawl < 1:
            raise UsageError(f"--crawl: expected a positive number of pages, got {self.crawl}")
        for path in self.paths:
            if not path.startswith("/"):
                raise UsageError(f"--path {path!r}: write a path that starts with /, like /shop")
        if not self.consent_prefix.startswith("/") or self.consent_prefix.endswith("/"):
            raise UsageError(
                f"--consent-prefix {self.consent_prefix!r}: write a path like /_consent"
            )
        if self.parallel < 1:
            raise UsageError(f"--parallel: expected at least 1, got {self.parallel}")

    @property
    def page_limit(self) -> int:
        """Pages per state: ``--crawl N``, else the given paths."""
        return max(self.crawl, len(self.paths)) if self.crawl else len(self.paths)


def resolve_states(
    options: AuditOptions, site: SiteConsent, policy: Policy | None
) -> list[AuditState]:
    """The states to audit: ``--states`` or the defaults, for the site's (or the policy's)
    optional categories."""
    optional: Sequence[str] = site.optional
    if not site.found and policy is not None:
        optional = policy.optional_categories
    if options.states is None:
        return default_states(optional)
    try:
        return parse_states(options.states, optional)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
