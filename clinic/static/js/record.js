// The nurse's record: count the post-infusion observation down each 15 s.
// The page works without this file; the server already wrote the minutes left.
(function () {
  "use strict";
  var timer = document.querySelector(".timer[data-observe-until]");
  if (!timer) { return; }
  var until = Date.parse(timer.dataset.observeUntil);
  var label = timer.dataset.untilLabel;
  var text = timer.querySelector(".timer-text");
  if (!(until > 0) || !text) { return; }

  function update() {
    var left = Math.ceil((until - Date.now()) / 60000);
    var strong = document.createElement("strong");
    text.textContent = "";
    if (left > 0) {
      strong.textContent = left + " min";
      text.appendChild(strong);
      text.appendChild(document.createTextNode(" of observation left (until " + label + ")"));
    } else {
      text.textContent = "Observation time is over (since " + label + ")";
      timer.classList.add("over");
    }
  }

  update();
  window.setInterval(update, 15000);
})();
