"""The 20 routes of the management API (management-api.md §1.1): path, verb, scope and the handler serving it.

A handler is a function `handler(values: dict) -> dict | list | ListResult` declared with `@endpoint`, which
gives the gate its parameters and the OpenAPI document its description; it lives in its app's `api.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from django.utils.module_loading import import_string

from peatio_mgmt.management_api.params import Params


@dataclass(frozen=True)
class Route:
    path: str
    verb: str
    scope: str
    handler_path: str

    @cached_property
    def handler(self) -> Callable:
        return import_string(self.handler_path)

    @property
    def success_status(self) -> int:
        return 201 if self.verb == "POST" else 200


ROUTES: dict[str, Route] = {
    route.path: route
    for route in [
        Route("accounts/balance", "POST", "read_accounts", "ledger.api.balance.accounts_balance"),
        Route("deposits", "POST", "read_deposits", "deposits.api.deposit_list"),
        Route("deposits/get", "POST", "read_deposits", "deposits.api.deposit_get"),
        Route("deposits/new", "POST", "write_deposits", "deposits.api.deposit_new"),
        Route("deposits/state", "PUT", "write_deposits", "deposits.api.deposit_state"),
        Route("withdraws", "POST", "read_withdraws", "withdraws.api.withdraw_list"),
        Route("withdraws/get", "POST", "read_withdraws", "withdraws.api.withdraw_get"),
        Route("withdraws/new", "POST", "write_withdraws", "withdraws.api.withdraw_new"),
        Route("withdraws/action", "PUT", "write_withdraws", "withdraws.api.withdraw_action"),
        Route("timestamp", "POST", "tools", "peatio_mgmt.management_api.tools.timestamp"),
        Route("assets", "POST", "read_operations", "ledger.api.operations.asset_list"),
        Route("assets/new", "POST", "write_operations", "ledger.api.operations.asset_new"),
        Route("expenses", "POST", "read_operations", "ledger.api.operations.expense_list"),
        Route("expenses/new", "POST", "write_operations", "ledger.api.operations.expense_new"),
        Route("revenues", "POST", "read_operations", "ledger.api.operations.revenue_list"),
        Route("revenues/new", "POST", "write_operations", "ledger.api.operations.revenue_new"),
        Route("liabilities", "POST", "read_operations", "ledger.api.operations.liability_list"),
        Route("liabilities/new", "POST", "write_operations", "ledger.api.operations.liability_new"),
        Route("transfers/new", "POST", "write_transfers", "ledger.api.transfers.transfer_new"),
        Route("trades", "POST", "read_trades", "trades.api.trade_list"),
    ]
}


def endpoint(*, params: Params, response: dict | None = None, summary: str = ""):
    """Declare a handler: its parameters (checked by the gate before the call) and its response schema."""

    def declare(handler: Callable) -> Callable:
        handler.params = params
        handler.response_schema = response
        handler.summary = summary or (handler.__doc__ or "").strip().split("\n")[0]
        return handler

    return declare
