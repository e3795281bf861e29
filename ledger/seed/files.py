"""Reading seed files (seed-format.md §1, §3, §4): YAML → typed entries, or problems naming file, section,
index, natural key and field.

Nothing here touches the database: this stage checks what a file alone can say (field names, types, ranges).
References and rules over stored rows are checked by ledger.seed.services.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ledger.models import (
    MEMBER_GROUP_PATTERN,
    AccountScope,
    AccountType,
    AddressFormat,
    CurrencyType,
    MemberRole,
    WalletGateway,
)
from ledger.money import MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS, fits_numeric, fraction_digits
from trades.models import MarketState

SECTIONS = ("accounts", "currencies", "members", "markets", "trades")
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MARKET_FEE_MAX = Decimal("0.5")
MARKET_FEE_DECIMALS = 4


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


class FieldError(ValueError):
    pass


def shown(raw: Any) -> str:
    """The value as the file wrote it, for messages: strings quoted, YAML scalars in YAML words."""
    if isinstance(raw, str):
        return json.dumps(raw, ensure_ascii=False)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if raw is None:
        return "null"
    if isinstance(raw, (int, float)):
        return repr(raw)
    return f"a {type(raw).__name__}"


# --- value types (seed-format.md §3) -----------------------------------------------------------------------


def text(*, min_length: int = 0, max_length: int, choices: Any = None, pattern: str | None = None,
         nullable: bool = False, lower: bool = False) -> Callable[[Any], str | None]:
    allowed = [str(choice) for choice in choices] if choices is not None else None

    def parse(raw: Any) -> str | None:
        if raw is None and nullable:
            return None
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise FieldError(f"must be a string, got {shown(raw)}")
        # A number is read as its text (`uid: 123` is "123").
        value = raw if isinstance(raw, str) else repr(raw)
        if allowed is not None and value not in allowed:
            raise FieldError(f"must be one of {', '.join(allowed)}, got {shown(raw)}")
        if not min_length <= len(value) <= max_length:
            raise FieldError(f"must be {min_length}–{max_length} characters, got {shown(raw)}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise FieldError(f"must be letters and digits, got {shown(raw)}")
        return value.lower() if lower else value

    return parse


def integer(*, minimum: int | None = None, maximum: int = INT32_MAX) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        # bool is an int in Python; `true` is not a number in the file.
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise FieldError(f"must be an integer, got {shown(raw)}")
        if minimum is not None and raw < minimum:
            raise FieldError(f"must be an integer >= {minimum}, got {shown(raw)}")
        if raw > maximum:
            raise FieldError(f"must be an integer <= {maximum}, got {shown(raw)}")
        return raw

    return parse


DECIMAL_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def read_decimal(raw: Any) -> Decimal:
    """The exact value the file means; a YAML float through its shortest decimal text, so 0.1 is exactly 0.1."""
    if isinstance(raw, bool):
        raise FieldError(f"must be a decimal, got {shown(raw)}")
    try:
        if isinstance(raw, int):
            value = Decimal(raw)
        elif isinstance(raw, float):
            value = Decimal(repr(raw))
        elif isinstance(raw, str) and DECIMAL_TEXT.fullmatch(raw):
            value = Decimal(raw)
        else:
            raise FieldError(f"must be a decimal, got {shown(raw)}")
    except InvalidOperation:
        raise FieldError(f"must be a decimal, got {shown(raw)}") from None
    if not value.is_finite():
        raise FieldError(f"must be a decimal, got {shown(raw)}")
    return value


def decimal(*, positive: bool = False) -> Callable[[Any], Decimal]:
    bound = "> 0" if positive else ">= 0"

    def parse(raw: Any) -> Decimal:
        value = read_decimal(raw)
        if value < 0 or (positive and value == 0):
            raise FieldError(f"must be a decimal {bound}, got {shown(raw)}")
        if not fits_numeric(value):
            raise FieldError(
                f"must have at most {MAX_INTEGER_DIGITS} integer and {MAX_FRACTION_DIGITS} fractional digits,"
                f" got {shown(raw)}"
            )
        return value

    return parse


def market_fee(raw: Any) -> Decimal:
    value = read_decimal(raw)
    if not (0 <= value <= MARKET_FEE_MAX) or decimal_places(value) > MARKET_FEE_DECIMALS:
        raise FieldError(f"must be a decimal from 0 to {MARKET_FEE_MAX} with at most {MARKET_FEE_DECIMALS} decimals, got {shown(raw)}")
    return value


def decimal_places(value: Decimal) -> int:
    return fraction_digits(value)


def boolean(raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise FieldError(f"must be true or false, got {shown(raw)}")
    return raw


def mapping(raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise FieldError(f"must be a mapping, got {shown(raw)}")
    try:
        # Stored as JSON: what JSON cannot hold (dates, non-string keys) is refused here, not by the database.
        return json.loads(json.dumps(raw, allow_nan=False))
    except (TypeError, ValueError):
        raise FieldError("must be a mapping of JSON values (strings, numbers, booleans, lists, mappings)") from None


def moment(raw: Any) -> datetime:
    """ISO 8601 text or a YAML timestamp; without a zone it is UTC."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise FieldError(f"must be an ISO 8601 date and time, got {shown(raw)}") from None
    else:
        raise FieldError(f"must be an ISO 8601 date and time, got {shown(raw)}")
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def email(raw: Any) -> str:
    value = text(max_length=255)(raw)
    assert value is not None  # not nullable
    try:
        validate_email(value)
    except ValidationError:
        raise FieldError(f"must be a valid email address, got {shown(raw)}") from None
    return value.lower()


def member_group(raw: Any) -> str:
    """Trimmed and lowercased, then 1–32 characters of a-z 0-9 _ - (management-api-extensions.md §8.1)."""
    value = str(text(max_length=10_000)(raw)).strip().lower()  # str: not nullable
    if not re.fullmatch(MEMBER_GROUP_PATTERN, value):
        raise FieldError(f"must be 1–32 characters of a-z, 0-9, _ and - (after trimming and lowercasing), got {shown(raw)}")
    return value


def ignored(raw: Any) -> None:
    return None


# --- sections (seed-format.md §4) --------------------------------------------------------------------------

CURRENCY_ID = text(min_length=1, max_length=10, pattern=r"[A-Za-z0-9]+", lower=True)

FIELDS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "accounts": {
        "code": integer(minimum=1),
        "type": text(max_length=10, choices=AccountType.values),
        "kind": text(min_length=1, max_length=30),
        "currency_type": text(max_length=4, choices=CurrencyType.values),
        "description": text(max_length=100, nullable=True),
        "scope": text(max_length=10, choices=AccountScope.values),
    },
    "currencies": {
        "id": CURRENCY_ID,
        "name": text(max_length=255, nullable=True),
        "type": text(max_length=4, choices=CurrencyType.values),
        "symbol": text(min_length=1, max_length=8),
        "precision": integer(minimum=0, maximum=16),
        "base_factor": integer(minimum=1, maximum=INT64_MAX),
        "enabled": boolean,
        "position": integer(minimum=-INT32_MAX),
        "deposit_fee": decimal(),
        "min_deposit_amount": decimal(),
        "min_collection_amount": decimal(),
        "withdraw_fee": decimal(),
        "min_withdraw_amount": decimal(),
        "withdraw_limit_24h": decimal(),
        "withdraw_limit_72h": decimal(),
        "options": mapping,
        "icon_url": text(max_length=255, nullable=True),
        "wallet_gateway": text(max_length=20, choices=WalletGateway.values),
        "wallet_settings": mapping,
        "min_confirmations": integer(minimum=1),
        "address_format": text(max_length=20, choices=AddressFormat.values, nullable=True),
        "blockchain_key": ignored,
    },
    "members": {
        "uid": text(min_length=1, max_length=32),
        "email": email,
        "level": integer(minimum=0),
        "role": text(max_length=16, choices=MemberRole.values),
        "state": text(min_length=1, max_length=16),
        "group": member_group,
    },
    "markets": {
        "id": text(min_length=1, max_length=20),
        "base_unit": CURRENCY_ID,
        "quote_unit": CURRENCY_ID,
        "amount_precision": integer(minimum=0, maximum=12),
        "price_precision": integer(minimum=0, maximum=12),
        "ask_fee": market_fee,
        "bid_fee": market_fee,
        "min_price": decimal(),
        "max_price": decimal(),
        "min_amount": decimal(),
        "position": integer(minimum=-INT32_MAX),
        "state": text(max_length=32, choices=MarketState.values),
        "enabled": boolean,
    },
    "trades": {
        "id": integer(minimum=1, maximum=INT64_MAX),
        "market": text(min_length=1, max_length=20),
        "price": decimal(positive=True),
        "volume": decimal(positive=True),
        "funds": decimal(positive=True),
        "ask_member_uid": text(min_length=1, max_length=32),
        "bid_member_uid": text(min_length=1, max_length=32),
        "taker_type": text(max_length=4, choices=["buy", "sell"]),
        "created_at": moment,
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
        parse = fields.get(name)
        if parse is None:
            problems.append(entry.problem(str(name), "unknown field"))
            continue
        try:
            entry.values[name] = parse(value)
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
