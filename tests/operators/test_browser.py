"""An operator in a real browser: headless Debian Chromium driven by selenium against the live server.

Screenshots land in var/screenshots/ for a person to look at. Chromium comes from Debian (`make browser-deps`).
"""

import io
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from ledger.core import Entry, Reference
from ledger.models import AccountType
from tests.factories import CoinFactory, CurrencyFactory, MemberFactory, fund_member
from tests.operators.conftest import PASSWORD, create_operator
from withdraws import services as withdraw_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("chart_of_accounts"),
              pytest.mark.books_breached]  # its books are posted by hand, for the balance sheet

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


def log_in(browser, live_server, email: str) -> None:
    wait = WebDriverWait(browser, 15)
    browser.get(f"{live_server.url}/admin/")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "login-form")))
    assert browser.find_element(By.CSS_SELECTOR, "label[for=id_username]").text == "Email:"
    browser.find_element(By.ID, "id_username").send_keys(email)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#login-form input[type=submit]").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "dashboard")))


def test_operator_logs_in_with_email_and_reads_the_dashboard_and_balance_sheet(live_server, browser):
    member, usd, btc = MemberFactory(), CurrencyFactory(), CoinFactory()
    (Entry(Reference("deposit", 1)).platform(AccountType.ASSET, usd, "credit", Decimal("100"))
     .plus_funds(member, usd, Decimal("98.5")).platform(AccountType.REVENUE, usd, "credit", Decimal("1.5"), member).post())
    fund_member(member, btc, "0.75")
    create_operator("accountant", "Accountant@Example.com", PASSWORD)
    wait = WebDriverWait(browser, 15)

    log_in(browser, live_server, "accountant@example.com")
    assert "deposits by state" in browser.find_element(By.ID, "deposit-counts").text.lower()
    assert "never" in browser.find_element(By.ID, "ledger-last-check").text
    assert screenshot(browser, "dashboard.png").stat().st_size > 10_000

    browser.find_element(By.LINK_TEXT, "Balance sheet").click()
    wait.until(expected_conditions.presence_of_element_located((By.ID, "balance-sheet")))
    rows = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#balance-sheet tbody tr")]
    assert rows == ["btc 0.75 0.75 0.0 0.0 0.0", "usd 100.0 98.5 1.5 0.0 0.0"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#report-chart rect")) == 8
    assert screenshot(browser, "balance-sheet.png").stat().st_size > 10_000


def test_operator_approves_a_waiting_fiat_withdraw_through_the_confirmation_page(live_server, browser):
    member, usd = MemberFactory(), CurrencyFactory()
    fund_member(member, usd, "5000")
    # 2000 is beyond usd's 24 h limit (1000): accepted, not quick, so it waits for an operator.
    withdraw = withdraw_services.withdraw_create(uid=member.uid, currency=usd, amount=Decimal("2000"), rid="DE89-3704",
                                                 request_digest="d")
    withdraw_services.withdraw_accept(withdraw_id=withdraw.pk)
    call_command("createoperator", "Admin@Example.com", role="admin", password=PASSWORD, stdout=io.StringIO())
    wait = WebDriverWait(browser, 15)
    log_in(browser, live_server, "admin@example.com")
    assert browser.find_element(By.CSS_SELECTOR, "#withdraws-waiting .waiting").text == "1"

    browser.find_element(By.ID, "withdraws-waiting-link").click()  # the dashboard's count opens the waiting list
    wait.until(expected_conditions.presence_of_element_located((By.ID, "result_list")))
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 1 and withdraw.tid in rows[0].text
    rows[0].find_element(By.CSS_SELECTOR, "input.action-select").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("approve_selected")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()

    wait.until(expected_conditions.presence_of_element_located((By.ID, "confirmation")))
    row = browser.find_element(By.ID, f"row-{withdraw.pk}").text
    for text in (withdraw.tid, member.uid, "2000.0", "0.1", "1999.9", "accepted", "succeed", "3000.0"):
        assert text in row
    assert screenshot(browser, "withdraw-confirmation.png").stat().st_size > 10_000
    browser.find_element(By.ID, "confirm-action").click()

    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
    assert f"Withdraw {withdraw.tid}: accepted -> succeed" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    browser.get(f"{live_server.url}/admin/withdraws/withdraw/?q={withdraw.tid}")
    assert browser.find_element(By.CSS_SELECTOR, "#result_list tbody tr td.field-state").text == "Succeed"

    browser.get(f"{live_server.url}/admin/ledger/member/{member.pk}/change/")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "accounts-group")))
    account = browser.find_element(By.CSS_SELECTOR, "#accounts-group tbody tr").text
    assert "usd" in account and "3000" in account
    assert screenshot(browser, "member.png").stat().st_size > 10_000
