// LTI Dynamic Registration: tell the LMS that registration is finished, so it closes
// the window or frame it opened (the message carries nothing secret).
(window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*");
