#!/usr/bin/env python3
"""Drives /analyst in a real headless Chromium: signs in with an API token, waits until the stream is
live, signals readiness, then waits for a response submitted by another client to appear without a reload.

Usage: analyst_live.py --url http://127.0.0.1:PORT --token hd_… --ticket INC… --ready-file PATH [--timeout 30]
Exit 0 when the card appeared on the same page load; 1 with a reason otherwise; 77 when Chromium is missing.
"""
import argparse
import os
import shutil
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--ticket", required=True)
    parser.add_argument("--ready-file", required=True)
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

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        wait = WebDriverWait(driver, args.timeout)
        driver.get(args.url + "/analyst")
        # The API token form is folded away under the email and single sign-on options.
        driver.find_element(By.CSS_SELECTOR, "#token-signin summary").click()
        driver.find_element(By.ID, "token").send_keys(args.token)
        driver.find_element(By.ID, "signin").click()
        wait.until(lambda d: d.find_element(By.ID, "status").get_attribute("data-state") == "live")
        # A marker on this page load: a reload would lose it.
        driver.execute_script("window.__sameLoad = 'yes';")
        with open(args.ready_file, "w") as f:
            f.write("ready\n")

        def card_shown(d):
            for card in d.find_elements(By.CSS_SELECTOR, "#feed article"):
                if args.ticket in card.text:
                    return card
            return False

        card = wait.until(card_shown)
        text = card.text
        if driver.execute_script("return window.__sameLoad") != "yes":
            print("the page was reloaded", file=sys.stderr)
            return 1
        for expected in ("3", "Took too long <b>really</b>"):
            if expected not in text:
                print(f"card is missing {expected!r}: {text!r}", file=sys.stderr)
                return 1
        # The comment is shown as text, not markup.
        if card.find_elements(By.TAG_NAME, "b"):
            print("comment HTML was rendered", file=sys.stderr)
            return 1
        # Reply from the page: the frame goes over the stream and the message comes back into the thread.
        card.find_element(By.CSS_SELECTOR, "textarea.reply-text").send_keys("Sorry, on it now")
        card.find_element(By.CSS_SELECTOR, "button.reply").click()
        wait.until(lambda d: "Sorry, on it now" in card.find_element(By.CSS_SELECTOR, ".thread").text)
        print("OK: " + text.replace("\n", " | "))
        return 0
    except Exception as error:  # noqa: BLE001 — report anything to the test with the page state
        print(f"browser check failed: {error!r}", file=sys.stderr)
        try:
            print(driver.find_element(By.TAG_NAME, "body").text[:2000], file=sys.stderr)
            for entry in driver.get_log("browser"):
                print(entry, file=sys.stderr)
        except Exception:  # noqa: BLE001
            pass
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
