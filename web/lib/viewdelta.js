// applyDelta turns klp.viewDelta's JSON (core/sim/viewdelta.go: the view
// with only the tasks that changed since the last call, frames packed as
// in klp.viewPacked) into the whole sim.View, given the last one. Tasks
// that did not change keep their objects, so views can tell by identity
// what to redraw; JSON.stringify of the result is what klp.view gives.

function taskKey(t) {
  return t.Kind === "idle" ? -1 - t.CPU : t.PID;
}

/** @param prev the last view (or null); @param d the parsed delta. */
export function applyDelta(prev, d) {
  const frames = d.Frames || [];
  const changed = d.Changed || [];
  const keys = d.Keys;
  const full = d.Full;
  delete d.Frames;
  delete d.Changed;
  delete d.Keys;
  delete d.Full;
  for (const t of d.Tasks || []) {
    if (t.Stack) t.Stack = t.Stack.map((i) => frames[i]);
  }
  if (full) return d;
  if (!prev) throw new Error("viewDelta: a partial view without the one before it");
  let tasks;
  if (keys) {
    const byKey = new Map();
    for (const t of prev.Tasks) byKey.set(taskKey(t), t);
    tasks = keys.map((k) => byKey.get(k));
  } else {
    tasks = prev.Tasks.slice();
  }
  for (let i = 0; i < changed.length; i++) tasks[changed[i]] = d.Tasks[i];
  d.Tasks = tasks;
  return d;
}
