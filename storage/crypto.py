"""Field encryption at rest (AES-256-GCM from `cryptography`) and keyed lookup hashes.

The key comes from the environment (CJGBOT_SECRET_KEY, one or more Fernet-format keys
separated by commas, newest first, for rotation) or, for the embedded default, from a key
file created on first run with mode 0600.

A field is encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from the newest
configured key: a version byte, a random 96-bit nonce, then the ciphertext with its tag. It
costs about a tenth of a Fernet token (AES-128-CBC plus HMAC, base64), which counted on
every message. Fields written by earlier versions as Fernet tokens still decrypt, with any
of the configured keys; they are written anew in the new format when next saved.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ENV_KEY = "CJGBOT_SECRET_KEY"
_GCM_VERSION = b"\x01"  # a Fernet token starts with "g" (base64 of its version byte 0x80)
_NONCE_BYTES = 12


def _field_key(key: bytes) -> AESGCM:
    """The AES-256-GCM key of one configured key (HKDF, so the two uses never share bits)."""
    material = base64.urlsafe_b64decode(key)
    hkdf = HKDF(hashes.SHA256(), length=32, salt=None, info=b"cjgbot field encryption v1")
    return AESGCM(hkdf.derive(material))


class KeyError_(Exception):
    """The encryption key is missing or malformed (message names the source, never the key)."""


class FieldCipher:
    """Encrypts personal fields; derives lookup hashes so chat ids are never stored in clear."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise KeyError_("no encryption key")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])  # fields of earlier versions
        except (ValueError, TypeError) as exc:
            raise KeyError_("the encryption key is not a valid Fernet key") from exc
        self._gcm = [_field_key(k) for k in keys]
        self._lookup_key = hashlib.sha256(b"cjgbot-lookup:" + keys[0]).digest()

    @classmethod
    def from_environment(cls, key_file: Path | None) -> FieldCipher:
        """Key from CJGBOT_SECRET_KEY, else from `key_file` (created 0600 when missing)."""
        env = os.environ.get(ENV_KEY, "").strip()
        if env:
            return cls([k.strip().encode() for k in env.split(",") if k.strip()])
        if key_file is None:
            raise KeyError_(f"set {ENV_KEY} or configure storage.key_file")
        return cls([load_or_create_key_file(key_file)])

    def encrypt(self, plain: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _GCM_VERSION + nonce + self._gcm[0].encrypt(nonce, plain.encode("utf-8"), None)

    def decrypt(self, token: bytes) -> str:
        if token[:1] == _GCM_VERSION:
            nonce, sealed = token[1 : 1 + _NONCE_BYTES], token[1 + _NONCE_BYTES :]
            for key in self._gcm:  # newest first; an older one during a rotation
                try:
                    return key.decrypt(nonce, sealed, None).decode("utf-8")
                except InvalidTag:
                    continue
            raise KeyError_("stored data cannot be decrypted with the configured key")
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise KeyError_("stored data cannot be decrypted with the configured key") from exc

    def lookup(self, *parts: str) -> str:
        """A keyed hash (HMAC-SHA256) of e.g. channel and chat id: findable, not readable."""
        message = "\x1f".join(parts).encode("utf-8")
        return hmac.digest(self._lookup_key, message, "sha256").hex()


def load_or_create_key_file(path: Path) -> bytes:
    try:
        return _load_or_create_key_file(path)
    except OSError as exc:  # e.g. a directory, no permission, a read-only disk
        raise KeyError_(f"key file {path} cannot be read or created: {exc.strerror}") from exc


def _load_or_create_key_file(path: Path) -> bytes:
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise KeyError_(f"key file {path} must not be readable by others (chmod 600)")
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key
