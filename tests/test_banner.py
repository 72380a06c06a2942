"""The banner: an accessible form that works without JavaScript, and its static assets."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

import consentware
from consentware import ConsentCookie, ConsentState, Policy, banner_html
from consentware.web.banner import assets
from tests.test_endpoint import FORM, KINDS, ORIGIN, call, consent_value, middleware


class Element:
    """One parsed start tag."""

    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], text_of: list[str]) -> None:
        self.tag = tag
        self.attrs = dict(attrs)
        self._text = text_of

    @property
    def text(self) -> str:
        return "".join(self._text).strip()


class Tree(HTMLParser):
    """A flat list of elements with their direct text, enough to check the banner's structure."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, attrs, [])
        self.elements.append(element)
        if tag not in ("input", "link", "br", "meta"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element._text.append(data)

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]


POLICY = Policy.default()
CODEC = ConsentCookie(POLICY)


def undecided() -> ConsentState:
    return CODEC.loads(None)


def decided(*granted: str) -> ConsentState:
    return CODEC.loads(CODEC.dumps(granted))


def test_banner_html_is_exported_and_returns_markup() -> None:
    assert "banner_html" in consentware.__all__
    assert isinstance(banner_html(undecided(), POLICY), Markup)


def test_banner_is_a_post_form_to_the_prefix() -> None:
    tree = Tree(banner_html(undecided(), POLICY, prefix="/privacy"))
    (form,) = tree.find("form")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == "/privacy"
    (section,) = tree.find("section")
    assert "data-consentware-banner" in section.attrs
    assert "hidden" not in section.attrs
    assert section.attrs["aria-labelledby"] == "consentware-title"
    assert tree.find("h2", id="consentware-title")


def test_accept_and_reject_have_the_same_prominence() -> None:
    tree = Tree(banner_html(undecided(), POLICY))
    buttons = {b.attrs["value"]: b for b in tree.find("button", name="action")}
    accept, reject = buttons["accept_all"], buttons["reject_all"]
    assert accept.text == "Accept all"
    assert reject.text == "Reject all"
    assert accept.tag == reject.tag == "button"
    assert accept.attrs["class"] == reject.attrs["class"]
    assert accept.attrs["type"] == reject.attrs["type"] == "submit"
    assert buttons["save"].text == "Save choices"


def test_every_category_has_a_labelled_checkbox() -> None:
    tree = Tree(banner_html(undecided(), POLICY))
    boxes = tree.find("input", type="checkbox")
    assert [b.attrs["value"] for b in boxes] == list(POLICY.categories)
    labels = {label.attrs["for"]: label.text for label in tree.find("label")}
    for box in boxes:
        assert box.attrs["name"] == "category"
        title = POLICY.categories[box.attrs["value"] or ""].title
        assert labels[box.attrs["id"] or ""].startswith(title)
        described = box.attrs.get("aria-describedby")
        if described:
            assert tree.find("p", id=described)


def test_undecided_visitor_gets_no_box_ticked_but_necessary() -> None:
    tree = Tree(banner_html(undecided(), POLICY))
    for box in tree.find("input", type="checkbox"):
        if box.attrs["value"] == "necessary":
            assert "checked" in box.attrs
            assert "disabled" in box.attrs
        else:
            assert "checked" not in box.attrs
            assert "disabled" not in box.attrs


def test_decided_visitor_sees_a_hidden_banner_with_their_choice() -> None:
    tree = Tree(banner_html(decided("statistical"), POLICY))
    (section,) = tree.find("section")
    assert "hidden" in section.attrs
    ticked = {b.attrs["value"] for b in tree.find("input", type="checkbox") if "checked" in b.attrs}
    assert ticked == {"necessary", "statistical"}
    (details,) = tree.find("details")
    assert "open" in details.attrs


def test_pending_categories_show_the_banner_again() -> None:
    old = Policy.from_dict({"categories": {"statistical": {}}})
    value = ConsentCookie(old).dumps(["statistical"])
    state = CODEC.loads(value)
    assert state.decided
    assert state.pending
    (section,) = Tree(banner_html(state, POLICY)).find("section")
    assert "hidden" not in section.attrs


def test_rendering_makes_the_response_vary_on_cookie() -> None:
    # The banner differs by consent (shown or hidden, boxes ticked), so a shared cache must
    # key the page on the Cookie header.
    enforcer = consentware.Enforcer(POLICY)
    exchange = enforcer.begin(None, None)
    assert not exchange.state_was_read
    banner_html(exchange.state, POLICY)
    assert exchange.state_was_read


def test_nonce_goes_on_the_link_and_the_script() -> None:
    tree = Tree(banner_html(undecided(), POLICY, nonce="r4nd0m"))
    (link,) = tree.find("link")
    (script,) = tree.find("script")
    assert link.attrs["nonce"] == "r4nd0m"
    assert script.attrs["nonce"] == "r4nd0m"
    assert "nonce" not in Tree(banner_html(undecided(), POLICY)).find("script")[0].attrs


def test_no_inline_script_and_no_external_resource() -> None:
    html = str(banner_html(undecided(), POLICY, prefix="/_consent", nonce="n"))
    tree = Tree(html)
    for script in tree.find("script"):
        assert script.attrs["src"]
        assert script.text == ""
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handler
    assert "style=" not in html
    for element in tree.elements:
        for attribute in ("src", "href", "action"):
            url = element.attrs.get(attribute)
            if url is not None:
                assert url.startswith("/_consent"), url


def test_next_url_is_a_hidden_field_and_escaped() -> None:
    tree = Tree(banner_html(undecided(), POLICY, next_url='/a?b=1&c="><script>'))
    (field,) = tree.find("input", type="hidden")
    assert field.attrs["name"] == "next"
    assert field.attrs["value"] == '/a?b=1&c="><script>'
    assert not tree.find("input", type="hidden", name="nonexistent")
    assert not Tree(banner_html(undecided(), POLICY)).find("input", type="hidden")


@given(
    title=st.text(min_size=1, max_size=40),
    description=st.text(max_size=40),
    nonce=st.text(max_size=20),
    next_url=st.text(max_size=40),
)
@settings(max_examples=150, deadline=None)
def test_any_text_is_escaped(title: str, description: str, nonce: str, next_url: str) -> None:
    policy = Policy.from_dict(
        {"categories": {"statistical": {"title": title, "description": description}}}
    )
    html = str(
        banner_html(
            ConsentCookie(policy).loads(None), policy, next_url=next_url, nonce=nonce or None
        )
    )
    tree = Tree(html)
    assert [e.tag for e in tree.find("script")] == ["script"]
    assert len(tree.find("form")) == 1
    (label,) = [lab for lab in tree.find("label") if lab.attrs["for"] == "consentware-statistical"]
    assert label.text == title.strip() or title.strip() == ""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("button", "ticked", "granted"),
    [
        pytest.param("accept_all", [], {"statistical", "first_party", "third_party"}, id="accept"),
        pytest.param("reject_all", ["statistical"], set(), id="reject"),
        pytest.param("save", ["statistical"], {"statistical"}, id="save"),
    ],
)
def test_submitting_the_banner_form_records_the_choice(
    kind: str, button: str, ticked: list[str], granted: set[str]
) -> None:
    """Submit the rendered form as a browser without JavaScript would."""
    tree = Tree(banner_html(undecided(), POLICY, next_url="/basket"))
    fields: list[tuple[str, Any]] = [
        (e.attrs["name"], e.attrs["value"]) for e in tree.find("input", type="hidden")
    ]
    for box in tree.find("input", type="checkbox"):
        value = box.attrs["value"]
        if "disabled" not in box.attrs and ("checked" in box.attrs or value in ticked):
            fields.append(("category", value))
    fields.append(("action", button))
    (form,) = tree.find("form")
    answer = call(
        kind,
        middleware(kind),
        "POST",
        form.attrs["action"] or "",
        headers=[("Content-Type", FORM), ("Origin", ORIGIN)],
        body=urlencode(fields).encode(),
    )
    assert answer.status == 303
    assert answer.header("location") == "/basket"
    assert CODEC.loads(consent_value(answer)).granted == granted | {"necessary"}


def test_assets_are_package_data() -> None:
    folder = resources.files("consentware.web").joinpath("static")
    for name in ("banner.js", "banner.css"):
        assert folder.joinpath(name).read_bytes() == assets()[name].body


def test_script_enhances_without_external_resources() -> None:
    script = assets()["banner.js"].body.decode()
    assert "data-consentware-settings" in script
    assert "fetch(" in script
    assert '"Content-Type": "application/json"' in script
    assert "consentware:change" in script
    # The buttons are named "action", which shadows form.action: read the attribute.
    assert "form.action" not in script
    for forbidden in ("http://", "https://", "eval(", "innerHTML", "document.write"):
        assert forbidden not in script
    css = assets()["banner.css"].body.decode()
    assert "url(" not in css
    assert "@import" not in css


def test_banner_names_the_classes_the_stylesheet_styles() -> None:
    html = str(banner_html(undecided(), POLICY))
    css = assets()["banner.css"].body.decode()
    for class_name in set(re.findall(r'class="([^"]+)"', html)):
        for name in class_name.split():
            assert f".{name}" in css, name
