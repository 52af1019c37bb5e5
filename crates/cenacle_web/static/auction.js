/* A lot's page kept live: the leading bid, the next minimum, the end (pushed back by late
   bids) and whether you still lead, read every few seconds from the page's own JSON (worded in
   the page's language), so an outbid shows without reloading. Nothing moves: only texts change.
   Without this script the page is the same, as of when it was loaded. */
(function () {
  "use strict";
  var lot = document.querySelector("[data-auction][data-live]");
  if (!lot) { return; }
  var url = "/auctions/" + lot.getAttribute("data-auction") + "/live";
  var amount = document.getElementById("amount");
  function text(id, value) {
    var el = document.getElementById(id);
    if (el && el.textContent !== value) { el.textContent = value; }
  }
  function refresh() {
    if (document.hidden) { return schedule(); }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (state) {
        text("leading", state.price);
        text("lot-status", state.status);
        text("ends-at", state.ends_at);
        text("next-minimum-value", String(state.next_minimum));
        var lead = document.getElementById("you-lead");
        if (lead) { lead.hidden = !state.leading; }
        if (amount) {
          amount.min = String(state.next_minimum);
          // Raise the suggested amount, unless the member is typing one.
          if (document.activeElement !== amount && Number(amount.value) < state.next_minimum) {
            amount.value = String(state.next_minimum);
          }
        }
        if (state.open) { schedule(); }
      })
      .catch(schedule);
  }
  function schedule() { window.setTimeout(refresh, 3000); }
  schedule();
})();
