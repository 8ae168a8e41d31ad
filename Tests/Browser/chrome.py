"""Headless Chromium for the sign-in scripts: `start(window)` returns (driver, By, WebDriverWait), or None after
printing why when selenium, Chromium or chromedriver is missing (the callers then exit 77)."""
import shutil
import sys


def start(window: str = "900,760"):
    try:
        from selenium import webdriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        print("selenium is not installed", file=sys.stderr)
        return None
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        print("chromium or chromedriver is missing", file=sys.stderr)
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={window}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    return driver, By, WebDriverWait


def report_failure(driver, error) -> int:
    """Prints the error, the page's URL and the start of its text to the test's transcript; returns 1."""
    print(f"failed: {error!r}", file=sys.stderr)
    try:
        print(driver.current_url, driver.find_element("tag name", "body").text[:2000], file=sys.stderr)
    except Exception:  # noqa: BLE001
        pass
    return 1
