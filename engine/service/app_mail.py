"""The App's answers for writing at the desk (engine/service/app.py inherits them): the address
book, mass email with its preview, templates saved and deleted, and text messages."""

from __future__ import annotations

import time
from itertools import islice
from pathlib import Path
from typing import Any

from engine.adapters import opened
from engine.adapters.documents import dicom_frames, looks_like_dicom
from engine.core import settings as setting_rules
from engine.core import sms as sms_rules
from engine.core import templates as tpl_rules
from engine.core.addresses import mailbox_key
from engine.core.directory import household, person_name
from engine.core.message import Attachment
from engine.core.outbox_item import OutboxItem
from engine.core.templates import Template
from engine.errors import InputInvalid
from engine.service.compose import labelled, merge_context
from engine.service.roles import SignedIn, allowed
from engine.service.sms import UNLOCK_WARNING
from engine.service.values import Contact, MassPreview

UNLOCK = "unlock_sms_account"  # the permission (engine/service/roles.py)
RECENT = 500  # the newest emails whose categories are offered again

# the settings that name a template: a template named in one of them is in use
TEMPLATE_SETTINGS = tuple(s.key for s in setting_rules.CATALOGUE if s.kind == "code" and s.key.endswith("template"))


class MailDoor:
    """Needs the App's `practice`, `folder`, `outbox`, `directory`, `composer`, `templates`, `settings`, `recalls`,
    `reminder_rules`, `texts`, `roles`, `engine`, `now` and `_command`."""

    SMS_UNLOCK_WARNING = UNLOCK_WARNING  # asked before a super user unlocks the SMS practice ID

    practice: Any
    folder: Any
    outbox: Any
    directory: Any
    composer: Any
    templates: Any
    settings: Any
    recalls: Any
    reminder_rules: Any
    texts: Any
    roles: Any
    engine: Any
    now: Any
    _command: Any

    def contacts(self, search: str = "", limit: int = 200) -> list[Contact]:
        """The address book: patients, providers and specialists matching every word typed."""
        return [Contact(e["kind"], e["id"], e["name"], e["email"], e["family_id"])
                for e in self.composer.address_book(search, limit=limit)]

    def recall_patients(self, due_before: Any = None) -> list[str]:
        """The ids of the patients with a recall due (before `due_before`, a date, when given)."""
        recalls = self.recalls.list()
        wanted = (r for r in recalls if r.status == "due" and (due_before is None or r.due < due_before))
        return list(dict.fromkeys(r.patient_id for r in wanted))

    def mass_preview(self, patient_ids: list[str]) -> MassPreview:
        """As Composer.mass groups them: one email per address and household, the rest listed."""
        everyone = {p["id"]: p for p in self.directory.list("patients")}
        groups: set[tuple[str, str]] = set()
        reached, missing = 0, []
        for pid in dict.fromkeys(patient_ids):
            p = everyone[pid]
            if not p.get("email"):
                missing.append(person_name(p) or pid)
                continue
            groups.add((mailbox_key(p["email"]), household(p)))
            reached += 1
        return MassPreview(len(groups), reached, tuple(missing))

    def template_uses(self, code: str) -> list[str]:
        """Where a template is named: reminder rules and settings, in words."""
        uses = [f"reminder rule {r.id}" for r in self.reminder_rules.list() if r.template == code]
        uses += [f"the setting {key}" for key in TEMPLATE_SETTINGS if self.settings.get(key) == code]
        return uses

    def text_segments(self, text: str) -> sms_rules.Segments:
        """How many messages a text takes (and what is left in the last); pure, asked on each key."""
        return sms_rules.segments(text)

    def email_preview(self, code: str, patient_id: str, provider_id: str | None = None) -> tuple[str, str]:
        """An email template's subject and text as this patient would get them (their usual
        provider's fields unless `provider_id`): what the compose window shows for it."""
        d = self.directory
        patient = d.require("patients", patient_id)
        provider = d.require("providers", provider_id) if provider_id else None
        r = tpl_rules.render(self.templates.get(code), merge_context(self.practice, patient, provider))
        return r.subject, r.body

    def text_from_template(self, code: str, patient_id: str) -> str:
        """A text-message template filled in for the patient (what they would receive)."""
        t = self.templates.get(code)
        return tpl_rules.render(t, merge_context(self.practice, self.directory.require("patients", patient_id))).body

    def in_quiet_hours(self) -> bool:
        """Inside sms.quiet_hours now: a manual text asks first."""
        return self.texts.in_quiet_hours(self.now())

    def sms_account_locked(self) -> bool:
        """The provider's practice ID is locked (a test succeeded): only a super user unlocks it."""
        return bool(self.texts.account_locked())

    @property
    def max_text_segments(self) -> int:
        return int(self.settings.get("sms.max_segments"))

    def categories(self) -> list[str]:
        """The categories emails are grouped by: the templates' own, and those of the newest
        `RECENT` emails (what reception typed lately; the whole outbox is not read for a list)."""
        named = [t.category for t in self.templates.list()]
        named += [i.record.get("category") or "" for i in islice(self.outbox.iter_newest(), RECENT)]
        return sorted({c for c in named if c}, key=str.casefold)

    @staticmethod
    def dicom_frames(path: Path) -> int:
        """How many frames an x-ray file has (a multi-frame one: reception chooses which to send);
        1 for anything else, or a file that cannot be read (attaching it says why)."""
        try:
            data = path.read_bytes()
        except OSError:
            return 1
        return dicom_frames(data) if looks_like_dicom(path.name, data) else 1

    def open_copy(self, attachment: Attachment) -> Path:
        """A compose window's file as a file of its own, for the system's program to open: in
        the data folder (owner only, never the shared /tmp); copies older than a day go first."""
        self.clean_opened_copies()
        return opened.private_copy(self.folder, attachment.filename, attachment.data)

    def clean_opened_copies(self) -> int:
        """The copies opened a day ago or more, removed (at each open and when the service starts)."""
        return opened.clean(self.folder, time.time())

    @staticmethod
    def save_attachment(attachment: Attachment, path: Path, replace: bool = False) -> Path:
        """Saved where reception chose (under a safe name); a file already there is replaced
        only when `replace` (reception said so), else refused in words."""
        return opened.save_as(path, attachment.data, replace)

    # -- commands ----------------------------------------------------------------------------
    def describe_email(self, rid: int, category: str, description: str) -> OutboxItem:
        """An email's category and description, as reception names them (one line each)."""
        self._command("change an email's category")
        self.outbox.describe(rid, labelled(category, ""), labelled(description, ""), self.now())
        return self.outbox.item(rid)

    def save_template(self, template: Template, new: bool = False) -> None:
        """Checked by the templates' rules; a new one may not take a code already used."""
        self._command("save a template")
        if new and self.templates.exists(template.code):
            raise InputInvalid(f"the code {template.code} is already used by another template",
                               hint="Choose another code.")
        if template.kind == tpl_rules.SMS:
            self._check_text_length(template)
        self.templates.save(template)

    def _check_text_length(self, template: Template) -> None:
        """A text-message template filled in with the sample patient fits sms.max_segments."""
        tpl_rules.require_valid(template)
        seg = sms_rules.segments(tpl_rules.render(template, tpl_rules.sample_context()).body)
        if seg.parts > self.max_text_segments:
            raise InputInvalid(f"the text needs {seg.parts} messages; the practice allows {self.max_text_segments}",
                               hint="Shorten it, or raise the setting sms.max_segments.")

    def delete_template(self, code: str) -> None:
        """Refused while a reminder rule or a setting names it (with where)."""
        self._command("delete a template")
        uses = self.template_uses(code)
        if uses:
            raise InputInvalid(f"the template {code} is in use by " + ", ".join(uses),
                               hint="Choose another template there first.")
        self.templates.delete(code)

    def mass_email(self, template: str, patient_ids: list[str]) -> Any:
        """One email per patient or shared family address, each through the gate (Composer.mass,
        the CLI's path); the result names those without an address."""
        self._command("queue a mass email")
        result = self.composer.mass(template, patient_ids, self.now())
        self.engine.wake()
        return result

    def test_sms(self) -> Any:
        """The SMS setup's Test: the provider's balance (sends nothing); the practice ID is locked
        once it answers. Waits on the provider: call it off the GUI thread."""
        self._command("test the SMS provider")
        return self.texts.test(self.now())

    def unlock_sms_account(self, who: SignedIn) -> str:
        """The super user's action: the practice ID may be changed again; the warning to show.
        `who`: the signed-in user asking (the kiosk's, or the CLI's after their PIN), read again
        from the stored groups: refused unless their group may (unlock_sms_account). The check is
        here, at the door, so that no caller can forget it."""
        self._command("unlock the SMS practice ID")
        now = self.roles.again(who)
        if not allowed(now, UNLOCK):
            raise InputInvalid(f"only a super user may unlock the SMS practice ID, and "
                               f"{'nobody is signed in' if not now.user else now.user + ' (' + now.group + ') may not'}",
                               hint="Sign in as a user whose group may unlock it (the super user group by default).")
        return str(self.texts.unlock_account(now.user))

    def send_text(self, patient_id: str, text: str, even_in_quiet_hours: bool = False) -> int:
        """A text to the patient's mobile (their preference, the most-segments setting and quiet hours checked)."""
        self._command("queue a text")
        rid = self.texts.queue(patient_id, text, self.now(), even_in_quiet_hours=even_in_quiet_hours)
        self.engine.wake()
        return rid
