"""A test certificate authority and signed PDFs, made by the tests themselves.

Keys and certificates come from ``cryptography``; PDFs are signed with pyHanko's
``SimpleSigner``. Nothing here is trusted anywhere but in the tests that put the CA's root
into a trust folder of their own.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

QC_STATEMENTS = ObjectIdentifier("1.3.6.1.5.5.7.1.3")


def _qc_statements_der() -> bytes:
    """QcCompliance and QcSSCD (ETSI EN 319 412-5), as a qualified certificate carries them."""
    from pyhanko.sign.ades.qualified_asn1 import QcStatements

    return QcStatements([{"statement_id": "qc_compliance"}, {"statement_id": "qc_sscd"}]).dump()


def _name(cn: str, org: str = "", email: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if email:
        parts.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(parts)


@dataclass
class Issued:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def make_ca(cn: str = "eAkte Test-CA") -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, "eAkte Tests"))
        .issuer_name(_name(cn, "eAkte Tests"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=3650))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return Issued(key, cert)


def issue(
    ca: Issued,
    cn: str,
    org: str = "",
    email: str = "",
    *,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    qualified: bool = False,
    encryption: bool = False,
    time_stamping: bool = False,
) -> Issued:
    """A certificate from ``ca``: for signing, for a time-stamping authority, or
    (``encryption``) to encrypt a PDF for (the public-key handler wants key encipherment).
    RSA for the latter two (pyHanko's in-process TSA signs with RSA only), EC otherwise."""
    rsa_key = encryption or time_stamping
    key = (
        rsa.generate_private_key(65537, 2048)
        if rsa_key
        else ec.generate_private_key(ec.SECP256R1())
    )
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, org, email))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from or now - timedelta(days=30))
        .not_valid_after(valid_to or now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=encryption,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if email:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False
        )
    if time_stamping:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    if qualified:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(QC_STATEMENTS, _qc_statements_der()), critical=False
        )
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def _key_info(issued: Issued) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(
        issued.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def sign_pdf(
    data: bytes,
    signer: Issued,
    ca: Issued,
    field: str = "Unterschrift",
    tsa: Issued | None = None,
    tsa_time: datetime | None = None,
) -> bytes:
    """``data`` signed in an incremental update (the original bytes stay a prefix); with
    ``tsa``, a timestamp token from an in-process time-stamping authority is embedded."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    simple = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(signer.der),
        signing_key=_key_info(signer),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(ca.der)]),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    if writer.prev.encrypted:  # owner password only: the empty user password opens it
        writer.encrypt("")
    out = io.BytesIO()
    timestamper = None
    if tsa is not None:
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

        timestamper = DummyTimeStamper(
            asn1_x509.Certificate.load(tsa.der),
            _key_info(tsa),
            certs_to_embed=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(ca.der)]),
            fixed_dt=tsa_time,
        )
    signers.sign_pdf(
        writer,
        signers.PdfSignatureMetadata(field_name=field),
        signer=simple,
        output=out,
        timestamper=timestamper,
    )
    return out.getvalue()


def append_update(signed: bytes, text: str = "Nachtrag nach der Unterschrift") -> bytes:
    """An incremental update after signing: the signed bytes untouched, the document changed."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    stream = generic.StreamObject(stream_data=f"BT /F1 12 Tf 50 50 Td ({text}) Tj ET".encode())
    contents = page.raw_get("/Contents")  # the reference, not the stream it points to
    ref = writer.add_object(stream)
    if isinstance(contents, generic.ArrayObject):
        contents.append(ref)
    else:
        page["/Contents"] = generic.ArrayObject([contents, ref])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return (
        signed + out.getvalue()[len(signed) :]
        if out.getvalue().startswith(signed)
        else (out.getvalue())
    )


def tamper(signed: bytes, old: bytes, new: bytes) -> bytes:
    """Bytes inside the signed range changed (same length, so the byte range still fits)."""
    assert len(old) == len(new) and old in signed
    at = signed.index(old)
    return signed[:at] + new + signed[at + len(old) :]


def encrypt_for_certificate(data: bytes, recipient: Issued) -> bytes:
    """``data`` encrypted for a certificate (/Filter /Adobe.PubSec), as pyHanko writes it."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import copy_into_new_writer

    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(data)))
    writer.encrypt_pubkey([asn1_x509.Certificate.load(recipient.der)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
