"""An operator in a real browser: headless Debian Chromium driven by selenium against the live server.

Screenshots land in var/screenshots/ for a person to look at. Chromium comes from Debian (`make browser-deps`).
"""

import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from ledger.models import AccountType
from ledger.services import Entry, Reference
from tests.factories import CoinFactory, CurrencyFactory, MemberFactory, fund_member
from tests.operators.conftest import PASSWORD, create_operator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("chart_of_accounts", "ledger_invariant")]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
]


@pytest.fixture
def browser():
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
        driver.set_page_load_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()


def screenshot(driver, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    driver.save_screenshot(str(path))
    return path


def test_operator_logs_in_with_email_and_reads_the_dashboard_and_balance_sheet(live_server, browser):
    member, usd, btc = MemberFactory(), CurrencyFactory(), CoinFactory()
    (Entry(Reference("deposit", 1)).platform(AccountType.ASSET, usd, "credit", Decimal("100"))
     .plus_funds(member, usd, Decimal("98.5")).platform(AccountType.REVENUE, usd, "credit", Decimal("1.5"), member).post())
    fund_member(member, btc, "0.75")
    create_operator("accountant", "Accountant@Example.com", PASSWORD)
    wait = WebDriverWait(browser, 15)

    browser.get(f"{live_server.url}/admin/")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "login-form")))
    assert browser.find_element(By.CSS_SELECTOR, "label[for=id_username]").text == "Email:"
    browser.find_element(By.ID, "id_username").send_keys("accountant@example.com")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()

    wait.until(expected_conditions.presence_of_element_located((By.ID, "dashboard")))
    assert "deposits by state" in browser.find_element(By.ID, "deposit-counts").text.lower()
    assert "never" in browser.find_element(By.ID, "ledger-last-check").text
    assert screenshot(browser, "dashboard.png").stat().st_size > 10_000

    browser.find_element(By.LINK_TEXT, "Balance sheet").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "balance-sheet")))
    rows = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#balance-sheet tbody tr")]
    assert rows == ["btc 0.75 0.75 0.0 0.0 0.0", "usd 100.0 98.5 1.5 0.0 0.0"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#report-chart rect")) == 8
    assert screenshot(browser, "balance-sheet.png").stat().st_size > 10_000
