"""Texts in the visitor's language: the banner and the policy page (HTML, JSON, Markdown) in each
shipped language, their ``lang`` attributes and ``Vary: Accept-Language``; language tables in the
policy and their load errors; ``Accept-Language`` negotiation (by cases and by hypothesis); the
app's own choice (Flask-Babel, Django's active language); a language added or overridden; and no
negotiation at all on a request that renders neither a banner nor a page.
"""

from __future__ import annotations

import pickle
import tomllib
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentware import ConsentCookie, Policy, PolicyError, banner_html
from consentware.core.presets import DEFAULT_POLICY
from consentware.core.text import Text, language_tag
from consentware.web import texts as texts_module
from consentware.web.pages import policy_document, policy_markdown, policy_page
from consentware.web.texts import (
    SHIPPED_LANGUAGES,
    catalog,
    negotiate,
    parse_accept_language,
    shipped_words,
)
from tests.test_banner import Tree
from tests.test_endpoint import KINDS, Answer, call, middleware

DEFAULT = Policy.default()


def undecided(policy: Policy = DEFAULT) -> Any:
    return ConsentCookie(policy).loads(None)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- each shipped language: its words on the banner and the page -------------------------------

# language, what its browsers send, accept, reject, choose, page title, back link, "Statistics"
LANGUAGES = [
    pytest.param(
        "en", "en-GB,en;q=0.9", "Accept all", "Reject all", "Choose cookies",
        "Cookie policy", "Back to the site", "Statistics", id="en",
    ),
    pytest.param(
        "fr", "fr-FR,fr;q=0.9,en;q=0.5", "Tout accepter", "Tout refuser", "Choisir les cookies",
        "Politique relative aux cookies", "Retour au site", "Statistiques", id="fr",
    ),
    pytest.param(
        "de", "de-CH", "Alle akzeptieren", "Alle ablehnen", "Cookies auswählen",
        "Cookie-Richtlinie", "Zurück zur Website", "Statistik", id="de",
    ),
    pytest.param(
        "es", "es-419,es;q=0.8", "Aceptar todas", "Rechazar todas", "Elegir cookies",
        "Política de cookies", "Volver al sitio", "Estadísticas", id="es",
    ),
    pytest.param(
        "it", "it-IT", "Accetta tutti", "Rifiuta tutti", "Scegli i cookie",
        "Informativa sui cookie", "Torna al sito", "Statistiche", id="it",
    ),
    pytest.param(
        "nl", "nl-BE,nl;q=0.9,fr;q=0.8", "Alles accepteren", "Alles weigeren", "Cookies kiezen",
        "Cookiebeleid", "Terug naar de site", "Statistieken", id="nl",
    ),
]  # fmt: skip
LANGUAGE_FIELDS = "language,header,accept,reject,choose,title,back,statistics"


def test_every_shipped_language_is_in_the_table() -> None:
    assert [p.id for p in LANGUAGES] == list(SHIPPED_LANGUAGES)


@pytest.mark.parametrize(LANGUAGE_FIELDS, LANGUAGES)
def test_banner_speaks_the_language(
    language: str,
    header: str,
    accept: str,
    reject: str,
    choose: str,
    title: str,
    back: str,
    statistics: str,
) -> None:
    tree = Tree(banner_html(undecided(), DEFAULT, accept_language=header))
    (section,) = tree.find("section")
    assert section.attrs["lang"] == language
    buttons = {b.attrs["value"]: b.text for b in tree.find("button", name="action")}
    assert buttons["accept_all"] == accept
    assert buttons["reject_all"] == reject
    (summary,) = tree.find("summary")
    assert summary.text == choose
    labels = [label.text for label in tree.find("label")]
    assert any(label.startswith(statistics) for label in labels)
    (close,) = tree.find("button", type="button")
    assert close.attrs["aria-label"] == shipped_words()[language]["banner.close"]
    (link,) = tree.find("a")
    assert link.attrs["href"] == f"/_consent/policy?lang={language}"
    # Policy.default() is translated whole: no text falls back to another language.
    assert not [span for span in tree.find("span") if "lang" in span.attrs]


@pytest.mark.parametrize(LANGUAGE_FIELDS, LANGUAGES)
def test_policy_page_speaks_the_language(
    kind: str,
    language: str,
    header: str,
    accept: str,
    reject: str,
    choose: str,
    title: str,
    back: str,
    statistics: str,
) -> None:
    answer = call(
        kind, middleware(kind), "GET", "/_consent/policy", headers=[("Accept-Language", header)]
    )
    assert answer.status == 200
    html = answer.body.decode()
    tree = Tree(html)
    (root,) = tree.find("html")
    assert root.attrs["lang"] == language
    (heading,) = tree.find("h1")
    assert heading.text == title
    assert [t.text for t in tree.find("title")] == [title]
    assert [a.text for a in tree.find("a", href="/")] == [back, back]
    assert tree.find("h2", id="category-statistical-title")[0].text == statistics
    assert tree.find("h2", id="cw-choices")
    (section,) = tree.find("section", id="consentware-banner")
    assert section.attrs["lang"] == language
    assert accept in html
    assert reject in html
    assert answer.header("content-language") == language
    assert_varies_on_language(answer)
    assert not [span for span in tree.find("span") if "lang" in span.attrs]


@pytest.mark.parametrize(LANGUAGE_FIELDS, LANGUAGES)
def test_policy_json_and_markdown_speak_the_language(
    kind: str,
    language: str,
    header: str,
    accept: str,
    reject: str,
    choose: str,
    title: str,
    back: str,
    statistics: str,
) -> None:
    wrapped = middleware(kind)
    accept_language = [("Accept-Language", header)]
    data = call(kind, wrapped, "GET", "/_consent/policy", query="format=json",
                headers=accept_language)  # fmt: skip
    document = data.json()
    assert document["language"] == language
    assert document["languages"] == list(SHIPPED_LANGUAGES)
    assert document == policy_document(DEFAULT, language)
    titles = {c["name"]: c["title"] for c in document["categories"]}
    assert titles["statistical"] == statistics
    assert data.header("content-language") == language
    assert_varies_on_language(data)
    markdown = call(kind, wrapped, "GET", "/_consent/policy", query="format=md",
                    headers=accept_language)  # fmt: skip
    text = markdown.body.decode()
    assert text.startswith(f"# {title}\n")
    assert f"## {statistics}\n" in text
    assert text == policy_markdown(DEFAULT, language)
    assert_varies_on_language(markdown)


def assert_varies_on_language(answer: Answer) -> None:
    vary = [item.strip().lower() for value in answer.all("vary") for item in value.split(",")]
    assert "accept-language" in vary, answer.all("vary")


def varies_on_language(answer: Answer) -> bool:
    vary = [item.strip().lower() for value in answer.all("vary") for item in value.split(",")]
    return "accept-language" in vary


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_lang_query_names_the_page_language_and_needs_no_vary(kind: str, language: str) -> None:
    for fmt in ("", "format=json&", "format=md&"):
        answer = call(
            kind,
            middleware(kind),
            "GET",
            "/_consent/policy",
            query=f"{fmt}lang={language}",
            headers=[("Accept-Language", "de" if language != "de" else "fr")],
        )
        assert answer.header("content-language") == language
        assert not varies_on_language(answer)


def test_policy_page_links_to_itself_in_every_language() -> None:
    tree = Tree(policy_page(DEFAULT, undecided(), language="it"))
    (nav,) = tree.find("nav", **{"aria-label": "Lingue"})
    assert nav
    links = {a.attrs["hreflang"]: a for a in tree.find("a") if "hreflang" in a.attrs}
    assert list(links) == list(SHIPPED_LANGUAGES)
    for language, link in links.items():
        assert link.attrs["lang"] == language
        assert link.attrs["href"] == f"/_consent/policy?lang={language}"
        assert link.text == shipped_words()[language]["language.name"]
    assert links["it"].attrs.get("aria-current") == "page"
    assert "aria-current" not in links["fr"].attrs
    assert tree.find("a", href="/_consent/policy?format=json&lang=it")


def test_a_policy_of_one_language_neither_negotiates_nor_varies(kind: str) -> None:
    policy = Policy.from_dict({"languages": ["en"]})
    wrapped = middleware(kind, policy=policy)
    answer = call(kind, wrapped, "GET", "/_consent/policy", headers=[("Accept-Language", "fr")])
    assert Tree(answer.body.decode()).find("html")[0].attrs["lang"] == "en"
    assert not varies_on_language(answer)
    assert answer.header("content-language") == "en"
    banner = Tree(banner_html(undecided(policy), policy, accept_language="fr"))
    assert banner.find("section")[0].attrs["lang"] == "en"
    assert banner.find("a")[0].attrs["href"] == "/_consent/policy"  # no ?lang= to choose from
    assert "hreflang" not in policy_page(policy, undecided(policy))


def test_no_accept_language_gets_the_default_language_and_varies(kind: str) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent/policy")
    assert answer.header("content-language") == "en"
    assert_varies_on_language(answer)  # another visitor's header would change it


# -- Vary: Accept-Language where the language changed the response -----------------------------


def banner_page_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A page whose template renders the banner in the visitor's language."""
    from consentware import get_consent

    environ["test.called"].append(True)
    body = str(
        banner_html(
            get_consent(environ),
            DEFAULT,
            accept_language=environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        )
    ).encode()
    start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
    return [body]


def test_a_rendered_banner_makes_the_page_vary_on_accept_language() -> None:
    answer = call("wsgi", middleware("wsgi", banner_page_wsgi),
                  headers=[("Accept-Language", "nl")])  # fmt: skip
    assert 'lang="nl"' in answer.body.decode()
    assert_varies_on_language(answer)
    vary = answer.header("vary") or ""
    assert "Cookie" in vary


def test_a_banner_rendered_without_the_header_is_in_the_default_language_and_does_not_vary() -> (
    None
):
    def page(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        from consentware import get_consent

        environ["test.called"].append(True)
        body = str(banner_html(get_consent(environ), DEFAULT)).encode()
        start_response("200 OK", [("Content-Type", "text/html")])
        return [body]

    answer = call("wsgi", middleware("wsgi", page), headers=[("Accept-Language", "nl")])
    assert 'lang="en"' in answer.body.decode()
    assert not varies_on_language(answer)
    assert "Cookie" in (answer.header("vary") or "")


def test_a_page_without_banner_does_not_vary_on_accept_language(kind: str) -> None:
    answer = call(kind, middleware(kind), headers=[("Accept-Language", "nl")])
    assert not varies_on_language(answer)


@pytest.mark.parametrize(
    ("header", "language"),
    [pytest.param("es-MX,es;q=0.9", "es", id="es"), pytest.param(None, "en", id="none")],
)
def test_an_injected_banner_speaks_the_language_and_varies(
    kind: str, header: str | None, language: str
) -> None:
    from tests.test_injection import page_app, wrap

    headers = [("Accept-Language", header)] if header else []
    answer = call(kind, wrap(kind, page_app(kind)), headers=headers)
    assert f'lang="{language}"'.encode() in answer.body
    assert_varies_on_language(answer)
    assert len(answer.all("vary")) == 1
    assert "Cookie" in (answer.header("vary") or "")
    assert answer.header("content-length") == str(len(answer.body))


def test_negotiation_runs_only_when_a_banner_or_a_page_is_rendered(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The middlewares' per-request cost is what it was: no Accept-Language is read, parsed or
    matched for a response that carries consentware's texts nowhere."""
    calls: list[str] = []
    original = texts_module.parse_accept_language

    def counted(header: str | None) -> list[str]:
        calls.append(header or "")
        return original(header)

    monkeypatch.setattr(texts_module, "parse_accept_language", counted)
    cookie = ("Cookie", f"cookies_preferences={ConsentCookie(DEFAULT).dumps([])}; _ga=1")
    for app_kind in (kind,):
        wrapped = middleware(app_kind, inject_banner=True)
        call(app_kind, wrapped, headers=[("Accept-Language", "fr"), cookie])
        call(app_kind, wrapped, "GET", "/_consent", headers=[("Accept-Language", "fr")])
    assert calls == []
    call(kind, middleware(kind), "GET", "/_consent/policy", headers=[("Accept-Language", "fr")])
    assert calls == ["fr"]


# -- negotiation --------------------------------------------------------------------------------

NEGOTIATION = [
    pytest.param("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7", "fr", id="region-then-language"),
    pytest.param("de-CH, fr;q=0.5", "de", id="region-only-beats-a-lower-exact-match"),
    pytest.param("en-US,en;q=0.9", "en", id="chrome-english"),
    pytest.param("EN-us", "en", id="case"),
    pytest.param("pt-BR, nl;q=0.1", "nl", id="unshipped-then-shipped"),
    pytest.param("es;q=0, fr", "fr", id="refused"),
    pytest.param("it;q=0.5, nl;q=0.5", "it", id="tie-keeps-order"),
    pytest.param("nl;q=0.2, it;q=0.9", "it", id="weights"),
    pytest.param("fr;q=abc, de", "de", id="bad-weight-ignored"),
    pytest.param("fr;q=1.5, es", "es", id="weight-over-one-ignored"),
    pytest.param("*", "en", id="any"),
    pytest.param("ja, *;q=0.5", "en", id="any-after-unknown"),
    pytest.param("", "en", id="empty"),
    pytest.param(None, "en", id="absent"),
    pytest.param(";;,,=,q=1", "en", id="garbage"),
    pytest.param("zh-Hant-TW, it", "it", id="script-and-region"),
    pytest.param("nl_BE", "nl", id="underscore"),
]


@pytest.mark.parametrize(("header", "expected"), NEGOTIATION)
def test_negotiation(header: str | None, expected: str) -> None:
    assert negotiate(header, SHIPPED_LANGUAGES, "en") == expected


@pytest.mark.parametrize(
    ("offered", "header", "expected"),
    [
        pytest.param(("en", "pt-BR"), "pt-PT, en;q=0.5", "pt-BR", id="same-primary-language"),
        pytest.param(("en", "fr", "fr-CA"), "fr-CA", "fr-CA", id="exact-region"),
        pytest.param(("en", "fr", "fr-CA"), "fr-BE", "fr", id="truncated-region"),
        pytest.param(("de", "en"), "fr", "de", id="default-not-first-in-list"),
    ],
)
def test_negotiation_among_declared_languages(
    offered: tuple[str, ...], header: str, expected: str
) -> None:
    assert negotiate(header, offered, offered[0]) == expected


LANGUAGE_RANGE = st.one_of(
    st.sampled_from([*SHIPPED_LANGUAGES, "*", "pt-BR", "zh-Hant", "en-US", "x", "EN_gb"]),
    st.text(min_size=0, max_size=12),
)
WEIGHT = st.one_of(
    st.none(),
    st.sampled_from(["q=0", "q=1", "q=0.5", "Q = 0.75", "q=", "q=2", "q=-1", "q=0.0001", "x=1"]),
    st.text(max_size=8),
)
HEADER = st.one_of(
    st.text(max_size=200),
    st.lists(st.tuples(LANGUAGE_RANGE, WEIGHT), max_size=12).map(
        lambda items: ", ".join(tag if w is None else f"{tag};{w}" for tag, w in items)
    ),
)
OFFERED = st.lists(
    st.sampled_from([*SHIPPED_LANGUAGES, "pt-BR", "fr-CA", "zh-Hant"]), min_size=1, unique=True
)


@settings(max_examples=500, deadline=None)
@given(header=HEADER, offered=OFFERED)
def test_negotiation_never_raises_and_picks_an_offered_language(
    header: str, offered: list[str]
) -> None:
    ranges = parse_accept_language(header)
    assert all(r == "*" or language_tag(r) == r for r in ranges)
    assert negotiate(header, offered, offered[0]) in offered


@settings(max_examples=200, deadline=None)
@given(header=HEADER)
def test_catalog_choice_is_always_a_shipped_or_declared_language(header: str) -> None:
    declared = catalog(ADDED)
    choice = declared.choose(accept_language=header)
    assert choice.language in declared.offered
    assert choice.vary
    assert catalog(DEFAULT).choose(accept_language=header).language in SHIPPED_LANGUAGES


# -- texts as a string or a language table ------------------------------------------------------

TABLES = Policy.from_dict(
    {
        "default_language": "en",
        "categories": {
            "statistical": {
                "title": {"en": "Audience", "fr": "Audience", "de": "Reichweite"},
                "description": "Counts visits.",  # a plain string: English, not translated
            }
        },
        "cookies": [
            {
                "name": "_a",
                "category": "statistical",
                "provider": {"en": "Us", "de": "Wir"},
                "purpose": {"en": "Counts visits.", "fr": "Compte les visites."},
                "duration": "1 year",  # a phrase consentware translates
            }
        ],
    }
)


def test_a_language_table_is_a_text_and_still_a_string() -> None:
    title = TABLES.categories["statistical"].title
    assert isinstance(title, Text)
    assert title == "Audience"
    assert title.in_language("de-AT") == ("Reichweite", "de")
    assert title.in_language("es") == ("Audience", "en")
    assert pickle.loads(pickle.dumps(title)).translations == title.translations
    assert "Reichweite" in repr(title)


def test_what_is_not_translated_is_marked_with_its_language() -> None:
    html = banner_html(undecided(TABLES), TABLES, accept_language="fr")
    assert "Audience" in html
    # The description exists in English only: marked so a screen reader reads it as English.
    assert '<span lang="en">Counts visits.</span>' in html
    page = policy_page(TABLES, undecided(TABLES), language="de")
    assert "Wir" in page
    assert '<span lang="en">Counts visits.</span>' in page
    assert "1 Jahr" in page
    document = policy_document(TABLES, "fr")
    (row,) = document["categories"][1]["cookies"]
    assert row["provider"] == "Us"
    assert row["purposes"] == [{"purpose": "Compte les visites.", "duration": "1 an"}]


def test_a_policy_in_another_default_language() -> None:
    policy = Policy.from_dict(
        {
            "default_language": "de",
            "categories": {"statistical": {"title": "Statistik", "description": "Zählt."}},
        }
    )
    html = banner_html(undecided(policy), policy, accept_language="it")
    assert 'lang="it"' in html
    assert '<span lang="de">Zählt.</span>' in html
    assert "Necessari" in html  # consentware's own category, translated
    assert catalog(policy).offered[0] == "de"
    assert catalog(policy).choose(accept_language="ja").language == "de"


POLICY_ERRORS = [
    pytest.param(
        {"categories": {"s": {"title": {"fr": "Statistiques"}}}},
        "categories.s.title: the table has no text in the default language 'en'",
        id="table-without-default",
    ),
    pytest.param(
        {"default_language": "fr", "categories": {"s": {"title": {"en": "Statistics"}}}},
        "categories.s.title: the table has no text in the default language 'fr'",
        id="table-without-other-default",
    ),
    pytest.param(
        {"categories": {"s": {"title": {"en": "S", "français": "S"}}}},
        "categories.s.title.français: not a language tag",
        id="bad-tag",
    ),
    pytest.param(
        {"categories": {"s": {"title": {"en": "S", "fr": 3}}}},
        "categories.s.title.fr: expected a string",
        id="not-a-string",
    ),
    pytest.param(
        {"categories": {"s": {"title": {"en": "S", "fr": "S", "FR": "T"}}}},
        "categories.s.title.FR: the language 'fr' is given twice",
        id="twice",
    ),
    pytest.param(
        {"cookies": [{"name": "a", "category": "necessary", "purpose": {"de": "Zweck"}}]},
        "cookies[0].purpose: the table has no text in the default language 'en'",
        id="cookie-purpose",
    ),
    pytest.param(
        {"cookies": [{"name": "a", "category": "necessary", "duration": ["1 year"]}]},
        "cookies[0].duration: expected a string",
        id="cookie-duration-list",
    ),
    pytest.param(
        {"default_language": "english"}, "default_language: not a language tag", id="default"
    ),
    pytest.param({"languages": "fr"}, "languages: expected a non-empty list", id="languages"),
    pytest.param({"languages": ["fr"]}, "languages: must include the default", id="no-default"),
    pytest.param({"languages": ["en", "EN"]}, "languages[1]: 'en' is listed twice", id="dup"),
    pytest.param({"languages": ["en", "f r"]}, "languages[1]: not a language tag", id="tag"),
    pytest.param({"texts": {"fr": "Tout"}}, "texts.fr: expected a table", id="texts-table"),
    pytest.param({"texts": {"??": {}}}, "texts.??: not a language tag", id="texts-tag"),
]


@pytest.mark.parametrize(("data", "message"), POLICY_ERRORS)
def test_policy_load_errors_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as info:
        Policy.from_dict(data)
    assert str(info.value).startswith(message), str(info.value)


TEXT_ERRORS = [
    pytest.param(
        {"texts": {"fr": {"banner": {"acept_all": "Oui"}}}},
        "texts.fr.banner.acept_all: unknown text",
        id="unknown-key",
    ),
    pytest.param(
        {"texts": {"fr": {"banner": {"accept_all": 1}}}},
        "texts.fr.banner.accept_all: expected a string",
        id="not-a-string",
    ),
    pytest.param(
        {"texts": {"fr": {"page": {"intro": "Gardé longtemps."}}}},
        "texts.fr.page.intro: the placeholders must be exactly: {days}",
        id="placeholder-dropped",
    ),
    pytest.param(
        {"texts": {"fr": {"banner": {"title": "Cookies {site}"}}}},
        "texts.fr.banner.title: the placeholders must be exactly: none",
        id="placeholder-added",
    ),
    pytest.param(
        {"texts": {"fr": {"page": {"intro": "{days.real} jours"}}}},
        "texts.fr.page.intro: the placeholders must be exactly",
        id="placeholder-attribute",
    ),
    pytest.param(
        {"texts": {"fr": {"banner": {"title": "Cookies {"}}}},
        "texts.fr.banner.title: not a text with {placeholders}",
        id="brace",
    ),
    pytest.param(
        {"texts": {"pt": {"banner": {"title": "Cookies neste site"}}}},
        "texts.pt.language.name: consentware has no words in 'pt' for language.name and",
        id="added-language-incomplete",
    ),
    pytest.param(
        {"languages": ["en", "pt"]},
        "languages[1]: consentware has no words in 'pt'",
        id="offered-without-words",
    ),
    pytest.param(
        {"default_language": "pt"},
        "default_language: consentware has no words in 'pt'",
        id="default-without-words",
    ),
    pytest.param(
        {"texts": {"fr": {"phrases": {"Statistics": 3}}}},
        "texts.fr.phrases.Statistics: expected a string",
        id="phrase-not-a-string",
    ),
]


@pytest.mark.parametrize(("data", "message"), TEXT_ERRORS)
def test_texts_errors_name_the_key_when_the_middleware_starts(
    kind: str, data: dict[str, Any], message: str
) -> None:
    policy = Policy.from_dict(data)
    with pytest.raises(PolicyError) as info:
        middleware(kind, policy=policy)
    assert str(info.value).startswith(message), str(info.value)


# -- adding or overriding a language ------------------------------------------------------------


def portuguese() -> dict[str, Any]:
    """Every key of en.toml, in Portuguese (for the test, a marker is enough)."""
    english = tomllib.loads(
        resources.files("consentware.web").joinpath("locales/en.toml").read_text("utf-8")
    )
    english.pop("phrases")
    words = {
        table: {key: f"PT {value}" for key, value in entries.items()}
        for table, entries in english.items()
    }
    words["language"]["name"] = "Português"
    words["phrases"] = {"Statistics": "Estatísticas"}
    return words


ADDED = Policy.from_dict(
    {
        **DEFAULT_POLICY,
        "texts": {"pt-BR": portuguese(), "fr": {"banner": {"accept_all": "J'accepte tout"}}},
    }
)


def test_a_site_adds_a_language() -> None:
    offered = catalog(ADDED).offered
    assert offered == (*SHIPPED_LANGUAGES, "pt-BR")
    html = banner_html(undecided(ADDED), ADDED, accept_language="pt-PT,pt;q=0.9")
    tree = Tree(html)
    assert tree.find("section")[0].attrs["lang"] == "pt-BR"
    assert "PT Accept all" in html
    assert "Estatísticas" in html  # the site's own phrase
    # consentware ships no Portuguese for the rest of its policy: English, and marked so.
    assert '<span lang="en">Necessary</span>' in html
    page = policy_page(ADDED, undecided(ADDED), language="pt-BR")
    assert 'hreflang="pt-BR"' in page
    assert "Português" in page


def test_a_site_overrides_one_word_of_a_shipped_language() -> None:
    html = banner_html(undecided(ADDED), ADDED, accept_language="fr")
    assert "J&#39;accepte tout" in html
    assert "Tout refuser" in html  # the other words stay consentware's


def test_languages_restricts_what_is_offered() -> None:
    policy = Policy.from_dict({"languages": ["en", "de"]})
    assert catalog(policy).offered == ("en", "de")
    assert catalog(policy).choose(accept_language="fr, de;q=0.5").language == "de"
    assert catalog(policy).choose(accept_language="fr").language == "en"


# -- consentware's own words, in every language -------------------------------------------------


def test_every_language_has_every_key_and_placeholder_of_english() -> None:
    words = shipped_words()
    english = words["en"]
    for language in SHIPPED_LANGUAGES:
        mine = words[language]
        assert set(mine.messages) == set(english.messages), language
        for key, text in english.messages.items():
            assert texts_module._fields(mine[key]) == texts_module._fields(text), (language, key)
            assert mine[key], (language, key)
            assert mine[key].strip() == mine[key], (language, key)
        assert set(mine.phrases) == set(english.phrases), language


def test_every_text_of_the_default_policy_is_a_translated_phrase() -> None:
    texts = catalog(DEFAULT)
    values = [c.title for c in DEFAULT.categories.values()]
    values += [c.description for c in DEFAULT.categories.values()]
    for rule in DEFAULT.rules:
        values += [rule.provider, rule.function, rule.purpose, rule.duration]
    for language in SHIPPED_LANGUAGES:
        for value in filter(None, values):
            assert texts.text(value, language)[1] == language, (language, value)


def test_accept_and_reject_weigh_the_same_in_every_language() -> None:
    for language, words in shipped_words().items():
        accept, reject = words["banner.accept_all"], words["banner.reject_all"]
        # Two words of the same build: neither hedged nor longer than the other by much.
        assert len(accept.split()) == len(reject.split()), language
        assert abs(len(accept) - len(reject)) <= 4, language


def test_framework_cookies_are_declared_in_every_language() -> None:
    from consentware._request import with_framework_cookies

    policy = with_framework_cookies(Policy.from_dict({}), "Flask", {"session": "the session"})
    page = policy_page(policy, undecided(policy), language="fr")
    assert "Flask\u00a0: la session" in page
    assert "La session (Flask)." in page
    assert policy.match("session") is not None
    assert policy.match("session").function == "Flask: the session"  # type: ignore[union-attr]


# -- the app's own choice: Flask-Babel, Django -------------------------------------------------


def test_flask_babel_locale_chooses_the_banner_language() -> None:
    flask = pytest.importorskip("flask")
    flask_babel = pytest.importorskip("flask_babel")
    from consentware.flask import Consentware

    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="s", CONSENTWARE_POLICY=None)
    flask_babel.Babel(app, locale_selector=lambda: "de_AT")
    Consentware(app, secret_key=None)

    @app.get("/")
    def page() -> str:
        return flask.render_template_string("{{ consent_banner() }}")

    response = app.test_client().get("/", headers={"Accept-Language": "fr"})
    assert 'lang="de"' in response.text
    assert "Alle ablehnen" in response.text
    # The app chose: the banner does not vary on the header (the app's own Vary is its own).
    assert "accept-language" not in response.headers.get("Vary", "").lower()
    assert "Cookie" in response.headers.get("Vary", "")


def test_flask_without_babel_follows_accept_language() -> None:
    flask = pytest.importorskip("flask")
    from consentware.flask import Consentware

    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="s")
    Consentware(app, secret_key=None)

    @app.get("/")
    def page() -> str:
        return flask.render_template_string("{{ consent_banner() }}")

    @app.get("/fixed")
    def fixed() -> str:
        return flask.render_template_string("{{ consent_banner(language='it') }}")

    client = app.test_client()
    response = client.get("/", headers={"Accept-Language": "es"})
    assert 'lang="es"' in response.text
    assert "Accept-Language" in response.headers["Vary"]
    fixed_page = client.get("/fixed", headers={"Accept-Language": "es"})
    assert 'lang="it"' in fixed_page.text
    assert "Accept-Language" not in fixed_page.headers["Vary"]


def test_starlette_templates_follow_accept_language() -> None:
    pytest.importorskip("starlette")
    import jinja2
    from starlette.applications import Starlette
    from starlette.routing import Route
    from starlette.templating import Jinja2Templates
    from starlette.testclient import TestClient

    from consentware.starlette import ConsentMiddleware, install_templates

    templates = install_templates(
        Jinja2Templates(
            env=jinja2.Environment(loader=jinja2.DictLoader({"t": "{{ consent_banner() }}"}))
        )
    )

    def page(request: Any) -> Any:
        return templates.TemplateResponse(request, "t")

    app = Starlette(routes=[Route("/", page)])
    app.add_middleware(ConsentMiddleware, secret_key=None)
    response = TestClient(app).get("/", headers={"Accept-Language": "nl-NL"})
    assert 'lang="nl"' in response.text
    assert "Alles weigeren" in response.text
    assert "Accept-Language" in response.headers["Vary"]


# Django: a URLconf of this module, with and without LocaleMiddleware.


def django_banner(request: Any) -> Any:
    from django.http import HttpResponse
    from django.template import engines

    template = engines["django"].from_string("{{ consent_banner }}")
    return HttpResponse(template.render({}, request))


urlpatterns: list[Any] = []


@pytest.fixture
def django_site() -> Iterator[Any]:
    pytest.importorskip("django")
    from django.test import override_settings
    from django.urls import path

    from tests.test_django import OVERRIDES, configure_django

    configure_django()
    urlpatterns[:] = [path("banner", django_banner)]
    with override_settings(**{**OVERRIDES, "ROOT_URLCONF": __name__}):
        yield override_settings


@pytest.mark.parametrize(
    ("locale_middleware", "header", "expected", "vary"),
    [
        pytest.param(True, "it", "it", True, id="locale-middleware"),
        pytest.param(False, "it", "en", False, id="language-code"),
    ],
)
def test_django_active_language_chooses_the_banner_language(
    django_site: Any, locale_middleware: bool, header: str, expected: str, vary: bool
) -> None:
    from django.conf import settings
    from django.test import Client

    middleware_list = list(settings.MIDDLEWARE)
    if locale_middleware:
        at = middleware_list.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
        middleware_list.insert(at, "django.middleware.locale.LocaleMiddleware")
    with django_site(MIDDLEWARE=middleware_list, USE_I18N=True, LANGUAGE_CODE="en-us"):
        response = Client().get("/banner", HTTP_ACCEPT_LANGUAGE=header)
        assert f'lang="{expected}"' in response.content.decode()
        # LocaleMiddleware varies on Accept-Language itself; without it, nothing does.
        assert ("Accept-Language" in response.get("Vary", "")) is vary
        page = Client().get("/_consent/policy", HTTP_ACCEPT_LANGUAGE=header)
        assert page["Content-Language"] == expected
