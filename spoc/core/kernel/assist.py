"""What a plugin gives assist: a semantic engine (``spoc_assist_engines``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

ENGINE_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class SentenceEncoder:
    """A semantic engine for assist (``spoc_assist_engines``): a local sentence-embedding
    model that turns texts into vectors.

    ``encode(texts)`` answers one vector per text, as a 2-D array-like of floats (a NumPy
    array, a list of lists), every row of one length; the core normalises them and compares
    by cosine. It runs in the worker (every request's text) and in each suggestion (the
    text typed), so it must be local and quick: text given to it must never leave the
    machine. ``languages`` lists the languages it understands (``("en", "fr")``); empty: any.
    The core's own engines are ``lexical`` and ``wordllama``: a plugin's ``name`` is another.
    """

    name: str
    encode: Callable[[Sequence[str]], Any]
    languages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not ENGINE_NAME.match(self.name):
            raise ValueError(
                f"engine name {self.name!r} must be lower-case letters, digits, '.', '_', '-'"
            )
