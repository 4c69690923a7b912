"""Reading command lines safely, and switching a connection to TLS safely.

- A line longer than the stream's limit (64 KiB) is read to its end and thrown away, and
  the caller answers it (BAD, -ERR): a client that sends one long line gets a reply and
  keeps its session, as from a real server, instead of a dropped connection.
- At STARTTLS/STLS whatever plaintext the client sent after the command is discarded
  before the handshake (RFC 3207 §4.2, RFC 2595 §3.1; the command-injection class of
  CVE-2011-0411): nothing an attacker slipped in before encryption runs after it.
"""

from __future__ import annotations

import asyncio
import ssl


class LineTooLong(Exception):
    def __init__(self, head: bytes) -> None:
        super().__init__("line too long")
        self.head = head  # the line's first bytes (an IMAP tag is answered by name)


async def read_line(reader: asyncio.StreamReader) -> bytes:
    """One line with its end; b"" at end of stream; LineTooLong after skipping an overlong one."""
    head: bytes | None = None
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:  # end of stream
            return b"" if head is not None else exc.partial
        except asyncio.LimitOverrunError as exc:
            skipped = await reader.readexactly(max(exc.consumed, 1))  # throw this much away, look again
            head = skipped[:100] if head is None else head
            continue
        if head is not None:
            raise LineTooLong(head)
        return line


async def start_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, context: ssl.SSLContext) -> None:
    # StreamReader has no public way to drop what it has buffered; its buffer is a bytearray.
    reader._buffer.clear()  # type: ignore[attr-defined]  # noqa: SLF001 - see the module docstring
    await writer.start_tls(context)
