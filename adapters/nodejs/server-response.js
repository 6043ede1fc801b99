// node's `http.ServerResponse` for the guest: fetch-to-node's, which keeps
// node's own code for heads, headers and writes, with what is sent going
// straight out through WASI (the head when the app sends it, each chunk as
// it is written, the end at 'finish'), not into a web Response that the
// bridge would read back (that round trip cost ~0.25 ms of an Express
// request). Apps and frameworks extend this class (Express's `app.response`
// does), so the instances they serve are still these.

import { FetchServerResponse } from 'fetch-to-node';
import { failResponse, startResponse } from './wasi-http.js';

export class WasiServerResponse extends FetchServerResponse {
  #responseOut;
  #writer = null;
  #settle = null;
  #done = false;

  /** `responseOut` is the request's WASI response outparam; without it (an
   * app making a response of its own), the response is fetch-to-node's. */
  constructor(req, options, responseOut) {
    super(req, options);
    this.#responseOut = responseOut;
    /** Settles when the response is sent to its end (or cut short). */
    this.sent = new Promise((resolve) => {
      this.#settle = resolve;
    });
  }

  // fetch-to-node calls this once, as the head is sent, with the chunks
  // written so far and whether the response already finished.
  _toFetchResponse(status, statusText, headers, written, finished) {
    if (this.#responseOut === undefined) return super._toFetchResponse(status, statusText, headers, written, finished);
    // 204, 304 and HEAD responses have no body (a HEAD keeps its Content-Length).
    const writer = startResponse(this.#responseOut, status, headers, this._hasBody);
    this.#writer = writer;
    if (!this._hasBody) {
      this.#end();
      return null;
    }
    for (const chunk of written) writer.write(chunk);
    if (finished) {
      this.#end();
    } else {
      this.on('_dataWritten', (event) => {
        if (!this.#done) writer.write(this.dataFromDataWrittenEvent(event));
      });
      this.once('finish', () => this.#end());
    }
    return null;
  }

  #end() {
    this.#done = true;
    try {
      this.#writer.finish();
    } catch (error) {
      console.error('fabricks: the response could not be finished:', error?.message ?? error);
    }
    this.#settle();
  }

  /** After the app failed: a 500 if nothing was sent yet, else the response
   * cut short (the client sees it end early, not complete). */
  fail() {
    if (this.#done) return;
    this.#done = true;
    if (this.#writer) this.#writer.abort();
    else failResponse(this.#responseOut);
    this.#settle();
  }
}
