#!/usr/bin/env python3
"""Opens an emailed sign-in link in headless Chromium, presses "Sign in", and checks the landing page and the
header's name: the browser's own Origin header on that POST must pass the server's Origin check.

Usage: signin_link.py --link http://127.0.0.1:PORT/signin/link/TOKEN --expect-path /analyst --expect-name "Sam"
                      [--timeout 30]
Exit 0 on success ("OK: …" printed); 1 with a reason otherwise; 77 when Chromium or selenium is missing.
"""
import argparse
import sys
from urllib.parse import urlsplit

import chrome


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--link", required=True)
    parser.add_argument("--expect-path", required=True)
    parser.add_argument("--expect-name", required=True)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    parts = urlsplit(args.link)
    origin = f"{parts.scheme}://{parts.netloc}"
    started = chrome.start()
    if started is None:
        return 77
    driver, By, WebDriverWait = started
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
        return chrome.report_failure(driver, error)
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
