"""Migrates the plain HTTP peer's database and funds its balance rows (the plain peer's setup); prints their ids."""

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.peers.plain_http.settings"

from bench.peers.plain.run import setup  # noqa: E402  (django.setup() with the settings above)

print(json.dumps(setup()))
