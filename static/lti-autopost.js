// Send the form on at once (the LMS's return URL); the button is there without scripts.
document.getElementById("autopost").submit();
