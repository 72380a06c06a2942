"""The parser of the safe ``re:`` subset, building the pattern's Glushkov automaton as it reads.

:mod:`consentware.core._regex` checks the automaton; this module only reads the syntax (see its
docstring for the subset) and refuses anything outside it with :class:`UnsafePatternError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

__all__ = ["MAX_POSITIONS", "Automaton", "CharClass", "Node", "Parser", "UnsafePatternError"]

#: The largest pattern accepted, in character positions (after analysis).
MAX_POSITIONS: Final = 200
_MAX_DEPTH: Final = 32
_ASCII_ALL: Final = (1 << 128) - 1
_META: Final = frozenset(".^$*+?{}[]\\|()")
_REPEAT: Final = re.compile(r"(\d{0,4})(,?)(\d{0,4})\}")


def _chars(text: str) -> int:
    mask = 0
    for char in text:
        mask |= 1 << ord(char)
    return mask


def _span(first: str, last: str) -> int:
    return ((1 << (ord(last) + 1)) - 1) ^ ((1 << ord(first)) - 1)


_DIGIT: Final = _span("0", "9")
_WORD: Final = _DIGIT | _span("a", "z") | _span("A", "Z") | _chars("_")
_SPACE: Final = _chars(" \t\n\r\f\v")
_NEWLINE: Final = _chars("\n")


@dataclass(frozen=True, slots=True)
class CharClass:
    """A set of characters: an exact ASCII part and whether it may hold non-ASCII ones."""

    ascii: int
    other: bool

    def meets(self, other: CharClass) -> bool:
        return bool(self.ascii & other.ascii) or (self.other and other.other)

    def inverted(self) -> CharClass:
        # The complement of any class may hold non-ASCII characters.
        return CharClass(_ASCII_ALL & ~self.ascii, True)

    def union(self, other: CharClass) -> CharClass:
        return CharClass(self.ascii | other.ascii, self.other or other.other)


_ESCAPES: Final = {
    "d": CharClass(_DIGIT, False),
    "w": CharClass(_WORD, False),
    "s": CharClass(_SPACE, False),
}


class UnsafePatternError(ValueError):
    """A ``re:`` pattern outside the safe subset, or one that can backtrack without bound."""


# -- the syntax tree ---------------------------------------------------------------------------


@dataclass(slots=True)
class Node:
    """A parsed expression with its Glushkov sets (positions are indexes into ``classes``)."""

    nullable: bool
    first: frozenset[int]
    last: frozenset[int]


@dataclass(slots=True)
class Automaton:
    classes: list[CharClass] = field(default_factory=list)
    follow: dict[int, set[int]] = field(default_factory=dict)

    def position(self, cls: CharClass) -> Node:
        index = len(self.classes)
        if index >= MAX_POSITIONS:
            raise UnsafePatternError(f"too long: over {MAX_POSITIONS} character positions")
        self.classes.append(cls)
        self.follow[index] = set()
        only = frozenset({index})
        return Node(False, only, only)

    def link(self, ends: frozenset[int], starts: frozenset[int]) -> None:
        """Add the transitions ``ends`` x ``starts``; one added twice means two parses."""
        for end in ends:
            targets = self.follow[end]
            if not targets.isdisjoint(starts):
                raise UnsafePatternError(
                    "a repeat inside a repeat over the same characters (as in (a+)+ or "
                    "(a+b?)+) lets a crafted name backtrack without bound: repeat once, "
                    "e.g. (ab?)+ or a+"
                )
            targets |= starts

    def concat(self, left: Node, right: Node) -> Node:
        self.link(left.last, right.first)
        return Node(
            left.nullable and right.nullable,
            left.first | right.first if left.nullable else left.first,
            left.last | right.last if right.nullable else right.last,
        )

    def repeat(self, body: Node, *, nullable: bool) -> Node:
        self.link(body.last, body.first)
        return Node(nullable, body.first, body.last)


_EMPTY: Final = Node(True, frozenset(), frozenset())


def _alternate(left: Node, right: Node) -> Node:
    return Node(left.nullable or right.nullable, left.first | right.first, left.last | right.last)


class Parser:
    """A recursive-descent parser of the safe subset, building the automaton as it goes."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.depth = 0
        self.automaton = Automaton()

    def fail(self, reason: str) -> UnsafePatternError:
        return UnsafePatternError(f"{reason} at offset {self.at}")

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def parse(self) -> Node:
        if self.peek() == "^":
            self.at += 1
        node = self.alternation()
        if self.peek() == "$" and self.at == len(self.text) - 1:
            self.at += 1
        if self.at != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")
        return node

    def alternation(self) -> Node:
        node = self.sequence()
        while self.peek() == "|":
            self.at += 1
            node = _alternate(node, self.sequence())
        return node

    def sequence(self) -> Node:
        node = _EMPTY
        while self.peek() not in ("", "|", ")") and not self._at_final_dollar():
            node = self.automaton.concat(node, self.repeated())
        return node

    def _at_final_dollar(self) -> bool:
        return self.peek() == "$" and self.at == len(self.text) - 1

    def repeated(self) -> Node:
        node = self.atom()
        if self.peek() not in ("*", "+", "?", "{"):
            return node
        low, high = self.quantifier()
        if self.peek() == "?":
            self.at += 1  # lazy: the same ways to match, tried in another order
        if self.peek() in ("*", "+", "?", "{"):
            raise self.fail("a quantifier after a quantifier")
        if high is not None and high <= 1:
            return Node(node.nullable or low == 0, node.first, node.last)
        if node.nullable:
            raise self.fail(
                "a repeated part that can match nothing, such as (a?)*: "
                "make the repeated part match at least one character"
            )
        # x{m,n} with n > 1 is analysed as x* or x+: it has no way of matching those lack.
        return self.automaton.repeat(node, nullable=low == 0)

    def quantifier(self) -> tuple[int, int | None]:
        """Consume one quantifier; return its bounds (``None``: unbounded)."""
        char = self.peek()
        self.at += 1
        if char == "*":
            return 0, None
        if char == "+":
            return 1, None
        if char == "?":
            return 0, 1
        found = _REPEAT.match(self.text, self.at)
        if found is None or (not found[1] and not found[3]):
            raise self.fail("write a repeat as {m}, {m,}, {,n} or {m,n}")
        self.at = found.end()
        low = int(found[1] or 0)
        if not found[2]:
            return low, low
        if not found[3]:
            return low, None
        high = int(found[3])
        if high < low:
            raise self.fail("a repeat {m,n} needs m <= n")
        return low, high

    def atom(self) -> Node:
        char = self.peek()
        if char == "(":
            return self.group()
        if char == "[":
            return self.automaton.position(self.char_class())
        if char == ".":
            self.at += 1
            return self.automaton.position(CharClass(_ASCII_ALL & ~_NEWLINE, True))
        if char == "\\":
            return self.automaton.position(self.escape(in_class=False))
        if char in _META or char == "":
            raise self.fail(f"unexpected {char!r} (escape it as \\{char})" if char else "missing")
        self.at += 1
        return self.automaton.position(_literal(char))

    def group(self) -> Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.fail(f"groups nested deeper than {_MAX_DEPTH}")
        try:
            return self._group()
        finally:
            self.depth -= 1

    def _group(self) -> Node:
        self.at += 1
        if self.text.startswith("?:", self.at):
            self.at += 2
        elif self.peek() == "?":
            raise self.fail("only (...) and (?:...) groups are allowed (no lookaround, flags)")
        node = self.alternation()
        if self.peek() != ")":
            raise self.fail("missing )")
        self.at += 1
        return node

    def escape(self, *, in_class: bool) -> CharClass:
        self.at += 1
        char = self.peek()
        if not char:
            raise self.fail("a pattern cannot end with \\")
        self.at += 1
        if char.lower() in _ESCAPES:
            cls = _ESCAPES[char.lower()]
            return cls.inverted() if char.isupper() else cls
        if char.isascii() and not char.isalnum():
            return _literal(char)
        where = "in a class" if in_class else "here"
        raise self.fail(f"\\{char} is not allowed {where}: use \\d \\w \\s, or escape punctuation")

    def char_class(self) -> CharClass:
        self.at += 1
        negated = self.peek() == "^"
        if negated:
            self.at += 1
        members = CharClass(0, False)
        count = 0
        while self.peek() != "]":
            if not self.peek():
                raise self.fail("missing ]")
            if self.peek() == "[":
                raise self.fail("escape [ inside a class as \\[")
            low = self.class_member()
            if self.peek() == "-" and self.text[self.at + 1 : self.at + 2] not in ("]", ""):
                self.at += 1
                high = self.class_member()
                members = members.union(_range(low, high, self))
            else:
                members = members.union(low)
            count += 1
        self.at += 1
        if count == 0:
            raise self.fail("an empty class")
        return members.inverted() if negated else members

    def class_member(self) -> CharClass:
        if self.peek() == "\\":
            return self.escape(in_class=True)
        char = self.peek()
        self.at += 1
        return _literal(char)


def _literal(char: str) -> CharClass:
    code = ord(char)
    return CharClass(1 << code, False) if code < 128 else CharClass(0, True)


def _range(low: CharClass, high: CharClass, parser: Parser) -> CharClass:
    if low.other or high.other:
        return CharClass(0, True)
    if low.ascii.bit_count() != 1 or high.ascii.bit_count() != 1:
        raise parser.fail("a range needs single characters at both ends")
    first, last = low.ascii.bit_length() - 1, high.ascii.bit_length() - 1
    if first > last:
        raise parser.fail("a range needs its low end first")
    return CharClass(_span(chr(first), chr(last)), False)


# -- the ambiguity check -----------------------------------------------------------------------
