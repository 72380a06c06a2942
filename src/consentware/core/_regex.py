"""``re:`` rules that no request can drive into catastrophic backtracking, checked at load time.

A ``re:`` rule runs on cookie names the visitor sends, so its pattern meets input an attacker
chooses. Python's ``re`` backtracks: ``(a+)+b`` takes exponential time and ``\\w*\\w*\\w*x``
cubic time on a name of ``a``\\ s that ends in the wrong letter. Bounding the name length
tames neither, so the pattern itself is checked when the policy loads:

1. it must use a small, documented subset of Python's syntax (literals, ``.``, ``\\d \\w \\s``
   and their negations, escaped punctuation, character classes, groups, ``|``, the
   quantifiers ``? * + {m} {m,} {m,n}``, ``^`` and ``$`` at the ends), matched in ASCII mode
   as cookie names are ASCII tokens;
2. its Glushkov automaton (one state per character position) must be *finitely ambiguous*:
   in the product of the automaton with itself, no cycle may pass through a pair of distinct
   positions. Then two ways of matching the same name that part can never both loop, so the
   number of ways to match any prefix is bounded by a constant, and backtracking is linear in
   the name. ``{m,n}`` is analysed as ``+`` or ``*``, which can only add ways to match.

A pattern that fails either test is a load error that names the rule and says how to write
it instead. Example::

    check_pattern("_pk_(id|ses)\\\\..*")      # fine
    check_pattern("(_ga|_gid)+x")            # fine: the branches never compete
    check_pattern("(a+)+b")                  # UnsafePatternError: nested ways to match
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

__all__ = ["MAX_POSITIONS", "UnsafePatternError", "check_pattern", "compile_rule_regex"]

#: The largest pattern accepted, in character positions (after analysis).
MAX_POSITIONS: Final = 200
_MAX_DEPTH: Final = 32
_ASCII_ALL: Final = (1 << 128) - 1
_META: Final = frozenset(".^$*+?{}[]\\|()")
# Pairs of transitions the load-time check may examine: a few hundred milliseconds at most.
_PRODUCT_BUDGET: Final = 400_000
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
class _Class:
    """A set of characters: an exact ASCII part and whether it may hold non-ASCII ones."""

    ascii: int
    other: bool

    def meets(self, other: _Class) -> bool:
        return bool(self.ascii & other.ascii) or (self.other and other.other)

    def inverted(self) -> _Class:
        # The complement of any class may hold non-ASCII characters.
        return _Class(_ASCII_ALL & ~self.ascii, True)

    def union(self, other: _Class) -> _Class:
        return _Class(self.ascii | other.ascii, self.other or other.other)


_ESCAPES: Final = {
    "d": _Class(_DIGIT, False),
    "w": _Class(_WORD, False),
    "s": _Class(_SPACE, False),
}


class UnsafePatternError(ValueError):
    """A ``re:`` pattern outside the safe subset, or one that can backtrack without bound."""


# -- the syntax tree ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    """A parsed expression with its Glushkov sets (positions are indexes into ``classes``)."""

    nullable: bool
    first: frozenset[int]
    last: frozenset[int]


@dataclass(slots=True)
class _Automaton:
    classes: list[_Class] = field(default_factory=list)
    follow: dict[int, set[int]] = field(default_factory=dict)

    def position(self, cls: _Class) -> _Node:
        index = len(self.classes)
        if index >= MAX_POSITIONS:
            raise UnsafePatternError(f"too long: over {MAX_POSITIONS} character positions")
        self.classes.append(cls)
        self.follow[index] = set()
        only = frozenset({index})
        return _Node(False, only, only)

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

    def concat(self, left: _Node, right: _Node) -> _Node:
        self.link(left.last, right.first)
        return _Node(
            left.nullable and right.nullable,
            left.first | right.first if left.nullable else left.first,
            left.last | right.last if right.nullable else right.last,
        )

    def repeat(self, body: _Node, *, nullable: bool) -> _Node:
        self.link(body.last, body.first)
        return _Node(nullable, body.first, body.last)


_EMPTY: Final = _Node(True, frozenset(), frozenset())


def _alternate(left: _Node, right: _Node) -> _Node:
    return _Node(left.nullable or right.nullable, left.first | right.first, left.last | right.last)


class _Parser:
    """A recursive-descent parser of the safe subset, building the automaton as it goes."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.depth = 0
        self.automaton = _Automaton()

    def fail(self, reason: str) -> UnsafePatternError:
        return UnsafePatternError(f"{reason} at offset {self.at}")

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def parse(self) -> _Node:
        if self.peek() == "^":
            self.at += 1
        node = self.alternation()
        if self.peek() == "$" and self.at == len(self.text) - 1:
            self.at += 1
        if self.at != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")
        return node

    def alternation(self) -> _Node:
        node = self.sequence()
        while self.peek() == "|":
            self.at += 1
            node = _alternate(node, self.sequence())
        return node

    def sequence(self) -> _Node:
        node = _EMPTY
        while self.peek() not in ("", "|", ")") and not self._at_final_dollar():
            node = self.automaton.concat(node, self.repeated())
        return node

    def _at_final_dollar(self) -> bool:
        return self.peek() == "$" and self.at == len(self.text) - 1

    def repeated(self) -> _Node:
        node = self.atom()
        if self.peek() not in ("*", "+", "?", "{"):
            return node
        low, high = self.quantifier()
        if self.peek() == "?":
            self.at += 1  # lazy: the same ways to match, tried in another order
        if self.peek() in ("*", "+", "?", "{"):
            raise self.fail("a quantifier after a quantifier")
        if high is not None and high <= 1:
            return _Node(node.nullable or low == 0, node.first, node.last)
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

    def atom(self) -> _Node:
        char = self.peek()
        if char == "(":
            return self.group()
        if char == "[":
            return self.automaton.position(self.char_class())
        if char == ".":
            self.at += 1
            return self.automaton.position(_Class(_ASCII_ALL & ~_NEWLINE, True))
        if char == "\\":
            return self.automaton.position(self.escape(in_class=False))
        if char in _META or char == "":
            raise self.fail(f"unexpected {char!r} (escape it as \\{char})" if char else "missing")
        self.at += 1
        return self.automaton.position(_literal(char))

    def group(self) -> _Node:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.fail(f"groups nested deeper than {_MAX_DEPTH}")
        try:
            return self._group()
        finally:
            self.depth -= 1

    def _group(self) -> _Node:
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

    def escape(self, *, in_class: bool) -> _Class:
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

    def char_class(self) -> _Class:
        self.at += 1
        negated = self.peek() == "^"
        if negated:
            self.at += 1
        members = _Class(0, False)
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

    def class_member(self) -> _Class:
        if self.peek() == "\\":
            return self.escape(in_class=True)
        char = self.peek()
        self.at += 1
        return _literal(char)


def _literal(char: str) -> _Class:
    code = ord(char)
    return _Class(1 << code, False) if code < 128 else _Class(0, True)


def _range(low: _Class, high: _Class, parser: _Parser) -> _Class:
    if low.other or high.other:
        return _Class(0, True)
    if low.ascii.bit_count() != 1 or high.ascii.bit_count() != 1:
        raise parser.fail("a range needs single characters at both ends")
    first, last = low.ascii.bit_length() - 1, high.ascii.bit_length() - 1
    if first > last:
        raise parser.fail("a range needs its low end first")
    return _Class(_span(chr(first), chr(last)), False)


# -- the ambiguity check -----------------------------------------------------------------------


def _finitely_ambiguous(automaton: _Automaton, first: frozenset[int]) -> bool:
    """No cycle of the automaton's self-product passes through a pair of distinct states."""
    classes = automaton.classes
    follow: dict[int, frozenset[int] | set[int]] = {-1: first, **automaton.follow}
    start = (-1, -1)  # the automaton's initial state, paired with itself
    graph: dict[tuple[int, int], list[tuple[int, int]]] = {}
    pending = [start]
    budget = _PRODUCT_BUDGET
    while pending:
        pair = pending.pop()
        if pair in graph:
            continue
        left, right = pair
        budget -= len(follow[left]) * len(follow[right])
        if budget < 0:
            raise UnsafePatternError(
                "too many optional parts to check: simplify the pattern or use prefix rules"
            )
        targets = [
            (a, b)
            for a in follow[left]
            for b in follow[right]
            if a == b or classes[a].meets(classes[b])
        ]
        graph[pair] = targets
        pending.extend(t for t in targets if t not in graph)
    for component in _strongly_connected(graph):
        cyclic = len(component) > 1 or component[0] in graph[component[0]]
        if cyclic and any(a != b for a, b in component):
            return False
    return True


def _strongly_connected(
    graph: dict[tuple[int, int], list[tuple[int, int]]],
) -> Iterator[list[tuple[int, int]]]:
    """Tarjan's algorithm, iterative (patterns may make deep graphs)."""
    index: dict[tuple[int, int], int] = {}
    low: dict[tuple[int, int], int] = {}
    stack: list[tuple[int, int]] = []
    on_stack: set[tuple[int, int]] = set()
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                yield component


# -- the public entry points ------------------------------------------------------------------


def check_pattern(pattern: str) -> None:
    """Raise :class:`UnsafePatternError` unless ``pattern`` is in the subset and linear-time."""
    parser = _Parser(pattern)
    root = parser.parse()
    if not _finitely_ambiguous(parser.automaton, root.first):
        raise UnsafePatternError(
            "two parts of the pattern can match the same characters and both repeat "
            "(as in (a+)+, (a|ab)* or \\w*\\w*), so a crafted name makes it backtrack "
            "without bound: make the repeated parts match disjoint characters, e.g. "
            "[a-z]+_[0-9]+ instead of \\w+_\\w+, or use a prefix rule (name*)"
        )


def compile_rule_regex(pattern: str) -> re.Pattern[str]:
    """Check ``pattern`` (:func:`check_pattern`) and compile it as rules match: ASCII mode."""
    check_pattern(pattern)
    try:
        return re.compile(pattern, re.ASCII)
    except (re.error, OverflowError, RecursionError) as exc:
        raise UnsafePatternError(f"invalid regex: {exc}") from None
