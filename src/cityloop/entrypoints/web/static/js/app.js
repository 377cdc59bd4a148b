// cityloop pages: live refresh, keyboard navigation, photo zoom, typeahead. No framework
// beyond htmx; everything works without this file too (links and forms are real).

// -- live refresh: the server says a case changed; htmx elements listening for
// `cases-changed` reload themselves (throttled), keeping scroll and selection.
function listen() {
  if (!window.EventSource || !document.body.dataset.live) return;
  const source = new EventSource("/events");
  source.addEventListener("case", (event) => {
    let detail = {};
    try { detail = JSON.parse(event.data); } catch (e) { /* keep empty */ }
    document.body.dispatchEvent(new CustomEvent("cases-changed", { detail }));
    const here = document.body.dataset.case;
    if (here && detail.number === here) {
      document.body.dispatchEvent(new CustomEvent("this-case-changed", { detail }));
    }
  });
}

// -- keyboard navigation of dense tables: j/k or arrows move, Enter opens, / filters.
let selected = null;

function rows(table) {
  return Array.from(table.querySelectorAll("tbody tr[data-href]"));
}

function select(table, row) {
  rows(table).forEach((r) => r.classList.remove("selected"));
  if (!row) return;
  row.classList.add("selected");
  row.setAttribute("aria-selected", "true");
  selected = row.dataset.number || null;
  row.scrollIntoView({ block: "nearest" });
}

function keynav(event) {
  const target = event.target;
  const typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing) {
    const box = document.querySelector("[data-hotkey='/']");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
    return;
  }
  if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
  const table = document.querySelector("table[data-keynav]");
  if (!table) return;
  const list = rows(table);
  if (!list.length) return;
  let index = list.findIndex((r) => r.classList.contains("selected"));
  if (event.key === "j" || event.key === "ArrowDown") {
    index = Math.min(list.length - 1, index + 1);
    select(table, list[index]); event.preventDefault();
  } else if (event.key === "k" || event.key === "ArrowUp") {
    index = Math.max(0, index - 1);
    select(table, list[index]); event.preventDefault();
  } else if (event.key === "Enter" && index >= 0) {
    window.location.href = list[index].dataset.href; event.preventDefault();
  }
}

function clickRow(event) {
  const row = event.target.closest("table[data-keynav] tbody tr[data-href]");
  if (!row || event.target.closest("a, button, input, select")) return;
  select(row.closest("table"), row);
  window.location.href = row.dataset.href;
}

// After a live refresh the rows are new: select the same case again.
function reselect(event) {
  const table = event.target.closest && event.target.closest("table[data-keynav]");
  if (!table || !selected) return;
  const row = rows(table).find((r) => r.dataset.number === selected);
  if (row) row.classList.add("selected");
}

// -- photos: click a thumbnail to see it whole.
function zoom(event) {
  const img = event.target.closest("img[data-full]");
  if (!img) return;
  event.preventDefault();
  let dialog = document.getElementById("zoom");
  if (!dialog) {
    dialog = document.createElement("dialog");
    dialog.id = "zoom";
    dialog.className = "zoom";
    dialog.innerHTML = "<img alt=''>";
    dialog.addEventListener("click", () => dialog.close());
    document.body.appendChild(dialog);
  }
  const big = dialog.querySelector("img");
  big.src = img.dataset.full;
  big.alt = img.alt;
  dialog.showModal();
}

// -- typeahead: <input data-suggest="/url?q="> fills a list; choosing sets the hidden field
// named by data-target and the visible text.
function suggest(input) {
  const box = input.closest(".suggest");
  const list = box.querySelector("ul");
  const hidden = box.querySelector("input[type=hidden]");
  let timer = null;
  let active = -1;
  const choose = (li) => {
    hidden.value = li.dataset.value;
    input.value = li.dataset.text;
    list.hidden = true;
    hidden.dispatchEvent(new Event("change", { bubbles: true }));
    if (input.dataset.pickPosition !== undefined) placeAt(li.dataset.value);
  };
  input.addEventListener("input", () => {
    hidden.value = "";
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (!q) { list.hidden = true; return; }
      const response = await fetch(input.dataset.suggest + encodeURIComponent(q),
        { headers: { "HX-Request": "true" } });
      list.innerHTML = await response.text();
      list.hidden = !list.children.length;
      active = -1;
    }, 120);
  });
  input.addEventListener("keydown", (event) => {
    const items = Array.from(list.children);
    if (list.hidden || !items.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      items.forEach((li, i) => li.classList.toggle("active", i === active));
      event.preventDefault();
    } else if (event.key === "Enter" && active >= 0) {
      choose(items[active]); event.preventDefault();
    } else if (event.key === "Escape") {
      list.hidden = true;
    }
  });
  list.addEventListener("mousedown", (event) => {
    const li = event.target.closest("li[data-value]");
    if (li) { event.preventDefault(); choose(li); }
  });
  input.addEventListener("blur", () => setTimeout(() => { list.hidden = true; }, 150));
}

// A chosen address ("lon,lat") fills the position fields of the picking map and moves it.
function placeAt(value) {
  const [x, y] = value.split(",").map(Number);
  const map = document.querySelector("[data-pick]");
  if (!map || !Number.isFinite(x) || !Number.isFinite(y)) return;
  const [lonId, latId] = map.dataset.pick.split(",");
  document.getElementById(lonId).value = x.toFixed(6);
  const lat = document.getElementById(latId);
  lat.value = y.toFixed(6);
  lat.dispatchEvent(new Event("change", { bubbles: true }));
  if (map.moveTo) map.moveTo(x, y);
}

function init(root) {
  root.querySelectorAll("input[data-suggest]:not([data-ready])").forEach((input) => {
    input.dataset.ready = "1";
    suggest(input);
  });
}

document.addEventListener("keydown", keynav);
document.addEventListener("click", clickRow);
document.addEventListener("click", zoom);
document.addEventListener("htmx:afterSwap", reselect);
document.addEventListener("htmx:load", (event) => init(event.target));
document.addEventListener("DOMContentLoaded", () => { init(document); listen(); });
