"""The words of bounces, as data: who sends them, how the big providers phrase a failure when
they do not send a standard report (RFC 3464), and which reason in plain words a status
code or a server's diagnostic means. engine/core/bounces.py reads these tables and nothing
else; a new provider's wording is a line here, not code.

Each pattern is a regular expression matched case-insensitively against text that came
from outside: keep them simple (no nested repetition), so no text can make them slow.
"""

from __future__ import annotations

# Local parts (before the @) of the addresses bounces come from, and display names that
# say the same. A vacation reply comes from the person; a bounce never does.
DAEMON_LOCAL_PARTS = ("mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mdaemon", "bounce", "bounces",
                      "mail.delivery.system", "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e")
DAEMON_NAMES = (r"mail delivery (subsystem|system|service)", r"mailer[- ]daemon", r"postmaster",
                r"microsoft outlook", r"delivery status notification")

# Subjects of an auto-reply (RFC 3834 replies often lack the header): never a bounce.
VACATION_SUBJECTS = (r"out of (the )?office", r"\bvacation\b", r"\bon (annual )?leave\b", r"auto(matic)?[- ]?reply",
                     r"\baway from\b", r"abwesenheit", r"absence")

# Non-standard bounces: (provider, a phrase saying it failed for good, a phrase saying delayed).
# Gmail's older text notice, Exchange/Outlook's NDR text, Yahoo's (qmail's) "failure notice",
# and the wording of Postfix and Exim when they send plain text.
PROVIDERS: tuple[tuple[str, str, str], ...] = (
    ("gmail", r"delivery to the following recipients? failed permanently|your message wasn't delivered to"
              r"|address not found|message blocked",
     r"delivery to the following recipients? has been delayed|delivery incomplete"
     r"|there was a temporary problem delivering"),
    ("outlook", r"delivery has failed to these recipients or groups|your message to .{1,200} couldn't be delivered"
                r"|your message couldn't be delivered",
     r"delivery is delayed to these recipients or groups|delivery has been delayed"),
    ("yahoo", r"sorry, we were unable to deliver your message|i'm afraid i wasn't able to deliver your message"
              r"|failure notice",
     r"message delivery has been delayed|has not yet been delivered"),
    ("postfix", r"i'm sorry to have to inform you that your message could not\s+be delivered"
                r"|this is the mail system at host",
     r"delayed mail \(still being retried\)|your message could not be delivered for more than"),
    ("exim", r"this message was created automatically by mail delivery software\.\s+a message that you sent"
             r" could not be delivered to one or more of its recipients",
     r"message has not yet been\s+delivered|warning: message .{1,80} delayed"),
)

# Where a text bounce starts quoting the message it returns: the first header block after
# such a line is the returned message's (and its Message-ID ours, when it is ours).
ORIGINAL_MARKERS = (r"-+ ?original message ?-+", r"-+ ?below this line is a copy of the message\.? ?-*",
                    r"-+ ?this is a copy of the message, including all the headers\.? ?-*",
                    r"original message headers:", r"-+ ?the header of the original message is following\.? ?-*",
                    r"-+ ?original message follows\.? ?-*")

# Reasons in plain words, from the server's diagnostic text: the first that matches wins,
# so the particular comes before the general ("mailbox unavailable" says little).
FULL, MISSING, SPAM, DISABLED, NO_DOMAIN = ("the mailbox is full", "the mailbox does not exist", "rejected as spam",
                                            "the mailbox is disabled", "the domain does not exist")
TEXT_REASONS: tuple[tuple[str, str], ...] = (
    (r"mailbox (is )?full|over ?quota|quota exceeded|exceeded (its|the|their) (storage|quota)|insufficient storage"
     r"|out of storage|mailbox has exceeded|full mailbox|inbox is full", FULL),
    (r"\bspam\b|blacklist|block ?list|\bblocked\b|reputation|junk|content rejected|looks suspicious"
     r"|unsolicited", SPAM),
    (r"disabled|inactive|suspended|deactivated|no longer active", DISABLED),
    (r"host (or domain name )?not found|domain (name )?not found|no such domain|unrouteable domain"
     r"|domain does not exist|nxdomain", NO_DOMAIN),
    (r"user unknown|unknown user|no such user|does not exist|doesn't exist|not found|couldn't be found"
     r"|address rejected|invalid recipient|recipient rejected|no mailbox|doesn't have an? [\w.-]{1,60} account"
     r"|unrouteable address|no such (mailbox|recipient)|account that you tried to reach", MISSING),
)
# Enhanced status codes (RFC 3463) by subject.detail, when the words said nothing.
STATUS_REASONS: dict[str, str] = {
    "1.1": MISSING, "1.10": MISSING, "1.6": MISSING, "1.2": NO_DOMAIN, "2.2": FULL, "2.1": DISABLED,
    "7.1": SPAM, "7.26": SPAM, "7.27": SPAM, "7.28": SPAM,
}
DELAYED = "delivery is delayed; the receiving server will keep trying"
OTHER = "the receiving server refused it"
