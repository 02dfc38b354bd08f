/* Saved ipywidgets state in the HTML book, drawn without a kernel (coursepack/assets.py).
 *
 * myst-nb adds this script (nb_ipywidgets_js in _config.yml) only to pages with saved widget state. It
 * draws every saved view as plain, labelled HTML controls holding the saved values: sliders, menus, boxes
 * and number fields all move, and a note says that results are recomputed only in a running notebook.
 * It is a few kilobytes where the ipywidgets HTML manager is 3.7 MB (1.9 MB minified), which alone would
 * take a chapter page past its 2 MB budget. A widget type it does not know is named in a visible notice.
 */
(function () {
  "use strict";
  const STATE = 'script[type="application/vnd.jupyter.widget-state+json"]';
  const VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]';
  const NOTE = "Saved view: the controls move here, but the results are recomputed only in a running notebook " +
    "(open it with the launch button at the top of the page).";
  const CSS = `
.coursepack-widget { margin: 0.5rem 0 1rem; }
.coursepack-widget-box { display: flex; flex-direction: column; gap: 0.4rem; }
.coursepack-widget-box.horizontal { flex-direction: row; flex-wrap: wrap; }
.coursepack-widget-row { display: flex; align-items: center; gap: 0.6rem; flex-wrap: wrap; }
.coursepack-widget-row label { min-width: 8rem; }
.coursepack-widget-row input[type=range] { flex: 1 1 12rem; max-width: 28rem; min-height: 24px;
  accent-color: var(--pst-color-primary); }
.coursepack-widget-row select, .coursepack-widget-row input[type=number] { max-width: 100%; min-height: 24px;
  color: var(--pst-color-text-base); background: var(--pst-color-background); border: 1px solid var(--pst-color-border); }
.coursepack-widget-html { max-width: 100%; overflow-x: auto; }
.coursepack-widget-row output { font-variant-numeric: tabular-nums; }
.coursepack-widget-note { font-size: 0.9em; font-style: italic; margin: 0.4rem 0 0; }`;
  let ids = 0;

  function make(tag, properties) {
    return Object.assign(document.createElement(tag), properties);
  }

  // The d3-format readouts ipywidgets uses: "d", ",d", ".2f", ",.1f", ".0%" (anything else is shown as is).
  function format(value, spec) {
    const parts = /^(,)?(?:\.(\d+))?([df%])$/.exec(spec || "");
    if (!parts) return String(value);
    const digits = parts[3] === "d" ? 0 : Number(parts[2] || 6);
    const text = (parts[3] === "%" ? value * 100 : value).toLocaleString("en-US", {
      useGrouping: Boolean(parts[1]), minimumFractionDigits: digits, maximumFractionDigits: digits });
    return parts[3] === "%" ? text + "%" : text;
  }

  // A control with its description as a real <label>, and an optional readout that follows its value.
  function labelled(state, control, readout) {
    control.id = "coursepack-widget-" + (++ids);
    control.disabled = Boolean(state.disabled);
    const row = make("div", { className: "coursepack-widget-row" });
    if (state.description) row.append(make("label", { htmlFor: control.id, textContent: state.description }));
    else control.setAttribute("aria-label", state.tooltip || "setting");
    row.append(control);
    if (readout) {
      const output = make("output", { htmlFor: control.id });
      const show = () => { output.textContent = readout(); control.setAttribute("aria-valuetext", output.textContent); };
      control.addEventListener("input", show);
      show();
      row.append(output);
    }
    return row;
  }

  function slider(state) {
    const labels = state._options_labels; // a SelectionSlider steps through labels by index
    const input = make("input", labels
      ? { type: "range", min: 0, max: labels.length - 1, step: 1, value: state.index }
      : { type: "range", min: state.min, max: state.max, step: state.step, value: state.value });
    const readout = labels ? () => labels[input.value] : () => format(Number(input.value), state.readout_format);
    return labelled(state, input, state.readout === false ? null : readout);
  }

  function menu(state, multiple) {
    const select = make("select", { multiple: multiple, size: multiple ? state.rows || 5 : 1 });
    const chosen = [].concat(state.index);
    state._options_labels.forEach((label, i) => select.append(make("option", { textContent: label, selected: chosen.includes(i) })));
    return labelled(state, select);
  }

  function field(state) {
    const numeric = /(Int|Float)Text/.test(state._model_name);
    const input = make("input", numeric
      ? { type: "number", min: state.min ?? "", max: state.max ?? "", step: state.step ?? "any", value: state.value }
      : { type: "text", value: state.value, placeholder: state.placeholder || "" });
    return labelled(state, input);
  }

  function checkbox(state) {
    const row = labelled(state, make("input", { type: "checkbox", checked: Boolean(state.value) }));
    row.append(row.querySelector("label") || ""); // the label follows the box, as in ipywidgets
    return row;
  }

  function html(state) {
    const block = make("div", { className: "coursepack-widget-html" });
    block.innerHTML = state.value; // written by the book's own notebooks, as ipywidgets' HTML widget does
    return block;
  }

  const DRAW = {
    IntSliderModel: slider, FloatSliderModel: slider, SelectionSliderModel: slider,
    DropdownModel: state => menu(state, false), SelectModel: state => menu(state, false),
    SelectMultipleModel: state => menu(state, true),
    IntTextModel: field, FloatTextModel: field, BoundedIntTextModel: field, BoundedFloatTextModel: field, TextModel: field,
    CheckboxModel: checkbox, HTMLModel: html, HTMLMathModel: html,
    LabelModel: state => make("div", { textContent: state.value }),
  };

  function draw(models, id) {
    const model = models[id];
    const state = model.state;
    let node;
    if (/^[VH]?BoxModel$/.test(model.model_name)) {
      node = make("div", { className: "coursepack-widget-box" + (model.model_name === "HBoxModel" ? " horizontal" : "") });
      state.children.forEach(child => node.append(draw(models, child.replace(/^IPY_MODEL_/, ""))));
    } else if (DRAW[model.model_name]) {
      node = DRAW[model.model_name](state);
    } else {
      node = make("p", { textContent: `(A ${model.model_name.replace(/Model$/, "")} control: it appears in a running notebook.)` });
    }
    const layout = models[(state.layout || "").replace(/^IPY_MODEL_/, "")];
    ["width", "max_width", "display", "visibility"].forEach(key => {
      if (layout && layout.state[key]) node.style[key.replace("_", "-")] = layout.state[key];
    });
    if (!node.style.maxWidth) node.style.maxWidth = "100%"; // a width set in ems never passes a phone's screen
    return node;
  }

  function render() {
    const models = {};
    document.querySelectorAll(STATE).forEach(tag => Object.assign(models, JSON.parse(tag.textContent).state));
    const views = document.querySelectorAll(VIEW);
    if (views.length) document.head.append(make("style", { textContent: CSS }));
    views.forEach(tag => {
      const id = JSON.parse(tag.textContent).model_id;
      if (!models[id]) return;
      const widget = make("div", { className: "coursepack-widget" });
      widget.append(draw(models, id), make("p", { className: "coursepack-widget-note", textContent: NOTE }));
      tag.before(widget);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
