"""A real headless browser for tests: Debian's chromium driven by Selenium, offline and with a throwaway profile.

    from tests.browser import browser  # noqa: F401  (the fixture)

    def test_page_renders(browser, tmp_path):
        browser.get(path.as_uri())

Needs `apt-get install chromium chromium-driver` and `pip install selenium`. When either is missing the tests that
use the fixture FAIL and say what to install; set GRADER_SKIP_BROWSER=1 to skip them instead. Selenium Manager
never runs (the driver's path is given), so nothing is downloaded.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SKIP_VARIABLE = "GRADER_SKIP_BROWSER"
INSTALL_HINT = "apt-get install chromium chromium-driver"
OPTIONS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1200,900", "--hide-scrollbars",
)


def _unavailable() -> str | None:
    """Why no browser can start, or None."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        return f"the browser tests need {' and '.join(missing)}: run `{INSTALL_HINT}`"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the browser tests need the selenium package: run `.venv/bin/pip install selenium`"
    return None


def start_browser(profile: Path):
    """A headless chromium WebDriver using `profile` as a fresh user-data-dir."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for option in OPTIONS:
        options.add_argument(option)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(20)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless chromium per test module (starting one takes about a second)."""
    if os.environ.get(SKIP_VARIABLE) == "1":
        pytest.skip(f"browser tests skipped: {SKIP_VARIABLE}=1 is set")
    reason = _unavailable()
    if reason:
        pytest.fail(f"{reason}, or set {SKIP_VARIABLE}=1 to skip the browser tests", pytrace=False)
    profile = Path(tempfile.mkdtemp(prefix="grader-chromium-"))
    try:
        driver = start_browser(profile)
    except Exception as exc:  # selenium's WebDriverException, a driver/browser version mismatch, ...
        shutil.rmtree(profile, ignore_errors=True)
        pytest.fail(f"headless chromium did not start ({type(exc).__name__}: {str(exc)[:500]}); "
                    f"reinstall it with `{INSTALL_HINT}`", pytrace=False)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# What a page loads, as the browser sees it: the URL of every element that loads something (links to other pages
# do not load), CSS background images, and every resource the browser fetched.
LOADED_URLS_JS = """
const elements = [];
for (const el of document.querySelectorAll('[src], link[href], [srcset], [poster], object[data], [background]')) {
  for (const name of ['src', 'href', 'srcset', 'poster', 'data', 'background']) {
    if (el.hasAttribute(name)) elements.push(el.getAttribute(name));
  }
}
for (const el of document.querySelectorAll('*')) {
  const bg = getComputedStyle(el).backgroundImage;
  if (bg && bg !== 'none') elements.push(bg);
}
const fetched = performance.getEntriesByType('resource').map(entry => entry.name);
return {elements: elements, fetched: fetched};
"""

IMAGES_JS = """
return Array.from(document.images).map(img => ({
  complete: img.complete, naturalWidth: img.naturalWidth, scheme: img.src.split(':')[0], alt: img.alt}));
"""


def loaded_urls(driver) -> dict[str, list[str]]:
    """{"elements": URLs elements load from, "fetched": URLs the browser fetched} for the page shown."""
    return driver.execute_script(LOADED_URLS_JS)


def images(driver) -> list[dict]:
    return driver.execute_script(IMAGES_JS)


def full_page_screenshot(driver, path: Path, width: int = 1200) -> Path:
    """A PNG of the whole page (the window is resized to the page's height, then restored)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    size = driver.get_window_size()
    driver.set_window_size(width, min(int(height) + 120, 12000))
    try:
        driver.save_screenshot(str(path))
    finally:
        driver.set_window_size(size["width"], size["height"])
    return path
