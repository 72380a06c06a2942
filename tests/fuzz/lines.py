"""Seeded generators of ``Set-Cookie`` lines in every shape, for the browser-judged fuzz targets.

Plain functions of a :class:`random.Random`, so a seed names a line for good and a failure is
replayed from it; :func:`lines` wraps them as a hypothesis strategy for the in-process targets.

:func:`set_cookie_line` builds one header the app writes: a name from the fuzz policy (necessary,
each optional category, undeclared) or a random token, in case and prefix variants
(``__Host-``, ``__Secure-``, ``__Http-`` in mixed case) and with latin-1 letters; the pair in
every shape browsers read differently (nameless ``=_ga=1``, bare ``name``, comma joins
``a=1, _ga=2``, padding with spaces and tabs); a value with quotes, commas and ``=``; then
attributes repeated and in any order: ``Expires`` in every date shape (RFC 1123, RFC 850,
asctime, two- and three-to-five-digit years, the year before the day, leading zeros, missing or
impossible times, far past and future, garbage), ``Max-Age`` (zero, negative, huge, signed,
non-numeric, repeated), ``Path``, ``Domain``, ``Secure``, ``HttpOnly``, ``SameSite``,
``Partitioned``, values over 1024 octets; and sometimes a control character (CR, LF, NUL, other
C0, DEL) anywhere, or a CRLF that starts a second header. The header name varies too
(``set-cookie``, ``SET-COOKIE``, ``Set-Cookie`` with a trailing space or tab), and for ASGI the
pair may be ``str`` instead of ``bytes``.

:func:`set_cookie_call` builds the keyword arguments of Django's ``HttpResponse.set_cookie``
from the same pieces. Every value is latin-1, so any server can be asked to send it. Each
generated line carries ``shapes``: short tags saying what the generator did, for grouping the
failures a fuzz run reports.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.strategies import CONSENT_NAME, FUZZ_POLICY_DATA

__all__ = [
    "DEFAULT_SITE",
    "GeneratedLine",
    "cookie_name",
    "expires_value",
    "lines",
    "max_age_value",
    "policy_name",
    "set_cookie_call",
    "set_cookie_line",
]

#: The registrable domain the generated ``Domain`` attributes aim at by default.
DEFAULT_SITE = "example.localhost"

_TOKEN = string.ascii_letters + string.digits + "_-."
_HEX = "0123456789abcdef"
# Latin-1 letters written as the UTF-8 bytes a browser shows faithfully ("é" as "Ã©"), and raw
# latin-1 octets (not UTF-8: a browser's view of them is lossy).
_UTF8_LETTERS = tuple(ch.encode("utf-8").decode("latin-1") for ch in "éüßøñç€")
_RAW_LATIN1 = tuple(chr(c) for c in range(0xA0, 0x100))
_CONTROLS = ("\r", "\n", "\r\n", "\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f")
_PREFIXES = (
    "__Host-",
    "__host-",
    "__HOST-",
    "__Secure-",
    "__secure-",
    "__SeCuRe-",
    "__Http-",
    "__http-",
    "__Host-Http-",
    "__host-http-",
)
HEADER_NAMES = ("set-cookie", "SET-COOKIE", "Set-Cookie ", "Set-Cookie\t", "set-cookie ")


@dataclass(frozen=True)
class GeneratedLine:
    """One ``Set-Cookie`` header as the app writes it.

    ``value`` is the header value; ``header`` the header name; ``as_str`` asks an ASGI app to
    send the pair as ``str`` instead of ``bytes`` (WSGI pairs are ``str`` anyway).
    """

    value: str
    header: str = "Set-Cookie"
    as_str: bool = False
    shapes: tuple[str, ...] = field(default=(), compare=False)


# -- names -----------------------------------------------------------------------------------


def _token(rng: random.Random, low: int = 1, high: int = 8) -> str:
    return "".join(rng.choices(_TOKEN, k=rng.randint(low, high)))


def _rule_instance(rng: random.Random, pattern: str) -> str:
    """A name the fuzz policy's rule ``pattern`` matches (exact, prefix or the regex rule)."""
    if pattern.startswith("re:"):
        # The one regex rule: re:_pk_(id|ses)\..*
        kind = rng.choice(["id", "ses"])
        return f"_pk_{kind}.{rng.randint(1, 99)}.{''.join(rng.choices(_HEX, k=6))}"
    if pattern.endswith("*"):
        return pattern[:-1] + rng.choice(["", _token(rng)])
    return pattern


def _rules_by_category() -> dict[str, list[str]]:
    rules: dict[str, list[str]] = {"necessary": [CONSENT_NAME]}
    for rule in FUZZ_POLICY_DATA["cookies"]:
        rules.setdefault(rule["category"], []).append(rule["name"])
    return rules


_RULES = _rules_by_category()
_CATEGORY_WEIGHTS = {"necessary": 25, "statistical": 15, "first_party": 15, "third_party": 15}
_UNDECLARED = ("mystery", "AWSALB", "_gid", "session", "Cookies_preferences", "csrftoken2")


def policy_name(rng: random.Random, category: str) -> str:
    """A name one of the fuzz policy's rules of ``category`` matches."""
    return _rule_instance(rng, rng.choice(_RULES[category]))


def _case_variant(rng: random.Random, name: str) -> str:
    flipped = "".join(c.swapcase() if rng.random() < 0.4 else c for c in name)
    return flipped if flipped != name else name.upper()


def _with_letters(rng: random.Random, name: str, *, raw: bool) -> str:
    letter = rng.choice(_RAW_LATIN1 if raw else _UTF8_LETTERS)
    at = rng.randint(0, len(name))
    return name[:at] + letter + name[at:]


def cookie_name(rng: random.Random) -> tuple[str, list[str]]:
    """A cookie name and the shape tags saying how it was made.

    Names of the policy's rules in every category, undeclared names and random tokens, then
    perhaps a case variant, a (mixed case) prefix, or latin-1 letters. Raw latin-1 octets (not
    valid UTF-8) are only added to random tokens: a browser shows such a name without them,
    so a known name must not be one octet away from it.
    """
    roll = rng.random()
    shapes: list[str] = []
    if roll < 0.7:
        categories = list(_CATEGORY_WEIGHTS)
        category = rng.choices(categories, weights=[_CATEGORY_WEIGHTS[c] for c in categories])[0]
        name = policy_name(rng, category)
        shapes.append(f"name:{category}")
    elif roll < 0.8:
        name = rng.choice(_UNDECLARED)
        shapes.append("name:undeclared")
    else:
        name = _token(rng)
        shapes.append("name:token")
        if rng.random() < 0.15:
            return _with_letters(rng, name, raw=True), [*shapes, "name:raw-latin1"]
    variant = rng.random()
    if variant < 0.1:
        name = _case_variant(rng, name)
        shapes.append("name:case")
    elif variant < 0.22:
        base = name
        for prefix in ("__Host-", "__Secure-"):
            if base.startswith(prefix):
                base = base[len(prefix) :]
        name = rng.choice(_PREFIXES) + base
        shapes.append("name:prefix")
    elif variant < 0.27:
        name = _with_letters(rng, name, raw=False)
        shapes.append("name:utf8")
    return name, shapes


def _value(rng: random.Random) -> tuple[str, list[str]]:
    kind = rng.choice(["token", "token", "empty", "quoted", "comma", "equals", "space", "latin1"])
    token = _token(rng, 0, 12)
    if kind == "empty":
        return "", []
    if kind == "quoted":
        return f'"{token}"', ["value:quoted"]
    if kind == "comma":
        return f"{token}, {_token(rng)}={_token(rng)}", ["value:comma"]
    if kind == "equals":
        return f"{token}={_token(rng)}=", ["value:equals"]
    if kind == "space":
        return f"{token} {_token(rng)}", ["value:space"]
    if kind == "latin1":
        raw = rng.random() < 0.5
        return _with_letters(rng, token, raw=raw), ["value:latin1"]
    return token, []


# -- attributes ------------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_LONG_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Dates fixed in the generator (never "now"), so a seed means the same line on any day.
_PAST = (dt.datetime(1970, 1, 1), dt.datetime(1999, 12, 31, 23, 59, 59), dt.datetime(2001, 9, 9))
_FUTURE = (dt.datetime(2100, 1, 1), dt.datetime(2038, 1, 19, 3, 14, 8), dt.datetime(9999, 12, 31))
_BAD_TIMES = ("25:61:61", "1:2", "1:2:3", "24:00:00", "23:59:60", "00:00", "0:0:0", "001:02:03")


def expires_value(rng: random.Random) -> tuple[str, str]:
    """An ``Expires`` value and its shape: every date form parsers read differently."""
    when = rng.choice(_PAST if rng.random() < 0.5 else _FUTURE)
    day, month = _DAYS[when.weekday()], _MONTHS[when.month - 1]
    hms = f"{when.hour:02}:{when.minute:02}:{when.second:02}"
    shape = rng.choice(
        [
            "rfc1123",
            "rfc1123",
            "rfc850",
            "asctime",
            "two-digit-year",
            "odd-year",
            "year-first",
            "leading-zeros",
            "no-time",
            "bad-time",
            "far",
            "garbage",
            "dashes",
        ]
    )
    if shape == "rfc1123":
        value = f"{day}, {when.day:02} {month} {when.year} {hms} GMT"
    elif shape == "rfc850":
        value = (
            f"{_LONG_DAYS[when.weekday()]}, {when.day:02}-{month}-{when.year % 100:02} {hms} GMT"
        )
    elif shape == "asctime":
        value = f"{day} {month} {when.day:2} {hms} {when.year}"
    elif shape == "two-digit-year":
        value = (
            f"{day}, {when.day:02} {month} {rng.choice(['69', '70', '00', '99', '38'])} {hms} GMT"
        )
    elif shape == "odd-year":
        year = rng.choice(["0", "1", "999", "1600", "1601", "10000", "99999", "0001970"])
        value = f"{day}, {when.day:02} {month} {year} {hms} GMT"
    elif shape == "year-first":
        value = f"{when.year} {day} {when.day:02} {month} {hms}"
    elif shape == "leading-zeros":
        value = f"{day}, 00{when.day} {month} 0{when.year} 0{when.hour}:0{when.minute}:00 GMT"
    elif shape == "no-time":
        value = f"{day}, {when.day:02} {month} {when.year} GMT"
    elif shape == "bad-time":
        value = f"{day}, {when.day:02} {month} {when.year} {rng.choice(_BAD_TIMES)} GMT"
    elif shape == "far":
        value = rng.choice(
            [
                "Mon, 01 Jan 1601 00:00:00 GMT",
                "Sat, 01 Jan 0001 00:00:00 GMT",
                "Fri, 31 Dec 9999 23:59:59 GMT",
                "Thu, 01 Jan 1970 00:00:01 GMT",
                "Sat, 31 Feb 2001 00:00:00 GMT",
            ]
        )
    elif shape == "dashes":
        value = f"{day}, {when.day:02}-{month}-{when.year} {hms} GMT"
    else:
        value = rng.choice(["garbage", "", "0", "-1", "now", "Thu, 01 Jan", "1970", _token(rng)])
    return value, shape


def max_age_value(rng: random.Random) -> tuple[str, str]:
    """A ``Max-Age`` value and its shape: zero, negative, huge, signed or not a number."""
    shape = rng.choice(["zero", "negative", "positive", "huge", "signed", "junk", "padded"])
    if shape == "zero":
        value = rng.choice(["0", "00", "-0", "0" * rng.randint(2, 30)])
    elif shape == "negative":
        value = rng.choice(["-1", "-86400", "-99999999999999999999"])
    elif shape == "positive":
        # Not a few seconds: such a cookie may be gone from one jar when it is read.
        value = rng.choice(["120", "3600", "86400", "0003600"])
    elif shape == "huge":
        value = rng.choice(["99999999999999999999", "34560000", str(2**63), str(2**64 + 1)])
    elif shape == "signed":
        value = rng.choice(["+0", "+3600", "+-1", "--1"])
    elif shape == "padded":
        value = rng.choice([" 0", "0 ", "\t0", " 3600 "])
    else:
        value = rng.choice(["", "abc", "1e3", "0x10", "3600s", "0.5", "\u00b9"])
    return value, shape


def _path_value(rng: random.Random) -> str:
    return rng.choice(["/", "/", "/app", "/app/", "/c/d", "/c", "", "app", "/ap p", "/%61pp", "x/"])


def _domain_value(rng: random.Random, site: str) -> str:
    return rng.choice(
        [
            site,
            site,
            "." + site,
            "www." + site,
            site.upper(),
            "localhost",
            "other." + site.rsplit(".", 1)[-1],
            "example.org",
            "",
            ".",
            "127.0.0.1",
            site + ".",
        ]
    )


#: Attribute kinds and their weights: the expiry attributes most, since they decide deletions.
_ATTRIBUTE_KINDS = {
    "expires": 8,
    "max-age": 8,
    "path": 4,
    "domain": 4,
    "secure": 3,
    "httponly": 2,
    "samesite": 2,
    "partitioned": 2,
    "other": 1,
    "long": 1,
    "empty": 1,
}


def _attribute(rng: random.Random, site: str, kind: str) -> tuple[str, str]:
    if kind == "expires":
        value, shape = expires_value(rng)
        key = rng.choice(["Expires", "expires", "EXPIRES", " Expires "])
        return f"{key}={value}", f"expires:{shape}"
    if kind == "max-age":
        value, shape = max_age_value(rng)
        key = rng.choice(["Max-Age", "max-age", "MAX-AGE", "Max-Age "])
        return f"{key}={value}", f"max-age:{shape}"
    if kind == "path":
        return f"{rng.choice(['Path', 'path'])}={_path_value(rng)}", "path"
    if kind == "domain":
        return f"{rng.choice(['Domain', 'domain'])}={_domain_value(rng, site)}", "domain"
    if kind == "secure":
        return rng.choice(["Secure", "secure", "SECURE", "Secure=1"]), "secure"
    if kind == "httponly":
        return rng.choice(["HttpOnly", "httponly"]), "httponly"
    if kind == "samesite":
        value = rng.choice(["Lax", "Strict", "None", "lax", "NONE", "", "junk"])
        return f"SameSite={value}", "samesite"
    if kind == "partitioned":
        return rng.choice(["Partitioned", "partitioned"]), "partitioned"
    if kind == "long":
        # Over 1024 octets: browsers ignore the attribute.
        key = rng.choice(["Path=/", "Domain=", "Max-Age=", "Expires="])
        filler = "0" if key == "Max-Age=" else "a"
        return key + filler * rng.randint(1020, 1100), "long-attribute"
    if kind == "empty":
        return "", "empty-attribute"
    return rng.choice(["Priority=High", "Comment=x", "Version=1", "foo"]), "other-attribute"


def _attributes(rng: random.Random, site: str, name: str) -> tuple[list[str], list[str]]:
    attributes: list[str] = []
    shapes: list[str] = []
    count = rng.choice([0, 1, 1, 2, 2, 3, 4, 6])
    kinds = rng.choices(list(_ATTRIBUTE_KINDS), weights=list(_ATTRIBUTE_KINDS.values()), k=count)
    if kinds and rng.random() < 0.2:
        # The same attribute again, mostly with another value: which one counts?
        kinds.append(rng.choice(["expires", "max-age", "path", "domain", rng.choice(kinds)]))
        shapes.append("repeated")
    for kind in kinds:
        attribute, shape = _attribute(rng, site, kind)
        attributes.append(attribute)
        shapes.append(shape)
    if len(attributes) > 1 and rng.random() < 0.05:
        attributes.append(rng.choice(attributes))
        shapes.append("repeated-verbatim")
    lowered = name.lower()
    if lowered.startswith(("__host-", "__secure-", "__http-")) and rng.random() < 0.7:
        # Mostly what the prefix requires, so that the browser stores some of them.
        attributes.append("Secure")
        attributes.append("Path=/")
        if lowered.startswith(("__http-", "__host-http-")):
            attributes.append("HttpOnly")
    rng.shuffle(attributes)
    return attributes, shapes


# -- whole lines -----------------------------------------------------------------------------


def _pair(rng: random.Random, name: str, value: str) -> tuple[str, str]:
    shape = rng.choices(
        ["plain", "nameless", "nameless-bare", "bare", "comma", "padded", "raw"],
        weights=[66, 4, 1, 3, 10, 12, 3],
    )[0]
    if shape == "nameless":
        return f"={name}={value}", "pair:nameless"
    if shape == "nameless-bare":
        return f"={name}", "pair:nameless"
    if shape == "bare":
        return name, "pair:bare"
    if shape == "comma":
        other, _ = cookie_name(rng)
        return f"{name}={value}, {other}={_token(rng)}", "pair:comma"
    if shape == "padded":
        pads = [rng.choice(["", " ", "\t", "  ", " \t"]) for _ in range(3)]
        return f"{pads[0]}{name}{pads[1]}={pads[2]}{value}", "pair:padded"
    if shape == "raw":
        junk = "".join(rng.choices(string.printable[:94] + " ", k=rng.randint(1, 20)))
        return junk.replace(";", ""), "pair:raw"
    return f"{name}={value}", "pair:plain"


def _join(rng: random.Random, pair: str, attributes: list[str]) -> str:
    line = pair
    for attribute in attributes:
        line += rng.choice(["; ", "; ", ";", " ; ", ";\t"]) + attribute
    if rng.random() < 0.03:
        line += rng.choice([";", "; ", " "])
    return line


def _control(rng: random.Random, line: str) -> tuple[str, str]:
    control = rng.choice(_CONTROLS)
    at = rng.randint(0, len(line))
    pair_end = line.find(";") if ";" in line else len(line)
    if at > pair_end:
        where = "attributes"
    elif "=" in line[:pair_end] and at <= line.find("="):
        where = "name"
    else:
        where = "value"
    tag = {"\r": "CR", "\n": "LF", "\r\n": "CRLF", "\x00": "NUL", "\x7f": "DEL"}.get(control, "C0")
    return line[:at] + control + line[at:], f"ctl:{tag}@{where}"


def set_cookie_line(rng: random.Random, *, site: str = DEFAULT_SITE) -> GeneratedLine:
    """One ``Set-Cookie`` header in any shape (see the module docstring)."""
    name, shapes = cookie_name(rng)
    value, value_shapes = _value(rng)
    pair, pair_shape = _pair(rng, name, value)
    attributes, attribute_shapes = _attributes(rng, site, name)
    line = _join(rng, pair, attributes)
    shapes += [*value_shapes, pair_shape, *(s for s in attribute_shapes if s)]
    roll = rng.random()
    if roll < 0.1:
        line, shape = _control(rng, line)
        shapes.append(shape)
    elif roll < 0.13:
        other = set_cookie_line(rng, site=site)
        header = rng.choice(["Set-Cookie: ", "set-cookie:", "Set-Cookie:\t"])
        line += (
            rng.choice(["\r\n", "\n"]) + header + other.value.replace("\r", "").replace("\n", "")
        )
        shapes.append("ctl:header-injection")
    header = "Set-Cookie"
    if rng.random() < 0.1:
        header = rng.choice(HEADER_NAMES)
        shapes.append(f"header:{header!r}")
    as_str = rng.random() < 0.05
    if as_str:
        shapes.append("asgi:str-pair")
    return GeneratedLine(line, header, as_str, tuple(shapes))


def lines(*, site: str = DEFAULT_SITE) -> st.SearchStrategy[GeneratedLine]:
    """:func:`set_cookie_line` as a hypothesis strategy (its choices drawn from hypothesis)."""
    return st.randoms(use_true_random=False).map(lambda rng: set_cookie_line(rng, site=site))


# -- Django's set_cookie ---------------------------------------------------------------------


def _expires_argument(rng: random.Random) -> tuple[Any, str]:
    roll = rng.random()
    if roll < 0.3:
        return None, ""
    if roll < 0.55:
        when = rng.choice([*_PAST, *_FUTURE[:2]])
        if rng.random() < 0.5:
            when = when.replace(tzinfo=dt.UTC)
        return when, "expires:datetime"
    value, shape = expires_value(rng)
    if rng.random() < 0.1:
        # Morsel writes an expires string as given: a ";" adds attributes.
        value += rng.choice(["; Max-Age=3600", "; Max-Age=0", "; Domain=" + DEFAULT_SITE])
        shape += "+attributes"
    return value, f"expires:{shape}"


def _max_age_argument(rng: random.Random) -> tuple[Any, str]:
    roll = rng.random()
    if roll < 0.4:
        return None, ""
    if roll < 0.8:
        return rng.choice([0, -1, 120, 3600, 10**6, 10**12, 2**40]), "max-age:int"
    if roll < 0.9:
        return dt.timedelta(seconds=rng.choice([0, -5, 3600])), "max-age:timedelta"
    value, shape = max_age_value(rng)
    return value, f"max-age:str-{shape}"


def set_cookie_call(rng: random.Random, *, site: str = DEFAULT_SITE) -> dict[str, Any]:
    """Keyword arguments for Django's ``HttpResponse.set_cookie``, from the same pieces.

    Some calls are refused by Django (an illegal key, an unknown ``samesite``, a ``max_age``
    that is no number, a date past year 9999); the view skips those as an app would have to.
    The ``shapes`` key holds the tags and is not an argument.
    """
    name, shapes = cookie_name(rng)
    if rng.random() < 0.05:
        name += rng.choice([" ", ";", "=", ","])
        shapes.append("name:illegal-key")
    value, value_shapes = _value(rng)
    if rng.random() < 0.1:
        value += rng.choice([";x=1", "\\", '"', "\x7f"])
        value_shapes.append("value:needs-quoting")
    call: dict[str, Any] = {"key": name, "value": value}
    expires, expires_shape = _expires_argument(rng)
    max_age, max_age_shape = _max_age_argument(rng)
    if expires is not None:
        call["expires"] = expires
    if max_age is not None:
        call["max_age"] = max_age
    if rng.random() < 0.4:
        call["path"] = _path_value(rng) + rng.choice(["", "", "; Max-Age=0", ";Secure"])
    if rng.random() < 0.3:
        call["domain"] = _domain_value(rng, site)
    if rng.random() < 0.3:
        call["secure"] = True
    if rng.random() < 0.3:
        call["httponly"] = True
    if rng.random() < 0.3:
        call["samesite"] = rng.choice(["Lax", "Strict", "None", "lax", "junk"])
    call["shapes"] = tuple(
        s for s in [*shapes, *value_shapes, expires_shape, max_age_shape, "django:set_cookie"] if s
    )
    return call
