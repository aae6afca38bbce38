/* The day chips scroll sideways on a phone; after a day is picked the page
   reloads with the row scrolled back to its start, hiding the chosen day.
   Bring the chosen chip into view (the row only, never the page). Without
   script the row still works: the legend below names the chosen day. */
(function () {
  "use strict";
  var chosen = document.querySelector(".day-chips [aria-current='true']");
  if (!chosen) return;
  var row = chosen.closest("ul");
  var offset = chosen.getBoundingClientRect().left - row.getBoundingClientRect().left;
  row.scrollLeft = Math.max(0, row.scrollLeft + offset - (row.clientWidth - chosen.offsetWidth) / 2);
})();
