"""Where a line of Thai may break: between words, as PyThaiNLP's ``newmm`` finds them.

Thai is written without spaces between words, so a PDF library that wraps at spaces or, failing
that, at any character cuts words in half ("องค์การบ" / "ริหารส่วนตำบล") on an official receipt.
``breakable`` marks each word boundary between two Thai words with a zero-width space, which
fpdf2 treats as a break opportunity and the font draws as nothing.

Cost, measured on the 2-core server: importing PyThaiNLP and reading its bundled word list
(a frozenset of 62,000 words) takes 60-120 ms and 14 MB, once per process, on the first Thai
text it wraps (never for an English receipt). PyThaiNLP's default dictionary trie (one Python
object per letter) would add 0.5 s and 63 MB to every worker; ``_WordList`` answers ``newmm``'s
only question (which dictionary words start here?) from the frozenset itself, for about 1 ms
per 200 characters, against about 100 ms for the whole PDF.

PyThaiNLP creates ``~/pythainlp-data`` on import and may download corpora it lacks. The server's
service user may have no writable home and the server no network: the loader switches PyThaiNLP
to read-only, offline mode first (unless the operator chose otherwise); ``newmm`` needs only
files inside the package.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from itertools import pairwise
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from pythainlp.util import Trie

ZWSP = "\u200b"
"""ZERO WIDTH SPACE: a break opportunity for fpdf2, no glyph in print."""

_NOT_LINE_START = "ฯๆ"
"""PAIYANNOI and MAIYAMOK close the word before them; a line never begins with either."""


class _Tokenizer(Protocol):
    def __call__(self, text: str) -> list[str]: ...


_lock = threading.Lock()
_tokenizer: _Tokenizer | None = None
"""A lazy, read-only cache (the dictionary takes a moment to load), not configuration: it
depends on no setting, so it is one of the few module globals allowed besides the database
engine (see ``portal/db.py``)."""


def breakable(text: str) -> str:
    """``text`` with a zero-width space at every word boundary between two Thai letters.

    Boundaries next to a space, a digit, Latin letters or punctuation get none: English words,
    numbers and links stay whole (a space already lets fpdf2 break there).
    """
    if not any(_is_thai_letter(ch) for ch in text):
        return text
    tokens = words(text)
    pieces = tokens[:1]
    for before, after in pairwise(tokens):
        thai_on_both_sides = _is_thai_letter(before[-1]) and _is_thai_letter(after[0])
        if thai_on_both_sides and after[0] not in _NOT_LINE_START:
            pieces.append(ZWSP)
        pieces.append(after)
    return "".join(pieces)


def words(text: str) -> list[str]:
    """``newmm``'s tokens of ``text`` (spaces kept as tokens), with PyThaiNLP's own dictionary."""
    return _load()(text) if text else []


def _is_thai_letter(ch: str) -> bool:
    """Thai consonants, vowels, tone marks, PAIYANNOI and MAIYAMOK; not Thai digits."""
    return "\u0e01" <= ch <= "\u0e4e"


def _load() -> _Tokenizer:
    """The tokenizer, built once per process (PDFs render in worker threads: under a lock)."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            _tokenizer = _build()
        return _tokenizer


def _build() -> _Tokenizer:
    if os.environ.get("PYTHAINLP_READ_MODE") is None:  # its older name; both set is an error
        os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
    os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
    from pythainlp.corpus import thai_words
    from pythainlp.tokenize import word_tokenize

    dictionary = cast("Trie", _WordList(thai_words()))

    def tokenize(text: str) -> list[str]:
        return word_tokenize(text, custom_dict=dictionary, engine="newmm")

    return tokenize


class _WordList:
    """The part of PyThaiNLP's ``Trie`` that ``newmm`` reads, over a plain set of words.

    ``tests/receipt/test_thai_words.py`` checks the tokens equal those of PyThaiNLP's default
    trie, so an upgrade that asks more of the dictionary fails there, not on a receipt.
    """

    def __init__(self, words: frozenset[str]) -> None:
        self._words = words
        self._longest = max(map(len, words))

    def prefixes(self, text: str, start: int = 0) -> list[str]:
        """The dictionary words that ``text`` has at ``start``, shortest first."""
        stop = min(len(text), start + self._longest)
        candidates = (text[start:end] for end in range(start + 1, stop + 1))
        return [word for word in candidates if word in self._words]

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)
