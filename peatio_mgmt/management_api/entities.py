"""OpenAPI schemas of the response entities (management-api.md §3), referenced by the handlers' `@endpoint`."""

DECIMAL = {"type": "string", "format": "decimal", "example": "750.77"}
DATETIME = {"type": "string", "format": "date-time", "example": "2026-11-23T10:11:12Z"}
NULLABLE_DATETIME = {**DATETIME, "nullable": True}
DIGITS = {"type": "string", "pattern": "^[0-9]+$"}
NUMBER = {"type": "number"}


def entity(name: str, properties: dict, required: list[str] | None = None) -> dict:
    return {"title": name, "type": "object", "properties": properties, "required": required or list(properties)}


def many(schema: dict) -> dict:
    return {"type": "array", "items": schema}


BALANCE = entity("Balance", {"uid": {"type": "string"}, "balance": DECIMAL, "locked": DECIMAL})

DEPOSIT = entity(
    "Deposit",
    {
        "tid": {"type": "string"},
        "currency": {"type": "string"},
        "uid": {"type": "string"},
        "type": {"type": "string", "enum": ["fiat", "coin"]},
        "amount": DECIMAL,
        "state": {"type": "string", "enum": ["submitted", "canceled", "rejected", "accepted", "skipped", "collected"]},
        "created_at": DATETIME,
        "completed_at": NULLABLE_DATETIME,
        "blockchain_txid": {"type": "string", "nullable": True, "description": "coin deposits only"},
        "blockchain_confirmations": {**DIGITS, "description": "coin deposits only"},
    },
    required=["tid", "currency", "uid", "type", "amount", "state", "created_at", "completed_at"],
)

WITHDRAW = entity(
    "Withdraw",
    {
        "tid": {"type": "string"},
        "uid": {"type": "string"},
        "currency": {"type": "string"},
        "type": {"type": "string", "enum": ["fiat", "coin"]},
        "amount": DECIMAL,
        "fee": DECIMAL,
        "rid": {"type": "string"},
        "state": {
            "type": "string",
            "enum": ["prepared", "submitted", "canceled", "accepted", "rejected", "processing", "skipped", "errored",
                     "confirming", "succeed", "failed"],
        },
        "created_at": DATETIME,
        "blockchain_txid": {"type": "string", "nullable": True, "description": "coin withdraws only"},
    },
    required=["tid", "uid", "currency", "type", "amount", "fee", "rid", "state", "created_at"],
)

OPERATION = entity(
    "Operation",
    {
        "code": DIGITS,
        "currency": {"type": "string"},
        "credit": {**DECIMAL, "description": "omitted for a debit"},
        "debit": {**DECIMAL, "description": "omitted for a credit"},
        "uid": {"type": "string", "description": "omitted when the posting has no member"},
        "reference_type": {"type": "string", "nullable": True},
        "created_at": DATETIME,
    },
    required=["code", "currency", "reference_type", "created_at"],
)

TRANSFER = entity(
    "Transfer",
    {
        "key": {"type": "integer", "format": "int64"},
        "kind": {"type": "string"},
        "desc": {"type": "string", "nullable": True},
        "liabilities": many(OPERATION),
        "assets": many(OPERATION),
        "expenses": many(OPERATION),
        "revenues": many(OPERATION),
    },
    required=["key", "kind", "desc"],
)

TRADE = entity(
    "Trade",
    {
        "id": DIGITS,
        "price": NUMBER,
        "volume": NUMBER,
        "funds": NUMBER,
        "market": {"type": "string"},
        "created_at": DATETIME,
        "ask_id": DIGITS,
        "bid_id": DIGITS,
        "ask_member_uid": {"type": "string"},
        "bid_member_uid": {"type": "string"},
        "taker_type": {"type": "string", "enum": ["buy", "sell"]},
        "side": {"type": "string", "enum": ["ask", "bid"], "description": "only with a uid filter"},
        "order_id": {"type": "integer", "description": "only with a uid filter"},
    },
    required=["id", "price", "volume", "funds", "market", "created_at", "ask_id", "bid_id", "ask_member_uid",
              "bid_member_uid", "taker_type"],
)

TIMESTAMP = entity("Timestamp", {"timestamp": {"type": "integer", "format": "int64"}})
