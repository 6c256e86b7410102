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
  await pg.open(text);
  say(`Loaded example: ${exampleList.find((x) => x.file === file)?.title || file}`);
}

/**
 * Parses and prices text from outside (a link, a file) against the
 * scenario budget before any of it runs; throws what is wrong and where.
 */
function vet(text) {
  pg.api.cost(text);
  return text;
}

/** Opens what the URL asks for: a share link, or the default example. */
async function open() {
  const frag = fragmentValue(location.hash);
  if (frag) {
    try {
      const text = vet(await decode(frag));
      await pg.open(text);
      say("Opened the session from the link.");
      examples.value = "";
      synced(location.href);
      return;
    } catch (e) {
      showBanner(`This link could not be opened: ${e.message}. The default scenario is shown instead.`);
      history.replaceState(null, "", location.pathname + location.search);
    }
  }
  await loadExample(exampleList[0]?.file || "default.klp");
  synced(location.href);
  exampleSrc = syncedSrc;
  exampleFile = exampleList[0]?.file || "default.klp";
}

// --- the URL and the browser's history ------------------------------------
//
// Each state the user makes gets its own history entry (pushState), with
// the session's text in the entry's state and as a share link in the URL:
// Back and Forward move between states, reload and bookmarks give the
// current one back, and Back never jumps past the user's work to the
// previous site. Entries are pushed when changes pause, not per click.

let syncedSrc = ""; // the session text the current entry holds
let syncedHref = ""; // and its URL (to tell our own entries from pasted links)
let exampleSrc = ""; // the last example's text as loaded: anything else is work
let exampleFile = ""; // and its file

function synced(href) {
  syncedSrc = pg.shareSource();
  syncedHref = href;
}

/**
 * Stores the current state in a new history entry, if it changed. Calls
 * run one after another (the link is made asynchronously), so entries
 * keep their order and one state is pushed once.
 */
let pushing = Promise.resolve();
function pushState() {
  pushing = pushing.then(pushNow, pushNow);
  return pushing;
}

async function pushNow() {
  const src = pg.shareSource();
  if (src === syncedSrc) return;
  let href = location.pathname + location.search;
  try {
    href = await linkFor(src);
  } catch {
    // too large for a link: the entry keeps the text in its state only
  }
  history.pushState({ src }, "", href);
  syncedSrc = src;
  syncedHref = location.href;
  undoLoad.hidden = true; // Back now goes to this newer state first
}

let urlTimer = 0;
function scheduleURL() {
  clearTimeout(urlTimer);
  urlTimer = setTimeout(() => {
    if (pg.session?.playing) return scheduleURL();
    pushState();
  }, 800);
}

/** Back or Forward (or a pasted link): shows the state of that entry. */
async function restore(state) {
  if (location.href === syncedHref) return;
  clearTimeout(urlTimer);
  syncedHref = location.href;
  let text = state && typeof state.src === "string" ? state.src : "";
  try {
    if (!text && fragmentValue(location.hash)) text = vet(await decode(fragmentValue(location.hash)));
    const fresh = !text; // the entry the user arrived on: the default example
    if (fresh) text = await fetchExample(exampleList[0]?.file || "default.klp");
    await pg.open(text);
    banner.hidden = true;
    examples.value = fresh ? exampleList[0]?.file || "" : "";
    synced(location.href);
    exampleSrc = fresh ? syncedSrc : "";
    exampleFile = fresh ? exampleList[0]?.file || "" : "";
    undoLoad.hidden = true;
    say("Went to another state in this tab's history (Back and Forward move between them).");
  } catch (e) {
    showBanner(`This link could not be opened: ${e.message}. The session shown is kept.`);
  }
}

// Choosing an example replaces the session: the user's work goes into the
// history first, and the status line offers it back.
const undoLoad = document.createElement("button");
undoLoad.type = "button";
undoLoad.id = "undo-load";
undoLoad.hidden = true;
undoLoad.textContent = "Undo";
undoLoad.addEventListener("click", () => {
  undoLoad.hidden = true;
  history.back();
});
status.after(undoLoad);

async function chooseExample(file) {
  // A queued choice the select has since moved on from (another example,
  // an import, a link), or a second change event for the example already
  // shown untouched, loads nothing.
  if (examples.value !== file) return;
  if (file === exampleFile && pg.shareSource() === exampleSrc) return;
  clearTimeout(urlTimer);
  const hadWork = pg.session && pg.shareSource() !== exampleSrc;
  await pushState(); // the work, as its own entry
  await loadExample(file);
  await pushState();
  exampleSrc = pg.shareSource();
  exampleFile = file;
  undoLoad.hidden = !hadWork;
  if (hadWork) say(`Loaded example: ${exampleList.find((x) => x.file === file)?.title || file}. Your previous session is one step Back.`);
}

async function share() {
  let href;
  try {
    href = await linkFor(pg.shareSource());
  } catch (e) {
    showBanner(`No link for this session: ${e.message}`);
    return;
  }
  clearTimeout(urlTimer);
  if (href !== location.href) {
    history.pushState({ src: pg.shareSource() }, "", href);
    synced(location.href);
  }
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
    await pg.open(text);
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
mountExplore(document.getElementById("explore"), () => pg.source(), say, pg);
document.getElementById("import").addEventListener("change", (e) => {
  const f = e.target.files[0];
  if (f) importScenario(f);
  e.target.value = "";
});
document.getElementById("help-open").addEventListener("click", () => help.showModal());
document.getElementById("help-close").addEventListener("click", () => help.close());
// Arrow keys on the select fire a change per step: one load at a time.
let choosing = Promise.resolve();
examples.addEventListener("change", () => {
  const file = examples.value;
  if (!file) return;
  choosing = choosing.then(async () => {
    try {
      await chooseExample(file);
      banner.hidden = true;
    } catch (e) {
      showBanner(`The example could not be loaded: ${e.message}`);
    }
  });
});
document.addEventListener("keydown", onKey);
// Back/Forward fire popstate (and hashchange when only the fragment
// differs); a link pasted into this tab fires both too. restore() acts
// once per URL.
addEventListener("popstate", (e) => restore(e.state));
addEventListener("hashchange", () => restore(history.state));
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
