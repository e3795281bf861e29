"""members.group (management-api-extensions.md §8.1): the column, its CHECK, and the seed's `group` field."""

import pytest
from django.db import IntegrityError, connection

from ledger.models import Member
from tests.factories import MemberFactory
from tests.seeding.test_seed import seed, seed_file  # noqa: F401 (fixture)


@pytest.mark.django_db
def test_member_group_defaults_to_vip_0_in_the_model_and_in_the_database():
    assert MemberFactory().group == "vip-0"
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO members (uid, email, level, role, state, created_at, updated_at)"
                       " VALUES ('URAW', 'raw@example.com', 0, 'member', 'active', now(), now()) RETURNING \"group\"")
        assert cursor.fetchone() == ("vip-0",)


@pytest.mark.django_db
@pytest.mark.parametrize("group", ["VIP-1", "vip 1", "", "vip.1"])
def test_database_refuses_a_group_outside_its_rule(group):
    with pytest.raises(IntegrityError, match="members_group_format"):
        MemberFactory(group=group)


@pytest.mark.django_db
def test_seed_member_group_is_trimmed_lowercased_and_defaults_to_vip_0(seed_file):  # noqa: F811
    status, _, err = seed(seed_file("""
        members:
          - {uid: U1, email: u1@example.com, group: " VIP-2 "}
          - {uid: U2, email: u2@example.com}
        """))
    assert (status, err) == (0, [])
    assert dict(Member.objects.values_list("uid", "group")) == {"U1": "vip-2", "U2": "vip-0"}


@pytest.mark.django_db
def test_seed_refuses_a_malformed_group_and_writes_nothing(seed_file):  # noqa: F811
    status, _, err = seed(seed_file("""
        members:
          - {uid: U1, email: u1@example.com, group: "vip 1"}
        """))
    assert status == 1
    assert any('members[0] (uid=U1): group: must be 1–32 characters of a-z, 0-9, _ and -' in line for line in err)
    assert not Member.objects.exists()
