"""Texts in the visitor's language: consentware's own words, and the choice of a language.

consentware ships its words (the banner's, the policy page's, and the English texts of its own
policies, translated) in English, French, German, Spanish, Italian and Dutch, one TOML file per
language in ``web/locales/``. A policy adds a language or changes words under ``texts``::

    default_language = "en"
    languages = ["en", "fr", "pt"]        # optional: the languages offered (default: all)

    [texts.fr.banner]
    accept_all = "J'accepte tout"         # one word of a shipped language

    [texts.pt.banner]                     # a new language gives every key of en.toml
    title = "Cookies neste site"
    ...

:func:`catalog` checks those once per policy (a :class:`~consentware.PolicyError` naming the
key) and answers, for a request, which language to render in (:meth:`Catalog.choose`: the
page's explicit ``?lang=``, then the app's own language, then ``Accept-Language``, then
``default_language``) and each text in it (:meth:`Catalog.text`). Nothing here runs unless a
banner or a policy page is rendered.

Example::

    texts = catalog(policy)
    choice = texts.choose(accept_language="fr-CH, fr;q=0.9, en;q=0.8")
    choice.language, choice.vary          # "fr", True: the response varies on Accept-Language
    texts.words(choice.language)["banner.accept_all"]   # "Tout accepter"
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final

from markupsafe import Markup, escape

from ..core.errors import PolicyError
from ..core.policy import Policy
from ..core.text import Text, language_tag, lookup_chain

__all__ = [
    "SHIPPED_LANGUAGES",
    "Catalog",
    "Choice",
    "Words",
    "catalog",
    "framework_texts",
    "negotiate",
    "parse_accept_language",
    "shipped_words",
]

#: The languages consentware has its own words in, in the order they are offered.
SHIPPED_LANGUAGES: Final = ("en", "fr", "de", "es", "it", "nl")
#: The table of a language file (and of ``texts.<language>``) that translates policy texts.
PHRASES: Final = "phrases"
#: Accept-Language beyond this many characters or entries is not read (browsers send a few).
MAX_HEADER_CHARS: Final = 4096
MAX_RANGES: Final = 64

_Q: Final = re.compile(r"[qQ][ \t]*=[ \t]*(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")


@dataclass(frozen=True, slots=True)
class Words:
    """consentware's words in one language: ``messages`` by key (``"banner.accept_all"``) and
    ``phrases``, the translations of policy texts by their source text."""

    language: str
    messages: Mapping[str, str]
    phrases: Mapping[str, str]

    def __getitem__(self, key: str) -> str:
        return self.messages[key]

    def format(self, key: str, **values: object) -> str:
        """The message ``key`` with its ``{placeholders}`` filled in."""
        return self.messages[key].format(**values)


@dataclass(frozen=True, slots=True)
class Choice:
    """The language a response is rendered in, and whether ``Accept-Language`` chose it (the
    response then carries ``Vary: Accept-Language``)."""

    language: str
    vary: bool


def _flatten(table: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        where = f"{path}.{key}" if path else str(key)
        if isinstance(value, Mapping) and where != PHRASES:
            yield from _flatten(value, where)
        else:
            yield where, value


def _fields(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@cache
def shipped_words() -> Mapping[str, Words]:
    """The words of every shipped language, read once per process from ``web/locales/``."""
    folder = resources.files("consentware.web").joinpath("locales")
    found: dict[str, Words] = {}
    for language in SHIPPED_LANGUAGES:
        data = tomllib.loads(folder.joinpath(f"{language}.toml").read_text("utf-8"))
        phrases = data.pop(PHRASES, {})
        messages = dict(_flatten(data, ""))
        found[language] = Words(language, MappingProxyType(messages), MappingProxyType(phrases))
    return MappingProxyType(found)


@cache
def _english() -> tuple[Mapping[str, frozenset[str]], frozenset[str]]:
    """Each message key with its placeholders, and the English source of every phrase."""
    english = shipped_words()["en"]
    return (
        MappingProxyType({key: _fields(text) for key, text in english.messages.items()}),
        frozenset(english.phrases),
    )


def parse_accept_language(header: str | None) -> list[str]:
    """The language ranges of an ``Accept-Language`` header, most wanted first.

    Ranges are canonical tags (or ``"*"``); those with ``q=0`` and malformed entries are left
    out; equal weights keep the header's order. Never raises, whatever the header holds.
    """
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(header[:MAX_HEADER_CHARS].split(",")[:MAX_RANGES]):
        name, *params = item.split(";")
        name = name.strip(" \t")
        tag = "*" if name == "*" else language_tag(name)
        if tag is None:
            continue
        weight = 1.0
        for param in params:
            param = param.strip(" \t")
            if not param:
                continue
            match = _Q.fullmatch(param)
            if match is None:
                weight = -1.0  # RFC 9110: an entry with a malformed weight is ignored
                break
            weight = float(match.group(1))
        if weight > 0:
            ranked.append((-weight, index, tag))
    ranked.sort()
    return [tag for _, _, tag in ranked]


def _match(tag: str, offered: Sequence[str]) -> str | None:
    """The offered language for ``tag``: itself or a shorter form of it (RFC 4647 lookup:
    ``fr-CA`` gets ``fr``), else one of the same primary language (``pt`` gets ``pt-BR``)."""
    for candidate in lookup_chain(tag):
        if candidate in offered:
            return candidate
    primary = tag.split("-", 1)[0]
    for language in offered:
        if language.split("-", 1)[0] == primary:
            return language
    return None


def negotiate(header: str | None, offered: Sequence[str], default: str) -> str:
    """The language of ``offered`` that ``Accept-Language: header`` wants most, else
    ``default``. ``*`` (any language) gets ``default``."""
    for wanted in parse_accept_language(header):
        if wanted == "*":
            return default
        found = _match(wanted, offered)
        if found is not None:
            return found
    return default


class Catalog:
    """consentware's words for one policy: the languages it offers and the words in each.

    Build it with :func:`catalog`; it is immutable and shared between requests.
    """

    __slots__ = ("_words", "default", "offered")

    def __init__(self, default: str, offered: Sequence[str], words: Mapping[str, Words]) -> None:
        #: The policy's ``default_language``: plain strings are in it, and it is the fallback.
        self.default = default
        #: The languages a visitor may get, the default first.
        self.offered = tuple(offered)
        self._words = words

    def words(self, language: str) -> Words:
        """The words of ``language`` (an offered one; else the default's)."""
        return self._words.get(language) or self._words[self.default]

    def match(self, tag: str | None) -> str | None:
        """The offered language for a tag the app or the visitor named, if any."""
        canonical = language_tag(tag) if tag else None
        return _match(canonical, self.offered) if canonical else None

    def choose(
        self,
        *,
        requested: str | None = None,
        app_language: str | None = None,
        accept_language: str | None = None,
    ) -> Choice:
        """The language to render in: ``requested`` (the page's ``?lang=``), then the app's
        own language (Django's active language, Flask-Babel's locale), then the visitor's
        ``Accept-Language`` (``""`` when the request has none; ``None``: not given, not
        asked), then the default.

        ``vary`` is true when ``Accept-Language`` took part, which it does whenever it is given,
        the policy offers more than one language and neither of the first two decided.
        """
        if len(self.offered) == 1:
            return Choice(self.default, False)
        for fixed in (requested, app_language):
            found = self.match(fixed)
            if found is not None:
                return Choice(found, False)
        if accept_language is None:
            return Choice(self.default, False)
        return Choice(negotiate(accept_language, self.offered, self.default), True)

    def text(self, value: str, language: str) -> tuple[str, str]:
        """A policy text in ``language``, and the language it is really in.

        A language table gives its text in ``language`` (or a shorter form); a plain string,
        or a table without ``language``, is translated when it is a phrase the words of
        ``language`` know (consentware's own policy texts, or a policy's ``phrases``); else it
        stays as written: in the table's own language, in English for consentware's own
        phrases, in the policy's default language otherwise.
        """
        if isinstance(value, Text):
            text, written_in = value.in_language(language)
            if written_in in lookup_chain(language):
                return text, language  # "fr" text on an "fr-CA" page
        else:
            text, written_in = value, ""
        if written_in != language:
            translated = self.words(language).phrases.get(text)
            if translated is not None:
                return translated, language
        if not written_in:
            written_in = "en" if text in _english()[1] else self.default
        return text, written_in

    def markup(self, value: str, language: str) -> Markup:
        """:meth:`text` as HTML: escaped, and in a ``<span lang>`` when it is in another
        language than ``language`` (WCAG 3.1.2, language of parts)."""
        text, written_in = self.text(value, language)
        if written_in == language or not text:
            return escape(text)
        return Markup('<span lang="{}">{}</span>').format(written_in, text)


@lru_cache(maxsize=64)
def catalog(policy: Policy) -> Catalog:
    """The :class:`Catalog` of ``policy``, its ``texts`` checked.

    Raises :class:`~consentware.PolicyError` naming the key: an unknown text, a text that is
    not a string or drops or adds a ``{placeholder}``, a language without every word (one
    consentware does not ship, in ``languages``, ``default_language`` or ``texts``).
    """
    settings = policy.languages
    shipped = shipped_words()
    fields, _ = _english()
    overrides: dict[str, dict[str, Any]] = {}
    for language, table in settings.texts.items():
        checked: dict[str, Any] = {}
        for key, value in _flatten(table, ""):
            path = f"texts.{language}.{key}"
            if key == PHRASES:
                checked[PHRASES] = _phrases(value, path)
                continue
            if key not in fields:
                raise PolicyError(
                    "unknown text; the keys are those of consentware/web/locales/en.toml "
                    f"({', '.join(sorted(fields))})",
                    path=path,
                )
            if not isinstance(value, str):
                raise PolicyError(f"expected a string, got {value!r:.80}", path=path)
            try:
                used = _fields(value)
            except ValueError as exc:
                raise PolicyError(f"not a text with {{placeholders}}: {exc}", path=path) from None
            if used != fields[key]:
                wanted = ", ".join(f"{{{name}}}" for name in sorted(fields[key])) or "none"
                raise PolicyError(f"the placeholders must be exactly: {wanted}", path=path)
            checked[key] = value
        overrides[language] = checked
    if settings.offered is not None:
        offered = list(settings.offered)
    else:
        offered = list(dict.fromkeys([settings.default, *shipped, *overrides]))
    words: dict[str, Words] = {}
    for index, language in enumerate(offered):
        messages: dict[str, str] = {}
        phrases: dict[str, str] = {}
        # Shortest form first, so fr-CA's own words win over fr's.
        for tag in reversed(lookup_chain(language)):
            if tag in shipped:
                messages.update(shipped[tag].messages)
                phrases.update(shipped[tag].phrases)
            extra = overrides.get(tag, {})
            phrases.update(extra.get(PHRASES, {}))
            messages.update((k, v) for k, v in extra.items() if k != PHRASES)
        missing = [key for key in fields if key not in messages]
        if missing:
            if language in overrides:
                path = f"texts.{language}.{missing[0]}"
            elif language == settings.default:
                path = "default_language"
            else:
                path = f"languages[{index}]"
            raise PolicyError(
                f"consentware has no words in {language!r} for {missing[0]}"
                + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
                + f": a language it does not ship needs every key of en.toml under "
                f"[texts.{language}] (it ships {', '.join(SHIPPED_LANGUAGES)})",
                path=path,
            )
        words[language] = Words(language, MappingProxyType(messages), MappingProxyType(phrases))
    if settings.default in offered:
        offered.remove(settings.default)
    return Catalog(settings.default, [settings.default, *offered], MappingProxyType(words))


def _phrases(value: Any, path: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise PolicyError(
            f"expected a table of source text = translation, got {value!r:.80}", path=path
        )
    for source, translation in value.items():
        if not isinstance(translation, str):
            raise PolicyError(
                f"expected a string, got {translation!r:.80}", path=f"{path}.{source}"
            )
    return dict(value)


def framework_texts(framework: str, purpose: str) -> tuple[Text, Text]:
    """The function and purpose of a framework's own cookie (``Flask: the session``), in every
    shipped language; ``purpose`` is one of the English phrases the integrations use."""
    functions: dict[str, str] = {}
    purposes: dict[str, str] = {}
    for language, words in shipped_words().items():
        said = words.phrases.get(purpose, purpose)
        functions[language] = words.format("framework.function", framework=framework, purpose=said)
        sentence = said[:1].upper() + said[1:]
        purposes[language] = words.format(
            "framework.purpose", framework=framework, purpose=sentence
        )
    return Text(functions, "en"), Text(purposes, "en")
