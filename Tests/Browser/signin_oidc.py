#!/usr/bin/env python3
"""Signs in through a real OpenID provider in headless Chromium: opens /signin, clicks "Sign in with …",
lets the provider (Tests/Support/oidc_provider.py) send the browser back, checks the landing page and the
header's name, then signs out.

Usage: signin_oidc.py --url http://127.0.0.1:PORT --expect-path /analyst --expect-name "Sam Analyst"
                      [--screenshot docs/screenshots/signin.png] [--timeout 30]
Exit 0 on success ("OK: …" printed); 1 with a reason otherwise; 77 when Chromium or selenium is missing.
"""
import argparse
import sys

import chrome


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--expect-path", required=True)
    parser.add_argument("--expect-name", required=True)
    parser.add_argument("--screenshot", default=None)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args()
    started = chrome.start()
    if started is None:
        return 77
    driver, By, WebDriverWait = started
    try:
        wait = WebDriverWait(driver, args.timeout)
        driver.get(args.url + "/signin")
        button = driver.find_element(By.ID, "signin-oidc")
        if "Sign in with" not in button.text:
            print(f"the provider button reads {button.text!r}", file=sys.stderr)
            return 1
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
        button.click()
        print("clicked the provider button", file=sys.stderr)
        wait.until(lambda d: d.current_url.startswith(args.url + args.expect_path))
        name = wait.until(lambda d: d.find_element(By.ID, "hd-name"))
        if name.text.strip() != args.expect_name:
            print(f"header shows {name.text!r}, expected {args.expect_name!r}", file=sys.stderr)
            return 1
        landed = driver.current_url
        print(f"landed on {landed}", file=sys.stderr)
        driver.find_element(By.ID, "signout").click()
        print("clicked sign out", file=sys.stderr)
        wait.until(lambda d: "/signin" in d.current_url and d.find_elements(By.ID, "signin-oidc"))
        driver.get(args.url + args.expect_path)
        if not driver.find_elements(By.ID, "signin-oidc"):
            print("still signed in after signing out", file=sys.stderr)
            return 1
        print(f"OK: landed on {landed} as {args.expect_name}, signed out")
        return 0
    except Exception as error:  # noqa: BLE001 - the reason goes to the test's transcript
        return chrome.report_failure(driver, error)
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
