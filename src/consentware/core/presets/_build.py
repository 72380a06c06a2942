"""How a preset is written: one vendor, its cookies, and the categories they need.

A preset is policy data in the schema of :meth:`consentware.Policy.from_dict` (only
``categories`` and ``cookies``), checked by the same loader as a user's file. Each preset
declares the optional categories its cookies use, copied from the default policy, so it loads
on its own as well as after ``default``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._default import CATEGORIES

Preset = Mapping[str, Any]


def cookie(name: str, purpose: str, duration: str, **more: Any) -> dict[str, Any]:
    """One cookie rule of a preset; ``more`` may override the preset's ``category``,
    ``function`` or give ``domains`` and ``path``."""
    return {"name": name, "purpose": purpose, "duration": duration, **more}


def vendor(
    provider: str, function: str, category: str, *cookies: Mapping[str, Any]
) -> dict[str, Any]:
    """A preset of ``provider``'s ``cookies``, each in ``category`` unless it says otherwise."""
    rules = [
        {"category": category, "provider": provider, "function": function, **rule}
        for rule in cookies
    ]
    used = {rule["category"] for rule in rules}
    categories = {name: dict(body) for name, body in CATEGORIES.items() if name in used}
    return {"categories": categories, "cookies": rules} if categories else {"cookies": rules}


def combine(*presets: Preset) -> dict[str, Any]:
    """One preset holding the cookies of several (for a vendor with more than one function)."""
    categories: dict[str, Any] = {}
    rules: list[Any] = []
    for preset in presets:
        categories.update(preset.get("categories", {}))
        rules.extend(preset.get("cookies", []))
    ordered = {name: categories[name] for name in CATEGORIES if name in categories}
    return {"categories": ordered, "cookies": rules} if ordered else {"cookies": rules}
