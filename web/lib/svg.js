// Small SVG helpers for the drawn views (timeline.js, stacks.js). Like
// dom.js, everything is built with createElementNS and textContent, never
// by parsing markup, so names from the simulation cannot become markup.

export const NS = "http://www.w3.org/2000/svg";

/** s("rect.ps-1", {x: 0, y: 0, width: 4, height: 4}, child…) */
export function s(tag, attrs, ...children) {
  const [name, ...cls] = tag.split(".");
  const el = document.createElementNS(NS, name);
  if (cls.length) el.setAttribute("class", cls.join(" "));
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "class") el.setAttribute("class", [...cls, v].join(" "));
      else el.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A <title> child: the tooltip and the accessible name of a mark. */
export function title(text) {
  return s("title", null, text);
}

/**
 * The patterns that go with the patch_state colours, so that a state is
 * never told by colour alone: unpatched is hatched, patched is dotted,
 * no transition (-1) is plain. Colours come from the widget's CSS.
 */
export function stateDefs(prefix) {
  return s("defs", null,
    s("pattern", { id: `${prefix}-ps0`, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
      s("rect.pat-bg.ps0", { width: 6, height: 6 }),
      s("line.pat-fg.ps0", { x1: 0, y1: 0, x2: 0, y2: 6 })),
    s("pattern", { id: `${prefix}-ps1`, width: 6, height: 6, patternUnits: "userSpaceOnUse" },
      s("rect.pat-bg.ps1", { width: 6, height: 6 }),
      s("circle.pat-fg.ps1", { cx: 3, cy: 3, r: 1.1 })),
    s("pattern", { id: `${prefix}-psn`, width: 6, height: 6, patternUnits: "userSpaceOnUse" },
      s("rect.pat-bg.psn", { width: 6, height: 6 })));
}

/** The fill for a patch_state with stateDefs(prefix). */
export function stateFill(prefix, ps) {
  return `url(#${prefix}-${ps === 1 ? "ps1" : ps === 0 ? "ps0" : "psn"})`;
}

/** Whether the reader asked for less motion. */
export function reducedMotion() {
  return globalThis.matchMedia ? matchMedia("(prefers-reduced-motion: reduce)").matches : true;
}

let uid = 0;
/** A page-unique id prefix for one drawing's defs. */
export function prefix(name) {
  return `klp-${name}-${++uid}`;
}
