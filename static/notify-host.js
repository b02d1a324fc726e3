// On a gateway message page inside a host's iframe: tell the host page what happened
// ("expired", or "error" with its code and message), addressed to the host's allowed
// origins only, never "*".
const notify = JSON.parse(document.getElementById("notify").textContent);
if (window.parent !== window) {
  for (const origin of notify.origins) {
    window.parent.postMessage({ namespace: "cocalc-gateway", type: "event", event: notify.event, data: notify.data }, origin);
  }
}
