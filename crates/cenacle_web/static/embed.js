/* Cénacle widgets: put <div data-cenacle-widget="answers" data-tag="router"></div> (or
   "ask" with data-group, or "card" with data-person) where a widget goes, and this script
   once after them. Each becomes a frame of the community's widget page; only the sites the
   community lists in web.widget_origins may show them. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var base = new URL(script.src).origin;
  var heights = { answers: 420, ask: 200, card: 270 };
  var nodes = document.querySelectorAll("[data-cenacle-widget]");
  Array.prototype.forEach.call(nodes, function (el) {
    if (el.getAttribute("data-cenacle-done")) { return; }
    el.setAttribute("data-cenacle-done", "1");
    var kind = el.getAttribute("data-cenacle-widget");
    var path;
    if (kind === "card") {
      path = "/widgets/people/" + encodeURIComponent(el.getAttribute("data-person") || "") + "/card";
    } else if (kind === "answers" || kind === "ask") {
      path = "/widgets/" + kind;
    } else {
      return;
    }
    var query = new URLSearchParams();
    ["tag", "group", "lang", "limit"].forEach(function (key) {
      var value = el.getAttribute("data-" + key);
      if (value) { query.set(key, value); }
    });
    var frame = document.createElement("iframe");
    frame.src = base + path + (query.toString() ? "?" + query.toString() : "");
    frame.title = el.getAttribute("data-title") || "Community";
    frame.loading = "lazy";
    frame.style.border = "0";
    frame.style.width = "100%";
    frame.style.height = (el.getAttribute("data-height") || heights[kind]) + "px";
    el.appendChild(frame);
  });
})();
