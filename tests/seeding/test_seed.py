"""The seed command (seed-format.md): idempotent upserts, the historical trade import, refusals that write nothing."""

import io
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict

from deposits.models import Deposit
from ledger.models import Account, ChartAccount, Currency, Member, Operation
from trades.models import Market, Order, Trade
from withdraws.models import Withdraw

DEMO = str(Path(__file__).resolve().parents[2] / "seeds" / "demo.yml")
SEEDED_MODELS = (ChartAccount, Currency, Member, Market, Order, Trade, Account, Operation, Deposit, Withdraw)


def seed(*paths, dry_run=False):
    """Run the command; (exit status, stdout lines, stderr lines)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("seed", *map(str, paths), dry_run=dry_run, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, out.getvalue().splitlines(), err.getvalue().splitlines()


@pytest.fixture
def seed_file(tmp_path, monkeypatch):
    """Writes a seed file in the working directory; returns its name as given on the command line."""
    monkeypatch.chdir(tmp_path)

    def write(text, name="seed.yml"):
        Path(name).write_text(textwrap.dedent(text))
        return name

    return write


def snapshot():
    """Every row of every table the seed could touch, timestamps included."""
    return {model.__name__: [(row.pk, model_to_dict(row), getattr(row, "updated_at", None))
                             for row in model.objects.order_by("pk")] for model in SEEDED_MODELS}


@pytest.mark.django_db
def test_demo_seed_creates_the_example_data():
    status, out, err = seed(DEMO)

    assert (status, err) == (0, [])
    assert out == [
        "accounts: 1 created, 0 updated, 0 unchanged",
        "currencies: 4 created, 0 updated, 0 unchanged",
        "members: 3 created, 0 updated, 0 unchanged",
        "markets: 2 created, 0 updated, 0 unchanged",
        "trades: 3 created, 0 updated, 0 unchanged",
    ]
    btc = Currency.objects.get(pk="btc")
    assert (btc.base_factor, btc.min_deposit_amount, btc.wallet_gateway) == (100_000_000, Decimal("0.0001"), "simulated")
    assert Currency.objects.get(pk="usd").wallet_gateway is None
    ethbtc = Market.objects.get(pk="ethbtc")
    assert (ethbtc.max_price, ethbtc.state, ethbtc.min_price) == (0, "enabled", Decimal("0.000001"))
    assert ChartAccount.objects.get(code=292).scope == "platform"
    assert Member.objects.get(uid="U117340922").role == "trader"


@pytest.mark.django_db
def test_demo_seed_twice_changes_nothing():
    seed(DEMO)
    before = snapshot()

    status, out, _ = seed(DEMO)

    assert status == 0
    assert out == [
        "accounts: 0 created, 0 updated, 1 unchanged",
        "currencies: 0 created, 0 updated, 4 unchanged",
        "members: 0 created, 0 updated, 3 unchanged",
        "markets: 0 created, 0 updated, 2 unchanged",
        "trades: 0 created, 0 updated, 3 unchanged",
    ]
    assert snapshot() == before


@pytest.mark.django_db
def test_demo_trades_create_orders_in_taker_order_and_move_no_money():
    seed(DEMO)

    first, second, third = Trade.objects.order_by("id")
    assert [t.taker_type for t in (first, second, third)] == ["buy", "buy", "sell"]
    # Orders 1..6 of the spec: ask, bid, ask, bid, then bid before ask for the sell-taker trade.
    base = first.ask_id
    assert [first.ask_id, first.bid_id, second.ask_id, second.bid_id, third.bid_id, third.ask_id] == list(range(base, base + 6))
    assert [t.trend for t in (first, second, third)] == ["up", "up", "down"]
    assert second.funds == Decimal("0.12756")  # price × volume when funds is not given
    ask, bid = first.ask, first.bid
    assert (ask.side, ask.member.uid, ask.ask, ask.bid, ask.state, ask.origin_locked, ask.funds_received, ask.fee) == (
        "ask", "U487205863", "btc", "usd", "done", Decimal("123.12345678"), Decimal("1516.8809875296"), Decimal("0.0015"))
    assert (bid.side, bid.member.uid, bid.origin_locked, bid.funds_received, bid.volume, bid.trades_count) == (
        "bid", "U117340922", Decimal("1516.8809875296"), Decimal("123.12345678"), 0, 1)
    assert ask.created_at == first.created_at
    assert not Account.objects.exists() and not Operation.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "text, problem",
    [
        (
            """
            currencies:
              - {id: usd, type: fiat, symbol: "$"}
              - {id: btc, type: coin, symbol: "B", witdraw_fee: "0.1"}
            """,
            "seed.yml: currencies[1] (id=btc): witdraw_fee: unknown field",
        ),
        (
            """
            currencies:
              - {id: usd, type: fiat, symbol: "$", withdraw_fee: "0.1.2"}
            """,
            'seed.yml: currencies[0] (id=usd): withdraw_fee: must be a decimal, got "0.1.2"',
        ),
        (
            """
            currencies:
              - {id: usd, type: fiat, symbol: "$"}
              - {id: eur, type: fiat, symbol: "E"}
              - {id: btc, type: coin, symbol: "B", withdraw_fee: "-0.1"}
            """,
            'seed.yml: currencies[2] (id=btc): withdraw_fee: must be a decimal >= 0, got "-0.1"',
        ),
        (
            """
            currencies:
              - {id: usd, type: fiat, symbol: "$"}
              - {id: btc, type: coin, symbol: "B"}
            markets:
              - {id: btcusd, base_unit: btc, quote_unit: usdd}
            """,
            'seed.yml: markets[0] (id=btcusd): quote_unit: unknown currency "usdd"',
        ),
        (
            """
            currencies:
              - {id: btc, type: coin, symbol: "B", deposit_fee: "0.001"}
            """,
            'seed.yml: currencies[0] (id=btc): deposit_fee: must be 0 for a coin currency, got "0.001"',
        ),
        (
            """
            currencies:
              - {id: usd, type: fiat, symbol: "$", withdraw_fee: "0.00000000000000001"}
            """,
            'seed.yml: currencies[0] (id=usd): withdraw_fee: must have at most 16 integer and 16 fractional digits,'
            ' got "0.00000000000000001"',
        ),
        (
            """
            members:
              - {uid: U1, email: not-an-address}
            """,
            'seed.yml: members[0] (uid=U1): email: must be a valid email address, got "not-an-address"',
        ),
        (
            """
            currencies:
              - {id: usd, type: fiat, symbol: "$"}
              - {id: btc, type: coin, symbol: "B"}
            markets:
              - {id: ethusd, base_unit: btc, quote_unit: usd}
            """,
            'seed.yml: markets[0] (id=ethusd): id: must equal base_unit + quote_unit ("btcusd"), got "ethusd"',
        ),
        (
            """
            accounts:
              - {code: 293, type: asset, kind: main, currency_type: coin, scope: platform}
            """,
            "seed.yml: accounts[0] (code=293): kind: account 102 has the same type, kind and currency_type",
        ),
        (
            """
            currencies:
              - {id: usd, type: fiat, symbol: "$", enabled: false}
              - {id: btc, type: coin, symbol: "B"}
            markets:
              - {base_unit: btc, quote_unit: usd}
            """,
            'seed.yml: markets[0] (id=btcusd): state: enabled requires both currencies enabled ("usd" is disabled)',
        ),
        ("- just a list\n", "seed.yml: the top level must be a mapping of sections (accounts, currencies, members, markets, trades)"),
        ("wallets: []\n", 'seed.yml: unknown section "wallets"; the sections are accounts, currencies, members, markets, trades'),
    ],
)
def test_malformed_file_names_file_section_index_key_and_field_and_writes_nothing(seed_file, text, problem):
    before = snapshot()

    status, out, err = seed(seed_file(text))

    assert (status, out) == (1, [])
    assert problem in err
    assert snapshot() == before


@pytest.mark.django_db
def test_trade_with_an_unknown_member_is_refused(seed_file):
    seed(DEMO)
    before = snapshot()
    path = seed_file(
        """
        trades:
          - {market: btcusd, price: "1", volume: "1", ask_member_uid: U487205863, bid_member_uid: U000000001,
             created_at: "2026-11-23T09:00:00Z"}
        """
    )

    status, _, err = seed(path)

    assert status == 1
    assert err == ['seed.yml: trades[0]: bid_member_uid: unknown member "U000000001"']
    assert snapshot() == before


@pytest.mark.django_db
def test_every_problem_of_every_file_is_reported(seed_file):
    first = seed_file("currencies:\n  - {id: usd, type: fiat, symbol: $, precision: 17}\n", "a.yml")
    second = seed_file("members:\n  - {uid: U1, email: u1@example.com, level: -1, colour: blue}\n", "b.yml")

    status, _, err = seed(first, second)

    assert status == 1
    assert err == [
        f"{first}: currencies[0] (id=usd): precision: must be an integer <= 16, got 17",
        f"{second}: members[0] (uid=U1): level: must be an integer >= 0, got -1",
        f"{second}: members[0] (uid=U1): colour: unknown field",
    ]


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing():
    before = snapshot()

    status, out, _ = seed(DEMO, dry_run=True)

    assert status == 0
    assert out[1] == "currencies: 4 created, 0 updated, 0 unchanged"
    assert out[-1] == "dry run: nothing written"
    assert snapshot() == before


@pytest.mark.django_db
def test_update_of_an_existing_key_changes_only_the_given_fields(seed_file):
    seed(DEMO)
    eur_before = Currency.objects.get(pk="eur")
    path = seed_file(
        """
        currencies:
          - {id: USD, withdraw_fee: 0.2}
          - {id: eur, name: Euro}
        members:
          - {uid: u117340922, level: 4}
        """
    )

    status, out, _ = seed(path)

    assert status == 0
    assert out[1:3] == ["currencies: 0 created, 1 updated, 1 unchanged", "members: 0 created, 1 updated, 0 unchanged"]
    usd = Currency.objects.get(pk="usd")
    assert usd.withdraw_fee == Decimal("0.2")  # a YAML float read through its shortest text: exactly 0.2
    assert (usd.min_withdraw_amount, usd.symbol) == (Decimal("1.0"), "$")
    assert Currency.objects.get(pk="eur").updated_at == eur_before.updated_at
    bob = Member.objects.get(uid="U117340922")
    assert (bob.level, bob.role, bob.email) == (4, "trader", "bob@example.com")


@pytest.mark.django_db
def test_disabling_a_currency_disables_its_markets(seed_file):
    seed(DEMO)

    status, _, _ = seed(seed_file("currencies:\n  - {id: btc, enabled: false}\n"))

    assert status == 0
    assert set(Market.objects.values_list("id", "state")) == {("btcusd", "disabled"), ("ethbtc", "disabled")}


@pytest.mark.django_db
def test_market_pair_is_immutable(seed_file):
    seed(DEMO)

    status, _, err = seed(seed_file("markets:\n  - {id: btcusd, base_unit: eth, quote_unit: usd}\n"))

    assert status == 1
    assert err == ['seed.yml: markets[0] (id=btcusd): base_unit: cannot change (market btcusd trades btc/usd)']


@pytest.mark.django_db
def test_trade_ids_are_kept_and_the_sequence_moves_past_them(seed_file):
    seed(DEMO)
    trade = "{market: btcusd, price: '2', volume: '1', ask_member_uid: U487205863, bid_member_uid: U117340922, created_at: %s}"
    path = seed_file(
        "trades:\n"
        f"  - {{id: 1000, {trade[1:-1] % '2026-12-01T00:00:00'}}}\n"
        f"  - {trade % '2026-12-02T00:00:00Z'}\n"
    )

    status, out, _ = seed(path)
    again = seed(path)[1]

    assert status == 0
    assert out[-1] == "trades: 2 created, 0 updated, 0 unchanged"
    assert again[-1] == "trades: 0 created, 0 updated, 2 unchanged"
    assert Trade.objects.filter(pk=1000).exists()
    assert Trade.objects.order_by("-pk").first().pk == 1001


@pytest.mark.django_db
def test_trade_id_that_exists_with_other_values_is_refused(seed_file):
    seed(DEMO)
    path = seed_file(
        """
        trades:
          - {{id: {trade_id}, market: btcusd, price: "12.33", volume: "123.12345678", funds: "1516.8809875296",
             ask_member_uid: U487205863, bid_member_uid: U117340922, created_at: "2026-11-21T09:00:00Z"}}
        """.format(trade_id=Trade.objects.order_by("pk").first().pk)
    )

    status, _, err = seed(path)

    assert status == 1
    assert err[0].endswith(f"id: trade {Trade.objects.order_by('pk').first().pk} exists with a different price")


@pytest.mark.django_db
def test_values_are_read_by_the_apis_grammar(seed_file):
    """The API's fields read the seed's values: an exponent, a numeric string for an integer; NaN is no decimal."""
    status, _, err = seed(seed_file(
        """
        currencies:
          - {id: usd, type: fiat, symbol: "$", withdraw_fee: "1E-4", precision: "2", options: {rate: 1.5, n: 2}}
        """
    ))
    assert (status, err) == (0, [])
    usd = Currency.objects.get(pk="usd")
    assert (usd.withdraw_fee, usd.precision, usd.options) == (Decimal("0.0001"), 2, {"rate": 1.5, "n": 2})

    status, _, err = seed(seed_file("currencies:\n  - {id: eur, type: fiat, symbol: E, withdraw_fee: .nan}\n"))
    assert (status, err) == (1, ["seed.yml: currencies[0] (id=eur): withdraw_fee: must be a decimal, got nan"])
