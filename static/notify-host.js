// On a gateway message page inside a host's iframe: tell the host page what happened
// ("expired", or "error" with its code and message), addressed to the framing page's own
// origin once it is known to be one of the host's, never "*".
import { parentOrigin } from "./messaging.js";

const notify = JSON.parse(document.getElementById("notify").textContent);
parentOrigin(notify.origins).then((origin) => {
  if (origin) {
    window.parent.postMessage({ namespace: "cocalc-gateway", type: "event", event: notify.event, data: notify.data }, origin);
  }
});
