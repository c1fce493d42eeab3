from __future__ import annotations

import datetime as dt
import ipaddress
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

from tests.smtp import Inbox
from tests.smtp import free_port as _free_port
from vault.mail import MailError, OutgoingMail, build_message, send_mail

MAIL = OutgoingMail(to="lotte.recipient@example.org", subject="Your link", body="Hello\n")


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


def test_unreachable_smtp_server_is_reported_as_down(app):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SMTP_HOST="127.0.0.1",
                      MAIL_SMTP_PORT=_free_port(), MAIL_SMTP_TIMEOUT=2)
    with app.app_context(), pytest.raises(MailError) as caught:
        send_mail(MAIL)
    assert caught.value.server_down


def test_a_subject_with_line_breaks_is_made_one_line_not_an_error():
    message = build_message(OutgoingMail(to="a@example.org", subject="Job\r\nBcc: x@evil.example",
                                         body="Hi\n"), "vault@example.org")
    assert message["Subject"] == "Job Bcc: x@evil.example" and message["Bcc"] is None


def test_a_recipient_with_a_line_break_is_an_opaque_error_not_a_crash():
    with pytest.raises(MailError) as caught:
        build_message(OutgoingMail(to="a@example.org\r\nBcc: x@evil.example", subject="Hi",
                                   body="Hi\n"), "vault@example.org")
    assert "evil" not in str(caught.value)


def test_application_is_answered_and_kept_while_smtp_is_down(app, client):
    from sqlalchemy import func, select

    from tests.journey import apply, deliver_mail
    from vault.extensions import db
    from vault.models import Candidate, MailMessage

    app.config.update(MAIL_BACKEND="smtp", MAIL_SMTP_HOST="127.0.0.1",
                      MAIL_SMTP_PORT=_free_port(), MAIL_SMTP_TIMEOUT=2)
    assert apply(client).status_code == 302
    assert b"We are sending you an e-mail" in client.get("/applied").data
    result = deliver_mail(app)
    assert result.sent == 0 and result.retrying == 1 and result.server_down
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 1
        [queued] = db.session.scalars(select(MailMessage)).all()
        assert queued.status == "queued" and queued.attempts == 1
