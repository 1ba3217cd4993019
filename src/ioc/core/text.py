"""Folding Vietnamese text so that "Đà Bắc", "da bac" and "DA  BAC" compare equal."""

from __future__ import annotations

import unicodedata

# đ/Đ are letters of their own, not d plus a combining mark, so NFD leaves them alone.
_LETTERS = str.maketrans({"đ": "d", "Đ": "d"})


def fold(s: str) -> str:
    """Lower-case ``s`` without diacritics and with single spaces, so any spelling matches."""
    decomposed = unicodedata.normalize("NFD", s.translate(_LETTERS))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


def search_key(*parts: str | None) -> str:
    """One folded string holding every part once, to match a folded query with LIKE."""
    folded: list[str] = []
    for part in parts:
        key = fold(part) if part else ""
        if key and key not in folded:
            folded.append(key)
    return " ".join(folded)
