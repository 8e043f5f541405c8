"""Values are written so that Ruby's dotenv, Node's dotenv and python-dotenv read them back exactly.

Checked with the real parsers: Debian's ruby-dotenv (web, sidekiq), npm's dotenv 16 (streaming) and
Debian's docker-compose 1.29 (env_file on Docker installs).
"""

import pytest

from mastowizard.env.doc import EnvDocument, encode_value
from mastowizard.errors import InputError
from mastowizard_lab import parsers

VALUES = [
    "plain", "", "mastodon-media", "https://files.example.com", "AKIA0123456789ABCDEF",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "a+b/c=d", "with space", "  leading and trailing  ",
    "hash#inside", "hash # comment-like", "#starts", "dollar$sign", "$HOME", "$(whoami)", "{$HOME}",
    'double"quote', '"fully double quoted"', "back\\slash", "tab\there", "ünïcödé", "日本語のバケット", "emoji 🐘",
    "=equals=", "semi;colon", "it's", "`backtick`", "a\\b\\c", "curly{brace}", "percent%20", "x" * 300,
]
REFUSED = ["${HOME}", "a${x}b", "it's # not", "line\nbreak", "cr\rhere", "trailing\\", "double\\\\backslash",
           "quote' and $dollar"]


@pytest.fixture(scope="module")
def readers():
    parsers.install()
    return parsers


def test_every_accepted_value_reads_back_the_same_in_all_parsers(readers):
    lines = [f"V{i}={encode_value(f'V{i}', v)}" for i, v in enumerate(VALUES)]
    text = "\n".join(lines) + "\n"
    expected = {f"V{i}": v for i, v in enumerate(VALUES)}
    ruby, node, compose = readers.ruby_parse(text), readers.node_parse(text), readers.compose_parse(text)
    python = EnvDocument(text).values()
    for key, want in expected.items():
        assert (ruby.get(key), node.get(key), compose.get(key), python.get(key)) == (want,) * 4, key


def test_values_set_in_an_existing_file_read_back_everywhere(readers):
    doc = EnvDocument("# head\nexport V0=old # keep this comment\nV1='old'\nV2=\"old\"\r\nOTHER=$HOME\n")
    for i, v in enumerate(VALUES[:12]):
        doc.set(f"V{i}", v)
    text = doc.text()
    ruby, node, compose = readers.ruby_parse(text), readers.node_parse(text), readers.compose_parse(text)
    for i, v in enumerate(VALUES[:12]):
        assert ruby[f"V{i}"] == node[f"V{i}"] == compose[f"V{i}"] == v
    assert "# keep this comment" in text and text.startswith("# head\nexport V0=")


@pytest.mark.parametrize("value", REFUSED)
def test_values_no_quoting_carries_are_refused(value):
    with pytest.raises(InputError) as e:
        encode_value("S3_BUCKET", value)
    assert e.value.field == "S3_BUCKET" and e.value.fix
    assert value not in str(e.value)


def test_refused_values_really_differ_between_parsers(readers):
    """The refusals are not over-cautious: written naively, each comes back wrong in at least one
    reader (python-dotenv is mastowizard's own reader of the file)."""
    naive = {"R0": "'it's # not'", "R1": "'trailing\\'", "R2": "'quote' and $dollar'", "R3": "'double\\\\backslash'",
             "R4": "'${HOME}'"}
    wanted = {"R0": "it's # not", "R1": "trailing\\", "R2": "quote' and $dollar", "R3": "double\\\\backslash",
              "R4": "${HOME}"}
    text = "".join(f"{k}={v}\n" for k, v in naive.items())
    readings = [readers.ruby_parse(text), readers.node_parse(text), readers.compose_parse(text),
                EnvDocument(text).values()]
    for k, want in wanted.items():
        assert any(r.get(k) != want for r in readings), k
