"""The semantic engines: the core's ``wordllama`` (the ``spoc[assist]`` extra) and the ones
plugins bring (``spoc_assist_engines``), and the one the settings choose.

WordLlama ships its weights in its wheel (``wordllama/weights/l2_supercat_256.safetensors``,
16 MB) and its tokenizer beside them. It is loaded from those files only: downloads disabled,
its cache pointed at the package's own folder, so no model is fetched at run time and no text
leaves the machine. It embeds some twenty thousand short texts a second on one core (a token
lookup and a weighted average, no transformer), which is what lets the worker keep up and a
suggestion embed what is being typed as it is typed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spoc.core.kernel.assist import SentenceEncoder
from spoc.core.kernel.errors import StartupError
from spoc.core.platform import hookspecs

if TYPE_CHECKING:
    from spoc.core.platform.dispatch import Hooks

LEXICAL = "lexical"
WORDLLAMA = "wordllama"
CORE_ENGINES = (LEXICAL, WORDLLAMA)


def wordllama_installed() -> bool:
    return importlib.util.find_spec("wordllama") is not None


@cache
def _wordllama_model() -> Any:
    # Imported here: wordllama is the optional extra spoc[assist], and loading it (16 MB of
    # weights) waits until the first text is embedded.
    import wordllama
    from wordllama import WordLlama

    bundled = Path(wordllama.__file__).parent
    # The package looks for the tokenizer in <cache>/tokenizers/: its own folder holds it.
    return WordLlama.load(config="l2_supercat", dim=256, disable_download=True, cache_dir=bundled)


def _wordllama_encode(texts: Sequence[str]) -> Any:
    return _wordllama_model().embed(list(texts), norm=True)


def wordllama_encoder() -> SentenceEncoder:
    """The core's semantic engine (English-trained; other languages share its tokens)."""
    return SentenceEncoder(WORDLLAMA, _wordllama_encode)


def encoders(hooks: Hooks) -> dict[str, SentenceEncoder]:
    """Every semantic engine available, by name: the core's first, then the plugins'."""
    found: dict[str, SentenceEncoder] = {}
    if wordllama_installed():
        found[WORDLLAMA] = wordllama_encoder()
    for plugin, offered in hooks.each(hookspecs.spoc_assist_engines, spoc=hooks.spoc):
        for encoder in offered:
            if encoder.name in CORE_ENGINES or encoder.name in found:
                raise StartupError(
                    f"plugin {plugin!r} offers the assist engine {encoder.name!r}, "
                    "a name already taken"
                )
            found[encoder.name] = encoder
    return found


def chosen_engine(setting: str, available: dict[str, SentenceEncoder]) -> str:
    """The engine named by ``SPOC_ASSIST_ENGINE`` (``auto``: wordllama when installed)."""
    if setting == "auto":
        return WORDLLAMA if WORDLLAMA in available else LEXICAL
    if setting != LEXICAL and setting not in available:
        known = ", ".join([LEXICAL, *available]) or LEXICAL
        raise StartupError(f"SPOC_ASSIST_ENGINE={setting}: no such engine (known: {known})")
    return setting


def encode(encoder: SentenceEncoder, texts: Sequence[str]) -> np.ndarray:
    """``texts`` as unit-length float32 rows (a zero vector stays zero: it matches nothing)."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    matrix = np.asarray(encoder.encode(list(texts)), dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(texts):
        raise ValueError(
            f"assist engine {encoder.name!r} answered shape {matrix.shape} for {len(texts)} texts"
        )
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)
