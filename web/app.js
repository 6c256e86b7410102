// The playground page: one <klp-playground> with every panel, plus what
// only a whole page has — examples, share links in the URL fragment,
// export/import of scenario text, keyboard shortcuts and their help sheet.

import "./widget.js";
import { decode, fragmentValue, linkFor } from "./lib/share.js";
import { download } from "./lib/dom.js";
import { mountExplore } from "./lib/explore.js";

const pg = document.getElementById("pg");
const banner = document.getElementById("banner");
const bannerText = document.getElementById("banner-text");
const examples = document.getElementById("examples");
const status = document.getElementById("page-status");
const shareOut = document.getElementById("share-out");
const help = document.getElementById("help");

let exampleList = [];

function showBanner(msg) {
  bannerText.textContent = msg;
  banner.hidden = false;
}

function say(msg) {
  status.textContent = msg;
}

async function fetchText(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.text();
}

// Example texts fetched ahead of need: the first example is fetched while
// the simulator loads, so that it is there when the simulator is.
const early = new Map(); // file → Promise of its text

function fetchExample(file) {
  const p = early.get(file);
  early.delete(file);
  return p || fetchText(`examples/${file}`);
}

async function loadExampleList() {
  try {
    exampleList = JSON.parse(await fetchText("examples/index.json"));
  } catch (e) {
    exampleList = [{ file: "default.klp", title: "default" }];
    showBanner(`The example list could not be loaded (${e.message}).`);
  }
  const first = exampleList[0]?.file;
  if (first && !fragmentValue(location.hash)) {
    const p = fetchText(`examples/${first}`);
    p.catch(() => {}); // reported when it is used
    early.set(first, p);
  }
  examples.replaceChildren(...exampleList.map((x) => {
    const o = document.createElement("option");
    o.value = x.file;
    o.textContent = x.title;
    return o;
  }));
}

async function loadExample(file) {
  const text = await fetchExample(file);
  pg.load(text);
  say(`Loaded example: ${exampleList.find((x) => x.file === file)?.title || file}`);
}

/** Opens what the URL asks for: a share link, or the default example. */
async function open() {
  const frag = fragmentValue(location.hash);
  if (frag) {
    try {
      const text = await decode(frag);
      pg.load(text);
      say("Opened the session from the link.");
      examples.value = "";
      return;
    } catch (e) {
      showBanner(`This link could not be opened: ${e.message}. The default scenario is shown instead.`);
      history.replaceState(null, "", location.pathname + location.search);
    }
  }
  await loadExample(exampleList[0]?.file || "default.klp");
}

// Keep the URL in step with the session, so reload and bookmarks give it
// back. Compressing is async and not free: wait until changes pause.
let urlTimer = 0;
function scheduleURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(async () => {
    if (pg.session?.playing) return scheduleURL();
    try {
      const href = await linkFor(pg.shareSource());
      history.replaceState(null, "", href);
    } catch {
      // an over-long session simply keeps the old URL
    }
  }, 800);
}

async function share() {
  const href = await linkFor(pg.shareSource());
  history.replaceState(null, "", href);
  shareOut.value = href;
  shareOut.hidden = false;
  try {
    await navigator.clipboard.writeText(href);
    say(`Share link copied (${href.length} characters).`);
  } catch {
    shareOut.select();
    say("Share link below: copy it by hand (the clipboard is not available here).");
  }
}

function exportScenario() {
  download("klp-session.klp", pg.source());
  say("Exported the session as klp-session.klp.");
}

async function importScenario(file) {
  if (file.size > 1 << 20) {
    showBanner(`${file.name} is too large (${file.size} bytes) to be a scenario.`);
    return;
  }
  const text = await file.text();
  try {
    pg.load(text);
    banner.hidden = true;
    examples.value = "";
    say(`Imported ${file.name}.`);
  } catch (e) {
    showBanner(`${file.name} could not be loaded: ${e.message}`);
  }
}

// --- keyboard ------------------------------------------------------------

const SHORTCUTS = [
  ["?", "show this help"],
  ["/", "focus the console"],
  ["Space or k", "play / pause simulated time"],
  [".", "step (advance by the step size)"],
  ["s", "settle: run until the transition ends"],
  ["u", "open the Until… menu: run time to the next event of a kind"],
  ["[ or ←", "back one step in the timeline (undo)"],
  ["] or →", "forward one step (redo)"],
  ["f", "fork from here (drop the later steps)"],
  ["l", "copy a share link"],
  ["e", "export the scenario"],
  ["Esc", "close this help; leave the console"],
  ["In the console: ↑ ↓", "input history"],
  ["In the console: Tab", "complete verbs, pids, functions, modules, paths"],
  ["In the console: Shift+Enter", "new line (for livepatch … end blocks)"],
];

function buildHelp() {
  const tbody = document.getElementById("help-keys");
  tbody.replaceChildren(...SHORTCUTS.map(([k, what]) => {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    const kbd = document.createElement("kbd");
    kbd.textContent = k;
    th.appendChild(kbd);
    const td = document.createElement("td");
    td.textContent = what;
    tr.append(th, td);
    return tr;
  }));
}

function typing(e) {
  // Keys typed into a field (also inside the widget's shadow root) are
  // not shortcuts.
  const t = e.composedPath()[0];
  if (!(t instanceof Element)) return false;
  return t.closest("input, textarea, select, [contenteditable]") !== null;
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || !pg.session) return;
  if (typing(e)) return;
  const t = e.composedPath()[0];
  const onButton = t instanceof Element && t.closest("button, summary, a") !== null;
  const s = pg.session;
  const run = (fn) => {
    e.preventDefault();
    fn();
  };
  switch (e.key) {
    case "?": return run(() => (help.open ? help.close() : help.showModal()));
    case "/": return run(() => pg.console.focus());
    case " ": if (onButton) return; return run(() => s.togglePlay());
    case "k": return run(() => s.togglePlay());
    case ".": return run(() => pg.step());
    case "s": return run(() => s.exec("settle"));
    case "u": return run(() => pg.openUntil());
    case "[": case "ArrowLeft": return run(() => s.undo());
    case "]": case "ArrowRight": return run(() => s.redo());
    case "f": return run(() => s.fork());
    case "l": return run(() => share());
    case "e": return run(() => exportScenario());
    default:
  }
}

// --- wiring --------------------------------------------------------------

document.getElementById("banner-close").addEventListener("click", () => (banner.hidden = true));
document.getElementById("share").addEventListener("click", () => share());
document.getElementById("export").addEventListener("click", exportScenario);
mountExplore(document.getElementById("explore"), () => pg.source(), say);
document.getElementById("import").addEventListener("change", (e) => {
  const f = e.target.files[0];
  if (f) importScenario(f);
  e.target.value = "";
});
document.getElementById("help-open").addEventListener("click", () => help.showModal());
document.getElementById("help-close").addEventListener("click", () => help.close());
examples.addEventListener("change", async () => {
  if (!examples.value) return;
  try {
    await loadExample(examples.value);
    banner.hidden = true;
  } catch (e) {
    showBanner(`The example could not be loaded: ${e.message}`);
  }
});
document.addEventListener("keydown", onKey);
addEventListener("hashchange", () => {
  // A pasted link in the same tab: open it (our own replaceState does not
  // fire hashchange).
  if (fragmentValue(location.hash)) open();
});
pg.addEventListener("klp-change", scheduleURL);
buildHelp();

(async () => {
  await loadExampleList();
  try {
    await pg.ready;
  } catch (e) {
    showBanner(`The simulator could not start: ${e.message}`);
    return;
  }
  try {
    await open();
  } catch (e) {
    showBanner(`Could not load a scenario: ${e.message}`);
  }
  document.body.dataset.ready = "true";
})();
