"""The Market entity (management-api-extensions.md §6.4) as the contract writes it."""

from peatio_mgmt.management_api.fields import amount, iso_time
from trades.models import Market


def render_market(market: Market) -> dict:
    return {
        "id": market.id,
        "symbol": market.id,
        "name": f"{market.base_unit_id.upper()}/{market.quote_unit_id.upper()}",
        "base_unit": market.base_unit_id,
        "quote_unit": market.quote_unit_id,
        "amount_precision": market.amount_precision,
        "price_precision": market.price_precision,
        "min_price": amount(market.min_price),
        "max_price": amount(market.max_price),
        "min_amount": amount(market.min_amount),
        "ask_fee": amount(market.ask_fee),
        "bid_fee": amount(market.bid_fee),
        "position": market.position,
        "state": market.state,
        "created_at": iso_time(market.created_at),
        "updated_at": iso_time(market.updated_at),
    }
