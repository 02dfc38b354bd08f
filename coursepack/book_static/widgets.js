/* Saved ipywidgets state in the HTML book, served from the book itself (coursepack/assets.py).
 *
 * myst-nb adds this script (nb_ipywidgets_js in _config.yml) only to pages with saved widget state.
 * The widget manager (require.js + @jupyter-widgets/html-manager, about 3.7 MB) is loaded when a
 * reader first scrolls near a widget, so a reader who never gets there does not pay for it.
 */
(function () {
  "use strict";
  const folder = document.currentScript.src.replace(/[^/]*$/, "");
  // The manager's modules locate their fonts from their module URLs: map them all into this folder.
  const here = folder.slice(0, -1);
  window.require = { paths: { "@jupyter-widgets": here, "@jupyter-widgets/html-manager/dist": here } };

  function load(name) {
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = folder + name;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + script.src)); };
      document.head.appendChild(script);
    });
  }

  // ipywidgets' slider handles (role="slider") have no accessible name: use the widget's description.
  let labels = 0;
  function nameSliders() {
    document.querySelectorAll(".widget-slider [role=slider]:not([aria-labelledby])").forEach(function (handle) {
      const label = handle.closest(".widget-slider").querySelector(".widget-label");
      if (!label || !label.textContent.trim()) return;
      label.id = label.id || "coursepack-widget-label-" + (++labels);
      handle.setAttribute("aria-labelledby", label.id);
    });
  }

  // Start once a widget is less than a screen below the viewport, or above it (the reader jumped past).
  function watch() {
    const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
    function check() {
      const near = Array.prototype.some.call(views, function (view) {
        return view.parentElement.getBoundingClientRect().top < 2 * window.innerHeight;
      });
      if (!near) return;
      window.removeEventListener("scroll", check);
      new MutationObserver(nameSliders).observe(document.body, { childList: true, subtree: true });
      load("require.js").then(function () { return load("embed-amd.js"); });
    }
    window.addEventListener("scroll", check, { passive: true });
    check();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", watch);
  else watch();
})();
