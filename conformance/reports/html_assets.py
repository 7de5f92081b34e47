"""The inline stylesheet and script of the HTML matrix (no external assets, no CDN).

The script reads its filter from the URL fragment or query (``#status=failed&area=HOOK&q=
sampler``) and writes it back there, so a filtered view is a link one can share.
"""

from __future__ import annotations

__all__ = ["SCRIPT", "STYLE"]

STYLE = """
:root { --bar: 96px; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328; background: #f6f8fa; }
body { margin: 0; }
[hidden] { display: none !important; }
header.bar { position: sticky; top: 0; z-index: 3; background: #fff; padding: 10px 20px;
  border-bottom: 1px solid #d0d7de; box-shadow: 0 1px 4px rgba(31, 35, 40, .08); }
h1 { font-size: 18px; margin: 0 12px 0 0; display: inline; }
h2 { font-size: 16px; margin: 28px 0 8px; }
.meta { color: #57606a; font-size: 13px; }
form { display: flex; flex-wrap: wrap; gap: 6px 18px; align-items: center; margin-top: 8px;
  font-size: 13px; }
.group { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.group > b { color: #57606a; margin-right: 2px; }
label.chip { display: inline-flex; gap: 4px; align-items: center; padding: 1px 9px;
  border: 1px solid #d0d7de; border-radius: 999px; background: #f6f8fa; cursor: pointer;
  user-select: none; }
label.chip:has(input:checked) { background: #ddf4ff; border-color: #54aeff; }
label.chip input { margin: 0; }
button.all { font-size: 12px; border: 0; background: none; color: #0969da; cursor: pointer; }
#open-failures { font-size: 12px; border: 1px solid #d0d7de; border-radius: 6px;
  background: #f6f8fa; padding: 3px 8px; cursor: pointer; }
tr.clause-row { scroll-margin-top: calc(var(--bar) + 90px); }
table.matrix thead th:not(.clause) { min-width: 84px; }
input[type=search] { padding: 4px 8px; border: 1px solid #d0d7de; border-radius: 6px;
  min-width: 240px; font-size: 13px; }
#shown { color: #57606a; margin-left: auto; }
main { padding: 0 20px 40px; }
table { border-collapse: separate; border-spacing: 0; background: #fff; font-size: 13px; }
table.matrix { width: 100%; margin-top: 14px; border: 1px solid #d0d7de; border-radius: 6px; }
table.matrix thead th { position: sticky; top: var(--bar); z-index: 2; background: #f6f8fa;
  border-bottom: 2px solid #d0d7de; padding: 6px 8px; font-weight: normal; vertical-align: bottom; }
thead .target { display: block; color: #57606a; font-size: 12px; }
thead .version { display: block; font-weight: 700; font-size: 14px; }
thead .contract { display: block; color: #8c959f; font-size: 11px; }
thead .counts { display: block; margin-top: 4px; font-size: 11px; white-space: nowrap; }
th.clause { text-align: left; font-weight: normal; padding: 5px 10px; min-width: 420px; }
tbody tr.clause-row:hover th, tbody tr.clause-row:hover td { filter: brightness(.96); }
tbody th, tbody td { border-bottom: 1px solid #eaeef2; }
.id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-weight: 600;
  margin-right: 6px; }
tr.area-row th { background: #eaeef2; text-align: left; padding: 7px 10px; font-size: 14px; }
tr.area-row small { color: #57606a; font-weight: normal; margin-left: 8px; }
td.c { text-align: center; white-space: nowrap; width: 1%; padding: 4px 10px; cursor: default; }
.k-passed { background: #fff; color: #1a7f37; }
label .k-passed, .legend .k-passed, thead .k-passed { background: #dafbe1; }
.k-variant { background: #ddf4ff; color: #0969da; }
.k-warned { background: #fff1e5; color: #bc4c00; }
.k-failed { background: #ffebe9; color: #cf222e; font-weight: 700; }
.k-skipped { background: #f6f8fa; color: #6e7781; }
.k-deviation { background: #fff8c5; color: #9a6700; }
.k-stale { background: #fbefff; color: #8250df; }
.k-missing { background: #fff; color: #afb8c1; }
details.fail summary { color: #cf222e; cursor: pointer; font-size: 12px; margin-top: 3px; }
details.fail pre, details.change pre { white-space: pre-wrap; word-break: break-word;
  background: #fff8f7; border: 1px solid #ffcecb; border-radius: 6px; padding: 8px;
  font-size: 12px; max-height: 420px; overflow: auto; margin: 4px 0 8px; }
.where { font-size: 12px; font-weight: 600; margin-top: 6px; }
details.change { margin: 6px 0; background: #fff; border: 1px solid #d0d7de; border-radius: 6px;
  padding: 6px 10px; }
details.change summary { cursor: pointer; font-weight: 600; }
table.diff { width: 100%; margin-top: 6px; }
table.diff td:first-child { width: 16em; }
a.ref { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; color: #0969da;
  text-decoration: none; white-space: nowrap; }
a.ref:hover { text-decoration: underline; }
section { scroll-margin-top: var(--bar); }
table.diff th, table.diff td { text-align: left; vertical-align: top; padding: 5px 8px;
  border-bottom: 1px solid #eaeef2; }
.legend span { padding: 1px 7px; border-radius: 4px; margin-right: 4px; font-size: 12px; }
footer { color: #57606a; font-size: 12px; margin-top: 24px; }
"""

SCRIPT = """
(function () {
  const form = document.getElementById("filters");
  const rows = Array.from(document.querySelectorAll("tr.clause-row"));
  const areaRows = Array.from(document.querySelectorAll("tr.area-row"));
  const boxes = (name) => Array.from(form.querySelectorAll("input[name=" + name + "]"));
  const chosen = (name) => new Set(boxes(name).filter((b) => b.checked).map((b) => b.value));

  function apply(remember) {
    const areas = chosen("area"), kinds = chosen("status");
    const words = form.elements.q.value.trim().toLowerCase();
    const perArea = {};
    let shown = 0;
    for (const row of rows) {
      const visible = areas.has(row.dataset.area)
        && row.dataset.kinds.split(" ").some((kind) => kinds.has(kind))
        && (!words || row.dataset.text.includes(words));
      row.hidden = !visible;
      if (visible) { shown += 1; perArea[row.dataset.area] = true; }
    }
    for (const row of areaRows) row.hidden = !perArea[row.dataset.area];
    document.getElementById("shown").textContent =
      shown + " of " + rows.length + " clauses shown";
    if (remember) history.replaceState(null, "", "#" + fragment());
  }

  function fragment() {
    const parts = new URLSearchParams();
    for (const name of ["area", "status"]) {
      if (boxes(name).some((b) => !b.checked)) parts.set(name, [...chosen(name)].join(","));
    }
    if (form.elements.q.value) parts.set("q", form.elements.q.value);
    return parts.toString();
  }

  function restore() {
    const text = location.hash.slice(1) || location.search.slice(1);
    const parts = new URLSearchParams(text);
    for (const name of ["area", "status"]) {
      if (!parts.has(name)) continue;
      const wanted = new Set(parts.get(name).split(",").map((v) => v.trim()));
      for (const box of boxes(name)) box.checked = wanted.has(box.value);
    }
    if (parts.has("q")) form.elements.q.value = parts.get("q");
    if (parts.get("open") === "failures") openFailures(true);
  }

  function openFailures(open) {
    for (const details of document.querySelectorAll("details.fail")) details.open = open;
  }

  function fitHeader() {
    const bar = document.querySelector("header.bar").offsetHeight;
    document.documentElement.style.setProperty("--bar", bar + "px");
  }

  form.addEventListener("input", () => apply(true));
  form.addEventListener("submit", (event) => event.preventDefault());
  for (const button of form.querySelectorAll("button.all")) {
    button.addEventListener("click", () => {
      const all = boxes(button.dataset.name);
      const check = all.some((b) => !b.checked);
      for (const box of all) box.checked = check;
      apply(true);
    });
  }
  document.getElementById("open-failures").addEventListener("click", () => {
    openFailures(!document.querySelector("details.fail:not([open])") ? false : true);
  });
  window.addEventListener("resize", fitHeader);
  window.addEventListener("hashchange", () => { restore(); apply(false); });
  restore();
  apply(false);
  fitHeader();
  document.body.dataset.ready = "1";
})();
"""
