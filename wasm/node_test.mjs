// Node test of the browser bridge: loads the built klp.wasm with the Go
// toolchain's own wasm_exec.js, as the page does, and checks that the API
// works and that no input can make the Go program exit.
//
//   node --test wasm/            (builds the wasm into a temp dir first)
//   KLP_WASM=dist/klp.wasm node --test wasm/   (tests an existing build)
//
// The wasm and wasm_exec.js must come from the same Go toolchain.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { unpack } from "../web/lib/session.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const goroot = execFileSync("go", ["env", "GOROOT"], { encoding: "utf8" }).trim();

let tmp = "";
let klp; // the throwing facade, as web/lib/runtime.js builds it
let raw; // globalThis.klp as Go set it up
let wasmPath = ""; // the klp.wasm under test

// facade mirrors web/lib/runtime.js: Go returns Error objects, the page
// throws them.
function facade(api) {
  const out = {};
  for (const [name, fn] of Object.entries(api)) {
    if (typeof fn !== "function") {
      out[name] = fn;
      continue;
    }
    out[name] = (...args) => {
      const r = fn(...args);
      if (r instanceof Error || (r && r.klpError === true)) throw r;
      return r;
    };
  }
  return out;
}

before(async () => {
  let wasm = process.env.KLP_WASM;
  if (!wasm) {
    tmp = mkdtempSync(path.join(tmpdir(), "klp-wasm-test-"));
    wasm = path.join(tmp, "klp.wasm");
    execFileSync("go", ["build", "-trimpath", "-ldflags=-s -w", "-o", wasm, "./wasm"], {
      cwd: root,
      env: { ...process.env, GOOS: "js", GOARCH: "wasm" },
      stdio: "inherit",
    });
  }
  wasmPath = wasm;
  createRequire(import.meta.url)(path.join(goroot, "lib", "wasm", "wasm_exec.js"));
  const go = new globalThis.Go();
  const ready = new Promise((resolve) => globalThis.addEventListener?.("klp-ready", resolve) ?? resolve());
  const { instance } = await WebAssembly.instantiate(readFileSync(wasm), go.importObject);
  go.run(instance); // runs main() up to select{}; never resolves
  await ready;
  raw = globalThis.klp;
  klp = facade(raw);
  globalThis.__go = go;
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  // wasm_exec keeps the Go program's promise pending; end the process so
  // its exit hook does not resume Go and report a deadlock.
  setImmediate(() => process.exit(process.exitCode ?? 0));
});

const sample = readFileSync(path.join(root, "examples", "sample.klp"), "utf8");

const alive = () => {
  assert.equal(globalThis.__go.exited, false, "the Go program exited");
  const id = klp.create("cpus 1\n");
  assert.equal(typeof id, "number");
  klp.destroy(id);
};

test("ready flag and functions", () => {
  assert.equal(raw.ready, true);
  for (const f of ["create", "destroy", "exec", "view", "viewPacked", "events", "log", "logRange", "tick", "settle", "source", "goals",
    "checkpoint", "seek", "fork", "history", "names", "ls", "warmup", "startOutput",
    "complete", "nextPid", "execAll", "withProfile", "panels", "compactSource", "cost", "load", "loadRun", "loadCancel", "execStart", "execRun"]) {
    assert.equal(typeof raw[f], "function", f);
  }
});

test("create, exec, view, events, log", () => {
  const id = klp.create(sample);
  const v = JSON.parse(klp.view(id));
  assert.equal(v.Profile, "6.16");
  assert.ok(v.Tasks.some((t) => t.PID === 42 && t.Comm === "cat"));
  const r = klp.exec(id, "cat /proc/42/patch_state");
  assert.equal(r.error, null);
  assert.deepEqual(r.output.map((o) => o.kind), ["cmd", "stdout"]);
  const ev = JSON.parse(klp.events(id, 0));
  assert.ok(ev.length > 0 && ev[0].Seq === 0);
  const lg = JSON.parse(klp.log(id, 0));
  assert.ok(lg.some((l) => l.Text.includes("enabling patch 'livepatch_sample'")));
  assert.equal(JSON.parse(klp.log(id, 0, 2)).length, 2);
  assert.deepEqual(JSON.parse(klp.log(id, 1e9)), []);
  // a range by sequence number, as the log panel fetches an old block
  assert.deepEqual(JSON.parse(klp.logRange(id, 1, 2)).map((l) => l.Seq), [1, 2]);
  assert.deepEqual(JSON.parse(klp.logRange(id, lg.length - 1, 5)).map((l) => l.Seq), [lg.length - 1]);
  assert.deepEqual(JSON.parse(klp.logRange(id, 1e9, 5)), []);
  // capped kernel log lines, the rest counted in a note
  assert.equal(klp.exec(id, "rmmod livepatch_sample").error, null);
  const capped = klp.exec(id, "insmod livepatch-sample.ko", false, 1);
  assert.equal(capped.output.filter((o) => o.kind === "log").length, 1, JSON.stringify(capped));
  assert.match(capped.output[capped.output.length - 1].text, /^… and \d+ more kernel log lines/);
  assert.throws(() => klp.exec(id, "tick", false, -1), /maxLog must be a non-negative integer/);
  assert.ok(klp.source(id).includes("insmod livepatch-sample.ko") || klp.source(id).includes("insmod livepatch_sample"));
  assert.deepEqual(JSON.parse(klp.goals(id)).goals, []);
  assert.ok(Array.isArray(klp.startOutput(id)));
  klp.destroy(id);
});

test("viewPacked unpacks to view, and is much smaller with many tasks", () => {
  const id = klp.create(sample + "\nspawn-random 300\n");
  const full = klp.view(id);
  const packed = klp.viewPacked(id);
  const p = JSON.parse(packed);
  assert.ok(Array.isArray(p.Frames) && p.Frames.length > 0);
  // the page's own unpacking gives back exactly the full view
  assert.equal(JSON.stringify(unpack(p)), JSON.stringify(JSON.parse(full)));
  assert.ok(packed.length * 4 < full.length, `packed ${packed.length} bytes, full ${full.length}`);
  // what a statement prints comes back as plain objects
  const r = klp.exec(id, "tick 250");
  assert.ok(r.output.every((o) => typeof o.kind === "string" && typeof o.text === "string" && typeof o.level === "string"));
  klp.destroy(id);
});

test("scenario errors: create throws with line:col, exec returns the error", () => {
  assert.throws(() => klp.create("cpus 2\nfrobnicate 3\n"), (e) => e instanceof Error && /scenario:2:1/.test(e.message));
  const id = klp.create("vmlinux a b\ntask 5 x stack=a>b\n");
  const r = klp.exec(id, "call 99 a");
  assert.equal(typeof r.error, "string");
  assert.match(r.error, /console:1:/);
  // the instance keeps working
  assert.equal(klp.exec(id, "tick 3").error, null);
  klp.destroy(id);
});

test("cost prices a scenario without running it, and refuses one over budget", () => {
  const u = klp.cost("cpus 2\nvmlinux a b c\nspawn-random 1000 frames=4\ntask 5 x stack=a>b\n");
  assert.equal(u.Tasks, 1001);
  assert.equal(u.Funcs, 3);
  assert.equal(u.Regions, 0);
  assert.equal(klp.cost("vmlinux a\ntask 5 x state=S stack=a\nexplore steps=2\n  wake 5\nend\n").Regions, 1);
  // five lines of 100,000 tasks: refused at the third, before anything runs
  const big = "vmlinux a b c\n" + "spawn-random 100000\n".repeat(5);
  assert.throws(() => klp.cost(big), (e) => e instanceof Error && /:4:/.test(e.message) && /tasks limit/.test(e.message));
  assert.throws(() => klp.cost("cpus 2\nfrobnicate 3\n"), /:2:1/);
});

test("load in slices: the same machine as create, errors as create's", () => {
  const text = "vmlinux a b c\nspawn-random 5000 frames=2\nsleep 3\n";
  const lid = klp.load(text);
  let r, runs = 0;
  do {
    r = klp.loadRun(lid, 1);
    runs++;
    assert.ok(r.started <= r.total);
  } while (!r.done);
  assert.ok(runs > 5, `ran in ${runs} slices`);
  const id = klp.create(text);
  assert.equal(klp.source(r.id), klp.source(id));
  assert.equal(klp.view(r.id), klp.view(id));
  assert.deepEqual(klp.startOutput(r.id), klp.startOutput(id));
  assert.throws(() => klp.loadRun(lid, 1), /no loader/); // a finished loader is gone
  klp.destroy(id);
  klp.destroy(r.id);
  // bad text: refused before anything runs, with line:column
  assert.throws(() => klp.load("cpus 2\nfrobnicate 3\n"), /:2:1/);
  // a failure half-way: an Error naming the line, and the loader is gone
  const bad = klp.load("vmlinux a\nspawn-random 10\nexpect patched 1 a\n");
  assert.throws(() => { while (!klp.loadRun(bad, 1).done); }, /:3:/);
  assert.throws(() => klp.loadRun(bad, 1), /no loader/);
  // cancel drops it
  const c = klp.load(text);
  assert.equal(klp.loadCancel(c), true);
  assert.equal(klp.loadCancel(c), false);
});

test("console input in slices: exec's answer, exec's state", () => {
  const text = "vmlinux a b c\ntask 42 cat state=S stack=a>b\n";
  const a = klp.create(text);
  const b = klp.create(text);
  for (const line of ["spawn-random 3000 frames=2\nsleep 2", "wake 42\nfrobnicate", "sleep x"]) {
    const want = klp.exec(a, line, true);
    const st = klp.execStart(b, line, true);
    let got = st;
    let slices = 0;
    if (st.run) {
      do {
        got = klp.execRun(st.run, 1);
        slices++;
      } while (got.done === false);
      assert.throws(() => klp.execRun(st.run, 1), /no run/);
    }
    assert.deepEqual(got, want, line);
    if (line.startsWith("spawn")) assert.ok(slices > 3, `${slices} slices`);
  }
  assert.equal(klp.source(b), klp.source(a));
  assert.equal(klp.view(b), klp.view(a));
  assert.deepEqual(klp.history(b), klp.history(a));
  klp.destroy(a);
  klp.destroy(b);
});

test("time travel: checkpoint, seek, fork", () => {
  const id = klp.create(sample);
  assert.equal(klp.checkpoint(id, "start"), 0);
  const { Time: t0, Jiffies: j0 } = JSON.parse(klp.view(id));
  klp.tick(id, 250);
  assert.equal(klp.checkpoint(id, "tick 250"), 1);
  klp.settle(id, 5);
  assert.equal(klp.checkpoint(id), 2);
  assert.equal(klp.seek(id, 0), 0);
  assert.equal(JSON.parse(klp.view(id)).Time, t0);
  let h = klp.history(id);
  assert.equal(h.pos, 0);
  assert.equal(h.count, 3);
  assert.equal(h.labels[1], "tick 250");
  klp.seek(id, 1);
  // 250 jiffies on (the time within a jiffy is where its last step ended)
  assert.equal(JSON.parse(klp.view(id)).Jiffies, j0 + 250);
  klp.exec(id, "tick 1");
  assert.equal(klp.checkpoint(id, "x"), 2); // the old future is gone
  h = klp.history(id);
  assert.equal(h.count, 3);
  assert.equal(h.labels[2], "x");
  klp.seek(id, 0);
  assert.equal(klp.fork(id), 0);
  assert.equal(klp.history(id).count, 1);
  assert.throws(() => klp.seek(id, 5), TypeError);
  klp.destroy(id);
});

test("completion data", () => {
  const id = klp.create(sample);
  const n = klp.names(id);
  assert.ok(n.verbs.includes("insmod"));
  assert.ok(n.pids.includes(42));
  assert.ok(n.funcs.includes("cmdline_proc_show"));
  assert.ok(n.verbs.includes("until") && n.events.includes("signal") && n.expect.includes("event"));
  const id2 = klp.create(sample.split("\n").slice(0, 10).join("\n"));
  const ents = klp.ls(id2, "/sys/kernel/livepatch/livepatch_sample");
  klp.destroy(id2);
  assert.ok(ents.some((e) => e.name === "enabled" && e.dir === false));
  assert.deepEqual(klp.ls(id, "/nonexistent"), []);
  klp.destroy(id);
});

test("exec checkpoints what it applied; the bridge carries the core's timeline", () => {
  const id = klp.create(sample);
  klp.checkpoint(id, "start");
  assert.equal(klp.exec(id, "tick 3\ntick 4", true).error, null);
  assert.equal(typeof klp.exec(id, "call 999 x", true).error, "string");
  klp.exec(id, "tick 1"); // no checkpoint asked for
  const h = klp.history(id);
  assert.deepEqual([h.pos, h.count, h.labels], [1, 2, ["start", "tick 3 …"]]);
  assert.ok(klp.compactSource(id).endsWith("tick 8\n"), klp.compactSource(id));
  assert.throws(() => klp.exec(id, "tick", "yes"), TypeError);
  klp.destroy(id);
});

test("execAll: all or nothing", () => {
  const id = klp.create(sample);
  klp.checkpoint(id, "start");
  const src = klp.source(id);
  const r = klp.execAll(id, ["task 77 x", "insmod nosuch"]);
  assert.equal(r.results.length, 2);
  assert.equal(r.results[0].error, null);
  assert.match(r.note, /^taken back: task 77 x/);
  assert.equal(klp.source(id), src);
  assert.equal(klp.execAll(id, ["task 77 x", "tick 1"]).note, "");
  assert.deepEqual(klp.history(id).labels, ["start", "task 77 x; tick 1"]);
  assert.throws(() => klp.execAll(id, "tick"), TypeError);
  assert.throws(() => klp.execAll(id, [1]), TypeError);
  klp.destroy(id);
});

test("completion, next pid, profile swap and panels come from the core", () => {
  const id = klp.create(sample);
  assert.deepEqual(klp.complete(id, "wake 4", 6), { insert: "2 ", matches: ["42"] });
  assert.deepEqual(klp.complete(id, "ins", 3), { insert: "mod ", matches: ["insmod"] });
  // the caret is a UTF-16 index: text before it may hold any character
  assert.deepEqual(klp.complete(id, "echo \"😀\"\nwake 4", 16), { insert: "2 ", matches: ["42"] });
  assert.equal(klp.complete(id, "zz", 2).matches.length, 0);
  assert.equal(klp.nextPid(id), 100);
  assert.equal(klp.withProfile("cpus 2\nkernel 6.4\n", "5.1"), "cpus 2\nkernel 5.1\n");
  assert.ok(klp.panels().includes("console"));
  klp.destroy(id);
});

test("run until an event, through the scenario language", () => {
  const id = klp.create(sample.split("\n").slice(0, 10).join("\n"));
  const r = klp.exec(id, "until signal within=30");
  assert.equal(r.error, null);
  assert.ok(r.output.some((o) => o.kind === "note" && /^signal event after 14\.\d+s: cat:42 gets a fake signal/.test(o.text)), JSON.stringify(r.output));
  assert.match(klp.source(id), /\nuntil signal within=30\n$/);
  const bad = klp.exec(id, "until signl");
  assert.match(bad.error, /unknown event kind "signl" \(did you mean "signal"\?\)/);
  klp.destroy(id);
});

test("warm-up", () => {
  const ms = klp.warmup(1);
  assert.equal(typeof ms, "number");
});

test("hostile input never kills the program", () => {
  const id = klp.create(sample);
  const big = "x".repeat(1 << 20);
  const hostile = [
    () => klp.create("\u0000\u0001garbage \"unterminated"),
    () => klp.create(big),
    () => klp.create("a\n".repeat(50000)),
    () => klp.exec(id, big),
    () => klp.exec(id, "echo " + big + " > /proc/42/comm"),
    () => klp.exec(id, "\"".repeat(1 << 20)),
    () => klp.exec("x", {}),
    () => klp.exec(id, {}),
    () => klp.exec(id, 12),
    () => klp.exec(id),
    () => klp.exec(),
    () => klp.exec(-1, "tick"),
    () => klp.exec(1.5, "tick"),
    () => klp.exec(NaN, "tick"),
    () => klp.exec(Infinity, "tick"),
    () => klp.exec(id, Symbol("s")),
    () => klp.exec(id, null),
    () => klp.create(),
    () => klp.create({ toString() { throw new Error("boom"); } }),
    () => klp.view("1"),
    () => klp.view(1e30),
    () => klp.viewPacked(),
    () => klp.viewPacked(id, "extra"),
    () => klp.events(id, -5),
    () => klp.events(id, "0"),
    () => klp.log(id, {}, []),
    () => klp.tick(id, 1e300),
    () => klp.tick(id, -1),
    () => klp.tick(id, 1 << 30),
    () => klp.settle(id, 1e9),
    () => klp.settle(id, "10"),
    () => klp.seek(id, 1e12),
    () => klp.checkpoint(id, { a: 1 }),
    () => klp.checkpoint(id, "y".repeat(10000)),
    () => klp.ls(id, {}),
    () => klp.ls(id, "../../../../etc/passwd"),
    () => klp.destroy({}),
    () => klp.destroy(123456),
    () => klp.warmup("many"),
    () => raw.exec.call(null, "x", {}),
    () => new raw.exec(id, "tick"),
  ];
  for (const [i, f] of hostile.entries()) {
    try {
      const r = f();
      // a returned value must be plain data
      if (r !== undefined) JSON.stringify(r);
    } catch (e) {
      assert.ok(e instanceof Error, `case ${i}: threw a non-Error ${e}`);
    }
    alive();
  }
  // garbage text comes back as a scenario error with a position
  assert.throws(() => klp.create("garbage text"), /scenario:1:1/);
  // a wrong-typed argument is a TypeError
  assert.throws(() => klp.exec("x", {}), TypeError);
  // the raw API returns the Error instead of throwing
  assert.ok(raw.exec("x", {}) instanceof Error);
  // the first instance still works
  assert.equal(klp.exec(id, "tick").error, null);
  assert.ok(JSON.parse(klp.view(id)).Tasks.length > 0);
  klp.destroy(id);
});

test("many instances, bounded", () => {
  const ids = [];
  assert.throws(() => {
    for (let i = 0; i < 1000; i++) ids.push(klp.create("cpus 1\n"));
  }, /too many instances/);
  for (const id of ids) klp.destroy(id);
  alive();
});

test("explore: the shortest counterexample, progress and cancel", () => {
  const force = readFileSync(path.join(root, "core", "explore", "testdata", "force.klp"), "utf8");
  const seen = [];
  const r = klp.explore(force, 0, 0, false, (p) => { seen.push(p.states); return true; });
  assert.equal(r.violations.length, 1);
  assert.equal(r.violations[0].property, "consistency");
  assert.deepEqual(r.violations[0].steps, ["echo 1 > /sys/kernel/livepatch/livepatch_frob/force", "wake 60", "ret 60 2", "call 60 frob_commit"]);
  assert.ok(r.violations[0].scenario.endsWith("expect no-alarm\n"));
  assert.ok(seen.length >= 1 && seen.at(-1) === r.states);
  const stop = klp.explore(readFileSync(path.join(root, "core", "explore", "testdata", "bench.klp"), "utf8"), 0, 0, false, () => false);
  assert.equal(stop.cancelled, true);
  // the memory bound, from the explore line: the result says it was hit
  const bench = readFileSync(path.join(root, "core", "explore", "testdata", "bench.klp"), "utf8");
  const small = klp.explore(bench.replace("explore steps=12", "explore steps=12 memory=1"));
  assert.equal(small.bound, "memory");
  assert.equal(small.maxMemory, 1 << 20);
  assert.equal(small.capped, false); // the region's own bound
  assert.ok(small.heldBytes > 0 && small.heldBytes <= small.maxMemory, `held ${small.heldBytes}`);
  // a page holds a search to 1 GB of states, whatever the region asks,
  // or to what the page asks for its device (the seventh argument, MB)
  const big = klp.explore(bench.replace("explore steps=12", "explore steps=2 memory=1000000"));
  assert.equal(big.maxMemory, 2 ** 30);
  const phone = klp.explore(bench.replace("explore steps=12", "explore steps=2 memory=1000000"), 0, 0, false, null, null, 128);
  assert.equal(phone.maxMemory, 128 * 2 ** 20);
  assert.equal(phone.capped, true); // the page's limit, not the region's
  assert.equal(klp.explore(bench, 2, 0, false, null, null, 1).maxMemory, 2 ** 20); // below the region's 256
  assert.throws(() => klp.explore(bench, 0, 0, false, null, null, -1), /memory must be a non-negative integer/);
  assert.throws(() => klp.explore("vmlinux f\n"), /no explore region/);
  alive();
});

// The explore worker (web/explore-worker.js) in a context of its own, as
// a Web Worker has: its own Go runtime. When that runtime has stopped (a
// fatal error such as out of memory: here wasm_exec's exit is called as
// Go calls it), a search is answered with an error marked dead, naming
// the runtime's fatal line, and the worker closes itself.
test("explore worker: a stopped Go runtime is reported, and the worker closes", async () => {
  const posted = [];
  let closed = false;
  const events = new EventTarget();
  const ctx = vm.createContext({
    console: { log() {}, error() {}, warn() {} },
    setTimeout, clearTimeout, TextEncoder, TextDecoder, crypto, performance, WebAssembly, Event, URL,
    fetch: async () => new Response(readFileSync(wasmPath), { headers: { "content-type": "application/wasm" } }),
    postMessage: (m) => posted.push(m),
    close: () => { closed = true; },
    addEventListener: events.addEventListener.bind(events),
    dispatchEvent: events.dispatchEvent.bind(events),
  });
  ctx.self = ctx;
  ctx.importScripts = (name) => vm.runInContext(readFileSync(path.join(goroot, "lib", "wasm", name), "utf8"), ctx);
  vm.runInContext(readFileSync(path.join(root, "web", "explore-worker.js"), "utf8"), ctx);
  const answer = async (m) => {
    const n = posted.length;
    await ctx.onmessage({ data: m });
    return posted.slice(n);
  };
  assert.deepEqual((await answer({ type: "init" })).map((m) => m.type), ["ready"]);
  const force = readFileSync(path.join(root, "core", "explore", "testdata", "force.klp"), "utf8");
  const done = (await answer({ src: force, memory: 2 })).at(-1);
  assert.equal(done.type, "done");
  assert.equal(done.result.violations[0].property, "consistency");
  assert.equal(done.result.maxMemory, 2 * 2 ** 20); // the page's limit, passed on
  // the runtime prints its fatal line, then exits
  vm.runInContext(`console.log("fatal error: out of memory"); go.importObject.gojs["runtime.wasmExit"](0);`, ctx);
  const dead = (await answer({ src: force })).at(-1);
  assert.equal(dead.type, "error");
  assert.equal(dead.dead, true);
  assert.match(dead.message, /runtime stopped \(fatal error: out of memory\); lower the region's bounds/);
  assert.equal(closed, true);
});
