"""Throw-away PKI for the simulated EKS API: one CA and one server certificate signed by it.

The CA certificate is what EKS publishes as ``cluster.certificateAuthority.data`` (base64 of the
PEM); the server certificate covers ``127.0.0.1`` (IP SAN) and ``localhost`` (DNS SAN).  The
certificates carry the extensions strict X.509 verification asks for (critical basic constraints,
key usage, subject and authority key identifiers), so clients with strict verification accept them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class ServerTLS:
    """PEM material for one TLS server: its CA, its certificate and its private key."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes


def make_server_tls(
    common_name: str = "kube-apiserver",
    hosts: Iterable[str] = ("127.0.0.1", "localhost"),
    valid_for: dt.timedelta = dt.timedelta(days=1),
) -> ServerTLS:
    """Create a fresh CA and a server certificate for ``hosts`` (IP addresses or DNS names)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _ca_certificate(ca_key, f"{common_name}-ca", now, valid_for)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _server_certificate(
        server_key, ca_key, ca_cert, common_name, hosts, now, valid_for
    )
    return ServerTLS(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        cert_pem=server_cert.public_bytes(serialization.Encoding.PEM),
        key_pem=server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def _ca_certificate(
    key: ec.EllipticCurvePrivateKey, name: str, now: dt.datetime, valid_for: dt.timedelta
) -> x509.Certificate:
    """Self-signed CA certificate that may sign server certificates only."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    public_key = key.public_key()
    return (
        _validity(x509.CertificateBuilder(), now, valid_for)
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    common_name: str,
    hosts: Iterable[str],
    now: dt.datetime,
    valid_for: dt.timedelta,
) -> x509.Certificate:
    """Leaf certificate for TLS servers, signed by the CA."""
    public_key = key.public_key()
    return (
        _validity(x509.CertificateBuilder(), now, valid_for)
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_alt_names(hosts)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _validity(
    builder: x509.CertificateBuilder, now: dt.datetime, valid_for: dt.timedelta
) -> x509.CertificateBuilder:
    """Random serial and a validity window that tolerates small clock skew."""
    return (
        builder.serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + valid_for)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    """Key usage for a CA (signs certificates) or an ECDHE server (digital signature)."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _alt_names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    """IP SANs for IP literals, DNS SANs for everything else."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names
