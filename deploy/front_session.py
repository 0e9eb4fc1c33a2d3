"""HTTP helpers shared by the scripts that drive a running stack as people would
(deploy/pipeline-latency.py, deploy/seed-identity.py): one request per connection, cookies,
the CSRF token of a page, signing in to capture's API or to the capture front (changing a
password given by someone else first, as the front and the API require).

Standard library only.
"""

import http.client
import json
import re
import sys
import urllib.parse

SESSION_COOKIE = "__Host-conoceles_sesion"
LOGIN_CSRF_COOKIE = "__Host-conoceles_csrf"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def request(base, method, path, body=None, headers=None):
    """One request on a connection of its own; redirects are not followed."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def cookie(headers, name):
    """The value a response sets for the cookie `name`, or None."""
    for key, value in headers:
        if key.lower() == "set-cookie" and value.startswith(name + "="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return None


def header(headers, name):
    """A response header's value, or None."""
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def hidden_csrf(page):
    """The page's CSRF token (its forms' hidden `csrf` field); exits when the page has none."""
    found = re.search(r'name="csrf" value="([^"]*)"', page)
    if not found:
        sys.exit("no csrf field on the page")
    return found.group(1)


def session_headers(session, extra=None):
    """Headers that carry the front's session cookie."""
    return {**(extra or {}), "cookie": f"{SESSION_COOKIE}={session}"}


def api_token(capture, email, password, new_password):
    """A bearer token from capture's API; a password that must change first becomes
    `new_password` (the API then answers a new token)."""
    status, _, body = request(capture, "POST", "/api/v1/sessions",
                              json.dumps({"email": email, "password": password}),
                              {"content-type": "application/json"})
    if status != 201:
        sys.exit(f"signing in {email} through the API: {status} {body[:200]}")
    session = json.loads(body)
    if not session.get("must_change_password"):
        return session["token"]
    # A password given by someone else changes before the API does anything else.
    status, _, body = request(capture, "POST", "/api/v1/account/password",
                              json.dumps({"current_password": password,
                                          "new_password": new_password}),
                              {"content-type": "application/json",
                               "authorization": f"Bearer {session['token']}"})
    if status != 200:
        sys.exit(f"changing {email}'s password through the API: {status} {body[:200]}")
    return json.loads(body)["token"]


def front_login(capture, email, password, new_password):
    """Signs in to the capture front as a person would (the login page's CSRF cookie and field);
    when the front asks for a new password first, sets `new_password` through its form.
    Returns the session cookie's value."""
    _, headers, page = request(capture, "GET", "/ingresar")
    login_csrf = cookie(headers, LOGIN_CSRF_COOKIE)
    status, headers, body = request(
        capture, "POST", "/ingresar",
        urllib.parse.urlencode({"email": email, "password": password, "csrf": hidden_csrf(page)}),
        {**FORM, "cookie": f"{LOGIN_CSRF_COOKIE}={login_csrf}"})
    session = cookie(headers, SESSION_COOKIE)
    if status != 303 or not session:
        sys.exit(f"signing in {email} at the front: {status} {body[:200]}")
    if header(headers, "location") == "/cuenta/contrasena":
        _, _, page = request(capture, "GET", "/cuenta/contrasena",
                             headers=session_headers(session))
        status, headers, body = request(
            capture, "POST", "/cuenta/contrasena",
            urllib.parse.urlencode({"csrf": hidden_csrf(page), "current": password,
                                    "new": new_password, "confirm": new_password}),
            session_headers(session, FORM))
        session = cookie(headers, SESSION_COOKIE)
        if status != 303 or not session:
            sys.exit(f"changing {email}'s password at the front: {status} {body[:200]}")
    return session
