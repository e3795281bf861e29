from django.core.management import call_command

from peatio_mgmt.management_api import config
from peatio_mgmt.management_api.views import served_routes


def test_devconfig_writes_a_configuration_that_serves_every_route_and_keeps_it(tmp_path):
    call_command("management_api_devconfig", dir=str(tmp_path))
    loaded = config.load(tmp_path / "config.yml")
    assert {scope for _, _, scope in served_routes()} <= set(loaded.scopes)
    assert oct((tmp_path / "backend-1.dev.pem").stat().st_mode & 0o777) == "0o600"

    first = (tmp_path / "config.yml").read_text()
    call_command("management_api_devconfig", dir=str(tmp_path))
    assert (tmp_path / "config.yml").read_text() == first
