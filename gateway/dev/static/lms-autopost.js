// The demo LMS posts its launch form at once (as LMSs do).
document.getElementById("autopost").submit();
