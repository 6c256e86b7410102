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
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Encodes scenario text into a fragment value (without "#s="). */
export async function encode(text) {
  const data = new TextEncoder().encode(text);
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return VERSION + toB64url(await readCapped(stream, 4 * MAX_TEXT));
}

/** Decodes a fragment value back to scenario text; throws on anything bad. */
export async function decode(value) {
  if (!value.startsWith(VERSION)) {
    throw new Error(`unknown link format (expected ${VERSION}…, this page understands only that version)`);
  }
  const bytes = fromB64url(value.slice(VERSION.length));
  if (bytes.length === 0) throw new Error("the link holds no data");
  let raw;
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    raw = await readCapped(stream, MAX_TEXT);
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
