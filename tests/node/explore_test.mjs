// Node test of the page's explore module (web/lib/explore.js): how much a
// search may hold of states at once on a device.
//
//   node --test tests/node/
import { test } from "node:test";
import assert from "node:assert/strict";
import { searchMemory } from "../../web/lib/explore.js";

test("a search holds an eighth of the device's memory, 128 MB to 1 GB", () => {
  for (const [gb, mb] of [[8, 1024], [16, 1024], [4, 512], [2, 256], [1, 128], [0.5, 128], [0.25, 128]]) {
    assert.equal(searchMemory(gb), mb, `${gb} GB`);
  }
  // the browser does not say: the bridge's own limit
  for (const gb of [undefined, 0, NaN]) assert.equal(searchMemory(gb), 0, String(gb));
});
