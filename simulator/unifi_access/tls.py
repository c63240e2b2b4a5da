"""HTTPS for the simulated UniFi Access controller: a self-signed certificate and a TLS front.

Real controllers only speak HTTPS on port 12445; :func:`serve_unifi_https` puts a TLS front with a
self-signed certificate, generated at runtime, before the simulator (plain HTTP on the simulator's own port
works too, e.g. for curl).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib
import ipaddress
from pathlib import Path
import ssl
import tempfile
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from yarl import URL

if TYPE_CHECKING:
    from simulator.app import Simulator


@dataclass(frozen=True, slots=True)
class SelfSignedCertificate:
    """A self-signed server certificate and its key (PEM), as a UniFi console generates one."""

    cert_pem: bytes
    key_pem: bytes

    @property
    def der(self) -> bytes:
        """The certificate in DER (what a fingerprint is taken over)."""
        return x509.load_pem_x509_certificate(self.cert_pem).public_bytes(serialization.Encoding.DER)

    @property
    def fingerprint(self) -> str:
        """SHA-256 fingerprint, ``AA:BB:...``."""
        return ":".join(f"{byte:02X}" for byte in hashlib.sha256(self.der).digest())

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(cert, key)
        return context

    def trusting_context(self) -> ssl.SSLContext:
        """A client context that verifies (chain and host name) and trusts exactly this certificate."""
        context = ssl.create_default_context(cadata=self.cert_pem.decode())
        context.verify_flags &= ~ssl.VERIFY_X509_STRICT
        return context


def generate_self_signed_certificate(
    hosts: Iterable[str] = ("127.0.0.1", "localhost"),
    *,
    common_name: str = "UniFi Access",
    seed: int | None = None,
) -> SelfSignedCertificate:
    """A self-signed certificate for ``hosts`` (IPs or DNS names), as a UniFi console generates one.

    Without ``seed``: a fresh EC P-256 key, valid for a year from now. With ``seed``: an Ed25519 key derived
    from it and fixed dates (2025-2045), so the same seed and hosts give the same certificate, byte for byte,
    and the same fingerprint on every run (``python -m simulator``: a pinned fingerprint survives restarts).
    """
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if seed is None:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        not_before, not_after = now - timedelta(days=1), now + timedelta(days=365)
        serial = x509.random_serial_number()
    else:
        material = hashlib.sha256(f"unifi-simulator-certificate-{seed}".encode()).digest()
        key = ed25519.Ed25519PrivateKey.from_private_bytes(material)
        not_before, not_after = datetime(2025, 1, 1, tzinfo=UTC), datetime(2045, 1, 1, tzinfo=UTC)
        serial = int.from_bytes(material[:16]) >> 1
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256() if isinstance(key, ec.EllipticCurvePrivateKey) else None)
    )
    return SelfSignedCertificate(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


class TlsFrontend:
    """Terminates TLS on its own port and pipes the bytes to a plain HTTP server (HTTP and WebSocket alike).

    Everything reaches the simulator as a normal request, so the request log, latency and faults apply; a
    ``disconnect`` fault or a dropped WebSocket closes the client's TLS connection too. The connection to the
    simulator is only opened once the client sends something, so a client that hangs up after the handshake
    (a refused certificate, a fingerprint probe) costs the simulator nothing.
    """

    def __init__(self, certificate: SelfSignedCertificate, target_host: str, target_port: int) -> None:
        """Pipe to ``target_host:target_port`` presenting ``certificate``."""
        self.certificate = certificate
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._context: ssl.SSLContext | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.host: str | None = None
        self.port: int | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen (0 picks a free port) and return the bound host and port."""
        self._context = self.certificate.server_context()
        self._server = await asyncio.start_server(self._accept, host, port)
        bound = self._server.sockets[0].getsockname()
        self.host, self.port = bound[0], bound[1]
        return bound[0], bound[1]

    async def stop(self) -> None:
        """Stop listening and cut every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._server is None:
            # Accepted just before :meth:`stop` closed the server, but started after it cancelled the
            # connections: cut it, or the server would wait for it to end.
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # TLS is started here rather than by the server, so a failed handshake (a client refusing the
        # certificate) is this code's to close, instead of an error the event loop logs.
        raw = writer.transport
        assert self._context is not None
        try:
            await writer.start_tls(self._context)
            first = await reader.read(65536)
        except (OSError, ssl.SSLError, ConnectionError, asyncio.CancelledError):
            raw.abort()
            writer.transport.abort()
            return
        up_writer: asyncio.StreamWriter | None = None
        try:
            if not first:
                return
            up_reader, up_writer = await asyncio.open_connection(*self._target)
            up_writer.write(first)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (OSError, ConnectionError):
            pass
        finally:
            writer.transport.abort()
            raw.abort()
            if up_writer is not None:
                up_writer.transport.abort()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """Copy until either side ends, then cut the sink (HTTP clients never half-close)."""
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError, ssl.SSLError):
            pass
        finally:
            sink.transport.abort()


@dataclass(frozen=True, slots=True)
class UnifiEndpoint:
    """Where the simulated controller answers over HTTPS, and what a client needs to talk to it."""

    host: str
    port: int
    token: str
    certificate: SelfSignedCertificate

    @property
    def fingerprint(self) -> str:
        """SHA-256 fingerprint of the controller's certificate (``AA:BB:...``)."""
        return self.certificate.fingerprint

    @property
    def url(self) -> str:
        """``https://host:port``."""
        return f"https://{self.host}:{self.port}"


@contextlib.asynccontextmanager
async def serve_unifi_https(
    sim: Simulator,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    certificate: SelfSignedCertificate | None = None,
) -> AsyncIterator[UnifiEndpoint]:
    """Serve the simulator over HTTPS while the block runs.

    The certificate is self-signed and derived from the simulator's seed (the same fingerprint on every
    run), unless one is given. The simulator must be serving already (``async with sim.serve():``); the TLS
    port leads to the same application, so ``https://host:port/api/v1/developer/...`` is the UniFi Access API.
    """
    if sim.base_url is None:
        raise RuntimeError("The simulator is not serving; use `async with sim.serve()` first")
    target = URL(sim.base_url)
    assert target.host is not None
    assert target.port is not None
    cert = certificate or generate_self_signed_certificate((host, "localhost"), seed=sim.config.seed)
    frontend = TlsFrontend(cert, target.host, target.port)
    bound_host, bound_port = await frontend.start(host, port)
    try:
        yield UnifiEndpoint(bound_host, bound_port, sim.unifi.token, cert)
    finally:
        await frontend.stop()
