// Phone: the main nav is one row that scrolls sideways (portal.css); bring
// the current page's item into view, so "Account" is not left off-screen on
// the account page. Nothing happens where the row fits.
(function () {
  var current = document.querySelector(".nav-list [aria-current=page]");
  var list = current && current.closest(".nav-list");
  if (list && list.scrollWidth > list.clientWidth) {
    var offset = current.getBoundingClientRect().left - list.getBoundingClientRect().left;
    list.scrollLeft += offset - (list.clientWidth - current.offsetWidth) / 2;
  }
})();
