"""How PostgreSQL runs the money event functions (migration ledger 0010): generic plans, members probed by index."""

from decimal import Decimal

import pytest
from django.db import connection

from ledger import services as ledger
from ledger.core import CREDIT
from ledger.models import Account, ChartAccount, Member

pytestmark = pytest.mark.django_db

FUNCTIONS = ("ledger_post", "ledger_post_uids", "ledger_transfer_create")


def test_the_functions_keep_one_generic_plan_per_connection():
    # A CREATE OR REPLACE of one of them drops its settings: this fails until the migration sets it again.
    with connection.cursor() as cursor:
        cursor.execute("SELECT proname, proconfig FROM pg_proc WHERE proname = ANY(%s)", [list(FUNCTIONS)])
        settings = dict(cursor.fetchall())
    assert settings == {name: ["plan_cache_mode=force_generic_plan"] for name in FUNCTIONS}


def test_members_are_looked_up_by_uid_on_the_index_not_by_scanning_them(usd):
    # Enough members, analyzed, that a scan would cost the planner more than a probe: with a handful (or stale
    # statistics) it rightly scans, whatever the look-up's form.
    members = Member.objects.bulk_create(Member(uid=f"PROBE{i:06d}", email=f"probe{i}@example.com") for i in range(3000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members")
    plans: list[str] = []
    psycopg_connection = connection.connection
    def collect(notice) -> None:
        plans.append(notice.message_primary)

    psycopg_connection.add_notice_handler(collect)
    try:
        with connection.cursor() as cursor:
            # auto_explain reports the plan of every statement the functions run (LOCAL: undone with the test)
            cursor.execute("LOAD 'auto_explain'")
            for setting, value in (("log_min_duration", "0"), ("log_nested_statements", "on"), ("log_level", "notice")):
                cursor.execute("SELECT set_config(%s, %s, true)", [f"auto_explain.{setting}", value])
        ledger.operation_post(account=ChartAccount.objects.get(code=201), currency=usd, side=CREDIT,
                              amount=Decimal("1"), uid=members[-1].uid.lower())
    finally:
        psycopg_connection.remove_notice_handler(collect)

    lookup = next(plan for plan in plans if "FROM members" in plan and "array_agg(m.id" in plan)
    assert "Index Scan using members_uid_upper_uniq on members" in lookup
    assert "Seq Scan on members" not in lookup
    assert Account.objects.get(member=members[-1], currency=usd).balance == Decimal("1")
