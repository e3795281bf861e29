"""Address checks of the audit (domain.md §7.1): is `rid` a valid address of the currency's address_format?

- bitcoin: base58check P2PKH / P2SH (mainnet, testnet and regtest version bytes), or a segwit address in
  bech32 (witness v0, BIP-173) or bech32m (v1..16, BIP-350) with the bc / tb / bcrt prefixes.
- ethereum: 0x + 40 hex digits; a mixed-case address must carry its EIP-55 checksum (Keccak-256, which is not
  hashlib's sha3_256: the padding differs, so Keccak-f[1600] is implemented here).
"""

from __future__ import annotations

import hashlib
import re

# --- base58check ---------------------------------------------------------------------------------------------

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BASE58_VERSIONS = {0x00, 0x05, 0x6F, 0xC4}  # P2PKH / P2SH of mainnet; P2PKH / P2SH of testnet and regtest


def base58check_decode(text: str) -> bytes | None:
    """The payload (version byte + data) of a base58check string, or None when it is not one."""
    if not text or any(c not in BASE58_ALPHABET for c in text):
        return None
    number = 0
    for char in text:
        number = number * 58 + BASE58_ALPHABET.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * (len(text) - len(text.lstrip("1"))) + body
    if len(raw) < 5:
        return None
    payload, checksum = raw[:-4], raw[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def is_base58_address(text: str) -> bool:
    payload = base58check_decode(text)
    return payload is not None and len(payload) == 21 and payload[0] in BASE58_VERSIONS


# --- bech32 / bech32m segwit -------------------------------------------------------------------------------

BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_CONST, BECH32M_CONST = 1, 0x2BC830A3
SEGWIT_HRPS = {"bc", "tb", "bcrt"}


def _polymod(values: list[int]) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            check ^= generator[i] if (top >> i) & 1 else 0
    return check


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_decode(text: str) -> tuple[str, list[int], int] | None:
    """(hrp, data without checksum, checksum constant) of a valid bech32/bech32m string, or None."""
    if any(ord(c) < 33 or ord(c) > 126 for c in text) or (text.lower() != text and text.upper() != text):
        return None
    text = text.lower()
    position = text.rfind("1")
    if position < 1 or position + 7 > len(text) or len(text) > 90:
        return None
    hrp, rest = text[:position], text[position + 1:]
    if any(c not in BECH32_CHARSET for c in rest):
        return None
    data = [BECH32_CHARSET.index(c) for c in rest]
    constant = _polymod(_hrp_expand(hrp) + data)
    if constant not in (BECH32_CONST, BECH32M_CONST):
        return None
    return hrp, data[:-6], constant


def _convert_bits(data: list[int], from_bits: int, to_bits: int) -> list[int] | None:
    """Regroup 5-bit words into bytes; None when the padding is not zero bits of less than one group."""
    accumulator, bits, result, maxv = 0, 0, [], (1 << to_bits) - 1
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & maxv)
    if bits >= from_bits or ((accumulator << (to_bits - bits)) & maxv):
        return None
    return result


def is_segwit_address(text: str) -> bool:
    decoded = bech32_decode(text)
    if decoded is None:
        return False
    hrp, data, constant = decoded
    if hrp not in SEGWIT_HRPS or not data or data[0] > 16:
        return False
    version = data[0]
    program = _convert_bits(data[1:], 5, 8)
    if program is None or not 2 <= len(program) <= 40:
        return False
    if version == 0:
        return constant == BECH32_CONST and len(program) in (20, 32)
    return constant == BECH32M_CONST


def is_bitcoin_address(text: str) -> bool:
    return is_base58_address(text) or is_segwit_address(text)


# --- Ethereum / EIP-55 -------------------------------------------------------------------------------------

_ROUND_CONSTANTS = [
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000, 0x000000000000808B,
    0x0000000080000001, 0x8000000080008081, 0x8000000000008009, 0x000000000000008A, 0x0000000000000088,
    0x0000000080008009, 0x000000008000000A, 0x000000008000808B, 0x800000000000008B, 0x8000000000008089,
    0x8000000000008003, 0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
]
_ROTATIONS = [
    [0, 36, 3, 41, 18], [1, 44, 10, 45, 2], [62, 6, 43, 15, 61], [28, 55, 25, 21, 56], [27, 20, 39, 8, 14],
]
_MASK = (1 << 64) - 1


def _rotl(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (64 - shift))) & _MASK if shift else value


def _keccak_f(state: list[list[int]]) -> None:
    """Keccak-f[1600] on a 5x5 matrix of 64-bit lanes, state[x][y]."""
    for constant in _ROUND_CONSTANTS:
        c = [state[x][0] ^ state[x][1] ^ state[x][2] ^ state[x][3] ^ state[x][4] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rotl(c[(x + 1) % 5], 1) for x in range(5)]
        for x in range(5):
            for y in range(5):
                state[x][y] ^= d[x]
        b = [[0] * 5 for _ in range(5)]
        for x in range(5):
            for y in range(5):
                b[y][(2 * x + 3 * y) % 5] = _rotl(state[x][y], _ROTATIONS[x][y])
        for x in range(5):
            for y in range(5):
                state[x][y] = b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y])
        state[0][0] ^= constant


def keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum uses it (original Keccak padding 0x01, not SHA-3's 0x06)."""
    rate = 136
    room = rate - len(data) % rate
    # pad10*1: one byte 0x81 when a single byte is left in the block, else 0x01, zeros, 0x80
    padded = bytes(data) + (b"\x81" if room == 1 else b"\x01" + b"\x00" * (room - 2) + b"\x80")
    state = [[0] * 5 for _ in range(5)]
    for offset in range(0, len(padded), rate):
        block = padded[offset:offset + rate]
        for i in range(rate // 8):
            state[i % 5][i // 5] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        _keccak_f(state)
    return b"".join(state[i % 5][i // 5].to_bytes(8, "little") for i in range(4))


ETHEREUM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")


def eip55_checksum(address: str) -> str:
    """The EIP-55 mixed-case form of a 0x address."""
    hex_digits = address[2:].lower()
    digest = keccak256(hex_digits.encode()).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_digits))


def is_ethereum_address(text: str) -> bool:
    if not ETHEREUM_ADDRESS.match(text):
        return False
    digits = text[2:]
    if digits == digits.lower() or digits == digits.upper():
        return True
    return eip55_checksum(text) == text


CHECKS = {"bitcoin": is_bitcoin_address, "ethereum": is_ethereum_address}


def is_valid_address(address_format: str | None, address: str) -> bool:
    """True when the currency configures no format, or `address` is valid in it."""
    if not address_format:
        return True
    return CHECKS[address_format](address)
