"""Bad input to the parser: generated and mutated pages never raise anything but the documented
NotAnArticle / InputTooLarge, and never take more than a bounded time per page (a generous bound:
this is a hang detector, not a speed test; speed lives in bench/)."""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from pathlib import Path

from figures import LARGE, add
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archiver.errors import InputTooLarge, NotAnArticle
from archiver.parse import discover_links, parse_article
from archiver.record import Article

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "pages"
FIXTURES = sorted(PAGES.glob("*.html"))
URL = "https://www.thecarlatreport.com/articles/4242-fuzzed-page"
BOUND_SECONDS = 5.0
EXAMPLES = 300 if LARGE else 25
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not LARGE,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])
answers: dict[str, Counter] = {}


def attempt(kind: str, page: bytes | str, headers: dict | None = None) -> None:
    """Parse and discover links; only the documented errors; within the bound."""
    started = time.monotonic()
    try:
        article = parse_article(page, url=URL, headers=headers)
        assert isinstance(article, Article)
        Article.from_json(article.to_json())  # the record always serialises
        answer = "article"
    except NotAnArticle:
        answer = "not an article"
    except InputTooLarge:
        answer = "too large"
    links = discover_links(page, URL, headers)
    assert all(link.startswith(("http://", "https://")) for link in links)
    elapsed = time.monotonic() - started
    assert elapsed < BOUND_SECONDS, f"{kind}: {elapsed:.1f} s"
    answers.setdefault(kind, Counter())[answer] += 1
    add("fuzz", tried={kind: 1}, answers={f"{kind}: {answer}": 1})
    slowest = add_slowest(kind, elapsed)
    assert slowest < BOUND_SECONDS


_slowest: dict[str, float] = {}


def add_slowest(kind: str, elapsed: float) -> float:
    _slowest[kind] = max(_slowest.get(kind, 0.0), elapsed)
    import figures

    figures._collected.setdefault("fuzz", {}).setdefault("slowest_seconds", {})[kind] = round(_slowest[kind], 3)
    return _slowest[kind]


fixture = st.sampled_from(FIXTURES).map(lambda p: p.read_bytes())


@FUZZ
@given(fixture, st.floats(0, 1))
def test_truncated_fixtures(page, share):
    attempt("truncated fixture", page[: int(len(page) * share)])


@FUZZ
@given(fixture, st.randoms(use_true_random=False))
def test_shuffled_tags(page, rng):
    tokens = re.split(rb"(<[^>]*>)", page)
    start = rng.randrange(len(tokens))
    window = tokens[start:start + rng.randrange(2, 400)]
    rng.shuffle(window)
    attempt("shuffled tags", b"".join(tokens[:start] + window + tokens[start + len(window):]))


@FUZZ
@given(fixture, st.lists(st.tuples(st.floats(0, 1), st.binary(max_size=8), st.integers(0, 16)),
                         min_size=1, max_size=30))
def test_mutated_bytes(page, edits):
    data = bytearray(page)
    for where, insert, delete in edits:
        at = int(where * len(data))
        data[at:at + delete] = insert
    attempt("mutated bytes", bytes(data), {"content-type": "text/html; charset=utf-8"})


@FUZZ
@given(st.binary(max_size=20_000))
def test_random_bytes(data):
    attempt("random bytes", data)


@FUZZ
@given(st.text(max_size=5_000))
def test_random_text(text):
    attempt("random text", text)


@FUZZ
@given(st.integers(10, 30_000), st.sampled_from(["div", "span", "article", "table", "ul", "b"]))
def test_deeply_nested_markup(depth, tag):
    page = ("<html><head><title>Deep | The Carlat Report</title></head><body><h1>Deep</h1>"
            + f"<{tag}>" * depth + "<p>Published On: March 1, 2021. Some text in the middle.</p>"
            + f"</{tag}>" * depth + "</body></html>")
    attempt("deeply nested markup", page)


def test_pages_with_100k_elements():
    rng = random.Random(3)
    sizes = [100_000, 150_000] if LARGE else [100_000]
    for count in sizes:
        paragraphs = "".join(f"<p>Paragraph {n} about {rng.choice(['lithium', 'sleep', 'mood'])}.</p>"
                             for n in range(count))
        attempt("100k-element page", "<html><body><article><h1>Many paragraphs</h1>"
                f"<div class='author'>By Jane Roe, MD</div>{paragraphs}</article></body></html>")
        links = "".join(f'<a href="/articles/{n}-x">{n}</a>' for n in range(count))
        attempt("100k-element page", f"<html><body>{links}</body></html>")


def test_input_over_the_cap_is_refused_as_too_large():
    page = b"<html><body>" + b"<p>x</p>" * (21 * 1024 * 1024 // 8) + b"</body></html>"
    attempt("over the 20 MB cap", page)
    assert answers["over the 20 MB cap"]["too large"] == 1


def test_stray_control_characters_do_not_cost_the_article():
    # Found by test_mutated_bytes: one \x01 in the page made lxml refuse it ("All strings must
    # be XML compatible") and the crawl lost the article.
    page = (PAGES / "tcpr-expert-qa.html").read_bytes()
    middle = len(page) // 2
    dirty = page[:middle] + b"\x01\x02\x1f\x0b" + page[middle:]
    clean = parse_article(page, url=URL)
    assert parse_article(dirty, url=URL).to_dict() == clean.to_dict()
    assert parse_article(dirty.decode("utf-8"), url=URL).to_dict() == clean.to_dict()
    attempt("control characters", dirty)
