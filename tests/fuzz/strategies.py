"""Hypothesis strategies and the oracle shared by the fuzz targets.

The oracle does not ask consentware what a line's name is: :func:`reference_name` derives it
again from RFC 6265bis (section 5.6), so a derivation bug shows up as a disagreement.
"""

from __future__ import annotations

import string
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from itsdangerous import BadData
from itsdangerous.encoding import base64_decode

from consentware import ConsentCookie, Policy
from tests.support.cookies import deletion_name

SECRET = "fuzz-secret-key"
OTHER_SECRET = "not-the-site-key"
CONSENT_NAME = "cookies_preferences"

FUZZ_POLICY_DATA: dict[str, Any] = {
    "categories": {
        "statistical": {"title": "Statistics"},
        "first_party": {"title": "First party"},
        "third_party": {"title": "Third party", "gpc_opt_out": True},
    },
    "cookies": [
        {"name": "sessionid", "category": "necessary"},
        {"name": "csrftoken", "category": "necessary"},
        {"name": "__Host-sid", "category": "necessary"},
        {"name": "sess_*", "category": "necessary"},
        {"name": "_ga", "category": "statistical", "domains": ["", "example.org"]},
        {"name": "_ga_*", "category": "statistical"},
        {"name": "re:_pk_(id|ses)\\..*", "category": "statistical"},
        {"name": "prefs", "category": "first_party", "path": "/app"},
        {"name": "__Secure-prefs", "category": "first_party"},
        {"name": "_fbp", "category": "third_party"},
        {"name": "ads*", "category": "third_party"},
    ],
}


def fuzz_policy(**overrides: Any) -> Policy:
    """The fuzz policy (exact, prefix and regex rules in every category), with overrides."""
    return Policy.from_dict({**FUZZ_POLICY_DATA, **overrides})


POLICY_BLOCK = fuzz_policy()
POLICY_ALLOW = fuzz_policy(unknown_cookies="allow")
OPTIONAL = POLICY_BLOCK.optional_categories
GPC_OPT_OUT = frozenset(n for n, c in POLICY_BLOCK.categories.items() if c.gpc_opt_out)

#: Names the policy knows (every category), names it does not, and look-alikes.
KNOWN_NAMES = (
    "sessionid",
    "csrftoken",
    "__Host-sid",
    "__host-sid",
    "sess_",
    "sess_42",
    "_ga",
    "_ga_ABC123",
    "_GA",
    "_pk_id.1.abcd",
    "_pk_ses.9.x",
    "_pk_other",
    "prefs",
    "__Secure-prefs",
    "_fbp",
    "ads",
    "adsense",
    CONSENT_NAME,
    "Cookies_preferences",
    "mystery",
    "AWSALB",
    "",
)

_CTL = frozenset(chr(c) for c in [*range(0x09), *range(0x0A, 0x20), 0x7F])


def reference_name(line: str) -> str:
    """The name a browser stores for ``line``, or its value's name when nameless.

    Written from RFC 6265bis 5.6 independently of :mod:`consentware.core.cookies`: a control
    character other than HTAB ends the line (what older browsers do; newer ones drop the
    line, which sets nothing), the pair ends at the first ``;``, no ``=`` means no name,
    spaces and tabs are trimmed.
    """
    for index, char in enumerate(line):
        if char in _CTL:
            line = line[:index]
            break
    pair = line.split(";")[0]
    if "=" not in pair:
        name, value = "", pair.strip(" \t")
    else:
        raw_name, value = pair.split("=", 1)
        name, value = raw_name.strip(" \t"), value.strip(" \t")
    if name:
        return name
    return value.split("=")[0].strip(" \t")


def allowed(line: str, policy: Policy, granted: Iterable[str]) -> bool:
    """Whether consent permits ``line`` to leave as written: its category is necessary or
    granted, or it is unknown under ``unknown_cookies = "allow"``. An app's own line for the
    consent cookie never leaves: only the consent route writes the visitor's choice."""
    if reference_name(line) == policy.consent_cookie.name:
        return False
    category = policy.category_of(reference_name(line))
    if category is None:
        return policy.unknown_cookies == "allow"
    if category == "necessary":
        return True
    return category in set(granted) and lives_where_declared(line, policy)


def lives_where_declared(line: str, policy: Policy, request_path: str = "/") -> bool:
    """Whether a line stores its cookie where the policy's rule says it lives (so where a
    withdrawal deletes it): its Domain among the rule's domains, its Path the rule's path,
    not Partitioned unless the rule is. An independent reading of RFC 6265bis 5.6."""
    if any(char in _CTL for char in line):
        return True  # a browser ignores the line whole: it stores nothing, anywhere
    pair, *attributes = line.split(";")
    if "=" not in pair:
        return False
    name = pair.split("=", 1)[0].strip(" \t")
    if not name or not all(33 <= ord(c) <= 126 and c not in ';=,"\\' for c in name):
        return False
    rule = policy.match(name)
    assert rule is not None
    path, domain, partitioned = "", "", False
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        key, value = key.strip(" \t").lower(), value.strip(" \t")
        if key == "partitioned":
            partitioned = True
        elif key in ("path", "domain") and len(value) <= 1024:
            if key == "path":
                path = value
            else:
                domain = value
    if partitioned and not rule.partitioned:
        return False
    if name[:7].lower() == "__host-":
        return rule.path == "/"
    if not path.startswith("/"):
        cut = request_path.rfind("/")
        path = request_path[:cut] if cut > 0 else "/"
    return domain.lstrip(".").lower() in rule.domains and path == rule.path


def is_necessary(line: str, policy: Policy) -> bool:
    """Whether the line's (reference) name is declared necessary."""
    return policy.category_of(reference_name(line)) == "necessary"


def header_safe(value: str) -> bool:
    """A value a server can send: latin-1, no control character but HTAB."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return not any(char in _CTL for char in value)


# -- consent states -----------------------------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """One consent cookie value as the client built it.

    ``choice`` is what the visitor chose when the value is valid, ``None`` when it was broken
    on purpose (or absent): then it must grant nothing.
    """

    value: str | None
    choice: frozenset[str] | None
    gpc: bool
    signed: bool

    @property
    def expected(self) -> frozenset[str]:
        """What the request must grant: the choice under GPC, or only necessary."""
        if self.choice is None:
            return frozenset({"necessary"})
        return expected_grant(self.choice, self.gpc)

    @property
    def gpc_header(self) -> str | None:
        return "1" if self.gpc else None


SIGNED = ConsentCookie(POLICY_BLOCK, SECRET)
#: One timestamp for every generated value, so that data generation is reproducible.
NOW = int(time.time())
_ID_CHARS = string.ascii_letters + string.digits + "-_"
UNSIGNED = ConsentCookie(POLICY_BLOCK)
WRONG_KEY = ConsentCookie(POLICY_BLOCK, OTHER_SECRET)


def expected_grant(granted: Iterable[str], gpc: bool) -> frozenset[str]:
    """What a valid choice of ``granted`` grants, GPC applied."""
    wanted = set(granted)
    if gpc:
        wanted -= GPC_OPT_OUT
    return frozenset(wanted | {"necessary"})


@st.composite
def consents(draw: st.DrawFn, *, signed: bool | None = None, gpc: bool | None = None) -> Consent:
    """A random consent: valid (signed or not), absent, or broken in a way that grants nothing.

    Broken values never come from asking the codec: truncation, another key, a flipped
    character inside a signed value (the signature then fails), or random text.
    """
    use_key = draw(st.booleans()) if signed is None else signed
    choice = frozenset(draw(st.sets(st.sampled_from(OPTIONAL))))
    with_gpc = draw(st.booleans()) if gpc is None else gpc
    codec = SIGNED if use_key else UNSIGNED
    form = draw(st.sampled_from(["valid", "valid", "valid", "absent", "broken"]))
    if form == "absent":
        return Consent(None, None, with_gpc, use_key)
    consent_id = draw(st.text(_ID_CHARS, min_size=1, max_size=22))
    value = codec.dumps(choice, now=NOW, consent_id=consent_id)
    if form == "valid":
        return Consent(value, choice, with_gpc, use_key)
    how = draw(st.sampled_from(["truncated", "wrong_key", "flipped", "garbage"]))
    if how == "truncated":
        value = value[: draw(st.integers(0, len(value) - 1))]
    elif how == "wrong_key":
        value = WRONG_KEY.dumps(choice, now=NOW, consent_id=consent_id) if use_key else "%7B%7D"
    elif how == "flipped" and use_key:
        index = draw(st.integers(0, len(value) - 1))
        replacement = draw(st.sampled_from("AQz0_-"))
        if value[index] == replacement or value[index] == ".":
            return Consent(value, choice, with_gpc, use_key)
        flipped = value[:index] + replacement + value[index + 1 :]
        if _same_bytes(value, flipped):
            # The spare low bits of a base64 segment's last character: the same value.
            return Consent(flipped, choice, with_gpc, use_key)
        value = flipped
    else:
        value = draw(st.text(alphabet=string.ascii_letters + string.digits + "%._-", max_size=80))
    return Consent(value, None, with_gpc, use_key)


def _same_bytes(value: str, other: str) -> bool:
    """Whether two signed values carry the same bytes in every base64 segment."""
    try:
        return [base64_decode(s) for s in value.split(".")] == [
            base64_decode(s) for s in other.split(".")
        ]
    except BadData:
        return False


# -- Set-Cookie lines ---------------------------------------------------------------------

_LATIN1 = st.characters(min_codepoint=0, max_codepoint=0xFF)
_VALUE_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters=";")
_ATTRIBUTES = st.sampled_from(
    [
        "",
        "; Path=/",
        "; Domain=example.org; Secure",
        "; Max-Age=0",
        "; max-age=-1",
        "; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
        "; Max-Age=0; Max-Age=3600",
        "; HttpOnly; SameSite=Lax",
        "; Max-Age=abc",
    ]
)


@st.composite
def set_cookie_lines(draw: st.DrawFn) -> str:
    """One ``Set-Cookie`` value: well formed, nameless, comma-laden, padded, or raw latin-1."""
    kind = draw(
        st.sampled_from(["plain", "plain", "nameless", "bare", "comma", "padded", "ctl", "raw"])
    )
    name = draw(st.sampled_from(KNOWN_NAMES) | st.text(_VALUE_CHARS, max_size=12))
    value = draw(st.text(_VALUE_CHARS, max_size=20))
    attributes = draw(_ATTRIBUTES)
    if kind == "plain":
        return f"{name}={value}{attributes}"
    if kind == "nameless":
        return f"={name}={value}{attributes}"
    if kind == "bare":
        return f"{name}{attributes}"
    if kind == "comma":
        other = draw(st.sampled_from(KNOWN_NAMES))
        return f"{name}={value}, {other}=1{attributes}"
    if kind == "padded":
        pad = draw(st.sampled_from([" ", "\t", " \t "]))
        return f"{pad}{name}{pad}={pad}{value}{pad}{attributes}"
    if kind == "ctl":
        ctl = draw(st.sampled_from(sorted(_CTL)))
        at = draw(st.integers(0, len(name) + len(value) + 1))
        line = f"{name}={value}{attributes}"
        return line[:at] + ctl + line[at:]
    return draw(st.text(_LATIN1, max_size=60))


# -- Cookie headers (bytes, as they arrive on the wire) ----------------------------------

_SEPARATORS = st.sampled_from([b"; ", b";", b", ", b" ; ", b";;", b"\t;", b";\t"])


@st.composite
def cookie_pairs(draw: st.DrawFn) -> bytes:
    """One ``name=value`` crumb of a ``Cookie`` header, as bytes: ASCII, UTF-8 or raw."""
    name = draw(
        st.sampled_from([n.encode() for n in KNOWN_NAMES]) | st.binary(min_size=0, max_size=10)
    )
    value_kind = draw(st.sampled_from(["token", "utf8", "binary", "quoted", "empty"]))
    if value_kind == "token":
        value = draw(st.text(string.ascii_letters + string.digits + "._-%", max_size=20)).encode()
    elif value_kind == "utf8":
        value = draw(st.text(max_size=12)).encode("utf-8", "surrogatepass")
    elif value_kind == "binary":
        value = draw(st.binary(max_size=16))
    elif value_kind == "quoted":
        value = b'"' + draw(st.binary(max_size=12)) + draw(st.sampled_from([b'"', b""]))
    else:
        value = b""
    return name + draw(st.sampled_from([b"=", b" = ", b""])) + value


@dataclass(frozen=True)
class CookieHeader:
    """A raw ``Cookie`` header and the consent copies planted in it."""

    raw: bytes
    copies: tuple[Consent, ...]
    gpc: bool

    @property
    def text(self) -> str:
        """The header as a server hands it over (PEP 3333: bytes decoded as latin-1)."""
        return self.raw.decode("latin-1")

    @property
    def expected(self) -> frozenset[str]:
        """The least consent: what every valid copy grants, or only necessary."""
        valid = [c.expected for c in self.copies if c.choice is not None]
        if not valid:
            return frozenset({"necessary"})
        return frozenset.intersection(*valid)


@st.composite
def cookie_headers(draw: st.DrawFn, *, signed: bool = True, max_noise: int = 25) -> CookieHeader:
    """A hostile ``Cookie`` header: noise crumbs with zero to three consent copies among them.

    The copies share the request's GPC flag, so their expected grants compose.
    """
    gpc = draw(st.booleans())
    noise = draw(st.lists(cookie_pairs(), max_size=max_noise))
    copies = [c for c in draw(st.lists(consents(signed=signed, gpc=gpc), max_size=3)) if c.value]
    crumbs = list(noise)
    for copy in copies:
        assert copy.value is not None
        crumbs.insert(draw(st.integers(0, len(crumbs))), f"{CONSENT_NAME}={copy.value}".encode())
    raw = draw(_SEPARATORS).join(crumbs)
    return CookieHeader(raw, tuple(copies), gpc)


def check_outcome(
    policy: Policy,
    lines: Iterable[str],
    out: Iterable[str],
    granted: Iterable[str],
    *,
    held: str = "",
) -> None:
    """The response invariants, given the lines the app set and the lines that left.

    A line leaves as written only if consent permits it; every necessary line leaves as
    written; anything else that leaves is consentware's own deletion, of a cookie the app
    tried to set and was refused, or of one the request held (``held``: its Cookie header).
    """
    lines, out, granted = list(lines), list(out), set(granted)
    refused = {reference_name(line) for line in lines if not allowed(line, policy, granted)}
    consent_name = policy.consent_cookie.name
    for line in lines:
        if is_necessary(line, policy) and header_safe(line) and allowed(line, policy, granted):
            assert line in out, f"necessary line lost: {line!r}"
    for line in out:
        if line in lines and allowed(line, policy, granted):
            continue
        name = deletion_name(line)
        assert name is not None, f"a line left that consent does not permit: {line!r}"
        assert header_safe(line), line
        assert not is_necessary(line, policy), f"a necessary cookie deleted: {line!r}"
        assert name != consent_name, f"the visitor's choice deleted: {line!r}"
        assert name in refused or name in held, (name, held[:200])
