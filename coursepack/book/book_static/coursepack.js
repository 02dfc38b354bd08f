/* Accessibility fixes for the stock theme, on every page of the book (coursepack/assets.py). */
(function () {
  "use strict";
  // The search buttons show "Search Ctrl+K" but are named "Search" (axe: label-content-name-mismatch):
  // let the visible text be the name, and announce the shortcut properly.
  document.querySelectorAll(".search-button-field[aria-label]").forEach(function (button) {
    button.removeAttribute("aria-label");
    button.setAttribute("aria-keyshortcuts", "Control+K");
  });
})();
