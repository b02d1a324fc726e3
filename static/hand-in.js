// "Hand in" on the embed page of an LTI launch with grades: the gateway copies the file to
// the course's hand-in folder and tells the LMS it was submitted; the instructor grades it.
import { translate } from "./messaging.js";

const settings = JSON.parse(document.getElementById("settings").textContent);
const t = (key, values) => translate(settings.messages, key, values);
const button = document.getElementById("hand-in");
const status = document.getElementById("hand-in-status");

button.addEventListener("click", async () => {
  button.disabled = true;
  status.textContent = t("handingIn");
  try {
    const reply = await fetch(settings.handInUrl, {
      method: "POST",
      headers: { Accept: "application/json" },
    });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(body.error?.message || t("httpError", { status: reply.status }));
    // The time in the page's language, not the browser's (they may differ).
    const when = new Date(body.handed_in_at).toLocaleTimeString(document.documentElement.lang || undefined);
    status.textContent = t("handedIn", { time: when });
    button.textContent = t("handInAgain");
  } catch (error) {
    status.textContent = t("notHandedIn", { reason: error.message });
  } finally {
    button.disabled = false;
  }
});
