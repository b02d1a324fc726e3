// The error page's "Try again" button: reload (a POST is re-sent by the browser on reload).
document.getElementById("retry").addEventListener("click", () => window.location.reload());
