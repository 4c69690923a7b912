"""The inbox search's text stage (issue 19 finding 8; engine/service/inbox_text.py): how many
messages a second the walk reads (each blob read and parsed, its text case-folded and looked in),
for a word in no message, so every message is read. The mail is a mix: plain, quoted-printable,
base64, HTML only, a koi8-r letter, and one in ten with a 200 KB PDF attached. Also the time of
one kiosk step (kiosk/inbox_text.py STEP messages): what a click's command may wait behind.
Medians of 3 walks; the machine may be busy (say `uptime` beside the figures).

    python tools/bench/inbox_text.py [--messages 5000] [--backend tinydb|postgres]
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.service.inbox import Inbox  # noqa: E402
from engine.service.inbox_records import InboxMessage  # noqa: E402
from engine.service.practice import Practice  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
LETTER = ("Dear practice,\r\nThank you for seeing me on Tuesday. The crown feels fine but the gum "
          "around it is a little sore when I brush. Should I book a check-up or wait a week?\r\n"
          "Kind regards,\r\nAnn\r\n") * 4


def raw(n: int) -> bytes:
    head = f"From: Ann {n} <ann{n}@example.org>\r\nSubject: Question {n}\r\nMIME-Version: 1.0\r\n".encode()
    kind = n % 5
    if kind == 0:
        body = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + LETTER.encode()
    elif kind == 1:
        body = (b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + LETTER.replace("fine", "=C3=A9t=C3=A9").encode())
    elif kind == 2:
        body = (b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(LETTER.encode()))
    elif kind == 3:
        body = (b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>"
                + LETTER.replace("\r\n", "<br>").encode() + b"</p></body></html>")
    else:
        body = b"Content-Type: text/plain; charset=koi8-r\r\n\r\n" + ("Здравствуйте! " * 40).encode("koi8-r")
    if n % 10 == 9:  # an attachment: the walk parses past it
        pdf = base64.encodebytes(os.urandom(200_000))
        inner = body.replace(b"\r\n\r\n", b"\r\n\r\n", 1)
        body = (b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n--BB\r\n" + inner + b"\r\n--BB\r\n"
                b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=x.pdf\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n" + pdf + b"--BB--\r\n")
    return head + body


def fill(inbox: Inbox, n: int) -> int:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    total = 0
    for lo in range(0, n, 500):
        raws = [raw(i) for i in range(lo, min(n, lo + 500))]
        total += sum(len(r) for r in raws)
        shas = inbox.store.blobs.put_many(raws)
        inbox.messages.insert_many([InboxMessage(
            from_address=f"ann{lo + i}@example.org", from_name=f"Ann {lo + i}", subject=f"Question {lo + i}",
            received=(start + timedelta(minutes=lo + i)).isoformat(), blob=sha, size=len(r), source="bench",
            origin="bench").record() for i, (sha, r) in enumerate(zip(shas, raws))])
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    from kiosk.inbox_text import STEP

    with tempfile.TemporaryDirectory() as tmp, Practice(Path(tmp) / "data", writer=True, command="bench") as p:
        inbox = Inbox.for_practice(p)
        size = fill(inbox, args.messages)
        walks, steps = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            walk = inbox.text_search("zz-no-such-word", show_all=True)
            while not walk.done:
                s0 = time.perf_counter()
                walk.step(STEP)
                steps.append(time.perf_counter() - s0)
            walks.append(time.perf_counter() - t0)
            assert walk.searched == args.messages
        took = statistics.median(walks)
        print(f"text search over {args.messages:,} messages ({size / 1e6:.0f} MB of mail), every one read:")
        print(f"  walk {took:6.2f} s  = {args.messages / took:7.0f} messages/s  ({size / 1e6 / took:.0f} MB/s)")
        print(f"  one kiosk step of {STEP}: median {statistics.median(steps) * 1000:.0f} ms, "
              f"longest {max(steps) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
