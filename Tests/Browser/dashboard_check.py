#!/usr/bin/env python3
"""Open a generated dashboard file in real headless Chromium (through chromedriver) and report what a user's
browser would see: console errors, every network request the page made, the SVG charts drawn.
Saves a screenshot. Prints one JSON object; exits 1 if there was a console error or any network request.

usage: dashboard_check.py DASHBOARD.html SCREENSHOT.png [WIDTH] [MAX_HEIGHT]
"""
import json
import shutil
import sys

from selenium import webdriver


def main() -> int:
    page, screenshot = sys.argv[1], sys.argv[2]
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 1280
    max_height = int(sys.argv[4]) if len(sys.argv) > 4 else 20000
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                f"--window-size={width},1000", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        url = "file://" + page
        driver.get(url)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(height, max_height))
        driver.save_screenshot(screenshot)
        console = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        requests = []
        for entry in driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                requested = message["params"]["request"]["url"]
                if requested != url:
                    requests.append(requested)
        result = {
            "title": driver.title,
            "svg_charts": driver.execute_script("return document.querySelectorAll('svg.chart').length"),
            "tables": driver.execute_script("return document.querySelectorAll('table').length"),
            "height": height,
            "console_errors": [e.get("message") for e in console],
            "network_requests": requests,
        }
    finally:
        driver.quit()
    print(json.dumps(result))
    return 1 if result["console_errors"] or result["network_requests"] else 0


if __name__ == "__main__":
    sys.exit(main())
