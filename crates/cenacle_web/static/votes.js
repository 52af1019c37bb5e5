/* Vote buttons without reloading the page: the same form, sent in the background; the score
   and the pressed button change in place (the score keeps its width: nothing moves). Without
   this script the form posts and the page comes back at the same place. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-vote")) { return; }
    var button = event.submitter;
    if (!button || button.name !== "vote") { return; }
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    body.set("vote", button.value);
    var buttons = form.querySelectorAll("button[name=vote]");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (state) {
      form.querySelector(".score").textContent = String(state.score);
      form.querySelector("input[name=was]").value = state.mine;
      buttons.forEach(function (b) {
        b.setAttribute("aria-pressed", b.value === state.mine ? "true" : "false");
      });
    }).catch(function () {
      // The plain form then, to show the page (or the error) as without the script.
      var chosen = document.createElement("input");
      chosen.type = "hidden";
      chosen.name = "vote";
      chosen.value = button.value;
      form.appendChild(chosen);
      form.submit();
    }).finally(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  });
})();
