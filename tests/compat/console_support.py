"""The web console's browser tests: Debian's chromium, headless, driven over WebDriver.

`console` (a fixture in conftest.py) opens console views, waits for what a user would see,
keeps a screenshot of every test under target/console-screenshots/, and fails the test if the
page logged an error to the browser console.
"""
import contextlib
import os
import shutil
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "target" / "console-screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# Chromium reaches for Google's services at start unless told not to; this machine has no
# network, so those attempts are switched off rather than left to fail.
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
]


def start_browser(user_data_dir):
    os.environ.setdefault("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


class Console:
    """One test's view of the console."""

    def __init__(self, driver, endpoint, name):
        self.driver = driver
        self.endpoint = endpoint
        self.name = name
        self.shots = 0

    def open(self, path="/", account=None, region=None):
        """Opens `path` (under /_watchtrail/console, or "/" for the root) in a fresh tab state.

        `account`/`region` are set in the scope bar's storage before the page loads."""
        url = self.endpoint + (path if path == "/" else "/_watchtrail/console" + path)
        self.driver.get(self.endpoint + "/_watchtrail/console/blank-for-storage")
        self.driver.execute_script("sessionStorage.clear();")
        if account:
            self.driver.execute_script("sessionStorage.setItem('watchtrail.account', arguments[0]);", account)
        if region:
            self.driver.execute_script("sessionStorage.setItem('watchtrail.region', arguments[0]);", region)
        self.driver.get(url)
        return self

    def find(self, css, timeout=10):
        return WebDriverWait(self.driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css, timeout=10):
        return WebDriverWait(self.driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def wait_text(self, text, css="body", timeout=10):
        """Waits until an element matching `css` shows `text`; returns that element."""
        def has(driver):
            try:
                for el in driver.find_elements(By.CSS_SELECTOR, css):
                    if text in el.text:
                        return el
            except StaleElementReferenceException:
                pass  # the view redrew that part meanwhile: look again
            return False
        try:
            return WebDriverWait(self.driver, timeout).until(has)
        except TimeoutException:
            self.screenshot("timeout")
            body = self.driver.find_element(By.TAG_NAME, "body").text[:2000]
            raise AssertionError(f"{text!r} not shown in {css!r} within {timeout}s; page says:\n{body}")

    def wait_content(self, css, text, timeout=10):
        """Waits until an element matching `css` holds `text` in its textContent, read inside the
        page (views redraw parts as data arrives, which leaves WebDriver's element handles
        stale); returns that textContent."""
        script = ("return [...document.querySelectorAll(arguments[0])].map(e => e.textContent)"
                  ".find(t => t.includes(arguments[1])) || null")
        try:
            return WebDriverWait(self.driver, timeout).until(lambda d: d.execute_script(script, css, text))
        except TimeoutException:
            self.screenshot("timeout")
            body = self.driver.find_element(By.TAG_NAME, "body").text[:2000]
            raise AssertionError(f"{text!r} not in {css!r} within {timeout}s; page says:\n{body}")

    def wait_shown(self, text, css, timeout=10):
        """wait_content with the arguments the other way round."""
        return self.wait_content(css, text, timeout)

    def expect_http_errors(self, status=400):
        """Chromium logs every non-2xx answer as a console error: after a test provoked such an
        answer on purpose, this drops those lines, failing if there are none or any other."""
        errors = self.browser_errors()
        assert errors and all(f"status of {status}" in e.get("message", "") for e in errors), errors

    def click_text(self, text, css="a, button, summary", timeout=10):
        """Clicks the first link or button whose text is `text` (stripped, exact)."""
        def clickable(driver):
            for el in driver.find_elements(By.CSS_SELECTOR, css):
                if el.is_displayed() and el.text.strip() == text:
                    return el
            return False
        el = WebDriverWait(self.driver, timeout).until(clickable)
        el.click()
        return el

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait_js(self, script, timeout=10):
        """Waits until `script` (an expression, returned) is truthy; returns its value."""
        return WebDriverWait(self.driver, timeout).until(lambda d: d.execute_script("return " + script))

    def screenshot(self, label=""):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        suffix = f"-{label}" if label else ""
        path = SCREENSHOTS / f"{self.name}-{self.shots}{suffix}.png"
        self.driver.save_screenshot(str(path))
        return path

    def browser_errors(self):
        """SEVERE entries of the browser console since the last call."""
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    @property
    def url(self):
        return self.driver.current_url


@contextlib.contextmanager
def console_view(browser, endpoint, request):
    """A Console for one pytest test on `endpoint`: a screenshot at its end, and it fails if the
    page logged an error to the browser console."""
    view = Console(browser, endpoint, request.node.name.replace("/", "_").replace("[", "-").replace("]", ""))
    view.browser_errors()  # drop what earlier tests left
    yield view
    view.screenshot("end")
    errors = view.browser_errors()
    assert not errors, f"the page logged errors: {errors}"


def wait_until(predicate, timeout=10, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
