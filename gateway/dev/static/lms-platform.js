// The demo LMS's side of LTI platform storage (1EdTech "LTI Client Side postMessages"):
// a tool framed by this page may keep values here (lti.put_data) and read them back
// (lti.get_data). Values are kept per tool origin, as the specification asks. A course
// page opened with ?fullwindow=1 also acts as Canvas does for lti.requestFullWindowLaunch:
// it advertises the message and answers it by launching the tool at top level, this
// window (Canvas's "same_window") or a new one ("new_window").
(function () {
  "use strict";
  var store = {};
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.subject !== "string") return;
    var origin = event.origin;
    var reply = { message_id: data.message_id, key: data.key };
    var fullWindow = document.body.dataset.fullWindow === "1";
    if (data.subject === "lti.capabilities") {
      reply.subject = "lti.capabilities.response";
      reply.supported_messages = [{ subject: "lti.put_data" }, { subject: "lti.get_data" }];
      if (fullWindow) reply.supported_messages.push({ subject: "lti.requestFullWindowLaunch" });
    } else if (data.subject === "lti.requestFullWindowLaunch" && fullWindow) {
      var tool = document.getElementById("tool");
      var url = data.data && data.data.url;
      if (!tool || typeof url !== "string") return;
      var launch = tool.getAttribute("src") + "&target=" + encodeURIComponent(url);
      window.__fullWindowLaunches = (window.__fullWindowLaunches || 0) + 1;
      if (data.data.launchType === "new_window") window.open(launch, "_blank");
      else window.location.assign(launch);
      return;
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
