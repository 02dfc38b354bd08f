/* Appended to Vega in the book's chart bundle (coursepack/assets.py): draw a compiled Vega spec into an
 * element as SVG. Vega puts the chart's bound controls (sliders, menus) in a .vega-bindings block inside
 * the same element.
 *
 * For touch screens: a tap on a mark shows its tooltip as a hover does (a browser's own tooltip, which
 * Vega uses by default, never shows on a phone), and controls are laid out one a line, tall enough to touch.
 */
(function () {
  "use strict";
  const CSS = `
.coursepack-chart { position: relative; max-width: 100%; }
.coursepack-chart .vega-bindings { display: flex; flex-direction: column; gap: 0.4rem; margin-top: 0.5rem; }
.coursepack-chart .vega-bind label { display: flex; flex-wrap: wrap; align-items: center; gap: 0.2rem 0.6rem; }
.coursepack-chart .vega-bind input[type=range] { flex: 1 1 10rem; max-width: 22rem; min-height: 24px;
  accent-color: var(--pst-color-primary); }
.coursepack-chart .vega-bind select { max-width: 100%; min-height: 24px; }
.coursepack-tooltip { position: absolute; z-index: 10; max-width: min(20rem, 100%); padding: 0.3rem 0.5rem;
  pointer-events: none; font-size: 0.85rem; line-height: 1.3; border-radius: 0.25rem;
  color: var(--pst-color-text-base, #222); background: var(--pst-color-background, #fff);
  border: 1px solid var(--pst-color-border, #999); box-shadow: 0 2px 6px rgba(0, 0, 0, 0.2); }
.coursepack-tooltip th { padding-right: 0.5rem; text-align: left; vertical-align: top; }`;
  document.head.append(Object.assign(document.createElement("style"), { textContent: CSS }));

  // Show Vega's tooltip value (text, or an object of named values) in a box inside the chart, near the
  // pointer and never past the chart's edges; hide it when the value is null.
  function tooltips(el) {
    const box = Object.assign(document.createElement("div"), { className: "coursepack-tooltip", hidden: true });
    box.setAttribute("aria-hidden", "true"); // the marks carry the same values for assistive technology
    return function (handler, event, item, value) {
      box.hidden = value == null || event == null;
      if (box.hidden) return;
      if (!box.isConnected) el.append(box); // after Vega has filled the element
      const table = document.createElement("table");
      const entries = typeof value === "object" ? Object.entries(value) : [["", value]];
      entries.forEach(([key, text]) => {
        const row = table.insertRow();
        if (key) row.append(Object.assign(document.createElement("th"), { textContent: key }));
        row.insertCell().textContent = String(text);
      });
      box.replaceChildren(table);
      const area = el.getBoundingClientRect();
      const x = Math.min(event.clientX - area.left + 12, el.clientWidth - box.offsetWidth);
      box.style.left = Math.max(0, x) + "px";
      box.style.top = (event.clientY - area.top + 14) + "px";
    };
  }

  window.coursepackDraw = function (el, spec) {
    const show = tooltips(el);
    const view = new vega.View(vega.parse(spec), { container: el, renderer: "svg", hover: true, tooltip: show });
    // A tap fires click but no pointer move: show the tapped mark's tooltip, or hide it off the marks.
    view.addEventListener("click", (event, item) => show(null, event, item, item && item.tooltip));
    return view.runAsync();
  };
})();
