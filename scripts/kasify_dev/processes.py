"""Background processes (the simulator, Home Assistant) and waiting for them to get ready."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import signal
import socket
import subprocess
import time
from typing import TextIO

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


class BootstrapError(Exception):
    """A step failed; the message says which and what to look at."""


class WaitTimeoutError(BootstrapError):
    """Something did not become ready in time."""


class NotReadyError(Exception):
    """Raised by a readiness probe: the thing answered but is not ready yet."""


type Say = Callable[[str], None]


def rel(path: Path) -> str:
    """``path`` relative to the repository when it is inside it (shorter messages)."""
    with contextlib.suppress(ValueError):
        return str(path.relative_to(REPO_ROOT))
    return str(path)


def tail(path: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a log file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:])


def port_in_use(port: int) -> bool:
    """Whether something accepts connections on ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    """A TCP port of the loopback that nothing listens on now (the system's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Child:
    """A background process started by :class:`Children`."""

    name: str
    process: asyncio.subprocess.Process
    log_path: Path
    log_file: TextIO
    stop_timeout: float

    @property
    def running(self) -> bool:
        """Return True while the process has not exited."""
        return self.process.returncode is None


@dataclass
class Children:
    """Processes started in their own sessions, stopped in reverse start order."""

    say: Say
    items: list[Child] = field(default_factory=list)

    async def start(
        self,
        name: str,
        argv: list[str],
        log_path: Path,
        env: Mapping[str, str],
        stop_timeout: float,
        *,
        append: bool = False,
    ) -> Child:
        """Start ``argv`` in its own session with stdout/stderr written to ``log_path``.

        Its own session: a terminal's Ctrl-C reaches only the orchestrating script, which then stops the
        children in order.
        """
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = log_path.open("a" if append else "w", encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        child = Child(name, process, log_path, log_file, stop_timeout)
        self.items.append(child)
        self.say(f"started {name} (pid {process.pid}), output in {rel(log_path)}")
        return child

    async def stop(self, child: Child) -> int:
        """Stop one child: SIGTERM to its process group, SIGKILL after its timeout; its exit code."""
        if child.running:
            self.say(f"stopping {child.name} (pid {child.process.pid})")
            _signal_group(child.process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(child.process.wait(), child.stop_timeout)
            except TimeoutError:
                self.say(f"{child.name} did not stop in {child.stop_timeout:.0f}s; killing it")
                _signal_group(child.process.pid, signal.SIGKILL)
                await child.process.wait()
        # Leftovers of the group (e.g. a pip run started by Home Assistant) go too.
        _signal_group(child.process.pid, signal.SIGKILL)
        child.log_file.close()
        if child in self.items:
            self.items.remove(child)
        code = child.process.returncode
        assert code is not None
        return code

    async def stop_all(self) -> None:
        """Stop every child, the last started first."""
        for child in reversed(list(self.items)):
            await self.stop(child)

    def kill_all(self) -> None:
        """SIGKILL every child's process group immediately (second Ctrl-C)."""
        for child in self.items:
            if child.running:
                _signal_group(child.process.pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


async def wait_until[T](
    what: str,
    probe: Callable[[], Awaitable[T]],
    seconds: float,
    children: list[Child],
    interval: float = 1.0,
) -> T:
    """Call ``await probe()`` until it returns a value, a child dies or time runs out.

    The probe raises :class:`NotReadyError` (or a connection error) while it is not ready.
    """
    deadline = time.monotonic() + seconds
    last_error = "no answer yet"
    while True:
        for child in children:
            if not child.running:
                raise BootstrapError(
                    f"{child.name} exited with code {child.process.returncode} while waiting "
                    f"for {what}; last output ({rel(child.log_path)}):\n{tail(child.log_path)}"
                )
        try:
            value = await probe()
        except NotReadyError as err:
            last_error = str(err)
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            last_error = f"{type(err).__name__}: {err}"
        else:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeoutError(f"timed out after {seconds:.0f}s waiting for {what} ({last_error})")
        await asyncio.sleep(interval)
