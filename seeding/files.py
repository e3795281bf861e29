"""Reading seed files (seed-format.md §1, §3, §4): YAML → typed entries, or problems naming file, section,
index, natural key and field.

Nothing here touches the database: this stage checks what a file alone can say (field names, types, ranges), each
value read by the management API's field for it (seeding.fields). References and rules over stored rows are checked
by seeding.services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ledger.api.currencies import CurrencyListParams
from ledger.api.members import MemberGroup, MemberNewParams
from ledger.models import AccountScope, AccountType, AddressFormat, CurrencyType, WalletGateway
from peatio_mgmt.management_api.fields import Integer, String
from seeding.fields import (
    INT64_MAX,
    Amount,
    Email,
    FieldError,
    Flag,
    Ignored,
    JsonMapping,
    MarketFee,
    Moment,
    Number,
    SeedField,
    Text,
    integer,
    route_field,
    shown,
)
from trades.api import MarketListParams

SECTIONS = ("accounts", "currencies", "members", "markets", "trades")


@dataclass(frozen=True)
class Problem:
    file: str
    section: str | None = None
    index: int | None = None
    key: str | None = None
    field: str | None = None
    message: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.section is not None:
            where += f": {self.section}" + (f"[{self.index}]" if self.index is not None else "")
            if self.key:
                where += f" ({self.key})"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


class SeedInvalid(Exception):
    """The seed files are refused; nothing was written (or everything was rolled back)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass
class SeedEntry:
    """One entry of a section: only the fields the file gives, typed."""

    file: str
    section: str
    index: int
    key: str | None
    values: dict[str, Any] = field(default_factory=dict)

    def problem(self, field_name: str | None, message: str) -> Problem:
        return Problem(self.file, self.section, self.index, self.key, field_name, message)


# --- sections (seed-format.md §4) --------------------------------------------------------------------------

CURRENCY_ID = Text(min_length=1, max_length=10, pattern=r"[A-Za-z0-9]+", lower=True)
MEMBER_GROUP_RULE = "must be 1–32 characters of a-z, 0-9, _ and - (after trimming and lowercasing)"

FIELDS: dict[str, dict[str, SeedField]] = {
    "accounts": {
        "code": integer(minimum=1),
        "type": Text(String(choices=AccountType.values)),
        "kind": Text(min_length=1, max_length=30),
        "currency_type": Text(String(choices=CurrencyType.values)),
        "description": Text(max_length=100, nullable=True),
        "scope": Text(String(choices=AccountScope.values)),
    },
    "currencies": {
        "id": CURRENCY_ID,
        "name": Text(max_length=255, nullable=True),
        "type": Text(route_field(CurrencyListParams, "type", String)),
        "symbol": Text(min_length=1, max_length=8),
        "precision": integer(minimum=0, maximum=16),
        "base_factor": integer(minimum=1, maximum=INT64_MAX),
        "enabled": Flag(),
        "position": integer(minimum=-(2**31 - 1)),
        "deposit_fee": Amount(),
        "min_deposit_amount": Amount(),
        "min_collection_amount": Amount(),
        "withdraw_fee": Amount(),
        "min_withdraw_amount": Amount(),
        "withdraw_limit_24h": Amount(),
        "withdraw_limit_72h": Amount(),
        "options": JsonMapping(),
        "icon_url": Text(max_length=255, nullable=True),
        "wallet_gateway": Text(String(choices=WalletGateway.values)),
        "wallet_settings": JsonMapping(),
        "min_confirmations": integer(minimum=1),
        "address_format": Text(String(choices=AddressFormat.values), nullable=True),
        "blockchain_key": Ignored(),
    },
    # POST /members' own fields; `state` keeps the column's wider rule (management-api-extensions.md §8.1).
    "members": {
        "uid": Text(route_field(MemberNewParams, "uid", String), min_length=1, max_length=32),
        "email": Email(route_field(MemberNewParams, "email", String)),
        "level": Number(route_field(MemberNewParams, "level", Integer)),
        "role": Text(route_field(MemberNewParams, "role", String)),
        "state": Text(min_length=1, max_length=16),
        "group": Text(route_field(MemberNewParams, "group", MemberGroup), rule=MEMBER_GROUP_RULE),
    },
    "markets": {
        "id": Text(min_length=1, max_length=20),
        "base_unit": CURRENCY_ID,
        "quote_unit": CURRENCY_ID,
        "amount_precision": integer(minimum=0, maximum=12),
        "price_precision": integer(minimum=0, maximum=12),
        "ask_fee": MarketFee(),
        "bid_fee": MarketFee(),
        "min_price": Amount(),
        "max_price": Amount(),
        "min_amount": Amount(),
        "position": integer(minimum=-(2**31 - 1)),
        "state": Text(route_field(MarketListParams, "state", String)),
        "enabled": Flag(),
    },
    "trades": {
        "id": integer(minimum=1, maximum=INT64_MAX),
        "market": Text(min_length=1, max_length=20),
        "price": Amount(positive=True),
        "volume": Amount(positive=True),
        "funds": Amount(positive=True),
        "ask_member_uid": Text(min_length=1, max_length=32),
        "bid_member_uid": Text(min_length=1, max_length=32),
        "taker_type": Text(String(choices=["buy", "sell"])),
        "created_at": Moment(),
    },
}

# Fields every entry needs, whether it creates or updates (the natural key and, for trades, the whole record).
ALWAYS_REQUIRED = {
    "accounts": ("code",),
    "currencies": ("id",),
    "members": ("uid",),
    "markets": (),
    "trades": ("market", "price", "volume", "ask_member_uid", "bid_member_uid", "created_at"),
}
KEY_FIELD = {"accounts": "code", "currencies": "id", "members": "uid", "markets": "id", "trades": "id"}
def key_text(section: str, raw: dict) -> str | None:
    """`id=btc` for the problem lines: the natural key as the file gives it (markets: base + quote if no id)."""
    name = KEY_FIELD[section]
    value = raw.get(name)
    if value is None and section == "markets" and isinstance(raw.get("base_unit"), str) and isinstance(raw.get("quote_unit"), str):
        value = (raw["base_unit"] + raw["quote_unit"]).lower()
    if value is None or isinstance(value, (dict, list)):
        return None
    return f"{name}={value}"


def read_entry(*, file: str, section: str, index: int, raw: Any) -> tuple[SeedEntry | None, list[Problem]]:
    if not isinstance(raw, dict):
        return None, [Problem(file, section, index, None, None, f"must be a mapping of fields, got {shown(raw)}")]
    entry = SeedEntry(file=file, section=section, index=index, key=key_text(section, raw))
    problems = []
    fields = FIELDS[section]
    for name, value in raw.items():
        reader = fields.get(name)
        if reader is None:
            problems.append(entry.problem(str(name), "unknown field"))
            continue
        try:
            entry.values[name] = reader.read(value)
        except FieldError as error:
            problems.append(entry.problem(name, str(error)))
    for name in ALWAYS_REQUIRED[section]:
        if name not in raw:
            problems.append(entry.problem(name, "required"))
    entry.values.pop("blockchain_key", None)
    if section == "markets":
        problems += _market_key_problems(entry, raw)
    return entry, problems


def _market_key_problems(entry: SeedEntry, raw: dict) -> list[Problem]:
    """A market entry names its market by id, or by base_unit + quote_unit (checked against a given id later,
    once an unknown currency has had its own, clearer problem)."""
    if "id" in raw:
        return []
    if "base_unit" not in raw or "quote_unit" not in raw:
        return [entry.problem("id", "required (or both base_unit and quote_unit)")]
    if "base_unit" in entry.values and "quote_unit" in entry.values:
        entry.values["id"] = entry.values["base_unit"] + entry.values["quote_unit"]
    return []


def read_file(path: str) -> tuple[list[SeedEntry], list[Problem]]:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        return [], [Problem(path, message=f"cannot read: {error.strerror}")]
    except UnicodeDecodeError:
        return [], [Problem(path, message="cannot read: not UTF-8 text")]
    except yaml.YAMLError as error:
        return [], [Problem(path, message=f"invalid YAML: {' '.join(str(error).split())}")]
    if document is None:
        return [], []
    if not isinstance(document, dict):
        return [], [Problem(path, message=f"the top level must be a mapping of sections ({', '.join(SECTIONS)})")]
    entries, problems = [], []
    for section, items in document.items():
        if section not in SECTIONS:
            problems.append(Problem(path, message=f"unknown section {shown(section)}; the sections are {', '.join(SECTIONS)}"))
            continue
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(Problem(path, section, message="must be a list of entries"))
            continue
        for index, raw in enumerate(items):
            entry, entry_problems = read_entry(file=path, section=section, index=index, raw=raw)
            problems += entry_problems
            if entry is not None:
                entries.append(entry)
    return entries, problems


def read_files(paths: list[str]) -> list[SeedEntry]:
    """Every entry of every file, in files' command-line order then list order; SeedInvalid on any problem."""
    entries, problems = [], []
    for path in paths:
        file_entries, file_problems = read_file(path)
        entries += file_entries
        problems += file_problems
    if problems:
        raise SeedInvalid(problems)
    return entries
