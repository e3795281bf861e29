"""Handlers of the `tools` scope."""

import time

from peatio_mgmt.management_api import entities
from peatio_mgmt.management_api.params import Params
from peatio_mgmt.management_api.routes import endpoint


@endpoint(params=Params(), response=entities.TIMESTAMP)
def timestamp(values: dict) -> dict:
    """The server's current time in whole seconds since the Unix epoch."""
    return {"timestamp": int(time.time())}
