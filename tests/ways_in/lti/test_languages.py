"""An LTI launch's ``launch_presentation.locale`` (sent by the platform; the shim adds it,
which lti1p3platform lacks) is the language of the pages it leads to: the embed page, the
Deep Linking picker and its errors, the review bar with its date."""

from __future__ import annotations

import re
from datetime import datetime

from babel.dates import get_month_names
from sqlalchemy import select

from gateway.store.lti_tables import LtiHandIn
from tests.ways_in.lti.test_content import offer_templates, picker, submit
from tests.ways_in.lti.test_review import hand_in, review, the_line_item

LANG = re.compile(r'<html lang="([^"]*)" dir="(ltr|rtl)">')


def test_a_course_in_french_opens_a_french_page(lti, agent):
    page = agent.open(lti.course_launch(user="stu-fr", path="hw/one.ipynb", locale="fr-FR"))
    assert "/embed/" in page.url, page.text[:300]
    assert LANG.search(page.text).groups() == ("fr-FR", "ltr")
    assert "Ouverture de CoCalc…" in page.text


def test_the_picker_and_its_mistakes_speak_the_platform_s_language(lti, agent):
    offer_templates(lti, ["week1/a.ipynb"])
    page = picker(lti, agent, locale="de")
    assert LANG.search(page.text).groups() == ("de", "ltr")
    assert "Ein Notebook wählen" in page.text and "Ein neues Notebook hinzufügen" in page.text
    wrong = submit(agent, page, {"new_path": "no suffix"})
    assert wrong.status_code == 400
    assert LANG.search(wrong.text).groups() == ("de", "ltr")
    assert "der Name eines Notebooks endet auf .ipynb" in wrong.text


def test_the_review_bar_says_when_in_the_teacher_s_language(lti, agent):
    hand_in(lti, agent)
    teacher = review(lti, agent, the_line_item(lti)["id"], name="Grace%20Hopper", locale="fr")
    assert "/embed/" in teacher.url, teacher.text[:400]
    assert "Remise de <strong>Ada Lovelace</strong>" in teacher.text
    with lti.gw.db.begin() as session:
        when: datetime = session.scalar(select(LtiHandIn.handed_in_at))
    shown = re.search(r'<time datetime="[^"]+" id="handed-in-at">([^<]+)</time>', teacher.text)
    month = get_month_names("abbreviated", locale="fr")[when.month]
    assert month in shown.group(1) and str(when.year) in shown.group(1), shown.group(1)
    assert "Enregistrer la note" in teacher.text
