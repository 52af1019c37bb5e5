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
  var lead = document.getElementById("you-lead");
  var outbid = document.getElementById("outbid");
  var reserve = document.getElementById("reserve-unmet");
  var wasLeading = lead && !lead.hidden;
  // The amount the page suggested (none after a refusal: the member's amount stays as typed),
  // raised with the next minimum unless the member typed another.
  var suggested = amount ? amount.getAttribute("data-suggested") : null;
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
        text("price-label", state.price_label);
        text("leading", state.price);
        text("lot-status", state.status);
        text("ends-at", state.ends_at);
        text("next-minimum-value", String(state.next_minimum));
        if (reserve) { reserve.hidden = !state.reserve_unmet; }
        if (lead) { lead.hidden = !state.leading; }
        // Said once, in the status region, when someone takes the lead from you.
        if (outbid && wasLeading && !state.leading) { outbid.hidden = false; }
        if (state.leading) { wasLeading = true; if (outbid) { outbid.hidden = true; } }
        if (amount) {
          amount.min = String(state.next_minimum);
          if (amount.value === suggested && Number(amount.value) < state.next_minimum) {
            amount.value = String(state.next_minimum);
            suggested = amount.value;
          }
        }
        if (state.open) { schedule(); }
      })
      .catch(schedule);
  }
  function schedule() { window.setTimeout(refresh, 3000); }
  schedule();
})();
