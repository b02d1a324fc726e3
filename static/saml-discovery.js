// The discovery page: narrow the list of institutions as the user types. Without this
// script the whole list works as it is (each entry is a submit button of the form).
const search = document.getElementById("idp-search");
const count = document.getElementById("idp-count");
const entries = Array.from(document.querySelectorAll("#idps li"));

const fold = (text) => text.normalize("NFKD").replace(/\p{M}/gu, "").toLocaleLowerCase();

function say(shown) {
  const template = shown === 0 ? count.dataset.none : shown === 1 ? count.dataset.one : count.dataset.many;
  // The page's messages carry "{num}" where the count goes (translated on the server).
  count.textContent = template.replace("{num}", String(shown));
}

search.addEventListener("input", () => {
  const wanted = fold(search.value.trim());
  let shown = 0;
  for (const entry of entries) {
    const name = fold(entry.querySelector("button").dataset.name || "");
    const match = wanted === "" || name.includes(wanted);
    entry.hidden = !match;
    if (match) shown += 1;
  }
  say(shown);
});

// Enter in the search field picks the only match left, as a user expects.
search.addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  const visible = entries.filter((entry) => !entry.hidden);
  if (visible.length === 1) {
    event.preventDefault();
    visible[0].querySelector("button").click();
  } else {
    event.preventDefault();
  }
});
