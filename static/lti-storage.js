// LTI platform storage (1EdTech "LTI Client Side postMessages"): keep the launch's binding
// value in the LMS's own storage at login (lti.put_data), and read it back at the launch
// (lti.get_data), so the launch works where the browser keeps no cookie in frames.
// Only answers from the platform's origin count; without an answer in time, the page goes
// on anyway and the gateway decides by the login cookie alone.
(function () {
  "use strict";
  var settings = JSON.parse(document.getElementById("lti-storage").textContent);
  var ANSWER_TIMEOUT_MS = 3000;
  var messageId = "gw-" + Math.random().toString(36).slice(2) + Date.now().toString(36);
  var done = false;

  function target() {
    var parent = window.parent;
    if (settings.target && settings.target !== "_parent") {
      try {
        if (parent.frames[settings.target]) return parent.frames[settings.target];
      } catch (e) { /* a cross-origin frame list can still be named; fall back to parent */ }
    }
    return parent;
  }

  function finish(value) {
    if (done) return;
    done = true;
    if (settings.mode === "put") {
      window.location.replace(settings.next);
      return;
    }
    var form = document.getElementById("continue");
    form.elements.value.value = value || "";
    form.submit();
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== settings.origin) return;
    var data = event.data;
    if (!data || typeof data !== "object" || data.message_id !== messageId) return;
    if (data.subject !== "lti." + (settings.mode === "put" ? "put" : "get") + "_data.response") {
      return;
    }
    finish(data.error ? "" : data.value);
  });

  var request = { subject: settings.mode === "put" ? "lti.put_data" : "lti.get_data",
                  message_id: messageId, key: settings.key };
  if (settings.mode === "put") request.value = settings.value;
  if (window.parent === window) {
    finish("");  // not framed: nothing to ask
  } else {
    target().postMessage(request, settings.origin);
    window.setTimeout(function () { finish(""); }, ANSWER_TIMEOUT_MS);
  }
})();
