"""Random sequences of the money operations, with every invariant of domain.md §11 checked after each step.

The closest a Python project gets to TigerBeetle's simulator: deposits, withdraws (fiat and coin, through the
API's actions and the workers), transfers and single postings, in any order and with any amounts — some
refused, most not — and after every step the books check finds no breach and no account is out of step with
its postings. The services run their own durable transactions, so the test database commits (transaction=True).
"""

import itertools
import secrets
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from deposits.models import Deposit
from deposits.services import deposit_create
from ledger.books import books_check
from ledger.core import CREDIT, DEBIT
from ledger.models import ChartAccount, Transfer
from ledger.selectors import account_mismatches
from ledger.services import TransferLeg, operation_post, transfer_create
from peatio_mgmt.errors import BusinessRuleError
from tests.factories import CoinFactory, CurrencyFactory, MemberFactory
from withdraws.models import Withdraw, WithdrawState
from withdraws.services import withdraw_action, withdraw_audit, withdraw_confirm, withdraw_create, withdraw_send

AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("400"), places=2)
COIN_AMOUNTS = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal("0.3"), places=8)
COIN_WITHDRAWS = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.12"), places=8)
ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
keys = itertools.count(1)


def refused_or_done(operation):
    try:
        return operation()
    except BusinessRuleError:
        return None  # refused with a 422 message: the invariants must hold all the same


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self):
        self.usd = CurrencyFactory(deposit_fee=Decimal("0.5"), withdraw_limit_24h=Decimal("500"))
        self.btc = CoinFactory()
        self.members = [MemberFactory() for _ in range(3)]
        self.chart = {account.code: account for account in ChartAccount.objects.all()}
        self.every_kind_of_ending()

    def every_kind_of_ending(self):
        """One fiat withdraw canceled, one paid at once, one coin withdraw through the workers, so that every
        example starts from books that already hold each kind of ending. Hypothesis's choice of steps varies with
        the process it runs in (the same seed gave other programs after other tests), so the random steps alone
        cannot promise to reach them."""
        uid = self.members[0].uid
        deposit_create(uid=uid, currency=self.usd, amount=Decimal("300"), accept=True, request_digest=self.digest())
        canceled = withdraw_create(uid=uid, currency=self.usd, amount=Decimal("10"), rid="DE89370400440532013000",
                                   process=False, request_digest=self.digest())
        withdraw_action(tid=canceled.tid, action="cancel")
        withdraw_create(uid=uid, currency=self.usd, amount=Decimal("20"), rid="DE89370400440532013000",
                        process=True, request_digest=self.digest())
        operation_post(account=self.chart[202], currency=self.btc, side=CREDIT, amount=Decimal("0.1"), uid=uid)
        withdraw_create(uid=uid, currency=self.btc, amount=Decimal("0.01"), rid=ADDRESS, request_digest=self.digest())
        self.workers()

    def digest(self) -> str:
        return secrets.token_hex(32)

    @rule(who=st.integers(0, 2), amount=AMOUNTS, accept=st.booleans())
    def deposit(self, who, amount, accept):
        refused_or_done(lambda: deposit_create(uid=self.members[who].uid, currency=self.usd, amount=amount,
                                               accept=accept, request_digest=self.digest()))

    @rule(who=st.integers(0, 2), amount=AMOUNTS, process=st.booleans())
    def fiat_withdraw(self, who, amount, process):
        refused_or_done(lambda: withdraw_create(uid=self.members[who].uid, currency=self.usd, amount=amount,
                                                rid="DE89370400440532013000", process=process,
                                                request_digest=self.digest()))

    @rule(who=st.integers(0, 2), amount=COIN_WITHDRAWS)
    def coin_withdraw(self, who, amount):
        refused_or_done(lambda: withdraw_create(uid=self.members[who].uid, currency=self.btc, amount=amount,
                                                rid=ADDRESS, request_digest=self.digest()))

    @rule(who=st.integers(0, 2), amount=COIN_AMOUNTS, side=st.sampled_from([DEBIT, CREDIT]))
    def coin_liability_posting(self, who, amount, side):
        refused_or_done(lambda: operation_post(account=self.chart[202], currency=self.btc, side=side, amount=amount,
                                               uid=self.members[who].uid))

    @rule(pick=st.integers(0, 10_000), action=st.sampled_from(["process", "cancel"]))
    def withdraw_api_action(self, pick, action):
        tids = list(Withdraw.objects.order_by("id").values_list("tid", flat=True))
        if tids:
            refused_or_done(lambda: withdraw_action(tid=tids[pick % len(tids)], action=action))

    @rule()
    def workers(self):
        withdraw_audit()
        for withdraw_id in Withdraw.objects.filter(state=WithdrawState.PROCESSING).values_list("id", flat=True):
            withdraw_send(withdraw_id=withdraw_id)
        withdraw_confirm()

    @rule(source=st.integers(0, 2), destination=st.integers(0, 2), amounts=st.lists(AMOUNTS, min_size=1, max_size=3))
    def member_transfer(self, source, destination, amounts):
        legs = [TransferLeg(currency=self.usd, amount=amount, source=self.chart[201], destination=self.chart[201],
                            source_uid=self.members[source].uid, destination_uid=self.members[destination].uid)
                for amount in amounts]
        refused_or_done(lambda: transfer_create(key=next(keys), kind="member-transfer", desc=None, legs=legs))

    @rule(who=st.integers(0, 2), amount=AMOUNTS)
    def referral_payoff(self, who, amount):
        legs = [TransferLeg(currency=self.usd, amount=amount, source=self.chart[301], destination=self.chart[201],
                            destination_uid=self.members[who].uid)]
        refused_or_done(lambda: transfer_create(key=next(keys), kind="referral-payoff", desc=None, legs=legs))

    @invariant()
    def books_hold(self):
        if hasattr(self, "usd"):
            assert account_mismatches() == []
            report = books_check()
            assert report.ok, report.breaches


@pytest.mark.django_db(transaction=True)
def test_random_sequences_of_money_operations_keep_every_invariant(settings_fixture_confirm_at_once):
    # Derandomized: the same sequences on every run (CI stays deterministic); the data of all examples stays in
    # the database until the test ends, so the last assertion shows the runs reached the interesting states.
    # Hypothesis (6.1xx) also draws literals harvested from the project's own modules, so adding code changes the
    # sequences: 50 examples reach every state with margin where 20 stopped doing so when coin deposits came in.
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=50, stateful_step_count=50, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    reached = set(Withdraw.objects.values_list("type", "state").distinct())
    assert {("fiat", "succeed"), ("fiat", "canceled"), ("coin", "succeed")} <= reached, reached
    assert Transfer.objects.exists() and Deposit.objects.filter(state="accepted").exists()


@pytest.fixture
def settings_fixture_confirm_at_once(settings):
    # A coin withdraw sent by the simulated gateway is confirmed at the next confirm run.
    settings.SIMULATED_GATEWAY_CONFIRMATIONS_PER_SECOND = 1_000_000
    return settings

