"""The pages speak the user's language: the launch's, else the host's, else the browser's;
``<html lang>`` and ``dir`` follow it, right to left included (LTI and SSO: their own tests)."""

from __future__ import annotations

import json
import re

import pytest

from tests.launching import api, mint, page_settings

LANG = re.compile(r'<html lang="([^"]*)" dir="(ltr|rtl)">')
GERMAN_LOADING = "CoCalc wird geöffnet…"
TOP_LEVEL = {
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "navigate",
}


def _embed_page(client, host, *, headers=None, **claims) -> str:
    reply = client.post("/launch", data={"token": mint(host.id, host.secret, **claims)})
    assert reply.status_code == 303, reply.get_data(as_text=True)
    page = client.get(reply.headers["Location"], headers=headers or {})
    assert page.status_code == 200
    return page.get_data(as_text=True)


def _language(html: str) -> tuple[str, str]:
    return LANG.search(html).groups()


def test_a_launch_token_s_locale_is_the_page_s_language(client, host):
    html = _embed_page(client, host, locale="de", path="work/notes.md")
    assert _language(html) == ("de", "ltr")
    assert GERMAN_LOADING in html and "Opening CoCalc" not in html
    assert "notes.md in CoCalc" in html  # the title names the file, in German word order
    # The scripts' messages come from the same catalogue, handed over with the page.
    messages = page_settings(html)["messages"]
    assert messages["expiredTitle"] == "Diese Sitzung ist abgelaufen"
    assert messages["handedIn"] == "Abgegeben um %(time)s: Ihre Lehrperson kann es jetzt bewerten."


def test_the_launch_beats_the_host_which_beats_the_browser(client, gw, runner):
    added = runner.invoke(args=["hosts", "add", "Lycée", "--language", "fr"])
    assert added.exit_code == 0, added.output
    host = json.loads(added.output)
    host_obj = type("H", (), {"id": host["id"], "secret": host["secret"]})
    spanish_browser = {"Accept-Language": "es-ES,es;q=0.9"}
    # The host's default over the browser's.
    html = _embed_page(client, host_obj, headers=spanish_browser)
    assert _language(html) == ("fr", "ltr") and "Ouverture de CoCalc…" in html
    # The launch's over the host's.
    html = _embed_page(client, host_obj, headers=spanish_browser, locale="de-AT")
    assert _language(html) == ("de-AT", "ltr") and GERMAN_LOADING in html


def test_without_a_choice_the_browser_s_language_is_spoken(client, host):
    html = _embed_page(client, host, headers={"Accept-Language": "fr-CA;q=0.5, es;q=0.9"})
    assert _language(html) == ("es", "ltr") and "Abriendo CoCalc…" in html
    # A language without a catalogue, in the browser alone: English.
    html = _embed_page(client, host, headers={"Accept-Language": "ja"})
    assert _language(html) == ("en", "ltr") and "Opening CoCalc…" in html


@pytest.mark.parametrize("tag", ["ar", "he-IL", "fa"])
def test_right_to_left_languages_get_dir_rtl_even_without_a_catalogue(client, host, tag):
    html = _embed_page(client, host, locale=tag)
    assert _language(html) == (tag, "rtl")
    assert "Opening CoCalc…" in html  # no catalogue yet: the text falls back to English


@pytest.mark.parametrize("hostile", ['de"><script>alert(1)</script>', "x" * 200, "de de", "", "12"])
def test_a_malformed_locale_is_no_choice_and_never_reaches_the_markup(client, host, hostile):
    html = _embed_page(client, host, locale=hostile, headers={"Accept-Language": "fr"})
    assert _language(html) == ("fr", "ltr")
    assert "<script>alert" not in html


def test_a_host_s_language_must_be_a_language_tag(runner):
    bad = runner.invoke(args=["hosts", "add", "LMS", "--language", "<b>"])
    assert bad.exit_code == 1 and "language tag" in bad.output


def test_the_server_api_s_locale_reaches_the_page(app, client, host):
    user = {"id": "u-1", "first_name": "Ana"}
    link = api(client, host.secret, {"user": user, "locale": "es"}).get_json()
    url = link["url"].replace("http://127.0.0.1", "")
    # Opened at top level (a pasted link): the confirmation, in the launch's language.
    asked = app.test_client().get(url, headers={**TOP_LEVEL, "Accept-Language": "de"})
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and _language(html) == ("es", "ltr")
    assert "¿Abrir CoCalc como Ana?" in html
    # Opened in the host's frame: the page, in the launch's language.
    framed = app.test_client()
    reply = framed.get(url, headers={"Accept-Language": "de"})
    assert reply.status_code == 303
    html = framed.get(reply.headers["Location"]).get_data(as_text=True)
    assert _language(html) == ("es", "ltr") and "Abriendo CoCalc…" in html


def test_the_confirmation_page_speaks_the_token_s_language(client, host):
    own_page = {
        "Origin": "http://127.0.0.1",
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Mode": "navigate",
    }
    token = mint(host.id, host.secret, locale="fr", given_name="Ada")
    asked = client.post("/launch", data={"token": token}, headers=own_page)
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and _language(html) == ("fr", "ltr")
    assert "Ouvrir CoCalc en tant que Ada ?" in html and "Continuer en tant que Ada" in html


def test_error_pages_speak_the_browser_s_language_and_json_stays_english(client, host):
    used = mint(host.id, host.secret)
    client.post("/launch", data={"token": used})
    again = client.post("/launch", data={"token": used}, headers={"Accept-Language": "de"})
    html = again.get_data(as_text=True)
    assert again.status_code == 401 and _language(html) == ("de", "ltr")
    assert "dieses Start-Token wurde bereits verwendet" in html
    # An API client gets the code and English: messages for programs are not translated.
    bad = api(client, host.secret, {"user": {}}, **{"Accept-Language": "de"})
    plain = api(client, host.secret, {"user": {}})
    assert bad.status_code == 400 and bad.get_json() == plain.get_json()


@pytest.mark.parametrize(
    ("request_it", "french"),
    [
        (
            lambda c: c.get("/launch?token=abc.def.ghi"),
            "le jeton de lancement n\u2019est pas un JWT valide",
        ),
        (lambda c: c.get("/no/such/page"), "Il n\u2019y a rien à cette adresse."),
        (lambda c: c.put("/launch"), "Cette adresse n\u2019accepte pas ce type de requête."),
    ],
    ids=["token", "404", "405"],
)
def test_a_french_error_page_is_french_from_title_to_advice(client, request_it, french):
    """The sentence that says what went wrong is translated, not only the title."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr"
    page = request_it(client).get_data(as_text=True).replace("&#39;", "'")
    assert _language(page) == ("fr", "ltr")
    assert french in page, page


def test_a_reason_inside_a_sentence_is_translated_with_it(app):
    """A SAML refusal's reason (a Phrase) is shown in the page's language too."""
    from gateway.ways_in.saml.xml_guard import Refused
    from gateway.web.i18n import translated

    refused = Refused("the document is too large")
    with app.test_request_context(headers={"Accept-Language": "de"}):
        text = translated(refused.message_id, refused.params)
    assert text == (
        "die Antwort des Identitätsanbieters wurde abgelehnt (das Dokument ist zu groß); "
        "melden Sie sich erneut an"
    )
    assert refused.message == (
        "the identity provider's answer was refused (the document is too large); sign in again"
    )
