"""Start and stop the dashboard on a free loopback port (load, fault, browser tests, bench),
and the headless Chromium settings the browser tests and the bench share."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Headless Debian Chromium on a closed network: no background traffic, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started it dies (Linux), so a killed
    test run or `make class` leaves no dashboard behind."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class DashboardServer:
    """`streamlit run dashboard/app.py` on 127.0.0.1:<port>; a context manager.

    `options` are extra `--section.name value` pairs; `env` adds environment variables;
    `script` is another app to run instead (the click bench's minimal Streamlit app)."""

    def __init__(
        self,
        port: int | None = None,
        log_path: Path | None = None,
        options: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        script: str = "dashboard/app.py",
    ):
        self.port = port or free_port()
        self.script = script
        self.log_path = log_path
        self.options = options or {}
        self.env = env or {}
        self.proc: subprocess.Popen | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_stcore/stream"

    def start(self, timeout: float = 90.0) -> DashboardServer:
        return self.launch().wait_ready(timeout)

    def launch(self) -> DashboardServer:
        """Start the process and return at once (wait_ready waits for it to answer)."""
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        cmd = [
            sys.executable, "-m", "streamlit", "run", self.script,
            "--server.port", str(self.port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
        ]  # fmt: skip
        for name, value in self.options.items():
            cmd += [f"--{name}", value]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **self.env},
            preexec_fn=_die_with_parent,
        )
        if log is not subprocess.DEVNULL:
            log.close()  # the child has its own copy
        return self

    def wait_ready(self, timeout: float = 90.0) -> DashboardServer:
        """Wait until /_stcore/health answers; stop the process and raise if it does not."""
        if wait_healthy(self.http, self.proc, "the dashboard", timeout):
            return self
        self.stop()
        raise RuntimeError(f"the dashboard did not answer on port {self.port} in {timeout} s")

    def rss_bytes(self) -> int:
        """Resident memory of the server process, from /proc."""
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS line")

    def cpu_seconds(self) -> float:
        """CPU time the server process has used (user + system), from /proc."""
        with open(f"/proc/{self.proc.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled plug would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_healthy(http: str, proc: subprocess.Popen, what: str, timeout: float) -> bool:
    """Poll http's /_stcore/health until it answers 200 (True) or timeout passes (False);
    raise if `proc` (the server, or the proxy in front of it) exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{http}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False
