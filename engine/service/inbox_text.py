"""The inbox search's second, slower stage (issue 19 finding 8: "sender, subject, body, date"):
the messages' text searched too.

Intake reads headers only (engine/core/incoming.py `facts`: the body is parsed when someone opens
the message), so no index holds the text: this walks the view's messages newest first, reads each
one's blob and parses it (`incoming.content`), and keeps those where every word is in the text
(the plain part, else the HTML part's words) or in the header haystack the fast search looks in.
It is bounded: at most `limit` found, and a `should_stop` the kiosk sets to cancel; and it can be
walked in steps (`step`), so the kiosk's jobs thread runs a click's command between two steps.
A message whose blob is missing or whose bytes cannot be read is passed over, never the end of it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from engine.core import incoming
from engine.service.inbox_search import FIELDS, haystack

T = TypeVar("T")
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
MAX_TEXT = 2_000_000  # characters of a message's text looked in (a huge one is not read to its end)


def html_words(markup: str) -> str:
    """The words of an HTML part, its tags dropped and entities read (&eacute; -> é)."""
    return html.unescape(_TAG.sub(" ", markup))


def message_text(raw: bytes) -> str:
    """What the text search looks in: the plain text and the HTML part's words, case-folded.
    Hostile bytes give what could be read ('' at worst); never an exception."""
    try:
        c = incoming.content(raw)
        return (c.text[:MAX_TEXT] + "\n" + html_words((c.html or "")[:MAX_TEXT])).casefold()
    except Exception:  # noqa: BLE001 - one unreadable message never stops the walk
        return ""


@dataclass(frozen=True)
class TextStep(Generic[T]):
    """One step of a text search: what it found, how many messages it has looked in so far,
    and whether the walk is over (every message looked in, the limit reached, or stopped)."""

    found: tuple[T, ...]
    searched: int
    done: bool


class TextSearch(Generic[T]):
    """One walk over the messages, resumed by each `results` or `step` (one thread at a time)."""

    def __init__(self, records: Iterator[dict[str, Any]], read: Callable[[str], bytes], words: list[str],
                 limit: int, shape: Callable[[dict[str, Any]], T]) -> None:
        if not words:
            raise ValueError("a search needs at least one word")
        self._records, self._read, self.words, self.limit, self._shape = records, read, words, limit, shape
        self.searched = self.found = 0
        self.done = False

    def _matches(self, r: dict[str, Any]) -> bool:
        hay = haystack(*(r.get(f) for f in FIELDS))
        left = [w for w in self.words if w not in hay]
        if not left:
            return True
        try:
            raw = self._read(str(r.get("blob") or ""))
        except Exception:  # noqa: BLE001 - a missing or unreadable blob: this message has no text to find
            return False
        text = message_text(raw)
        return all(w in text for w in left)

    def results(self, should_stop: Callable[[], bool] = lambda: False) -> Iterator[T]:
        """The messages found, newest first, until the walk ends or `should_stop()` (asked before
        each message) says so; called again, it goes on from where it stopped."""
        while not self.done and not should_stop():
            if self.found >= self.limit:
                self.done = True
                return
            r = next(self._records, None)
            if r is None:
                self.done = True
                return
            self.searched += 1
            if self._matches(r):
                self.found += 1
                yield self._shape(r)

    def step(self, messages: int, should_stop: Callable[[], bool] = lambda: False) -> TextStep[T]:
        """Look in at most `messages` more messages (fewer when stopped): what they gave."""
        until = self.searched + messages
        found = tuple(self.results(lambda: should_stop() or self.searched >= until))
        return TextStep(found, self.searched, self.done)

    def stop(self) -> None:
        """Cancelled: no more steps (the kiosk's Stop, a new search)."""
        self.done = True
