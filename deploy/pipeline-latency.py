#!/usr/bin/env python3
"""Pipeline latency against a running stack (make bench, step 4).

A party submits candidacies whose questionnaires are filled (`conoceles-capture seed-demo
--grow=PVEM:N --without-submitting`) at a steady pace through capture's API; an automated
reviewer approves each through the capture front's review page as soon as its review is in the
queue; the figure is the time from the party's acknowledged submission (201) to the profile
answering 200 on the public site's API. Prints one line `pipeline: {json}` with p50/p95/p99/max.

Standard library only. Usage:
  pipeline-latency.py --capture URL --site URL --party EMAIL:PASSWORD --reviewer EMAIL:PASSWORD
                      --ids FILE [--rate 5]
"""

import argparse
import json
import math
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # importing the helpers next to it leaves no __pycache__ in deploy/
from front_session import (SESSION_COOKIE, api_token, front_login, hidden_csrf, request,
                           session_headers)

GIVE_UP_S = 60


def reviewer_session(capture, email, password):
    """Signs in to the capture front as a person would; changes the password if asked to.
    Returns (session cookie, the session's csrf token)."""
    session = front_login(capture, email, password, password + "-pipeline")
    status, _, page = request(capture, "GET", "/revision", headers=session_headers(session))
    if status != 200:
        sys.exit(f"the review queue: {status} {page[:200]}")
    return session, hidden_csrf(page)


def follow(args, reviewer, candidacy, submission, acknowledged, results, index):
    """Approves as soon as the review exists, then waits for the public profile."""
    session, csrf = reviewer
    # The reviewer answers the confirmation step too («Sí, aprobar» posts `confirmado=si`).
    approve = urllib.parse.urlencode({"csrf": csrf, "ronda": "1", "confirmado": "si"})
    while True:
        status, _, body = request(
            args.capture, "POST", f"/revision/{submission}/aprobar", approve,
            {"content-type": "application/x-www-form-urlencoded",
             "cookie": f"{SESSION_COOKIE}={session}"})
        if status == 303:
            break
        # Not found (the review event not consumed yet) or not yet decidable: try again.
        if status not in (404, 409) or time.monotonic() - acknowledged > GIVE_UP_S:
            results[index] = f"approval of {submission}: {status} {body[:200]}"
            return
        time.sleep(0.01)
    while True:
        status, _, _ = request(args.site, "GET", f"/api/v1/candidacies/{candidacy}")
        if status == 200:
            results[index] = time.monotonic() - acknowledged
            return
        if time.monotonic() - acknowledged > GIVE_UP_S:
            results[index] = f"{candidacy} never became public"
            return
        time.sleep(0.01)


def percentile(sorted_values, q):
    """Nearest rank."""
    return sorted_values[max(1, math.ceil(q * len(sorted_values))) - 1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--capture", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--party", required=True, help="EMAIL:PASSWORD of the party's account")
    parser.add_argument("--reviewer", required=True, help="EMAIL:PASSWORD of a reviewer")
    parser.add_argument("--ids", required=True, help="file with one candidacy id per line")
    parser.add_argument("--rate", type=float, default=5.0, help="submissions per second")
    args = parser.parse_args()

    ids = [line.strip() for line in open(args.ids) if line.strip()]
    if not ids:
        sys.exit("no candidacies to submit")
    party_email, party_password = args.party.split(":", 1)
    token = api_token(args.capture, party_email, party_password, party_password + "-pipeline")
    reviewer = reviewer_session(args.capture, *args.reviewer.split(":", 1))

    results = [None] * len(ids)
    followers = []
    started = time.monotonic()
    for n, candidacy in enumerate(ids):
        time.sleep(max(0.0, started + n / args.rate - time.monotonic()))
        status, _, body = request(args.capture, "POST", f"/api/v1/candidacies/{candidacy}/submissions",
                                  "", {"authorization": f"Bearer {token}"})
        acknowledged = time.monotonic()
        if status != 201:
            results[n] = f"submission of {candidacy}: {status} {body[:200]}"
            continue
        submission = json.loads(body)["submission_id"]
        thread = threading.Thread(target=follow, args=(args, reviewer, candidacy, submission,
                                                       acknowledged, results, n))
        thread.start()
        followers.append(thread)
    for thread in followers:
        thread.join()

    failures = [r for r in results if not isinstance(r, float)]
    for failure in failures[:5]:
        print(f"  failed: {failure}", file=sys.stderr)
    ms = sorted(r * 1000 for r in results if isinstance(r, float))
    figures = {"candidacies": len(ids), "rate_per_s": args.rate, "public": len(ms),
               "failed": len(failures)}
    if ms:
        figures.update({"p50_ms": round(percentile(ms, 0.50), 1),
                        "p95_ms": round(percentile(ms, 0.95), 1),
                        "p99_ms": round(percentile(ms, 0.99), 1), "max_ms": round(ms[-1], 1)})
    print("pipeline: " + json.dumps(figures))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
