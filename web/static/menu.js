// Menus of the top bar (<details class="nav-menu">): one open at a time, closed by Escape
// or a click elsewhere. Without this script they still open and close on their summary.
(function () {
  "use strict";
  function menus() { return document.querySelectorAll(".nav-menu details[open]"); }
  document.addEventListener("click", function (event) {
    menus().forEach(function (menu) {
      if (!menu.contains(event.target)) { menu.removeAttribute("open"); }
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    menus().forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });
})();
