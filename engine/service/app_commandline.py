"""The App's answers for the command line (engine/service/app.py inherits them): templates
rendered, the data folder's files checked, signing in beside a running service, and the
computer's own service manager."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.adapters import private
from engine.service import system_service
from engine.service.compose import merge_context


def _signin() -> Any:
    """engine/service/signin.py, imported at the first sign-in question: its OAuth libraries
    are most of a command's start-up time, and most commands never ask."""
    from engine.service import signin

    return signin


class CommandLineDoor:
    """Needs the App's `practice`, `templates`, `directory`, `settings` and `folder`."""

    practice: Any
    templates: Any
    directory: Any
    settings: Any
    folder: Any

    # -- for the command line: templates, files, sign-in beside a service, the OS service ----
    def render_template(self, code: str, patient_id: str | None = None) -> tuple[Any, Any]:
        """A stored template and its preview: with the patient's details, or sample data."""
        from engine.core import templates as tpl

        template = self.templates.get(code)
        ctx = merge_context(self.practice, self.directory.require("patients", patient_id)) if patient_id \
            else tpl.sample_context()
        return template, tpl.render(template, ctx)

    def check_files(self, fix: bool = False) -> tuple[list[Any], list[Any]]:
        """(files and folders made owner-only when `fix`, problems in the settings and the
        files others could read)."""
        fixed = private.tighten(self.folder) if fix else []
        problems = self.settings.check() + [loose.problem() for loose in private.loose_modes(self.folder)]
        return fixed, problems

    def signin_summary(self) -> dict[str, Any] | None:
        """Who is signed in and when (never a token); None when the account does not use OAuth."""
        if not (_signin().uses_oauth(self.practice, "outgoing") or _signin().uses_oauth(self.practice, "incoming")):
            return None
        return _signin().summary(self.practice)

    # A sign-in from the command line may run beside the service (a reader App): the sign-in
    # file is written either way and the service's keeper reads it at its next refresh.
    def sign_in_beside_service(self, open_browser: Callable[[str], Any], timeout: float) -> dict[str, Any]:
        return _signin().sign_in(self.practice, open_browser=open_browser, timeout=timeout)

    def device_sign_in_beside_service(self, show: Callable[[Any], None],
                                      wait: Callable[[float], bool]) -> dict[str, Any]:
        device = _signin().begin_device(self.practice)
        show(device)
        return _signin().finish_device(self.practice, device, wait)

    def sign_out(self) -> dict[str, Any]:
        """Revoke where the provider allows, and forget the tokens here (reader or writer)."""
        return _signin().sign_out(self.practice)

    # the computer's own service manager (no data folder is opened for these)
    service_spec = staticmethod(system_service.spec_for)
    install_service = staticmethod(system_service.install)
    uninstall_service = staticmethod(system_service.uninstall)
    service_status = staticmethod(system_service.status)
