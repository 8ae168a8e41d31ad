#!/usr/bin/env python3
"""Scrapes a Prometheus text exposition and parses it with prometheus_client's own parser, an
implementation independent of happydesk's, for the metrics tests.

  scrape_metrics.py URL   prints one JSON object: {"status": 200, "content_type": "...", "raw": "...",
                          "samples": [{"name": ..., "labels": {...}, "value": ...}, ...],
                          "types": {family: type}}
A parse error exits non-zero with the parser's message.
"""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main():
    url = sys.argv[1]
    with urllib.request.urlopen(url, timeout=10) as response:
        raw = response.read().decode("utf-8")
        status = response.status
        content_type = response.headers.get("Content-Type", "")
    samples = []
    types = {}
    for family in text_string_to_metric_families(raw):
        types[family.name] = family.type
        for sample in family.samples:
            samples.append({"name": sample.name, "labels": dict(sample.labels), "value": sample.value})
    print(json.dumps({"status": status, "content_type": content_type, "raw": raw, "samples": samples, "types": types}))


if __name__ == "__main__":
    main()
