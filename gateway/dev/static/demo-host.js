// The demo host page: asks its own server for a launch, mounts it, and drives CoCalc.
const settings = JSON.parse(document.getElementById("demo-settings").textContent);
const { mount } = await import(`${settings.gatewayUrl}/static/cocalc-embed.js`);

let embed = null;
const log = document.getElementById("log");
const buttons = ["open", "closeall", "status"].map((id) => document.getElementById(id));

function show(label, value) {
  const item = document.createElement("li");
  item.textContent = `${label}: ${JSON.stringify(value)}`;
  log.prepend(item);
}

async function call(label, promise) {
  try {
    show(label, await promise);
  } catch (error) {
    show(`${label} failed`, { code: error.code, message: error.message });
  }
}

document.getElementById("launch-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = {
    user: document.getElementById("user").value,
    path: document.getElementById("file").value,
    way: document.getElementById("way").value,
    locale: settings.locale,  // the page's language: the embed page speaks it too
  };
  const reply = await fetch("/demo/launch", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const launch = await reply.json();
  if (!reply.ok) return show("launch failed", launch);
  if (embed) embed.destroy();
  const box = document.getElementById("embed");
  box.replaceChildren();
  embed = mount(box, { url: launch.url, token: launch.token });
  window.demoEmbed = embed;  // for the browser tests and for trying things in the console
  embed.on("project-log", (entry) => show("project-log", entry && entry.event));
  embed.on("expired", () => show("event", "expired: ask for a new launch"));
  buttons.forEach((b) => { b.disabled = true; });
  await call("ready", embed.ready());
  buttons.forEach((b) => { b.disabled = false; });
});

// The button starts disabled: a click before the SDK is loaded and the handler attached
// would submit the form natively and reload the page (seen in CI, on a busy machine).
document.getElementById("launch").disabled = false;

document.getElementById("open").addEventListener("click", () =>
  call("open", embed.open({ path: document.getElementById("file").value }, { onAck: () => show("open", "ack") })));
document.getElementById("closeall").addEventListener("click", () => call("closeAll", embed.closeAll()));
document.getElementById("status").addEventListener("click", () => call("status", embed.status()));
