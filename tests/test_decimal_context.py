"""The decimal context of threads: a thread started at any time computes with at least 34 digits."""

from __future__ import annotations

import decimal
import threading
from decimal import Decimal


def test_a_new_thread_computes_32_digit_amounts_without_rounding():
    seen = {}

    def work():
        seen["prec"] = decimal.getcontext().prec
        seen["negated"] = -Decimal("1234567890123456.1234567890123456")
        seen["sum"] = sum([Decimal("1234567890123456.1234567890123456"), Decimal("0.0000000000000001")], Decimal(0))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen["prec"] >= 34
    assert seen["negated"] == Decimal("-1234567890123456.1234567890123456")
    assert seen["sum"] == Decimal("1234567890123456.1234567890123457")
