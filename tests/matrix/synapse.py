"""A real Synapse for the Matrix tests: its own virtualenv, SQLite, 127.0.0.1 only.

`.ci/install-synapse.sh` installs PyPI `matrix-synapse` into `.venv-synapse` (or
$SYNAPSE_VENV). The server has a client listener only (no federation listener), relaxed
rate limits, `bcrypt_rounds: 4`, and users come from the shared-secret admin API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

ROOT = Path(__file__).resolve().parents[2]
SERVER_NAME = "cjg.test"
RELAXED = {"per_second": 10_000, "burst_count": 10_000}


class SynapseMissing(Exception):
    pass


@dataclass(frozen=True)
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]


def synapse_venv() -> Path:
    return Path(os.environ.get("SYNAPSE_VENV", ROOT / ".venv-synapse"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _signing_key() -> str:
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return "ed25519 a_test " + base64.b64encode(seed).decode().rstrip("=") + "\n"


class Synapse:
    """Start, stop and restart one homeserver; register users; call the admin API."""

    def __init__(self, workdir: Path, venv: Path | None = None) -> None:
        self.venv = venv or synapse_venv()
        self.python = self.venv / "bin" / "python"
        if not self.python.exists():
            raise SynapseMissing(
                f"Synapse is not installed in {self.venv}: run .ci/install-synapse.sh "
                "(make test does) or set SYNAPSE_VENV"
            )
        self.workdir = workdir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        self._admin: Account | None = None
        self._count = 0
        self._write_config()

    def _write_config(self) -> None:
        work = self.workdir
        (work / "media").mkdir(parents=True, exist_ok=True)
        (work / "signing.key").write_text(_signing_key())
        log_config = {
            "version": 1,
            "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "plain",
                    "filename": str(work / "homeserver.log"),
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        (work / "log.yaml").write_text(yaml.safe_dump(log_config))
        config: dict[str, Any] = {
            "server_name": SERVER_NAME,
            "pid_file": str(work / "homeserver.pid"),
            "public_baseurl": self.url + "/",
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(work / "homeserver.db")}},
            "log_config": str(work / "log.yaml"),
            "media_store_path": str(work / "media"),
            "signing_key_path": str(work / "signing.key"),
            "registration_shared_secret": self.secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "enable_registration": False,
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "bcrypt_rounds": 4,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "enable_metrics": False,
            "rc_message": RELAXED,
            "rc_registration": RELAXED,
            "rc_login": {"address": RELAXED, "account": RELAXED, "failed_attempts": RELAXED},
            "rc_joins": {"local": RELAXED, "remote": RELAXED},
            "rc_joins_per_room": RELAXED,
            "rc_invites": {"per_room": RELAXED, "per_user": RELAXED, "per_issuer": RELAXED},
            "rc_admin_redaction": RELAXED,
            "rc_key_requests": RELAXED,
            "rc_room_creation": RELAXED,
            "rc_3pid_validation": RELAXED,
            "rc_presence": {"per_user": RELAXED},
            "rc_delayed_event_mgmt": RELAXED,
            "rc_media_create": RELAXED,
        }
        (work / "homeserver.yaml").write_text(yaml.safe_dump(config))

    # --- process ---

    def start(self, timeout: float = 90) -> None:
        log = open(self.workdir / "stdout.log", "ab")  # noqa: SIM115 - handed to the process
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c",
             str(self.workdir / "homeserver.yaml")],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited at start:\n{self.logs()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Synapse did not start within {timeout} s:\n{self.logs()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def logs(self) -> str:
        parts = []
        for name in ("stdout.log", "homeserver.log"):
            path = self.workdir / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    # --- HTTP ---

    def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from None

    def register(
        self, prefix: str, displayname: str | None = None, admin: bool = False,
        unlimited: bool = True,
    ) -> Account:
        """A new user (unique localpart from prefix) through shared-secret registration."""
        self._count += 1
        localpart = f"{prefix}{self._count}x{secrets.token_hex(2)}"
        password = secrets.token_hex(8)
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join(
            [nonce.encode(), localpart.encode(), password.encode(),
             b"admin" if admin else b"notadmin"]
        ))
        answer = self._request(
            "POST",
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": localpart,
                "displayname": displayname or localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        account = Account(answer["user_id"], password, answer["access_token"], answer["device_id"])
        if unlimited:
            self.override_ratelimit(account.user_id, 0, 0)
        return account

    def admin_get(self, path: str) -> dict[str, Any]:
        return self._request("GET", path, token=self.admin.access_token)

    @property
    def admin(self) -> Account:
        if self._admin is None:
            self._admin = self.register("admin", admin=True, unlimited=False)
        return self._admin

    def override_ratelimit(self, user_id: str, per_second: int, burst: int) -> None:
        """0/0 switches rate limiting off for the user; other values make it strict."""
        self._request(
            "POST",
            f"/_synapse/admin/v1/users/{urllib.request.quote(user_id)}/override_ratelimit",
            {"messages_per_second": per_second, "burst_count": burst},
            token=self.admin.access_token,
        )
