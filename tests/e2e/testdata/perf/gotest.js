// Runs a Go test binary built for js/wasm (go test -c) with the arguments
// of the query string, and collects what it prints. The benchmarks in
// tests/e2e/perf_test.go use it to run core/sim's own benchmarks in the
// browser, so the browser and native numbers come from the same code on
// the same fixture.

const params = new URLSearchParams(location.search);
const out = document.getElementById("out");
window.goOutput = "";
window.goExit = null;

// wasm_exec.js installed a console-only fs stub; keep the text as well.
const decoder = new TextDecoder("utf-8");
globalThis.fs.writeSync = (fd, buf) => {
  const s = decoder.decode(buf);
  window.goOutput += s;
  out.textContent += s;
  return buf.length;
};

const go = new globalThis.Go();
go.argv = ["gotest", ...params.getAll("arg")];
go.exit = (code) => {
  window.goExit = code;
};

(async () => {
  try {
    const { instance } = await WebAssembly.instantiateStreaming(fetch(params.get("wasm")), go.importObject);
    await go.run(instance);
  } catch (e) {
    window.goOutput += `\nload error: ${e}\n`;
    window.goExit = -1;
  }
})();
