"""The second factor: RFC 6238 arithmetic, the setup page, and the login that requires the code."""

import hashlib

import pytest

from operators import totp
from operators.models import AuditRecord, OperatorTOTP
from tests.factories import OperatorTOTPFactory
from tests.operators.conftest import logged_in, login

# RFC 6238 Appendix B: the seeds of each hash function and the 8-digit codes at the given Unix times.
SEEDS = {
    hashlib.sha1: b"12345678901234567890",
    hashlib.sha256: b"12345678901234567890123456789012",
    hashlib.sha512: b"1234567890123456789012345678901234567890123456789012345678901234",
}
VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("at", "sha1", "sha256", "sha512"), VECTORS)
def test_totp_matches_the_rfc_6238_test_vectors(at, sha1, sha256, sha512):
    for digest, expected in ((hashlib.sha1, sha1), (hashlib.sha256, sha256), (hashlib.sha512, sha512)):
        assert totp.totp(SEEDS[digest], at, digits=8, digest=digest) == expected


def test_hotp_matches_the_rfc_4226_test_values():
    assert [totp.hotp(b"12345678901234567890", c) for c in range(4)] == ["755224", "287082", "359152", "969429"]


def test_a_code_is_accepted_within_one_step_of_drift_only():
    secret = totp.new_secret()
    key = totp.decode_secret(secret)
    now = 1_700_000_000
    assert totp.matching_step(secret, totp.totp(key, now), at=now) == now // 30
    assert totp.matching_step(secret, totp.totp(key, now - 30), at=now) == now // 30 - 1
    assert totp.matching_step(secret, totp.totp(key, now - 90), at=now) is None
    assert totp.matching_step(secret, "12345", at=now) is None
    assert totp.matching_step(secret, "abcdef", at=now) is None


def test_provisioning_uri_names_the_secret_issuer_and_account():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", account="ops@example.com", issuer="Peatio back office")
    assert uri.startswith("otpauth://totp/Peatio%20back%20office:ops%40example.com?")
    assert "secret=JBSWY3DPEHPK3PXP" in uri and "digits=6" in uri and "period=30" in uri


def current_code(user) -> str:
    return totp.totp(totp.decode_secret(OperatorTOTP.objects.get(user=user).secret))


@pytest.mark.django_db
def test_setup_page_enables_the_second_factor_after_a_good_code(operator, client):
    user = operator("support")
    client.force_login(user)
    assert b"Two-factor authentication is <strong>off</strong>" in client.get("/admin/two-factor/").content

    client.post("/admin/two-factor/", {"action": "begin"})
    page = client.get("/admin/two-factor/").content.decode()
    device = OperatorTOTP.objects.get(user=user)
    assert device.secret in page and "otpauth://totp/" in page and not device.confirmed

    client.post("/admin/two-factor/", {"action": "enable", "code": "000000" if current_code(user) != "000000" else "111111"})
    assert not OperatorTOTP.objects.get(user=user).confirmed

    client.post("/admin/two-factor/", {"action": "enable", "code": current_code(user)})
    assert OperatorTOTP.objects.get(user=user).confirmed
    page = client.get("/admin/two-factor/").content.decode()
    assert "<strong>on</strong>" in page and device.secret not in page
    record = AuditRecord.objects.get()
    assert (record.actor, record.action, record.from_state, record.to_state) == (user, "enable_totp", "off", "on")


@pytest.mark.django_db
def test_a_get_never_changes_the_second_factor(operator, client):
    user = operator("support")
    client.force_login(user)
    client.get("/admin/two-factor/?action=begin")
    assert not OperatorTOTP.objects.filter(user=user).exists()


def enable(user) -> None:
    OperatorTOTPFactory(user=user)


@pytest.mark.django_db
def test_login_requires_the_code_when_the_second_factor_is_on(operator, client):
    user = operator("admin")
    enable(user)
    assert not logged_in(login(client, "admin@example.com"))
    assert not logged_in(login(client, "admin@example.com", code="12345x"))
    assert logged_in(login(client, "admin@example.com", code=current_code(user)))


@pytest.mark.django_db
def test_a_code_logs_in_once_only(operator, client):
    user = operator("admin")
    enable(user)
    code = current_code(user)
    assert logged_in(login(client, "admin@example.com", code=code))
    client.logout()
    assert not logged_in(login(client, "admin@example.com", code=code))


@pytest.mark.django_db
def test_wrong_codes_count_towards_the_lockout(operator, client, settings):
    user = operator("admin")
    enable(user)
    for _ in range(settings.OPERATOR_LOGIN_MAX_FAILURES):
        login(client, "admin@example.com", code="000000")
    response = login(client, "admin@example.com", code=current_code(user))
    assert not logged_in(response) and b"Too many failed logins" in response.content


@pytest.mark.django_db
def test_disabling_takes_a_current_code(operator, client):
    user = operator("support")
    enable(user)
    client.force_login(user)
    client.post("/admin/two-factor/", {"action": "disable", "code": ""})
    assert OperatorTOTP.objects.filter(user=user, confirmed=True).exists()
    client.post("/admin/two-factor/", {"action": "disable", "code": current_code(user)})
    assert not OperatorTOTP.objects.filter(user=user).exists()
    assert AuditRecord.objects.get().action == "disable_totp"
    assert logged_in(login(client, "support@example.com"))
