#!/usr/bin/env python3
"""Opens an emailed sign-in link in headless Chromium, presses "Sign in", and checks the landing page and the
header's name: the browser's own Origin header on that POST must pass the server's Origin check.

Usage: signin_link.py --link http://127.0.0.1:PORT/signin/link/TOKEN --expect-path /analyst --expect-name "Sam"
                      [--timeout 30]
Exit 0 on success ("OK: …" printed); 1 with a reason otherwise; 77 when Chromium or selenium is missing.
"""
import argparse
import shutil
import sys
from urllib.parse import urlsplit


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--link", required=True)
    parser.add_argument("--expect-path", required=True)
    parser.add_argument("--expect-name", required=True)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    try:
        from selenium import webdriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        print("selenium is not installed", file=sys.stderr)
        return 77
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        print("chromium or chromedriver is missing", file=sys.stderr)
        return 77
    parts = urlsplit(args.link)
    origin = f"{parts.scheme}://{parts.netloc}"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=900,760"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        wait = WebDriverWait(driver, args.timeout)
        driver.get(args.link)
        button = driver.find_element(By.ID, "signin-link")
        button.click()
        print("pressed Sign in", file=sys.stderr)
        wait.until(lambda d: d.current_url.startswith(origin + args.expect_path) or d.find_elements(By.ID, "signin-error"))
        errors = driver.find_elements(By.ID, "signin-error")
        if errors:
            print(f"refused: {errors[0].text!r}", file=sys.stderr)
            return 1
        name = wait.until(lambda d: d.find_element(By.ID, "hd-name"))
        if name.text.strip() != args.expect_name:
            print(f"header shows {name.text!r}, expected {args.expect_name!r}", file=sys.stderr)
            return 1
        print(f"OK: landed on {driver.current_url} as {args.expect_name}")
        return 0
    except Exception as error:  # noqa: BLE001 - the reason goes to the test's transcript
        print(f"failed: {error!r}", file=sys.stderr)
        try:
            print(driver.current_url, driver.find_element(By.TAG_NAME, "body").text[:2000], file=sys.stderr)
        except Exception:  # noqa: BLE001
            pass
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
