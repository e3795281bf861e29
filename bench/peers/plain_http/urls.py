"""POST /transfer: the body is a JWS signed by the two keys of MANAGEMENT_API_CONFIG, its `data` names two balance
rows and an amount; one transaction: select_for_update of both rows in pk order, funds check, two updates, two
journal inserts. What a team would write without a framework for the API — the peer of /transfers/new."""

import json
from decimal import Decimal

from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from bench.bare import verified_payload
from bench.peers.plain.wallet.models import Balance, Journal


def _answer(status: int, body: dict) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


@csrf_exempt
def transfer(request):
    claims = verified_payload(request.body)
    if claims is None:
        return _answer(401, {"error": "not verified"})
    data = claims["data"]
    source_id, destination_id, amount = int(data["from"]), int(data["to"]), Decimal(data["amount"])
    with transaction.atomic():
        rows = {b.pk: b for b in Balance.objects.select_for_update().filter(pk__in=(source_id, destination_id)).order_by("pk")}
        source, destination = rows[source_id], rows[destination_id]
        if source.amount < amount:
            return _answer(422, {"error": "insufficient funds"})
        source.amount -= amount
        destination.amount += amount
        source.save(update_fields=["amount"])
        destination.save(update_fields=["amount"])
        Journal.objects.create(balance=source, debit=amount)
        Journal.objects.create(balance=destination, credit=amount)
    return _answer(201, {"from": source_id, "to": destination_id, "amount": str(amount), "balance": str(source.amount)})


urlpatterns = [path("transfer", transfer)]
