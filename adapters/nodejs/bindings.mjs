// What the Node build changes in the bindings componentize-js generates: the
// JavaScript glue around every call between the app's code and the host
// (lifting and lowering WIT values), which StarlingMonkey interprets like the
// app. A request makes about fifteen such calls and lifts each of its
// headers, so the glue's cost is paid per request. The changes keep what each
// binding does and take out interpreted work (measured in the guest, one
// operation in a loop: `dataView()` ~0.4 us, a string lowered ~4.3 us).
//
// Each change names the exact text it replaces in the pinned componentize-js
// (builders/src/toolchain.rs); if that text is not there as often as
// expected, the build stops, so a new version cannot silently run without
// them (or with half of one). tests/node_apps.rs checks that the snapshot
// holds their results.

/** A change: `from` (a string or a global regex), found `count` times, becomes `to`. */
const CHANGES = [
  {
    // The bindings log every call and return through `_debugLog`, which
    // prints only if the guest's environment has JCO_DEBUG but builds an
    // object for it each time: ~1.5 us a host call.
    what: 'debug-log calls',
    from: /_debugLog\('[^'\n]*', \{[^{}]*\}\);/g,
    count: 'some',
    to: '',
  },
  {
    // Every read or write of a value in the guest's memory asks for a view
    // of it: the old one unless the memory grew. Comparing the buffer with
    // the one the view was made for reads one getter, not two.
    what: 'the memory view',
    from: 'let dv = new DataView(new ArrayBuffer());\nconst dataView = mem => dv.buffer === mem.buffer ? dv : dv = new DataView(mem.buffer);\n',
    count: 1,
    to: 'let dv = new DataView(new ArrayBuffer());\nlet dvBuffer = dv.buffer;\nconst dataView = mem => { const buffer = mem.buffer; return buffer === dvBuffer ? dv : (dvBuffer = buffer, dv = new DataView(buffer)); };\n',
  },
  {
    // A string passed to the host: its UTF-8 length was counted a UTF-16
    // unit at a time in JavaScript before `encodeInto`; the engine's
    // `TextEncoder.encode` gives the same bytes (lone surrogates as U+FFFD,
    // three bytes, as counted) natively. Callers read `ptr` and `len` only.
    what: 'string lowering',
    from: /function _utf8AllocateAndEncode\(s, realloc, memory\) \{\n[\s\S]*?\n  const res = \{ ptr, len, codepoints \};\n  return res;\n\}\n/g,
    count: 1,
    to: `function _utf8AllocateAndEncode(s, realloc, memory) {
  if (typeof s !== 'string') {
    throw new TypeError('expected a string, received [' + typeof s + ']');
  }
  if (s.length === 0) { return { ptr: 1, len: 0 }; }
  const bytes = TEXT_ENCODER_UTF8.encode(s);
  const len = bytes.length;
  const ptr = realloc(0, 0, 1, len);
  new Uint8Array(memory.buffer, ptr, len).set(bytes);
  return { ptr, len };
}
`,
  },
  {
    // `fields.entries()`, every header of a request or response: one view
    // of the memory for the list (a new one only if copying a header out
    // grew the guest's memory), each value copied out once.
    what: 'header lifting',
    from: `      var result4 = [];
      for (let i = 0; i < len4; i++) {
        const base = base4 + i * 16;
        var ptr2 = dataView($memory).getUint32(base + 0, true);
        var len2 = dataView($memory).getUint32(base + 4, true);
        var result2 = TEXT_DECODER_UTF8.decode(new Uint8Array($memory.buffer, ptr2, len2));
        if (len2 !== 0) $dealloc(ptr2, len2, 1);
        var ptr3 = dataView($memory).getUint32(base + 8, true);
        var len3 = dataView($memory).getUint32(base + 12, true);
        if (ptr3 % 1 !== 0) throw new TypeError(\`list pointer [\${ptr3}] is not aligned to 1\`);
        var result3 = new Uint8Array($memory.buffer.slice(ptr3, ptr3 + len3 * 1));
        if (len3 !== 0) $dealloc(ptr3, len3, 1);
        result4.push([result2, result3]);
      }
`,
    count: 1,
    to: `      var result4 = new Array(len4);
      let view4 = null, bytes4 = null;
      for (let i = 0; i < len4; i++) {
        if (view4 !== dataView($memory)) {
          view4 = dataView($memory);
          bytes4 = new Uint8Array(view4.buffer);
        }
        const base = base4 + i * 16;
        const ptr2 = view4.getUint32(base, true), len2 = view4.getUint32(base + 4, true);
        const ptr3 = view4.getUint32(base + 8, true), len3 = view4.getUint32(base + 12, true);
        result4[i] = [TEXT_DECODER_UTF8.decode(bytes4.subarray(ptr2, ptr2 + len2)), bytes4.slice(ptr3, ptr3 + len3)];
        if (len2 !== 0) $dealloc(ptr2, len2, 1);
        if (len3 !== 0) $dealloc(ptr3, len3, 1);
      }
`,
  },
];

/** The generated bindings `js` with fabricks' changes; throws if one does not fit. */
export function fasterBindings(js) {
  for (const { what, from, count, to } of CHANGES) {
    const found = typeof from === 'string' ? js.split(from).length - 1 : (js.match(from) ?? []).length;
    if (count === 'some' ? found === 0 : found !== count) {
      throw new Error(
        `componentize-js's bindings do not have the code fabricks changes for ${what} ` +
          `(found ${found} times, expected ${count}): adapters/nodejs/bindings.mjs was written for the pinned componentize-js`,
      );
    }
    js = typeof from === 'string' ? js.split(from).join(to) : js.replace(from, () => to);
  }
  return js;
}

/**
 * Make componentize-js's splicer return the bindings with fabricks' changes.
 * `splicerModule` is the URL of its `spidermonkey-embedding-splicer.js`, a
 * module object `componentize` shares, so it is changed in place.
 */
export async function changeGeneratedBindings(splicerModule) {
  const { splicer } = await import(splicerModule);
  const splice = splicer.spliceBindings;
  splicer.spliceBindings = (...args) => {
    const spliced = splice(...args);
    spliced.jsBindings = fasterBindings(spliced.jsBindings);
    return spliced;
  };
}
