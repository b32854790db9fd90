"""An organisation's own assist engine: letter trigrams hashed into 128 numbers (a real, if
plain, text embedding that needs no model)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from spoc import SentenceEncoder, hookimpl

WIDTH = 128


def trigram_vectors(texts: Sequence[str]) -> list[list[float]]:
    found = []
    for text in texts:
        row = [0.0] * WIDTH
        folded = f"  {text.lower()}  "
        for i in range(len(folded) - 2):
            digest = hashlib.blake2s(folded[i : i + 3].encode(), digest_size=2).digest()
            row[int.from_bytes(digest, "big") % WIDTH] += 1.0
        found.append(row)
    return found


@hookimpl
def spoc_assist_engines() -> list[SentenceEncoder]:
    return [SentenceEncoder("trigrams", trigram_vectors)]
