"""``vitrina run`` as a process: start it, wait for its address, stop it with Ctrl-C."""
from __future__ import annotations

import asyncio
import os
import signal
import socket
from pathlib import Path

from cli import VITRINA, clean_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Running:
    def __init__(self, *command: str, cwd: Path, env: dict[str, str]) -> None:
        self.command = command or (VITRINA, "run")
        self.cwd = cwd
        self.env = clean_env(**env)
        self.output: list[str] = []
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> Running:
        self.process = await asyncio.create_subprocess_exec(
            *self.command, cwd=self.cwd, env=self.env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        await self.wait_for_line("is running at", timeout=120)
        return self

    async def wait_for_line(self, text: str, timeout: float = 10) -> str:
        async def read() -> str:
            assert self.process and self.process.stdout
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise AssertionError(f"vitrina exited ({await self.process.wait()}):\n" + "".join(self.output))
                line = raw.decode()
                self.output.append(line)
                if text in line:
                    return line
        try:
            return await asyncio.wait_for(read(), timeout)
        except TimeoutError:
            raise AssertionError(f"no line with {text!r} in {timeout}s:\n" + "".join(self.output)) from None

    async def stop(self) -> int:
        """Ctrl-C, as a person stops it; returns the exit status."""
        assert self.process is not None
        if self.process.returncode is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                rest, _ = await asyncio.wait_for(self.process.communicate(), 20)
                self.output.append(rest.decode())
            except TimeoutError:
                os.killpg(self.process.pid, signal.SIGKILL)
                raise AssertionError("vitrina did not stop on Ctrl-C:\n" + "".join(self.output)) from None
        return self.process.returncode

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
