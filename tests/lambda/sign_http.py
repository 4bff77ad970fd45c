#!/usr/bin/env python3
"""Prints an HTTP sample event with BODY_FILE as its body, signed now with SECRET
(X-Warden-Timestamp, X-Warden-Signature), as a webhook sender would.

    sign_http.py EVENT_FILE SECRET BODY_FILE"""
import hashlib, hmac, json, sys, time

event_file, secret, body_file = sys.argv[1:4]
event = json.load(open(event_file))
body = open(body_file).read().strip()
ts = str(int(time.time()))
sig = hmac.new(secret.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
headers = {k: v for k, v in event.get("headers", {}).items()
           if k.lower() not in ("x-warden-timestamp", "x-warden-signature")}
headers["x-warden-timestamp"] = ts
headers["x-warden-signature"] = f"sha256={sig}"
event["headers"] = headers
event["body"] = body
event["isBase64Encoded"] = False
print(json.dumps(event))
