"""The inbox search's index (issue 19: a search over 250,000 messages within 150 ms).

Reception's search finds every word anywhere in a message's sender address or name, its subject
or the day it arrived (2026-11-30 or 30/11/2026): substrings, so a word index would not do. The
index keeps each message's searched text (`haystack`, case-folded) in blocks of BLOCK messages,
one string per block with a line per message; a search looks for one of its words from the
newest end of each block (`str.rfind`, C speed), and checks the other words on the same line.
The word looked for is the rarest in the block's newest lines (`str.count`, C speed too):
"patient 417" walks the few lines holding "417", not every line holding "patient".

Those fields never change once a message is stored, so the index only grows: each search first
takes in the messages stored since (`Partitioned.project` with `after`, from any writer). The
caller still checks each record it is given (a removed message, a view's other filters).

On PostgreSQL ids come from a sequence, so a message can be committed after one with a higher id
(a long intake transaction on another desk): the mark `after` passes it by. So the ids below the
mark that were missing when it moved (holes) are asked for again at every catch-up, and one that
turns up is put in its place in its block. A hole can stay a hole for ever (an intake rolled back,
a message removed before the index saw it): the newest storage.HOLES of them are kept.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from engine.adapters.storage import Partitioned, missing_ids

FIELDS = ("from", "from_name", "subject", "received")
BLOCK = 1024
SAMPLE = 8192  # characters of a block's newest lines in which its words are counted


def haystack(sender: Any, name: Any, subject: Any, received: Any) -> str:
    """What a search looks in, case-folded: the sender, their name, the subject, the day two ways."""
    day = str(received or "")[:10]
    return " ".join((str(sender or ""), str(name or ""), str(subject or ""), day,
                     "/".join(reversed(day.split("-"))))).casefold()


def found(hay: str, words: list[str]) -> bool:
    return all(w in hay for w in words)


@dataclass(frozen=True)
class _Block:
    ids: tuple[int, ...]  # ascending
    starts: tuple[int, ...]  # where each message's line starts in text
    text: str  # "\n".join of the lines, each line "\n"-free


def _block(rows: list[tuple[int, str]]) -> _Block:
    starts, at = [], 0
    for _rid, hay in rows:
        starts.append(at)
        at += len(hay) + 1
    return _Block(tuple(r for r, _ in rows), tuple(starts), "\n".join(h for _, h in rows))


class InboxSearch:
    """Message ids whose searched text holds every word, newest first."""

    def __init__(self, messages: Partitioned) -> None:
        self.messages = messages
        self._lock = threading.Lock()
        self._blocks: list[_Block] = []
        self._open: list[tuple[int, str]] = []  # the newest block's rows, not yet BLOCK
        self._after = 0
        self._holes: tuple[int, ...] = ()  # ascending: ids below the mark not seen yet

    def catch_up(self) -> None:
        """Take in the messages stored since the last search (all of them, the first time)."""
        self._catch_up()

    def _catch_up(self) -> list[_Block]:
        with self._lock:
            fresh = self.messages.project(FIELDS, after=self._after, also=self._holes)
            rows = [(rid, haystack(*values).replace("\n", " ")) for rid, values in fresh]
            late = [r for r in rows if r[0] <= self._after]
            new = [r for r in rows if r[0] > self._after]
            if late:
                self._take_late(late)
            if new:
                self._note_holes([rid for rid, _ in new])
                self._append(new)
            return list(self._blocks)

    def _note_holes(self, ids: list[int]) -> None:
        """The ids missing between the mark and the newest of `ids` (ascending) may yet come."""
        self._holes = missing_ids(self._after, ids, self._holes)
        self._after = ids[-1]

    def _append(self, new: list[tuple[int, str]]) -> None:
        had_open = bool(self._open)
        rows = self._open + new
        full = len(rows) - len(rows) % BLOCK
        done = [_block(rows[i:i + BLOCK]) for i in range(0, full, BLOCK)]
        self._open = rows[full:]
        if had_open:
            self._blocks.pop()  # the open block is rebuilt with its new rows
        self._blocks += done + ([_block(self._open)] if self._open else [])

    def _take_late(self, late: list[tuple[int, str]]) -> None:
        """Messages committed after the mark passed their ids: each into its block, in id order."""
        seen = {rid for rid, _ in late}
        self._holes = tuple(h for h in self._holes if h not in seen)
        if not self._blocks:
            self._append(late)
            return
        firsts = [b.ids[0] for b in self._blocks]
        changed: dict[int, list[tuple[int, str]]] = {}
        for rid, hay in late:
            at = max(0, bisect.bisect_right(firsts, rid) - 1)
            if at not in changed:
                b = self._blocks[at]
                changed[at] = list(zip(b.ids, b.text.split("\n")))
            bisect.insort(changed[at], (rid, hay))
        for at, block_rows in changed.items():
            self._blocks[at] = _block(block_rows)
            if at == len(self._blocks) - 1 and self._open:
                self._open = block_rows  # the open block: bigger, perhaps past BLOCK, until it closes

    def newest(self, words: list[str]) -> Iterator[int]:
        """Ids of messages holding every (case-folded, whitespace-free) word, newest first."""
        if not words:
            raise ValueError("a search needs at least one word")
        for block in reversed(self._catch_up()):
            text, starts, at = block.text, block.starts, len(block.text)
            tail = max(0, at - SAMPLE)  # the rarest word in the block's newest lines: fewest lines to look at
            first = words[0] if len(words) == 1 else min(words, key=lambda w: text.count(w, tail))
            while at > 0:
                hit = text.rfind(first, 0, at)
                if hit < 0:
                    break
                line = bisect.bisect_right(starts, hit) - 1
                end = starts[line + 1] - 1 if line + 1 < len(starts) else len(text)
                if found(text[starts[line]:end], words):
                    yield block.ids[line]
                at = starts[line]
