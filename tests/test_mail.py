from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import stat
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from vault.mail import MailError, OutgoingMail, send_mail

MAIL = OutgoingMail(to="lotte.recipient@example.org", subject="Your link", body="Hello\n")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login, auth_data.password) == (b"vault", b"s3cret-pass")
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server(tmp_path):
    inbox = Inbox()
    cert_file, key_file = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, authenticator=_authenticator,
                            auth_require_tls=True, auth_required=True)
    controller.start()
    yield inbox, port, cert_file
    controller.stop()


def _smtp_config(app, port, cafile, password="s3cret-pass"):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port,
                      MAIL_SMTP_STARTTLS=True, MAIL_SMTP_CAFILE=str(cafile),
                      MAIL_SMTP_USERNAME="vault", MAIL_SMTP_PASSWORD=password,
                      MAIL_SMTP_TIMEOUT=5)


def test_outbox_writes_a_private_eml_file_with_a_random_name(app):
    with app.app_context():
        send_mail(MAIL)
    folder = Path(app.config["MAIL_OUTBOX"])
    [file] = list(folder.iterdir())
    assert file.suffix == ".eml" and "lotte" not in file.name
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    message = message_from_bytes(file.read_bytes())
    assert message["To"] == MAIL.to and message["Subject"] == "Your link"
    assert message["From"] == app.config["MAIL_SENDER"] and message["Message-ID"]


def test_smtp_delivers_over_starttls_with_login(app, smtp_server):
    inbox, port, cafile = smtp_server
    _smtp_config(app, port, cafile)
    with app.app_context():
        send_mail(MAIL)
    [raw] = inbox.messages
    message = message_from_bytes(raw)
    assert message["To"] == MAIL.to and message.get_payload().strip() == "Hello"


def test_smtp_wrong_password_is_an_opaque_error(app, smtp_server):
    _inbox, port, cafile = smtp_server
    _smtp_config(app, port, cafile, password="wrong")
    with app.app_context(), pytest.raises(MailError) as caught:
        send_mail(MAIL)
    assert "lotte" not in str(caught.value) and "wrong" not in str(caught.value)


def test_smtp_refuses_a_server_certificate_it_cannot_verify(app, smtp_server, tmp_path):
    inbox, port, _cafile = smtp_server
    other = tmp_path / "other"
    other.mkdir()
    other_ca, _key = _certificate(other)
    _smtp_config(app, port, other_ca)
    with app.app_context(), pytest.raises(MailError):
        send_mail(MAIL)
    assert inbox.messages == []


def test_unreachable_smtp_server_is_an_opaque_error(app):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SMTP_HOST="127.0.0.1",
                      MAIL_SMTP_PORT=_free_port(), MAIL_SMTP_TIMEOUT=2)
    with app.app_context(), pytest.raises(MailError) as caught:
        send_mail(MAIL)
    assert "lotte" not in str(caught.value)


def test_failed_confirmation_mail_keeps_the_application(app, client):
    from sqlalchemy import func, select

    from tests.journey import apply
    from vault.extensions import db
    from vault.models import Candidate

    app.config.update(MAIL_BACKEND="smtp", MAIL_SMTP_HOST="127.0.0.1",
                      MAIL_SMTP_PORT=_free_port(), MAIL_SMTP_TIMEOUT=2)
    assert apply(client).status_code == 302
    assert b"could not send you the confirmation" in client.get("/applied").data
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 1
