"""Header lines: what stands between an article's title and its text, in any era's wording.

A byline ("By A, MD", "A, MBBS, PhD"), maybe with its role ("…, Editor-in-Chief"); a date in any
of its forms ("Monday, June 14, 2021", "Oct 16, 2023", "10/18/20", a month); "From <newsletter>";
a volume line ("<newsletter>, Volume 16, Number 1, January 2018"); label–value pairs ("Published
On: …", "Date Posted: …", "Submitted by … on …", "Issue: …", "Category: …") — alone, or several on
one line ("Date Posted: 01/16/13 | Issue: January, 2013 | <newsletter>"). A line with anything
else in it is not a header line, and nothing is taken from it.

Values are (field, value, strategy, rank): a lower rank wins over an earlier answer (see
`fields.Found`), so a date labelled "Published" beats an unlabelled one, which beats "Submitted".
The words are the profile's (`profile.labels`, `profile.newsletters`); strategies name the rule
("label published"), not the words of one profile.
"""

from __future__ import annotations

import re
from functools import lru_cache

from archiver.parse.text import (find_date, is_date_line, may_have_credentials, named_authors,
                                 parse_citation, parse_date)
from archiver.profile import scoped

# Ranks of a date by how the page says it; FALLBACK: not said at all (an issue's month).
LABELLED, UNLABELLED, CREATED, FALLBACK = 0, 1, 2, 3
SEPARATORS = re.compile(r"\s+[·•]\s+|\s*\|\s*|\s+[–—]\s+(?=[A-Z0-9])|\n")
# The labels a line may start with, tried in this order (one regex: one match call per line).
LINE_LABELS = ("citation", "study_type", "published", "created", "issue_date", "issue", "category",
               "keywords", "chrome_line")
# Labels whose value sits on the same line in a packed header line.
PACKABLE = frozenset(("published", "created", "issue_date", "issue", "category"))
_EDGE_PUNCTUATION = re.compile(r"^[\s,;:.|–—-]+|[\s,;:.|–—-]+$")
_DIGITS = re.compile(r"^(?:No\.?\s*|#\s*)?(\d{1,4})$", re.I)
_COMMA = re.compile(", ")
_DIGIT = re.compile(r"\d")


def one_of(patterns: dict[str, re.Pattern]) -> re.Pattern:
    """One regex trying `patterns` in order (each with its own flags), the name of the one that
    matched as `lastgroup`: one match call per line instead of one per label."""
    # (the patterns are the profile's labels: their flags are inline, "(?i)...", scoped to each)
    return re.compile("|".join(f"(?P<{name}>(?:{scoped(p.pattern)}))" for name, p in patterns.items()))


# ... and the lines that only mark where the article's parts are, for the reader.
MARK_LABELS = ("breadcrumb", "issue_links", "author_box_end")


@lru_cache(maxsize=64)
def line_labels(labels, marks: bool = False) -> re.Pattern:
    """The labels a line of the article region may start with, as one regex (per profile)."""
    return one_of({name: getattr(labels, name) for name in LINE_LABELS + (MARK_LABELS if marks else ())})


def label_of(text: str, profile, labels_re: re.Pattern | None = None) -> tuple[str, str] | None:
    """(label name, the rest of the line) for a line that starts with a label; the newsletter's
    "From <newsletter>" line is the label "from_label"."""
    match = (labels_re or line_labels(profile.labels)).match(text)
    if match:
        return match.lastgroup, text[match.end():].strip()
    from_label = profile.newsletters.from_label
    match = from_label.match(text) if from_label is not None and text.startswith("From") else None
    if match and len(text) < 120:
        return "from_label", match.group(1)
    return None


def label_values(name: str, value: str, profile) -> list[tuple]:
    """The fields a label's value gives: [(field, value, strategy, rank)]."""
    how = f"label {name}"
    if name == "citation":
        return [("citation", parse_citation(value), how, LABELLED)]
    if name == "study_type":
        return [("study_type", value, how, LABELLED)]
    if name == "published":
        return [("published", find_date(value), how, LABELLED)]
    if name == "created":
        return [("published", find_date(value), how, CREATED)]
    if name == "issue_date":  # an issue is a month: "Issue Date: March 2021" is its 1st
        return [("issue_date", parse_date(value, month_only=True), how, LABELLED)]
    if name == "issue":
        return issue_values(value, profile, how)
    if name == "category":
        return [("category", value, how, LABELLED)] if value and len(value) <= 80 else []
    if name == "from_label":
        return [("newsletter", profile.newsletters.name_in(value), how, LABELLED)]
    return []


def issue_values(value: str, profile, how: str) -> list[tuple]:
    """ "Issue: January, 2013", "Issue: 4", "Issue: Volume 11, Number 1"."""
    volume = profile.labels.volume.search(value)
    if volume:
        return [("issue_volume", volume.group("volume"), how, LABELLED),
                ("issue_number", volume.group("number"), how, LABELLED)]
    month = parse_date(value, month_only=True) if len(value) < 30 else None
    if month:
        return [("issue_date", month, how, LABELLED)]
    digits = _DIGITS.match(value)
    return [("issue_number", digits.group(1), how, LABELLED)] if digits else []


def header_values(text: str, profile, unlabelled: bool = False) -> list[tuple] | None:
    """The fields of a header line, or None when it is not one. `unlabelled`: the caller knows
    the line starts with no label (it is read as one part then, without that test)."""
    if len(text) > 300 or text.endswith(("?", "!")):
        return None
    values: list[tuple] = []
    # (a regex split costs ~30 µs on a paragraph; most lines have no separator at all)
    packed = "|" in text or "\n" in text or "·" in text or "•" in text or "–" in text or "—" in text
    for part in SEPARATORS.split(text) if packed else (text,):
        part = part.strip()
        if not part:
            continue
        found = header_part(part, profile, labelled=not (unlabelled and not packed))
        if found is None:
            return None
        values.extend(found)
    return values or None


def header_part(part: str, profile, labelled: bool = True) -> list[tuple] | None:
    """The fields of one piece of a header line, or None if it is not one (`labelled`: it may
    start with a label)."""
    labels, newsletters = profile.labels, profile.newsletters
    label = line_labels(labels).match(part) if labelled else None
    if label and label.lastgroup in PACKABLE:
        values = [v for v in label_values(label.lastgroup, part[label.end():].strip(), profile) if v[1]]
        return values or None
    if len(part) < 150 and labels.role.match(part):  # "Editor-in-Chief, The … Report"
        return [("_role", (None, part), "role line under the byline", LABELLED)]
    found: list[tuple] = []
    rest = part
    newsletter = newsletters.from_label.search(rest) if newsletters.from_label is not None and \
        (not newsletters.hint or newsletters.hint in rest) else None
    if newsletter:
        found.append(("newsletter", newsletters.name_in(newsletter.group(1)), "label from_label", LABELLED))
        rest = rest.replace(newsletter.group(0), " ")
    elif newsletters.hint and newsletters.hint in rest:
        named = newsletters.pattern.search(rest) if newsletters.pattern is not None else None
        if named:  # "<newsletter>, Volume 16, Number 1, January 2018" or "… | <newsletter>"
            found.append(("newsletter", newsletters.name_in(named.group(0)), "newsletter name in a header line",
                          LABELLED))
            rest = rest.replace(named.group(0), " ")
    volume = labels.volume.search(rest) if "Vol" in rest or "vol" in rest or "VOL" in rest else None
    if volume:
        found += [("issue_volume", volume.group("volume"), "volume line", LABELLED),
                  ("issue_number", volume.group("number"), "volume line", LABELLED)]
        rest = rest.replace(volume.group(0), " ")
    if found:
        rest = _EDGE_PUNCTUATION.sub("", rest)
    if not rest:
        return found or None
    if is_date_line(rest):
        found.append(("published", find_date(rest), "date line under the title", UNLABELLED))
    # Length first: the article's first paragraph gets this far, and the date regexes over a
    # whole paragraph cost more than all the other header tests.
    elif len(rest) < 30 and _DIGIT.search(rest) and parse_date(rest, month_only=True):
        month = parse_date(rest, month_only=True)
        found.append(("_month_date", month, "month line under the title", UNLABELLED))
        if volume:  # the volume line's month is its issue's
            found.append(("issue_date", month, "volume line", LABELLED))
    else:
        byline = byline_values(rest, labels)
        if byline is None:
            return None
        found += byline
    return found


def byline_values(text: str, labels) -> list[tuple] | None:
    """A byline, maybe followed by the role of its (last) author ("A, MD, Editor-in-Chief, …")."""
    if text[:3].lower() != "by " and not may_have_credentials(text):
        return None  # neither "By …" nor a credential: no byline (and no split to try)
    authors = named_authors(text)
    role = None
    if not authors and ", " in text and len(text) < 150:
        for cut in (m.start() for m in _COMMA.finditer(text)):
            if labels.role.match(text[cut + 2:]):
                authors, role = named_authors(text[:cut]), text[cut + 2:]
                break
    if not authors or not (any(a.credentials for a in authors) or text[:3].lower() == "by "):
        return None
    values = [("authors", authors, "byline under the title", LABELLED)]
    if role:
        values.append(("_role", (authors[-1].name, role), "role line under the byline", LABELLED))
    return values
