"""Tags on inbox messages, for the Inbox page (kiosk/inbox_page.py inherits it): the right-click
menu (a tag in use, a new one, remove one or all; read, file, info, delete) and the Tags... box.
Every change goes to the jobs thread through the page's `command`, after what was clicked before."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QMenu

from engine.service.app import allowed
from kiosk import plain
from kiosk.jobs import cell
from kiosk.tables import ROWS


class TagDesk:
    """Needs the page's `table`, `messages`, `inbox`, `app`, `role`, `command` and its other actions."""

    table: Any
    messages: Any
    inbox: Any
    app: Any
    role: Any
    command: Any
    mark_selected_read: Any
    file_selected: Any
    info_selected: Any
    delete_selected: Any

    def menu(self) -> QMenu:
        """Right-click on messages: tag them (a tag in use, a new one, remove one or all), read, file, delete."""
        ids = self.table.selected_ids()
        menu = QMenu(self)  # type: ignore[arg-type]  # a QWidget: the page
        tags_menu = menu.addMenu("Tag")
        current = set()
        for rid in ids:
            current |= set(self.messages[rid].tags if rid in self.messages else self.inbox.get(rid).get("tags", []))
        for tag in self.known_tags():
            act = tags_menu.addAction(plain.shown(tag).replace("&", "&&"))  # text, not a shortcut
            act.setCheckable(True)
            act.setChecked(tag in current)
            act.toggled.connect(lambda on, tag=tag: self.toggle_tag(ids, tag, on))
        tags_menu.addSeparator()
        tags_menu.addAction("New tag...", lambda: self.new_tag(ids))
        tags_menu.addAction("Remove all tags", lambda: self.set_tags(ids, []))
        menu.addAction("Mark read", lambda: self.mark_selected_read(True))
        menu.addAction("Mark unread", lambda: self.mark_selected_read(False))
        menu.addAction("File...", self.file_selected)
        menu.addAction("Info", self.info_selected)
        menu.addAction("Delete", self.delete_selected).setEnabled(allowed(self.role(), "delete"))
        for act in menu.actions():
            act.setEnabled(bool(ids))
        return menu

    def known_tags(self) -> list[str]:
        """Tags in use on recent mail, and the filing ones, for the right-click menu."""
        seen = {"Patient", "Specialist", "Auto-reply"}
        for r in self.inbox.list(any_tags=True, include_actioned=True, limit=ROWS):
            seen.update(r.get("tags", []))
        return sorted(seen)

    def toggle_tag(self, ids: list[int], tag: str, on: bool) -> None:
        def toggle(rid: int) -> None:  # read and written on the jobs thread, after what was clicked before
            tags = set(self.inbox.get(rid).get("tags", []))
            self.app.set_tags(rid, sorted(tags | {tag} if on else tags - {tag}))

        for rid in ids:
            tags = set(self.messages[rid].tags) if rid in self.messages else set()
            self.command([rid], cell(6, ", ".join(sorted(tags | {tag} if on else tags - {tag}))), toggle, "tag it")

    def new_tag(self, ids: list[int]) -> None:
        tag, ok = plain.get_text(self,  # type: ignore[arg-type]
                                 "New tag", "Tag:")
        if ok and tag.strip():
            self.toggle_tag(ids, tag.strip(), True)

    def tag_selected(self) -> None:
        ids = self.table.selected_ids()
        if not ids:
            return
        current = ", ".join(self.inbox.get(ids[0]).get("tags", []))
        text, ok = plain.get_text(self,  # type: ignore[arg-type]
                                  "Tags", "Tags (comma separated; empty removes all):", text=current)
        if ok:
            self.set_tags(ids, [t.strip() for t in text.split(",")])

    def set_tags(self, ids: list[int], tags: list[str]) -> None:
        tags = [t for t in tags if t]
        self.command(ids, cell(6, ", ".join(tags)), lambda rid: self.app.set_tags(rid, tags), "tag it")
