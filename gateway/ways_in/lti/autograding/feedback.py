"""The learner's feedback file: what each of the teacher's tests earned, written into the
learner's own project beside the hand-in, in the language of the page it was handed in
from; the score's comment names it.

It holds the teacher's test names and numbers only, never anything the run printed or
executed: the learner's code ran in that run, and could have copied the hidden tests into
any output (an executed notebook, nbgrader's or otter's own feedback)."""

from __future__ import annotations

import logging

from ....cocalc import CoCalcError
from ....context import Gateway
from ....errors import N_
from ....support.languages import translated_in
from .outcome import Outcome

log = logging.getLogger(__name__)

FOLDER = "feedback"


def path_of(hand_in_path: str) -> str:
    """``hand-in/<time>/hw/hw1.ipynb`` → ``feedback/<time>/hw/hw1.ipynb.md`` (the hand-in's
    folder is read-only, so the feedback goes beside it, not in it)."""
    return f"{FOLDER}/{hand_in_path.split('/', 1)[-1]}.md"


def text_of(outcome: Outcome, notebook: str, language: str | None) -> str:
    def say(message: str, **params) -> str:
        return translated_in(language, message, params)

    lines = [
        "# " + say(N_("Autograder feedback: %(notebook)s"), notebook=notebook),
        "",
        "| " + say(N_("Test")) + " | " + say(N_("Points")) + " |",
        "| --- | ---: |",
    ]
    for name, earned, worth in outcome.tests:
        points = say(N_("%(earned)s of %(worth)s"), earned=f"{earned:g}", worth=f"{worth:g}")
        lines.append(f"| {_cell(name)} | {points} |")
    lines.append("")
    if outcome.manual:
        lines.append(
            say(N_("Left for your teacher to grade: %(points)s"), points=f"{outcome.manual:g}")
        )
        lines.append("")
    total = say(
        N_("Total: %(score)s of %(maximum)s"),
        score=f"{outcome.score:g}",
        maximum=f"{outcome.maximum:g}",
    )
    lines.append(f"**{total}**")
    return "\n".join(lines) + "\n"


def _cell(name: str) -> str:
    """A test's name inside a Markdown table cell: no line break, no column break."""
    return " ".join(name.split()).replace("|", "\\|")[:200]


def write(
    gw: Gateway, learner_project_id: str, hand_in_path: str, outcome: Outcome, language
) -> str | None:
    """Write the feedback file (``language``: a tag, or None for English); its path, or None
    where CoCalc would not take it (the score is posted all the same)."""
    path = path_of(hand_in_path)
    notebook = hand_in_path.rsplit("/", 1)[-1]
    try:
        gw.cocalc.write_text_file_to_project(
            learner_project_id, path, text_of(outcome, notebook, language)
        )
    except CoCalcError as exc:
        log.warning("a feedback file was not written: %s", type(exc).__name__)
        return None
    return path
