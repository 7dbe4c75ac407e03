"""Where a page's text is, from its shape: the densest block and its paragraphs, small chrome
boxes, text size."""

from __future__ import annotations

import re

from archiver.parse.blocks import blocks_of
from archiver.parse.density import Shape, lead_prose, prose_size, prune_boxes, share_kept, text_size
from archiver.parse.page import load_tree, text_of

CHROME = re.compile(r"(?:^|[\s_-])(?:share|related|comments?|toc|sidebar|cookies?)(?=$|[\s_-])", re.I)
PARAGRAPH = ("<p>The harbour board voted on Tuesday to rebuild the north pier in timber rather than "
             "concrete, after a survey found the old piles sound below the mud line.</p>")


def tree(body: str):
    return load_tree(f"<html><head><title>t</title></head><body>{body}</body></html>")


def pruned(body: str) -> str:
    root = tree(body)
    prune_boxes(root, CHROME, blocks_of(root))
    return " ".join(text_of(root.find("body")).split())


def test_the_densest_block_is_the_parent_of_the_articles_paragraphs_not_a_long_comment():
    root = tree(f'<div id="post">{PARAGRAPH * 3}</div>'
                f'<ol class="comments"><li><div class="c">{PARAGRAPH}</div></li>'
                f'<li><div class="c">{PARAGRAPH}</div></li></ol>')
    shape = Shape(blocks_of(root))
    assert shape.densest.get("id") == "post"
    assert shape.prose[root.find("body")] == 5 * shape.prose[root.find(".//li")]


def test_a_wrapper_named_like_chrome_is_kept_and_its_share_bar_removed():
    text = pruned(f'<div class="entry-content no-share">{PARAGRAPH * 4}'
                  '<div class="share-buttons"><a href="/s">Share this</a> <a href="/m">Email</a></div></div>')
    assert text.count("harbour board") == 4 and "Share this" not in text


def test_comments_that_outweigh_a_short_post_do_not_take_the_post_along():
    # Thirty comments: the post, named like them, holds well under a tenth of the page's prose,
    # but it is the densest block (two paragraphs in one parent; each comment has one).
    comments = "".join(f'<div class="comment">{PARAGRAPH}</div>' for _ in range(30))
    text = pruned(f'<div class="post with-comments"><div class="body">{PARAGRAPH * 2}</div></div>'
                  f'<div class="comments-area">{comments}</div>')
    assert text.count("harbour board") == 2  # the post's two; every comment went


def test_a_heading_or_paragraph_named_like_chrome_is_text_not_a_box():
    text = pruned(f'<div class="article">{PARAGRAPH}<h2 class="TOC_TITLE_1">Why timber</h2>{PARAGRAPH * 3}'
                  '<p class="share-quote">A pier is a promise to the next century.</p></div>')
    assert "Why timber" in text and "A pier is a promise" in text


def test_a_box_holding_much_of_the_text_is_kept_whatever_its_name():
    # Two halves of a story, the second in a box a theme called "related-content".
    text = pruned(f'<div class="story">{PARAGRAPH * 3}</div><div class="related-content">{PARAGRAPH * 2}</div>')
    assert text.count("harbour board") == 5


def test_small_boxes_outside_the_article_go_even_on_a_short_page():
    # On a short page a cookie notice is more than a tenth of the prose: a sentence or two is small.
    text = pruned(f'<div class="story">{PARAGRAPH}</div><div class="cookie-banner"><p>We use cookies '
                  'to remember your settings and count visits.</p></div>'
                  '<div class="sidebar"><p>Tide tables for the week ahead, updated daily.</p></div>')
    assert "cookies" not in text and "Tide tables" not in text and "harbour board" in text


def test_text_size_counts_words_and_unspaced_scripts_by_characters():
    assert text_size("The pier will be rebuilt in timber.") == 7
    assert text_size("今年は初めてベランダでミニトマトを育てています。") == 12  # 23 characters and a stop
    assert text_size("Kindle for PCの起動ショートカット") == 3 + 5  # 10 characters
    assert text_size("") == text_size(None) == 0


def test_prose_size_leaves_out_the_pages_link_lists():
    root = tree(f'{PARAGRAPH}<ul><li><a href="/a">Ferry timetable changes after pier repairs</a></li></ul>')
    blocks = blocks_of(root)
    body = "The harbour board voted on Tuesday.\nFerry timetable changes after pier repairs"
    assert prose_size(body, blocks) == 6
    assert text_size(body) == 12


def test_the_lead_prose_is_the_densest_blocks_own_paragraphs():
    root = tree(f'<div id="post">{PARAGRAPH * 3}</div><div class="notice"><p>Printed for personal '
                'use only; ask the publisher before you copy it.</p></div>')
    lead = lead_prose(blocks_of(root))
    assert len(lead) == 3 and all(text.startswith("The harbour board") for text in lead)


def test_a_layout_tables_row_is_not_lead_prose():
    # A whole page in one cell: its row is the densest block's only block, menus and all.
    root = tree(f'<table><tr><td>Home | News | Sport<br><br>{PARAGRAPH[3:-4] * 3}</td></tr></table>')
    assert lead_prose(blocks_of(root)) == []


def test_share_kept_counts_the_sentences_a_text_holds():
    parts = ["The pier will be rebuilt in timber. Work starts in May.", "Ferries use the south slipway."]
    kept = "Work starts in May.\n\nFerries use the south slipway."  # cut apart, the first left out
    sizes = [len("Thepierwillberebuiltintimber"), len("WorkstartsinMay"), len("Ferriesusethesouthslipway")]
    assert share_kept(kept, parts) == (sizes[1] + sizes[2]) / sum(sizes)
    assert share_kept(None, parts) == 0.0 and share_kept("anything", []) == 1.0
