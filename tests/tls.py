"""Certificates for tests of TLS transports: a CA of the test's own and a server
certificate it signed for 127.0.0.1 and localhost, valid for a day."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

Key = ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key: Key, issuer: tuple[x509.Name, Key] | None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, signer = issuer or (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is None:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True).add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    else:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


def server(workdir: Path) -> tuple[Path, x509.Certificate, Key, x509.Certificate]:
    """A CA written to ``workdir/ca.pem``, and a server certificate and key it signed."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("wellstream test CA", ca_key, None)
    cert = _certificate("localhost", key, (ca.subject, ca_key))
    cafile = workdir / "ca.pem"
    cafile.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return cafile, cert, key, ca


def write_ca_and_keystore(workdir: Path, keystore: Path, password: str) -> Path:
    """A PKCS12 keystore (for a Java server) at ``keystore``; the CA file clients trust."""
    cafile, cert, key, ca = server(workdir)
    encryption = serialization.BestAvailableEncryption(password.encode())
    blob = pkcs12.serialize_key_and_certificates(b"server", key, cert, [ca], encryption)
    keystore.write_bytes(blob)
    return cafile


def write_pem(workdir: Path) -> tuple[Path, Path, Path]:
    """PEM files for a server that reads them (Redis): CA, certificate, key."""
    cafile, cert, key, _ = server(workdir)
    certfile, keyfile = workdir / "server.pem", workdir / "server.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cafile, certfile, keyfile
