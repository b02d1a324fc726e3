// The grade bar of a teacher's review page (LTI Submission Review): the score goes to the
// gradebook as FullyGraded; the same score again changes nothing, and the page says so.
import { translate } from "./messaging.js";

const settings = JSON.parse(document.getElementById("settings").textContent);
const t = (key, values) => translate(settings.messages, key, values);
const form = document.getElementById("grade-form");
const status = document.getElementById("grade-status");
const save = document.getElementById("grade-save");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  save.disabled = true;
  status.textContent = t("saving");
  try {
    const reply = await fetch(settings.review.gradeUrl, {
      method: "POST",
      headers: { Accept: "application/json" },
      body: new URLSearchParams(new FormData(form)),
    });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(body.error?.message || t("httpError", { status: reply.status }));
    status.textContent =
      body.status === "unchanged"
        ? t("gradeUnchanged")
        : t("gradeSaved", { status: body.lms_status });
  } catch (error) {
    status.textContent = t("notSaved", { reason: error.message });
  } finally {
    save.disabled = false;
  }
});
