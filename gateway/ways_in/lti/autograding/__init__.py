"""Autograding of hand-ins: a grader a teacher attached to a course's link grades each
hand-in, and the score goes to the gradebook with no human step.

**Where it runs.** In a project made for the run and deleted after it (``workspace``):
never the learner's project, never a teacher's working project (answer keys), never one
that another learner's code ran in (what code leaves in a project's home outlives it and
would run in the next grading). The grader's file is copied in fresh from the teacher's
path, then the hand-in; the grader runs through CoCalc's exec with the teacher's time
limit. Runs of a course go one at a time (a database lock). A learner's notebook is
untrusted code: what contains it is CoCalc's project (its container; the simulator's
sandbox in the tests).

**What counts.** The teacher's points, read before any learner's code ran in the project
(``outcome``), bound what the run reports: each test earns at most its points, a test the
teacher did not write earns nothing, the maximum is the teacher's. The report is a result
file (otter's ``results.json``; nbgrader's executed notebook), never what the run prints.
A run that exits with an error, times out or leaves no well-formed result posts nothing:
the hand-in stays ``Submitted``; the teacher's review page says why, and ``lti grades
rerun`` grades it again.

**Feedback.** A file in the learner's project, in the hand-in page's language, of the
teacher's test names and numbers only (``feedback``); the score's comment names it.

**Posting.** ``FullyGraded`` with the score, the maximum and a short comment
(``PendingManual`` where nbgrader leaves parts to a person), once per hand-in (a run row
per hand-in, claimed in one UPDATE), through ``scores.post``: posting the same grade again
makes no call, so a rerun after the tests changed posts only changed scores. A teacher's
own grade (the review page's, or ``lti grades push``) wins: once one was posted for the
learner on that line item, the autograder posts nothing over it.
"""
