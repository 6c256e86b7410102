// Node test of the page's share-link codec (web/lib/share.js), which
// decodes text from strangers: every hostile link ends in a clear error,
// and the work done is bounded by the link's length, not by what it
// would expand to.
//
//   node --test tests/node/
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateRawSync } from "node:zlib";
import { decode, encode, fragmentValue, inflateCapped, MAX_LINK, MAX_TEXT } from "../../web/lib/share.js";

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const link = (buf) => "v1." + b64url(buf);

// A deterministic byte source (xorshift32), so that "random" data is the
// same on every run.
function noise(n, seed = 0x2545f491) {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test("a session survives the round trip", async () => {
  const text = "kernel 6.16\ncpus 2\nvmlinux a b\ntask 42 cat stack=a>b\n# ünïcödé\n";
  const v = await encode(text);
  assert.match(v, /^v1\.[A-Za-z0-9_-]+$/);
  assert.equal(await decode(v), text);
  assert.equal(fragmentValue(`#s=${v}`), v);
});

test("text up to the cap decodes; one byte more is refused", async () => {
  const ok = "#".repeat(MAX_TEXT);
  assert.equal((await decode(link(deflateRawSync(ok)))).length, MAX_TEXT);
  await assert.rejects(decode(link(deflateRawSync(ok + "#"))), /expands to more than 1048576 bytes/);
});

// Each hostile link fails with its own message.
const hostile = [
  ["unknown version", "v2.AAAA", /unknown link format/],
  ["bad base64", "v1.!!!***", /not base64url/],
  ["cut short", "v1.A", /cut short/],
  ["empty", "v1.", /holds no data/],
  ["not deflate", "v1.AAAAAAAA", /damaged/],
  ["bad UTF-8", link(deflateRawSync(Buffer.from([0x74, 0xff, 0xfe, 0xfd]))), /not UTF-8/],
  ["an overlong UTF-8 slash", link(deflateRawSync(Buffer.from([0xc0, 0xaf]))), /not UTF-8/],
  ["random data under the length cap", link(noise(150 << 10)), /damaged/],
];
for (const [name, value, want] of hostile) {
  test(`hostile link: ${name}`, async () => {
    await assert.rejects(decode(value), want);
  });
}

test("a link over the length cap is refused before anything is decoded", async () => {
  // 800 KB of random data, and a 1.4 MB link (the size of a deflate bomb
  // that would expand to gigabytes)
  for (const value of [link(noise(800 << 10)), "v1." + "7f".repeat(700 << 10)]) {
    assert.ok(value.length > MAX_LINK, `test link of ${value.length} characters`);
    const stats = {};
    await assert.rejects(decode(value, stats), /too long/);
    assert.equal(stats.in, undefined, "the decompressor was fed");
  }
});

test("a deflate bomb under the length cap stops as soon as it passes the cap", async () => {
  // 150 MiB of zeros compress to ~150 KB: a link the page accepts by size.
  const bomb = link(deflateRawSync(Buffer.alloc(150 << 20)));
  assert.ok(bomb.length <= MAX_LINK, `bomb link of ${bomb.length} characters`);
  const stats = {};
  await assert.rejects(decode(bomb, stats), /expands to more than/);
  // Deflate expands at most 1032 fold, so the cap is passed after ~1 KiB
  // of input; what the stream buffers ahead (Node's zlib wrapper takes
  // 16 KiB) is all that is fed beyond it, and one chunk read past the cap.
  assert.ok(stats.in <= 32 << 10, `fed ${stats.in} bytes of ${bomb.length}`);
  assert.ok(stats.out <= MAX_TEXT + (1 << 20), `inflated ${stats.out} bytes`);
});

test("inflateCapped stops both sides of the stream", async () => {
  const stats = {};
  await assert.rejects(inflateCapped(deflateRawSync(Buffer.alloc(64 << 20)), 1000, stats), /more than 1000 bytes/);
  assert.ok(stats.in <= 32 << 10, `fed ${stats.in} bytes`);
  // and a good stream gives back exactly what went in
  const text = Buffer.from("klp ".repeat(10000));
  assert.deepEqual(Buffer.from(await inflateCapped(deflateRawSync(text), 1 << 20)), text);
});

test("a session too large for a link says so when encoded", async () => {
  const big = Buffer.from(noise(600 << 10)).toString("base64"); // incompressible text
  await assert.rejects(encode(big), /too large for a link/);
});
