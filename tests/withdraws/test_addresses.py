"""Address checks of the audit (domain.md §7.1) and the Keccak-256 they rest on."""

import pytest

from withdraws.addresses import eip55_checksum, is_bitcoin_address, is_ethereum_address, is_valid_address, keccak256

VALID_BITCOIN = [
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # mainnet P2PKH
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # mainnet P2SH
    "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",  # testnet P2PKH
    "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc",  # testnet P2SH
    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # v0 P2WPKH
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",  # BIP-173, uppercase
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",  # BIP-173 testnet P2WSH
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # BIP-350 taproot (bech32m)
    "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",  # BIP-350 testnet v1
]

INVALID_BITCOIN = [
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb",  # base58 checksum broken
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a",  # 0 is not base58
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # BIP-350: v0 with a bech32m checksum
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",  # BIP-350: v0 with a bech32m checksum
    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr",  # one character changed
    "bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # mixed case
    "ltc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # another network's prefix
    "DE89370400440532013000",
    "",
]

EIP55 = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


def test_keccak256_known_digests():
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert keccak256(b"abc").hex() == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    assert len({keccak256(b"a" * n) for n in (134, 135, 136, 137, 272)}) == 5  # padding edge cases differ


@pytest.mark.parametrize("address", VALID_BITCOIN)
def test_valid_bitcoin_addresses(address):
    assert is_bitcoin_address(address) and is_valid_address("bitcoin", address)


@pytest.mark.parametrize("address", INVALID_BITCOIN)
def test_invalid_bitcoin_addresses(address):
    assert not is_bitcoin_address(address)


@pytest.mark.parametrize("address", EIP55)
def test_eip55_vectors(address):
    assert eip55_checksum(address.lower()) == address
    assert is_ethereum_address(address) and is_ethereum_address(address.lower())
    assert is_ethereum_address("0x" + address[2:].upper())
    letter = next(i for i in range(2, len(address)) if address[i].isalpha())
    broken = address[:letter] + address[letter].swapcase() + address[letter + 1:]  # still mixed case, checksum off
    assert not is_ethereum_address(broken)


@pytest.mark.parametrize("address", ["5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
                                     "0xZaAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0"])
def test_malformed_ethereum_addresses(address):
    assert not is_ethereum_address(address)


def test_no_format_means_no_check():
    assert is_valid_address(None, "anything")
