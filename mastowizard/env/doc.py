"""An env file as text: parsed with python-dotenv's parser, edited without touching anything else.

Comments, order, blank lines, quoting, `export` prefixes, CRLF line endings and duplicate keys
survive byte for byte wherever nothing changes. Values are written so that the three readers of
`.env.production` agree on them: Ruby's dotenv (web, sidekiq), Node's dotenv (streaming) and
Docker Compose's `env_file`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from dotenv.parser import parse_stream

from ..errors import InputError

BOM = "\ufeff"
# lead (blank lines, indentation), `export `, the key, `=` with its spaces
_HEAD = re.compile(r"(?P<lead>\s*)(?P<export>(?:export[^\S\r\n]+)?)(?P<key>'[^']+'|[^=#\s]+)"
                   r"(?P<eq>[^\S\r\n]*=[^\S\r\n]*)?")
_SINGLE = re.compile(r"'(?:\\'|[^'])*'")
_DOUBLE = re.compile(r'"(?:\\"|[^"])*"')
_EOL = re.compile(r"(\r\n|\n|\r)$")
# Safe unquoted for all three parsers: no whitespace, no comment sign, no expansion, no escapes, no
# double quote or backtick, and no single quote at the start (it would open a quoted value).
_PLAIN = re.compile(r"(?:[^\s#$\\'\"`][^\s#$\\\"`]*)?")


@dataclass
class Segment:
    """One piece of the file as python-dotenv splits it (a binding, a comment, or an error)."""

    text: str
    key: str | None
    value: str | None
    error: bool
    line: int   # 1-based line of the key (or of the segment's first character)

    @property
    def is_assignment(self) -> bool:
        return self.key is not None and not self.error

    def parts(self) -> tuple[str, str, str]:
        """(head up to and including '=', the value as written, tail: comment and line ending)."""
        m = _HEAD.match(self.text)
        assert m, self.text
        head = self.text[:m.end()]
        rest = self.text[m.end():]
        eol_m = _EOL.search(rest)
        eol = eol_m.group(1) if eol_m else ""
        body = rest[: len(rest) - len(eol)]
        if not m.group("eq"):
            return head, "", body + eol
        q = _SINGLE.match(body) if body.startswith("'") else _DOUBLE.match(body) if body.startswith('"') else None
        if q:
            return head, body[:q.end()], body[q.end():] + eol
        c = re.search(r"[^\S\r\n]+#", body)
        raw = body[:c.start()] if c else body
        value = raw.rstrip()
        return head, value, body[len(value):] + eol


def encode_value(key: str, value: str) -> str:
    """Write VALUE so that Ruby's dotenv, Node's dotenv and Compose read exactly VALUE back:
    plain when safe, single-quoted otherwise. Refuse what no quoting carries to all three."""
    if any(c in value for c in "\r\n\0"):
        raise InputError(key, "the value has a line break, which the three env readers do not agree on",
                         "use a value on one line")
    if _PLAIN.fullmatch(value):
        return value
    if "'" in value:
        raise InputError(key, "the value has a single quote together with spaces, #, $, \\ or \", which "
                         "Ruby's and Node's dotenv and Compose would read differently",
                         "choose a value without the single quote (for a secret: generate a new one)")
    if "${" in value:
        raise InputError(key, "the value has ${, which Docker Compose expands even inside quotes",
                         "choose a value without ${")
    if "\\\\" in value or value.endswith("\\"):
        raise InputError(key, "the value has a doubled or trailing backslash, which the env readers "
                         "would read differently", "choose a value without it")
    return f"'{value}'"


class EnvDocument:
    def __init__(self, text: str, source: str = ".env.production"):
        self.source = source
        self.bom = text.startswith(BOM)
        body = text[1:] if self.bom else text
        self.segments: list[Segment] = []
        for b in parse_stream(io.StringIO(body)):
            lead = len(b.original.string) - len(b.original.string.lstrip("\r\n"))
            line = b.original.line + b.original.string[:lead].count("\n") if b.key else b.original.line
            self.segments.append(Segment(b.original.string, b.key, b.value, b.error, line))
        assert "".join(s.text for s in self.segments) == body

    @classmethod
    def from_bytes(cls, data: bytes, source: str = ".env.production") -> EnvDocument:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(source, "is not UTF-8 text", "save it as UTF-8") from None
        if "\0" in text:
            raise InputError(source, "has NUL bytes: it is not a text file", "check that this is the env file")
        return cls(text, source)

    # -- reading -----------------------------------------------------------------------
    def text(self) -> str:
        return (BOM if self.bom else "") + "".join(s.text for s in self.segments)

    def errors(self) -> list[Segment]:
        return [s for s in self.segments if s.error]

    def check_parseable(self) -> None:
        bad = self.errors()
        if bad:
            raise InputError(f"{self.source} line {bad[0].line}", "cannot be parsed as KEY=VALUE",
                             "fix the quoting on that line (close every quote) or comment it out with #")

    def values(self) -> dict[str, str]:
        """Key to value as python-dotenv reads it; the last assignment wins, as in every reader."""
        out: dict[str, str] = {}
        for s in self.segments:
            if s.is_assignment:
                out[s.key] = s.value if s.value is not None else ""
        return out

    def occurrences(self, key: str) -> list[Segment]:
        return [s for s in self.segments if s.is_assignment and s.key == key]

    def duplicates(self) -> dict[str, list[int]]:
        lines: dict[str, list[int]] = {}
        for s in self.segments:
            if s.is_assignment:
                lines.setdefault(s.key, []).append(s.line)
        return {k: v for k, v in lines.items() if len(v) > 1}

    def line_ending(self) -> str:
        body = "".join(s.text for s in self.segments)
        return "\r\n" if "\r\n" in body else "\n"

    def expanding_values(self) -> list[str]:
        """Keys whose value Ruby's dotenv would expand ($VAR or $(cmd) outside single quotes)."""
        keys = []
        for s in self.segments:
            if s.is_assignment:
                _, written, _ = s.parts()
                if "$" in written and not written.startswith("'"):
                    keys.append(s.key)
        return keys

    # -- editing -------------------------------------------------------------------------
    def set(self, key: str, value: str) -> None:
        """Change the effective (last) assignment of KEY, or add KEY after the related keys."""
        encoded = encode_value(key, value)
        found = self.occurrences(key)
        if found:
            seg = found[-1]
            head, _, tail = seg.parts()
            if not _HEAD.match(seg.text).group("eq"):   # a bare `KEY` line
                head += "="
            seg.text = head + encoded + tail
            seg.value = value
            return
        self._insert(key, encoded, value)

    def remove(self, key: str) -> None:
        """Remove every assignment of KEY (an earlier duplicate would otherwise take effect)."""
        for seg in self.occurrences(key):
            m = _HEAD.match(seg.text)
            seg.text = m.group("lead") if m else ""
            seg.key = seg.value = None

    def _insert(self, key: str, encoded: str, value: str, anchor_prefix: str = "S3_") -> None:
        eol = self.line_ending()
        line = f"{key}={encoded}"
        related = [i for i, s in enumerate(self.segments)
                   if s.is_assignment and (s.key.startswith(anchor_prefix) or s.key.startswith("AWS_"))]
        if related:
            i = related[-1]
            seg = self.segments[i]
            if not _EOL.search(seg.text):
                seg.text += eol
            self.segments.insert(i + 1, Segment(line + eol, key, value, False, seg.line + 1))
            return
        body = "".join(s.text for s in self.segments)
        prefix = ""
        if body and not body.endswith(("\n", "\r")):
            prefix = eol
        if body.strip():
            prefix += eol
        header = f"# Object storage (written by mastowizard){eol}"
        self.segments.append(Segment(prefix + header + line + eol, key, value, False, body.count("\n") + 2))
