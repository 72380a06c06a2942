"""``consentware policy``: render a policy's cookie policy page, or check a policy file.

:func:`add_arguments` builds ``render`` and ``check`` on an :mod:`argparse` parser; the
top-level ``consentware`` command (:mod:`consentware.cli`) registers it as ``policy``.
``check`` validates the file (exit 2 and the bad key when it is wrong) and explains it to a
reviewer: the settings, each category's rules, and the warnings worth a decision.

Example::

    consentware policy render --format md cookies.toml
    consentware policy check cookies.toml
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .core.codec import ConsentCookie
from .core.policy import NECESSARY, Policy
from .web.pages import policy_document, policy_markdown, policy_page

if TYPE_CHECKING:
    from .audit import CookieDatabase

__all__ = ["EXIT_USAGE", "add_arguments", "explain_policy", "policy_warnings", "run"]

EXIT_USAGE: Final = 2

EPILOG: Final = """\
examples:
  %(prog)s render --format html cookies.toml > cookie-policy.html
  %(prog)s render --format md cookies.toml >> README.md
  %(prog)s check cookies.toml
  %(prog)s check cookies.toml --cookie-database open-cookie-database.csv"""

RENDER_EPILOG: Final = """\
examples:
  %(prog)s cookies.toml > cookie-policy.html
  %(prog)s --format md cookies.toml >> README.md
  %(prog)s --format json"""

CHECK_EPILOG: Final = """\
examples:
  %(prog)s cookies.toml
  %(prog)s cookies.toml --cookie-database open-cookie-database.csv

exit status: 0 valid (warnings included), 2 invalid (the message names the file and key)."""


class _UsageError(Exception):
    """A file that is missing or not a valid policy."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Build ``consentware policy render|check`` on ``parser``."""
    parser.description = "Render a cookie policy page, or check a policy file."
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="policy_command", metavar="COMMAND", required=True)
    render = commands.add_parser(
        "render",
        help="write the cookie policy page of a policy",
        description="Write the cookie policy page of FILE (default: the built-in default "
        "policy) on standard output.",
        epilog=RENDER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument(
        "--format",
        dest="output_format",
        choices=("html", "md", "json"),
        default="html",
        help="html: the page with its consent form; md: Markdown; json: as served (default: html)",
    )
    render.add_argument("file", nargs="?", type=Path, metavar="FILE", help="a policy (TOML)")
    render.set_defaults(run=_render)
    check = commands.add_parser(
        "check",
        help="validate a policy file and explain it",
        description="Validate FILE and explain it to a reviewer: categories, rules, warnings.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("file", type=Path, metavar="FILE", help="a policy (TOML)")
    check.add_argument(
        "--cookie-database",
        type=Path,
        metavar="CSV",
        help="also flag necessary rules that the Open Cookie Database knows as trackers",
    )
    check.set_defaults(run=_check)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run ``render`` or ``check``; its exit status."""
    command: Callable[[argparse.Namespace], int] = args.run
    try:
        return command(args)
    except _UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _load(file: Path | None) -> Policy:
    if file is None:
        return Policy.default()
    try:
        return Policy.from_toml(file)
    except FileNotFoundError:
        raise _UsageError(f"{file}: no such file") from None
    except OSError as exc:
        raise _UsageError(f"{file}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        message = str(exc)
        raise _UsageError(
            message if message.startswith(str(file)) else f"{file}: {message}"
        ) from None


def _render(args: argparse.Namespace) -> int:
    loaded = _load(args.file)
    if args.output_format == "json":
        print(json.dumps(policy_document(loaded), indent=2, ensure_ascii=False))
    elif args.output_format == "md":
        print(policy_markdown(loaded))
    else:
        print(policy_page(loaded, ConsentCookie(loaded).loads(None)))
    return 0


def _check(args: argparse.Namespace) -> int:
    loaded = _load(args.file)
    database = None
    if args.cookie_database is not None:
        from .audit import UsageError, load_database

        try:
            database = load_database(args.cookie_database)
        except UsageError as exc:
            raise _UsageError(str(exc)) from None
    print(f"{args.file}: a valid policy")
    for line in explain_policy(loaded):
        print(f"  {line}")
    warnings = policy_warnings(loaded, database)
    if warnings:
        print(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}:")
        for warning in warnings:
            print(f"  ! {warning}")
    else:
        print("no warnings")
    return 0


def explain_policy(policy: Policy) -> list[str]:
    """What a reviewer reads first: the settings and each category's rules."""
    settings = policy.consent_cookie
    lines = [
        f"unknown cookies: {policy.unknown_cookies}; mode: {policy.mode}; "
        f"expire unknown: {str(policy.expire_unknown).lower()}",
        f"consent cookie: {settings.name}, kept {settings.max_age_days} days, revision "
        f"{settings.revision}, {'HttpOnly' if settings.http_only else 'readable by scripts'}"
        + (f", Domain={settings.domain}" if settings.domain else ""),
        f"{len(policy.categories)} categories, {len(policy.rules)} rules:",
    ]
    for name, category in policy.categories.items():
        rules = [r for r in policy.rules if r.category == name]
        kinds = {kind: sum(1 for r in rules if r.kind == kind) for kind in ("exact", "prefix")}
        regexes = sum(1 for r in rules if r.kind == "regex")
        flags = [
            "always granted" if category.required else "optional",
            *(["refused under Sec-GPC: 1"] if category.gpc_opt_out else []),
            *(
                [f"consent mode {', '.join(category.consent_mode)}"]
                if category.consent_mode
                else []
            ),
        ]
        lines.append(
            f"  {name} ({category.title}): {len(rules)} rules ({kinds['exact']} exact, "
            f"{kinds['prefix']} prefix, {regexes} regex); {'; '.join(flags)}"
        )
    return lines


def policy_warnings(policy: Policy, database: CookieDatabase | None = None) -> list[str]:
    """What a reviewer should decide on: each warning names the key it is about."""
    warnings: list[str] = []
    settings = policy.consent_cookie
    if policy.unknown_cookies == "allow":
        warnings.append('unknown_cookies = "allow": a cookie nobody declared passes unconsented')
    if policy.mode == "report":
        warnings.append('mode = "report": nothing is enforced, cookies are only reported')
    if not settings.http_only:
        warnings.append(
            "consent_cookie.http_only = false: page scripts can read the consent cookie, and "
            "write it too unless the middleware signs it (secret_key)"
        )
    if settings.max_age_days > 395:
        warnings.append(
            f"consent_cookie.max_age_days = {settings.max_age_days}: the CNIL asks to keep a "
            "choice at most 13 months (395 days)"
        )
    for index, rule in enumerate(policy.rules):
        where = f"cookies[{index}] ({rule.pattern})"
        if rule.kind == "regex":
            # A backtracking pattern never gets here: Policy.from_dict refuses it.
            warnings.append(
                f"{where}: a regex rule runs on names visitors send; prefer exact names or a prefix"
            )
        if rule.category == NECESSARY and rule.kind != "exact":
            warnings.append(f"{where}: a {rule.kind} rule declared necessary lets any match pass")
        if rule.kind == "prefix" and len(rule.pattern) <= 3:
            warnings.append(f"{where}: a very short prefix matches many unrelated names")
        if rule.category != NECESSARY and not (rule.provider and rule.purpose):
            missing = [k for k in ("provider", "purpose") if not getattr(rule, k)]
            warnings.append(f"{where}: no {' nor '.join(missing)} for the policy page")
        known = database.lookup(rule.pattern.rstrip("*")) if database is not None else None
        if (
            known is not None
            and rule.category == NECESSARY
            and known.category.lower() in ("analytics", "marketing")
            and not known.domain
        ):
            warnings.append(
                f"{where}: declared necessary, but the Open Cookie Database lists it as "
                f"{known.category} ({known.platform})"
            )
    for name, category in policy.categories.items():
        if not category.required and not any(r.category == name for r in policy.rules):
            warnings.append(f"categories.{name}: no cookie is declared in it")
        words = f"{name} {category.title}".lower()
        if (
            not category.gpc_opt_out
            and not category.required
            and any(w in words for w in ("advert", "marketing", "third"))
        ):
            warnings.append(
                f"categories.{name}.gpc_opt_out is false: Sec-GPC: 1 is an opt-out of "
                "targeted advertising in California and other US states"
            )
    return warnings
