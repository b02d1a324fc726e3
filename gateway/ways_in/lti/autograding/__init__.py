"""Autograding of hand-ins: a grader a teacher attached to a course's link grades each
hand-in, and the score goes to the gradebook with no human step.

**Where it runs.** Never in the learner's project and never in a teacher's working project
(answer keys): in the course's **grading project**, the gateway's own, which holds a run's
files only while it runs. Runs of a course go one at a time (a database lock), each in a
fresh folder: the grader's files copied fresh from the teacher's path (a run cannot leave
anything for the next), the hand-in copied in, the grader run through CoCalc's exec with
the teacher's time limit, the folder deleted afterwards (no learner's run sees another's
work). A learner's notebook is untrusted code: what contains it is CoCalc's project (its
container; the simulator's sandbox in the tests).

**What counts.** The grader's result file (otter-grader's ``results.json``), never what
the run prints: a notebook that prints a score line changes nothing, and a run that exits
with an error, times out or leaves no well-formed result posts nothing. The hand-in then
stays ``Submitted``; the teacher's review page says why, and ``lti grades rerun``
grades it again.

**Posting.** ``FullyGraded`` with the score, the maximum and a short comment, once per
hand-in (a run row per hand-in, claimed in one UPDATE), through ``scores.post``: posting
the same grade again makes no call, so a rerun after the tests changed posts only changed
scores. A teacher's own grade (the review page's, or ``lti grades push``) wins: once one
was posted for the learner on that line item, the autograder posts nothing over it.
"""
