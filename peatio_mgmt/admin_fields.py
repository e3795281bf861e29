"""Form fields of the console that read money as the API does.

Django's DecimalField reads whatever Python's Decimal reads, Arabic-Indic or full-width digits included: the
console took "١٠" for 10 where the API answers `amount is invalid`. One grammar for exact decimals (the API's,
management_api.fields.DECIMAL_TEXT) everywhere money is typed.
"""

from __future__ import annotations

from django import forms

from peatio_mgmt.management_api.fields import DECIMAL_TEXT


class AmountField(forms.DecimalField):
    def to_python(self, value):
        if isinstance(value, str) and value.strip() and not DECIMAL_TEXT.match(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)
