"""How many PostgreSQL connections several desks hold (issue 21: "one connection per desk?").

Real processes on a scratch schema: one `practicemail serve`, `--desks` kiosks (`practicemail
kiosk`, offscreen) opened as other desks, the fake mail servers as their own process. The
server's own view (pg_stat_activity) is sampled every 50 ms and each connection counted for the
process its application_name names ("practicemail kiosk (pid N on HOST)"), so other programs on
the same database are left out. Three phases: idle; mail pouring in (`--messages` delivered,
then a desk's `practicemail send-receive` asked of the service through the database: the kiosks
hear the notices and refill their views); idle again. Printed: each role's connections at rest
and at peak, the server's max_connections, and what 10 and 20 desks would hold.

    python tools/bench/desk_connections.py [--desks 4] [--messages 300] [--database URL]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.service.practice import Practice  # noqa: E402
from tools.bench import pg  # noqa: E402
from tools.bench.fake_server import fake_server  # noqa: E402
from tools.bench.inbound import message  # noqa: E402
from tools.fakemail.mailstore import maildir_deliver  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PID = re.compile(r"\(pid (\d+) on ")


class Sampler:
    """Connections per process (by the pid in application_name), sampled until stopped."""

    def __init__(self, url: str, pids: dict[int, str]) -> None:
        self.url = url
        self.pids = pids  # pid -> role
        self.samples: list[tuple[str, dict[int, int]]] = []
        self.phase = "start"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as c:
            while not self._stop.is_set():
                counts: dict[int, int] = defaultdict(int)
                for (name,) in c.execute("SELECT application_name FROM pg_stat_activity "
                                         "WHERE datname = current_database()").fetchall():
                    m = PID.search(name or "")
                    if m and int(m.group(1)) in self.pids:
                        counts[int(m.group(1))] += 1
                self.samples.append((self.phase, dict(counts)))
                self._stop.wait(0.05)

    def start(self) -> "Sampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def figures(self, role: str, phase: str | None = None, last: bool = False) -> tuple[int, int]:
        """(the most common count, the peak) per process of `role`, over the phase's samples
        (`last`: its last sample only)."""
        per: list[int] = []
        chosen = [s for s in self.samples if phase is None or s[0] == phase]
        for ph, counts in chosen[-1:] if last else chosen:
            if phase is None or ph == phase:
                per += [counts.get(p, 0) for p, r in self.pids.items() if r == role]
        if not per:
            return 0, 0
        return max(set(per), key=per.count), max(per)


def wait_for(check: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def run(args: argparse.Namespace, tmp: Path, info: dict[str, Any], url: str) -> None:
    user = info["users"][0]
    box = Path(info["spool"]) / user["username"]
    server = tmp / "server"
    with Practice(server, writer=True, command="bench setup", database=url) as p:
        p.settings.set_many({
            "practice.email": user["address"], "account.username": user["username"],
            "account.password": user["password"], "incoming.enabled": "true", "incoming.protocol": "imap",
            "incoming.host": "localhost", "incoming.port": str(info["imap"]["imaps"]),
            "incoming.security": "implicit", "incoming.leave_on_server": "true", "tls.ca_file": info["ca_file"],
            "schedule.periods": "Mon-Sun 00:00-23:59",
        })
    env = {k: v for k, v in os.environ.items() if k not in ("PRACTICEMAIL_DATA",)}
    env.update(PRACTICEMAIL_DATABASE=url, QT_QPA_PLATFORM="offscreen")
    procs: list[subprocess.Popen[bytes]] = []
    roles: dict[int, str] = {}
    try:
        serve = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--data", str(server)], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(serve)
        roles[serve.pid] = "service"
        assert serve.stderr is not None
        if b"running on" not in serve.stderr.readline():
            raise SystemExit("the service did not start")
        folders = []
        for n in range(args.desks):
            folder = tmp / f"desk{n}"
            (folder / "keys").mkdir(parents=True, mode=0o700)
            shutil.copy2(server / "keys" / "secret.key", folder / "keys" / "secret.key")
            folders.append(folder)
            kiosk = subprocess.Popen([sys.executable, "-m", "engine", "kiosk", "--data", str(folder)], cwd=ROOT,
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(kiosk)
            roles[kiosk.pid] = "kiosk desk"
        sampler = Sampler(url, roles).start()

        def kiosks_listening() -> bool:
            last = sampler.samples[-1][1] if sampler.samples else {}
            return all(last.get(p, 0) >= 2 for p, r in roles.items() if r == "kiosk desk")
        wait_for(kiosks_listening, "every kiosk's pool and LISTEN connection")
        sampler.phase = "idle"
        time.sleep(args.idle)
        sampler.phase = "load"
        for i in range(args.messages):
            maildir_deliver(box, message(i))
        cli = subprocess.Popen([sys.executable, "-m", "engine", "send-receive", "--data", str(folders[0])],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        roles[cli.pid] = "send-receive (a desk's command line)"
        out, err = cli.communicate(timeout=600)
        print(f"  the desk's send-receive: {(out or err).strip()[:160]}")
        time.sleep(args.idle)  # the kiosks' refills after the last notices
        sampler.phase = "after"
        time.sleep(args.rest)  # past a desk's max_idle: a burst's extra connections close
        sampler.stop()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    with psycopg.connect(url) as c:
        limit = int(c.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
        reserved = int(c.execute("SHOW superuser_reserved_connections").fetchone()[0])  # type: ignore[index]
    print(f"connections held, sampled every 50 ms ({len(sampler.samples)} samples); {args.desks} kiosk desks, "
          f"{args.messages} messages arriving")
    rows = {}
    for role in ("service", "kiosk desk", "send-receive (a desk's command line)"):
        idle_usual, idle_peak = sampler.figures(role, "idle")
        _, load_peak = sampler.figures(role, "load")
        after_usual, _ = sampler.figures(role, "after")
        rows[role] = (idle_usual, max(idle_peak, load_peak))
        _, after_last = sampler.figures(role, "after", last=True)
        print(f"  {role:<40} at rest {idle_usual:2d}   peak under load {load_peak:2d}   "
              f"{args.rest:.0f} s after: {after_last:2d}")
    after_desk = sampler.figures("kiosk desk", "after", last=True)[1]
    service_peak = rows["service"][1]
    desk_rest, desk_peak = rows["kiosk desk"]
    cli_peak = rows["send-receive (a desk's command line)"][1]
    usable = limit - reserved
    print(f"  the server: max_connections {limit}, {reserved} reserved for superusers: {usable} for practicemail")
    for n in (10, 20):
        rest = rows["service"][0] + n * min(desk_rest, after_desk)
        peak = service_peak + n * desk_peak + cli_peak
        print(f"  {n} desks: {rest} at rest, {peak} if every desk peaked at once with one command line "
              f"({peak * 100 // usable}% of {usable})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--desks", type=int, default=4)
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--idle", type=float, default=4.0, help="seconds of the first quiet phase")
    ap.add_argument("--rest", type=float, default=75.0,
                    help="seconds of the last quiet phase (longer than a desk pool's max_idle, store.POOL_SIZES)")
    ap.add_argument("--database", default=pg.DATABASE)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fake_server() as info, pg.scratch(args.database) as url:
        run(args, Path(tmp), info, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
