"""The sandbox PKI: a CA and a 127.0.0.1/localhost server certificate that strict TLS accepts."""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from pullmedic_sandbox.tls import ServerTLS, make_server_tls


@pytest.fixture(scope="module")
def tls() -> ServerTLS:
    """One CA and server certificate for the module."""
    return make_server_tls()


def _server_context(tls: ServerTLS, directory: Path) -> ssl.SSLContext:
    """A server context presenting the sandbox certificate."""
    cert, key = directory / "tls.crt", directory / "tls.key"
    cert.write_bytes(tls.cert_pem)
    key.write_bytes(tls.key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _client_context(ca_pem: bytes) -> ssl.SSLContext:
    """A strict verifying client context trusting only ``ca_pem``."""
    context = ssl.create_default_context(cadata=ca_pem.decode())
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    return context


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, hostname: str) -> None:
    """Run a TLS handshake in memory; raises what the client raises."""
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client_side = client.wrap_bio(client_in, client_out, server_hostname=hostname)
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for name, side in (("client", client_side), ("server", server_side)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        server_in.write(client_out.read())
        client_in.write(server_out.read())
        if all(done.values()):
            return
    raise AssertionError("handshake did not finish")


def test_ca_is_a_self_signed_ca(tls: ServerTLS) -> None:
    ca = x509.load_pem_x509_certificate(tls.ca_pem)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    assert ca.issuer == ca.subject
    ca.verify_directly_issued_by(ca)


def test_server_certificate_covers_loopback_and_is_signed_by_the_ca(tls: ServerTLS) -> None:
    ca = x509.load_pem_x509_certificate(tls.ca_pem)
    server = x509.load_pem_x509_certificate(tls.cert_pem)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    server.verify_directly_issued_by(ca)
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


@pytest.mark.parametrize("hostname", ["127.0.0.1", "localhost"])
def test_strict_client_trusting_the_ca_accepts_the_server(
    tls: ServerTLS, tmp_path: Path, hostname: str
) -> None:
    _handshake(_server_context(tls, tmp_path), _client_context(tls.ca_pem), hostname)


def test_client_trusting_another_ca_rejects_the_server(tls: ServerTLS, tmp_path: Path) -> None:
    other = make_server_tls()
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(_server_context(tls, tmp_path), _client_context(other.ca_pem), "127.0.0.1")


def test_other_hostnames_are_rejected(tls: ServerTLS, tmp_path: Path) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(_server_context(tls, tmp_path), _client_context(tls.ca_pem), "example.com")
