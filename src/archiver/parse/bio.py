"""Bio boxes and disclosures: who the authors are, and what they disclose.

Pages repeat each author's name before an affiliation paragraph (institutions, titles, books)
and the disclosure — in separate paragraphs or in one. A disclosure is the sentence(s) about
financial relationships, interests or commercial bias, whatever the verb, over one or two
sentences, maybe naming a reviewer (`profile.labels.disclosure` finds one, `.interests` are the
sentences about relationships that belong to it); never the name or affiliation before them.
"""

from __future__ import annotations

import re

from archiver.parse.text import collapse, may_have_credentials, named_authors
from archiver.record import Author

_DISCLOSURE_LABEL = re.compile(r"^Disclosures?\s*:\s*", re.I)
# The blank before an honorific: "Dr. Simon Achebe, MD, PhD| Dr. Achebe has disclosed ..."
_BEFORE_HONORIFIC = re.compile(r"\s+(?=(?:Dr|Mr|Ms|Mrs|Mx|Prof)\.?\s)")
_ABBREVIATIONS = re.compile(r"(?:\b(?:Dr|Drs|Mr|Ms|Mrs|Mx|Prof|St|vs|Jr|Sr|e\.g|i\.e|al|Inc|Co|Corp|Ltd)|(?:^|\s)[A-Z])\.$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# A sentence about a person: "Dr. A ...", "Drs. A and B ...", "The author ...".
PERSON = re.compile(r"^(?:(?:Drs?|Mr|Ms|Mrs|Mx|Prof)\.?\s+[A-Z]|The\s+authors?\b|Neither\b|None\s+of\b)")


def maybe_disclosure(text: str) -> bool:
    """Cheap test before the disclosure regex (which is slow on every paragraph)."""
    return "isclos" in text or "inancial" in text or "onflict" in text or "ommercial" in text


def sentences(text: str) -> list[str]:
    """The sentences of a text, line by line ("Name<br>Affiliation<br>Disclosure")."""
    result: list[str] = []
    for line in text.split("\n"):
        for piece in _SENTENCE_END.split(collapse(line)):
            # (the abbreviation ends the sentence: it is looked for in its last characters only)
            if result and piece and not result[-1].endswith("\n") and \
                    _ABBREVIATIONS.search(result[-1], max(0, len(result[-1]) - 8)):
                result[-1] += " " + piece
            elif piece:
                result.append(piece)
        if result:
            result[-1] += "\n"  # a line break ends a sentence
    return [s.rstrip("\n") for s in result]


def is_pure_byline(sentence: str) -> bool:
    """A sentence that is only names with credentials ("Michael Posternak, MD.")."""
    if len(sentence) >= 200 or not may_have_credentials(sentence):
        return False
    authors = named_authors(sentence)
    return bool(authors) and any(a.credentials for a in authors)


def split_statement(text: str, labels) -> tuple[list[str], str | None, str | None]:
    """(names, affiliation, statement) of a disclosure block: the names and the affiliation the
    site puts before the statement, and the statement itself — from its first sentence about
    disclosures or interests to the end."""
    text = _DISCLOSURE_LABEL.sub("", text.strip())
    # "Dr. Simon Achebe, MD, PhD Dr. Achebe has disclosed ..." (no full stop after the name)
    names = []
    gap = _BEFORE_HONORIFIC.search(text, 3, 400)  # a name of 3 to 160 characters before it
    lead = text[:gap.start()] if gap and gap.start() <= 160 else None
    if lead and not lead.endswith(".") and "\n" not in lead and is_pure_byline(lead):
        names.append(lead)
        text = text[gap.end():]
    parts = sentences(text)
    first = next((i for i, s in enumerate(parts)
                  if labels.disclosure.search(s) or labels.interests.search(s)), 0)
    affiliation = []
    for sentence in parts[:first]:
        (names if is_pure_byline(sentence) else affiliation).append(sentence)
    statement = " ".join(s for s in parts[first:] if not is_pure_byline(s)).strip()
    return names, " ".join(affiliation) or None, statement or None


def clean_disclosures(texts: list[str], labels) -> tuple[str | None, list[tuple]]:
    """The disclosure statements joined, and the affiliations found before them as
    (names before it, affiliation, statement) triples."""
    statements: list[str] = []
    affiliations = []
    for text in texts:
        names, affiliation, statement = split_statement(text, labels)
        if statement and statement not in statements:
            statements.append(statement)
        if affiliation:
            affiliations.append((names, affiliation, statement or ""))
    return " ".join(statements) or None, affiliations


def author_named(text: str, authors: list[Author]) -> Author | None:
    """The one author a text names, by full name or surname ("Dr. Okafor"); None if it names
    none or several."""
    named = [a for a in authors if a.name in text or _surname_in(a.name, text)]
    return named[0] if len(named) == 1 else None


def _surname_in(name: str, text: str) -> bool:
    words = [w for w in name.replace(",", " ").split() if w.lower().rstrip(".") not in ("jr", "sr", "ii", "iii", "iv")]
    surname = words[-1] if words else ""
    return len(surname) > 1 and re.search(rf"\b{re.escape(surname)}\b", text) is not None


def authors_before_disclosure(texts: list[str]) -> list[Author]:
    """ "Michael Posternak, MD. Dr. Posternak has disclosed ...": the site repeats the byline in
    front of each statement, which names the authors when no byline is marked."""
    authors: list[Author] = []
    for text in texts:
        for sentence in sentences(text):
            if not is_pure_byline(sentence):
                break
            authors += [a for a in named_authors(sentence) if a.name not in {b.name for b in authors}]
    return authors
