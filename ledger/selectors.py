"""Reads of the ledger."""

from django.db import connection

from ledger.models import Account, Currency, Member
from ledger.money import ZERO

# Accounts whose balance / locked differ from the net of the member's liability postings of kind main / locked
# (domain.md §11 invariant 1), found with one aggregate query over the journal.
ACCOUNT_MISMATCHES_SQL = """
WITH postings AS (
    SELECT o.member_id, o.currency_id,
           SUM(CASE WHEN c.kind = 'main' THEN o.credit - o.debit ELSE 0 END) AS balance,
           SUM(CASE WHEN c.kind = 'locked' THEN o.credit - o.debit ELSE 0 END) AS locked
    FROM operations o JOIN chart_accounts c ON c.code = o.code
    WHERE o.type = 'liability' AND c.scope = 'member'
    GROUP BY o.member_id, o.currency_id
)
SELECT COALESCE(a.member_id, p.member_id), COALESCE(a.currency_id, p.currency_id),
       COALESCE(a.balance, 0), COALESCE(a.locked, 0), COALESCE(p.balance, 0), COALESCE(p.locked, 0)
FROM accounts a FULL OUTER JOIN postings p ON p.member_id = a.member_id AND p.currency_id = a.currency_id
WHERE COALESCE(a.balance, 0) <> COALESCE(p.balance, 0) OR COALESCE(a.locked, 0) <> COALESCE(p.locked, 0)
ORDER BY 1, 2
"""


def account_mismatches() -> list[tuple]:
    """(member id, currency, balance, locked, postings' balance, postings' locked) of every account out of step."""
    with connection.cursor() as cursor:
        cursor.execute(ACCOUNT_MISMATCHES_SQL)
        return cursor.fetchall()


def member_get_by_uid(uid: str) -> Member | None:
    """Look-ups by uid ignore case (domain.md §2.1)."""
    return Member.objects.filter(uid__iexact=uid).first() if uid else None


def account_balance(*, member: Member, currency: Currency) -> Account:
    """The member's account in the currency; a missing row reads as zero (not created by a read)."""
    account = Account.objects.filter(member=member, currency=currency).first()
    return account or Account(member=member, currency=currency, balance=ZERO, locked=ZERO)
