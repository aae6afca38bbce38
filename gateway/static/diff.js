// Phone: a change order's "Line by line" shows what changed; the unchanged
// lines (most of a contract) are one tap away. What hides them is in
// portal.css (.only-changes, at phone widths only), so a desktop keeps the
// whole side-by-side view, and a phone without scripts shows every line.
(function () {
  var section = document.querySelector(".diff-lines");
  var unchanged = section ? section.querySelectorAll("tbody tr.diff-unchanged").length : 0;
  if (!unchanged) return;
  var heading = section.querySelector("h2");
  var holder = document.createElement("p");
  holder.className = "diff-toggle";
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button-quiet button-small";
  button.setAttribute("aria-controls", section.id);
  var noun = unchanged === 1 ? "item" : "items";
  function show(collapsed) {
    section.classList.toggle("only-changes", collapsed);
    button.setAttribute("aria-expanded", String(!collapsed));
    button.textContent = collapsed
      ? "Show the " + unchanged + " unchanged " + noun
      : "Hide the unchanged " + noun;
  }
  button.addEventListener("click", function () {
    show(!section.classList.contains("only-changes"));
  });
  holder.appendChild(button);
  heading.insertAdjacentElement("afterend", holder);
  show(true);
})();
