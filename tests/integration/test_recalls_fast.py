"""A recall run queues, item for item, what the per-patient path made before the run made its
messages together (issue 18: settings and the directory read once per run, merge_context once
per location and provider, the message written by engine/core/message_bytes.py).

The oracle below is `Recalls._draft` as it stood before (commit 0efb268), with merge_context
called per patient, and the email package's own builder. Each queued email's bytes must equal
the oracle's built with the same Message-ID and time (boundaries normalised), each text its
words, and each item's fields the oracle's: over the demo practice (families at one address and
at two, locations, providers, texts) and patients with odd names (encoded-word look-alikes, bidi
controls, quotes, accents, emoji), with a template that uses every merge field, filters and ifs.
A name with a line break (a record an older version let in) is refused by both alike."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from engine.adapters.storage import RID
from engine.core import recalls as rc
from engine.core import templates as tpl
from engine.core.directory import person_name
from engine.core.message import Draft, Recipient, as_bytes, build
from engine.errors import InputInvalid
from engine.service.compose import merge_context
from engine.service.outbox import Outbox
from engine.service.practice import Practice
from engine.service.recalls import KIND, TEXT, Recalls
from engine.service.templates import Templates
from tools.fakemail import FakeMail

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
DUE = date(2027, 1, 31)
_BOUNDARY = re.compile(rb'boundary="([^"]+)"')

ODD = [  # (first name, last name, title), each as a patient of its own, and as a family at one address
    ("=?utf-8?q?hi=0D=0ABcc:_x@y?=", "Smith", "Mr"), ("\u202eevil\u202c", "Jones", ""), ("Zoë", "O'Brien", "Mrs"),
    ('Dr "Who"', "Back\\slash", "Ms"), ("😀", "Émoji", ""), ("Pat", "=?utf-8?b?SGk=?=", "Mx"),
    ("\u2066Ann\u2069", "\u200fLee", "Dr"), ("Ångström", "Åsa Ω", "")]

EVERY_FIELD = '''code = "RECALLX"
description = "Every merge field"
category = ""
subject = "{{ patient.first_name|title }} {{ family.name }} {{ location.name }}"
body = """{% if patient.title %}Dear {{ patient.title }} {{ patient.last_name }}{% endif %}
{{ patient.first_name|upper }} {{ patient.email }} {{ patient.id }} {{ family.name|default('none') }}
{{ provider.title }} {{ provider.first_name }} {{ provider.last_name }} at {{ location.name }}, {{ location.address }}
Call {{ location.phone }} or {{ practice.phone }}; {{ practice.name }}, {{ practice.address }}, {{ practice.email }}
"""
html = """<p>{{ patient.first_name }} {{ patient.last_name }} &amp; {{ family.name }}</p>
<p>{{ provider.last_name }} {{ location.name }} {{ location.address }}</p>
"""
'''


def old_draft(practice: Practice, everyone: dict[str, dict[str, Any]], template: tpl.Template, code: str,
              m: rc.Planned) -> tuple[Draft, dict[str, Any]]:
    """The oracle: Recalls._draft before the run made its drafts together."""
    s = practice.settings
    people = [everyone[pid] for pid in m.patient_ids]
    first = people[0]
    address = "text-message@invalid" if m.address.startswith(TEXT) else m.address
    if len(people) > 1:
        family = first.get("last_name", "")
        ctx = merge_context(practice, first, family_name=family)
        ctx["patient"] = {**ctx["patient"], "title": "", "first_name": f"{family} family", "last_name": family}
        to = Recipient(address, f"The {family} family")
    else:
        ctx = merge_context(practice, first)
        to = Recipient(address, person_name(first))
    r = tpl.render(template, ctx)
    meta = {"kind": KIND, "patient_id": first["id"] if len(people) == 1 else "",
            "family_patients": list(m.patient_ids) if len(people) > 1 else [], "recall_keys": list(m.send_keys),
            "idempotency_key": m.key, "deliver_after": m.deliver_after.isoformat(), "template": code,
            "category": template.category or "Recalls", "description": "Recall"}
    return Draft(s.get("practice.email"), s.get("practice.name"), [to], r.subject, r.body, html=r.html), meta


def normalised(raw: bytes) -> bytes:
    for n, b in enumerate(dict.fromkeys(_BOUNDARY.findall(raw))):
        raw = raw.replace(b, f"BOUNDARY{n}".encode())
    return raw


def add_odd_patients(practice: Practice) -> list[str]:
    rows: list[tuple[int, dict[str, str]]] = []
    for n, (first, last, title) in enumerate(ODD):
        common = {"first_name": first, "last_name": last, "title": title,
                  "usual_provider_id": ("DR1", "DR2", "")[n % 3],
                  "preferred_location": ("Riverside Surgery", "High Street Surgery", "")[n % 3]}
        rows.append((len(rows) + 2, {**common, "id": f"Q{n}", "email": f"q{n}@odd.example"}))
        for k in range(2):  # a family of two at one address, under the same odd name
            rows.append((len(rows) + 2, {**common, "id": f"Q{n}F{k}", "email": f"fam{n}@odd.example",
                                         "family_id": f"QF{n}"}))
    rows.append((len(rows) + 2, {"id": "QS", "first_name": "Zoë", "last_name": "Text", "mobile": "07700 900077",
                                 "preference": "sms", "usual_provider_id": "DR2"}))
    practice.directory.import_rows("patients", rows)
    return [r["id"] for _, r in rows]


@pytest.fixture
def odd(practice: Practice, fakemail: FakeMail, tmp_path: Path) -> Recalls:
    from tests.integration.test_sms import configure_sms

    configure_sms(practice, fakemail)
    practice.settings.set_many({"sms.quiet_hours": "", "schedule.periods": "", "recalls.per_hour": "600"})
    ids = [p["id"] for p in practice.directory.list("patients")] + add_odd_patients(practice)
    r = Recalls(practice, Outbox(practice.store))
    r.import_rows([(n + 2, {"patient_id": pid, "type": "checkup", "interval_months": "6", "due_date": "2026-12-01"})
                   for n, pid in enumerate(dict.fromkeys(ids))])
    path = tmp_path / "RECALLX.toml"
    path.write_text(EVERY_FIELD, "utf-8")
    r.templates.add_file(path)
    return r


def planned(item: dict[str, Any], plan: dict[tuple[str, ...], dict[str, Any]]) -> rc.Planned:
    patients = tuple(item["family_patients"] or [item["patient_id"]])
    return rc.Planned(patients, plan[patients]["to"], tuple(item["recall_keys"]),
                      datetime.fromisoformat(plan[patients]["deliver_after"]))


@pytest.mark.parametrize("code", ["RECALL", "RECALLX"])
def test_a_run_queues_what_the_per_patient_path_made(odd: Recalls, practice: Practice, code: str) -> None:
    practice.settings.set_many({"recalls.template": code})
    plan = {tuple(m["patients"]): m for m in odd.run(DUE, T0, dry_run=True).messages}
    result = odd.run(DUE, T0)
    everyone = {p["id"]: p for p in practice.directory.list("patients")}
    template = Templates(practice.store).get(code)
    items = [i for i in odd.outbox.list() if i.get("recall_keys")]
    assert sorted(i[RID] for i in items) == sorted(result.queued) and len(items) == len(plan) >= 40
    assert {len(i["family_patients"]) for i in items} >= {0, 2, 3}  # patients alone, families of two and more
    texts = 0
    for item in items:
        m = planned(item, plan)
        draft, meta = old_draft(practice, everyone, template, code, m)
        if item["kind"] == "sms":
            texts += 1
            assert item["text"] == draft.text.strip() and item["patient_id"] == m.patient_ids[0]
            assert {k: item[k] for k in meta if k not in ("kind", "deliver_after", "patient_id")} == \
                   {k: v for k, v in meta.items() if k not in ("kind", "deliver_after", "patient_id")}
            continue
        assert {k: item[k] for k in meta} == meta
        assert (item["from"], item["to"], item["cc"], item["bcc"], item["envelope_to"], item["subject"]) == \
               (draft.from_address, [draft.to[0].address], [], [], [draft.to[0].address], draft.subject)
        raw = odd.outbox.blob(item)
        assert normalised(raw) == normalised(as_bytes(build(draft, item["message_id"], T0)))
        assert item["size"] == len(raw) and item["status"] == "ready" and item["created"] == T0.isoformat()
    assert texts == 1


def test_a_name_with_a_line_break_is_refused_by_both_alike(odd: Recalls, practice: Practice) -> None:
    """Names with line breaks cannot be imported; one stored by an older version stops the run
    with the builder's own refusal, on the fast path as on the old one."""
    patients = practice.store.collection("patients")
    patients.insert({"id": "QX", "first_name": "Pat\r\nBcc: x@evil.test", "last_name": "X", "email": "qx@odd.example"})
    odd.import_rows([(2, {"patient_id": "QX", "type": "checkup", "interval_months": "6", "due_date": "2026-12-01"})])
    everyone = {p["id"]: p for p in practice.directory.list("patients")}
    m = rc.Planned(("QX",), "qx@odd.example", ("recall:QX:checkup:2026-12-01",), T0)
    draft, _ = old_draft(practice, everyone, odd.templates.get("RECALL"), "RECALL", m)
    with pytest.raises(InputInvalid) as old:
        as_bytes(build(draft, "<1@x.test>", T0))
    with pytest.raises(InputInvalid) as new:
        odd.run(DUE, T0)
    assert (new.value.message, new.value.problems, new.value.hint) == (old.value.message, old.value.problems,
                                                                      old.value.hint)
    assert odd.outbox.list() == []
