"""A party's capture through the capture image's published API, as a party's staff would do it
with a spreadsheet: log in with the account the unit gave it (changing the password first), take
the bulk-capture template, fill one candidacy not started yet (with the answers of one it already
sent: any valid answers do), upload it, upload the photo, submit. Prints the candidacy's id.

    python3 party-journey.py http://127.0.0.1:8081 partido-morena@cuentas.conoceles.local PASSWORD
"""
import csv
import datetime
import io
import json
import struct
import sys
import urllib.error
import urllib.request
import zlib

base, email, password = sys.argv[1:4]


def call(method, path, body=None, token=None, content_type="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", content_type)
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def must(expected, answer, what):
    status, body = answer
    if status not in expected:
        sys.exit(f"{what}: {status} {body[:500]!r}")
    return body


def png(width, height):
    """A plain PNG (what a phone's camera would send, without needing an imaging library)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes([120, 90, 140]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


session = json.loads(must({200, 201}, call("POST", "/api/v1/sessions", {"email": email, "password": password}), "login"))
token = session["token"]
if session.get("must_change_password"):
    changed = must({200, 201}, call("POST", "/api/v1/account/password", {
        "current_password": password, "new_password": password + " cambiada en contenedores"}, token), "password change")
    token = json.loads(changed)["token"]

template = must({200}, call("GET", "/api/v1/bulk/template.csv", token=token), "template").decode()
reader = csv.reader(io.StringIO(template))
header = next(reader)
rows = list(reader)
fixed = 5  # candidatura, persona, cargo, circunscripcion, nombre
filled = [r for r in rows if any(cell.strip() for cell in r[fixed:])]
empty = [r for r in rows if not any(cell.strip() for cell in r[fixed:])]
if not filled or not empty:
    sys.exit(f"the template has {len(filled)} filled and {len(empty)} empty rows: nothing to capture")
target = empty[0][0]
out = io.StringIO()
writer = csv.writer(out, lineterminator="\r\n")
writer.writerow(header)
donors = {r[1]: r for r in filled}
for row in (r for r in empty if r[0] == target):
    donor = donors.get(row[1], filled[0])
    writer.writerow(row[:fixed] + donor[fixed:])
must({200}, call("POST", "/api/v1/bulk", out.getvalue().encode(), token, "text/csv"), "bulk upload")

today = datetime.date.today().isoformat()
for row in (r for r in empty if r[0] == target):
    role = "holder" if row[1] in ("titular", "propietario", "propietaria", "holder") else "alternate"
    must({200, 201, 204}, call("PUT", f"/api/v1/candidacies/{target}/curricula/{role}/photo?taken_on={today}",
                               png(600, 800), token, "image/png"), f"photo of the {role}")
must({200, 201}, call("POST", f"/api/v1/candidacies/{target}/submissions", b"", token), "submission")
print(target)
