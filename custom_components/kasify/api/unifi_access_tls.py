"""Certificate fingerprints (pinning) and the TLS setting every request uses."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl

import aiohttp

from .errors import ApiConnectionError
from .http import SslSetting
from .unifi_access_models import DEFAULT_PORT, DEFAULT_TIMEOUT


def normalize_fingerprint(value: str) -> str:
    """Normalise a SHA-256 certificate fingerprint to ``AA:BB:...`` (64 hex digits, any separators).

    Raises:
        ValueError: When it is not 32 bytes of hex.
    """
    digits = "".join(ch for ch in value if ch not in ": -").lower()
    if len(digits) != 64 or any(ch not in "0123456789abcdef" for ch in digits):
        raise ValueError("a SHA-256 fingerprint has 64 hex digits")
    return format_fingerprint(bytes.fromhex(digits))


def format_fingerprint(digest: bytes) -> str:
    """Format a digest as ``AA:BB:...``."""
    return ":".join(f"{byte:02X}" for byte in digest)


async def get_certificate_fingerprint(host: str, port: int = DEFAULT_PORT) -> str:
    """The SHA-256 fingerprint (``AA:BB:...``) of the certificate ``host:port`` presents, unverified.

    For a config flow to show it and let the user pin it (trust on first use: compare it with the one the
    controller's UI shows). Gives up after :data:`DEFAULT_TIMEOUT` seconds.

    Raises:
        ApiConnectionError: When no TLS connection can be made.
    """
    host = host.strip().removeprefix("[").removesuffix("]")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    where = f"TLS {host}:{port}"
    try:
        async with asyncio.timeout(DEFAULT_TIMEOUT):
            _reader, writer = await asyncio.open_connection(host, port, ssl=context)
    except TimeoutError as err:
        raise ApiConnectionError(f"{where}: timed out") from err
    except (OSError, ssl.SSLError) as err:
        raise ApiConnectionError(f"{where}: {err.__class__.__name__}: {err}") from err
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not der:
        raise ApiConnectionError(f"{where}: the server presented no certificate")
    return format_fingerprint(hashlib.sha256(der).digest())


def tls_setting(fingerprint: str | None, verify_ssl: bool, ssl_context: ssl.SSLContext | None) -> SslSetting:
    """The value for aiohttp's ``ssl=``: a pinned fingerprint, else off, else the context (or ``True``)."""
    if fingerprint is not None:
        return aiohttp.Fingerprint(bytes.fromhex(fingerprint.replace(":", "")))
    if not verify_ssl:
        return False
    return ssl_context if ssl_context is not None else True
