"""Text helpers with no HTML in them: whitespace, dates, bylines, citation strings."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from archiver.record import Author, Citation

# ---------------------------------------------------------------- whitespace

_INVISIBLE = re.compile("[\u200b\u200c\ufeff\u00ad\u2060]")  # zero-width, soft hyphen


def collapse(text: str | None) -> str:
    """Whitespace runs (incl. no-break spaces) -> one space; invisible characters dropped.

    Everything else (curly quotes, dashes, ellipses) is kept exactly as the page has it.
    """
    if not text:
        return ""
    if not text.isascii() and _INVISIBLE.search(text):
        text = _INVISIBLE.sub("", text)
    return " ".join(text.split())


def word_count(text: str | None) -> int:
    """Words = whitespace-separated tokens (what `wc -w` counts)."""
    if not text:
        return 0
    return len(text.split())


# ---------------------------------------------------------------- dates

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
_DATE_PATTERNS = [
    # 2019-01-01, 2019-01-01T10:00:00Z, 2019/01/01
    re.compile(r"\b(?P<year>(?:19|20)\d\d)[-/.](?P<mnum>\d{1,2})[-/.](?P<day>\d{1,2})(?!\d)"),
    # January 1, 2019 / Jan. 1 2019 / Sept 1st, 2019 / February 20th , 2020 (a blank before the comma)
    re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?\s*,?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    # 1 January 2019 / 1 Jan. 2019
    re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
    # 01/01/2019, and 10/18/20 with a two-digit year (US order: month first, as the publisher
    # is American)
    re.compile(r"\b(?P<mnum>\d{1,2})[/.-](?P<day>\d{1,2})[/.-](?P<year>(?:19|20)\d\d)\b"),
    re.compile(r"\b(?P<mnum>\d{1,2})/(?P<day>\d{1,2})/(?P<yy>\d\d)(?![\d/])"),
]
_MONTH_YEAR = re.compile(r"^" + _MONTH + r",?\s+(?P<year>(?:19|20)\d\d)$", re.I)


def _iso(match: re.Match) -> str | None:
    parts = match.groupdict()
    month = int(parts["mnum"]) if parts.get("mnum") else _MONTHS[parts["month"].lower()[:3]]
    # A two-digit year is of this century up to 69 ("10/18/20"), else of the last one.
    year = int(parts["year"]) if parts.get("year") else (lambda yy: yy + (2000 if yy < 70 else 1900))(int(parts["yy"]))
    try:
        return date(year, month, int(parts["day"])).isoformat()
    except ValueError:
        return None


def find_date(text: str | None) -> str | None:
    """The first date written anywhere in `text`, as ISO YYYY-MM-DD, or None."""
    if not text:
        return None
    best, found = None, None
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if match and (best is None or match.start() < best.start()):
            iso = _iso(match)
            if iso:
                best, found = match, iso
                if not match.start():  # no other pattern can start earlier: skip their searches
                    break
    return found


def parse_date(text: str | None, month_only: bool = False) -> str | None:
    """`text` that is just a date (surrounding words allowed) -> ISO; "January 2019" -> the 1st
    of the month only when `month_only` (issue titles name a month, articles a day)."""
    found = find_date(text)
    if found or not month_only or not text:
        return found
    match = _MONTH_YEAR.match(collapse(text))
    if not match:
        return None
    return date(int(match["year"]), _MONTHS[match["month"].lower()[:3]], 1).isoformat()


_DATE_WORDS = re.compile(
    r"(?i)\b(published|posted|updated|issue date|date|on|mon|tues?|wed|thu(rs)?|fri|sat|sun)[a-z]*\b")
_ALNUM = re.compile(r"[A-Za-z0-9]")


# All date patterns as one (their group names dropped): one substitution instead of five.
_ANY_DATE = re.compile("|".join(f"(?:{re.sub(r'[(][?]P<[a-z]+>', '(?:', p.pattern)})" for p in _DATE_PATTERNS), re.I)
_DIGIT = re.compile(r"\d")


def is_date_line(text: str) -> bool:
    """True when a line is nothing but a date (maybe with a weekday or "Published on:")."""
    if not text or len(text) > 80 or not _DIGIT.search(text):  # every date has digits
        return False
    text = collapse(text)
    if len(text) > 60:
        return False
    rest = _ANY_DATE.sub("", text)
    if rest == text:
        return False
    rest = _DATE_WORDS.sub("", rest)
    return not _ALNUM.search(rest)


# ---------------------------------------------------------------- bylines

KNOWN_CREDENTIALS = {
    token.lower(): token for token in (
        "MD MBBS MBChB DO PhD PsyD EdD DrPH DNP DNS DSW ScD PharmD JD MPH MS MSc MA MEd MBA MHA "
        "MSW MSN MSPH BSN BS BA RN APRN NP CNS PMHNP PMHNP-BC PMHCNS-BC FNP FNP-BC ANP-BC PA PA-C "
        "LCSW LCSW-C LICSW LISW LMSW LMHC LMFT LPC LPCC LCPC LADC LCADC CADC CASAC NCC BCBA "
        "PharmD BCPP BCPS RPh FAPA DFAPA DLFAPA FAACAP DFAACAP FASAM DFASAM FACP FAAN FANPA "
        "FRCPC FRCPsych MRCPsych CCRP CPRP ABPN CMD AGSF FAAFP MMSc MHS MPA").split()
}
# Unknown credentials usually look like known ones: short, upper case, maybe a "-BC"-like suffix.
_CREDENTIAL_SHAPE = re.compile(r"^[A-Z][A-Za-z]{0,2}[A-Z]{1,5}(?:-[A-Z]{1,3})?$")
_HONORIFICS = re.compile(r"^(?:(?:Dr|Prof|Professor|Mr|Mrs|Ms|Mx)\.?\s+)+", re.I)
_CREDENTIAL_STOP = re.compile(r"(?<![\w.-])([A-Za-z][\w-]*)\.(?=\s+[A-Z])")
_NAME_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


# Every credential, known or by shape, has two capitals within five characters ("MD", "PhD",
# "M.D.", "PharmD", "PMHNP-BC"): a cheap test before splitting a line as a byline.
_TWO_CAPITALS = re.compile(r"[A-Z][a-zA-Z.]{0,4}[A-Z]")


def may_have_credentials(text: str) -> bool:
    return _TWO_CAPITALS.search(text) is not None


@lru_cache(maxsize=8192)
def credential(token: str) -> str | None:
    """The canonical spelling of a credential token ("M.D." -> "MD"), or None if it is not one."""
    return _credential(token)


def _credential(token: str) -> str | None:
    token = token.strip().strip(".,;")
    if not token:
        return None
    plain = token.replace(".", "") if token.count(".") >= 1 and len(token) <= 8 else token
    known = KNOWN_CREDENTIALS.get(plain.lower())
    if known:
        return known
    if _CREDENTIAL_SHAPE.match(plain) and plain.lower() not in _NAME_SUFFIXES and len(plain) >= 2:
        return plain
    return None


def _credentials_of(segment: str) -> list[str] | None:
    """All credentials in a segment like "MD PhD" / "M.D." or None when it holds anything else."""
    creds = []
    for token in segment.replace("/", " ").split():
        found = credential(token)
        if found is None:  # a name word: stop at once (most segments are names)
            return None
        creds.append(found)
    return creds or None


def clean_name(name: str) -> str:
    name = _HONORIFICS.sub("", collapse(name)).strip(" ,;:.")
    # A trailing initial keeps its dot ("John Q."), other trailing punctuation goes.
    return name


_BY = re.compile(r"^(?:by:?|written by|authors?:)\s+", re.I)
_BYLINE_SEPARATORS = re.compile(r"\s*(?:,|;|\band\b|&|\bwith\b)\s*")


def split_byline(text: str | None) -> list[Author]:
    """ "A, MD, B, PhD, and C, DNP, PMHNP-BC" -> three Authors in order; "Dr." and "By" dropped."""
    text = collapse(text)
    text = _BY.sub("", text)
    text = text.rstrip(" .")
    if not text:
        return []
    # "Naomi Feld, PhD. Chris Aldana, MD": a full stop after a credential ends an author.
    if ". " in text:  # (cheap tests first: both regexes scan every position)
        text = _CREDENTIAL_STOP.sub(
            lambda m: m.group(1) + "," if credential(m.group(1)) else m.group(0), text)
    if "," in text or ";" in text or "&" in text or "and" in text or "with" in text:
        segments = _BYLINE_SEPARATORS.split(text)
    else:
        segments = [text]
    authors: list[Author] = []
    for segment in (s.strip(" .") for s in segments):
        if not segment:
            continue
        creds = _credentials_of(segment)
        if creds is not None and authors:
            authors[-1].credentials.extend(c for c in creds if c not in authors[-1].credentials)
            continue
        if segment.lower().rstrip(".") in {"jr", "sr", "ii", "iii", "iv"} and authors:
            authors[-1].name += ", " + segment
            continue
        # "Jane Roe MD" without a comma: peel credentials off the end.
        words = segment.split()
        trailing: list[str] = []
        while len(words) > 2 and credential(words[-1]) and not words[-1][:1].islower():
            trailing.insert(0, credential(words.pop()))
        name = clean_name(" ".join(words))
        if name:
            authors.append(Author(name, trailing))
    return authors


_BYLINE_WORDS = frozenset(("and", "by", "with", "de", "da", "van", "von", "der", "del", "la", "le", "di",
                           "du", "bin", "written", "interviewed"))


def named_authors(text: str | None) -> list[Author]:
    """Authors from a byline-like string, only if every name looks like a person's."""
    if not text or len(text) > 300:  # a byline is short; splitting prose is wasted work
        return []
    lowercase = 0
    for word in text.split():
        if word[0].islower() and word not in _BYLINE_WORDS:
            lowercase += 1
            if lowercase > 1:  # prose, not names: "Dr. Roe has disclosed ..."
                return []
    authors = split_byline(text)
    if authors and all(looks_like_name(a.name) for a in authors):
        return authors
    return []


def looks_like_name(name: str) -> bool:
    """Two to five capitalised words (initials and particles such as "de" allowed)."""
    words = name.replace("’", "'").split()
    if not 2 <= len(words) <= 5:
        return False
    for word in words:
        if not (word[:1].isupper() or word in _NAME_PARTICLES):
            return False
    return not any(map(str.isdigit, name))  # map: no Python frame per character


_NAME_PARTICLES = frozenset(("de", "da", "van", "von", "der", "del", "la", "le", "di", "du", "bin"))


# ---------------------------------------------------------------- citations

_DOI = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|\bdoi\s*:?\s*)(10\.\d{4,9}/[^\s\"<>]+)", re.I)
_PMID = re.compile(r"\bPMID\s*:?\s*(\d{4,9})\b", re.I)
_PMCID = re.compile(r"\bPMCID\s*:?\s*PMC\d+\b", re.I)
_ONLINE = re.compile(
    r"\b(?:Published online|Epub(?: ahead of print)?|Online ahead of print)\b[:\s]*"
    r"(?P<date>[A-Z][a-z]{2,8}\.? \d{1,2},? (?:19|20)\d\d|(?:19|20)\d\d(?: [A-Z][a-z]{2,8}\.?(?: \d{1,2})?)?)?",
    re.I)
# year [month [day]] ; volume (issue) : pages
_SOURCE = re.compile(
    r"(?P<year>(?:19|20)\d\d)(?:\s+[A-Z][a-z]{2,8}\.?(?:\s+\d{1,2})?)?\s*"
    r"(?:;\s*(?P<volume>[A-Za-z]?\d+[A-Za-z]?(?:\s*Suppl\s*\d*)?)?\s*"
    r"(?:\((?P<issue>[^)]{1,20})\))?\s*"
    r"(?::\s*(?P<pages>[A-Za-z]*\d+[A-Za-z0-9]*(?:\s*[-–—]\s*[A-Za-z]*\d+[A-Za-z0-9]*)?))?)?")
_ET_AL = re.compile(r"\bet\s+al\b\.?", re.I)


# Compiled once (re.sub(pattern, ...) looks its pattern up in re's cache on every call).
_REVIEW_OF = re.compile(r"^review(?:ed)?\s+of\s*:?\s*", re.I)
_SPACES = re.compile(r"\s+")
_SENTENCE_BREAK = re.compile(r"\.\s+(?=[A-Z])")


def parse_citation(text: str | None) -> Citation | None:
    """A "Review of:" reference -> Citation. The text is kept whole; parts it lacks stay None."""
    text = collapse(text)
    text = _REVIEW_OF.sub("", text).strip()
    if not text:
        return None
    citation = Citation(text=text)
    # Each identifier's regex only when its literal is there (they scan every position).
    lower = text.lower()
    present = {_DOI: "10." in text, _PMID: "pmid" in lower, _PMCID: "pmc" in lower,
               _ONLINE: "online" in lower or "epub" in lower}
    doi = _DOI.search(text) if present[_DOI] else None
    if doi:
        citation.doi = doi.group(1).rstrip(".,;)]")
    pmid = _PMID.search(text) if present[_PMID] else None
    if pmid:
        citation.pmid = pmid.group(1)
    # The reference proper ends where identifiers and online-first notes begin.
    ref = text
    for pattern in (_DOI, _PMID, _PMCID, _ONLINE):
        match = pattern.search(ref) if present[pattern] else None
        if match:
            ref = ref[: match.start()]
    ref = ref.strip(" .,;")
    source = _first_source(ref)
    if source:
        citation.year = int(source["year"])
        citation.volume = source["volume"]
        citation.issue = source["issue"].strip() if source["issue"] else None
        citation.pages = _SPACES.sub("", source["pages"]) if source["pages"] else None
        head = ref[: source.start()]
    else:
        head = ref
        online = _ONLINE.search(text) if present[_ONLINE] else None
        year = re.search(r"\b(?:19|20)\d\d\b", online.group("date") or "") if online else None
        if year:
            citation.year = int(year.group())
    citation.authors, citation.journal = _authors_and_journal(head.strip(" .,;"))
    return citation


def _first_source(ref: str) -> re.Match | None:
    """The "2018;175:1–11" part: the first year that is followed by a ";" block, else the last
    bare year (a reference like "JAMA Psychiatry 2021" has no volume yet)."""
    matches = list(_SOURCE.finditer(ref))
    for match in matches:
        if match["volume"] or match["pages"] or match["issue"]:
            return match
    return matches[-1] if matches else None


def _authors_and_journal(head: str) -> tuple[str | None, str | None]:
    """ "Williams NR et al, Am J Psychiatry" -> ("Williams NR et al", "Am J Psychiatry")."""
    if not head:
        return None, None
    et_al = _ET_AL.search(head)
    if et_al:
        authors = head[: et_al.end()].rstrip(".")
        rest = head[et_al.end():]
        journal = _last_sentence(rest.strip(" .,;:"))
        return authors.strip(" ,;") or None, journal or None
    # Vancouver style: "Smith J, Doe K. Title of the paper. J Clin Psychiatry"
    sentences = [s for s in _SENTENCE_BREAK.split(head) if s.strip()]
    if len(sentences) >= 2:
        return sentences[0].strip(" .,;") or None, sentences[-1].strip(" .,;") or None
    if "," in head:
        authors, journal = head.rsplit(",", 1)
        return authors.strip(" .,;") or None, journal.strip(" .,;") or None
    return None, head.strip(" .,;") or None


def _last_sentence(text: str) -> str:
    """After "et al." may come a paper title and then the journal: keep the journal."""
    parts = [p for p in _SENTENCE_BREAK.split(text) if p.strip()]
    return parts[-1].strip(" .,;") if parts else ""
