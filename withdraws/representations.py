"""The Beneficiary entity (management-api-extensions.md §6.5) as the contract writes it."""

from peatio_mgmt.management_api.fields import iso_time, json_numbers
from withdraws.models import Beneficiary


def render_beneficiary(beneficiary: Beneficiary) -> dict:
    """Needs the member (its uid as stored): select_related("member") in lists."""
    return {
        "id": beneficiary.pk,
        "uid": beneficiary.member.uid,
        "currency": beneficiary.currency_id,
        "name": beneficiary.name,
        "description": beneficiary.description,
        "rid": beneficiary.rid,
        "data": json_numbers(beneficiary.data),
        "state": beneficiary.state,
        "created_at": iso_time(beneficiary.created_at),
        "updated_at": iso_time(beneficiary.updated_at),
    }
