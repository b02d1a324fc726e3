// "Hand in" on the embed page of an LTI launch with grades: the gateway copies the file to
// the course's hand-in folder and tells the LMS it was submitted; the instructor grades it.
const settings = JSON.parse(document.getElementById("settings").textContent);
const button = document.getElementById("hand-in");
const status = document.getElementById("hand-in-status");

button.addEventListener("click", async () => {
  button.disabled = true;
  status.textContent = "Handing in…";
  try {
    const reply = await fetch(settings.handInUrl, {
      method: "POST",
      headers: { Accept: "application/json" },
    });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(body.error?.message || `error ${reply.status}`);
    const when = new Date(body.handed_in_at).toLocaleTimeString();
    status.textContent = `Handed in at ${when}: your instructor can grade it now.`;
    button.textContent = "Hand in again";
  } catch (error) {
    status.textContent = `Not handed in: ${error.message}`;
  } finally {
    button.disabled = false;
  }
});
