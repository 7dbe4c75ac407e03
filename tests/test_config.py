"""archiver.toml: defaults for the real site, documented keys, one-line errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archiver import __version__
from archiver.config import KEYS, CrawlConfig, load_config
from archiver.errors import ArchiverError

EXAMPLE = Path(__file__).resolve().parents[1] / "archiver.toml.example"


def test_defaults_are_polite_for_the_real_site():
    config = CrawlConfig()
    assert config.delay == 1.0
    # The project by name and version, and no made-up contact: the operator adds theirs.
    assert config.user_agent.startswith(f"archiver/{__version__} ")
    assert not any(fake in config.user_agent for fake in ("example.org", "your-org", "@"))
    assert config.warc_dir == "data/warc" and config.warc
    assert config.retries > 0 and config.timeout > 0


def test_flat_keys_and_crawl_table(tmp_path):
    flat = tmp_path / "flat.toml"
    flat.write_text('delay = 2.5\nconcurrency = 2\nallow_hosts = ["cdn.example.org"]\nwarc = false\n')
    config = load_config(flat)
    assert (config.delay, config.concurrency, config.allow_hosts, config.warc) == (
        2.5, 2, ["cdn.example.org"], False)
    table = tmp_path / "table.toml"
    table.write_text("[crawl]\nmax_pages = 10\ntimeout = 5\n")
    assert (load_config(table).max_pages, load_config(table).timeout) == (10, 5)


@pytest.mark.parametrize("text, message", [
    ("dealy = 1\n", "unknown key 'dealy'"),
    ("delay = 'fast'\n", "'delay' must be float"),
    ("concurrency = true\n", "'concurrency' must be int, not a boolean"),
    ("start_urls = [1]\n", "must be a list of strings"),
    ("delay = -1\n", "delay must not be negative"),
    ("concurrency = 0\n", "concurrency must be at least 1"),
    ("delay = \n", "not valid TOML"),
])
def test_bad_config_is_one_line_error(tmp_path, text, message):
    path = tmp_path / "archiver.toml"
    path.write_text(text)
    with pytest.raises(ArchiverError, match=re.escape(message)) as info:
        load_config(path)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == 2


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ArchiverError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_flags_override_and_none_leaves_setting_alone():
    config = CrawlConfig(delay=3).replace(delay=None, concurrency=8)
    assert (config.delay, config.concurrency) == (3, 8)
    with pytest.raises(ArchiverError):
        CrawlConfig().replace(retries=-2)


def test_example_file_documents_every_key_and_loads():
    text = EXAMPLE.read_text()
    documented = set(re.findall(r"^#?\s*([a-z_]+)\s*=", text, flags=re.M))
    assert documented == set(KEYS)
    assert load_config(EXAMPLE) == CrawlConfig()


def test_every_key_is_also_a_crawl_flag():
    from archiver.cli import crawl

    names = {param.name for param in crawl.params}
    aliases = {"start_urls": "urls", "db": "db_path", "log": "log_file"}
    assert {aliases.get(key, key) for key in KEYS} <= names
