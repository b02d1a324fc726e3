// The grade bar of a teacher's review page (LTI Submission Review): the score goes to the
// gradebook as FullyGraded; the same score again changes nothing, and the page says so.
const settings = JSON.parse(document.getElementById("settings").textContent);
const form = document.getElementById("grade-form");
const status = document.getElementById("grade-status");
const save = document.getElementById("grade-save");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  save.disabled = true;
  status.textContent = "Saving…";
  try {
    const reply = await fetch(settings.review.gradeUrl, {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new URLSearchParams(new FormData(form)),
    });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(body.error?.message || `error ${reply.status}`);
    status.textContent =
      body.status === "unchanged"
        ? "This grade is in the gradebook already."
        : `Saved to the gradebook (the LMS answered ${body.lms_status}).`;
  } catch (error) {
    status.textContent = `Not saved: ${error.message}`;
  } finally {
    save.disabled = false;
  }
});
