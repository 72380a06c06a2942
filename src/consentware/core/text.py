"""Texts a visitor reads, in one language or in several: :class:`Text` and language tags.

A policy text (a category's title or description, a cookie's provider, function, purpose or
duration) is written as a string, in the policy's ``default_language``, or as a table of
languages::

    title = { en = "Statistics", fr = "Statistiques", de = "Statistik" }

A table is loaded as a :class:`Text`: a ``str`` whose value is the text in its default language
(so every reader that wants one string keeps working) and whose :meth:`Text.in_language` gives
the text in another. Which language a visitor gets is decided in :mod:`consentware.web.texts`.

Example::

    title = Text({"en": "Statistics", "fr": "Statistiques"}, "en")
    title == "Statistics"              # True
    title.in_language("fr-CA")         # ("Statistiques", "fr")
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from .errors import PolicyError

__all__ = ["DEFAULT_LANGUAGE", "LanguageSettings", "Text", "language_tag", "lookup_chain"]

#: The language of a policy that does not say (``default_language``).
DEFAULT_LANGUAGE: Final = "en"

# A subset of BCP 47 (RFC 5646) that covers what sites write: a 2-3 letter language, then
# subtags of 1-8 letters or digits (script, region, variant).
_TAG: Final = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,7}")


def language_tag(value: object) -> str | None:
    """``value`` as a canonical language tag (``pt-BR``, ``zh-Hant-TW``), or ``None``.

    The case is the one RFC 5646 recommends: language lowercase, script in title case, region
    uppercase. ``_`` is read as ``-`` (``pt_BR``, as gettext and Django write locales).
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    value = value.strip().replace("_", "-")
    if not _TAG.fullmatch(value):
        return None
    language, *rest = value.split("-")
    parts = [language.lower()]
    for index, subtag in enumerate(rest):
        if len(subtag) == 4 and subtag.isalpha() and index == 0:
            parts.append(subtag.title())
        elif (len(subtag) == 2 and subtag.isalpha()) or (len(subtag) == 3 and subtag.isdigit()):
            parts.append(subtag.upper())
        else:
            parts.append(subtag.lower())
    return "-".join(parts)


def lookup_chain(tag: str) -> list[str]:
    """``tag`` and its shorter forms, longest first (RFC 4647 lookup): ``zh-Hant-TW``,
    ``zh-Hant``, ``zh``."""
    parts = tag.split("-")
    return ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]


class Text(str):
    """A text in several languages. As a ``str`` it is the text in its :attr:`language`.

    ``translations`` maps canonical language tags to the text in that language, and always
    holds :attr:`language`. Two texts compare as their ``str`` values do.
    """

    translations: Mapping[str, str]
    language: str

    def __new__(cls, translations: Mapping[str, str], language: str) -> Text:
        if language not in translations:
            raise ValueError(f"no text in {language!r}, the text's own language")
        self = super().__new__(cls, translations[language])
        self.translations = MappingProxyType(dict(translations))
        self.language = language
        return self

    def in_language(self, tag: str) -> tuple[str, str]:
        """The text in ``tag`` or its nearest form (``fr`` for ``fr-CA``), and the language it
        is in; the text's own language when none matches."""
        translations = self.translations
        for candidate in lookup_chain(tag):
            found = translations.get(candidate)
            if found is not None:
                return found, candidate
        return str(self), self.language

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (dict(self.translations), self.language))

    def __repr__(self) -> str:
        return f"Text({dict(self.translations)!r}, {self.language!r})"


@dataclass(frozen=True, slots=True)
class LanguageSettings:
    """The policy's languages: what a plain string is written in, what may be offered, and
    the policy's own words for the banner and the page (``texts``, checked by
    :mod:`consentware.web.texts`).

    ``offered`` is ``None`` when the policy does not restrict it: every language consentware
    has words for is offered then.
    """

    default: str = DEFAULT_LANGUAGE
    offered: tuple[str, ...] | None = None
    texts: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))


def read_text(value: Any, path: str, default_language: str) -> str:
    """A policy text: a string (in ``default_language``) or a table of languages, which must
    hold ``default_language``. Raises :class:`PolicyError` naming ``path``."""
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise PolicyError(
            f"expected a string, got {value!r:.80} (or a table of languages, such as "
            '{ en = "Statistics", fr = "Statistiques" })',
            path=path,
        )
    translations: dict[str, str] = {}
    for key, text in value.items():
        tag = language_tag(key)
        if tag is None:
            raise PolicyError(
                "not a language tag (expected one like en, fr or pt-BR)", path=f"{path}.{key}"
            )
        if not isinstance(text, str):
            raise PolicyError(f"expected a string, got {text!r:.80}", path=f"{path}.{key}")
        if tag in translations:
            raise PolicyError(f"the language {tag!r} is given twice", path=f"{path}.{key}")
        translations[tag] = text
    if default_language not in translations:
        raise PolicyError(
            f"the table has no text in the default language {default_language!r} "
            f"(default_language); languages given: {', '.join(translations) or 'none'}",
            path=path,
        )
    return Text(translations, default_language)


def read_languages(data: Mapping[str, Any]) -> LanguageSettings:
    """The ``default_language``, ``languages`` and ``texts`` keys of a policy."""
    raw_default = data.get("default_language", DEFAULT_LANGUAGE)
    default = language_tag(raw_default)
    if default is None:
        raise PolicyError(
            f"not a language tag: {raw_default!r:.80} (expected one like en, fr or pt-BR)",
            path="default_language",
        )
    offered: tuple[str, ...] | None = None
    if "languages" in data:
        raw = data["languages"]
        if not isinstance(raw, list) or not raw:
            raise PolicyError(
                f"expected a non-empty list of language tags, got {raw!r:.80}", path="languages"
            )
        tags: list[str] = []
        for index, item in enumerate(raw):
            tag = language_tag(item)
            if tag is None:
                raise PolicyError(f"not a language tag: {item!r:.80}", path=f"languages[{index}]")
            if tag in tags:
                raise PolicyError(f"{tag!r} is listed twice", path=f"languages[{index}]")
            tags.append(tag)
        if default not in tags:
            raise PolicyError(
                f"must include the default language {default!r} (default_language)",
                path="languages",
            )
        offered = tuple(tags)
    texts: dict[str, Mapping[str, Any]] = {}
    raw_texts = data.get("texts", {})
    if not isinstance(raw_texts, Mapping):
        raise PolicyError(
            f"expected a table of languages, got {type(raw_texts).__name__}", path="texts"
        )
    for key, words in raw_texts.items():
        tag = language_tag(key)
        if tag is None:
            raise PolicyError("not a language tag", path=f"texts.{key}")
        if not isinstance(words, Mapping):
            raise PolicyError(
                f"expected a table of texts, got {type(words).__name__}", path=f"texts.{key}"
            )
        if tag in texts:
            raise PolicyError(f"the language {tag!r} is given twice", path=f"texts.{key}")
        texts[tag] = MappingProxyType(dict(words))
    return LanguageSettings(default, offered, MappingProxyType(texts))
