"""Pseudonyms and encrypted reply addresses.

A contact is known only by a keyed hash of channel + address, so a returning person is recognised
without Lotsa storing who they are. The address needed to reply is kept encrypted and erased
when it is no longer needed.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"lotsa:" + purpose).derive(secret)


class Keyring:
    """Every key Lotsa derives from LOTSA_SECRET_KEY, one purpose each."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the secret key must be at least 16 bytes")
        self._contact = _derive(secret, b"contact-key")
        self._csrf = _derive(secret, b"csrf")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, b"reply-address")))
        self._phones = Fernet(base64.urlsafe_b64encode(_derive(secret, b"staff-phone")))
        self.session_tag = hmac.new(_derive(secret, b"session"), b"staff sessions", hashlib.sha256).hexdigest()[:16]
        """Stamped on every staff session: a session made under another secret key has ended."""

    def __repr__(self) -> str:
        return "Keyring(<hidden>)"

    def contact_key(self, channel: str, address: str) -> str:
        """The pseudonymous contact key: HMAC-SHA256(channel + NUL + address), hex."""
        return hmac.new(self._contact, f"{channel}\0{address}".encode(), hashlib.sha256).hexdigest()

    def csrf_token(self, session_id: str) -> str:
        return hmac.new(self._csrf, session_id.encode(), hashlib.sha256).hexdigest()

    def encrypt_address(self, address: str) -> bytes:
        return self._fernet.encrypt(address.encode())

    def decrypt_address(self, token: bytes) -> str | None:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken:
            return None


    def seal_phone(self, phone: str) -> bytes:
        """A counsellor's phone number (where calls are put through), encrypted for storage."""
        return self._phones.encrypt(phone.encode())

    def open_phone(self, sealed: bytes) -> str | None:
        try:
            return self._phones.decrypt(sealed).decode()
        except InvalidToken:
            return None


def masked_phone(phone: str | None) -> str:
    """What staff pages show of a phone number: its first four and last two characters."""
    if not phone:
        return ""
    return phone[:4] + "\u2022" * max(0, len(phone) - 6) + phone[-2:]


def pseudonym(contact_key: str) -> str:
    """What a counsellor sees instead of an identifier, e.g. 'Kontakt 7F3A'."""
    return f"Kontakt {contact_key[:4].upper()}"
