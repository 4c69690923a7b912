"""What comes in on the command line, and the one line that answers a mistake in it.

The CLI's bad input is handled at its causes rather than in each command:
argparse types that validate (`whole_number`, `record_id`) and usage errors on
one line (`OneLineParser`, exit 2); arguments that are not text refused before
parsing (`not_text`); a secret read from a prompt or standard input, never argv
(`secret_value`); and one translation of what the operating system says (a
missing file, a folder for a file, a full disk) into one line (`os_error`).
Every line goes through `one_line`, so nothing an argument carried (a line
break, an escape sequence, a bidi control) reaches the terminal as itself.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.errors import InputInvalid


def one_line(text: str) -> str:
    """What a person reads on one line: line breaks (of any kind) become spaces, and any other
    control or bidi character an argument carried is shown as its escape, never acted on by
    the terminal."""
    text = str(text)
    if any(c in text for c in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        text = " ".join(text.split())
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def fail(message: str, hint: str) -> int:
    print(f"practicemail: {one_line(message)}. {one_line(hint)}", file=sys.stderr)
    return 1


def note(message: str, hint: str) -> None:
    """One more line on standard error after work that was done (its exit code stays 0)."""
    print(f"practicemail: {one_line(message)}. {one_line(hint)}", file=sys.stderr)


def not_text(argv: Sequence[str]) -> str | None:
    """The first argument that is not text: bytes the system could not decode (a lone surrogate
    after Python's surrogateescape) or a NUL; such a value must not reach the store or a file."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg
        if "\x00" in arg:
            return arg
    return None


_OS_WORDS = {
    errno.ENOSPC: ("the disk is full", "Free some space on the disk that holds the data folder and run the command "
                                       "again; nothing was half-written."),
    getattr(errno, "EDQUOT", -1): ("the disk quota is used up", "Free some space (or ask for a larger quota) and "
                                                                "run the command again; nothing was half-written."),
    errno.ENOENT: ("{name} does not exist", "Check the name and the folder."),
    errno.EISDIR: ("{name} is a folder, not a file", "Give the name of a file."),
    errno.ENOTDIR: ("{name}: part of that path is not a folder", "Check the path."),
    errno.EACCES: ("permission denied for {name}", "Check that this user may read or write it."),
    errno.EPERM: ("not permitted: {name}", "Check that this user may read or write it."),
    errno.EROFS: ("{name} is on a read-only disk", "Choose a place that can be written."),
    errno.EEXIST: ("{name} is in the way: it already exists", "Move it, or choose another name."),
    errno.ENAMETOOLONG: ("a file name is too long", "Choose a shorter name."),
}


def os_words(code: int | None, strerror: str = "") -> tuple[str, str]:
    """The words for an errno: a message (with `{name}` for the file) and a hint."""
    return _OS_WORDS.get(code or 0, ("{name}: " + (strerror or (os.strerror(code) if code else "an error")).lower(),
                                     "Check the file or folder named and try again."))


def os_error(exc: OSError) -> int:
    """What the operating system said, as one line a person can act on."""
    name = exc.filename if exc.filename is not None else "a file"
    message, hint = os_words(exc.errno, exc.strerror or str(exc))
    return fail(message.format(name=name), hint)


class OneLineParser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (exit 2), like every other failure."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {one_line(message)}. `{self.prog} --help` shows the usage.\n")


def whole_number(lo: int, hi: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number from lo to hi (a huge one overflowed dates and file names)."""
    def parse(text: str) -> int:
        try:
            n = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:40]!r} is not {what} (a whole number)") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be from {lo} to {hi}, not {n}")
        return n

    parse.__name__ = what  # argparse names the type in its messages
    return parse


record_id = whole_number(1, 2**53, "an id")


def read_text_file(name: str, hint: str) -> str:
    """A text file a person named: UTF-8, or one line saying why not (a missing file or a
    folder is said by `main`'s translation of the OSError)."""
    try:
        return Path(name).read_text("utf-8")
    except UnicodeDecodeError:
        raise InputInvalid(f"{name} is not UTF-8 text", hint=hint) from None


def hidden_line(prompt: str, again: str = "") -> str:
    """One line nobody sees typed: at a terminal from a prompt that does not echo (asked twice
    when `again` is given, refused if the two differ), else one line of standard input; its line
    end dropped, "" when there was nothing to read."""
    try:
        if sys.stdin is not None and sys.stdin.isatty():
            import getpass

            value = getpass.getpass(prompt)
            if again and getpass.getpass(again) != value:
                raise InputInvalid("the two differ; nothing was changed", hint="Run the command again.")
            return value
        value = sys.stdin.readline() if sys.stdin is not None else ""
    except (EOFError, KeyboardInterrupt):
        value = ""
    value = value[:-1] if value.endswith("\n") else value
    return value[:-1] if value.endswith("\r") else value


def secret_value(key: str, given: str) -> str:
    """A secret comes from a no-echo prompt or standard input, never from argv.

    A value on the command line is readable by every user through `ps` and stays
    in the shell's history, so it is refused (an empty value, which clears the
    secret, gives nothing away). `-` reads it: from a prompt that does not echo
    when standard input is a terminal, else one line of standard input.
    """
    if given == "":
        return ""
    if given != "-":
        raise InputInvalid(f"{key} was not changed: a secret typed on the command line can be read by others",
                           hint=f"Use `practicemail config set {key} -` and type it at the prompt, "
                                "or pipe it on standard input.")
    value = hidden_line(f"{key} (not shown): ")
    if not value:
        raise InputInvalid(f"{key} was not changed: no value was given",
                           hint="Type the value at the prompt, or give it as one line on standard input.")
    return value
