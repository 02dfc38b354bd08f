/* Accessibility fixes for the stock theme and the book's own boxes, on every page (coursepack/assets.py). */
(function () {
  "use strict";
  // The search buttons show "Search Ctrl+K" but are named "Search" (axe: label-content-name-mismatch):
  // let the visible text be the name, and announce the shortcut properly.
  document.querySelectorAll(".search-button-field[aria-label]").forEach(function (button) {
    button.removeAttribute("aria-label");
    button.setAttribute("aria-keyshortcuts", "Control+K");
  });

  // A formula or saved widget wider than the column scrolls in its own box (coursepack.css, widgets.js):
  // let the keyboard reach it (axe: scrollable-region-focusable), as the theme does for tables and code.
  function tabStops() {
    document.querySelectorAll(".math-block, .coursepack-widget-html").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) box.tabIndex = 0;
      else box.removeAttribute("tabindex");
    });
  }
  window.addEventListener("load", tabStops); // after widgets.js has drawn the saved widgets
  window.addEventListener("resize", tabStops);
})();
