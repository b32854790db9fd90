"""Words, the way search sees them: one tokenizer for what is indexed and what is asked, on
both databases, and the snippets a hit shows.

Text is folded before either database tokenizes it: Unicode compatibility forms decomposed,
accents dropped, case folded (``Müller`` and ``muller`` are one word), and split on anything
that is not a letter or a digit (``REQ-00042`` is ``req`` ``00042``; ``maria@example.com`` is
``maria`` ``example`` ``com``). SQLite's FTS5 and PostgreSQL's ``simple`` configuration then
see the same space-separated words, so the two backends find the same things.

A snippet is structured, never HTML: a tuple of ``(text, matched)`` parts cut from the stored
text. Surfaces escape each part and mark the matched ones (``<mark>`` in the console, a flag in
the API), so nothing a person typed is ever rendered as markup.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

QUERY_MAX = 200
"""The longest search text accepted, in characters."""
TERMS_MAX = 12
"""At most this many words of a query are used; the rest are ignored."""
SNIPPET_WIDTH = 180
"""About how many characters of a hit's text a snippet shows."""

_WORD = re.compile(r"[^\W_]+")
_RUNS = re.compile(r"[\x00-\x7f]+|[^\x00-\x7f]+")  # ASCII and other runs, in order


def fold(text: str) -> str:
    """``text`` without accents, case folded, character for character where it can be (so a
    position in the folded text is near the same position in the original)."""
    if text.isascii():
        return text.lower()  # most text, at C speed
    return "".join(
        run.lower() if run.isascii() else "".join(map(_fold_char, run))
        for run in _RUNS.findall(text)
    )


def _fold_char(char: str) -> str:
    if char.isascii():
        return char.lower()
    decomposed = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.casefold() or char


def words(text: str) -> list[str]:
    """The words of ``text``, folded."""
    return _WORD.findall(fold(text))


def index_text(*parts: str) -> str:
    """What a database tokenizes for ``parts``: their folded words, space-separated."""
    return " ".join(w for part in parts for w in words(part))


@dataclass(frozen=True)
class Snippet:
    """Part of a hit's text, cut into ``(text, matched)`` parts; ``cut_before`` and
    ``cut_after`` say whether text was left out on either side."""

    parts: tuple[tuple[str, bool], ...]
    cut_before: bool = False
    cut_after: bool = False

    @property
    def text(self) -> str:
        return "".join(part for part, _ in self.parts)


def snippet(text: str, terms: Sequence[str], width: int = SNIPPET_WIDTH) -> Snippet:
    """A window of ``text`` around the first word that starts with one of ``terms`` (folded
    query words), with every such word in it marked. No match: the start of the text."""
    spans = list(_matches(text, terms))
    start = 0
    if spans and len(text) > width:
        start = max(0, spans[0][0] - width // 3)
        # Begin at a word boundary, not in the middle of one.
        while start > 0 and not text[start - 1].isspace() and spans[0][0] - start < width // 2:
            start -= 1
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        if space > start + width // 2:
            end = space
    parts: list[tuple[str, bool]] = []
    at = start
    for begin, finish in spans:
        if finish <= start or begin >= end:
            continue
        begin, finish = max(begin, start), min(finish, end)
        if begin > at:
            parts.append((text[at:begin], False))
        parts.append((text[begin:finish], True))
        at = finish
    if at < end:
        parts.append((text[at:end], False))
    return Snippet(tuple(parts), start > 0, end < len(text))


def _matches(text: str, terms: Iterable[str]) -> Iterable[tuple[int, int]]:
    """Spans of the words of ``text`` that start with one of ``terms``. Folding keeps one
    character for one (accents dropped, ``ß`` to ``ss`` aside), so the spans are looked up in
    a folded copy that maps back to the original's positions."""
    wanted = tuple(t for t in terms if t)
    if not wanted:
        return
    folded: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        for c in _fold_char(char):
            folded.append(c)
            origin.append(i)
    flat = "".join(folded)
    for found in _WORD.finditer(flat):
        if found.group().startswith(wanted):
            yield origin[found.start()], origin[found.end() - 1] + 1
