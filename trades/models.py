"""Markets, orders and trades (domain.md §9).

There is no matching engine yet: orders and trades come from the seed's historical import, which moves no
balance and writes no posting. Markets are reference data (seed, operators).
"""

from django.db import models
from django.db.models import F, Q

from ledger.models import MONEY, Currency, Digits, Member

FEE: Digits = {"max_digits": 17, "decimal_places": 16}  # the markets' fee rates (0..0.5), domain.md §9


class MarketState(models.TextChoices):
    ENABLED = "enabled"
    DISABLED = "disabled"
    HIDDEN = "hidden"
    LOCKED = "locked"
    SALE = "sale"
    PRESALE = "presale"


class Market(models.Model):
    id = models.CharField(max_length=20, primary_key=True)
    base_unit = models.ForeignKey(Currency, on_delete=models.PROTECT, db_column="base_unit", related_name="+")
    quote_unit = models.ForeignKey(Currency, on_delete=models.PROTECT, db_column="quote_unit", related_name="+")
    amount_precision = models.SmallIntegerField(default=4)
    price_precision = models.SmallIntegerField(default=4)
    ask_fee = models.DecimalField(**FEE, default=0)
    bid_fee = models.DecimalField(**FEE, default=0)
    min_price = models.DecimalField(**MONEY, default=0)
    max_price = models.DecimalField(**MONEY, default=0)
    min_amount = models.DecimalField(**MONEY, default=0)
    position = models.IntegerField(default=0)
    state = models.CharField(max_length=32, choices=MarketState.choices, default=MarketState.ENABLED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "markets"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["base_unit", "quote_unit"], name="markets_base_quote_uniq"),
            models.CheckConstraint(condition=~Q(base_unit=F("quote_unit")), name="markets_base_ne_quote"),
            models.CheckConstraint(
                condition=Q(amount_precision__gte=0, price_precision__gte=0)
                & Q(amount_precision__lte=12 - F("price_precision")),
                name="markets_precisions",
            ),
            models.CheckConstraint(condition=Q(ask_fee__gte=0, ask_fee__lte=0.5, bid_fee__gte=0, bid_fee__lte=0.5), name="markets_fees_0_half"),
        ]

    def __str__(self) -> str:
        return self.id


class OrderSide(models.TextChoices):
    ASK = "ask"
    BID = "bid"


class OrderState(models.TextChoices):
    PENDING = "pending"
    WAIT = "wait"
    DONE = "done"
    CANCEL = "cancel"
    REJECT = "reject"


class Order(models.Model):
    side = models.CharField(max_length=3, choices=OrderSide.choices)
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="orders")
    ask = models.CharField(max_length=10)
    bid = models.CharField(max_length=10)
    ord_type = models.CharField(max_length=30, default="limit")
    price = models.DecimalField(**MONEY, null=True, blank=True)
    volume = models.DecimalField(**MONEY)
    origin_volume = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY, default=0)  # NUMERIC(32,16) as domain.md §9's orders table has it
    locked = models.DecimalField(**MONEY, default=0)
    origin_locked = models.DecimalField(**MONEY, default=0)
    funds_received = models.DecimalField(**MONEY, default=0)
    trades_count = models.IntegerField(default=0)
    state = models.CharField(max_length=10, choices=OrderState.choices, default=OrderState.PENDING)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "orders"
        indexes = [models.Index(fields=["member", "id"], name="orders_member_id")]

    def __str__(self) -> str:
        return f"order {self.pk} {self.side} {self.market_id}"


class Trade(models.Model):
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="+")
    price = models.DecimalField(**MONEY)
    volume = models.DecimalField(**MONEY)
    funds = models.DecimalField(**MONEY)
    ask = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    bid = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    ask_member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    bid_member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    trend = models.CharField(max_length=4, choices=[("up", "up"), ("down", "down")])
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "trades"
        indexes = [
            models.Index(fields=["market", "id"], name="trades_market_id"),
            models.Index(fields=["ask_member", "id"], name="trades_ask_member_id"),
            models.Index(fields=["bid_member", "id"], name="trades_bid_member_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0, volume__gt=0, funds__gt=0), name="trades_amounts_gt_0"),
        ]

    @property
    def taker_type(self) -> str:
        """The later order took liquidity: sell when the ask order's id is larger (domain.md §9)."""
        return "sell" if self.ask_id > self.bid_id else "buy"

    def __str__(self) -> str:
        return f"trade {self.pk} {self.market_id}"
