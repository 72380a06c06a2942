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
from typing import Final

from ._regex_parse import MAX_POSITIONS, Automaton, Parser, UnsafePatternError

# Pairs of transitions the load-time check may examine: a few hundred milliseconds at most.
_PRODUCT_BUDGET: Final = 400_000

__all__ = ["MAX_POSITIONS", "UnsafePatternError", "check_pattern", "compile_rule_regex"]


def _finitely_ambiguous(automaton: Automaton, first: frozenset[int]) -> bool:
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
    parser = Parser(pattern)
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
