"""A private CA and Home Assistant's server certificate, made once for the demo.

Teams only calls https callbacks, so the demo's Home Assistant serves TLS with
a certificate of its own CA; the simulators that call it back trust that CA
(and only it). Python verifies strictly (X509 strict mode), so the CA carries
key usage and basic constraints, and the server certificate its key
identifiers, subject alternative names and server-auth usage.
"""

from __future__ import annotations

from dataclasses import dataclass
import datetime as dt
import ipaddress
from pathlib import Path
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=365)
# Made again this long before it runs out.
RENEW_BEFORE = dt.timedelta(days=7)


@dataclass(frozen=True)
class TlsFiles:
    """Where the CA certificate and the server's certificate and key are."""

    folder: Path

    @property
    def ca_certificate(self) -> Path:
        """The CA certificate (PEM) the simulators trust."""
        return self.folder / "ca.pem"

    @property
    def certificate(self) -> Path:
        """Home Assistant's certificate (PEM): `http: ssl_certificate`."""
        return self.folder / "server.pem"

    @property
    def key(self) -> Path:
        """Home Assistant's private key (PEM): `http: ssl_key`."""
        return self.folder / "server-key.pem"

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this CA only."""
        return ssl.create_default_context(cafile=self.ca_certificate)


def ensure_certificates(folder: Path, names: list[str]) -> TlsFiles:
    """Make the CA and a server certificate for `names`, unless valid ones exist."""
    files = TlsFiles(folder)
    if _still_valid(files, names):
        return files
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Switchboard demo CA")]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.SubjectAlternativeName(_general_names(names)), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files.ca_certificate.write_bytes(ca.public_bytes(pem))
    files.certificate.write_bytes(server.public_bytes(pem))
    files.key.touch(mode=0o600)
    files.key.write_bytes(
        server_key.private_bytes(
            pem,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
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


def _general_names(names: list[str]) -> list[x509.GeneralName]:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return general


def _still_valid(files: TlsFiles, names: list[str]) -> bool:
    """Whether the certificate exists, names `names` and does not run out soon."""
    try:
        server = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    except FileNotFoundError, ValueError:
        return False
    if not (files.key.exists() and files.ca_certificate.exists()):
        return False
    if server.not_valid_after_utc - RENEW_BEFORE < dt.datetime.now(dt.UTC):
        return False
    alternative = server.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value
    return {str(name.value) for name in alternative} == set(names)
