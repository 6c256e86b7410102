// Share links: the whole session (Source(), the scenario text that rebuilds
// it) in the URL fragment, so no server stores anything:
//
//   #s=v1.<base64url of deflate-raw(UTF-8 text)>
//
// The version prefix lets a later format coexist with old links. Decoding
// treats the fragment as hostile: bad base64, bad deflate data, bad UTF-8
// and oversized output all end in a plain Error with a readable message.

const VERSION = "v1.";
export const MAX_TEXT = 1 << 20; // decompressed bytes accepted from a link
// Fragment characters accepted, checked before anything is decoded. A
// session's text compresses 5-20 fold, so 256 KiB of base64 (192 KiB of
// deflate) carries far more than MAX_TEXT of real scenario; anything
// longer is refused at once instead of being decoded.
export const MAX_LINK = 256 << 10;
// Deflate data is fed to the decompressor this many bytes at a time, and
// the output is counted after each piece: deflate expands at most ~1032
// fold, so one piece yields at most ~1 MiB and a "bomb" is stopped after
// a few pieces instead of being inflated whole.
const FEED = 1024;

function toB64url(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s) {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error("the link contains characters that are not base64url");
  if (s.length % 4 === 1) throw new Error("the link's data is cut short");
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function concat(chunks, n) {
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

async function readCapped(stream, cap) {
  const reader = stream.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > cap) {
      await reader.cancel();
      throw new Error(`the link expands to more than ${cap} bytes`);
    }
    chunks.push(value);
  }
  return concat(chunks, n);
}

/**
 * Inflates deflate-raw data, feeding it FEED bytes at a time and stopping
 * (both sides of the stream) as soon as the output passes cap. stats, if
 * given, receives how many bytes went in and came out, for tests.
 */
export async function inflateCapped(bytes, cap, stats = {}) {
  const ds = new DecompressionStream("deflate-raw");
  const writer = ds.writable.getWriter();
  const reader = ds.readable.getReader();
  stats.in = 0;
  stats.out = 0;
  let over = false;
  // The writer waits for the reader (backpressure), so the two run side
  // by side; whichever fails first ends both.
  const feed = (async () => {
    for (let i = 0; i < bytes.length && !over; i += FEED) {
      await writer.ready;
      if (over) break;
      const piece = bytes.subarray(i, i + FEED);
      stats.in += piece.length;
      await writer.write(piece);
    }
    if (!over) await writer.close();
  })();
  const chunks = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      stats.out += value.length;
      if (stats.out > cap) {
        over = true;
        throw new Error(`the link expands to more than ${cap} bytes`);
      }
      chunks.push(value);
    }
    await feed;
  } catch (e) {
    over = true;
    reader.cancel().catch(() => {});
    writer.abort().catch(() => {});
    feed.catch(() => {}); // its error, if any, is the same failure
    throw e;
  }
  return concat(chunks, stats.out);
}

/** Encodes scenario text into a fragment value (without "#s="). */
export async function encode(text) {
  const data = new TextEncoder().encode(text);
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  const v = VERSION + toB64url(await readCapped(stream, 4 * MAX_TEXT));
  if (v.length > MAX_LINK) {
    throw new Error(`the session is too large for a link (${v.length} characters, at most ${MAX_LINK}); export it as a file instead`);
  }
  return v;
}

/**
 * Decodes a fragment value back to scenario text; throws on anything bad.
 * Every check costs at most what the link's own length allows: the length
 * first, then base64, then bounded inflation, then UTF-8.
 */
export async function decode(value, stats = {}) {
  if (!value.startsWith(VERSION)) {
    throw new Error(`unknown link format (expected ${VERSION}…, this page understands only that version)`);
  }
  if (value.length > MAX_LINK) {
    throw new Error(`the link is too long (${value.length} characters; links of up to ${MAX_LINK} are opened)`);
  }
  const bytes = fromB64url(value.slice(VERSION.length));
  if (bytes.length === 0) throw new Error("the link holds no data");
  let raw;
  try {
    raw = await inflateCapped(bytes, MAX_TEXT, stats);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("the link")) throw e;
    throw new Error("the link's data is damaged (it does not decompress)");
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    throw new Error("the link's data is not UTF-8 text");
  }
}

/** Reads #s=… from a location hash; "" when there is none. */
export function fragmentValue(hash) {
  const m = /^#s=(.*)$/s.exec(hash || "");
  return m ? m[1] : "";
}

/** Builds a full URL for this page carrying text. */
export async function linkFor(text, href = location.href) {
  const u = new URL(href);
  u.hash = `s=${await encode(text)}`;
  return u.href;
}
