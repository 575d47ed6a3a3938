"""Search ranking (pure functions, no SQL): candidates pulled by either backend's index are
ordered by `Scorer`, which mixes trigram containment (typo tolerant), trigram Jaccard (prefers
titles of the query's length), whole-word hits and boosts for exact and prefix matches and a
requested year. `fts_query`/`fts_substring_query` build SQLite FTS5 MATCH expressions.
"""

from __future__ import annotations

from bot.domain.title_forms import Query


def trigrams(text: str) -> set[str]:
    """Character trigrams of `text` padded with one space each side."""
    padded = f" {text} "
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression: the OR of the (unpadded) trigrams of normalised `text`.

    Returns None when the text is too short for the trigram tokenizer (< 3 characters).
    """
    grams = sorted({text[i:i + 3] for i in range(len(text) - 2)})
    if not grams:
        return None
    return " OR ".join(f'"{g}"' for g in grams)


def fts_substring_query(text: str) -> str | None:
    """An FTS5 MATCH expression requiring every word of 3+ characters as a substring.

    None when no word is long enough (the trigram index cannot match shorter strings).
    """
    words = sorted({w for w in text.split() if len(w) >= 3})
    if not words:
        return None
    return " AND ".join(f'"{w}"' for w in words)


def _one_edit_apart(a: str, b: str) -> bool:
    """True when b is a with one insertion, deletion, substitution or adjacent swap."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 1 or a == b:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1:] == b[i + 1:]:
            return True  # substitution
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    return a[i:] == b[i + 1:]  # insertion into a


def _near(word: str, other: str, memo: dict[tuple[str, str], bool]) -> bool:
    if abs(len(word) - len(other)) > 1:
        return False
    key = (word, other)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _one_edit_apart(word, other)
    return found


def _text_score(query: str, qgrams: set[str], qwords: list[str], candidate: str,
                near: dict[tuple[str, str], bool]) -> float:
    if not query:
        return 0.0
    cgrams = trigrams(candidate)
    common = len(qgrams & cgrams)
    containment = common / len(qgrams)
    jaccard = common / len(qgrams | cgrams)
    cwords = candidate.split()
    cword_set = set(cwords)
    hits = 0.0
    for i, word in enumerate(qwords):
        if word in cword_set:
            hits += 1.0
        elif i == len(qwords) - 1 and any(w.startswith(word) for w in cwords):
            hits += 0.8  # the word being typed
        elif len(word) >= 4 and any(_near(word, w, near) for w in cwords):
            hits += 0.7  # one typo: "matirx", "godfater", "amelei"
        elif not word.isascii() and any(word in w for w in cwords):
            hits += 0.8  # scripts without spaces between words: "千尋" in "千と千尋の神隠し"
    words = hits / len(qwords)
    value = 0.45 * containment + 0.25 * jaccard + 0.3 * words
    if candidate == query:
        value += 0.6
    elif candidate.startswith(query):
        value += 0.25
    elif f" {query}" in f" {candidate}" or (not query.isascii() and query in candidate):
        value += 0.1
    return value


class Scorer:
    """Scores candidate titles against one parsed query (precomputes the query's trigrams)."""

    def __init__(self, query: Query) -> None:
        self.query = query
        self._variants = [(query.text, query.year)]
        if query.year is not None and query.full != query.text:
            self._variants.append((query.full, None))
        self._prepared = [(text, trigrams(text), text.split(), year)
                          for text, year in self._variants]
        self._year_text = str(query.year) if query.year is not None else None
        self._near: dict[tuple[str, str], bool] = {}  # word-typo checks, shared by candidates

    def score(self, search_text_value: str, year: int | None) -> float:
        """Similarity of a movie (its `search_text` and year) to the query; higher is better."""
        best = 0.0
        titles = search_text_value.split("|")
        for n, (text, grams, words, wanted_year) in enumerate(self._prepared):
            if n and (self._year_text is None or self._year_text not in search_text_value):
                continue  # the year-as-title variant only matters for titles with that number
            value = 0.0
            for i, title in enumerate(titles):
                candidate = _text_score(text, grams, words, title, self._near)
                if i:  # alternative titles count a little less than the primary title
                    candidate *= 0.95
                value = max(value, candidate)
            if wanted_year is not None and year is not None:
                if year == wanted_year:
                    value += 0.35
                elif abs(year - wanted_year) <= 1:
                    value += 0.1
            best = max(best, value)
        return best
