// The fetch bridge: serves apps that answer web Requests with web Responses
// (Hono, and any `{ fetch }` object or default export).

import { dropRequest, failResponse, requestBodyStream, requestHeaders, requestMethod, requestUrl, startResponse } from './wasi-http.js';

/** The incoming WASI request as a web Request (method and body stream); the
 * WASI request itself is dropped. */
export function webRequest(incoming) {
  const method = requestMethod(incoming);
  const { headers } = requestHeaders(incoming);
  const url = requestUrl(incoming, headers);
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const body = hasBody ? requestBodyStream(incoming) : null;
  dropRequest(incoming);
  return new Request(url, { method, headers, body, duplex: 'half' });
}

/**
 * Answer with what `produce` resolves to (a web Response); if it throws, log
 * it and answer 500.
 */
async function respondWith(responseOut, method, produce) {
  let response;
  try {
    response = await produce();
  } catch (error) {
    console.error('fabricks: the app failed:', error && error.stack ? error.stack : error);
    failResponse(responseOut);
    return;
  }
  await sendWebResponse(responseOut, response, method);
}

/** Send a web Response through WASI: head first, then the body as it comes. */
export async function sendWebResponse(responseOut, response, method) {
  if (!(response instanceof Response)) {
    console.error('fabricks: the app did not produce a Response');
    failResponse(responseOut);
    return;
  }
  const pairs = [];
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') pairs.push([name, value]);
  });
  for (const cookie of response.headers.getSetCookie?.() ?? []) pairs.push(['set-cookie', cookie]);
  const writer = startResponse(responseOut, response.status, pairs, method !== 'HEAD');
  try {
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        writer.write(value);
      }
    }
  } catch (error) {
    console.error('fabricks: the response body failed:', error && error.stack ? error.stack : error);
    writer.abort();
    return;
  }
  writer.finish();
}

export function fetchHandler(app) {
  const fetch = typeof app === 'function' ? app : app.fetch.bind(app);
  return {
    async handle(incoming, responseOut) {
      const request = webRequest(incoming);
      await respondWith(responseOut, request.method, () => fetch(request));
    },
  };
}
