// Day schedule: keep the server-drawn "now" line moving while the page stays open.
// The page works without this file; it only moves the line each minute.
(function () {
  "use strict";
  var grid = document.querySelector(".timeline[data-today]");
  if (!grid) { return; }
  var opens = Date.parse(grid.dataset.opens);
  var slotMs = Number(grid.dataset.slotMinutes) * 60000;
  var slots = Number(grid.dataset.slots);
  var firstColumn = Number(grid.dataset.firstColumn);
  var lines = grid.querySelectorAll(".now");
  if (!lines.length || !(slotMs > 0)) { return; }

  function place() {
    var offset = Date.now() - opens;
    var index = Math.floor(offset / slotMs);
    var inside = index >= 0 && index < slots;
    var tenth = inside ? Math.min(9, Math.floor(((offset % slotMs) / slotMs) * 10)) : 0;
    lines.forEach(function (line) {
      var kept = line.className.replace(/\b[cf]-\d+\b/g, " ").replace(/\s+/g, " ").trim();
      line.className = kept + " c-" + (firstColumn + (inside ? index : 0)) + " f-" + tenth;
      line.hidden = !inside;
    });
  }

  place();
  window.setInterval(place, 60000);
})();
