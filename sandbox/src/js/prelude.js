// The `ccf` global of ledger JavaScript: the byte and JSON conversions and the key-value
// maps (`ccf.kv[name]`) that CCF's JavaScript API gives endpoints and functions. Bytes
// cross into and out of the engine as hex strings; this file turns them into ArrayBuffers.
(function () {
  "use strict";
  function toBytes(buf) {
    if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
    if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    throw new TypeError("Expected an ArrayBuffer or a typed array");
  }
  function hexOf(buf) {
    const b = toBytes(buf);
    let s = "";
    for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return s;
  }
  function bufOfHex(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out.buffer;
  }
  function strToBuf(s) {
    if (typeof s !== "string") throw new TypeError("strToBuf expects a string");
    const bin = unescape(encodeURIComponent(s));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function bufToStr(buf) {
    const b = toBytes(buf);
    let bin = "";
    for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
    try {
      return decodeURIComponent(escape(bin));
    } catch (e) {
      throw new TypeError("bufToStr: the buffer is not valid UTF-8");
    }
  }
  const snapshot = JSON.parse(globalThis.__kvSnapshot);
  const writable = globalThis.__kvWritable;
  const touched = {};
  function checkWrite(name) {
    if (!writable) {
      throw new Error("Cannot write to map " + name + ": the key-value store is read-only here");
    }
    if (name.startsWith("public:ccf.")) {
      throw new Error("Cannot write to map " + name + ": it belongs to the service");
    }
  }
  function makeMap(name) {
    const data = Object.assign(Object.create(null), snapshot[name] || {});
    return Object.freeze({
      has(key) { return hexOf(key) in data; },
      get(key) {
        const h = hexOf(key);
        return h in data ? bufOfHex(data[h]) : undefined;
      },
      set(key, value) {
        checkWrite(name);
        const h = hexOf(key);
        data[h] = hexOf(value);
        (touched[name] = touched[name] || Object.create(null))[h] = data[h];
        return this;
      },
      delete(key) {
        checkWrite(name);
        const h = hexOf(key);
        const had = h in data;
        delete data[h];
        (touched[name] = touched[name] || Object.create(null))[h] = null;
        return had;
      },
      clear() {
        checkWrite(name);
        for (const h of Object.keys(data)) {
          delete data[h];
          (touched[name] = touched[name] || Object.create(null))[h] = null;
        }
      },
      forEach(callback) {
        for (const h of Object.keys(data)) callback(bufOfHex(data[h]), bufOfHex(h), this);
      },
      get size() { return Object.keys(data).length; },
    });
  }
  const maps = Object.create(null);
  const kv = new Proxy({}, {
    get(_, name) {
      if (typeof name !== "string") return undefined;
      return maps[name] || (maps[name] = makeMap(name));
    },
    set() { throw new TypeError("ccf.kv is read-only"); },
  });
  const sha256Hex = globalThis.__sha256Hex;
  function digest(algorithm, data) {
    if (algorithm !== "SHA-256") {
      throw new TypeError("Unsupported digest algorithm " + algorithm + "; use SHA-256");
    }
    return bufOfHex(sha256Hex(hexOf(data)));
  }
  function jsonCompatibleToBuf(v) { return strToBuf(JSON.stringify(v)); }
  function bufToJsonCompatible(b) { return JSON.parse(bufToStr(b)); }
  globalThis.ccf = Object.freeze({
    kv,
    strToBuf,
    bufToStr,
    jsonCompatibleToBuf,
    bufToJsonCompatible,
    crypto: Object.freeze({ digest }),
  });
  // Host side: the writes made, as {map: {keyHex: valueHex | null}}.
  globalThis.__kvWrites = function () { return JSON.stringify(touched); };
  // Host side: the request object of an endpoint.
  globalThis.__makeRequest = function (json, bodyHex) {
    const r = JSON.parse(json);
    const body = bufOfHex(bodyHex);
    r.body = Object.freeze({
      text() { return bufToStr(body); },
      json() { return JSON.parse(bufToStr(body)); },
      arrayBuffer() { return body.slice(0); },
    });
    return r;
  };
  // Host side: an endpoint's response as JSON with the body as hex and its kind.
  globalThis.__encodeResponse = function (res) {
    if (res === undefined || res === null) res = {};
    if (typeof res !== "object") throw new TypeError("An endpoint must return an object");
    const out = { statusCode: res.statusCode, headers: res.headers || {} };
    const body = res.body;
    if (body === undefined || body === null) {
      out.kind = "none";
    } else if (typeof body === "string") {
      out.kind = "text";
      out.body = hexOf(strToBuf(body));
    } else if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
      out.kind = "bytes";
      out.body = hexOf(body);
    } else {
      out.kind = "json";
      out.body = hexOf(strToBuf(JSON.stringify(body)));
    }
    return JSON.stringify(out);
  };
})();
