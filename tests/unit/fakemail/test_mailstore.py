"""The fake servers' Maildir: UIDs are given once, in arrival order, and survive restarts."""

from __future__ import annotations

import json
from pathlib import Path

from tools.fakemail.mailstore import ADDED, STATE, Mailbox, maildir_deliver


def _uids(box: Mailbox) -> dict[str, int]:
    return {m.name: m.uid for m in box.messages}


def test_new_mail_moves_to_cur_and_keeps_its_uid_across_restarts(tmp_path: Path) -> None:
    folder = tmp_path / "user"
    first = [maildir_deliver(folder, b"Subject: %d\r\n\r\nx" % i).name for i in range(3)]
    box = Mailbox(folder)
    assert [_uids(box)[n] for n in first] == [1, 2, 3]
    assert not list((folder / "new").iterdir()) and len(list((folder / "cur").iterdir())) == 3

    later = [maildir_deliver(folder, b"Subject: later %d\r\n\r\nx" % i).name for i in range(2)]
    assert box.refresh() is True and box.refresh() is False
    assert [_uids(box)[n] for n in later] == [4, 5]
    assert (folder / ADDED).exists()  # new mail appended, the snapshot not rewritten

    again = Mailbox(folder)  # a restart reads the snapshot plus the side file
    assert _uids(again) == _uids(box) and again.uidnext == 6 and again.uidvalidity == box.uidvalidity

    box.messages[0].flags.add("\\Seen")
    box.save()  # a full snapshot absorbs the side file
    assert not (folder / ADDED).exists()
    assert _uids(Mailbox(folder)) == _uids(box)


def test_a_file_removed_by_hand_is_forgotten(tmp_path: Path) -> None:
    """Noticed by cur/'s time, or (removed within the same clock tick as a look) when read."""
    import pytest

    folder = tmp_path / "user"
    names = [maildir_deliver(folder, b"Subject: %d\r\n\r\nx" % i).name for i in range(3)]
    box = Mailbox(folder)
    (folder / "cur" / names[1]).unlink()
    gone = box.messages[1]
    with pytest.raises(FileNotFoundError):
        gone.read()
    assert box.stale and box.refresh() is True and not box.stale
    assert [m.name for m in box.messages] == [names[0], names[2]]
    assert [m.uid for m in Mailbox(folder).messages] == [1, 3]


def test_state_written_by_the_first_format_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "user"
    name = maildir_deliver(folder, b"Subject: old\r\n\r\nx").name
    (folder / STATE).write_text(json.dumps({"uidvalidity": 77, "uidnext": 10,
                                            "messages": {name: {"uid": 9, "flags": ["\\Seen"]}}}))
    box = Mailbox(folder)
    assert (box.uidvalidity, box.uidnext, _uids(box), box.messages[0].flags) == (77, 10, {name: 9}, {"\\Seen"})
    assert (folder / "cur" / name).exists()
