#!/usr/bin/env python3
"""The demo's identity questionnaires, answered through the capture front (make run).

Each party signs in to the capture front as a person would, lists its candidacies (capture's
API, with the front's session), and for every person of every candidacy (owner and substitute)
opens the identity questionnaire, reads the questions and options the page offers, answers
them, checks them on the verification screen and sends them (`accion=enviar`): the answers
reach `identity` through capture exactly as a party's would. Independent candidacies upload a
stand-in for the signed express-consent form first, as the front requires.

The answers are drawn with a fixed seed from what each candidacy is (office, constituency,
postulant, place on the list, holder, role), so every run over a fresh database answers the
same: most people belong to no group, some to one or more, the candidacies of an affirmative
action to its group; consents vary (most to statistics, some to publication as well, a few to
processing only) and some people decline questions. A questionnaire already sent is skipped,
so running it again changes nothing. Answers are never printed or logged.

Prints one summary line. Exit code 1 when some questionnaire could not be sent.

Standard library only. Usage:
  seed-identity.py --capture URL (--party EMAIL:PASSWORD ... | --parties FILE) [--seed N]
                   [--workers N]
FILE holds one EMAIL:PASSWORD a line; `-` reads them from stdin (make run passes them so).
"""

import argparse
import concurrent.futures
import html.parser
import json
import random
import re
import secrets
import struct
import sys
import time
import urllib.parse
import zlib

sys.dont_write_bytecode = True  # importing the helpers next to it leaves no __pycache__ in deploy/
from front_session import FORM, front_login, hidden_csrf, request, session_headers

ROLES = {"holder": "titular", "alternate": "suplente"}
DECLINE = "__decline"

# The share of people who say yes to each group question of the default questionnaire
# (crates/identity-questionnaire/definitions/default.json), drawn as exact shares among those
# who consent to statistics and among the others (so the tables' counts do not hinge on luck);
# other yes/no questions: each person with UNKNOWN_YES.
YES = {"indigenous": 0.15, "disability": 0.08, "afro_mexican": 0.05,
       "sexual_diversity": 0.10, "migrant": 0.12}
UNKNOWN_YES = 0.05
# The group an affirmative action's candidacies belong to (the import's `accion_afirmativa`).
AFFIRMATIVE = {"indigena": ("indigenous", "yes"), "discapacidad": ("disability", "yes"),
               "afromexicana": ("afro_mexican", "yes"), "diversidad_sexual": ("sexual_diversity", "yes"),
               "migrante": ("migrant", "yes"), "joven": ("age_group", "youth"),
               "persona_mayor": ("age_group", "older")}
# Weights of the options of the other choice questions; options not named weigh 1, and a
# question not named here is answered uniformly.
WEIGHTS = {
    "disability_duration": {"permanent": 7, "temporary": 3},
    "disability_type": {"physical": 45, "visual": 20, "hearing": 15, "speech": 5,
                        "intellectual": 5, "psychosocial": 10},
    "sexual_diversity_group": {"lesbian": 20, "gay": 30, "bisexual": 25, "transgender": 8,
                               "transsexual": 3, "transvestite": 2, "intersex": 2, "queer": 5,
                               "other": 5},
    "migrant_years": {"under_1": 5, "1_5": 35, "6_10": 30, "over_10": 30},
    "migrant_reason": {"work": 50, "study": 20, "family": 20, "safety": 5, "other": 5},
    # The page does not give the person's age: the demo's spread (few under 30), not each one's.
    "age_group": {"youth": 3, "older": 22, "neither": 75},
    "income": {"up_to_10k": 15, "10k_20k": 30, "20k_40k": 30, "40k_80k": 17, "over_80k": 8},
}
# Plausible free answers (in Spanish: a person reads them); a text question not named here is
# declined.
TEXTS = {
    "indigenous_language": ["Náhuatl", "Kikapú", "Mazahua", "Otomí", "Tarahumara",
                            "No hablo una lengua indígena"],
    "disability_difficulty": ["Caminar o subir escaleras", "Ver, aun usando lentes",
                              "Oír, aun usando aparato auditivo", "Recordar o concentrarme",
                              "Ninguna actividad en particular"],
    "migrant_country": ["Estados Unidos", "Canadá", "España", "Alemania"],
}
# Consents, as exact shares: processing only (10%), publication without statistics (5%),
# publication and statistics (30%); the rest statistics only.
CONSENTS = ((0.10, (False, False)), (0.05, (True, False)), (0.30, (True, True)))
# Who declines what: a "reticent" tenth (an exact share) decline their income and every
# follow-up and free text; the others decline their income (12%), a follow-up (5%) or a free
# text (25%) now and then. Nobody declines the questions on belonging to a group (the yes/no
# ones, and the age group): a few declines there are small counts in every dimension's groups,
# which the suppression hides together with enough partners (the yes and no margins among
# them) that the public site would show nothing of those tables.
RETICENT = 0.10
DECLINES = {"income": 0.12}
FOLLOW_UP_DECLINE = 0.05
TEXT_DECLINE = 0.25


class FormPage(html.parser.HTMLParser):
    """What the identity questionnaire's page offers: the form's hidden fields and consent
    boxes, and each question's kind, options (id, label), condition and length limit."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden = []
        self.consents = []
        self.questions = []
        self.labels = {}
        self.form_action = None
        self._in_form = False
        self._question = None
        self._capture = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("action", "").endswith("/identidad"):
            self._in_form, self.form_action = True, a["action"]
        if not self._in_form:
            return
        classes = a.get("class", "").split()
        if tag == "fieldset" and "campo" in classes:
            self._question = {"id": None, "kind": None, "options": [], "legend": "",
                              "condition": "", "max": 0, "decline": False}
            self.questions.append(self._question)
        elif tag == "legend" and self._question is not None:
            self._capture = (self._question, "legend", "legend")
        elif tag == "p" and "ayuda" in classes and self._question is not None:
            self._capture = (self._question, "condition", "p")
        elif tag == "label" and a.get("for"):
            self.labels[a["for"]] = ""
            self._capture = (self.labels, a["for"], "label")
        elif tag == "input":
            self._input(a)

    def _input(self, a):
        name, kind = a.get("name", ""), a.get("type", "text")
        if kind == "hidden":
            self.hidden.append((name, a.get("value", "")))
        elif name.startswith("consent_"):
            self.consents.append(name)
        elif name.startswith("q.") and self._question is not None:
            q = self._question
            if name.endswith(".decline"):
                q["decline"] = True
            elif name.endswith(".text"):
                q["id"], q["kind"] = name[2:-5], "text"
                q["max"] = int(a.get("maxlength") or 0)
            elif a.get("value") == DECLINE:
                q["decline"] = True
            else:
                q["id"] = name[2:]
                q["kind"] = "single" if kind == "radio" else "multiple"
                q["options"].append((a.get("value", ""), a.get("id", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "fieldset":
            self._question = None
        if self._capture and self._capture[2] == tag:
            self._capture = None

    def handle_data(self, data):
        if self._capture:
            target, key, _ = self._capture
            target[key] = target.get(key, "") + data

    def resolved(self):
        """The questions with their options' labels and conditions as (parent id, option id)."""
        by_text = {" ".join(q["legend"].split()): q for q in self.questions}
        for q in self.questions:
            q["options"] = [(value, " ".join(self.labels.get(input_id, "").split()))
                            for value, input_id in q["options"]]
            q["when"] = None
            found = re.search(r"eligió «(.+?)» en «(.+)»", " ".join(q["condition"].split()))
            if found:
                parent = by_text.get(found.group(2))
                option = parent and next((v for v, label in parent["options"]
                                          if label == found.group(1)), None)
                if not option:
                    raise ValueError(f"the condition of question {q['id']} names no option")
                q["when"] = (parent["id"], option)
        return self.questions


class HiddenFields(html.parser.HTMLParser):
    """The hidden fields of a page's forms (the verification screen carries the answers so)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields = []

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("type") == "hidden":
            self.fields.append((a.get("name", ""), a.get("value", "")))


def weighted(rng, options, weights):
    ids = [value for value, _ in options]
    return rng.choices(ids, [weights.get(i, 1) for i in ids])[0]


def home_state(options, election_name):
    """The option of the election's own state (its label, or its first word, in the name)."""
    for value, label in sorted(options, key=lambda o: -len(o[1])):
        if label and label in election_name:
            return value
    for value, label in options:
        first = label.split(" ")[0] if label else ""
        if len(first) > 3 and re.search(rf"\b{re.escape(first)}\b", election_name):
            return value
    return None


def person_key(candidacy, role):
    """What a person is, stable across fresh databases (ids are not): the candidacy's office,
    constituency, postulant, place on the list and holder, and the role."""
    return "|".join([*(str(candidacy.get(k, "")) for k in
                       ("office", "constituency", "postulant", "list_position", "holder")), role])


def profiles(people, seed):
    """Each person's consents, reticence and groups, drawn as exact shares from a fixed seed.
    `people` maps each person's key to their affirmative action's (question, option) or None."""
    rng = random.Random(f"{seed}|profiles")
    order = sorted(people)
    rng.shuffle(order)
    drawn, start = {}, 0
    for share, (publication, statistics) in CONSENTS:
        end = start + round(share * len(order))
        for key in order[start:end]:
            drawn[key] = {"publication": publication, "statistics": statistics}
        start = end
    for key in order[start:]:
        drawn[key] = {"publication": False, "statistics": True}
    for statistics in (True, False):
        group = [k for k in order if drawn[k]["statistics"] == statistics]
        free = [k for k in group if not people[k]]
        reticent = set(rng.sample(free, min(len(free), round(RETICENT * len(group)))))
        answering = [k for k in group if k not in reticent]
        yes = {q: set(rng.sample(answering, min(len(answering), round(share * len(group)))))
               for q, share in YES.items()}
        for key in group:
            drawn[key]["reticent"] = key in reticent
            drawn[key]["yes"] = {q for q, keys in yes.items() if key in keys}
            if people[key]:
                drawn[key]["forced"] = people[key]
    return drawn


def answer(questions, rng, candidacy, profile):
    """The form's answer fields, and whether the person declined at least one question."""
    reticent, forced = profile["reticent"], profile.get("forced")
    chosen, fields, declined_any = {}, [], False
    for q in questions:
        if q["when"] and chosen.get(q["when"][0]) != q["when"][1]:
            continue  # not asked: the earlier answer did not lead here
        options = q["options"]
        yes_no = q["kind"] == "single" and {v for v, _ in options} == {"yes", "no"}
        if q["kind"] == "text" and q["id"] not in TEXTS:
            decline_p = 1.0
        elif reticent and (q["kind"] == "text" or q["when"] or q["id"] in DECLINES):
            decline_p = 1.0
        elif q["kind"] == "text":
            decline_p = TEXT_DECLINE
        elif q["when"]:
            decline_p = FOLLOW_UP_DECLINE
        else:
            decline_p = DECLINES.get(q["id"], 0.0)
        if forced and forced[0] == q["id"]:
            decline_p = 0.0
        if q["decline"] and rng.random() < decline_p:
            declined_any = True
            chosen[q["id"]] = DECLINE
            fields.append((f"q.{q['id']}", DECLINE) if q["kind"] == "single"
                          else (f"q.{q['id']}.decline", "si"))
            continue
        ids = [value for value, _ in options]
        if q["kind"] == "text":
            text = rng.choice(TEXTS[q["id"]])
            fields.append((f"q.{q['id']}.text", text[:q["max"]] if q["max"] else text))
        elif q["kind"] == "multiple":
            count = 1 if rng.random() < 0.8 or len(ids) < 2 else 2
            picked = []
            while len(picked) < count:
                option = weighted(rng, options, WEIGHTS.get(q["id"], {}))
                if option not in picked:
                    picked.append(option)
            fields.extend((f"q.{q['id']}", option) for option in picked)
        else:
            if forced and forced[0] == q["id"] and forced[1] in ids:
                option = forced[1]
            elif yes_no and q["id"] in YES:
                option = "yes" if q["id"] in profile["yes"] else "no"
            elif yes_no:
                option = "yes" if rng.random() < UNKNOWN_YES else "no"
            elif q["id"] == "birth_state" or len(ids) > 20:
                home = home_state(options, candidacy.get("election_name", ""))
                option = home if home and rng.random() < 0.75 else rng.choice(ids)
            else:
                option = weighted(rng, options, WEIGHTS.get(q["id"], {}))
            chosen[q["id"]] = option
            fields.append((f"q.{q['id']}", option))
    return fields, declined_any


def signed_form_png():
    """A stand-in for the scan of a signed express-consent form: a white page with a line
    where the signature goes (grayscale PNG made with zlib)."""
    width, height = 425, 550
    rows = []
    for y in range(height):
        row = bytearray([255] * width)
        if 470 <= y <= 471:
            row[60:260] = bytes([40] * 200)
        rows.append(b"\x00" + bytes(row))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


def upload_signed_form(capture, session, base):
    """Uploads the stand-in signed form for an independent candidacy's person, unless one is
    already there. Returns None or the problem."""
    status, _, page = request(capture, "GET", f"{base}/consentimiento",
                              headers=session_headers(session))
    if status != 200:
        return f"consent form page: {status}"
    if "Formato firmado recibido" in page:
        return None
    action = re.search(r'action="([^"]*/identidad/consentimiento[^"]*)"', page)
    boundary = "seed-" + secrets.token_hex(12)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n"
            f"{hidden_csrf(page)}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"archivo\"; filename=\"formato-firmado.png\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + signed_form_png() + \
        f"\r\n--{boundary}--\r\n".encode()
    path = action.group(1).replace("&amp;", "&") if action else f"{base}/consentimiento"
    status, _, page = request(capture, "POST", path, body, session_headers(
        session, {"content-type": f"multipart/form-data; boundary={boundary}"}))
    if status != 200 or "Se recibió el formato firmado" not in page:
        return f"uploading the signed form: {status}"
    return None


def problems_of(page):
    """The messages of a page's error box (validation messages: never answers)."""
    box = re.search(r'aviso-error.*?</div>', page, re.S)
    items = re.findall(r"<li>(.*?)</li>", box.group(0), re.S) if box else []
    return "; ".join(items)[:300]


def answer_person(capture, session, candidacy, role, profile, seed):
    """One person's questionnaire. Returns ("sent", publication, statistics, declined),
    ("already",), ("closed", why) or ("failed", why)."""
    base = f"/captura/{candidacy['id']}/{ROLES[role]}/identidad"
    status, _, page = request(capture, "GET", base, headers=session_headers(session))
    if status == 200 and "<h1>Cuestionario de identidad enviado</h1>" in page:
        return ("already",)
    if status in (409, 412, 422) or (status == 200 and 'name="version"' not in page):
        return ("closed", f"{status} {problems_of(page)}")
    if status != 200:
        return ("failed", f"{base}: {status}")
    if candidacy.get("independent"):
        problem = upload_signed_form(capture, session, base)
        if problem:
            return ("failed", f"{base}: {problem}")
        status, _, page = request(capture, "GET", base, headers=session_headers(session))
    form = FormPage()
    form.feed(page)
    questions = form.resolved()
    # The rest of the answers are drawn from what the person is, so a fresh database answers
    # the same.
    rng = random.Random(f"{seed}|{person_key(candidacy, role)}")
    publication, statistics = profile["publication"], profile["statistics"]
    fields, declined = answer(questions, rng, candidacy, profile)
    chosen = [("consent_processing", "si")]
    if publication:
        chosen.append(("consent_publication", "si"))
    if statistics:
        chosen.append(("consent_statistics", "si"))
    pairs = form.hidden + chosen + fields
    # First the verification screen, as the browser's «Revisar mis respuestas»…
    status, _, page = request(capture, "POST", form.form_action,
                              urllib.parse.urlencode(pairs + [("accion", "verificar")]),
                              session_headers(session, FORM))
    if status != 200 or 'value="enviar"' not in page:
        return ("failed", f"{base} (verification): {status} {problems_of(page)}")
    hidden = HiddenFields()
    hidden.feed(page)
    # …then «Enviar definitivamente» with what the screen carries.
    status, _, page = request(capture, "POST", form.form_action,
                              urllib.parse.urlencode(hidden.fields + [("accion", "enviar")]),
                              session_headers(session, FORM))
    if status != 200 or "<h1>Cuestionario de identidad enviado</h1>" not in page:
        return ("failed", f"{base} (sending): {status} {problems_of(page)}")
    return ("sent", publication, statistics, declined)


def api_get(capture, session, path):
    status, _, body = request(capture, "GET", path, headers=session_headers(session))
    if status != 200:
        raise RuntimeError(f"{path}: {status} {body[:200]}")
    return json.loads(body)


def party_jobs(capture, email, password):
    """Signs the party in and lists (session, candidacy, role) for each of its persons."""
    session = front_login(capture, email, password, "seed-" + secrets.token_urlsafe(18))
    jobs = []
    for item in api_get(capture, session, "/api/v1/candidacies")["items"]:
        detail = api_get(capture, session, f"/api/v1/candidacies/{item['id']}")
        candidacy = {**item, **{k: detail.get(k) for k in
                                ("independent", "affirmative_action", "election_name")}}
        for person in detail.get("persons", []):
            if person.get("role") in ROLES:
                jobs.append((session, candidacy, person["role"]))
    return jobs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capture", default="http://127.0.0.1:8081")
    parser.add_argument("--party", action="append", default=[],
                        help="EMAIL:PASSWORD of a party's account (repeat for each party)")
    parser.add_argument("--parties", help="file of EMAIL:PASSWORD lines; - for stdin")
    parser.add_argument("--seed", type=int, default=2026, help="the answers' random seed")
    parser.add_argument("--workers", type=int, default=4, help="questionnaires sent at once")
    args = parser.parse_args()
    parties = list(args.party)
    if args.parties:
        with (sys.stdin if args.parties == "-" else open(args.parties)) as lines:
            parties += [line.strip() for line in lines if line.strip()]
    if not parties or any(":" not in p for p in parties):
        parser.error("give each party's account as EMAIL:PASSWORD (--party or --parties)")
    started = time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        listed = pool.map(lambda p: party_jobs(args.capture, *p.split(":", 1)), parties)
        jobs, seen = [], set()
        for party in listed:
            for session, candidacy, role in party:
                # A coalition's candidacy may be in more than one party's scope: answered once.
                if (candidacy["id"], role) not in seen:
                    seen.add((candidacy["id"], role))
                    jobs.append((session, candidacy, role))
        drawn = profiles({person_key(c, role): AFFIRMATIVE.get(c.get("affirmative_action") or "")
                          for _, c, role in jobs}, args.seed)
        outcomes = list(pool.map(
            lambda job: answer_person(args.capture, *job, drawn[person_key(job[1], job[2])],
                                      args.seed), jobs))

    sent = [o for o in outcomes if o[0] == "sent"]
    failed = [o[1] for o in outcomes if o[0] == "failed"]
    closed = [o[1] for o in outcomes if o[0] == "closed"]
    for problem in (failed + closed)[:5]:
        print(f"  not sent: {problem}", file=sys.stderr)
    both = sum(1 for o in sent if o[1] and o[2])
    print(f"Identity questionnaires answered through the capture front: {len(sent)} "
          f"(consents: statistics {sum(1 for o in sent if o[2])}, "
          f"publication {sum(1 for o in sent if o[1])} [{both} with both], "
          f"processing only {sum(1 for o in sent if not o[1] and not o[2])}; "
          f"{sum(1 for o in sent if o[3])} declined some question); "
          f"already answered {sum(1 for o in outcomes if o[0] == 'already')}, "
          f"capture closed {len(closed)}, failed {len(failed)}; "
          f"{len(parties)} parties, {time.monotonic() - started:.1f} s.")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
