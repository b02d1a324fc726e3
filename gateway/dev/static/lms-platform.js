// The demo LMS's side of LTI platform storage (1EdTech "LTI Client Side postMessages"):
// a tool framed by this page may keep values here (lti.put_data) and read them back
// (lti.get_data). Values are kept per tool origin, as the specification asks.
(function () {
  "use strict";
  var store = {};
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.subject !== "string") return;
    var origin = event.origin;
    var reply = { message_id: data.message_id, key: data.key };
    if (data.subject === "lti.capabilities") {
      reply.subject = "lti.capabilities.response";
      reply.supported_messages = [{ subject: "lti.put_data" }, { subject: "lti.get_data" }];
    } else if (data.subject === "lti.put_data") {
      store[origin + " " + data.key] = data.value;
      reply.subject = "lti.put_data.response";
      reply.value = data.value;
    } else if (data.subject === "lti.get_data") {
      reply.subject = "lti.get_data.response";
      reply.value = store[origin + " " + data.key];
    } else {
      return;
    }
    event.source.postMessage(reply, origin);
  });
})();
