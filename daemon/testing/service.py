"""A gallery PC for tests, without systemd: the units' commands run as their user, in their environment, and
the desktop session that owns the projectors' X display, with its cookie and its autostart files."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from daemon.processes import stop_process
from daemon.testing.daemon_process import RunningDaemon
from daemon.testing.servers import _x_server

__all__ = ["Account", "GalleryPC", "RunningService", "ServiceUnit", "Session", "image_with_accounts", "session_display"]

ACCOUNT_FILES = ("passwd", "group", "shadow", "gshadow", "login.defs")
# What systemd gives a system service before its own Environment= (systemd.exec(5), "Environment").
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"


def image_with_accounts(folder: Path, desktop_account: str = "gallery") -> Path:
    """A root (for install-service --root) holding this machine's accounts and a desktop account with a home."""
    (folder / "etc").mkdir(parents=True)
    for name in ACCOUNT_FILES:
        shutil.copy2(Path("/etc") / name, folder / "etc" / name)
    subprocess.run(["useradd", "--root", str(folder), "--create-home", desktop_account], check=True)
    return folder


@dataclass(frozen=True)
class ServiceUnit:
    """A unit file's [Service] settings, every value of a key in order (Environment= comes many times)."""

    path: Path
    settings: dict[str, list[str]]

    @classmethod
    def read(cls, path: Path) -> ServiceUnit:
        settings: dict[str, list[str]] = {}
        section = ""
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]":
                key, _, value = line.partition("=")
                settings.setdefault(key.strip(), []).append(value.strip())
        return cls(path, settings)

    def one(self, key: str, default: str = "") -> str:
        values = self.settings.get(key, [])
        return values[-1] if values else default


@dataclass(frozen=True)
class Account:
    """An account of the image, by its own /etc/passwd and /etc/group (not this machine's)."""

    name: str
    uid: int
    gid: int
    home: str
    groups: tuple[int, ...]  # supplementary, as initgroups() would find them


@dataclass
class GalleryPC:
    """The installed image `root` run as the booted PC would run it, on this machine's kernel.

    Each command runs in a private mount namespace (so root) where the image's /etc/passwd, /etc/group and
    /opt are in place: names resolve to the image's accounts (`xhost +SI:localuser:twos-and-sevens` and
    User= mean the installed user), and /opt/twos-and-sevens is the installed checkout. `specifiers` say
    where the unit's %E, %S and %t lead on this machine (/etc, /var/lib and /run stay the host's).
    """

    root: Path
    specifiers: Mapping[str, str]
    scratch: Path  # for mount points of our own, on this machine
    reachable: tuple[Path, ...] = ()  # paths the accounts must reach (this Python, its venv), see _reach
    started: list[subprocess.Popen] = field(default_factory=list)

    def account(self, name: str) -> Account:
        fields = next(
            line.split(":")
            for line in (self.root / "etc" / "passwd").read_text().splitlines()
            if line.split(":")[0] == name
        )
        groups = [
            int(g[2])
            for g in (line.split(":") for line in (self.root / "etc" / "group").read_text().splitlines())
            if name in g[3].split(",")
        ]
        return Account(name, int(fields[2]), int(fields[3]), fields[5], tuple(groups))

    def group_id(self, name: str) -> int:
        for line in (self.root / "etc" / "group").read_text().splitlines():
            if line.split(":")[0] == name:
                return int(line.split(":")[2])
        raise KeyError(f"no group {name} in {self.root}/etc/group")

    def path(self, text: str) -> str:
        """A unit's path with its specifiers replaced by where they lead here."""
        return re.sub(r"%[a-zA-Z%]", lambda m: self.specifiers.get(m.group(), m.group()), text)

    def as_account(self, account: Account, argv: list[str], extra_groups: tuple[int, ...] = ()) -> list[str]:
        """`argv` inside the image's namespace, run as `account` (setpriv: no PAM, as systemd's User= does).

        setpriv's parent-death signal outlives the change of user (the kernel clears one set before it).
        """
        groups = ",".join(str(g) for g in dict.fromkeys((*account.groups, *extra_groups))) or str(account.gid)
        setpriv = ["setpriv", f"--reuid={account.uid}", f"--regid={account.gid}", f"--groups={groups}"]
        return self.as_root([*setpriv, "--pdeathsig=KILL", "--", *argv])

    def as_root(self, argv: list[str]) -> list[str]:
        """`argv` inside the image's namespace, as root (an X server, as a display manager starts it)."""
        binds = [("etc/passwd", "/etc/passwd"), ("etc/group", "/etc/group"), ("opt", "/opt")]
        script = ["set -e"]
        script += [f"mount --bind {shlex.quote(str(self.root / src))} {dst}" for src, dst in binds]
        script += self._reach()
        script.append('exec "$@"')
        return ["unshare", "--mount", "sh", "-c", "\n".join(script), "gallery-pc", *argv]

    def _reach(self) -> list[str]:
        """Shell lines that let any account reach `reachable` inside the namespace.

        A folder on the way that others may not pass (/root, 0700, holds pyenv's Python on some machines)
        is covered by a 0711 tmpfs into which only the entries on the way are bound back. On a gallery
        PC the venv's Python is /usr/bin/python3, and this is nothing.
        """
        lines: list[str] = []
        blocked: dict[Path, set[str]] = {}
        for target in self.reachable:
            parts = target.resolve().parts
            for depth in range(1, len(parts)):
                folder = Path(*parts[:depth])
                if not os.stat(folder).st_mode & 0o001:
                    blocked.setdefault(folder, set()).add(parts[depth])
                    break
        for number, (folder, entries) in enumerate(sorted(blocked.items())):
            holds = []
            for entry in sorted(entries):
                hold = self.scratch / f"hold-{number}-{entry}"
                if (folder / entry).is_dir():
                    hold.mkdir(exist_ok=True)
                else:
                    hold.touch()
                holds.append((hold, entry))
                lines.append(f"mount --bind {shlex.quote(str(folder / entry))} {shlex.quote(str(hold))}")
            lines.append(f"mount -t tmpfs -o mode=0711,size=64k tmpfs {shlex.quote(str(folder))}")
            for hold, entry in holds:
                inside = shlex.quote(str(folder / entry))
                lines.append(f"{'mkdir' if hold.is_dir() else 'touch'} {inside}")
                lines.append(f"mount --move {shlex.quote(str(hold))} {inside}")
        return lines

    def environment(self, unit: ServiceUnit, account: Account | None) -> dict[str, str]:
        """The environment systemd gives the unit's command: its own, then Environment=, then EnvironmentFile=
        (which overrides it), then the directories it was given."""
        env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"}
        if account is not None:
            env |= {"HOME": account.home, "USER": account.name, "LOGNAME": account.name, "SHELL": "/usr/sbin/nologin"}
        for value in unit.settings.get("Environment", []):
            env |= dict(word.split("=", 1) for word in shlex.split(value))
        for value in unit.settings.get("EnvironmentFile", []):
            file = Path(self.path(value.removeprefix("-")))
            if not file.exists() and value.startswith("-"):
                continue
            for line in file.read_text().splitlines():
                if line.strip() and not line.lstrip().startswith(("#", ";")):
                    env |= dict(word.split("=", 1) for word in shlex.split(line))
        for kind, where in (("State", "%S"), ("Runtime", "%t"), ("Configuration", "%E")):
            if name := unit.one(f"{kind}Directory"):
                env[f"{kind.upper()}_DIRECTORY"] = self.path(f"{where}/{name}")
        return env

    def command(self, unit: ServiceUnit, env: Mapping[str, str]) -> list[str]:
        """ExecStart= as systemd reads it: specifiers, then $NAME split into words and ${NAME} kept whole."""
        words = []
        for word in shlex.split(unit.one("ExecStart")):
            if re.fullmatch(r"\$\w+", word):
                words += env.get(word[1:], "").split()
            else:
                words.append(self.path(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word)))
        return words

    def start(self, argv: list[str], env: Mapping[str, str], cwd: str = "/", **popen) -> subprocess.Popen:
        """A process of this PC, stopped by its pid at close()."""
        process = subprocess.Popen(argv, env=dict(env), cwd=cwd, **popen)
        self.started.append(process)
        return process

    def unit_process(self, unit: ServiceUnit, argv: list[str]) -> list[str]:
        """`argv` as the unit runs it: as its User= with SupplementaryGroups= (or root)."""
        if not unit.one("User"):
            return self.as_root(argv)
        extra = tuple(
            self.group_id(name) for value in unit.settings.get("SupplementaryGroups", []) for name in value.split()
        )
        return self.as_account(self.account(unit.one("User")), argv, extra)

    def close(self) -> None:
        for process in reversed(self.started):
            stop_process(process, grace_seconds=10)


@dataclass
class Session:
    """The desktop session of `account` on an X server with an authority cookie, as a display manager makes it."""

    pc: GalleryPC
    account: Account
    env: dict[str, str]  # DISPLAY and XAUTHORITY, as the session's programs have them

    def autostart(self, desktop_file: Path) -> subprocess.CompletedProcess[str]:
        """Run a desktop entry's Exec= as the session does at login: as its account, with the session's environment."""
        exec_line = next(
            line.split("=", 1)[1] for line in desktop_file.read_text().splitlines() if line.startswith("Exec=")
        )
        env = {"PATH": SYSTEMD_PATH, "HOME": self.account.home, **self.env}
        argv = self.pc.as_account(self.account, shlex.split(exec_line))
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)


@contextmanager
def session_display(pc: GalleryPC, account_name: str, width: int = 1280, height: int = 720) -> Iterator[Session]:
    """Xvfb as a display manager starts it for `account`'s session: root's, with a cookie in a root-only file,
    the same cookie in the account's ~/.Xauthority (0600), every other client refused.

    -noreset: the session's own clients (its window manager) keep a real server from resetting when the
    last one leaves, which would drop any grant; here nothing else holds it.
    """
    account = pc.account(account_name)
    cookie = secrets.token_bytes(16)
    server_auth = pc.scratch / "server.auth"
    server_auth.write_bytes(_xauth_entry("0", cookie))
    server_auth.chmod(0o600)
    screen = ["-screen", "0", f"{width}x{height}x24"]
    command = ["Xvfb", *screen, "-auth", str(server_auth), "-noreset", "-nolisten", "tcp", "+extension", "GLX"]
    with _x_server(pc.as_root(command), "Xvfb is not installed: run scripts/setup.sh (it installs xvfb)") as env:
        xauthority = pc.root / account.home.lstrip("/") / ".Xauthority"
        xauthority.write_bytes(_xauth_entry(env["DISPLAY"].lstrip(":"), cookie))
        xauthority.chmod(0o600)
        os.chown(xauthority, account.uid, account.gid)
        yield Session(pc, account, {"DISPLAY": env["DISPLAY"], "XAUTHORITY": str(xauthority)})


def _xauth_entry(display_number: str, cookie: bytes) -> bytes:
    """One MIT-MAGIC-COOKIE-1 entry of an X authority file, for any host (FamilyWild) on `display_number`."""

    def counted(data: bytes) -> bytes:
        return struct.pack(">H", len(data)) + data

    return struct.pack(">H", 0xFFFF) + b"".join(
        counted(part) for part in (b"", display_number.encode(), b"MIT-MAGIC-COOKIE-1", cookie)
    )


class RunningService(RunningDaemon):
    """RunningDaemon for a command line of our own (the unit's ExecStart, as its user), its events collected."""

    def __init__(self, argv: list[str], env: Mapping[str, str], cwd: str):
        # RunningDaemon's own start, with the command and the whole environment given (not the test's).
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.events: list[dict] = []
        self.exit_code: int | None = None
        self.stderr: list[str] = []
        stdout, stderr = self.process.stdout, self.process.stderr
        assert stdout is not None and stderr is not None  # both PIPE
        threading.Thread(target=self._read_events, args=(stdout,), daemon=True).start()
        threading.Thread(target=self.stderr.extend, args=(stderr,), daemon=True).start()
