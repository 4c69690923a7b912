"""A kiosk process without a window, for the several-desks test: `python -m
tests.integration.desk_kiosk FOLDER FIRST COUNT` opens the App as another desk
(PRACTICEMAIL_DATABASE), queues COUNT emails through the service (subjects "Item FIRST" on),
asks for a Send/Receive every 25, and prints the outbox ids it was given, one JSON list.

While the service changes hands (killed, the standby not in yet) the desk is told it is not
running, or gets no answer: it asks again. A row that was not answered is withdrawn before the
desk asks again, and one the service took is answered by whichever service finishes it, so
asking again never queues an email twice.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from engine.errors import ServiceUnavailable
from engine.service.app import App, NewEmail

PATIENTS = ("P001", "P005", "P010", "P012", "P020")


def asked(fn, *args):  # noqa: ANN001, ANN002, ANN202 - a retrying call
    for _ in range(600):
        try:
            return fn(*args)
        except ServiceUnavailable:
            print("waited", file=sys.stderr, flush=True)
            time.sleep(0.2)  # the standby takes over within a few seconds
    raise SystemExit("the service never came back")


def main(folder: str, first: str, count: str) -> int:
    rids = []
    with App.open_desk(Path(folder), command="practicemail kiosk") as app:
        assert app.on_another_desk, "this desk should not run the service"
        for k in range(int(first), int(first) + int(count)):
            email = NewEmail(PATIENTS[k % len(PATIENTS)], subject=f"Item {k}", text=f"Number {k}.")
            rids.append(asked(app.compose, email))
            if k % 25 == 24:
                asked(app.send_receive_now)
    print(json.dumps(rids))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
