"""The condition language's lexer: text -> tokens with their positions.

One special mode: after the word ``cron`` or ``crontime`` an unquoted cron expression
(``*/5 * * * *`` or a macro such as ``@daily``) is read as a single ``CRON`` token, since
its characters mean nothing elsewhere in the language.
"""

from __future__ import annotations

import re
from enum import Enum

from tui_sched.errors import ConditionSyntaxError
from tui_sched.frozen import value


class Tok(Enum):
    """Token kinds."""

    WORD = "a word"
    STRING = "a quoted name"
    NUMBER = "a number"
    TIME = "a time such as 10:00"
    ORDINAL = "a day such as 1st"
    CRON = "a cron expression"
    AND = "'&'"
    OR = "'|'"
    NOT = "'~'"
    LPAREN = "'('"
    RPAREN = "')'"
    COMMA = "','"
    CMP = "a comparison"
    OTHER = "a character"
    EOF = "the end"


@value
class Token:
    """One token.

    Attributes:
        kind: What it is.
        text: Its text (without quotes for a ``STRING``).
        pos: Index of its first character in the source.
        end: Index just past its last character.
    """

    kind: Tok
    text: str
    pos: int
    end: int

    @property
    def word(self) -> str:
        """Lower-cased text: keywords are case-insensitive."""
        return self.text.lower()


_PATTERNS = [
    (Tok.TIME, r"\d{1,2}:\d{2}(?::\d{2})?"),
    # ``1.`` is Rocketry's (and German) spelling of the 1st ("monthly starting 1.").
    (Tok.ORDINAL, r"\d{1,2}(?:st|nd|rd|th)\b|\d{1,2}\.(?![\d.])"),
    (Tok.NUMBER, r"\d+(?:\.\d+)?"),
    (Tok.WORD, r"[A-Za-z_][A-Za-z0-9_]*"),
    (Tok.CMP, r">=|<=|==|!=|>|<"),
    (Tok.AND, r"&"),
    (Tok.OR, r"\|"),
    (Tok.NOT, r"~"),
    (Tok.LPAREN, r"\("),
    (Tok.RPAREN, r"\)"),
    (Tok.COMMA, r","),
    # Anything else is kept (custom condition phrases may contain it, e.g. ``x.csv``);
    # the parser rejects it where the built-in language is expected.
    (Tok.OTHER, r"."),
]
_MASTER = re.compile("|".join(f"(?P<{k.name}>{p})" for k, p in _PATTERNS))
_SPACE = re.compile(r"\s*")
_CRON_FIELD = re.compile(r"[^\s&|()~'\"]+")
CRON_WORDS = ("cron", "crontime")


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with an ``EOF`` token.

    Raises:
        ConditionSyntaxError: On an unclosed quote.
    """
    tokens: list[Token] = []
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    while pos < len(text):
        ch = text[pos]
        if ch in "'\"":
            close = text.find(ch, pos + 1)
            if close < 0:
                raise ConditionSyntaxError(text, pos, f"a closing {ch} for this name")
            tokens.append(Token(Tok.STRING, text[pos + 1:close], pos, close + 1))
            pos = close + 1
        else:
            m = _MASTER.match(text, pos)
            assert m is not None and m.lastgroup is not None  # OTHER matches any character
            kind = Tok[m.lastgroup]
            tokens.append(Token(kind, m.group(), pos, m.end()))
            pos = m.end()
            if kind is Tok.WORD and m.group().lower() in CRON_WORDS:
                pos = _lex_cron(text, pos, tokens)
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    tokens.append(Token(Tok.EOF, "", len(text), len(text)))
    return tokens


def _lex_cron(text: str, pos: int, tokens: list[Token]) -> int:
    """Read an unquoted cron expression (up to five fields, or one ``@macro``)."""
    start = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    if start >= len(text) or text[start] in "'\"":
        return pos  # quoted (or missing): the ordinary lexer handles it
    fields: list[re.Match[str]] = []
    at = start
    while len(fields) < 5:
        m = _CRON_FIELD.match(text, at)
        if m is None:
            break
        fields.append(m)
        if m.group().startswith("@"):
            break
        at = _SPACE.match(text, m.end()).end()  # type: ignore[union-attr]
    if not fields:
        return pos
    end = fields[-1].end()
    tokens.append(Token(Tok.CRON, " ".join(f.group() for f in fields), start, end))
    return end
